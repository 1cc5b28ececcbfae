"""Disputed items: ranked, with a score, the labels and who gave them, and an action."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics import DisputeThresholds, consensus, disputed_items

ANNOTATORS = ("ann", "bob", "cat")


def long(rows):
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])


def background(n=30, annotators=ANNOTATORS, label="billing"):
    """Items everyone agrees on, so that every annotator's reliability is established."""
    return [(f"bg{i}", who, label if i % 2 else "praise") for i in range(n) for who in annotators]


def action_of(out, item):
    return out.set_index("item_id").loc[item, "action"]


def test_items_everyone_agrees_on_are_not_listed_unless_asked():
    df = long(background(5))
    assert disputed_items(df).empty
    assert (disputed_items(df, include_agreed=True)["action"] == "accept_consensus").all()


def test_a_consensus_that_contradicts_gold_is_a_gold_conflict_ranked_first():
    df = long(background() + [("x", who, "billing") for who in ANNOTATORS] + [("y", "ann", "billing"), ("y", "bob", "praise"), ("y", "cat", "question")])
    out = disputed_items(df, gold={"x": "complaint"})
    assert out.iloc[0]["item_id"] == "x" and out.iloc[0]["action"] == "gold_conflict"
    assert out.iloc[0]["gold_label"] == "complaint"
    assert "differs from gold complaint" in out.iloc[0]["reason"]


def test_two_labels_that_split_need_more_labels():
    df = long(background() + [("x", "ann", "billing"), ("x", "bob", "praise")])
    assert action_of(disputed_items(df), "x") == "needs_more_labels"


def test_reliable_annotators_who_split_go_to_adjudication():
    four = ANNOTATORS + ("dan",)
    df = long(background(annotators=four) + [("x", "ann", "billing"), ("x", "bob", "billing"), ("x", "cat", "praise"), ("x", "dan", "praise")])
    out = disputed_items(df).set_index("item_id")
    assert out.loc["x", "action"] == "adjudicate"
    assert out.loc["x", "is_tie"]
    assert "a tie" in out.loc["x", "reason"]


def test_dissent_only_from_an_unreliable_annotator_points_at_the_annotator():
    rows = background(annotators=ANNOTATORS)
    rows += [(f"bg{i}", "spam", "question") for i in range(30)]  # spam disagrees everywhere
    rows += [("x", "ann", "billing"), ("x", "bob", "billing"), ("x", "cat", "billing"), ("x", "spam", "praise")]
    out = disputed_items(long(rows)).set_index("item_id")
    assert out.loc["x", "action"] == "check_annotator"
    assert "spam" in out.loc["x", "reason"]


def test_an_item_in_a_systematic_confusion_pair_is_a_guideline_gap():
    rows = background(40)
    # billing and refund are confused on many items, other labels never
    rows += [(f"c{i}", who, lab) for i in range(15) for who, lab in zip(ANNOTATORS, ("billing", "refund", "billing"), strict=True)]
    out = disputed_items(long(rows))
    assert (out[out["item_id"].str.startswith("c")]["action"] == "guideline_gap").all()
    assert "billing / refund" in out.iloc[0]["reason"]


def test_labels_by_annotator_and_label_counts_say_who_gave_what():
    df = long(background() + [("x", "ann", "billing"), ("x", "bob", "praise"), ("x", "cat", "billing")])
    row = disputed_items(df).set_index("item_id").loc["x"]
    assert row["labels_by_annotator"] == "ann: billing | bob: praise | cat: billing"
    assert row["label_counts"] == "billing x2, praise x1"
    assert row["consensus_label"] == "billing"
    assert row["consensus_confidence"] == pytest.approx(2 / 3)


def test_items_are_ranked_by_score():
    rows = background() + [("two_way", "ann", "billing"), ("two_way", "bob", "billing"), ("two_way", "cat", "praise")]
    rows += [("three_way", "ann", "billing"), ("three_way", "bob", "praise"), ("three_way", "cat", "question")]
    out = disputed_items(long(rows))
    assert list(out["item_id"][:2]) == ["three_way", "two_way"]
    assert list(out["rank"]) == list(range(1, len(out) + 1))
    assert out["score"].is_monotonic_decreasing


def test_ordinal_score_grows_with_the_distance_between_ratings():
    rows = [(f"bg{i}", who, 1 + i % 5) for i in range(30) for who in ANNOTATORS]
    rows += [("near", "ann", 3), ("near", "bob", 3), ("near", "cat", 4)]
    rows += [("far", "ann", 1), ("far", "bob", 1), ("far", "cat", 5)]
    out = disputed_items(long(rows)).set_index("item_id")
    assert out.loc["far", "score"] > out.loc["near", "score"] > 0


def test_multilabel_questions_are_scored_and_get_a_consensus_set():
    a, b = frozenset({"food"}), frozenset({"food", "price"})
    rows = [(f"bg{i}", who, a) for i in range(25) for who in ANNOTATORS] + [("x", "ann", a), ("x", "bob", b), ("x", "cat", b)]
    row = disputed_items(long(rows)).set_index("item_id").loc["x"]
    assert row["score"] > 0
    assert row["consensus_label"] == b


def test_span_questions_are_scored_by_span_f1():
    org = ((0, 5, "ORG"),)
    rows = [("x", "ann", org), ("x", "bob", org), ("x", "cat", ((0, 5, "PER"),)), ("y", "ann", ()), ("y", "bob", ())]
    out = disputed_items(long(rows), span_mode="exact").set_index("item_id")
    assert list(out.index) == ["x"]
    assert out.loc["x", "score"] == pytest.approx(2 / 3)
    assert out.loc["x", "consensus_label"] == org


def test_a_given_consensus_is_used_instead_of_majority():
    df = long(background() + [("x", "ann", "billing"), ("x", "bob", "praise"), ("x", "cat", "billing")])
    given = consensus(df, method="dawid_skene")
    out = disputed_items(df, consensus=given).set_index("item_id")
    assert out.loc["x", "consensus_label"] == "billing"


def test_thresholds_decide_what_few_labels_means():
    df = long(background() + [("x", "ann", "billing"), ("x", "bob", "praise"), ("x", "cat", "question")])
    assert action_of(disputed_items(df, thresholds=DisputeThresholds(min_labels=4)), "x") == "needs_more_labels"
    assert action_of(disputed_items(df), "x") == "adjudicate"


def test_each_question_is_disputed_separately():
    df = long(background() + [("x", "ann", "billing"), ("x", "bob", "praise")])
    both = pd.concat([df.assign(question="intent"), long(background()).assign(question="tone")], ignore_index=True)
    out = disputed_items(both)
    assert set(out["question"]) == {"intent"}


# --- second reading (issue 4 review) -----------------------------------------------------------


def test_items_to_adjudicate_rank_above_annotator_side_rows_even_with_a_lower_score():
    five = ANNOTATORS + ("dan", "eve")
    rows = background(annotators=five) + [(f"bg{i}", "spam", "question") for i in range(30)]
    rows += [("one_slip", "ann", "billing"), ("one_slip", "bob", "billing"), ("one_slip", "spam", "praise")]
    rows += [("split", who, lab) for who, lab in zip(five, ["billing"] * 3 + ["praise"] * 2, strict=True)]
    out = disputed_items(long(rows)).set_index("item_id")
    assert out.loc["split", "action"] == "adjudicate" and out.loc["one_slip", "action"] == "check_annotator"
    assert out.loc["one_slip", "score"] > out.loc["split", "score"]
    assert out.loc["split", "rank"] < out.loc["one_slip", "rank"]


def test_numeric_labels_equal_in_value_agree_with_the_consensus():
    rows = [(f"bg{i}", who, 1 + i % 5) for i in range(30) for who in ANNOTATORS]
    rows += [("x", "ann", 3), ("x", "bob", 3.0), ("x", "cat", 4)]
    out = disputed_items(long(rows), gold={"x": 3.0}).set_index("item_id")
    assert out.loc["x", "action"] != "gold_conflict"

"""Span agreement: pairwise precision/recall/F1 per label, exact and overlap matching."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from metrics import MetricInputError, item_span_disagreement, span_agreement, span_f1


def long(rows):
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])


SHIFTED = long([("t1", "ann", ((0, 5, "ORG"), (10, 14, "PER"))), ("t1", "bob", ((0, 5, "ORG"), (9, 14, "PER")))])


def row(table, label):
    return table[table["label"] == label].iloc[0]


def test_exact_matching_counts_a_shifted_boundary_as_one_false_positive_and_one_false_negative():
    per = row(span_agreement(SHIFTED, mode="exact"), "PER")
    assert (per["tp"], per["fp"], per["fn"]) == (0, 1, 1)
    assert per["f1"] == 0.0


def test_overlap_matching_counts_a_shifted_boundary_as_a_match():
    per = row(span_agreement(SHIFTED, mode="overlap"), "PER")
    assert (per["tp"], per["fp"], per["fn"]) == (1, 0, 0)
    assert per["f1"] == 1.0


def test_overlap_matching_is_one_to_one():
    df = long([("t", "ann", ((0, 20, "LOC"),)), ("t", "bob", ((0, 8, "LOC"), (10, 20, "LOC")))])
    loc = row(span_agreement(df, mode="overlap"), "LOC")
    assert (loc["tp"], loc["fp"], loc["fn"]) == (1, 1, 0)
    assert loc["precision"] == 0.5 and loc["recall"] == 1.0


def test_spans_of_different_labels_never_match():
    df = long([("t", "ann", ((0, 5, "ORG"),)), ("t", "bob", ((0, 5, "PER"),))])
    table = span_agreement(df, mode="overlap").set_index("label")
    assert table.loc["ORG", "fn"] == 1 and table.loc["PER", "fp"] == 1
    assert math.isnan(table.loc["ORG", "precision"]) and math.isnan(table.loc["PER", "recall"])


def test_only_shared_items_count_and_n_items_says_how_many():
    df = long([("t1", "ann", ((0, 5, "ORG"),)), ("t1", "bob", ((0, 5, "ORG"),)), ("t2", "ann", ((0, 3, "ORG"),))])
    org = row(span_agreement(df), "ORG")
    assert (org["tp"], org["fp"], org["fn"], org["n_items"]) == (1, 0, 0, 1)


def test_every_pair_of_annotators_gets_rows():
    df = long([("t", who, ((0, 5, "ORG"),)) for who in ("a", "b", "c")])
    pairs = span_agreement(df)[["annotator_a", "annotator_b"]].values.tolist()
    assert pairs == [["a", "b"], ["a", "c"], ["b", "c"]]


def test_micro_f1_pools_every_pair_and_label():
    result = span_f1(SHIFTED, mode="exact")
    assert result.value == pytest.approx(0.5)
    assert result.details["per_label"] == {"ORG": 1.0, "PER": 0.0}
    assert result.n_items == 1 and result.n_annotators == 2


def test_micro_f1_is_nan_with_a_reason_when_no_span_was_marked():
    result = span_f1(long([("t", "a", ()), ("t", "b", ())]))
    assert math.isnan(result.value) and result.status == "insufficient_data" and "no span" in result.reason


def test_two_annotators_who_both_mark_nothing_agree_fully_on_the_item():
    out = item_span_disagreement(long([("t", "a", ()), ("t", "b", ())]))
    assert out.loc[0, "disagreement"] == 0.0


def test_item_disagreement_is_one_minus_the_mean_pair_f1():
    df = long([("t", "a", ((0, 5, "ORG"),)), ("t", "b", ((0, 5, "ORG"),)), ("t", "c", ((7, 9, "ORG"),))])
    out = item_span_disagreement(df, mode="exact")
    assert out.loc[0, "n_pairs"] == 3
    assert out.loc[0, "disagreement"] == pytest.approx(1 - (1 + 0 + 0) / 3)


def test_a_label_that_is_not_a_tuple_of_spans_is_an_input_error():
    with pytest.raises(MetricInputError, match="tuples"):
        span_agreement(long([("t", "a", "ORG")]))

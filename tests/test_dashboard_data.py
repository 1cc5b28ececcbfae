"""The dashboard's reductions and the adjudicated training set (no Streamlit involved)."""

from __future__ import annotations

import argparse
import json

import pandas as pd

from dashboards import charts
from qa.adjudication import AdjudicationStore, training_csv, training_jsonl, training_set
from qa.commands.dashboard import MAX_UPLOAD_MB, streamlit_command
from qa.config import Config
from qa.dashboard_data import DashboardData, filter_disputes, strata_grid
from qa.schema import (
    AnnotationSet,
    LoadReport,
    QuestionSpec,
    Span,
    canonical_annotations,
    canonical_gold,
    canonical_items,
    questions_table,
)

ITEMS = pd.DataFrame({"item_id": ["1", "2", "3", "4"], "text": ["refund me", "where is it", "hi", "bye"]})
NO_GOLD = pd.DataFrame(columns=["item_id", "label"])
NO_DECISIONS = pd.DataFrame(columns=["item_id", "question", "final_label", "decided_by", "note"])


def consensus(labels, confidences) -> pd.DataFrame:
    return pd.DataFrame({"item_id": ["1", "2", "3", "4"], "label": pd.Series(labels, dtype=object),
                         "confidence": confidences})


def test_an_adjudication_overrides_gold_and_gold_overrides_consensus() -> None:
    gold = pd.DataFrame({"item_id": ["1", "2"], "label": ["billing", "shipping"]})
    decisions = pd.DataFrame({"item_id": ["1"], "question": ["intent"], "final_label": ["refund"],
                              "decided_by": ["ana"], "note": ["gold was wrong"]})
    out = training_set(ITEMS, consensus(["x", "y", "z", "w"], [1.0] * 4), gold, decisions, "intent")
    assert out[["item_id", "label", "source"]].values.tolist() == [
        ["1", "refund", "adjudicated"], ["2", "shipping", "gold"], ["3", "z", "consensus"], ["4", "w", "consensus"]]


def test_ties_and_low_confidence_consensus_are_left_out() -> None:
    out = training_set(ITEMS, consensus(["x", None, "z", "w"], [1.0, 0.5, 0.4, 0.9]), NO_GOLD, NO_DECISIONS,
                       "intent", min_confidence=0.6)
    assert out["item_id"].tolist() == ["1", "4"]


def test_decisions_on_another_question_do_not_leak() -> None:
    decisions = pd.DataFrame({"item_id": ["1"], "question": ["quality"], "final_label": [5],
                              "decided_by": ["ana"], "note": [""]})
    out = training_set(ITEMS, consensus(["x", "y", "z", "w"], [1.0] * 4), NO_GOLD, decisions, "intent")
    assert out.set_index("item_id").loc["1", "source"] == "consensus"


def test_jsonl_export_keeps_text_and_writes_sets_and_spans_as_lists() -> None:
    labels = [frozenset({"b", "a"}), ((0, 4, "ORG"),), "x", 3.0]
    out = training_set(ITEMS, consensus(labels, [0.9, 0.8, 0.7, 1.0]), NO_GOLD, NO_DECISIONS, "q")
    records = [json.loads(line) for line in training_jsonl(out).decode("utf-8").splitlines()]
    assert [r["label"] for r in records] == [["a", "b"], [[0, 4, "ORG"]], "x", 3.0]
    assert records[0]["text"] == "refund me" and records[0]["source"] == "consensus"


def test_csv_export_has_one_row_per_item_with_its_source() -> None:
    out = training_set(ITEMS, consensus(["x", "y", "z", "w"], [1.0] * 4), NO_GOLD, NO_DECISIONS, "q")
    table = pd.read_csv(pd.io.common.BytesIO(training_csv(out)))
    assert table.columns.tolist()[:5] == ["item_id", "question", "text", "label", "source"]
    assert len(table) == 4


def test_strata_grid_lists_empty_cells() -> None:
    items = pd.DataFrame({"language": ["en", "en", "fr"], "channel": ["chat", "email", "chat"]})
    grid = strata_grid(items, "language", "channel", 1)
    assert grid.loc[(grid["language"] == "fr") & (grid["channel"] == "email"), "n_items"].tolist() == [0]
    assert grid["at_target"].tolist() == [True, True, True, False]


def test_label_filter_matches_any_label_given_on_the_item() -> None:
    disputes = pd.DataFrame({"item_id": ["1", "2"], "action": ["adjudicate", "adjudicate"]})
    facets = pd.DataFrame({"item_id": ["1", "1", "2"], "annotator_id": ["a", "b", "a"], "batch": ["v1"] * 3,
                           "label": ["x", "y", "z"]})
    assert filter_disputes(disputes, facets, labels=["y"])["item_id"].tolist() == ["1"]


def test_dashboard_command_limits_uploads_and_binds_to_localhost() -> None:
    args = argparse.Namespace(path=None, format=None, config=None, port=None, address=None)
    command = streamlit_command(args, environ={})
    assert command[command.index("--server.maxUploadSize") + 1] == str(MAX_UPLOAD_MB)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--browser.gatherUsageStats") + 1] == "false"


def test_dashboard_command_leaves_the_upload_limit_to_streamlit_env_when_set() -> None:
    args = argparse.Namespace(path=None, format=None, config=None, port=None, address=None)
    assert "--server.maxUploadSize" not in streamlit_command(args, environ={"STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "5"})


# -- a second reading ----------------------------------------------------------------------------


def _export(labels: dict[tuple[str, str], object]) -> AnnotationSet:
    rows = pd.DataFrame([{"item_id": i, "annotator_id": a, "question": "q", "label": v}
                         for (i, a), v in labels.items()])
    return AnnotationSet(canonical_annotations(rows), canonical_items([]), canonical_gold([]),
                         questions_table([QuestionSpec("q", "ordinal")]), LoadReport("mem", "long", 4, 4))


def test_a_rating_is_adjudicated_and_stored_as_a_number(tmp_path) -> None:
    data = DashboardData(_export({("1", "a"): 1.0, ("1", "b"): 4.0, ("2", "a"): 2.0, ("2", "b"): 2.0}),
                         Config(n_boot=0))
    choices = data.label_choices("q", "1")
    assert all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in choices), choices
    store = AdjudicationStore(tmp_path / "s.sqlite")
    store.decide("1", "q", choices[-1], decided_by="lead")
    assert store.current("q")["final_label"].tolist() == [4]
    record = json.loads(training_jsonl(data.training_set("q", store.current("q"))).splitlines()[0])
    assert record["label"] == 4 and record["source"] == "adjudicated"


def test_an_empty_span_answer_reads_back_as_no_spans(tmp_path) -> None:
    store = AdjudicationStore(tmp_path / "s.sqlite")
    store.decide("1", "ents", (), decided_by="lead")
    store.decide("2", "ents", (Span(0, 3, "PER"),), decided_by="lead")
    store.decide("3", "tags", frozenset(), decided_by="lead")
    labels = store.current()["final_label"].tolist()
    assert labels == [(), (Span(0, 3, "PER"),), frozenset()]
    assert [type(v) for v in labels] == [tuple, tuple, frozenset]


def test_training_sets_of_two_stores_with_as_many_decisions_do_not_mix() -> None:
    data = DashboardData(_export({("1", "a"): 1.0, ("1", "b"): 4.0, ("2", "a"): 2.0, ("2", "b"): 2.0}),
                         Config(n_boot=0))
    mine = pd.DataFrame({"decision_id": [1], "item_id": ["1"], "question": ["q"], "final_label": [1],
                         "decided_by": ["ana"], "note": [""]})
    theirs = mine.assign(final_label=[4], decided_by=["ben"])
    assert data.training_set("q", mine).set_index("item_id").loc["1", "label"] == 1
    assert data.training_set("q", theirs).set_index("item_id").loc["1", "label"] == 4


def test_a_placeholder_in_an_export_name_is_not_read_by_plotly_hover() -> None:
    trend = pd.DataFrame({"annotator_id": ["%{y}"], "window": ["v1"], "window_order": [0],
                          "kappa_vs_consensus": [0.5], "n_items": [3]})
    figure = charts.trend_lines(trend, "batch")
    assert "%{y}" not in figure.data[0].hovertemplate.replace("%{y:.2f}", "")
    grid = pd.DataFrame({"%{z}": ["a"], "<b>c</b>": ["b"], "n_items": [1], "at_target": [True]})
    hover = charts.strata_heatmap(grid, "%{z}", "<b>c</b>", 1).data[0].hovertemplate
    assert hover.count("%{z}") == 1 and "<b>" not in hover


def test_a_tied_rating_consensus_is_left_out_of_the_training_set() -> None:
    data = DashboardData(_export({("1", "a"): 1.0, ("1", "b"): 4.0, ("2", "a"): 2.0, ("2", "b"): 2.0}),
                         Config(n_boot=0))
    assert bool(data.consensus("q").set_index("item_id").loc["1", "is_tie"])
    training = data.training_set("q", NO_DECISIONS)
    assert training[["item_id", "label", "source"]].values.tolist() == [["2", 2.0, "consensus"]]

"""Amazon Mechanical Turk batch results CSV into the canonical tables."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import qa.load
from qa.errors import InputError

BASE = {"HITId": "H1", "AssignmentId": "A", "WorkerId": "W", "AssignmentStatus": "Approved",
        "SubmitTime": "Mon Mar 02 08:11:00 PST 2026", "WorkTimeInSeconds": "30"}


def batch(path: Path, rows: list[dict]) -> Path:
    columns = list(dict.fromkeys(k for row in rows for k in {**BASE, **row}))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        for row in rows:
            writer.writerow({**BASE, **row})
    return path


def labels_of(loaded, question: str) -> dict[tuple[str, str], object]:
    frame = loaded.annotations[loaded.annotations["question"] == question]
    return {(str(r.item_id), str(r.annotator_id)): r.label for r in frame.itertuples()}


@pytest.fixture
def example(formats_dir):
    return qa.load(formats_dir / "mturk-batch-results.csv")


def test_example_is_detected_as_mturk(example):
    assert example.load_report.format == "mturk"


def test_rejected_assignment_is_skipped_and_counted(example):
    assert example.load_report.records_read == 7
    assert len(example.annotations) == 6
    assert example.load_report.skipped_counts == {"rejected": 1}
    assert ("501", "A3MM") not in labels_of(example, "intent")


def test_input_id_column_is_the_item_and_answer_label_the_question(example):
    assert labels_of(example, "intent")[("502", "A2QZ")] == "feature_request"
    assert example.question_names == ["intent"]


def test_input_text_goes_to_items(example):
    items = example.items.set_index("item_id")
    assert items.loc["503", "text"] == "How do I add a second admin to our workspace?"


def test_work_time_and_submit_time_are_carried_in_utc(example):
    row = example.annotations.iloc[0]
    assert row["lead_time_s"] == 31.0
    assert str(row["created_at"]) == "2026-03-02 16:11:00+00:00"


def test_hit_id_is_the_item_without_an_input_id(tmp_path):
    loaded = qa.load(batch(tmp_path / "b.csv", [{"Input.text": "hi", "Answer.sentiment": "positive"}]))
    assert loaded.annotations["item_id"].tolist() == ["H1"]


def test_checkbox_on_columns_give_the_ticked_option(tmp_path):
    rows = [
        {"WorkerId": "W1", "Answer.sentiment.positive.on": "true", "Answer.sentiment.negative.on": "false"},
        {"WorkerId": "W2", "Answer.sentiment.positive.on": "false", "Answer.sentiment.negative.on": "true"},
        {"WorkerId": "W3", "Answer.sentiment.positive.on": "false", "Answer.sentiment.negative.on": "false"},
    ]
    loaded = qa.load(batch(tmp_path / "b.csv", rows))
    assert labels_of(loaded, "sentiment") == {("H1", "W1"): "positive", ("H1", "W2"): "negative"}
    assert loaded.load_report.skipped_counts == {"empty": 1}


def test_several_ticked_options_make_a_multilabel_question(tmp_path):
    rows = [
        {"WorkerId": "W1", "Answer.topic.billing": "true", "Answer.topic.bug": "true"},
        {"WorkerId": "W2", "Answer.topic.billing": "true", "Answer.topic.bug": "false"},
    ]
    loaded = qa.load(batch(tmp_path / "b.csv", rows))
    assert labels_of(loaded, "topic") == {("H1", "W1"): frozenset({"billing", "bug"}), ("H1", "W2"): frozenset({"billing"})}
    assert loaded.question("topic").kind == "multilabel"


def test_every_answer_column_is_a_question_and_ratings_stay_numbers(tmp_path):
    rows = [{"WorkerId": "W1", "Answer.intent.label": "bug", "Answer.quality": "4"},
            {"WorkerId": "W2", "Answer.intent.label": "bug", "Answer.quality": "2"}]
    loaded = qa.load(batch(tmp_path / "b.csv", rows))
    assert sorted(loaded.question_names) == ["intent", "quality"]
    assert labels_of(loaded, "quality") == {("H1", "W1"): 4.0, ("H1", "W2"): 2.0}


def test_long_free_text_answers_are_a_text_question(tmp_path):
    comment = "The reply was polite but it did not answer the question about invoices."
    loaded = qa.load(batch(tmp_path / "b.csv", [{"Answer.comment": comment}]))
    assert loaded.question("comment").kind == "text"


def test_blank_answer_is_counted_empty(tmp_path):
    rows = [{"WorkerId": "W1", "Answer.intent": "bug"}, {"WorkerId": "W2", "Answer.intent": ""}]
    loaded = qa.load(batch(tmp_path / "b.csv", rows))
    assert len(loaded.annotations) == 1
    assert loaded.load_report.skipped_counts == {"empty": 1}


def test_missing_worker_column_names_the_field(tmp_path):
    target = tmp_path / "b.csv"
    target.write_text('"HITId","Answer.intent"\n"H1","bug"\n')
    with pytest.raises(InputError) as err:
        qa.load(target, format="mturk")
    assert err.value.field == "WorkerId" and str(target) in str(err.value)


def test_unparseable_submit_time_names_row_and_field(tmp_path):
    target = batch(tmp_path / "b.csv", [{"Answer.intent": "bug", "SubmitTime": "yesterday"}])
    with pytest.raises(InputError) as err:
        qa.load(target)
    assert err.value.record == 2 and err.value.field == "SubmitTime"

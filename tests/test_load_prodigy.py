"""Prodigy JSONL (db-out): annotators, answers, choice / span / binary tasks, and bad input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import FORMATS, REAL_EXPORTS

from qa import load
from qa.errors import InputError
from qa.load import detect_format
from qa.schema import Span

CHOICE = FORMATS / "prodigy-choice.jsonl"
NER = FORMATS / "prodigy-ner.jsonl"
PYDATA = REAL_EXPORTS / "prodigy_pydata_ams_2023.jsonl"
TEXT = "Refund my order 1234 please"
OPTIONS = [{"id": "billing", "text": "billing"}, {"id": "bug", "text": "bug"}, {"id": "other", "text": "other"}]


def example(annotator: str, answer: str = "accept", input_hash: int = 1, **fields) -> dict:
    return {"text": TEXT, "_input_hash": input_hash, "_task_hash": input_hash * 10, "answer": answer,
            "_annotator_id": annotator, "_session_id": annotator, "_timestamp": 1_700_000_000 + input_hash, **fields}


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def labels(aset) -> dict:
    frame = aset.annotations
    return {(r.item_id, r.annotator_id): r.label for r in frame.itertuples()}


# -- the shared examples ----------------------------------------------------------------------------


def test_examples_are_detected_as_prodigy():
    assert detect_format(CHOICE) == "prodigy"
    assert detect_format(NER) == "prodigy"


def test_choice_example_reads_accepted_option_ids_as_categories():
    aset = load(CHOICE)
    assert labels(aset) == {
        ("-120931", "amir"): "billing", ("-120931", "bea"): "billing",
        ("55012", "amir"): "bug", ("55012", "bea"): "feature_request",
        ("90017", "amir"): "account", ("90017", "chen"): "how_to",
    }
    spec = aset.question("label")
    assert spec.kind == "categorical"
    assert spec.categories == ("billing", "bug", "feature_request", "account", "how_to")


def test_choice_example_ignored_answer_is_skipped_and_counted():
    assert load(CHOICE).load_report.skipped_counts == {"ignored": 1}


def test_shared_dataset_prefix_is_removed_from_session_names_with_a_note():
    report = load(CHOICE).load_report
    assert any("'support_intents-'" in note for note in report.notes)


def test_ner_example_spans_and_accepted_empty_example_means_no_entities():
    aset = load(NER)
    assert labels(aset) == {
        ("55012", "amir"): (Span(68, 86, "EMAIL"),),
        ("55012", "bea"): (Span(68, 74, "PERSON"), Span(68, 86, "EMAIL")),
        ("-120931", "bea"): (),
    }
    assert aset.question("spans").kind == "spans"


def test_items_carry_the_text_under_the_input_hash():
    items = load(NER).items.set_index("item_id")
    assert items.loc["55012", "text"].endswith("dana.k@example.com")


def test_timestamp_becomes_created_at():
    aset = load(CHOICE)
    assert str(aset.annotations["created_at"].iloc[0]) == "2026-03-02 09:00:00+00:00"


# -- answers and task kinds --------------------------------------------------------------------------


def test_binary_task_label_is_accept_or_reject_of_the_presented_label(tmp_path):
    path = write_lines(tmp_path / "b.jsonl", [
        example("a", "accept", label="URGENT"), example("b", "reject", label="URGENT"),
    ])
    aset = load(path)
    assert labels(aset) == {("1", "a"): "accept", ("1", "b"): "reject"}
    assert aset.question("URGENT").categories == ("accept", "reject")


def test_reject_in_a_choice_task_is_skipped_as_rejected(tmp_path):
    path = write_lines(tmp_path / "c.jsonl", [
        example("a", "accept", options=OPTIONS, accept=["bug"]),
        example("b", "reject", options=OPTIONS, accept=["bug"]),
    ])
    aset = load(path)
    assert labels(aset) == {("1", "a"): "bug"}
    assert aset.load_report.skipped_counts == {"rejected": 1}


def test_multiple_choice_answers_make_every_answer_a_set(tmp_path):
    path = write_lines(tmp_path / "m.jsonl", [
        example("a", options=OPTIONS, accept=["bug", "billing"]),
        example("b", options=OPTIONS, accept=["bug"]),
    ])
    aset = load(path)
    assert labels(aset) == {("1", "a"): frozenset({"bug", "billing"}), ("1", "b"): frozenset({"bug"})}
    assert aset.question("label").kind == "multilabel"


def test_choice_style_multiple_in_config_makes_a_multilabel_question(tmp_path):
    path = write_lines(tmp_path / "m.jsonl", [example("a", options=OPTIONS, accept=["bug"], config={"choice_style": "multiple"})])
    assert load(path).question("label").kind == "multilabel"


def test_accepted_choice_with_nothing_selected_is_counted_empty(tmp_path):
    path = write_lines(tmp_path / "e.jsonl", [
        example("a", options=OPTIONS, accept=["bug"]), example("b", options=OPTIONS, accept=[]),
    ])
    assert load(path).load_report.skipped_counts == {"empty": 1}


def test_annotator_falls_back_to_session_id(tmp_path):
    line = example("x")
    del line["_annotator_id"]
    line["_session_id"] = "only-session"
    path = write_lines(tmp_path / "s.jsonl", [line, example("y", input_hash=1)])
    assert set(load(path).annotations["annotator_id"].astype(str)) == {"only-session", "y"}


def test_a_directory_of_per_annotator_files_loads_as_one_export(tmp_path):
    folder = tmp_path / "per-annotator"
    folder.mkdir()
    plain = {k: v for k, v in example("ignored").items() if k not in ("_annotator_id", "_session_id")}
    write_lines(folder / "ana.jsonl", [{**plain, "options": OPTIONS, "accept": ["bug"]}])
    write_lines(folder / "ben.jsonl", [{**plain, "options": OPTIONS, "accept": ["other"]}])
    aset = load(folder)
    assert labels(aset) == {("1", "ana"): "bug", ("1", "ben"): "other"}
    assert aset.load_report.records_read == 2


def test_duplicate_answers_keep_the_latest_and_are_counted(tmp_path):
    first = example("a", options=OPTIONS, accept=["bug"])
    later = {**example("a", options=OPTIONS, accept=["billing"]), "_timestamp": first["_timestamp"] + 60}
    aset = load(write_lines(tmp_path / "d.jsonl", [later, first]))
    assert labels(aset) == {("1", "a"): "billing"}
    assert aset.load_report.skipped_counts == {"duplicate": 1}


# -- the real export ------------------------------------------------------------------------------


def test_pydata_export_counts_match_the_file():
    rows = [json.loads(line) for line in PYDATA.read_text().splitlines() if line.strip()]
    answered = [r for r in rows if r["answer"] != "ignore"]
    latest = {(r["_input_hash"], r["_annotator_id"]) for r in answered}
    aset = load(PYDATA)
    report = aset.load_report
    assert report.records_read == len(rows) == 3372
    assert report.skipped_counts["ignored"] == sum(r["answer"] == "ignore" for r in rows)
    assert len(aset.annotations) == len(latest)
    assert report.skipped_counts["duplicate"] == len(answered) - len(latest)
    assert aset.annotations["annotator_id"].nunique() == 42
    assert aset.annotations["item_id"].nunique() == 117


def test_pydata_export_is_one_binary_question_named_by_its_label():
    aset = load(PYDATA)
    assert aset.question_names == ["new-dataset"]
    assert set(aset.annotations["label"]) == {"accept", "reject"}
    assert Counter(aset.annotations["label"])["accept"] > 0


# -- bad input -------------------------------------------------------------------------------------


def test_invalid_json_line_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(example("a", label="X")) + "\n{\"text\": \"cut\", \"answer\n")
    with pytest.raises(InputError) as caught:
        load(path, format="prodigy")
    assert caught.value.record == "line 2"
    assert str(path) in str(caught.value)


def test_garbage_file_fails_on_its_first_line(tmp_path):
    path = tmp_path / "garbage.jsonl"
    path.write_bytes(b"\x00\x01not json at all\n" * 1000)
    with pytest.raises(InputError) as caught:
        load(path, format="prodigy")
    assert caught.value.record == "line 1"


def test_unknown_answer_names_the_field(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [example("a", "maybe", label="X")])
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.field == "answer"


def test_missing_input_hash_names_the_field(tmp_path):
    line = example("a", label="X")
    del line["_input_hash"]
    with pytest.raises(InputError) as caught:
        load(write_lines(tmp_path / "h.jsonl", [line]), format="prodigy")
    assert caught.value.field == "_input_hash"


def test_span_outside_its_text_names_line_and_field(tmp_path):
    path = write_lines(tmp_path / "s.jsonl", [example("a", spans=[{"start": 10, "end": 99, "label": "ID"}], _view_id="ner_manual")])
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.record == "line 1"
    assert caught.value.field == "spans[0].end"


def test_accept_that_is_not_a_list_names_the_field(tmp_path):
    path = write_lines(tmp_path / "t.jsonl", [example("a", options=OPTIONS, accept="bug")])
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.field == "accept"


def test_export_of_only_ignored_examples_says_so(tmp_path):
    path = write_lines(tmp_path / "i.jsonl", [example("a", "ignore", label="X")])
    with pytest.raises(InputError, match="1 ignored"):
        load(path)


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    with pytest.raises(InputError, match="no examples"):
        load(path, format="prodigy")

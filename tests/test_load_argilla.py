"""Argilla v2 exports: flat records, nested records, the to_disk folder, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import FORMATS

from qa import load
from qa.errors import InputError
from qa.load import detect_format
from qa.schema import Span

ARGILLA = FORMATS / "argilla" / "argilla"
FLAT = ARGILLA / "records-flat.jsonl"
TO_DISK = ARGILLA / "to_disk"
USER_1, USER_2, USER_3 = (f"7c0e5b1a-3d2f-4a8e-9b61-0f3e2d1c4a0{n}" for n in (1, 2, 3))


def flat_rows() -> list[dict]:
    return [json.loads(line) for line in FLAT.read_text().splitlines() if line.strip()]


def flat_counts() -> dict:
    """Responses by status and non-null suggestions, counted straight from the file."""
    statuses, suggestions = [], 0
    for row in flat_rows():
        for key, value in row.items():
            if key.endswith(".responses.status") and value:
                statuses += value
            elif key.endswith(".suggestion") and value is not None:
                suggestions += 1
    return {"submitted": statuses.count("submitted"), "discarded": statuses.count("discarded"),
            "draft": statuses.count("draft"), "suggestions": suggestions}


def label_of(aset, item: str, annotator: str, question: str):
    frame = aset.annotations
    row = frame[(frame["item_id"] == item) & (frame["annotator_id"] == annotator) & (frame["question"] == question)]
    assert len(row) == 1
    return row["label"].iloc[0]


def write_flat(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


# -- flat records ------------------------------------------------------------------------------------


def test_flat_records_are_detected_as_argilla():
    assert detect_format(FLAT) == "argilla"


def test_flat_records_load_every_submitted_response_and_suggestion():
    counts = flat_counts()
    aset = load(FLAT)
    kinds = aset.annotations["annotator_kind"].value_counts()
    assert kinds["human"] == counts["submitted"] == 18
    assert kinds["model"] == counts["suggestions"] == 5


def test_flat_discarded_and_draft_responses_are_skipped_and_counted():
    counts = flat_counts()
    report = load(FLAT).load_report
    assert report.skipped_counts == {"discarded": counts["discarded"], "draft": counts["draft"]} == {"discarded": 1, "draft": 1}
    assert {s.record for s in report.skipped} == {f"line 1 (id rv-1201), user {USER_3}", f"line 2 (id rv-1202), user {USER_3}"}


def test_flat_suggestions_are_model_labels_named_by_agent():
    aset = load(FLAT)
    assert label_of(aset, "rv-1202", "pii-tagger-0.4", "pii") == (Span(3, 8, "PERSON"), Span(115, 121, "PERSON"))
    assert label_of(aset, "rv-1201", "judge-llm-v2", "helpfulness") == 5.0


def test_flat_question_kinds_are_inferred_without_settings_and_noted():
    aset = load(FLAT)
    kinds = {q: aset.question(q).kind for q in aset.question_names}
    assert kinds == {"verdict": "categorical", "issues": "multilabel", "helpfulness": "ordinal",
                     "pii": "spans", "rewrite": "text"}
    assert any("inferred" in note for note in aset.load_report.notes)


def test_flat_metadata_batch_becomes_the_batch_column():
    assert set(load(FLAT).annotations["batch"].astype(str)) == {"w10"}


def test_flat_records_pick_up_settings_from_a_neighbouring_argilla_folder(tmp_path):
    shutil.copy(FLAT, tmp_path / "records.jsonl")
    shutil.copytree(TO_DISK / ".argilla", tmp_path / ".argilla")
    aset = load(tmp_path / "records.jsonl")
    assert aset.question("verdict").categories == ("good", "needs_edit", "wrong")
    assert aset.question("helpfulness").categories == (1.0, 2.0, 3.0, 4.0, 5.0)
    assert aset.items.set_index("item_id").loc["rv-1202", "text"].startswith("Hi Marta")


# -- nested records and the to_disk folder ---------------------------------------------------------------


def test_to_disk_folder_is_detected_and_uses_its_settings():
    assert detect_format(TO_DISK) == "argilla"
    aset = load(TO_DISK)
    assert aset.question("issues").kind == "multilabel"
    assert aset.question("rewrite").level == "none"
    assert aset.question("verdict").categories == ("good", "needs_edit", "wrong")


def test_to_disk_responses_have_no_status_so_all_are_read_and_a_note_says_so():
    records = json.loads((TO_DISK / "records.json").read_text())
    responses = sum(len(answers) for r in records for answers in r["responses"].values())
    suggestions = sum(len(r["suggestions"]) for r in records)
    aset = load(TO_DISK)
    assert len(aset.annotations) == responses + suggestions == 25
    assert aset.load_report.skipped == ()
    assert any("does not record response status" in note for note in aset.load_report.notes)


def test_nested_and_flat_agree_on_every_submitted_response():
    flat, nested = load(FLAT), load(TO_DISK)
    key = ["item_id", "annotator_id", "question"]
    flat_rows_ = {tuple(r[:3]): r[3] for r in flat.annotations[key + ["label"]].astype(object).itertuples(index=False)}
    nested_rows = {tuple(r[:3]): r[3] for r in nested.annotations[key + ["label"]].astype(object).itertuples(index=False)}
    assert all(nested_rows[k] == v for k, v in flat_rows_.items())


def test_span_text_is_the_field_named_in_the_span_question():
    items = load(TO_DISK).items.set_index("item_id")
    assert items.loc["rv-1202", "text"] == items.loc["rv-1202", "response"]


# -- question types and statuses -------------------------------------------------------------------


def test_ranking_responses_are_skipped_as_not_a_label(tmp_path):
    rows = [{"id": "r1", "text": "a b", "order.responses": [[{"value": "x", "rank": 1}, {"value": "y", "rank": 2}]],
             "order.responses.users": ["u1"], "order.responses.status": ["submitted"],
             "tone.responses": ["calm"], "tone.responses.users": ["u1"], "tone.responses.status": ["submitted"]}]
    aset = load(write_flat(tmp_path, rows))
    assert aset.load_report.skipped_counts == {"not_a_label": 1}
    assert aset.question_names == ["tone"]


# -- bad input -----------------------------------------------------------------------------------------


def test_mismatched_flat_lists_name_record_and_field(tmp_path):
    rows = [{"id": "r9", "tone.responses": ["calm", "angry"], "tone.responses.users": ["u1"], "tone.responses.status": ["submitted"]}]
    with pytest.raises(InputError) as caught:
        load(write_flat(tmp_path, rows), format="argilla")
    assert caught.value.record == "line 1 (id r9)"
    assert caught.value.field == "tone.responses"


def test_span_outside_its_text_names_the_record_and_question(tmp_path):
    rows = [{"id": "r2", "text": "short", "pii.responses": [[{"start": 0, "end": 40, "label": "X"}]],
             "pii.responses.users": ["u1"], "pii.responses.status": ["submitted"]}]
    with pytest.raises(InputError) as caught:
        load(write_flat(tmp_path, rows))
    assert caught.value.record == "line 1 (id r2), user u1"
    assert caught.value.field == "pii"


def test_truncated_records_json_names_line_and_column(tmp_path):
    folder = tmp_path / "ds"
    shutil.copytree(TO_DISK, folder)
    records = folder / "records.json"
    records.chmod(0o644)
    records.write_text(records.read_text()[:500])
    with pytest.raises(InputError, match="line 1, column"):
        load(folder)


def test_a_response_to_a_question_missing_from_the_settings_is_an_error(tmp_path):
    shutil.copytree(TO_DISK / ".argilla", tmp_path / ".argilla")
    rows = [{"id": "r3", "mood.responses": ["ok"], "mood.responses.users": ["u1"], "mood.responses.status": ["submitted"]}]
    with pytest.raises(InputError, match="not in the dataset settings"):
        load(write_flat(tmp_path, rows))


def test_only_discarded_responses_is_an_error_that_counts_them(tmp_path):
    rows = [{"id": "r4", "tone.responses": ["calm"], "tone.responses.users": ["u1"], "tone.responses.status": ["discarded"]}]
    with pytest.raises(InputError, match="1 discarded"):
        load(write_flat(tmp_path, rows), format="argilla")

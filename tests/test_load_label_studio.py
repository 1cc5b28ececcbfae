"""Label Studio JSON export: what maps to what, what is skipped, and the errors for bad input."""

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

EXAMPLE = FORMATS / "label-studio.json"
LEOKA = REAL_EXPORTS / "labelstudio_leoka_team10.json"
IMAGES = REAL_EXPORTS / "labelstudio_converter_fixture_2annotators.json"
TEXT = "Call Dana at 555-0101 about the refund."


def result(from_name: str, kind: str, value: dict) -> dict:
    return {"from_name": from_name, "to_name": "text", "type": kind, "value": value}


def annotation(annotation_id: int, who, results: list, **extra) -> dict:
    return {"id": annotation_id, "completed_by": who, "result": results, "was_cancelled": False,
            "ground_truth": False, "created_at": f"2026-01-01T00:00:{annotation_id % 60:02d}Z", "lead_time": 3.5, **extra}


def write_tasks(tmp_path: Path, tasks: list) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    return path


def one_task(tmp_path: Path, annotations: list, **task_extra) -> Path:
    return write_tasks(tmp_path, [{"id": 7, "data": {"text": TEXT}, "annotations": annotations, **task_extra}])


def labels_of(aset, question: str) -> dict:
    frame = aset.annotations[aset.annotations["question"] == question]
    return dict(zip(frame["annotator_id"].astype(str), frame["label"], strict=True))


# -- the shared example --------------------------------------------------------------------------


def test_example_is_detected_as_label_studio():
    assert detect_format(EXAMPLE) == "label_studio"


def test_example_loads_every_submitted_label():
    aset = load(EXAMPLE)
    humans = aset.annotations[aset.annotations["annotator_kind"] == "human"]
    # 9001 (intent, quality, pii), 9003 and 9004 (intent, pii), 9006-9008 (intent, pii)
    assert len(humans) == 3 + 2 + 2 + 3 * 2
    assert set(aset.question_names) == {"intent", "quality", "pii"}


def test_example_cancelled_annotation_is_skipped_and_counted():
    report = load(EXAMPLE).load_report
    assert report.skipped_counts == {"cancelled": 1}
    assert report.skipped[0].record == "task 502, annotation 9005"


def test_example_ground_truth_annotation_is_gold_only():
    aset = load(EXAMPLE)
    assert "14" not in set(aset.annotations.loc[aset.annotations["item_id"] == "501", "annotator_id"].astype(str))
    gold = {(row.item_id, row.question): row.label for row in aset.gold.itertuples()}
    assert gold[("501", "intent")] == "billing"
    assert gold[("501", "quality")] == 5.0


def test_example_prediction_is_a_model_annotation_named_by_model_version():
    aset = load(EXAMPLE)
    models = aset.annotations[aset.annotations["annotator_kind"] == "model"]
    assert list(models["annotator_id"].astype(str)) == ["intent-clf-0.3"]
    assert list(models["label"]) == ["billing"]


def test_example_completed_by_object_and_integer_give_the_numeric_id():
    aset = load(EXAMPLE)
    assert set(aset.annotations["annotator_id"].astype(str)) == {"12", "14", "15", "intent-clf-0.3"}


def test_example_spans_become_span_tuples_and_missing_regions_mean_no_entities():
    pii = load(EXAMPLE).for_question("pii")
    by_key = {(r.item_id, r.annotator_id): r.label for r in pii.itertuples()}
    assert by_key[("502", "12")] == (Span(68, 86, "EMAIL"),)
    assert by_key[("503", "12")] == ()


def test_example_rating_is_a_float_on_an_ordinal_question():
    aset = load(EXAMPLE)
    assert labels_of(aset, "quality") == {"12": 4.0}
    spec = aset.question("quality")
    assert spec.kind == "ordinal"
    assert spec.categories == (1.0, 2.0, 3.0, 4.0, 5.0)


def test_example_items_carry_text_and_data_metadata():
    items = load(EXAMPLE).items.set_index("item_id")
    assert items.loc["502", "text"].endswith("dana.k@example.com")
    assert items.loc["502", "channel"] == "chat"


def test_example_lead_time_and_created_at_are_carried():
    aset = load(EXAMPLE)
    row = aset.annotations[(aset.annotations["item_id"] == "503") & (aset.annotations["annotator_id"] == "15")].iloc[0]
    assert row["lead_time_s"] == 9.5
    assert str(row["created_at"]) == "2026-03-03 08:30:00+00:00"


# -- each result type ----------------------------------------------------------------------------


def test_single_choices_become_a_string(tmp_path):
    aset = load(one_task(tmp_path, [annotation(1, 3, [result("tone", "choices", {"choices": ["calm"]})])]))
    assert labels_of(aset, "tone") == {"3": "calm"}
    assert aset.question("tone").kind == "categorical"


def test_a_control_with_any_multiple_choice_is_multilabel_for_every_answer(tmp_path):
    path = one_task(tmp_path, [
        annotation(1, 3, [result("topics", "choices", {"choices": ["billing", "refund"]})]),
        annotation(2, 4, [result("topics", "choices", {"choices": ["billing"]})]),
    ])
    aset = load(path)
    assert labels_of(aset, "topics") == {"3": frozenset({"billing", "refund"}), "4": frozenset({"billing"})}
    assert aset.question("topics").kind == "multilabel"


def test_all_span_regions_of_one_annotation_form_one_label(tmp_path):
    path = one_task(tmp_path, [annotation(1, 3, [
        result("pii", "labels", {"start": 13, "end": 21, "labels": ["PHONE"]}),
        result("pii", "labels", {"start": 5, "end": 9, "labels": ["PERSON"]}),
    ])])
    assert labels_of(load(path), "pii") == {"3": (Span(5, 9, "PERSON"), Span(13, 21, "PHONE"))}


def test_number_becomes_a_float_on_an_interval_question(tmp_path):
    aset = load(one_task(tmp_path, [annotation(1, 3, [result("minutes", "number", {"number": 12})])]))
    assert labels_of(aset, "minutes") == {"3": 12.0}
    assert aset.question("minutes").kind == "interval"


def test_taxonomy_paths_join_with_slashes_and_several_make_a_set(tmp_path):
    path = one_task(tmp_path, [
        annotation(1, 3, [result("topic", "taxonomy", {"taxonomy": [["Billing", "Refund"], ["Account"]]})]),
        annotation(2, 4, [result("topic", "taxonomy", {"taxonomy": [["Billing", "Refund"]]})]),
    ])
    assert labels_of(load(path), "topic") == {"3": frozenset({"Billing/Refund", "Account"}), "4": frozenset({"Billing/Refund"})}


def test_textarea_is_kept_as_text_on_a_text_question(tmp_path):
    aset = load(one_task(tmp_path, [annotation(1, 3, [result("note", "textarea", {"text": ["first", "second"]})])]))
    assert labels_of(aset, "note") == {"3": "first\nsecond"}
    assert aset.question("note").level == "none"


def test_rectangles_and_relations_are_skipped_as_not_a_label_with_their_type(tmp_path):
    path = one_task(tmp_path, [annotation(1, 3, [
        result("tone", "choices", {"choices": ["calm"]}),
        result("box", "rectanglelabels", {"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["car"]}),
        {"type": "relation", "from_id": "a", "to_id": "b", "direction": "right"},
    ])])
    report = load(path).load_report
    assert report.skipped_counts == {"not_a_label": 2}
    assert {s.detail for s in report.skipped} == {"rectanglelabels result of 'box'", "relation result"}


def test_several_controls_become_several_questions(tmp_path):
    aset = load(one_task(tmp_path, [annotation(1, 3, [
        result("tone", "choices", {"choices": ["calm"]}),
        result("urgency", "rating", {"rating": 2}),
    ])]))
    assert set(aset.question_names) == {"tone", "urgency"}


def test_drafts_are_skipped_and_counted(tmp_path):
    path = one_task(tmp_path, [annotation(1, 3, [result("tone", "choices", {"choices": ["calm"]})])],
                    drafts=[{"id": 55, "user": "x@example.org", "result": []}])
    assert load(path).load_report.skipped_counts == {"draft": 1}


def test_duplicate_annotations_keep_the_latest_and_are_counted(tmp_path):
    path = one_task(tmp_path, [
        annotation(9, 3, [result("tone", "choices", {"choices": ["angry"]})]),
        annotation(2, 3, [result("tone", "choices", {"choices": ["calm"]})]),
    ])
    aset = load(path)
    assert labels_of(aset, "tone") == {"3": "angry"}  # annotation 9 was created later
    assert aset.load_report.skipped_counts == {"duplicate": 1}


def test_an_annotation_without_any_label_is_counted_empty(tmp_path):
    path = one_task(tmp_path, [
        annotation(1, 3, [result("tone", "choices", {"choices": ["calm"]})]),
        annotation(2, 4, []),
    ])
    assert load(path).load_report.skipped_counts == {"empty": 1}


def test_batch_comes_from_task_data(tmp_path):
    path = write_tasks(tmp_path, [{"id": 1, "data": {"text": TEXT, "batch": "v2"},
                                   "annotations": [annotation(1, 3, [result("tone", "choices", {"choices": ["calm"]})])]}])
    assert list(load(path).annotations["batch"].astype(str)) == ["v2"]


# -- the real exports -------------------------------------------------------------------------------


def leoka_counts() -> dict:
    tasks = json.loads(LEOKA.read_text())
    annotations = [a for t in tasks for a in t["annotations"]]
    regular = [a for a in annotations if not a["ground_truth"] and not a["was_cancelled"]]
    return {
        "tasks": len(tasks),
        "regular": len(regular),
        "ground_truth": sum(a["ground_truth"] for a in annotations),
        "drafts": sum(len(t.get("drafts") or []) for t in tasks),
        "annotators": {str(a["completed_by"]["id"]) for a in regular},
    }


def test_leoka_export_loads_spans_and_taxonomy_for_every_regular_annotation():
    counts = leoka_counts()
    aset = load(LEOKA)
    assert aset.load_report.records_read == counts["tasks"] == 130
    assert len(aset.annotations) == 2 * counts["regular"] == 2 * 333
    assert aset.question("label").kind == "spans"
    assert aset.question("Category").kind == "multilabel"
    assert set(aset.annotations["annotator_id"].astype(str)) == counts["annotators"]


def test_leoka_ground_truth_becomes_gold_and_drafts_are_counted():
    counts = leoka_counts()
    aset = load(LEOKA)
    assert len(aset.gold) == 2 * counts["ground_truth"] == 2 * 130
    assert aset.load_report.skipped_counts == {"draft": counts["drafts"]} == {"draft": 34}
    assert any("ground_truth" in note for note in aset.load_report.notes)


def test_leoka_taxonomy_paths_match_the_file():
    tasks = json.loads(LEOKA.read_text())
    first = next(a for a in tasks[0]["annotations"] if not a["ground_truth"])
    paths = next(r["value"]["taxonomy"] for r in first["result"] if r["type"] == "taxonomy")
    aset = load(LEOKA)
    row = aset.annotations[(aset.annotations["item_id"] == str(tasks[0]["id"]))
                           & (aset.annotations["annotator_id"] == str(first["completed_by"]["id"]))
                           & (aset.annotations["question"] == "Category")]
    assert row["label"].iloc[0] == frozenset("/".join(p) for p in paths)


def test_image_only_export_fails_saying_rectangles_are_not_labels():
    with pytest.raises(InputError) as caught:
        load(IMAGES)
    rectangles = sum(r["type"] == "rectanglelabels" for t in json.loads(IMAGES.read_text())
                     for a in t["annotations"] for r in a["result"])
    assert f"{rectangles} rectanglelabels" in str(caught.value)
    assert "not labels this suite reads" in str(caught.value)


# -- bad input ------------------------------------------------------------------------------------


def test_truncated_json_names_line_and_column(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text(EXAMPLE.read_text()[:700])
    with pytest.raises(InputError) as caught:
        load(path, format="label_studio")
    assert str(path) in str(caught.value)
    assert "line" in str(caught.value) and "truncated" in str(caught.value)


def test_empty_task_list_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no tasks"):
        load(write_tasks(tmp_path, []), format="label_studio")


def test_a_task_missing_annotations_names_the_task(tmp_path):
    path = write_tasks(tmp_path, [{"id": 41, "data": {"text": TEXT}}])
    with pytest.raises(InputError) as caught:
        load(path, format="label_studio")
    assert caught.value.record == "task 41"
    assert caught.value.field == "annotations"


def test_result_that_is_not_a_list_names_the_field(tmp_path):
    path = one_task(tmp_path, [annotation(1, 3, {"from_name": "tone"})])
    with pytest.raises(InputError) as caught:
        load(path, format="label_studio")
    assert caught.value.field == "result"
    assert "task 7" in str(caught.value.record)


def test_span_outside_its_text_names_task_and_field(tmp_path):
    path = one_task(tmp_path, [annotation(5, 3, [result("pii", "labels", {"start": 30, "end": 90, "labels": ["X"]})])])
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.record == "task 7, annotation 5"
    assert caught.value.field == "result[0].value.end"
    assert f"{len(TEXT)} characters" in str(caught.value)


def test_json_min_export_is_refused_with_advice(tmp_path):
    path = write_tasks(tmp_path, [{"id": 1, "text": TEXT, "annotator": 3, "annotation_id": 9, "tone": "calm"}])
    assert detect_format(path) == "label_studio"
    with pytest.raises(InputError, match="JSON-MIN"):
        load(path)


def test_a_mistyped_choice_value_names_the_field(tmp_path):
    path = one_task(tmp_path, [annotation(1, 3, [result("tone", "choices", {"choices": "calm"})])])
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.field == "result[0].value.choices"


def test_missing_completed_by_names_the_field(tmp_path):
    broken = annotation(1, 3, [result("tone", "choices", {"choices": ["calm"]})])
    del broken["completed_by"]
    with pytest.raises(InputError) as caught:
        load(one_task(tmp_path, [broken]))
    assert caught.value.field == "completed_by"


def test_many_tasks_load_with_one_row_per_label(tmp_path):
    tasks = [{"id": i, "data": {"text": TEXT},
              "annotations": [annotation(10 * i + a, a, [result("tone", "choices", {"choices": ["calm" if (i + a) % 2 else "angry"]})])
                              for a in range(3)]} for i in range(200)]
    aset = load(write_tasks(tmp_path, tasks))
    assert len(aset.annotations) == 600
    assert Counter(aset.annotations["label"]) == Counter({"calm": 300, "angry": 300})

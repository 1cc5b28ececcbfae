"""Doccano JSONL exports (classification and sequence labelling, per-user files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import qa.load
from qa.errors import InputError
from qa.schema import Span


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def labels_of(loaded) -> dict[tuple[str, str], object]:
    return {(str(r.item_id), str(r.annotator_id)): r.label for r in loaded.annotations.itertuples()}


def test_per_user_file_takes_the_user_from_the_file_name(formats_dir):
    loaded = qa.load(formats_dir / "doccano-amir.jsonl")
    assert loaded.load_report.format == "doccano"
    assert labels_of(loaded) == {("31", "amir"): "billing", ("32", "amir"): "bug", ("33", "amir"): "account"}
    assert loaded.question("label").kind == "categorical"


def test_directory_of_per_user_files_gives_one_annotator_per_file(formats_dir, tmp_path):
    for name in ("doccano-amir.jsonl", "doccano-bea.jsonl"):
        shutil.copy(formats_dir / name, tmp_path / name)
    loaded = qa.load(tmp_path)
    assert len(loaded.annotations) == 6
    assert labels_of(loaded)[("32", "bea")] == "feature_request"
    assert loaded.items.set_index("item_id").loc["33", "text"].startswith("How do I add")


def test_new_style_entities_become_spans(formats_dir):
    loaded = qa.load(formats_dir / "doccano-seq-amir.jsonl")
    assert labels_of(loaded) == {("32", "amir"): (Span(68, 86, "EMAIL"),)}
    assert loaded.question("entities").kind == "spans"


def test_old_style_label_triples_become_spans(tmp_path):
    target = jsonl(tmp_path / "amir.jsonl", [{"id": 1, "text": "Dana in Oslo", "label": [[8, 12, "LOC"], [0, 4, "PER"]]}])
    assert labels_of(qa.load(target)) == {("1", "amir"): (Span(0, 4, "PER"), Span(8, 12, "LOC"))}


def test_project_is_multilabel_when_any_example_has_several_labels(tmp_path):
    jsonl(tmp_path / "amir.jsonl", [{"id": 1, "text": "a", "label": ["bug", "billing"]}])
    jsonl(tmp_path / "bea.jsonl", [{"id": 1, "text": "a", "label": ["bug"]}])
    loaded = qa.load(tmp_path)
    assert labels_of(loaded) == {("1", "amir"): frozenset({"bug", "billing"}), ("1", "bea"): frozenset({"bug"})}
    assert loaded.question("label").kind == "multilabel"


def test_single_label_project_stays_categorical(tmp_path):
    target = jsonl(tmp_path / "amir.jsonl", [{"id": 1, "text": "a", "label": ["bug"]}, {"id": 2, "text": "b", "label": ["x"]}])
    assert set(labels_of(qa.load(target)).values()) == {"bug", "x"}


def test_unlabelled_example_is_skipped_and_counted(tmp_path):
    target = jsonl(tmp_path / "amir.jsonl", [{"id": 1, "text": "a", "label": ["bug"]}, {"id": 2, "text": "b", "label": []}])
    loaded = qa.load(target)
    assert len(loaded.annotations) == 1
    assert loaded.load_report.skipped_counts == {"empty": 1}


def test_doccano_1_annotations_name_their_user(tmp_path):
    record = {"id": 5, "text": "a", "annotations": [{"label": 3, "user": 1}, {"label": 4, "user": 2}], "meta": {}}
    loaded = qa.load(jsonl(tmp_path / "admin.jsonl", [record]))
    assert labels_of(loaded) == {("5", "1"): "3", ("5", "2"): "4"}
    assert loaded.question("label").kind == "categorical"


def test_collaborative_all_file_is_loaded_with_a_warning(tmp_path):
    loaded = qa.load(jsonl(tmp_path / "all.jsonl", [{"id": 1, "text": "a", "label": ["bug"]}]))
    assert labels_of(loaded) == {("1", "all"): "bug"}
    assert any("collaborative" in note for note in loaded.load_report.notes)


def test_meta_goes_to_items(tmp_path):
    target = jsonl(tmp_path / "amir.jsonl", [{"id": 1, "text": "a", "label": ["bug"], "meta": {"source": "web"}}])
    assert qa.load(target).items.set_index("item_id").loc["1", "source"] == "web"


def test_span_past_the_text_names_file_line_and_field(tmp_path):
    target = jsonl(tmp_path / "amir.jsonl", [{"id": 2, "text": "tiny", "entities": [{"start_offset": 0, "end_offset": 40, "label": "PER"}]}])
    with pytest.raises(InputError, match="past the text") as err:
        qa.load(target)
    assert err.value.record == 1 and err.value.field == "spans" and str(target) in str(err.value)


def test_non_integer_offsets_name_the_field(tmp_path):
    target = jsonl(tmp_path / "amir.jsonl", [{"id": 1, "text": "Dana", "label": [["0", "4", "PER"]]}])
    with pytest.raises(InputError, match="integer") as err:
        qa.load(target, format="doccano")
    assert err.value.record == 1 and err.value.field == "label"

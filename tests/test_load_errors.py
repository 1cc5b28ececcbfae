"""Bad input, across the long, MTurk and Doccano loaders: one clear InputError naming the file,
the record and the field; nothing dropped silently; never a traceback from inside pandas."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import qa.load
from qa.errors import InputError, UnknownFormatError

GARBAGE_BYTES = 5 * 1024 * 1024


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def garbage(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("garbage") / "export.csv"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, GARBAGE_BYTES, dtype=np.uint8).tobytes())
    return path


def test_truncated_jsonl_line_names_file_and_line(tmp_path):
    target = write(tmp_path / "t.jsonl", '{"item_id": 1, "annotator_id": "a", "label": "x"}\n{"item_id": 2, "annot\n')
    with pytest.raises(InputError, match="invalid JSON") as err:
        qa.load(target)
    assert err.value.record == "line 2" and f"{target}, line 2" in str(err.value)


def test_truncated_doccano_line_names_file_and_line(tmp_path):
    target = write(tmp_path / "amir.jsonl", '{"id": 1, "text": "a", "label": ["x"]}\n{"id": 2, "text": "b", "lab\n')
    with pytest.raises(InputError, match="invalid JSON") as err:
        qa.load(target, format="doccano")
    assert err.value.record == "line 2" and f"{target}, line 2" in str(err.value)


def test_missing_required_column_names_the_field(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,answer\n1,a,x\n")
    with pytest.raises(InputError, match="missing required column 'label'") as err:
        qa.load(target, format="long")
    assert err.value.field == "label" and err.value.record == 1


def test_column_map_to_an_absent_column_names_it(tmp_path):
    target = write(tmp_path / "t.csv", "task,annotator_id,label\n1,a,x\n")
    with pytest.raises(InputError, match="no such column") as err:
        qa.load(target, column_map={"item_id": "task_id"})
    assert err.value.field == "task_id"


def test_missing_id_value_names_row_and_field(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label\n1,a,x\n2,,y\n")
    with pytest.raises(InputError, match="annotator_id is empty") as err:
        qa.load(target)
    assert err.value.record == 3 and err.value.field == "annotator_id"


def test_mistyped_lead_time_names_row_and_field(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,lead_time_s\n1,a,x,3.5\n2,a,y,slow\n")
    with pytest.raises(InputError, match="'slow' is not a number") as err:
        qa.load(target)
    assert err.value.record == 3 and err.value.field == "lead_time_s"


def test_unknown_annotator_kind_is_an_error_not_a_silent_drop(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,annotator_kind\n1,a,x,robot\n")
    with pytest.raises(InputError, match="'robot' is not an annotator kind") as err:
        qa.load(target)
    assert err.value.field == "annotator_kind"


def test_invalid_json_list_label_names_row_and_field(tmp_path):
    target = write(tmp_path / "t.csv", 'item_id,annotator_id,label\n1,a,x\n2,a,"[""bug"""\n')
    with pytest.raises(InputError, match="not valid JSON") as err:
        qa.load(target)
    assert err.value.record == 3 and err.value.field == "label"


def test_mistyped_doccano_text_names_the_field(tmp_path):
    target = write(tmp_path / "amir.jsonl", '{"id": 1, "text": 42, "label": ["x"]}\n')
    with pytest.raises(InputError) as err:
        qa.load(target, format="doccano")
    assert err.value.field == "text" and err.value.record == 1


def test_question_mixing_spans_and_categories_is_an_error(tmp_path):
    lines = [{"item_id": 1, "annotator_id": "a", "label": "x"}, {"item_id": 1, "annotator_id": "b", "label": [[0, 1, "P"]]}]
    target = write(tmp_path / "t.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(InputError, match="mixes label shapes") as err:
        qa.load(target)
    assert err.value.record == 2


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_file_is_an_error(tmp_path, content):
    with pytest.raises(InputError, match="empty"):
        qa.load(write(tmp_path / "t.csv", content))


def test_header_only_long_table_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no rows"):
        qa.load(write(tmp_path / "t.csv", "item_id,annotator_id,label\n"))


def test_header_only_mturk_batch_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no assignments"):
        qa.load(write(tmp_path / "b.csv", '"HITId","WorkerId","Answer.intent"\n'))


def test_export_where_everything_is_rejected_says_so(tmp_path):
    target = write(tmp_path / "b.csv", '"HITId","WorkerId","AssignmentStatus","Answer.intent"\n"H","W","Rejected","bug"\n')
    with pytest.raises(InputError, match="no annotations .*1 rejected"):
        qa.load(target)


def test_unknown_content_is_an_unknown_format(tmp_path):
    target = write(tmp_path / "notes.txt", "dear diary,\ntoday I labelled nothing.\n")
    with pytest.raises(UnknownFormatError, match="could not tell which tool"):
        qa.load(target)


def test_unknown_format_name_lists_the_formats(formats_dir):
    with pytest.raises(UnknownFormatError, match="unknown format 'excel'.*long"):
        qa.load(formats_dir / "long.csv", format="excel")


def test_span_outside_its_text_names_row_and_field(tmp_path):
    line = {"item_id": 1, "annotator_id": "a", "label": [[0, 99, "PER"]], "text": "Dana"}
    target = write(tmp_path / "t.jsonl", json.dumps(line) + "\n")
    with pytest.raises(InputError, match="ends past the text's 4 characters") as err:
        qa.load(target)
    assert err.value.record == 1 and err.value.field == "spans" and str(target) in str(err.value)


def test_duplicate_annotation_keeps_the_latest_and_is_counted(tmp_path):
    target = write(
        tmp_path / "t.csv",
        "item_id,annotator_id,label,created_at\n1,a,late,2026-03-02T10:00:00Z\n1,a,early,2026-03-02T09:00:00Z\n1,b,x,\n",
    )
    loaded = qa.load(target)
    labels = {str(r.annotator_id): r.label for r in loaded.annotations.itertuples()}
    assert labels == {"a": "late", "b": "x"}
    assert loaded.load_report.skipped_counts == {"duplicate": 1}
    assert loaded.load_report.skipped[0].record == "3"


def test_duplicate_without_times_keeps_the_later_row(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label\n1,a,first\n1,a,second\n")
    loaded = qa.load(target)
    assert loaded.annotations["label"].tolist() == ["second"]
    assert loaded.load_report.skipped_counts == {"duplicate": 1}


def test_malformed_csv_row_names_the_line_not_pandas_internals(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label\n1,a,x\n2,b,y,extra,fields\n")
    with pytest.raises(InputError, match="not a well-formed CSV") as err:
        qa.load(target)
    assert err.value.record == 3 and str(target) in str(err.value)


def test_corrupt_parquet_is_an_input_error(tmp_path):
    target = tmp_path / "t.parquet"
    target.write_bytes(b"PAR1" + b"\x00" * 100)
    with pytest.raises(InputError, match="not a readable Parquet file"):
        qa.load(target)


@pytest.mark.parametrize("format", [None, "long", "mturk", "doccano"])
def test_huge_garbage_fails_fast_with_one_clear_message(garbage, format):
    with pytest.raises(InputError) as err:  # and returns: no hang (timed in bench/, not here)
        qa.load(garbage, format=format)
    message = str(err.value)
    assert str(garbage) in message and len(message) < 400


def test_a_small_broken_json_file_names_its_line_instead_of_an_unknown_format(tmp_path):
    target = write(tmp_path / "export.json", '{"broken": \n')
    with pytest.raises(InputError, match="invalid JSON") as err:
        qa.load(target)
    assert not isinstance(err.value, qa.UnknownFormatError)
    assert err.value.record == "line 1" and f"{target}, line 1" in str(err.value)


def test_broken_json_lines_name_the_first_bad_line_when_the_format_is_unknown(tmp_path):
    target = write(tmp_path / "export.jsonl", '{"a": 1}\n{"b": \n')
    with pytest.raises(InputError, match="invalid JSON") as err:
        qa.load(target)
    assert err.value.record == "line 2"


def test_text_that_is_not_json_is_still_an_unknown_format(tmp_path):
    target = write(tmp_path / "notes.txt", "hello world\n")
    with pytest.raises(qa.UnknownFormatError, match="could not tell which tool"):
        qa.load(target)

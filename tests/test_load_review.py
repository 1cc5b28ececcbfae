"""Second reading of the loaders: one test per bug found, named for the behaviour it pins down.

Silent corruption (ids, times, labels), inputs that crashed with a traceback from inside pandas,
pyarrow or json, and malformed records that were read as data instead of reported.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qa.cli import main
from qa.errors import InputError
from qa.load import load

FORMATS = Path(__file__).resolve().parents[2] / "shared" / "formats"
HEADER = "item_id,annotator_id,label\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def jsonl(path: Path, rows: list[dict]) -> Path:
    return write(path, "".join(json.dumps(row) + "\n" for row in rows))


def label_studio_tasks() -> list[dict]:
    return json.loads((FORMATS / "label-studio.json").read_text(encoding="utf-8"))


def prodigy_rows() -> list[dict]:
    return [json.loads(line) for line in (FORMATS / "prodigy-choice.jsonl").read_text(encoding="utf-8").splitlines()]


def raises_input_error(path: Path, **kwargs) -> InputError:
    with pytest.raises(InputError) as err:
        load(path, **kwargs)
    return err.value


# -- ids ----------------------------------------------------------------------------------------------


def test_csv_ids_keep_their_leading_zeros_and_decimals(tmp_path):
    target = write(tmp_path / "t.csv", HEADER + "007,a,x\n7,b,y\n1.50,c,z\n")
    loaded = load(target)
    assert loaded.annotations["item_id"].astype(str).tolist() == ["007", "7", "1.50"]
    assert sorted(loaded.items["item_id"]) == ["007", "1.50", "7"]


def test_csv_annotator_ids_that_look_like_numbers_stay_as_written(tmp_path):
    target = write(tmp_path / "t.csv", HEADER + "1,0042,x\n1,42,y\n")
    assert load(target).annotations["annotator_id"].astype(str).tolist() == ["0042", "42"]


def test_a_json_object_as_item_id_names_the_line_and_field(tmp_path):
    target = jsonl(tmp_path / "t.jsonl", [{"item_id": 1, "annotator_id": "a", "label": "x"},
                                          {"item_id": {"x": 1}, "annotator_id": "b", "label": "y"}])
    err = raises_input_error(target)
    assert (err.record, err.field) == (2, "item_id") and "found an object" in err.problem


def test_a_json_list_as_annotator_id_is_an_error_not_an_id(tmp_path):
    target = jsonl(tmp_path / "t.jsonl", [{"item_id": 1, "annotator_id": [1], "label": "x"}])
    assert raises_input_error(target).field == "annotator_id"


def test_a_blank_string_annotator_id_is_reported_as_empty(tmp_path):
    target = jsonl(tmp_path / "t.jsonl", [{"item_id": 1, "annotator_id": "a", "label": "x"},
                                          {"item_id": 2, "annotator_id": "  ", "label": "y"}])
    err = raises_input_error(target)
    assert (err.record, err.field) == (2, "annotator_id")


def test_the_same_id_as_number_and_as_string_is_one_item(tmp_path):
    target = jsonl(tmp_path / "t.jsonl", [{"item_id": 7, "annotator_id": "a", "label": "x"},
                                          {"item_id": "7", "annotator_id": "b", "label": "y"}])
    assert load(target).annotations["item_id"].astype(str).tolist() == ["7", "7"]


def test_a_blank_mturk_worker_id_names_the_row_and_the_worker_column(tmp_path):
    raw = (FORMATS / "mturk-batch-results.csv").read_text(encoding="utf-8")
    target = write(tmp_path / "batch.csv", raw.replace('"A1XK"', '""', 1))
    err = raises_input_error(target)
    assert (err.record, err.field) == (2, "WorkerId")


# -- malformed CSV ----------------------------------------------------------------------------------


def test_a_first_row_with_an_extra_field_is_an_error_not_a_shifted_row(tmp_path):
    target = write(tmp_path / "t.csv", HEADER + "1,a,x,extra\n2,b,y\n")
    err = raises_input_error(target)
    assert err.record == 2 and "more fields than the header" in err.problem


def test_an_mturk_row_with_an_extra_field_is_an_error(tmp_path):
    lines = (FORMATS / "mturk-batch-results.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    target = write(tmp_path / "batch.csv", lines[0] + lines[1].rstrip("\n") + ',"extra"\n' + "".join(lines[2:]))
    assert "more fields than the header" in raises_input_error(target).problem


def test_a_csv_with_a_byte_order_mark_loads(tmp_path):
    target = write(tmp_path / "t.csv", "\ufeff" + HEADER + "1,a,x\n1,b,y\n")
    assert len(load(target).annotations) == 2


def test_a_header_naming_label_twice_is_ambiguous(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,label\n1,a,x,y\n")
    err = raises_input_error(target)
    assert (err.record, err.field) == (1, "label")


def test_a_semicolon_separated_csv_loads(tmp_path):
    target = write(tmp_path / "t.csv", "item_id;annotator_id;label\n1;a;x\n1;b;y\n")
    assert load(target).annotations["label"].tolist() == ["x", "y"]


def test_a_table_missing_the_label_column_says_so(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,answer\n1,a,x\n")
    err = raises_input_error(target)
    assert err.field == "label" and "missing required column 'label'" in err.problem


def test_latin1_bytes_late_in_a_csv_name_their_line(tmp_path):
    target = tmp_path / "t.csv"
    target.write_bytes((HEADER + "1,a,x\n" * 30_000 + "2,a,caf\xe9\n").encode("latin-1"))
    err = raises_input_error(target)
    assert err.record == 30_002 and "not UTF-8" in err.problem


def test_an_unclosed_quote_names_its_line(tmp_path):
    target = write(tmp_path / "t.csv", HEADER + '1,a,x\n2,b,"y\n3,c,z\n')
    assert raises_input_error(target).record == 3


# -- times ---------------------------------------------------------------------------------------------


def test_unix_seconds_written_as_text_in_a_csv_are_timestamps(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,created_at\n1,a,x,1772442000\n")
    assert load(target).annotations["created_at"].iloc[0] == pd.Timestamp("2026-03-02 09:00", tz="UTC")


def test_unix_milliseconds_are_an_error_not_a_date_in_the_far_future(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,created_at\n1,a,x,1772442000000\n")
    err = raises_input_error(target)
    assert (err.record, err.field) == (2, "created_at") and "milliseconds" in err.problem


def test_a_parquet_boolean_created_at_is_an_input_error(tmp_path):
    target = tmp_path / "t.parquet"
    pq.write_table(pa.table({"item_id": [1], "annotator_id": ["a"], "label": ["x"], "created_at": [True]}), target)
    assert raises_input_error(target).field == "created_at"


def test_created_at_has_one_resolution_whatever_the_format(formats_dir):
    dtypes = {str(load(formats_dir / name).annotations["created_at"].dtype)
              for name in ("long.csv", "label-studio.json", "prodigy-choice.jsonl", "doccano-amir.jsonl")}
    assert dtypes == {"datetime64[ns, UTC]"}


def test_a_label_studio_created_at_that_is_not_a_timestamp_is_reported(tmp_path):
    tasks = label_studio_tasks()
    tasks[0]["annotations"][0]["created_at"] = "yesterday"
    err = raises_input_error(write(tmp_path / "ls.json", json.dumps(tasks)))
    assert (err.record, err.field) == ("task 501, annotation 9001", "created_at")


def test_a_label_studio_lead_time_that_is_not_a_number_is_reported(tmp_path):
    tasks = label_studio_tasks()
    tasks[0]["annotations"][0]["lead_time"] = "slow"
    assert raises_input_error(write(tmp_path / "ls.json", json.dumps(tasks))).field == "lead_time"


def test_a_prodigy_timestamp_that_is_not_unix_seconds_is_reported(tmp_path):
    rows = prodigy_rows()
    rows[1]["_timestamp"] = "2026-03-02"
    err = raises_input_error(jsonl(tmp_path / "p.jsonl", rows))
    assert (err.record, err.field) == ("line 2", "_timestamp")


# -- labels ------------------------------------------------------------------------------------------


def test_a_json_object_as_label_is_an_error_not_a_category(tmp_path):
    target = jsonl(tmp_path / "t.jsonl", [{"item_id": 1, "annotator_id": "a", "label": {"a": 1}}])
    err = raises_input_error(target)
    assert (err.record, err.field) == (1, "label")


def test_a_parquet_struct_label_is_an_input_error(tmp_path):
    target = tmp_path / "t.parquet"
    pq.write_table(pa.table({"item_id": [1], "annotator_id": ["a"], "label": [{"x": 1}]}), target)
    assert raises_input_error(target).field == "label"


def test_a_parquet_list_label_is_a_multilabel_answer(tmp_path):
    target = tmp_path / "t.parquet"
    pq.write_table(pa.table({"item_id": [1, 2], "annotator_id": ["a", "b"], "label": [["x", "y"], ["z"]]}), target)
    labels = load(target).annotations["label"].tolist()
    assert labels == [frozenset({"x", "y"}), frozenset({"z"})]


def test_a_parquet_list_item_id_is_an_input_error(tmp_path):
    target = tmp_path / "t.parquet"
    pq.write_table(pa.table({"item_id": [[1]], "annotator_id": ["a"], "label": ["x"]}), target)
    assert raises_input_error(target).field == "item_id"


def test_a_second_result_of_one_label_studio_control_is_counted_as_a_duplicate(tmp_path):
    tasks = label_studio_tasks()
    tasks[0]["annotations"][0]["result"].append(
        {"from_name": "intent", "to_name": "text", "type": "choices", "value": {"choices": ["bug"]}})
    loaded = load(write(tmp_path / "ls.json", json.dumps(tasks)))
    assert loaded.load_report.skipped_counts.get("duplicate") == 1


def test_a_prodigy_accepted_option_that_is_not_offered_is_reported(tmp_path):
    rows = prodigy_rows()
    rows[1]["accept"] = ["nonexistent"]
    err = raises_input_error(jsonl(tmp_path / "p.jsonl", rows))
    assert (err.record, err.field) == ("line 2", "accept")


def test_an_unknown_argilla_response_status_is_reported(tmp_path):
    lines = (FORMATS / "argilla" / "argilla" / "records-flat.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    rows[0]["verdict.responses.status"] = ["submitted", "pending", "discarded"]
    err = raises_input_error(jsonl(tmp_path / "records.jsonl", rows))
    assert err.field == "verdict.responses.status" and "pending" in err.problem


# -- ids of tasks and annotators in JSON exports ----------------------------------------------------------


def test_a_label_studio_task_id_that_is_an_object_is_reported(tmp_path):
    tasks = label_studio_tasks()
    tasks[0]["id"] = {"a": 1}
    err = raises_input_error(write(tmp_path / "ls.json", json.dumps(tasks)))
    assert (err.record, err.field) == ("task #1", "id")


def test_a_prodigy_annotator_id_that_is_an_object_is_reported(tmp_path):
    rows = prodigy_rows()
    rows[1]["_annotator_id"] = {"a": 1}
    assert raises_input_error(jsonl(tmp_path / "p.jsonl", rows)).field == "_annotator_id"


# -- detection -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["label-studio.json", "prodigy-choice.jsonl", "doccano-amir.jsonl"])
def test_a_json_export_with_a_byte_order_mark_is_detected_and_loads(tmp_path, name):
    target = write(tmp_path / name, "\ufeff" + (FORMATS / name).read_text(encoding="utf-8"))
    assert len(load(target).annotations) > 0


def test_a_readme_beside_the_export_files_does_not_hide_the_format(tmp_path):
    write(tmp_path / "README.txt", "per-annotator exports")
    write(tmp_path / "amir.jsonl", (FORMATS / "doccano-amir.jsonl").read_text(encoding="utf-8"))
    assert load(tmp_path).load_report.format == "doccano"


def test_another_tools_file_in_a_doccano_folder_is_named(tmp_path):
    write(tmp_path / "amir.jsonl", (FORMATS / "doccano-amir.jsonl").read_text(encoding="utf-8"))
    write(tmp_path / "b.jsonl", (FORMATS / "prodigy-choice.jsonl").read_text(encoding="utf-8"))
    err = raises_input_error(tmp_path)
    assert err.path.endswith("b.jsonl") and err.record == "line 1"


def test_a_long_table_whose_first_line_is_longer_than_the_sniffed_head_is_detected(tmp_path):
    target = jsonl(tmp_path / "t.jsonl", [{"item_id": 1, "annotator_id": "a", "label": "x" * 200_000}])
    assert load(target).load_report.format == "long"


def test_json_nested_beyond_the_stack_is_one_input_error(tmp_path, capsys):
    target = write(tmp_path / "t.jsonl", '{"item_id": 1, "annotator_id": "a", "label": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    assert main(["summary", str(target)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    with pytest.raises(InputError):
        load(target, format="long")


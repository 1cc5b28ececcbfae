"""``aqa summary`` and ``aqa convert``: what they print, how they fail, and that convert round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import qa
from qa.cli import main

FORMATS = Path(__file__).resolve().parents[1].parent / "shared" / "formats"


@pytest.fixture
def long_csv(tmp_path) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(
        "item_id,annotator_id,question,label,annotator_kind\n"
        "1,amir,intent,billing,human\n1,bea,intent,billing,human\n1,chen,intent,bug,human\n"
        "2,amir,intent,bug,human\n2,bea,intent,how_to,human\n"
        "1,clf,intent,billing,model\n"
        "2,amir,intent,bug,human\n"  # a duplicate: counted, the latest kept
    )
    return path


def test_summary_prints_items_annotators_and_labels_per_item(long_csv, capsys):
    assert main(["summary", str(long_csv)]) == 0
    out = capsys.readouterr().out
    assert "items: 2" in out
    assert "3 human (amir, bea, chen), 1 model (clf)" in out
    assert "intent: categorical" in out and "2 / 2.5 / 3 per item" in out


def test_summary_counts_skipped_records_by_reason(long_csv, capsys):
    main(["summary", str(long_csv)])
    assert "duplicate: 1" in capsys.readouterr().out


def test_summary_json_holds_the_same_counts(long_csv, capsys):
    assert main(["summary", str(long_csv), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["items"] == 2 and summary["model_annotators"] == ["clf"]
    assert summary["questions"][0]["labels_per_item_max"] == 3
    assert [(row["reason"], row["count"]) for row in summary["skipped"]] == [("duplicate", 1)]


def test_summary_reads_a_label_studio_export_with_gold_and_cancelled(capsys):
    assert main(["summary", str(FORMATS / "label-studio.json")]) == 0
    out = capsys.readouterr().out
    assert "gold items: 1" in out and "cancelled: 1" in out


def test_summary_applies_a_column_map(tmp_path, capsys):
    path = tmp_path / "w.csv"
    path.write_text("task_id,worker,label\n1,a,x\n1,b,y\n")
    assert main(["summary", str(path), "--map", "item=task_id,annotator=worker"]) == 0
    assert "2 human (a, b)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments, expected",
    [
        (["summary", "no/such/file.csv"], "no such file"),
        (["summary", "{long_csv}", "--format", "excel"], "unknown format 'excel'"),
        (["summary", "{long_csv}", "--map", "item"], "is not CANONICAL=COLUMN"),
        (["summary", "{long_csv}", "--map", "itme=task_id"], "'itme' is not a canonical column"),
        (["summary", "{long_csv}", "--map", "item=task_id"], "task_id"),
        (["convert", "{long_csv}", "{tmp}/out.xlsx"], "cannot write a long table as .xlsx"),
    ],
)
def test_bad_input_exits_2_with_one_line(arguments, expected, long_csv, tmp_path, capsys):
    argv = [a.format(long_csv=long_csv, tmp=tmp_path) for a in arguments]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert expected in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl"])
def test_convert_round_trips_through_the_long_table_loader(suffix, tmp_path, capsys):
    source = FORMATS / "label-studio.json"
    out = tmp_path / f"canonical{suffix}"
    assert main(["convert", str(source), str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    original, converted = qa.load(source), qa.load(out)
    assert converted.load_report.format == "long"
    assert _annotations(converted) == _annotations(original)
    assert sorted(map(repr, converted.gold.itertuples(index=False))) == sorted(map(repr, original.gold.itertuples(index=False)))
    assert dict(zip(converted.items["item_id"], converted.items["text"], strict=False)) == dict(zip(original.items["item_id"], original.items["text"], strict=False))


def test_convert_keeps_spans_and_ratings(tmp_path):
    out = tmp_path / "c.csv"
    main(["convert", str(FORMATS / "label-studio.json"), str(out)])
    loaded = qa.load(out)
    assert loaded.question("pii").kind == "spans" and loaded.question("quality").kind == "ordinal"


def _annotations(aset: qa.AnnotationSet) -> list[dict]:
    """Annotations as plain, sortable records (missing values as None, times as ISO text)."""
    def plain(value):
        if value is None or (not isinstance(value, (tuple, frozenset, str)) and pd.isna(value)):
            return None
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
        return value if isinstance(value, (tuple, frozenset, float)) else str(value)

    frame = aset.annotations
    records = [{c: plain(v) for c, v in zip(frame.columns, row, strict=False)} for row in frame.astype(object).itertuples(index=False)]
    return sorted(records, key=lambda r: (r["item_id"], r["annotator_id"], r["question"]))

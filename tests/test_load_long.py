"""Long tables (CSV, TSV, Parquet, JSON lines) into the canonical tables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import qa.load
from qa.errors import InputError
from qa.schema import Span

RTE_MAP = {"item_id": "orig_id", "annotator_id": "!amt_worker_ids", "label": "response"}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def labels_of(loaded, question=None) -> dict[tuple[str, str], object]:
    frame = loaded.annotations
    if question is not None:
        frame = frame[frame["question"] == question]
    return {(str(r.item_id), str(r.annotator_id)): r.label for r in frame.itertuples()}


def test_shared_long_csv_loads_every_row(formats_dir):
    loaded = qa.load(formats_dir / "long.csv")
    assert loaded.load_report.format == "long"
    assert len(loaded.annotations) == 6
    assert labels_of(loaded)[("502", "bea")] == "feature_request"
    assert loaded.annotations["lead_time_s"].tolist()[:2] == [21.4, 35.0]
    assert str(loaded.annotations["created_at"].iloc[0]) == "2026-03-02 09:14:05+00:00"
    assert set(loaded.annotations["batch"].astype(str)) == {"v1", "v2"}


def test_ids_are_categoricals_of_strings(formats_dir):
    annotations = qa.load(formats_dir / "long.csv").annotations
    for column in ("item_id", "annotator_id", "question"):
        assert isinstance(annotations[column].dtype, pd.CategoricalDtype)
    assert all(isinstance(c, str) for c in annotations["item_id"].cat.categories)


def test_tsv_parquet_and_jsonl_load_like_csv(formats_dir, tmp_path):
    table = pd.read_csv(formats_dir / "long.csv", dtype=str)
    table.to_csv(tmp_path / "long.tsv", sep="\t", index=False)
    table.to_parquet(tmp_path / "long.parquet")
    table.to_json(tmp_path / "long.jsonl", orient="records", lines=True)
    expected = labels_of(qa.load(formats_dir / "long.csv"))
    for name in ("long.tsv", "long.parquet", "long.jsonl"):
        loaded = qa.load(tmp_path / name)
        assert loaded.load_report.format == "long"
        assert labels_of(loaded) == expected, name


def test_format_is_detected_from_content_not_extension(formats_dir, tmp_path):
    target = write(tmp_path / "export.txt", (formats_dir / "long.csv").read_text())
    assert qa.load(target).load_report.format == "long"


def test_rating_question_keeps_numbers(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,question,label\n1,a,quality,4\n1,b,quality,5\n")
    loaded = qa.load(target)
    assert labels_of(loaded) == {("1", "a"): 4.0, ("1", "b"): 5.0}
    assert loaded.question("quality").kind == "ordinal"


def test_question_mixing_numbers_and_words_keeps_text(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label\n1,a,3\n1,b,unsure\n")
    assert labels_of(qa.load(target)) == {("1", "a"): "3", ("1", "b"): "unsure"}


def test_numbers_are_decided_per_question(tmp_path):
    target = write(
        tmp_path / "t.csv",
        "item_id,annotator_id,question,label\n1,a,quality,4\n1,a,intent,4\n1,b,intent,billing\n",
    )
    loaded = qa.load(target)
    assert labels_of(loaded, "quality") == {("1", "a"): 4.0}
    assert labels_of(loaded, "intent") == {("1", "a"): "4", ("1", "b"): "billing"}


def test_json_list_label_is_multilabel_and_pipe_is_not_split(tmp_path):
    target = write(tmp_path / "t.csv", 'item_id,annotator_id,label\n1,a,"[""bug"", ""billing""]"\n1,b,bug|billing\n')
    labels = labels_of(qa.load(target))
    assert labels[("1", "a")] == frozenset({"bug", "billing"})
    assert labels[("1", "b")] == frozenset({"bug|billing"})


def test_json_span_triples_become_span_tuples(tmp_path):
    lines = [
        {"item_id": 1, "annotator_id": "a", "label": [[0, 4, "PER"]], "text": "Dana wrote"},
        {"item_id": 1, "annotator_id": "b", "label": [], "text": "Dana wrote"},
    ]
    target = write(tmp_path / "t.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    loaded = qa.load(target)
    assert labels_of(loaded) == {("1", "a"): (Span(0, 4, "PER"),), ("1", "b"): ()}
    assert loaded.question("label").kind == "spans"


def test_empty_json_list_outside_span_questions_is_counted_empty(tmp_path):
    target = write(tmp_path / "t.jsonl", '{"item_id": 1, "annotator_id": "a", "label": ["x"]}\n'
                                         '{"item_id": 1, "annotator_id": "b", "label": []}\n')
    loaded = qa.load(target)
    assert len(loaded.annotations) == 1
    assert loaded.load_report.skipped_counts == {"empty": 1}


def test_column_map_reads_other_column_names(tmp_path):
    target = write(tmp_path / "t.csv", "task_id,worker,answer\n7,w1,yes\n7,w2,no\n")
    loaded = qa.load(target, column_map={"item_id": "task_id", "annotator_id": "worker", "label": "answer"})
    assert labels_of(loaded) == {("7", "w1"): "yes", ("7", "w2"): "no"}


def test_column_map_accepts_short_keys(tmp_path):
    target = write(tmp_path / "t.csv", "task_id,worker,label\n7,w1,yes\n")
    loaded = qa.load(target, format="long", column_map={"item": "task_id", "annotator": "worker"})
    assert labels_of(loaded) == {("7", "w1"): "yes"}


def test_text_column_goes_to_items(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,text\n1,a,x,hello\n1,b,y,hello\n2,a,x,bye\n")
    items = qa.load(target).items.set_index("item_id")
    assert items.loc["1", "text"] == "hello" and items.loc["2", "text"] == "bye"


def test_column_with_one_value_per_item_is_item_metadata_and_others_are_noted(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,source,note\n1,a,x,web,n1\n1,b,y,web,n2\n")
    loaded = qa.load(target)
    assert loaded.items.set_index("item_id").loc["1", "source"] == "web"
    assert "note" not in loaded.items.columns
    assert any("note" in note for note in loaded.load_report.notes)


def test_gold_column_fills_the_gold_table(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,gold\n1,a,x,x\n1,b,y,x\n2,a,x,\n")
    gold = qa.load(target).gold
    assert gold[["item_id", "label"]].values.tolist() == [["1", "x"]]


def test_is_gold_rows_are_gold_not_annotations(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,is_gold\n1,a,x,false\n1,,y,true\n")
    loaded = qa.load(target)
    assert labels_of(loaded) == {("1", "a"): "x"}
    assert loaded.gold["label"].tolist() == ["y"]


def test_two_gold_labels_for_one_item_are_an_error(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,gold\n1,a,x,x\n1,b,y,y\n")
    with pytest.raises(InputError, match="two different gold labels") as err:
        qa.load(target)
    assert err.value.record == 3 and err.value.field == "gold"


def test_mturk_style_timestamps_are_read_as_utc(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,created_at\n1,a,x,Mon Mar 02 08:11:00 PST 2026\n")
    assert str(qa.load(target).annotations["created_at"].iloc[0]) == "2026-03-02 16:11:00+00:00"


def test_annotator_kind_model_is_carried(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label,annotator_kind\n1,a,x,human\n1,m,y,model\n")
    kinds = qa.load(target).annotations.set_index("annotator_id")["annotator_kind"]
    assert kinds["m"] == "model" and kinds["a"] == "human"


def test_default_question_name_comes_from_options(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label\n1,a,x\n")
    assert qa.load(target, question="intent").question_names == ["intent"]


def test_labels_are_not_normalised_unless_asked(tmp_path):
    target = write(tmp_path / "t.csv", "item_id,annotator_id,label\n1,a,Billing \n1,b,billing\n")
    assert set(labels_of(qa.load(target)).values()) == {"Billing ", "billing"}
    normalised = qa.load(target, normalize_labels=True)
    assert set(labels_of(normalised).values()) == {"billing"}
    assert any("normalised" in note for note in normalised.load_report.notes)


def test_rte_real_export_loads_with_a_column_map(real_exports_dir):
    loaded = qa.load(real_exports_dir / "amt_snow2008_rte.csv", column_map=RTE_MAP, question="entailment")
    annotations = loaded.annotations
    assert len(annotations) == 8000
    assert annotations["item_id"].nunique() == 800
    assert annotations["annotator_id"].nunique() == 164
    assert annotations.groupby("item_id", observed=True).size().eq(10).all()
    assert set(annotations["label"]) == {0.0, 1.0}
    assert len(loaded.gold) == 800 and set(loaded.gold["label"]) == {0.0, 1.0}
    assert {"text", "hypothesis", "task"} <= set(loaded.items.columns)
    assert loaded.load_report.skipped == ()

"""Write an :class:`~qa.schema.AnnotationSet` as the canonical long table, Label Studio JSON or
Prodigy JSONL.

The long table (``aqa convert``) is the one format that holds everything; the other two are how
the suite writes its own fixtures, so the sample project exists in the shapes real tools write.

Long-table conventions (read back by ``qa.loaders.long_table``; see ``docs/sample-data.md``):

- One file: one row per item x annotator x question, with the columns of
  ``qa.schema.ANNOTATION_COLUMNS``; ``created_at`` is ISO 8601 in UTC (``2026-03-02T09:14:05Z``).
- Gold: rows with ``is_gold`` true and no ``annotator_id`` whose ``label`` is the known answer
  (the column is written only when the set has gold).
- Items: ``text`` and the metadata columns, repeated on every row of the item (the loader takes
  any column that holds one value per item as item metadata).
- A label cell (CSV, TSV, Parquet) holds a category as its text, a number as its shortest
  decimal (``4``, ``3.5``), a multi-label set as a JSON array of strings (sorted), and spans as a
  JSON array of ``[start, end, label]`` triples (sorted; ``[]`` is "no entities"). JSONL writes
  the same values as native JSON (a number, a string, an array).
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qa.errors import InputError
from qa.schema import ANNOTATION_COLUMNS, AnnotationSet, Span

LONG_TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
LABEL_STUDIO_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
LABEL_STUDIO_PROJECT_ID = 7
GOLD_AUTHOR = "qa-lead"
USER_EMAIL_DOMAIN = "support-labels.example"
PRODIGY_META_MAX_CHARS = 40


# ---------------------------------------------------------------------------------------------
# Label cells
# ---------------------------------------------------------------------------------------------


def encode_label(label: Any) -> str:
    """A canonical label as the text of one long-table cell.

    >>> encode_label("billing"), encode_label(4.0), encode_label(3.5)
    ('billing', '4', '3.5')
    >>> encode_label(frozenset({"b", "a"}))
    '["a", "b"]'
    >>> encode_label((Span(10, 14, "NAME"), Span(0, 3, "EMAIL")))
    '[[0, 3, "EMAIL"], [10, 14, "NAME"]]'
    >>> encode_label(())
    '[]'
    """
    return _as_cell(json_label(label))


def json_label(label: Any) -> Any:
    """A canonical label as a JSON value: str, int/float, sorted list of str, or sorted list of
    ``[start, end, label]``.

    >>> json_label(5.0), json_label((Span(3, 9, "PHONE"),))
    (5, [[3, 9, 'PHONE']])
    """
    if isinstance(label, tuple):
        return [[int(s[0]), int(s[1]), str(s[2])] for s in sorted(label)]
    if isinstance(label, (frozenset, set)):
        return sorted(str(v) for v in label)
    if isinstance(label, (bool, np.bool_)):
        return str(bool(label)).lower()
    if isinstance(label, (int, np.integer)):
        return int(label)
    if isinstance(label, (float, np.floating)):
        value = float(label)
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    return str(label)


def decode_label(cell: Any) -> Any:
    """Inverse of :func:`encode_label` for one cell, without knowing the question's kind: a JSON
    array of triples is spans, of strings a multi-label set, a number is a float, anything else a
    category. A loader that knows the kind should prefer it (a category spelled ``"4"``).

    >>> decode_label("billing"), decode_label("4")
    ('billing', 4.0)
    >>> decode_label('[[0, 3, "EMAIL"]]')
    (Span(start=0, end=3, label='EMAIL'),)
    >>> decode_label('["a", "b"]') == frozenset({"a", "b"})
    True
    """
    if isinstance(cell, (list, tuple)):
        return _decode_array(list(cell))
    if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool):
        return float(cell)
    if cell is None:
        return None
    text = str(cell)
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            return _decode_array(json.loads(stripped))
        except (ValueError, TypeError):
            return text
    try:
        return float(stripped)
    except ValueError:
        return text


def _decode_array(values: list) -> Any:
    if values and all(isinstance(v, list) and len(v) == 3 for v in values):
        return tuple(sorted(Span(int(s), int(e), str(lab)) for s, e, lab in values))
    if not values:
        return ()
    return frozenset(str(v) for v in values)


def _as_cell(value: Any) -> str:
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# The canonical long table
# ---------------------------------------------------------------------------------------------


def long_table_frame(aset: AnnotationSet, *, json_values: bool = False) -> pd.DataFrame:
    """The set as one long table, as written to a file: the annotation columns (labels encoded,
    timestamps as ISO text); then, when the set has gold, ``is_gold`` rows (no annotator; their
    ``label`` is the known answer); then the items' ``text`` and metadata repeated on every row of
    the item. ``json_values`` keeps labels as JSON values (for JSONL).

    >>> from qa.schema import canonical_annotations, canonical_items, canonical_gold, LoadReport
    >>> aset = AnnotationSet(canonical_annotations([{"item_id": 1, "annotator_id": "a", "label": 4.0}]),
    ...     canonical_items([{"item_id": 1, "text": "hi"}]), canonical_gold([]), pd.DataFrame(),
    ...     LoadReport("x", "csv", 1, 1))
    >>> long_table_frame(aset)[["item_id", "label", "annotator_kind", "text"]].to_dict("records")
    [{'item_id': '1', 'label': '4', 'annotator_kind': 'human', 'text': 'hi'}]
    """
    encode = json_label if json_values else encode_label
    annotations = aset.annotations
    frame = pd.DataFrame({column: annotations[column].astype(object) for column in ANNOTATION_COLUMNS})
    frame["label"] = [encode(label) for label in annotations["label"]]
    frame["created_at"] = _iso(annotations["created_at"], TIMESTAMP_FORMAT)
    frame["lead_time_s"] = annotations["lead_time_s"].astype(float)
    frame["batch"] = annotations["batch"].astype(object).where(annotations["batch"].notna(), None)
    frame["annotator_kind"] = annotations["annotator_kind"].astype(str).tolist()
    if not aset.gold.empty:
        gold = pd.DataFrame({
            "item_id": aset.gold["item_id"].astype(str).tolist(),
            "annotator_id": None,
            "question": aset.gold["question"].astype(str).tolist(),
            "label": [encode(label) for label in aset.gold["label"]],
            "is_gold": True,
        })
        frame = pd.concat([frame.assign(is_gold=False), gold], ignore_index=True)
    frame["item_id"] = frame["item_id"].astype(str)
    item_columns = [c for c in aset.items.columns if c != "item_id"]
    if item_columns:
        items = aset.items.astype({"item_id": str}).set_index("item_id")[item_columns]
        # item metadata named like a canonical column (a task's `batch`) would be read as that column
        reserved = set(ANNOTATION_COLUMNS) | {"is_gold", "gold"}
        items = items.rename(columns={c: f"item_{c}" for c in item_columns if c in reserved})
        frame = frame.join(items, on="item_id")
    return frame


def write_long_table(aset: AnnotationSet, path: str | Path) -> Path:
    """Write :func:`long_table_frame` by ``path``'s extension: .csv, .tsv, .parquet (labels as
    encoded text, so the column has one type) or .jsonl (labels as JSON values).

    Raises ``InputError`` for an extension that is not a long table.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in LONG_TABLE_SUFFIXES:
        raise InputError(
            f"cannot write a long table as {suffix or 'a file with no extension'}; "
            f"use one of {', '.join(LONG_TABLE_SUFFIXES)}",
            path=path,
        )
    return _write_frame(long_table_frame(aset, json_values=suffix == ".jsonl"), path)


def _write_frame(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False, lineterminator="\n")
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t", lineterminator="\n")
    elif suffix == ".parquet":
        text_columns = [c for c in frame.columns if c not in ("lead_time_s", "is_gold") and not pd.api.types.is_numeric_dtype(frame[c])]
        frame.astype({c: "string" for c in text_columns}).to_parquet(path, index=False)
    else:
        _write_json_lines(path, frame.to_dict("records"))
    return path


def _write_json_lines(path: Path, records: Iterable[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            clean = {key: _json_scalar(value) for key, value in record.items()}
            handle.write(json.dumps(clean, ensure_ascii=False) + "\n")


def _json_scalar(value: Any) -> Any:
    if isinstance(value, (list, dict, str)) or value is None:
        return value
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _iso(timestamps: pd.Series, fmt: str) -> list[str | None]:
    """ISO 8601 in UTC; fractions of a second only when there are some (they round-trip)."""
    values = pd.to_datetime(timestamps, utc=True)
    fractional = fmt.replace("%SZ", "%S.%fZ")
    return [None if pd.isna(t) else t.strftime(fractional if t.microsecond else fmt) for t in values]


# ---------------------------------------------------------------------------------------------
# Label Studio JSON export
# ---------------------------------------------------------------------------------------------


def label_studio_tasks(aset: AnnotationSet, *, cancelled: Iterable[tuple[str, str]] = ()) -> list[dict]:
    """The set as a Label Studio JSON export: one task per item (``data`` holds the item's text and
    metadata, and ``batch`` when the item was labelled in one batch), one annotation per human
    annotator and item with a result per question (``choices``, ``rating``, ``number``, ``labels``
    spans with ``text``, ``textarea``), gold as ``ground_truth`` annotations by ``qa-lead``, model
    rows as ``predictions`` whose ``model_version`` is the model's annotator id.

    ``completed_by`` is ``{"id": N, "email": "NAME@support-labels.example"}`` with users numbered
    from 101 in the order of their names. ``cancelled``: (item_id, annotator_id) pairs to add as
    ``was_cancelled`` annotations with no result, as Label Studio writes a skipped task.
    """
    kinds = dict(zip(aset.questions["question"].astype(str), aset.questions["kind"].astype(str), strict=False))
    users = label_studio_users(aset)
    by_item = _records_by_item(aset.annotations)
    gold_by_item = _records_by_item(aset.gold.assign(annotator_id=GOLD_AUTHOR, annotator_kind="gold"))
    cancelled_by_item: dict[str, list[str]] = {}
    for item_id, annotator_id in cancelled:
        cancelled_by_item.setdefault(str(item_id), []).append(str(annotator_id))
    counter = _Counter()
    tasks = []
    for item in _item_records(aset):
        item_id = str(item["item_id"])
        task_id = _task_id(item_id)
        text = item.get("text")
        groups = by_item.get(item_id, {})
        human, model = groups.get("human", {}), groups.get("model", {})
        human_rows = [row for rows in human.values() for row in rows]
        latest = max((r["created_at"] for r in human_rows if not _missing_time(r["created_at"])), default=None)
        annotations = [_ls_annotation(counter, task_id, users[annotator], rows, kinds, text)
                       for annotator, rows in human.items()]
        for rows in gold_by_item.get(item_id, {}).get("gold", {}).values():
            annotations.append(_ls_gold(counter, task_id, users[GOLD_AUTHOR], rows, kinds, text, latest))
        for annotator in cancelled_by_item.get(item_id, []):
            annotations.append(_ls_cancelled(counter, task_id, users[annotator], latest))
        predictions = [_ls_prediction(counter, task_id, annotator, rows, kinds, text)
                       for annotator, rows in model.items()]
        data = {key: _json_scalar(value) for key, value in item.items() if key != "item_id" and not _missing(value)}
        batches = {r["batch"] for r in human_rows + [r for rows in model.values() for r in rows]} - {None}
        if len(batches) == 1:
            data["batch"] = batches.pop()  # the guideline version the task was labelled under
        earliest = min((r["created_at"] for r in human_rows if not _missing_time(r["created_at"])), default=None)
        tasks.append({"id": task_id, "data": data, "annotations": annotations, "predictions": predictions,
                      "meta": {}, "created_at": _ls_time(earliest), "project": LABEL_STUDIO_PROJECT_ID})
    return tasks


def write_label_studio(aset: AnnotationSet, path: str | Path, *, cancelled: Iterable[tuple[str, str]] = ()) -> Path:
    """Write :func:`label_studio_tasks` as one JSON document (compact, one task per line)."""
    path = Path(path)
    tasks = label_studio_tasks(aset, cancelled=cancelled)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("[\n")
        handle.write(",\n".join(json.dumps(task, ensure_ascii=False) for task in tasks))
        handle.write("\n]\n")
    return path


class _Counter:
    """Sequential ids for annotations, results and predictions, as a Label Studio database has."""

    def __init__(self) -> None:
        self.annotation = 20000
        self.prediction = 5000
        self.result = 0

    def next_annotation(self) -> int:
        self.annotation += 1
        return self.annotation

    def next_prediction(self) -> int:
        self.prediction += 1
        return self.prediction

    def next_result(self) -> str:
        self.result += 1
        return f"r{self.result:06d}"


def label_studio_users(aset: AnnotationSet) -> dict[str, dict]:
    """annotator id -> the ``completed_by`` object the Label Studio writer gives them."""
    humans = aset.annotations.loc[aset.annotations["annotator_kind"] == "human", "annotator_id"]
    names = sorted(set(humans.astype(str))) + [GOLD_AUTHOR]
    return {name: {"id": 101 + index, "email": f"{name}@{USER_EMAIL_DOMAIN}"} for index, name in enumerate(names)}


def _records_by_item(frame: pd.DataFrame) -> dict[str, dict[str, dict[str, list[dict]]]]:
    """item -> annotator kind -> annotator -> rows (plain dicts, in table order)."""
    columns = {c: frame[c].astype(object).tolist() for c in frame.columns}
    columns.setdefault("created_at", [None] * len(frame))
    columns.setdefault("lead_time_s", [None] * len(frame))
    columns.setdefault("batch", [None] * len(frame))
    grouped: dict[str, dict[str, dict[str, list[dict]]]] = {}
    for position in range(len(frame)):
        row = {c: values[position] for c, values in columns.items()}
        row["batch"] = None if _missing(row["batch"]) else str(row["batch"])
        by_kind = grouped.setdefault(str(row["item_id"]), {})
        by_kind.setdefault(str(row["annotator_kind"]), {}).setdefault(str(row["annotator_id"]), []).append(row)
    return grouped


def _item_records(aset: AnnotationSet) -> list[dict]:
    return aset.items.to_dict("records")


def _task_id(item_id: str) -> int:
    if item_id.isdigit():
        return int(item_id)
    raise InputError(
        f"item id {item_id!r} is not an integer; Label Studio task ids are integers", field="item_id"
    )


def _ls_results(counter: _Counter, rows: list[dict], kinds: dict[str, str], text: Any, origin: str) -> list[dict]:
    results = []
    for row in rows:
        question = str(row["question"])
        for value, control in _ls_values(row["label"], kinds.get(question, "categorical"), text):
            result = {"id": counter.next_result(), "type": control, "value": value,
                      "to_name": "text", "from_name": question}
            if origin:
                result["origin"] = origin
            results.append(result)
    return results


def _ls_values(label: Any, kind: str, text: Any) -> list[tuple[dict, str]]:
    """(value, control type) pairs of one canonical label."""
    if kind == "spans":
        return [({"start": s.start, "end": s.end, "text": text[s.start:s.end] if isinstance(text, str) else "",
                  "labels": [s.label]}, "labels") for s in sorted(label)]
    if kind == "multilabel":
        return [({"choices": sorted(str(v) for v in label)}, "choices")]
    if kind == "ordinal":
        return [({"rating": json_label(label)}, "rating")]
    if kind == "interval":
        return [({"number": json_label(label)}, "number")]
    if kind == "text":
        return [({"text": [str(label)]}, "textarea")]
    return [({"choices": [str(label)]}, "choices")]


def _ls_annotation(counter: _Counter, task_id: int, user: dict, rows: list[dict], kinds: dict[str, str], text: Any) -> dict:
    times = [r["created_at"] for r in rows if not _missing_time(r["created_at"])]
    created = max(times) if times else None
    lead_times = [float(r["lead_time_s"]) for r in rows if not _missing(r["lead_time_s"])]
    return {
        "id": counter.next_annotation(),
        "completed_by": user,
        "result": _ls_results(counter, rows, kinds, text, "manual"),
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": _ls_time(created),
        "updated_at": _ls_time(created),
        "lead_time": lead_times[0] if lead_times else None,
        "task": task_id,
        "project": LABEL_STUDIO_PROJECT_ID,
    }


def _ls_gold(counter: _Counter, task_id: int, user: dict, rows: list[dict], kinds: dict[str, str], text: Any,
             after: pd.Timestamp | None) -> dict:
    created = (after + pd.Timedelta(days=1)) if after is not None else None
    return {"id": counter.next_annotation(), "completed_by": user,
            "result": _ls_results(counter, rows, kinds, text, "manual"), "was_cancelled": False,
            "ground_truth": True, "created_at": _ls_time(created), "updated_at": _ls_time(created),
            "lead_time": None, "task": task_id, "project": LABEL_STUDIO_PROJECT_ID}


def _ls_cancelled(counter: _Counter, task_id: int, user: dict, after: pd.Timestamp | None) -> dict:
    created = (after + pd.Timedelta(minutes=3)) if after is not None else None
    return {"id": counter.next_annotation(), "completed_by": user, "result": [], "was_cancelled": True,
            "ground_truth": False, "created_at": _ls_time(created), "updated_at": _ls_time(created),
            "lead_time": 2.5, "task": task_id, "project": LABEL_STUDIO_PROJECT_ID}


def _ls_prediction(counter: _Counter, task_id: int, annotator: str, rows: list[dict], kinds: dict[str, str],
                   text: Any) -> dict:
    times = [r["created_at"] for r in rows if not _missing_time(r["created_at"])]
    return {"id": counter.next_prediction(), "model_version": annotator,
            "created_at": _ls_time(max(times) if times else None),
            "result": _ls_results(counter, rows, kinds, text, ""), "task": task_id,
            "project": LABEL_STUDIO_PROJECT_ID}


def _missing_time(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _ls_time(timestamp: Any) -> str | None:
    if _missing_time(timestamp):
        return None
    return pd.Timestamp(timestamp).tz_convert("UTC").strftime(LABEL_STUDIO_TIMESTAMP_FORMAT)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


# ---------------------------------------------------------------------------------------------
# Prodigy JSONL (db-out)
# ---------------------------------------------------------------------------------------------


def prodigy_records(aset: AnnotationSet, question: str, *, dataset: str | None = None,
                    ignored: Iterable[tuple[str, str]] = ()) -> list[dict]:
    """One question of the set as Prodigy ``db-out`` lines: one line per human annotator per
    example. Categories become a ``choice`` task (``options`` and ``accept``; a rating is a choice
    of integer option ids 1..5, Prodigy having no rating interface), spans a ``ner_manual`` task.
    ``_session_id`` and ``_annotator_id`` are ``DATASET-ANNOTATOR`` as Prodigy writes them for
    named sessions; ``_input_hash`` is the item id when it is an integer (Prodigy keeps a hash the
    source task already has), else a stable 32-bit hash of it. ``meta`` carries the item's short
    metadata and the row's ``batch``; longer item fields (a model reply) go on the rating task only.

    ``ignored``: (item_id, annotator_id) pairs to add as ``answer: ignore`` lines.
    """
    spec = aset.question(question)
    dataset = dataset or question
    items = {str(r["item_id"]): r for r in _item_records(aset)}
    options = _prodigy_options(spec.categories, spec.kind)
    by_item = _records_by_item(aset.for_question(question, humans_only=True))
    records = []
    for item_id, groups in by_item.items():
        item = items.get(item_id, {"item_id": item_id})
        for annotator, rows in groups.get("human", {}).items():
            for row in rows:
                record = _prodigy_base(item, dataset, annotator, spec.kind, options, row["created_at"], row["batch"])
                record.update(_prodigy_answer(row["label"], spec.kind))
                records.append(record)
    for item_id, annotator_id in ignored:
        item_rows = [r for rows in by_item.get(str(item_id), {}).get("human", {}).values() for r in rows]
        when = max((r["created_at"] for r in item_rows), default=None)
        batch = item_rows[0]["batch"] if item_rows else None
        record = _prodigy_base(items[str(item_id)], dataset, str(annotator_id), spec.kind, options, when, batch)
        record.update({"answer": "ignore", **({"accept": []} if options else {"spans": []})})
        records.append(record)
    return records


def write_prodigy(aset: AnnotationSet, directory: str | Path, *, ignored: Iterable[tuple[str, str]] = ()) -> list[Path]:
    """Write one ``QUESTION.jsonl`` per question (Prodigy keeps one dataset per task) into
    ``directory``. ``ignored`` pairs are added to every question's dataset."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ignored = list(ignored)
    written = []
    for question in aset.question_names:
        path = directory / f"{question}.jsonl"
        _write_json_lines_raw(path, prodigy_records(aset, question, ignored=ignored))
        written.append(path)
    return written


def _write_json_lines_raw(path: Path, records: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _prodigy_options(categories: tuple, kind: str) -> list[dict]:
    if kind == "spans":
        return []
    if kind in ("ordinal", "interval"):
        return [{"id": json_label(c), "text": str(json_label(c))} for c in categories]
    return [{"id": str(c), "text": str(c).replace("_", " ")} for c in categories]


def _prodigy_base(item: dict, dataset: str, annotator: str, kind: str, options: list[dict], when: Any,
                  batch: Any) -> dict:
    text = item.get("text")
    text = "" if _missing(text) else str(text)
    item_id = str(item["item_id"])
    input_hash = int(item_id) if item_id.lstrip("-").isdigit() else stable_hash(item_id)
    # long fields (a model reply) go with the rating task only; short ones are shown as meta
    extra = {key: _json_scalar(value) for key, value in item.items() if key not in ("item_id", "text") and not _missing(value)}
    long_fields = {key: value for key, value in extra.items() if isinstance(value, str) and len(value) > PRODIGY_META_MAX_CHARS}
    meta = {k: v for k, v in extra.items() if k not in long_fields}
    if batch is not None:
        meta["batch"] = batch
    record: dict[str, Any] = {"text": text, "meta": meta, "_input_hash": input_hash}
    if kind in ("ordinal", "interval"):
        record.update(long_fields)
    if options:
        record["options"] = options
        record["_task_hash"] = stable_hash(f"{input_hash}\n{dataset}\n{json.dumps(options)}")
        record["_view_id"] = "choice"
        record["config"] = {"choice_style": "single"}
    else:
        record["_task_hash"] = stable_hash(f"{input_hash}\n{dataset}")
        record["_view_id"] = "ner_manual"
    session = f"{dataset}-{annotator}"
    record.update({"_session_id": session, "_annotator_id": session})
    record["_timestamp"] = None if _missing_time(when) else int(pd.Timestamp(when).timestamp())
    return record


def _prodigy_answer(label: Any, kind: str) -> dict:
    if kind == "spans":
        return {"spans": [{"start": s.start, "end": s.end, "label": s.label} for s in sorted(label)], "answer": "accept"}
    if kind == "multilabel":
        return {"accept": sorted(str(v) for v in label), "answer": "accept"}
    return {"accept": [json_label(label)], "answer": "accept"}


def stable_hash(text: str) -> int:
    """A signed 32-bit hash that does not change between runs (Prodigy's hashes are signed ints).

    >>> stable_hash("1001\\nHello")
    1362878912
    """
    value = zlib.crc32(text.encode("utf-8"))
    return value - 2**32 if value >= 2**31 else value

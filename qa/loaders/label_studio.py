"""Label Studio JSON export (Export -> JSON): a list of tasks with ``annotations[].result[]``.

What maps to what (see docs/formats-tools.md for the reasoning):

- task ``id`` -> ``item_id``; task ``data`` -> the items table (``text`` and scalar metadata);
  ``data.batch`` or ``meta.batch`` -> ``batch``.
- each control (``from_name``) -> one question. ``choices`` -> a category (``multilabel``
  frozenset when any answer of that control picks several); ``labels`` -> a tuple of ``Span``
  (all regions of one annotation and one control form one label; a submitted annotation with no
  region for a span control is the empty tuple, "no entities"); ``rating`` -> float (ordinal,
  categories 1..max seen); ``number`` -> float (interval); ``taxonomy`` -> ``"a/b/c"`` paths
  (a frozenset when several are picked); ``textarea`` -> text (kind ``text``). Other result types
  (``rectanglelabels``, ``relation``, ...) are skipped as ``not_a_label``.
- ``completed_by`` (an int or ``{"id", "email"}``) -> ``annotator_id`` = the numeric user id, the one
  part present in both forms, so ids stay stable across exports.
- ``was_cancelled`` -> skipped (``cancelled``); ``drafts`` -> skipped (``draft``);
  ``ground_truth: true`` -> gold only (not also an annotation); ``predictions`` ->
  ``annotator_kind = "model"`` with ``annotator_id = model_version``.
- ``created_at`` and ``lead_time`` (seconds) are carried.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from qa.errors import InputError
from qa.loaders._build import AnnotationSetBuilder, LoadOptions
from qa.loaders._columns import LabelColumns
from qa.loaders._jsonio import read_json
from qa.schema import AnnotationSet, Span

NAME = "label_studio"

LABEL_TYPES = ("choices", "labels", "rating", "number", "taxonomy", "textarea")
TAXONOMY_SEPARATOR = "/"
MODEL_ANNOTATOR = "model"  # annotator id of a prediction without a model_version

_TASK_LIST = re.compile(r'^\s*\[\s*\{')
_DATA_KEY = re.compile(r'"data"\s*:')
_ANNOTATIONS_KEY = re.compile(r'"(annotations|predictions)"\s*:')
_JSON_MIN_KEYS = re.compile(r'"annotation_id"\s*:|"annotator"\s*:')


def sniff(path: Path, head: str) -> bool:
    """A JSON array of tasks with ``data`` and ``annotations`` / ``predictions`` (or Label
    Studio's JSON-MIN export, which :func:`load` then refuses with a clear message)."""
    if path.is_dir() or not _TASK_LIST.match(head):
        return False
    if _DATA_KEY.search(head) and _ANNOTATIONS_KEY.search(head):
        return True
    return bool(_JSON_MIN_KEYS.search(head)) and not _DATA_KEY.search(head)


def load(path: Path, options: LoadOptions) -> AnnotationSet:
    """Read a Label Studio JSON export into an :class:`AnnotationSet`.

    Raises ``InputError`` naming the task (and annotation) and field for anything malformed.
    """
    tasks = read_json(path)
    _check_task_list(tasks, path)
    controls, text_keys = _survey_controls(tasks, path)
    reader = _TaskReader(path, options, controls, text_keys)
    for task in tasks:
        reader.read_task(task)
    return reader.finish(len(tasks))


# -- structure checks ----------------------------------------------------------------------------


def _check_task_list(tasks: Any, path: Path) -> None:
    if isinstance(tasks, dict) and "data" in tasks:
        raise InputError("expected a list of tasks (Label Studio's JSON export), found one task object", path=path)
    if not isinstance(tasks, list):
        raise InputError(f"expected a list of tasks (Label Studio's JSON export), found a JSON {type(tasks).__name__}", path=path)
    if not tasks:
        raise InputError("the export holds no tasks (an empty list)", path=path)
    first = tasks[0]
    if isinstance(first, dict) and "data" not in first and ("annotator" in first or "annotation_id" in first):
        raise InputError(
            "this is Label Studio's JSON-MIN export, which drops the result types, span offsets and "
            "cancelled flags; export the project as 'JSON' instead",
            path=path,
        )
    for position, task in enumerate(tasks):
        if not isinstance(task, dict):
            raise InputError(f"expected a task object, found {type(task).__name__}", path=path, record=f"task #{position + 1}")
        if "data" not in task:
            raise InputError("the task has no 'data' (is this a Label Studio JSON export?)", path=path, record=_task_name(task, position), field="data")
        if "annotations" not in task and "predictions" not in task:
            raise InputError("the task has neither 'annotations' nor 'predictions'", path=path, record=_task_name(task, position), field="annotations")
        if "id" not in task:
            raise InputError("the task has no 'id'", path=path, record=f"task #{position + 1}", field="id")
        if isinstance(task["id"], bool) or not isinstance(task["id"], (int, str)) or str(task["id"]).strip() == "":
            raise InputError(f"expected the task id (an integer), found {task['id']!r}", path=path,
                             record=f"task #{position + 1}", field="id")


def _task_name(task: dict, position: int) -> str:
    return f"task {task['id']}" if "id" in task else f"task #{position + 1}"


def _list_field(container: dict, key: str, path: Path, record: str) -> list:
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"expected a list, found {type(value).__name__}", path=path, record=record, field=key)
    return value


# -- first pass: what each control is ---------------------------------------------------------------


@dataclass
class _Control:
    """What the export shows of one control tag (``from_name``): its result type and whether any
    answer picks several options (Label Studio's export does not carry the labeling config)."""

    type: str
    multiple: bool = False
    max_rating: float = 0.0


def _survey_controls(tasks: list, path: Path) -> tuple[dict[str, _Control], tuple[str, ...]]:
    """Every control seen, and the ``to_name`` objects the span controls label (the data keys
    that hold the text, usually just ``text``)."""
    controls: dict[str, _Control] = {}
    text_keys: dict[str, None] = {}
    for task in tasks:
        record = f"task {task['id']}"
        for key in ("annotations", "predictions"):
            for annotation in _list_field(task, key, path, record):
                if not isinstance(annotation, dict):
                    raise InputError(f"expected an object, found {type(annotation).__name__}", path=path, record=record, field=key)
                for result in _list_field(annotation, "result", path, f"{record}, {key[:-1]} {annotation.get('id')}"):
                    _survey_result(result, controls, text_keys)
    return controls, tuple(text_keys) + ("text",)
    return controls


def _survey_result(result: Any, controls: dict[str, _Control], text_keys: dict[str, None]) -> None:
    if not isinstance(result, dict):
        return
    kind = result.get("type")
    name = result.get("from_name")
    if kind not in LABEL_TYPES or not isinstance(name, str):
        return
    control = controls.get(name)
    if control is None:
        control = controls[name] = _Control(kind)
    if kind == "labels" and isinstance(result.get("to_name"), str):
        text_keys[result["to_name"]] = None
    value = result.get("value")
    if not isinstance(value, dict):
        return
    if kind in ("choices", "taxonomy") and isinstance(value.get(kind), list) and len(value[kind]) > 1:
        control.multiple = True
    if kind == "rating" and isinstance(value.get("rating"), (int, float)):
        control.max_rating = max(control.max_rating, float(value["rating"]))


# -- second pass: labels ----------------------------------------------------------------------------


@dataclass
class _TaskReader:
    path: Path
    options: LoadOptions
    controls: dict[str, _Control]
    text_keys: tuple[str, ...]
    builder: AnnotationSetBuilder = field(init=False)
    _labels: LabelColumns = field(default_factory=LabelColumns)
    _items: list = field(default_factory=list)
    _gold: dict = field(default_factory=dict)
    _ground_truth_count: int = 0
    _reviews: Counter = field(default_factory=Counter)
    _skipped_types: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.builder = AnnotationSetBuilder(self.path, NAME, self.options)
        self._span_controls = [name for name, c in self.controls.items() if c.type == "labels"]

    def read_task(self, task: dict) -> None:
        task_id = task["id"]
        record = f"task {task_id}"
        data = task["data"]
        if not isinstance(data, dict):
            raise InputError(f"expected an object, found {type(data).__name__}", path=self.path, record=record, field="data")
        text = self._add_item(task_id, data)
        batch = _batch_of(task)
        for draft in _list_field(task, "drafts", self.path, record):
            draft_id = draft.get("id") if isinstance(draft, dict) else None
            self.builder.skip("draft", f"{record}, draft {draft_id}", "an unsubmitted draft")
        for annotation in _list_field(task, "annotations", self.path, record):
            self._read_annotation(task_id, annotation, text, batch)
        for prediction in _list_field(task, "predictions", self.path, record):
            self._read_prediction(task_id, prediction, text, batch)

    # -- items
    def _add_item(self, task_id: Any, data: dict) -> str | None:
        text = next((data[key] for key in self.text_keys if isinstance(data.get(key), str)), None)
        item = {(f"data_{key}" if key == "item_id" else key): value for key, value in data.items()
                if isinstance(value, (str, int, float, bool))}
        item["item_id"] = str(task_id)
        item["text"] = text
        self._items.append(item)
        return text

    # -- annotations
    def _read_annotation(self, task_id: Any, annotation: dict, text: str | None, batch: Any) -> None:
        record = f"task {task_id}, annotation {annotation.get('id')}"
        if annotation.get("was_cancelled"):
            self.builder.skip("cancelled", record, "was_cancelled")
            return
        for review in _list_field(annotation, "reviews", self.path, record):
            if isinstance(review, dict) and "accepted" in review:
                self._reviews["accepted" if review["accepted"] else "rejected"] += 1
        annotator = _annotator_of(annotation, self.path, record)
        labels = self._labels_of(annotation, text, record, fill_spans=True)
        if annotation.get("ground_truth"):
            self._ground_truth_count += 1
            self._keep_gold(task_id, labels, annotation.get("created_at"))
            return
        if not labels:
            self.builder.skip("empty", record, "no result of a type read as a label")
            return
        item_id, created_at, lead_time_s = str(task_id), annotation.get("created_at"), annotation.get("lead_time")
        for question, label in labels.items():
            self._labels.add(record, item_id, annotator, question, label, created_at, lead_time_s, batch)

    def _read_prediction(self, task_id: Any, prediction: Any, text: str | None, batch: Any) -> None:
        if not isinstance(prediction, dict):
            raise InputError("expected an object", path=self.path, record=f"task {task_id}", field="predictions")
        record = f"task {task_id}, prediction {prediction.get('id')}"
        model = prediction.get("model_version") or MODEL_ANNOTATOR
        labels = self._labels_of(prediction, text, record, fill_spans=False)
        for question, label in labels.items():
            self._labels.add(record, str(task_id), str(model), question, label, prediction.get("created_at"), None, batch, "model")

    def _labels_of(self, annotation: dict, text: str | None, record: str, *, fill_spans: bool) -> dict[str, Any]:
        """question -> label for one annotation (or prediction)."""
        spans: dict[str, list[Span]] = {}
        texts: dict[str, list[str]] = {}
        labels: dict[str, Any] = {}
        skipped: set[tuple[str, str]] = set()
        for position, result in enumerate(_list_field(annotation, "result", self.path, record)):
            where = f"result[{position}]"
            if not isinstance(result, dict):
                raise InputError(f"expected an object, found {type(result).__name__}", path=self.path, record=record, field=where)
            kind = result.get("type")
            name = result.get("from_name")
            value = result.get("value")
            if kind not in LABEL_TYPES or not isinstance(name, str) or (kind != "labels" and _is_region_value(value)):
                skipped.add((str(kind), str(name) if name is not None else ""))
                self._skipped_types[str(kind)] += 1
                continue
            if not isinstance(value, dict):
                raise InputError("expected an object", path=self.path, record=record, field=f"{where}.value")
            if kind == "labels":
                spans.setdefault(name, []).extend(_spans_of(value, text, self.path, record, f"{where}.value"))
            elif kind == "textarea":
                texts.setdefault(name, []).extend(_texts_of(value, self.path, record, f"{where}.value.text"))
            else:
                if name in labels:  # one answer per control: a second result replaces the first, counted
                    self.builder.skip("duplicate", record, f"an earlier {kind} result of {name!r} in the same annotation")
                labels[name] = _label_of(kind, value, self.controls[name], self.path, record, f"{where}.value.{kind}")
        for kind, name in sorted(skipped):
            self.builder.skip("not_a_label", record, f"{kind} result" + (f" of {name!r}" if name else ""))
        for name, found in spans.items():
            labels[name] = tuple(sorted(set(found)))
        if fill_spans and (spans or labels or texts or not skipped):
            for name in self._span_controls:
                labels.setdefault(name, ())
        for name, parts in texts.items():
            labels[name] = "\n".join(parts)
        return labels

    def _keep_gold(self, task_id: Any, labels: dict[str, Any], created_at: Any) -> None:
        """The latest ground-truth annotation of a task answers each of its questions."""
        for question, label in labels.items():
            key = (str(task_id), question)
            known = self._gold.get(key)
            if known is None or str(created_at or "") >= known[0]:
                self._gold[key] = (str(created_at or ""), label)

    # -- finishing
    def finish(self, tasks_read: int) -> AnnotationSet:
        builder = self.builder
        builder.records_read = tasks_read
        for (item_id, question), (_, label) in self._gold.items():
            builder.add_gold(item_id=item_id, question=question, label=label)
        self._declare_questions()
        self._write_notes()
        if not self._labels and not self._gold:
            raise InputError(self._nothing_to_read_message(tasks_read), path=self.path)
        self._labels.flush(builder)
        builder.add_items(pd.DataFrame(self._items))
        return builder.build()

    def _declare_questions(self) -> None:
        for name, control in self.controls.items():
            if control.type == "choices" or control.type == "taxonomy":
                self.builder.declare_question(name, "multilabel" if control.multiple else "categorical")
            elif control.type == "labels":
                self.builder.declare_question(name, "spans")
            elif control.type == "rating":
                top = int(control.max_rating)
                self.builder.declare_question(name, "ordinal", tuple(float(v) for v in range(1, top + 1)))
            elif control.type == "number":
                self.builder.declare_question(name, "interval")
            elif control.type == "textarea":
                self.builder.declare_question(name, "text")

    def _write_notes(self) -> None:
        if self._ground_truth_count:
            self.builder.note(
                f"{self._ground_truth_count} ground_truth annotations became gold labels and are not "
                "counted as annotations"
            )
        if self._reviews:
            self.builder.note(
                f"reviews: {self._reviews['accepted']} accepted, {self._reviews['rejected']} rejected; "
                "reviewed annotations are kept as their annotator's answer"
            )

    def _nothing_to_read_message(self, tasks_read: int) -> str:
        if self._skipped_types:
            kinds = ", ".join(f"{n} {kind}" for kind, n in self._skipped_types.most_common())
            return (
                f"no text annotations to check in {tasks_read} tasks: its {kinds} results (regions of "
                "images or other non-text objects, relations) are not labels this suite reads; it reads "
                f"{', '.join(LABEL_TYPES)}"
            )
        return f"the export's {tasks_read} tasks hold no submitted annotations"


# -- one result --------------------------------------------------------------------------------------


def _is_region_value(value: Any) -> bool:
    """A per-region classification (choices/textarea/... attached to a span or a box)."""
    return isinstance(value, dict) and ("start" in value or "x" in value or "startOffset" in value or "points" in value)


def _label_of(kind: str, value: dict, control: _Control, path: Path, record: str, where: str) -> Any:
    if kind == "choices":
        choices = _string_list(value.get("choices"), path, record, where)
        return _one_or_set(choices, control.multiple)
    if kind == "taxonomy":
        paths = value.get("taxonomy")
        if not isinstance(paths, list) or not all(isinstance(p, list) for p in paths):
            raise InputError("expected a list of paths (lists of strings)", path=path, record=record, field=where)
        return _one_or_set([TAXONOMY_SEPARATOR.join(str(step) for step in p) for p in paths], control.multiple)
    number = value.get(kind)
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise InputError(f"expected a number, found {number!r}", path=path, record=record, field=where)
    return float(number)


def _one_or_set(values: list[str], multiple: bool) -> Any:
    if multiple:
        return frozenset(values)
    return values[0] if values else None


def _string_list(value: Any, path: Path, record: str, where: str) -> list[str]:
    if not isinstance(value, list):
        raise InputError(f"expected a list of strings, found {type(value).__name__}", path=path, record=record, field=where)
    return [str(v) for v in value]


def _texts_of(value: dict, path: Path, record: str, where: str) -> list[str]:
    text = value.get("text")
    if isinstance(text, str):
        return [text]
    return _string_list(text, path, record, where)


def _spans_of(value: dict, text: str | None, path: Path, record: str, where: str) -> list[Span]:
    start, end = value.get("start"), value.get("end")
    for key, offset in (("start", start), ("end", end)):
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise InputError(f"expected a character offset (an integer), found {offset!r}", path=path, record=record, field=f"{where}.{key}")
    if start < 0 or end <= start:
        raise InputError(f"span [{start}, {end}) is empty or reversed", path=path, record=record, field=where)
    if text is not None and end > len(text):
        raise InputError(
            f"span [{start}, {end}) ends past the task text's {len(text)} characters", path=path, record=record, field=f"{where}.end"
        )
    tags = _string_list(value.get("labels"), path, record, f"{where}.labels")
    return [Span(start, end, tag) for tag in tags]


# -- one task ------------------------------------------------------------------------------------------


def _batch_of(task: dict) -> Any:
    data, meta = task.get("data") or {}, task.get("meta") or {}
    batch = data.get("batch") if isinstance(data, dict) else None
    if batch is None and isinstance(meta, dict):
        batch = meta.get("batch")
    return batch


def _annotator_of(annotation: dict, path: Path, record: str) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("id", who.get("email"))
    if who is None or isinstance(who, (dict, list, bool)):
        raise InputError("expected the annotator's user id (an integer or {\"id\": ...})", path=path, record=record, field="completed_by")
    return str(who)

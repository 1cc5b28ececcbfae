"""Doccano JSONL exports: text classification and sequence labelling, one file per user.

Doccano (v1.6+) exports a project whose *collaborative annotation* is off as a zip of one
``<username>.jsonl`` per member (``backend/data_export/celery_tasks.py``); each line is one
example (``id``, ``text``, ``meta``, and the user's labels). Point ``qa.load`` at one such file or
at the unzipped directory. What maps to what:

- annotator: the file name (``amir.jsonl`` -> ``amir``); a name that starts with ``doccano-`` /
  ``doccano_`` is cut to its last ``-``/``_`` part (``doccano-seq-amir.jsonl`` -> ``amir``);
- item: the example ``id`` (else a hash of its text); ``text`` and the keys of ``meta`` go to the
  items table;
- classification: ``label`` (or ``cats``) is a list of category names. When any example of the
  export holds more than one label the project is multi-label and every answer is a
  ``frozenset``; otherwise each answer is its one category (question ``label``, or
  ``LoadOptions.question``);
- sequence labelling: ``label`` / ``labels`` as ``[[start, end, tag], ...]`` (older exports) or
  ``entities`` with ``start_offset``/``end_offset``/``label`` (newer), as a tuple of ``Span``
  (question ``entities``, or ``LoadOptions.question`` when the export has no classification);
- doccano 1.x JSONL: ``annotations`` as ``[{"label": ..., "user": 3, "start_offset": ...}]``:
  the annotator is that ``user`` (an id), whatever the file name;
- ``all.jsonl`` (collaborative export): the users' labels are merged into one list with no user,
  so they load as one annotator, ``all``, and the report says agreement cannot be measured.

Skipped and counted: an example with an empty label list (``empty``). Doccano writes every
example into every user's file, labelled or not, so ``[]`` cannot be told from "not annotated";
in a sequence-labelling project it is therefore *not* read as "no entities".
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from qa.errors import InputError
from qa.loaders._build import AnnotationSetBuilder, LoadOptions
from qa.loaders._jsonio import iter_json_lines
from qa.schema import DEFAULT_QUESTION, AnnotationSet, Span

NAME = "doccano"

SPAN_QUESTION = "entities"
COLLABORATIVE_USER = "all"
EXPORT_SUFFIXES = (".jsonl", ".json")
LABEL_KEYS = ("label", "labels", "cats", "entities", "annotations")
# keys that mark other tools' JSON lines (Prodigy, long tables, Label Studio, Argilla)
FOREIGN_KEYS = ("_input_hash", "_task_hash", "answer", "item_id", "annotator_id", "result", "responses", "data")


def sniff(path: Path, head: str) -> bool:
    """A JSON line with ``text`` and a doccano label key, and none of other tools' keys."""
    line = next((line for line in head.lstrip("\ufeff").splitlines() if line.strip()), "")
    try:
        record = json.loads(line)
    except ValueError:
        return False
    if not isinstance(record, dict) or "text" not in record:
        return False
    return any(k in record for k in LABEL_KEYS) and not any(k in record for k in FOREIGN_KEYS)


def load(path: Path, options: LoadOptions) -> AnnotationSet:
    """Load a doccano per-user JSONL file or a directory of them (see the module docstring).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "amir.jsonl").write_text('{"id": 1, "text": "refund me", "label": ["billing"]}\\n')
    >>> _ = (folder / "bea.jsonl").write_text('{"id": 1, "text": "refund me", "label": ["bug"]}\\n')
    >>> loaded = load(folder, LoadOptions())
    >>> loaded.annotations[["item_id", "annotator_id", "label"]].values.tolist()
    [['1', 'amir', 'billing'], ['1', 'bea', 'bug']]
    """
    files = export_files(path)
    in_directory = path.is_dir()
    records = [(file, line, record) for file in files for line, record in _records(file)]
    if not records:
        raise InputError("the export holds no examples", path=path)
    builder = AnnotationSetBuilder(path, NAME, options)
    builder.records_read = len(records)
    multilabel = any(len(_categories(record, file, line)) > 1 for file, line, record in records)
    questions = _question_names(records, options)
    if multilabel:
        builder.declare_question(questions["categories"], "multilabel")
    for file, line, record in records:
        name = f"{file.name}:{line}" if in_directory else line
        _add_record(builder, file, line, name, record, multilabel, questions)
    if any(file.stem == COLLABORATIVE_USER for file in files):
        builder.note("all.jsonl is a collaborative export: every user's labels are merged under annotator 'all', "
                     "so agreement between annotators cannot be measured from it")
    return builder.build()


def export_files(path: Path) -> list[Path]:
    """The JSONL files of an export: the file itself, or a directory's ``*.jsonl`` / ``*.json``."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in EXPORT_SUFFIXES and not p.name.startswith("."))
    if not files:
        raise InputError("the directory holds no .jsonl files", path=path)
    return files


def user_of(file: Path) -> str:
    """The user a per-user export file belongs to.

    >>> user_of(Path("amir.jsonl")), user_of(Path("doccano-seq-amir.jsonl"))
    ('amir', 'amir')
    """
    stem = file.stem
    if stem.lower().startswith(("doccano-", "doccano_")):
        return stem.replace("_", "-").rsplit("-", 1)[-1]
    return stem


def _records(file: Path):
    """``(line, example)`` of a doccano JSONL file; another tool's file is refused by name."""
    for number, record in iter_json_lines(file):
        foreign = [key for key in FOREIGN_KEYS if key in record]
        if foreign:
            raise InputError(
                f"this line has {foreign[0]!r}, a key of another tool's export, not of a doccano example "
                "(is another tool's file in the folder?)",
                path=file, record=f"line {number}", field=foreign[0],
            )
        yield number, record


def _question_names(records: list, options: LoadOptions) -> dict[str, str]:
    has_categories = any(_categories(r, f, n) for f, n, r in records)
    has_spans = any(_spans(r, f, n) for f, n, r in records)
    categories = options.question or DEFAULT_QUESTION
    spans = options.question if options.question and not has_categories else SPAN_QUESTION
    if not has_spans and not has_categories:
        spans = categories
    return {"categories": categories, "spans": spans}


def _add_record(
    builder: AnnotationSetBuilder, file: Path, line: int, name: Any, record: dict,
    multilabel: bool, questions: dict[str, str],
) -> None:
    item_id = _item_id(record, file, line)
    text = record.get("text")
    if not isinstance(text, str):
        raise InputError(f"'text' is {type(text).__name__}, expected a string", path=file, record=line, field="text")
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    builder.add_item(item_id, text=text, **{k: v for k, v in meta.items() if k not in ("item_id", "text")})
    if isinstance(record.get("annotations"), list):
        _add_user_annotations(builder, file, line, name, record, item_id, multilabel, questions)
        return
    user = user_of(file)
    categories, spans = _categories(record, file, line), _spans(record, file, line)
    if categories:
        builder.add(record=name, item_id=item_id, annotator_id=user, question=questions["categories"],
                    label=frozenset(categories) if multilabel else categories[0])
    if spans:
        builder.add(record=name, item_id=item_id, annotator_id=user, question=questions["spans"], label=spans)
    if not categories and not spans:
        builder.skip("empty", name, f"annotator {user!r}: no label")


def _add_user_annotations(
    builder: AnnotationSetBuilder, file: Path, line: int, name: Any, record: dict, item_id: str,
    multilabel: bool, questions: dict[str, str],
) -> None:
    """doccano 1.x: ``annotations`` with a ``user`` each."""
    by_user: dict[str, dict[str, list]] = {}
    for annotation in record["annotations"]:
        if not isinstance(annotation, dict) or "label" not in annotation or "user" not in annotation:
            raise InputError("each annotation needs 'label' and 'user'", path=file, record=line, field="annotations")
        entry = by_user.setdefault(str(annotation["user"]), {"categories": [], "spans": []})
        if "start_offset" in annotation:
            entry["spans"].append(_span([annotation.get("start_offset"), annotation.get("end_offset"), annotation["label"]], file, line, "annotations"))
        else:
            entry["categories"].append(str(annotation["label"]))
    if not by_user:
        builder.skip("empty", name, "no annotations")
    for user, entry in by_user.items():
        if entry["categories"]:
            label = frozenset(entry["categories"]) if multilabel or len(entry["categories"]) > 1 else entry["categories"][0]
            builder.add(record=name, item_id=item_id, annotator_id=user, question=questions["categories"], label=label)
        if entry["spans"]:
            builder.add(record=name, item_id=item_id, annotator_id=user, question=questions["spans"], label=tuple(sorted(entry["spans"])))


def _item_id(record: dict, file: Path, line: int) -> str:
    if "id" in record and record["id"] is not None:
        if isinstance(record["id"], (dict, list)):
            raise InputError("'id' must be a number or a string", path=file, record=line, field="id")
        return str(record["id"])
    text = record.get("text")
    if not isinstance(text, str):
        raise InputError("an example needs an 'id' or a 'text'", path=file, record=line, field="id")
    return "text:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _categories(record: dict, file: Path, line: int) -> list[str]:
    """Category names of a classification example (``label`` as a list of names, or ``cats``)."""
    if isinstance(record.get("annotations"), list):
        return _most_categories_of_one_user(record["annotations"])
    labels = record.get("label", record.get("cats"))
    if labels is None or (isinstance(labels, list) and labels and all(isinstance(v, list) for v in labels)):
        return []
    if isinstance(labels, str):
        return [labels]
    if not isinstance(labels, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in labels):
        raise InputError(
            f"expected a list of category names or of [start, end, label], found {json.dumps(labels)[:60]}",
            path=file, record=line, field="label",
        )
    return [str(v) for v in dict.fromkeys(labels)]


def _most_categories_of_one_user(annotations: list) -> list[str]:
    """The longest category list any one user gave (decides whether the project is multi-label)."""
    by_user: dict[str, list[str]] = {}
    for annotation in annotations:
        if isinstance(annotation, dict) and "start_offset" not in annotation and "label" in annotation:
            by_user.setdefault(str(annotation.get("user")), []).append(str(annotation["label"]))
    return max(by_user.values(), key=len, default=[])


def _spans(record: dict, file: Path, line: int) -> tuple[Span, ...]:
    if "entities" in record:
        entities = record["entities"]
        if not isinstance(entities, list):
            raise InputError("'entities' must be a list", path=file, record=line, field="entities")
        return tuple(sorted(
            _span([e.get("start_offset"), e.get("end_offset"), e.get("label")] if isinstance(e, dict) else e, file, line, "entities")
            for e in entities
        ))
    for key in ("labels", "label"):
        value = record.get(key)
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            return tuple(sorted(_span(v, file, line, key) for v in value))
    return ()


def _span(value: Any, file: Path, line: int, field: str) -> Span:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise InputError(f"span {json.dumps(value)[:60]} is not [start, end, label]", path=file, record=line, field=field)
    start, end, label = value
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise InputError(f"span {json.dumps(value)[:60]} needs integer start and end offsets", path=file, record=line, field=field)
    if label is None or str(label) == "":
        raise InputError(f"span {json.dumps(value)[:60]} has no label", path=file, record=line, field=field)
    return Span(start, end, str(label))

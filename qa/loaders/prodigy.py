"""Prodigy JSONL (``prodigy db-out``): one line per annotator per example; one file, or a
directory of per-annotator files.

What maps to what (see docs/formats-tools.md):

- ``_input_hash`` -> ``item_id`` (``_task_hash`` for binary tasks that present spans, where the
  span is what is judged); ``text`` -> the items table; ``_timestamp`` -> ``created_at``.
- ``_annotator_id`` (else ``_session_id``, else the file name) -> ``annotator_id``; the
  ``"<dataset>-"`` prefix that Prodigy puts on named sessions is removed when every annotator of
  the export shares it (and a note says so).
- choice tasks (``options``): ``accept`` lists the chosen option ids -> a category, or a frozenset
  when the question is multi-choice (``config.choice_style == "multiple"`` or any answer with
  several ids). Options whose ids are all JSON numbers (1..5) form a rating: an ordinal question
  with numeric labels. ``answer: reject`` marks the selected options as wrong without giving the right
  one, so it is skipped as ``rejected``.
- manual span tasks (``ner_manual``, ``spans_manual``): ``spans`` -> a tuple of ``Span``; an
  accepted example without spans is the empty tuple ("no entities"); ``reject`` -> ``rejected``.
- binary tasks (``classification``, ``ner``, ...): the question is the presented ``label`` and the
  label is ``"accept"`` or ``"reject"``.
- ``answer: ignore`` -> skipped as ``ignored``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from qa.errors import InputError
from qa.loaders._build import AnnotationSetBuilder, LoadOptions
from qa.loaders._columns import LabelColumns
from qa.loaders._jsonio import export_files, iter_json_lines
from qa.schema import DEFAULT_QUESTION, AnnotationSet, Span

NAME = "prodigy"

ANSWERS = ("accept", "reject", "ignore")
BINARY_ANSWERS = ("accept", "reject")
# Interfaces where the annotator says yes/no to what is shown (https://prodi.gy/docs/api-interfaces).
BINARY_VIEWS = frozenset({"classification", "ner", "spans", "text", "html", "image", "pos", "dep", "relations_binary"})
SPANS_QUESTION = "spans"  # question name of manual span tasks when --question is not given

_PRODIGY_KEY = re.compile(r'"(_input_hash|_task_hash)"\s*:')
_ANSWER_KEY = re.compile(r'"answer"\s*:')


def sniff(path: Path, head: str) -> bool:
    """JSON Lines whose objects carry Prodigy's ``_input_hash`` / ``_task_hash`` and an ``answer``."""
    first = head.lstrip()
    if not first.startswith("{"):
        return False
    return bool(_PRODIGY_KEY.search(head)) and bool(_ANSWER_KEY.search(head))


@dataclass(frozen=True)
class _Example:
    """One annotated example as read from a line."""

    record: str
    annotator: str
    data: dict


def load(path: Path, options: LoadOptions) -> AnnotationSet:
    """Read a Prodigy JSONL export (a file or a directory of files).

    Raises ``InputError`` naming the file, the line and the field for anything malformed.
    """
    examples = _read_examples(path)
    if not examples:
        raise InputError("the export holds no examples (every line is blank)", path=path)
    builder = AnnotationSetBuilder(path, NAME, options)
    builder.records_read = len(examples)
    prefix = _shared_session_prefix([e.annotator for e in examples])
    if prefix:
        builder.note(f"annotator ids: the shared Prodigy dataset prefix {prefix!r} was removed")
    multiple = _multi_choice_questions(examples, options)
    labels = LabelColumns()
    for example in examples:
        _read_example(example, builder, labels, options, prefix, multiple)
    labels.flush(builder)
    return builder.build()


# -- reading lines ----------------------------------------------------------------------------------


def _read_examples(path: Path) -> list[_Example]:
    files = export_files(path)
    several = len(files) > 1 or path.is_dir()
    examples = []
    for file in files:
        for line_number, data in iter_json_lines(file):
            record = f"{file.name}:{line_number}" if several else f"line {line_number}"
            annotator = data.get("_annotator_id") or data.get("_session_id") or (file.stem if several else None)
            if annotator is not None and (isinstance(annotator, bool) or not isinstance(annotator, (str, int))):
                key = "_annotator_id" if data.get("_annotator_id") else "_session_id"
                raise InputError(f"expected the annotator's id (a string), found {annotator!r}",
                                 path=file, record=f"line {line_number}", field=key)
            if annotator is None:
                raise InputError(
                    "no '_annotator_id' or '_session_id': cannot tell who annotated this example "
                    "(export with named sessions, or put each annotator's examples in their own file of a directory)",
                    path=file, record=f"line {line_number}", field="_annotator_id",
                )
            examples.append(_Example(record, str(annotator), data))
    return examples


def _shared_session_prefix(annotators: list[str]) -> str:
    """The ``"<dataset>-"`` prefix every annotator id shares (Prodigy names a session
    ``dataset-name``), or ``""`` when there is not one, or only one annotator.

    >>> _shared_session_prefix(["support_intents-amir", "support_intents-bea"])
    'support_intents-'
    >>> _shared_session_prefix(["e1eec138-4623", "b0adbf6f-7bf8"])
    ''
    """
    distinct = sorted(set(annotators))
    if len(distinct) < 2:
        return ""
    common = os.path.commonprefix(distinct)
    cut = common.rfind("-")
    if cut <= 0:
        return ""
    prefix = common[: cut + 1]
    return prefix if all(len(a) > len(prefix) for a in distinct) else ""


# -- task kinds -------------------------------------------------------------------------------------


def _task_kind(data: dict) -> str:
    if "options" in data:
        return "choice"
    if "spans" in data and data.get("_view_id") not in BINARY_VIEWS and "label" not in data:
        return "spans"
    return "binary"


def _choice_question(options: LoadOptions) -> str:
    return options.question or DEFAULT_QUESTION


def _multi_choice_questions(examples: list[_Example], options: LoadOptions) -> bool:
    """Whether the choice question is multi-choice: declared so in a task's config, or answered
    with several options anywhere."""
    for example in examples:
        data = example.data
        if _task_kind(data) != "choice":
            continue
        config = data.get("config")
        if isinstance(config, dict) and config.get("choice_style") == "multiple":
            return True
        accepted = data.get("accept")
        if data.get("answer") == "accept" and isinstance(accepted, list) and len(accepted) > 1:
            return True
    return False


# -- one example ------------------------------------------------------------------------------------


def _read_example(example: _Example, builder: AnnotationSetBuilder, labels: LabelColumns, options: LoadOptions,
                  prefix: str, multiple: bool) -> None:
    data, record = example.data, example.record
    answer = data.get("answer")
    if answer not in ANSWERS:
        raise InputError(f"expected 'answer' to be one of {', '.join(ANSWERS)}, found {answer!r}", path=builder.path, record=record, field="answer")
    item_id = _item_id(data, builder.path, record)
    text = data.get("text") if isinstance(data.get("text"), str) else None
    builder.add_item(item_id, text=text)
    if answer == "ignore":
        builder.skip("ignored", record, "answer ignore")
        return
    kind = _task_kind(data)
    if kind != "binary" and answer == "reject":
        builder.skip("rejected", record, f"Prodigy reject on a {kind} task: the shown answer is wrong, the right one is unknown")
        return
    question, label = _question_and_label(kind, data, answer, options, multiple, text, builder, record)
    labels.add(record, item_id, example.annotator[len(prefix):], question, label,
               _timestamp(data.get("_timestamp"), builder.path, record), None, _batch_of(data))


def _question_and_label(kind: str, data: dict, answer: str, options: LoadOptions, multiple: bool, text: str | None,
                        builder: AnnotationSetBuilder, record: str) -> tuple[str, Any]:
    if kind == "choice":
        question = _choice_question(options)
        ids = _option_ids(data.get("options"), builder.path, record)
        chosen = _accepted(data, builder.path, record)
        unknown = [option for option in chosen if option not in ids]
        if unknown:
            raise InputError(f"accepted option {unknown[0]!r} is not one of the example's options ({', '.join(ids)})",
                             path=builder.path, record=record, field="accept")
        if not multiple and _numeric_options(data.get("options")):
            # options 1..5 with integer ids: Prodigy's usual way to ask for a rating
            builder.declare_question(question, "ordinal", tuple(sorted(float(i) for i in ids)))
            if len(chosen) > 1:
                raise InputError("a single-choice answer lists several options", path=builder.path, record=record, field="accept")
            return question, float(chosen[0]) if chosen else None
        builder.declare_question(question, "multilabel" if multiple else "categorical", ids)
        if multiple:
            return question, frozenset(chosen)
        if len(chosen) > 1:
            raise InputError("a single-choice answer lists several options", path=builder.path, record=record, field="accept")
        return question, chosen[0] if chosen else None
    if kind == "spans":
        question = options.question or SPANS_QUESTION
        builder.declare_question(question, "spans")
        return question, _spans(data.get("spans"), text, builder.path, record)
    question = _binary_question(data, options)
    builder.declare_question(question, "categorical", BINARY_ANSWERS)
    return question, answer


def _binary_question(data: dict, options: LoadOptions) -> str:
    label = data.get("label")
    if isinstance(label, str) and label:
        return label
    spans = data.get("spans")
    if isinstance(spans, list) and len(spans) == 1 and isinstance(spans[0], dict) and spans[0].get("label"):
        return str(spans[0]["label"])
    return options.question or DEFAULT_QUESTION


def _item_id(data: dict, path: Path, record: str) -> str:
    key = "_task_hash" if _task_kind(data) == "binary" and data.get("spans") else "_input_hash"
    value = data.get(key)
    if value is None or isinstance(value, (dict, list, bool)):
        raise InputError(f"expected the example's {key} (an integer)", path=path, record=record, field=key)
    return str(value)


def _option_ids(option_list: Any, path: Path, record: str) -> tuple[str, ...]:
    if not isinstance(option_list, list):
        raise InputError(f"expected a list of options, found {type(option_list).__name__}", path=path, record=record, field="options")
    ids = []
    for option in option_list:
        if not isinstance(option, dict) or "id" not in option:
            raise InputError(f"expected an option with an 'id', found {option!r}", path=path, record=record, field="options")
        ids.append(str(option["id"]))
    return tuple(ids)


def _numeric_options(option_list: list) -> bool:
    """True when every option id is a JSON number (not a bool): the options form a rating scale."""
    return bool(option_list) and all(
        isinstance(option["id"], (int, float)) and not isinstance(option["id"], bool) for option in option_list
    )


def _accepted(data: dict, path: Path, record: str) -> list[str]:
    accepted = data.get("accept", [])
    if not isinstance(accepted, list):
        raise InputError(f"expected a list of option ids, found {type(accepted).__name__}", path=path, record=record, field="accept")
    return [str(option_id) for option_id in accepted]


def _spans(spans: Any, text: str | None, path: Path, record: str) -> tuple[Span, ...]:
    if spans is None:
        return ()
    if not isinstance(spans, list):
        raise InputError(f"expected a list of spans, found {type(spans).__name__}", path=path, record=record, field="spans")
    found = []
    for position, span in enumerate(spans):
        where = f"spans[{position}]"
        if not isinstance(span, dict):
            raise InputError("expected a span object with start, end and label", path=path, record=record, field=where)
        start, end, label = span.get("start"), span.get("end"), span.get("label")
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (start, end)):
            raise InputError(f"expected integer character offsets, found start={start!r}, end={end!r}", path=path, record=record, field=where)
        if not isinstance(label, str) or not label:
            raise InputError(f"expected a label, found {label!r}", path=path, record=record, field=f"{where}.label")
        if start < 0 or end <= start:
            raise InputError(f"span [{start}, {end}) is empty or reversed", path=path, record=record, field=where)
        if text is not None and end > len(text):
            raise InputError(f"span [{start}, {end}) ends past the text's {len(text)} characters", path=path, record=record, field=f"{where}.end")
        found.append(Span(start, end, label))
    return tuple(sorted(set(found)))


def _timestamp(value: Any, path: Path, record: str) -> datetime | None:
    """Prodigy's ``_timestamp`` (Unix seconds) in UTC; absent is unknown, anything else an error."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            pass
    raise InputError(f"expected Unix seconds, found {value!r}", path=path, record=record, field="_timestamp")


def _batch_of(data: dict) -> Any:
    meta = data.get("meta")
    if "batch" in data:
        return data["batch"]
    return meta.get("batch") if isinstance(meta, dict) else None


"""Argilla v2 record exports.

Three shapes, all read the same way:

- flat records (``dataset.records.to_list(flatten=True)`` written as JSON or JSON Lines):
  ``<question>.responses`` / ``.responses.users`` / ``.responses.status`` lists and
  ``<question>.suggestion`` / ``.suggestion.agent`` / ``.suggestion.score``;
- nested records (``dataset.records.to_json(path)``, the ``records.json`` of ``dataset.to_disk``):
  ``fields``, ``metadata``, ``responses: {question: [{value, user_id}]}``,
  ``suggestions: {question: {value, score, agent}}``;
- the ``dataset.to_disk(folder)`` folder: ``records.json`` with ``.argilla/settings.json``.

Responses -> human annotations (``annotator_id`` = the user id); suggestions -> model annotations
(``annotator_id`` = the agent). Responses with status ``discarded`` are skipped as ``discarded``,
``draft`` as ``draft``. Question kinds come from ``settings.json`` when it is there
(``label_selection`` -> categorical, ``multi_label_selection`` -> multilabel, ``rating`` ->
ordinal, ``text`` -> text, ``span`` -> spans; ``ranking`` is skipped as ``not_a_label``);
otherwise they are inferred from the values. ``metadata.batch`` -> ``batch``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import InputError
from qa.loaders._build import AnnotationSetBuilder, LoadOptions
from qa.loaders._columns import LabelColumns
from qa.loaders._jsonio import iter_json_lines, read_json, read_text
from qa.schema import AnnotationSet, Span

NAME = "argilla"

RECORDS_FILE = "records.json"
SETTINGS_DIR = ".argilla"
SETTINGS_FILE = "settings.json"
SYSTEM_KEYS = frozenset({"id", "_server_id", "status", "inserted_at", "updated_at", "score", "vectors"})
KIND_OF_TYPE = {
    "label_selection": "categorical",
    "multi_label_selection": "multilabel",
    "rating": "ordinal",
    "text": "text",
    "span": "spans",
    "ranking": "ranking",
}
SKIPPED_STATUS = {"discarded": "discarded", "draft": "draft"}
RESPONSE_STATUSES = ("submitted", "discarded", "draft")
SUGGESTION_AGENT = "suggestion"  # annotator id of a suggestion without an agent
# Without settings, a question whose answers are this long on average is read as free text.
TEXT_ANSWER_CHARS = 40

_FLAT_KEY = re.compile(r'"[^"]+\.(responses|suggestion)"\s*:')
_NESTED_KEYS = re.compile(r'"responses"\s*:\s*\{|"suggestions"\s*:\s*\{')


def sniff(path: Path, head: str) -> bool:
    """Records with ``responses`` / ``suggestions`` (nested) or ``<q>.responses`` /
    ``<q>.suggestion`` keys (flat), or a ``to_disk`` folder (``records.json`` + ``.argilla/``)."""
    if path.is_dir():
        return (path / RECORDS_FILE).is_file() and (path / SETTINGS_DIR).is_dir()
    start = head.lstrip()[:1]
    if start not in ("{", "["):
        return False
    return bool(_FLAT_KEY.search(head) or (_NESTED_KEYS.search(head) and '"fields"' in head))


def load(path: Path, options: LoadOptions) -> AnnotationSet:
    """Read an Argilla v2 export (flat or nested records, or a ``to_disk`` folder)."""
    records_path, settings = _locate(path)
    raw_records = _read_records(records_path)
    questions = _Questions.from_settings(settings, records_path)
    records = [_normalise_record(raw, records_path, questions) for raw in raw_records]
    reader = _Reader(AnnotationSetBuilder(path, NAME, options), questions, records_path)
    if not questions.known:
        questions.infer(records)
        reader.builder.note(
            "question kinds inferred from the answers (no .argilla/settings.json next to the records)"
        )
    if any(r.status_missing for r in records):
        reader.builder.note(
            "this export does not record response status (Argilla's nested export drops it): every "
            "response is read as submitted; export with to_list(flatten=True) to skip discarded and draft responses"
        )
    for record in records:
        reader.read(record)
    reader.builder.records_read = len(records)
    reader.declare()
    reader.labels.flush(reader.builder)
    return reader.builder.build()


# -- files ------------------------------------------------------------------------------------------


def _locate(path: Path) -> tuple[Path, dict | None]:
    """The records file and the settings (a dict) if they can be found."""
    if path.is_dir():
        records_path = path / RECORDS_FILE
        if not records_path.is_file():
            raise InputError(f"an Argilla to_disk folder holds {RECORDS_FILE}; this one does not", path=path)
        settings_path = path / SETTINGS_DIR / SETTINGS_FILE
    else:
        records_path = path
        settings_path = path.parent / SETTINGS_DIR / SETTINGS_FILE
    settings = read_json(settings_path) if settings_path.is_file() else None
    if settings is not None and not isinstance(settings, dict):
        raise InputError("expected the dataset settings as an object", path=settings_path)
    return records_path, settings


def _read_records(path: Path) -> list[tuple[str, dict]]:
    """``(record name, raw record)`` from a JSON array or JSON Lines."""
    text = read_text(path)
    if not text.strip():
        raise InputError("the file is empty", path=path)
    if text.lstrip().startswith("["):
        records = read_json(path)
        out = []
        for position, raw in enumerate(records):
            if not isinstance(raw, dict):
                raise InputError(f"expected a record object, found {type(raw).__name__}", path=path, record=f"record #{position + 1}")
            out.append((_record_name(raw, f"record #{position + 1}"), raw))
        return out
    return [(_record_name(raw, f"line {n}"), raw) for n, raw in iter_json_lines(path)]


def _record_name(raw: dict, where: str) -> str:
    return f"{where} (id {raw['id']})" if raw.get("id") is not None else where


# -- one record, whatever its shape ------------------------------------------------------------------


@dataclass(frozen=True)
class _Response:
    question: str
    user: str
    value: Any
    status: str | None


@dataclass(frozen=True)
class _Suggestion:
    question: str
    agent: str
    value: Any


@dataclass(frozen=True)
class _Record:
    name: str
    item_id: str
    values: dict  # fields and metadata
    metadata: dict
    responses: tuple[_Response, ...]
    suggestions: tuple[_Suggestion, ...]
    status_missing: bool


def _normalise_record(entry: tuple[str, dict], path: Path, questions: _Questions) -> _Record:
    name, raw = entry
    item_id = raw.get("id") if raw.get("id") is not None else raw.get("_server_id")
    if item_id is None:
        raise InputError("the record has neither 'id' nor '_server_id'", path=path, record=name, field="id")
    if isinstance(raw.get("responses"), dict) or isinstance(raw.get("suggestions"), dict) or isinstance(raw.get("fields"), dict):
        return _nested_record(name, str(item_id), raw, path)
    return _flat_record(name, str(item_id), raw, path, questions)


def _nested_record(name: str, item_id: str, raw: dict, path: Path) -> _Record:
    fields = raw.get("fields") or {}
    metadata = raw.get("metadata") or {}
    responses, status_missing = [], False
    for question, answers in (raw.get("responses") or {}).items():
        if not isinstance(answers, list):
            raise InputError(f"expected a list of responses, found {type(answers).__name__}", path=path, record=name, field=f"responses.{question}")
        for answer in answers:
            if not isinstance(answer, dict) or "value" not in answer:
                raise InputError("expected a response with 'value' and 'user_id'", path=path, record=name, field=f"responses.{question}")
            status_missing |= "status" not in answer
            responses.append(_Response(question, str(answer.get("user_id")), answer["value"], answer.get("status")))
    suggestions = []
    for question, suggestion in (raw.get("suggestions") or {}).items():
        if not isinstance(suggestion, dict) or "value" not in suggestion:
            raise InputError("expected a suggestion with 'value'", path=path, record=name, field=f"suggestions.{question}")
        suggestions.append(_Suggestion(question, str(suggestion.get("agent") or SUGGESTION_AGENT), suggestion["value"]))
    values = {**_scalars(fields), **_scalars(metadata)}
    return _Record(name, item_id, values, metadata, tuple(responses), tuple(suggestions), status_missing and bool(responses))


def _flat_record(name: str, item_id: str, raw: dict, path: Path, questions: _Questions) -> _Record:
    responses, suggestions = [], []
    question_keys: set[str] = set()
    for key in raw:
        if key.endswith(".responses"):
            question = key[: -len(".responses")]
            question_keys.update({key, f"{key}.users", f"{key}.status"})
            responses.extend(_flat_responses(raw, question, name, path))
        elif key.endswith(".suggestion"):
            question = key[: -len(".suggestion")]
            question_keys.update({key, f"{key}.agent", f"{key}.score"})
            if raw[key] is not None:
                suggestions.append(_Suggestion(question, str(raw.get(f"{key}.agent") or SUGGESTION_AGENT), raw[key]))
    rest = {k: v for k, v in raw.items() if k not in question_keys and k not in SYSTEM_KEYS and not _is_question_part(k)}
    metadata = {k: v for k, v in rest.items() if k in questions.metadata_names} if questions.known else dict(rest)
    status_missing = any(r.status is None for r in responses)
    return _Record(name, item_id, _scalars(rest), metadata, tuple(responses), tuple(suggestions), status_missing)


def _is_question_part(key: str) -> bool:
    return key.endswith((".responses.users", ".responses.status", ".suggestion.agent", ".suggestion.score"))


def _flat_responses(raw: dict, question: str, name: str, path: Path) -> list[_Response]:
    key = f"{question}.responses"
    values, users, statuses = raw.get(key), raw.get(f"{key}.users"), raw.get(f"{key}.status")
    if values is None:
        return []
    if not isinstance(values, list) or not isinstance(users, list):
        raise InputError(f"expected lists in '{key}' and '{key}.users'", path=path, record=name, field=key)
    if statuses is None:
        statuses = [None] * len(values)
    if not isinstance(statuses, list) or not len(values) == len(users) == len(statuses):
        raise InputError(
            f"'{key}', '{key}.users' and '{key}.status' must be lists of the same length", path=path, record=name, field=key
        )
    return [_Response(question, str(user), value, status) for value, user, status in zip(values, users, statuses, strict=True)]


def _scalars(values: dict) -> dict:
    if not isinstance(values, dict):
        return {}
    return {k: v for k, v in values.items() if isinstance(v, (str, int, float, bool))}


# -- questions -----------------------------------------------------------------------------------------


@dataclass
class _Questions:
    """Question name -> kind ("categorical", ..., "ranking"), categories and the field spans point into."""

    kinds: dict[str, str] = field(default_factory=dict)
    categories: dict[str, tuple] = field(default_factory=dict)
    span_fields: dict[str, str] = field(default_factory=dict)
    field_names: tuple[str, ...] = ()
    metadata_names: frozenset = frozenset()
    known: bool = False

    @classmethod
    def from_settings(cls, settings: dict | None, path: Path) -> _Questions:
        if settings is None:
            return cls()
        questions = cls(known=True)
        for question in settings.get("questions") or []:
            if not isinstance(question, dict) or "name" not in question:
                raise InputError("expected each question with a 'name'", path=path, field="questions")
            config = question.get("settings") or {}
            argilla_type = question.get("type") or config.get("type")
            kind = KIND_OF_TYPE.get(str(argilla_type))
            if kind is None:
                raise InputError(f"unknown Argilla question type {argilla_type!r}", path=path, field=f"questions.{question['name']}")
            name = str(question["name"])
            questions.kinds[name] = kind
            questions.categories[name] = _option_values(config.get("options"), kind)
            if kind == "spans" and config.get("field"):
                questions.span_fields[name] = str(config["field"])
        questions.field_names = tuple(str(f["name"]) for f in settings.get("fields") or [] if isinstance(f, dict) and "name" in f)
        questions.metadata_names = frozenset(str(m["name"]) for m in settings.get("metadata") or [] if isinstance(m, dict) and "name" in m)
        return questions

    def infer(self, records: list[_Record]) -> None:
        """Kinds from the answers when the settings are not at hand."""
        answers: dict[str, list] = {}
        for record in records:
            for answer in (*record.responses, *record.suggestions):
                if answer.value is not None:
                    answers.setdefault(answer.question, []).append(answer.value)
        for question, values in answers.items():
            self.kinds[question] = _inferred_kind(values)
            self.categories[question] = ()

    def text_field(self) -> str | None:
        if self.span_fields:
            return next(iter(self.span_fields.values()))
        if "text" in self.field_names or not self.field_names:
            return "text"
        return self.field_names[0]


def _option_values(options: Any, kind: str) -> tuple:
    if not isinstance(options, list) or kind in ("spans", "text", "ranking"):
        return ()
    values = tuple(o.get("value") for o in options if isinstance(o, dict) and "value" in o)
    return tuple(float(v) for v in values) if kind == "ordinal" else tuple(str(v) for v in values)


def _inferred_kind(values: list) -> str:
    sample = values[0]
    if isinstance(sample, list):
        if sample and all(isinstance(v, dict) and "start" in v for v in sample):
            return "spans"
        if sample and all(isinstance(v, dict) and "rank" in v for v in sample):
            return "ranking"
        return "multilabel"
    if isinstance(sample, (int, float)) and not isinstance(sample, bool):
        return "ordinal"
    texts = [str(v) for v in values]
    if any("\n" in t for t in texts) or sum(map(len, texts)) / len(texts) > TEXT_ANSWER_CHARS:
        return "text"
    return "categorical"


# -- building ---------------------------------------------------------------------------------------


@dataclass
class _Reader:
    builder: AnnotationSetBuilder
    questions: _Questions
    path: Path
    labels: LabelColumns = field(default_factory=LabelColumns)

    def read(self, record: _Record) -> None:
        text_field = self.questions.text_field()
        text = record.values.get(text_field) if text_field else None
        item_fields = {k: v for k, v in record.values.items() if k not in ("item_id", "text")}
        self.builder.add_item(record.item_id, text=text if isinstance(text, str) else None, **item_fields)
        batch = record.metadata.get("batch")
        for response in record.responses:
            where = f"{record.name}, user {response.user}"
            if response.status is not None and response.status not in RESPONSE_STATUSES:
                raise InputError(
                    f"response status {response.status!r} is not one of {', '.join(RESPONSE_STATUSES)}",
                    path=self.path, record=where, field=f"{response.question}.responses.status",
                )
            if response.status in SKIPPED_STATUS:
                self.builder.skip(SKIPPED_STATUS[response.status], where, f"question {response.question!r}")
                continue
            self._add(record, response.question, response.user, response.value, where, batch, "human")
        for suggestion in record.suggestions:
            where = f"{record.name}, suggestion by {suggestion.agent}"
            self._add(record, suggestion.question, suggestion.agent, suggestion.value, where, batch, "model")

    def _add(self, record: _Record, question: str, annotator: str, value: Any, where: str, batch: Any, kind: str) -> None:
        question_kind = self.questions.kinds.get(question)
        if question_kind is None:
            raise InputError(
                f"question {question!r} is not in the dataset settings (questions: {', '.join(self.questions.kinds)})",
                path=self.path, record=record.name, field=question,
            )
        if question_kind == "ranking":
            self.builder.skip("not_a_label", where, f"ranking question {question!r}")
            return
        label = self._label(question, question_kind, value, record, where)
        self.labels.add(where, record.item_id, annotator, question, label, None, None, batch, kind)

    def _label(self, question: str, kind: str, value: Any, record: _Record, where: str) -> Any:
        if value is None:
            return None
        if kind == "multilabel":
            if not isinstance(value, list):
                raise InputError(f"expected a list of labels, found {value!r}", path=self.path, record=where, field=question)
            return frozenset(str(v) for v in value)
        if kind == "ordinal":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"expected a rating (a number), found {value!r}", path=self.path, record=where, field=question)
            return float(value)
        if kind == "spans":
            text_field = self.questions.span_fields.get(question) or self.questions.text_field()
            return _spans(value, record.values.get(text_field), self.path, where, question)
        if isinstance(value, (list, dict)):
            raise InputError(f"expected one answer, found {value!r}", path=self.path, record=where, field=question)
        return str(value)

    def declare(self) -> None:
        for question, kind in self.questions.kinds.items():
            if kind != "ranking":
                self.builder.declare_question(question, kind, self.questions.categories.get(question, ()))


def _spans(value: Any, text: Any, path: Path, where: str, question: str) -> tuple[Span, ...]:
    if not isinstance(value, list):
        raise InputError(f"expected a list of spans, found {value!r}", path=path, record=where, field=question)
    found = []
    for span in _span_dicts(value, path, where, question):
        start, end, label = span.get("start"), span.get("end"), span.get("label")
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (start, end)) or not isinstance(label, str):
            raise InputError(f"expected a span with integer start, end and a label, found {span!r}", path=path, record=where, field=question)
        if start < 0 or end <= start:
            raise InputError(f"span [{start}, {end}) is empty or reversed", path=path, record=where, field=question)
        if isinstance(text, str) and end > len(text):
            raise InputError(f"span [{start}, {end}) ends past the text's {len(text)} characters", path=path, record=where, field=question)
        found.append(Span(start, end, label))
    return tuple(sorted(set(found)))


def _span_dicts(value: list, path: Path, where: str, question: str) -> Iterable[dict]:
    for span in value:
        if not isinstance(span, dict):
            raise InputError(f"expected a span object, found {span!r}", path=path, record=where, field=question)
        yield span

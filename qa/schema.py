"""The canonical tables every loader produces and every metric reads (see DESIGN.md).

``AnnotationSet`` holds:

- ``annotations``: one row per item x annotator x question. Columns, in order:
  ``item_id`` (categorical of str), ``annotator_id`` (categorical of str), ``question``
  (categorical of str), ``label`` (object: a str category, a float rating, a ``frozenset`` of
  categories for multi-label, or a ``tuple`` of ``Span`` for span tasks), ``created_at``
  (datetime64[ns, UTC], NaT when unknown), ``lead_time_s`` (float, NaN when unknown), ``batch``
  (categorical of str, may be missing), ``annotator_kind`` (categorical: ``human`` / ``model``).
- ``items``: one row per item: ``item_id`` (str), ``text`` (str when the export has one) and any
  metadata columns.
- ``gold``: ``item_id``, ``question``, ``label``.
- ``questions``: one row per question: ``question``, ``kind`` (one of ``QUESTION_KINDS``),
  ``categories`` (tuple, in declared order; empty when unknown), ``level`` (the default level of
  measurement for agreement: ``nominal``, ``ordinal``, ``interval``, ``ratio``, ``multilabel``,
  ``spans`` or ``none`` for free text).
- ``load_report``: what was read and what was skipped, by reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from metrics.ratings import is_missing_label  # one definition of a missing label, shared

ANNOTATION_COLUMNS = (
    "item_id",
    "annotator_id",
    "question",
    "label",
    "created_at",
    "lead_time_s",
    "batch",
    "annotator_kind",
)
REQUIRED_COLUMNS = ("item_id", "annotator_id", "label")
QUESTION_KINDS = ("categorical", "multilabel", "ordinal", "interval", "spans", "text")
DEFAULT_LEVEL = {
    "categorical": "nominal",
    "multilabel": "multilabel",
    "ordinal": "ordinal",
    "interval": "interval",
    "spans": "spans",
    "text": "none",
}
ANNOTATOR_KINDS = ("human", "model")
DEFAULT_QUESTION = "label"

# Reasons a record is skipped; documented in README and counted in LoadReport.
SKIP_REASONS = {
    "cancelled": "the annotator cancelled or skipped the task (Label Studio was_cancelled)",
    "rejected": "the assignment was rejected by the requester (MTurk AssignmentStatus), or a Prodigy choice or manual-span example was rejected (its answer is marked wrong, the right one is unknown)",
    "discarded": "the response was discarded (Argilla status discarded)",
    "ignored": "the annotator pressed ignore (Prodigy answer ignore)",
    "empty": "the annotation holds no label",
    "duplicate": "an earlier annotation by the same annotator of the same item and question; the latest is kept",
    "malformed": "the record could not be read; the example says which field",
    "draft": "an unsubmitted draft",
    "not_a_label": "a result this suite does not read as a label (a relation, an image region, a ranking)",
}


class Span(NamedTuple):
    """A labelled character span ``[start, end)`` in an item's text."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class SkippedRecord:
    """One record a loader did not turn into an annotation, and why."""

    reason: str
    record: str
    detail: str = ""


@dataclass(frozen=True)
class LoadReport:
    """What a loader read and what it skipped.

    ``records_read`` counts the export's own records (tasks, lines, rows); ``skipped`` lists every
    skipped record with its reason (see ``SKIP_REASONS``); ``notes`` carries anything else a user
    should know (e.g. "labels normalised: case and whitespace").
    """

    source: str
    format: str
    records_read: int
    annotations_loaded: int
    skipped: tuple[SkippedRecord, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def skipped_counts(self) -> dict[str, int]:
        """Number of skipped records per reason."""
        return dict(Counter(record.reason for record in self.skipped))

    def skipped_table(self, examples: int = 3) -> pd.DataFrame:
        """One row per skip reason: ``reason``, ``count``, ``examples`` (a few record ids), ``meaning``."""
        rows = []
        by_reason: dict[str, list[SkippedRecord]] = {}
        for record in self.skipped:
            by_reason.setdefault(record.reason, []).append(record)
        for reason, records in sorted(by_reason.items()):
            rows.append(
                {
                    "reason": reason,
                    "count": len(records),
                    "examples": ", ".join(r.record for r in records[:examples]),
                    "meaning": SKIP_REASONS.get(reason, ""),
                }
            )
        return pd.DataFrame(rows, columns=["reason", "count", "examples", "meaning"])


@dataclass(frozen=True)
class QuestionSpec:
    """One question of the project: its kind, declared categories and default level."""

    question: str
    kind: str
    categories: tuple = ()
    level: str = ""

    def __post_init__(self) -> None:
        if self.kind not in QUESTION_KINDS:
            raise ValueError(f"question {self.question!r}: kind {self.kind!r} is not one of {QUESTION_KINDS}")
        if not self.level:
            object.__setattr__(self, "level", DEFAULT_LEVEL[self.kind])


def question_spec(questions: pd.DataFrame, name: str) -> QuestionSpec:
    """The :class:`QuestionSpec` of question ``name`` in a questions table."""
    rows = questions[questions["question"] == name]
    if rows.empty:
        raise KeyError(f"no question {name!r}; the questions are {[str(q) for q in questions['question']]}")
    row = rows.iloc[0]
    return QuestionSpec(str(row["question"]), str(row["kind"]), tuple(row["categories"]), str(row["level"]))


@dataclass(frozen=True)
class AnnotationSet:
    """A validated, canonical view of one annotation export (see the module docstring)."""

    annotations: pd.DataFrame
    items: pd.DataFrame
    gold: pd.DataFrame
    questions: pd.DataFrame
    load_report: LoadReport
    extras: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def question_names(self) -> list[str]:
        return [str(q) for q in self.questions["question"]]

    def question(self, name: str) -> QuestionSpec:
        """The :class:`QuestionSpec` of question ``name``."""
        return question_spec(self.questions, name)

    def for_question(self, name: str, *, humans_only: bool = True) -> pd.DataFrame:
        """Annotations of one question (by default human annotators only), ready for ``metrics``."""
        self.question(name)
        mask = self.annotations["question"] == name
        if humans_only:
            mask &= self.annotations["annotator_kind"] == "human"
        frame = self.annotations.loc[mask].copy()
        for column in ("item_id", "annotator_id", "question", "batch", "annotator_kind"):
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].cat.remove_unused_categories()
        return frame.reset_index(drop=True)

    def gold_for(self, name: str) -> pd.DataFrame:
        """Gold labels of one question: ``item_id``, ``label``."""
        frame = self.gold[self.gold["question"] == name]
        return frame[["item_id", "label"]].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Building canonical tables (used by every loader)
# ---------------------------------------------------------------------------------------------


def canonical_annotations(rows: pd.DataFrame | list[dict]) -> pd.DataFrame:
    """Return ``rows`` as the canonical annotations table (columns, order and dtypes).

    Missing optional columns are added (NaT / NaN / missing / ``human``). ids become strings
    held as categoricals.
    """
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    for column in REQUIRED_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.Series(dtype=object)
    if "question" not in frame.columns:
        frame["question"] = DEFAULT_QUESTION
    if "created_at" not in frame.columns:
        frame["created_at"] = pd.NaT
    if "lead_time_s" not in frame.columns:
        frame["lead_time_s"] = np.nan
    if "batch" not in frame.columns:
        frame["batch"] = pd.Categorical.from_codes(np.full(len(frame), -1, dtype=np.int8), categories=pd.Index([], dtype=object))
    if "annotator_kind" not in frame.columns:
        frame["annotator_kind"] = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), categories=list(ANNOTATOR_KINDS))
    kind = frame["annotator_kind"]
    if isinstance(kind.dtype, pd.CategoricalDtype):
        # stay on the codes: no string per row for a million-row table
        kind = kind.astype(str) if not set(kind.cat.categories) <= set(ANNOTATOR_KINDS) else kind
    if isinstance(kind.dtype, pd.CategoricalDtype):
        frame["annotator_kind"] = kind.cat.set_categories(list(ANNOTATOR_KINDS)).fillna("human")
    else:
        frame["annotator_kind"] = kind.fillna("human")
    for column in ("item_id", "annotator_id", "question"):
        frame[column] = _as_string_categorical(frame[column])
    frame["batch"] = _as_string_categorical(frame["batch"], keep_missing=True)
    if not isinstance(frame["annotator_kind"].dtype, pd.CategoricalDtype):
        frame["annotator_kind"] = pd.Categorical(frame["annotator_kind"].astype(str), categories=list(ANNOTATOR_KINDS))
    frame["created_at"] = _as_utc_ns(frame["created_at"])
    frame["lead_time_s"] = pd.to_numeric(frame["lead_time_s"], errors="coerce").astype(float)
    frame["label"] = frame["label"].astype(object)
    extra = [c for c in frame.columns if c not in ANNOTATION_COLUMNS]
    return frame[list(ANNOTATION_COLUMNS) + extra].reset_index(drop=True)


def _as_utc_ns(values: pd.Series) -> pd.Series:
    """UTC timestamps at one resolution (ns), whatever resolution the parser inferred, so that
    tables loaded from different formats compare equal."""
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    try:
        return stamps.astype("datetime64[ns, UTC]")
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        return stamps  # a date beyond 2262 keeps its coarser resolution rather than wrap


def _as_string_categorical(series: pd.Series, *, keep_missing: bool = False) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = series.cat.categories
        if categories.dtype == "str" or (categories.dtype == object and all(isinstance(c, str) for c in categories)):
            return series
        return series.cat.rename_categories([_id_string(c) for c in categories])
    if keep_missing:
        missing = series.isna()
        as_text = series.map(_id_string, na_action="ignore")
        return pd.Series(pd.Categorical(as_text.where(~missing, None)), index=series.index)
    return pd.Series(pd.Categorical(series.map(_id_string)), index=series.index)


def _id_string(value: Any) -> str:
    """ids as strings; integral floats (from CSV) print without ``.0``; bytes (a Parquet binary
    column) are decoded as UTF-8."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (np.floating,)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def canonical_items(rows: pd.DataFrame | list[dict], item_ids: pd.Series | None = None) -> pd.DataFrame:
    """The items table: one row per item, ``item_id`` first (str). Items that appear only in the
    annotations are added with no text."""
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    if "item_id" not in frame.columns:
        frame["item_id"] = pd.Series(dtype=object)
    frame["item_id"] = _id_strings(frame["item_id"])
    frame = frame.drop_duplicates("item_id", keep="last")
    if item_ids is not None:
        # unique first, then strings: one string per item, not per annotation
        present = _id_strings(_distinct(item_ids))
        missing = present[~present.isin(frame["item_id"])].to_numpy(dtype=object)
        if len(missing):
            frame = pd.concat([frame, pd.DataFrame({"item_id": missing})], ignore_index=True)
    columns = ["item_id"] + [c for c in frame.columns if c != "item_id"]
    return frame[columns].reset_index(drop=True)


def _distinct(values: pd.Series) -> pd.Series:
    """The distinct values (for a categorical, the categories in use, read off its codes)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        used = np.bincount(codes[codes >= 0], minlength=len(values.cat.categories)) > 0
        return pd.Series(np.asarray(values.cat.categories[used], dtype=object), dtype=object)
    return pd.Series(pd.unique(values), dtype=object)


def _id_strings(series: pd.Series) -> pd.Series:
    """``_id_string`` of every value, skipped when they are all strings already (a C-level check)."""
    if pd.api.types.infer_dtype(series, skipna=False) == "string":
        return series
    return series.map(_id_string)


def canonical_gold(rows: pd.DataFrame | list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["item_id", "question", "label"]) if not isinstance(rows, pd.DataFrame) else rows.copy()
    for column in ("item_id", "question", "label"):
        if column not in frame.columns:
            frame[column] = pd.Series(dtype=object)
    frame["item_id"] = frame["item_id"].map(_id_string)
    frame["question"] = frame["question"].astype(str)
    frame["label"] = frame["label"].astype(object)
    return frame[["item_id", "question", "label"]].reset_index(drop=True)


def questions_table(specs: list[QuestionSpec]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "question": [s.question for s in specs],
            "kind": [s.kind for s in specs],
            "categories": [tuple(s.categories) for s in specs],
            "level": [s.level for s in specs],
        },
        columns=["question", "kind", "categories", "level"],
    )


def infer_question_kind(labels: pd.Series) -> str:
    """The kind of a question from its labels: spans (tuples), multilabel (frozensets),
    interval (numbers with more than 10 distinct values or non-integers), ordinal (integers, at
    most 10 distinct values, e.g. a 1-5 rating), else categorical. Loaders that know the tool's
    control type say so instead of inferring."""
    present = labels[~labels.map(is_missing_label)]
    if present.empty:
        return "categorical"
    sample = present.iloc[0]
    if isinstance(sample, tuple):
        return "spans"
    if isinstance(sample, frozenset):
        return "multilabel"
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in present):
        values = pd.to_numeric(present).astype(float)
        if (values % 1 == 0).all() and values.nunique() <= 10:
            return "ordinal"
        return "interval"
    return "categorical"

"""Collecting labels column by column for :meth:`AnnotationSetBuilder.add_frame`.

Nested exports (Label Studio, Prodigy, Argilla) must be walked record by record in Python; this
keeps that walk lean: one list append per column per label, each distinct label stored once
(an integer code per row), and one DataFrame built at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from qa.errors import InputError
from qa.loaders._build import AnnotationSetBuilder


@dataclass
class LabelColumns:
    """Labels of an export as columns; ``flush`` hands them to a builder in one call.

    >>> columns = LabelColumns()
    >>> columns.add("line 1", "i1", "ann", "q", "yes")
    >>> columns.add("line 2", "i2", "ann", "q", "yes")
    >>> columns.codes, columns.values
    ([0, 0], ['yes'])
    """

    records: list = field(default_factory=list)
    item_id: list = field(default_factory=list)
    annotator_id: list = field(default_factory=list)
    question: list = field(default_factory=list)
    codes: list = field(default_factory=list)
    created_at: list = field(default_factory=list)
    lead_time_s: list = field(default_factory=list)
    batch: list = field(default_factory=list)
    annotator_kind: list = field(default_factory=list)
    values: list = field(default_factory=list)
    _code_of: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.codes)

    def add(self, record: str, item_id: str, annotator_id: str, question: str, label: Any, created_at: Any = None,
            lead_time_s: Any = None, batch: Any = None, annotator_kind: str = "human") -> None:
        """One label (``None`` for "no label": counted as ``empty`` when the set is built)."""
        self.records.append(record)
        self.item_id.append(item_id)
        self.annotator_id.append(annotator_id)
        self.question.append(question)
        self.codes.append(self._code(label))
        self.created_at.append(created_at)
        self.lead_time_s.append(lead_time_s)
        self.batch.append(batch)
        self.annotator_kind.append(annotator_kind)

    def _code(self, label: Any) -> int:
        if label is None:
            return -1
        key = (type(label), label)  # 1.0 and True must not share a code
        code = self._code_of.get(key)
        if code is None:
            code = self._code_of[key] = len(self.values)
            self.values.append(label)
        return code

    def flush(self, builder: AnnotationSetBuilder) -> None:
        """Hand every collected label to ``builder`` (nothing when there is none)."""
        if not self.codes:
            return
        records = np.asarray(self.records, dtype=object)
        frame = pd.DataFrame(
            {
                "item_id": pd.Categorical(self.item_id),
                "annotator_id": pd.Categorical(self.annotator_id),
                "question": pd.Categorical(self.question),
                "label": np.asarray(self.codes, dtype=np.int64),
                "created_at": _timestamps(self.created_at, records, builder),
                "lead_time_s": _seconds(self.lead_time_s, records, builder),
                "batch": pd.Series(self.batch, dtype=object),
                "annotator_kind": pd.Categorical(self.annotator_kind),
            }
        )
        values = np.empty(len(self.values), dtype=object)
        for position, value in enumerate(self.values):
            values[position] = value
        builder.add_frame(frame, values, records)


def _timestamps(values: list, records: np.ndarray, builder: AnnotationSetBuilder) -> pd.Series:
    """UTC timestamps from ISO 8601 strings of mixed precision or datetimes (NaT when unknown);
    a value given that is not a timestamp is an error, not a silent NaT."""
    series = pd.Series(values, dtype=object)
    given = series.notna().to_numpy()
    if not given.any():
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    is_text_or_time = series.map(lambda v: isinstance(v, (str, datetime))).to_numpy()
    parsed = pd.to_datetime(series.where(is_text_or_time), utc=True, errors="coerce", format="ISO8601")
    _raise_unparsed(series, given & parsed.isna().to_numpy(), records, builder, "created_at",
                    "is not a timestamp (expected ISO 8601, e.g. 2026-03-02T09:14:05Z)")
    return parsed


def _seconds(values: list, records: np.ndarray, builder: AnnotationSetBuilder) -> pd.Series:
    """Durations in seconds (NaN when unknown); a value given that is not a number is an error."""
    series = pd.Series(values, dtype=object)
    is_number = series.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).to_numpy()
    _raise_unparsed(series, series.notna().to_numpy() & ~is_number, records, builder, "lead_time",
                    "is not a number of seconds")
    return pd.to_numeric(series.where(is_number), errors="coerce").astype(float)


def _raise_unparsed(series: pd.Series, failed: np.ndarray, records: np.ndarray, builder: AnnotationSetBuilder,
                    field: str, problem: str) -> None:
    if failed.any():
        position = int(np.argmax(failed))
        raise InputError(f"{series.iloc[position]!r} {problem}", path=builder.path, record=records[position], field=field)

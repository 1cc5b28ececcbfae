"""Shared machinery of the loaders: collect rows, count what is skipped, build the canonical set.

A loader walks its export, calls :meth:`AnnotationSetBuilder.add` for each label it finds and
:meth:`AnnotationSetBuilder.skip` for each record it leaves out, then :meth:`build`. The builder
keeps the latest of duplicate annotations (same annotator, item and question) and counts the rest,
drops empty labels with a count, optionally normalises labels (an explicit option, noted in the
report), checks spans against item text, and infers question kinds where the loader did not say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from qa.errors import InputError
from qa.schema import (
    AnnotationSet,
    LoadReport,
    QuestionSpec,
    SkippedRecord,
    Span,
    canonical_annotations,
    canonical_gold,
    canonical_items,
    infer_question_kind,
    is_missing_label,
    questions_table,
)


@dataclass(frozen=True)
class LoadOptions:
    """Options every loader honours.

    ``normalize_labels``: case-fold and strip category labels (never done silently).
    ``column_map``: canonical name -> the export's column name (long tables; e.g.
    ``{"item_id": "task_id", "annotator_id": "worker"}``).
    ``question``: the question name for single-question exports that do not name one.
    """

    normalize_labels: bool = False
    column_map: dict[str, str] = field(default_factory=dict)
    question: str | None = None


@dataclass
class AnnotationSetBuilder:
    path: Path
    format: str
    options: LoadOptions = field(default_factory=LoadOptions)
    records_read: int = 0
    _rows: list[dict] = field(default_factory=list)
    _record_of_row: list[str] = field(default_factory=list)
    _skipped: list[SkippedRecord] = field(default_factory=list)
    _items: dict[str, dict] = field(default_factory=dict)
    _gold: list[dict] = field(default_factory=list)
    _questions: dict[str, QuestionSpec] = field(default_factory=dict)
    _notes: list[str] = field(default_factory=list)

    # -- collecting ------------------------------------------------------------------------
    def add(
        self,
        *,
        record: str | int,
        item_id: Any,
        annotator_id: Any,
        question: str,
        label: Any,
        created_at: Any = None,
        lead_time_s: Any = None,
        batch: Any = None,
        annotator_kind: str = "human",
    ) -> None:
        """One label. ``record`` names where it came from (line, task id, row) for messages."""
        if is_missing_label(label):
            self.skip("empty", record, f"question {question!r}, annotator {annotator_id!r}")
            return
        self._rows.append(
            {
                "item_id": str(item_id),
                "annotator_id": str(annotator_id),
                "question": str(question),
                "label": self._normalise(label),
                "created_at": created_at,
                "lead_time_s": lead_time_s,
                "batch": batch,
                "annotator_kind": annotator_kind,
            }
        )
        self._record_of_row.append(str(record))

    def skip(self, reason: str, record: str | int, detail: str = "") -> None:
        self._skipped.append(SkippedRecord(reason, str(record), detail))

    def add_item(self, item_id: Any, **fields: Any) -> None:
        """Item text and metadata; later calls for the same item add fields."""
        entry = self._items.setdefault(str(item_id), {"item_id": str(item_id)})
        entry.update({k: v for k, v in fields.items() if v is not None})

    def add_gold(self, *, item_id: Any, question: str, label: Any) -> None:
        if not is_missing_label(label):
            self._gold.append({"item_id": str(item_id), "question": str(question), "label": self._normalise(label)})

    def declare_question(self, question: str, kind: str, categories: tuple = (), level: str = "") -> None:
        """What the tool's configuration says about a question (kind, category order)."""
        known = self._questions.get(question)
        if known is not None and not categories:
            categories = known.categories
        self._questions[question] = QuestionSpec(question, kind, tuple(categories), level)

    def note(self, text: str) -> None:
        self._notes.append(text)

    # -- building ----------------------------------------------------------------------------
    def build(self) -> AnnotationSet:
        if not self._rows and not self._gold:
            detail = f" ({len(self._skipped)} records skipped: {self._skip_summary()})" if self._skipped else ""
            raise InputError(f"the export holds no annotations{detail}", path=self.path)
        frame = pd.DataFrame(self._rows)
        frame["_record"] = self._record_of_row
        frame = self._drop_duplicates(frame)
        self._check_spans(frame)
        records = frame.pop("_record")
        annotations = canonical_annotations(frame)
        del records
        items = canonical_items(list(self._items.values()), annotations["item_id"])
        if self.options.normalize_labels:
            self._notes.append("labels normalised: case-folded and stripped of surrounding whitespace")
        report = LoadReport(
            source=str(self.path),
            format=self.format,
            records_read=self.records_read,
            annotations_loaded=len(annotations),
            skipped=tuple(self._skipped),
            notes=tuple(self._notes),
        )
        return AnnotationSet(
            annotations=annotations,
            items=items,
            gold=canonical_gold(self._gold),
            questions=questions_table(self._question_specs(annotations)),
            load_report=report,
        )

    def _drop_duplicates(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Keep the latest annotation per (item, annotator, question); count the others."""
        key = ["item_id", "annotator_id", "question"]
        order = pd.to_datetime(frame["created_at"], utc=True, errors="coerce")
        frame = frame.assign(_order=order, _position=range(len(frame)))
        frame = frame.sort_values(["_order", "_position"], na_position="first", kind="stable")
        duplicated = frame.duplicated(key, keep="last")
        for row in frame.loc[duplicated].itertuples():
            self.skip(
                "duplicate",
                row._record,
                f"item {row.item_id}, annotator {row.annotator_id}, question {row.question}",
            )
        kept = frame.loc[~duplicated].sort_values("_position")
        return kept.drop(columns=["_order", "_position"])

    def _check_spans(self, frame: pd.DataFrame) -> None:
        texts = {item: fields.get("text") for item, fields in self._items.items()}
        for row in frame.itertuples():
            if not isinstance(row.label, tuple):
                continue
            text = texts.get(row.item_id)
            for span in row.label:
                if not isinstance(span, Span):
                    raise InputError(f"span {span!r} is not (start, end, label)", path=self.path, record=row._record, field="label")
                if span.start < 0 or span.end <= span.start:
                    raise InputError(
                        f"span [{span.start}, {span.end}) of label {span.label!r} is empty or reversed",
                        path=self.path, record=row._record, field="spans",
                    )
                if isinstance(text, str) and span.end > len(text):
                    raise InputError(
                        f"span [{span.start}, {span.end}) of label {span.label!r} ends past the text's "
                        f"{len(text)} characters",
                        path=self.path, record=row._record, field="spans",
                    )

    def _question_specs(self, annotations: pd.DataFrame) -> list[QuestionSpec]:
        specs = []
        for question in annotations["question"].cat.categories:
            if question in self._questions:
                specs.append(self._questions[question])
                continue
            labels = annotations.loc[annotations["question"] == question, "label"]
            specs.append(QuestionSpec(str(question), infer_question_kind(labels)))
        for question, spec in self._questions.items():
            if question not in set(annotations["question"].cat.categories):
                specs.append(spec)
        return specs

    def _normalise(self, label: Any) -> Any:
        if not self.options.normalize_labels:
            return label
        if isinstance(label, str):
            return " ".join(label.split()).casefold()
        if isinstance(label, frozenset):
            return frozenset(" ".join(str(v).split()).casefold() for v in label)
        return label

    def _skip_summary(self) -> str:
        counts: dict[str, int] = {}
        for record in self._skipped:
            counts[record.reason] = counts.get(record.reason, 0) + 1
        return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))

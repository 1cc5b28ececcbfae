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

import numpy as np
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
    _record_of_row: list[str | int] = field(default_factory=list)
    _skipped: list[SkippedRecord] = field(default_factory=list)
    _items: dict[str, dict] = field(default_factory=dict)
    _gold: list[dict] = field(default_factory=list)
    _questions: dict[str, QuestionSpec] = field(default_factory=dict)
    _notes: list[str] = field(default_factory=list)
    _blocks: list[_Block] = field(default_factory=list)
    _item_frames: list[pd.DataFrame] = field(default_factory=list)
    _gold_frames: list[pd.DataFrame] = field(default_factory=list)

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
        self._record_of_row.append(record)

    def add_frame(self, frame: pd.DataFrame, values: np.ndarray, records: np.ndarray) -> None:
        """Many labels at once (the vectorized route of long tables).

        ``frame`` has ``item_id``, ``annotator_id``, ``question`` (categoricals of str, best) and
        ``label``: an integer code per row into ``values`` (the distinct parsed labels, an object
        array; -1 for no label), plus any optional canonical column (``created_at``,
        ``lead_time_s``, ``batch``, ``annotator_kind``). ``records`` names each row's record (its
        line or row number) for messages and the load report. Empty labels are counted when the
        set is built; ``normalize_labels`` is applied to ``values``, once per distinct label.
        """
        if len(records) != len(frame):
            raise ValueError(f"{len(records)} record names for {len(frame)} rows")
        normalised = np.empty(len(values), dtype=object)
        for position, value in enumerate(values):
            normalised[position] = self._normalise(value)
        self._blocks.append(_Block(frame.reset_index(drop=True), normalised, np.asarray(records)))

    def add_items(self, frame: pd.DataFrame) -> None:
        """Many items at once: ``item_id`` and ``text`` / metadata columns, one row per item."""
        self._item_frames.append(frame)

    def add_gold_frame(self, frame: pd.DataFrame) -> None:
        """Many gold labels at once: ``item_id``, ``question``, ``label`` (already parsed; rows
        with a missing label are dropped)."""
        frame = frame.loc[~frame["label"].map(is_missing_label)]
        if self.options.normalize_labels:
            frame = frame.assign(label=frame["label"].map(self._normalise))
        self._gold_frames.append(frame[["item_id", "question", "label"]])

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
        if not self._rows and not self._blocks and not self._gold and not self._gold_frames:
            detail = f" ({len(self._skipped)} records skipped: {self._skip_summary()})" if self._skipped else ""
            raise InputError(f"the export holds no annotations{detail}", path=self.path)
        block = _concat_blocks(self._all_blocks())
        block = self._drop_empty(block)
        block = self._drop_duplicates(block)
        items = canonical_items(self._items_frame(), block.frame["item_id"])
        self._check_spans(block, items)
        # an object Series: pandas would infer its "str" dtype for a column of strings and copy
        # every label into an Arrow array, only for canonical_annotations to copy them back
        frame = block.frame.drop(columns="label").assign(label=pd.Series(_labels_of(block), dtype=object, copy=False))
        annotations = canonical_annotations(frame)
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
            gold=canonical_gold(self._gold_frame()),
            questions=questions_table(self._question_specs(block)),
            load_report=report,
        )

    def _all_blocks(self) -> list[_Block]:
        blocks = list(self._blocks)
        if self._rows:
            values = np.empty(len(self._rows), dtype=object)
            for position, row in enumerate(self._rows):
                values[position] = row["label"]
            frame = pd.DataFrame([{k: v for k, v in row.items() if k != "label"} for row in self._rows])
            for column in ("item_id", "annotator_id", "question"):
                frame[column] = pd.Categorical(frame[column])
            frame["label"] = np.arange(len(values), dtype=np.int64)
            blocks.insert(0, _Block(frame, values, np.asarray(self._record_of_row, dtype=object)))
        if not blocks:
            return [_Block(_empty_annotation_frame(), np.empty(0, dtype=object), np.empty(0, dtype=object))]
        return blocks

    def _drop_empty(self, block: _Block) -> _Block:
        """Rows whose label is missing are skipped as ``empty`` (rows from :meth:`add` already were)."""
        codes = block.frame["label"].to_numpy()
        value_missing = np.fromiter((is_missing_label(v) for v in block.values), dtype=bool, count=len(block.values))
        missing = codes < 0
        missing[~missing] = value_missing[codes[~missing]]
        if not missing.any():
            return block
        dropped = block.frame.loc[missing]
        for record, question, annotator in zip(
            block.records[missing], dropped["question"].astype(object), dropped["annotator_id"].astype(object), strict=False
        ):
            self.skip("empty", record, f"question {question!r}, annotator {annotator!r}")
        return block.take(~missing)

    def _drop_duplicates(self, block: _Block) -> _Block:
        """Keep the latest annotation per (item, annotator, question); count the others.

        "Latest" is the largest ``created_at``; rows without one count as older than any dated row,
        and among equals the later row of the export wins."""
        key = ["item_id", "annotator_id", "question"]
        frame = block.frame
        row_key = _row_keys(frame, key)
        if not _has_repeats(row_key.to_numpy()):
            return block
        order = pd.to_datetime(frame["created_at"], utc=True, errors="coerce") if "created_at" in frame else None
        sorter = pd.DataFrame({"order": order if order is not None else pd.NaT, "position": np.arange(len(frame))})
        permutation = sorter.sort_values(["order", "position"], na_position="first", kind="stable").index.to_numpy()
        duplicated = np.zeros(len(frame), dtype=bool)
        duplicated[permutation] = row_key.iloc[permutation].duplicated(keep="last").to_numpy()
        dropped = frame.loc[duplicated, key].astype(object)
        for record, row in zip(block.records[duplicated], dropped.itertuples(index=False), strict=True):
            self.skip(
                "duplicate",
                record,
                f"item {row.item_id}, annotator {row.annotator_id}, question {row.question}",
            )
        return block.take(~duplicated)

    def _check_spans(self, block: _Block, items: pd.DataFrame) -> None:
        """Every span is ``Span(start, end, label)`` with ``0 <= start < end <= len(text)``."""
        is_span_value = np.fromiter((isinstance(v, tuple) for v in block.values), dtype=bool, count=len(block.values))
        if not is_span_value.any():
            return
        span_rows = is_span_value[block.frame["label"].to_numpy()]
        item_ids = block.frame.loc[span_rows, "item_id"].astype(str).to_numpy()
        if "text" in items.columns:
            texts = items.set_index("item_id")["text"].reindex(item_ids).to_numpy(dtype=object)
        else:
            texts = np.full(len(item_ids), None, dtype=object)
        codes = block.frame["label"].to_numpy()[span_rows]
        for record, code, text in zip(block.records[span_rows], codes, texts, strict=True):
            self._check_span_tuple(block.values[code], text, record.item() if isinstance(record, np.generic) else record)

    def _check_span_tuple(self, spans: tuple, text: Any, record: Any) -> None:
        for span in spans:
            if not isinstance(span, Span):
                raise InputError(f"span {span!r} is not (start, end, label)", path=self.path, record=record, field="label")
            if span.start < 0 or span.end <= span.start:
                raise InputError(
                    f"span [{span.start}, {span.end}) of label {span.label!r} is empty or reversed",
                    path=self.path, record=record, field="spans",
                )
            if isinstance(text, str) and span.end > len(text):
                raise InputError(
                    f"span [{span.start}, {span.end}) of label {span.label!r} ends past the text's "
                    f"{len(text)} characters",
                    path=self.path, record=record, field="spans",
                )

    def _question_specs(self, block: _Block) -> list[QuestionSpec]:
        """Declared questions as declared; the others inferred from their distinct labels."""
        question = block.frame["question"]
        if not isinstance(question.dtype, pd.CategoricalDtype):
            question = question.astype("category")
        label_codes = block.frame["label"].to_numpy().astype(np.int64)
        width = len(block.values) + 1
        distinct = np.unique(question.cat.codes.to_numpy().astype(np.int64) * width + (label_codes + 1))
        pairs = pd.DataFrame({"q": distinct // width, "l": distinct % width - 1})
        specs = []
        present = [str(q) for q in question.cat.categories[np.unique(pairs["q"].to_numpy())]]
        for code, name in zip(np.unique(pairs["q"].to_numpy()), present, strict=True):
            if name in self._questions:
                specs.append(self._questions[name])
                continue
            values = pd.Series(block.values[pairs.loc[pairs["q"] == code, "l"].to_numpy()], dtype=object)
            specs.append(QuestionSpec(name, infer_question_kind(values)))
        for name, spec in self._questions.items():
            if name not in present:
                specs.append(spec)
        return specs

    def _items_frame(self) -> pd.DataFrame:
        frames = [pd.DataFrame(list(self._items.values()))] if self._items else []
        frames += self._item_frames
        if not frames:
            return pd.DataFrame({"item_id": pd.Series(dtype=object)})
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def _gold_frame(self) -> pd.DataFrame | list[dict]:
        if not self._gold_frames:
            return self._gold
        frames = ([pd.DataFrame(self._gold)] if self._gold else []) + self._gold_frames
        return pd.concat(frames, ignore_index=True)

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


@dataclass(frozen=True)
class _Block:
    """Annotations held as a frame whose ``label`` column is an integer code into ``values``
    (-1: no label), with the record name of every row."""

    frame: pd.DataFrame
    values: np.ndarray
    records: np.ndarray

    def take(self, mask: np.ndarray) -> _Block:
        return _Block(self.frame.loc[mask].reset_index(drop=True), self.values, self.records[mask])


def _row_keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One int64 per row that is equal exactly when the rows agree on ``columns`` (combined
    categorical codes: one hash of an integer per row instead of one per column)."""
    codes = [frame[c].cat.codes.to_numpy().astype(np.int64) + 1 if isinstance(frame[c].dtype, pd.CategoricalDtype)
             else None for c in columns]
    sizes = [len(frame[c].cat.categories) + 1 for c, code in zip(columns, codes, strict=True) if code is not None]
    if any(code is None for code in codes) or float(np.prod(sizes, dtype=float)) >= 2.0**62:
        return pd.Series(pd.MultiIndex.from_frame(frame[columns].astype(object)).factorize()[0])
    key = np.zeros(len(frame), dtype=np.int64)
    for code, size in zip(codes, sizes, strict=True):
        key = key * size + code
    return pd.Series(key)


def _has_repeats(keys: np.ndarray) -> bool:
    """Whether any non-negative integer key occurs twice (a sort, not a hash table per row).

    >>> _has_repeats(np.array([3, 1, 2])), _has_repeats(np.array([3, 1, 3]))
    (False, True)
    """
    if len(keys) < 2:
        return False
    ordered = np.sort(keys, kind="stable")
    return bool((ordered[1:] == ordered[:-1]).any())


def _concat_blocks(blocks: list[_Block]) -> _Block:
    if len(blocks) == 1:
        return blocks[0]
    offsets = np.cumsum([0] + [len(b.values) for b in blocks[:-1]])
    frames = []
    for block, offset in zip(blocks, offsets, strict=True):
        codes = block.frame["label"].to_numpy()
        frames.append(block.frame.assign(label=np.where(codes < 0, -1, codes + offset)))
    combined = pd.concat([_decategorised(frame) for frame in frames], ignore_index=True)
    for column in ("item_id", "annotator_id", "question"):
        combined[column] = pd.Categorical(combined[column])
    values = np.concatenate([b.values for b in blocks])
    records = np.concatenate([np.asarray(b.records, dtype=object) for b in blocks])
    return _Block(combined, values, records)


def _decategorised(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({c: object for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})


def _labels_of(block: _Block) -> np.ndarray:
    """The label objects of every row (shared references to ``values``: no object per row)."""
    return block.values[block.frame["label"].to_numpy()]


def _empty_annotation_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.Categorical([]),
            "annotator_id": pd.Categorical([]),
            "question": pd.Categorical([]),
            "label": np.empty(0, dtype=np.int64),
        }
    )

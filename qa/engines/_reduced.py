"""What every engine shares: from a backend's group-by results to the coefficients of ``metrics``.

A backend (DuckDB, Spark) answers a handful of group-by queries over a long table it never loads
into Python (:class:`Backend`); :class:`ReducedAnnotationSet` turns their small results into the
sufficient statistics of ``metrics`` (value-count patterns, pair tables, label counts, window x
label counts) with the loader's own rules, and calls the same coefficient code as the in-memory
engine (``alpha_from_patterns``, ``kappa_from_patterns``, ``cohen_kappa_from_table``,
``class_balance_from_counts``, ``drift_from_counts``). No coefficient is written here.

Reading rules are the long-table loader's (:mod:`qa.loaders.long_table`): labels are parsed once
per distinct value with its parser (a question is numeric when every label of it is a number),
rows with an empty label are skipped first, then duplicates (same item, annotator and question)
keep the latest ``created_at`` (rows without one count as oldest), ties going to the later row of
the file, ``is_gold`` rows are gold answers, not annotations, and metrics read human annotators.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from metrics.alpha import alpha_from_patterns
from metrics.balance import ClassBalance, class_balance_from_counts
from metrics.bootstrap import BOOTSTRAP_REPLICATES
from metrics.drift import DriftResult, drift_from_counts
from metrics.errors import MetricInputError
from metrics.kappa import (
    PATTERN_COEFFICIENTS,
    WEIGHT_KINDS,
    cohen_kappa_from_table,
    kappa_from_patterns,
)
from metrics.ratings import Patterns, canonical_patterns, label_values
from metrics.result import AgreementResult
from qa.errors import InputError
from qa.loaders.long_table import _id_column, parse_labels
from qa.schema import (
    ANNOTATOR_KINDS,
    QuestionSpec,
    _id_string,
    infer_question_kind,
    is_missing_label,
    question_spec,
    questions_table,
)

SUPPORTED_KINDS = ("categorical", "ordinal", "interval")
"""Question kinds the engines reduce; multi-label and span questions need the in-memory engine."""

KEY_BITS = 62
"""A pattern is packed into one BIGINT key (``count_v << (v * bits)``) when V x bits fits here;
otherwise it is grouped as the sorted list of its value codes."""

WINDOW_COLUMNS = {"batch": "batch", "annotator": "annotator", "annotator_id": "annotator",
                  "model_vs_human": "kind", "annotator_kind": "kind", "day": "day", "week": "week"}
"""``by`` of :func:`metrics.label_drift` -> the reduced column holding the window."""


CANONICAL_COLUMNS = ("item_id", "annotator_id", "label", "question", "created_at", "batch", "annotator_kind", "is_gold")
"""The long-table columns an engine reads (the rest of the table is ignored)."""


COLUMN_ALIASES = {"item": "item_id", "annotator": "annotator_id", "kind": "annotator_kind"}
"""Short names a column map may use (the long-table loader's)."""


def resolve_columns(
    types: dict[str, str],
    column_map: dict[str, str],
    source: str,
    *,
    nested_label: Callable[[str], bool],
) -> dict[str, str]:
    """Canonical name -> the file's column, with the loader's aliases and messages.

    ``types`` maps the file's columns to their engine type names; ``nested_label`` tells whether
    a type is a list/struct/map (a multi-label or span answer, which the engines do not reduce).
    """
    mapped = {COLUMN_ALIASES.get(k, k): v for k, v in column_map.items()}
    columns = {}
    for name in CANONICAL_COLUMNS:
        column = mapped.get(name, name)
        if column in types:
            columns[name] = column
        elif name in mapped:
            raise InputError(f"column_map maps {name} to {column!r}, but there is no such column", path=source, field=column)
    for name in ("item_id", "annotator_id", "label"):
        if name not in columns:
            shown = ", ".join(c for c in types if c != "__row")
            raise InputError(f"missing required column {name!r}; the columns are: {shown}", path=source, field=name)
    label_type = types[columns["label"]]
    if nested_label(label_type):
        raise InputError(
            f"the label column holds {label_type} values (multi-label or spans): the engines reduce "
            "categorical and numeric questions only; load it with engine='pandas'",
            path=source, field="label",
        )
    return columns


class EngineUnsupportedError(MetricInputError):
    """The engines do not compute this (a multi-label or span question, a breakdown)."""


class Backend(Protocol):
    """The group-by queries an engine answers. Every result is a small pandas DataFrame.

    Columns named ``question`` and ``label`` hold the file's raw values; ``q`` the question name
    and ``code`` the value code assigned by :meth:`ReducedAnnotationSet._label_mapping`.
    """

    name: str
    source: str
    source_kind: str  # "parquet", "csv" or "table"
    has_columns: frozenset

    def inventory(self) -> pd.DataFrame:
        """``question, label, gold, kind, n, first_row, missing_item, missing_annotator,
        bad_timestamp`` grouped by the first four (every row of the source)."""

    def build_kept(self, mapping: Any) -> tuple[int, int]:
        """Deduplicate the non-gold rows whose label is in ``mapping`` (``question, label, q,
        code``); returns ``(kept_rows, duplicate_rows)``."""

    def value_counts(self) -> pd.DataFrame:
        """``q, code, human, n`` over the kept rows."""

    def item_patterns(self, question: str, n_codes: int, bits: int | None) -> tuple[pd.DataFrame, int]:
        """Human rows of ``question``: ``(patterns, pairable_annotators)``; patterns has
        ``n_items`` and either ``key`` (BIGINT, ``bits`` per value) or ``codes`` (sorted list)."""

    def annotators(self, question: str, limit: int) -> tuple[int, list[str]]:
        """Distinct human annotators of ``question`` and up to ``limit`` of their names."""

    def pair_counts(self, question: str, a: str, b: str) -> tuple[pd.DataFrame, int, int]:
        """``code_a, code_b, n`` on the items both rated, and the items each rated."""

    def window_counts(self, question: str, by: str) -> pd.DataFrame:
        """``window, code, n`` over human rows (``window`` NULL: rows without one)."""

    def raw_column(self, canonical: str) -> str | None:
        """The source's column holding a canonical column (after ``column_map``), or None."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class QuestionReduction:
    """The reduced tables of one question (human annotators).

    Attributes
    ----------
    question, kind : the question and its kind (inferred as the loader infers it).
    values : the values present, in :func:`metrics.ratings.label_values` order.
    patterns : value-count patterns of every rated item (canonical order), columns ``values``.
    n_annotators : annotators with a rating; ``n_pairable_annotators``: with a rating on an item
        with two or more ratings.
    annotator_names : the annotators' names when there are at most two (for Cohen's kappa).
    """

    question: str
    kind: str
    values: np.ndarray
    patterns: Patterns
    n_annotators: int
    n_pairable_annotators: int
    annotator_names: tuple[str, ...] = ()

    def label_counts(self) -> pd.Series:
        """Ratings per value (the sufficient statistic of class balance)."""
        totals = np.asarray(self.patterns.weights @ self.patterns.dense_counts()).astype(np.int64)
        return pd.Series(totals, index=pd.Index(list(self.values), dtype=object, name="label"))

    def declared(self, categories: Sequence[Any] | None, level: str) -> tuple[Patterns, np.ndarray]:
        """The patterns over the values as ``prepare_ratings(categories=..., level=...)`` orders
        them (declared categories first-class, absent ones as zero columns)."""
        values = label_values(self.values, categories=categories, level=level)
        if categories is None and level in ("nominal", "multilabel"):
            return self.patterns, values
        position = pd.Index(values, dtype=object if values.dtype == object else float).get_indexer(
            pd.Index(self.values, dtype=object if values.dtype == object else float)
        )
        counts = self.patterns.dense_counts()
        remapped = np.zeros((counts.shape[0], len(values)), dtype=np.int64)
        remapped[:, position] = counts
        return canonical_patterns(remapped, self.patterns.weights), values


@dataclass(frozen=True)
class EngineLoadReport:
    """What an engine read and skipped: counts only (a 100M-row table is never listed row by row).

    ``skipped_counts``: rows per reason (``empty``, ``duplicate``), as the loader's report.
    """

    source: str
    format: str
    engine: str
    records_read: int
    annotations_loaded: int
    skipped_counts: dict[str, int] = field(default_factory=dict)
    gold_rows: int = 0
    notes: tuple[str, ...] = ()


class ReducedAnnotationSet:
    """An annotation table reduced by an engine, never loaded: what ``qa.load(engine=...)`` returns.

    The heavy work (reading, deduplicating, grouping) runs in the engine when the object is made;
    each metric then runs one more group-by for its question and the ``metrics`` code on the
    result. Supported: Krippendorff's alpha (every level), the pattern coefficients of
    :data:`metrics.kappa.PATTERN_COEFFICIENTS` (Fleiss, Scott, Gwet, Brennan-Prediger, Randolph,
    percent agreement), Cohen's kappa, class balance and label drift, on categorical, ordinal and
    interval questions. Results equal the in-memory engine's (to 1e-12, intervals included).

    Attributes
    ----------
    engine : ``"duckdb"`` or ``"spark"``.
    questions : one row per question: ``question``, ``kind``, ``categories`` (always empty: a long
        table declares none), ``level`` (the same table as ``AnnotationSet.questions``).
    load_report : :class:`EngineLoadReport`.
    columns : the canonical columns the table has (``batch``, ``created_at``, ...).
    """

    def __init__(self, backend: Backend, *, question: str | None = None) -> None:
        self._backend = backend
        self.engine = backend.name
        self.columns = frozenset(c for c in CANONICAL_COLUMNS if backend.raw_column(c))
        self._reductions: dict[str, QuestionReduction] = {}
        self._codes: dict[str, np.ndarray] = {}
        inventory = backend.inventory()
        self._check_inventory(inventory)
        mapping = self._label_mapping(inventory)
        kept, duplicates = backend.build_kept(mapping)
        counts = backend.value_counts()
        self._human_counts = counts[counts["human"]]
        self.questions = self._questions_table(inventory, counts)
        gold = int(inventory.loc[inventory["gold"], "n"].sum())
        empty = int(inventory["n"].sum()) - gold - kept - duplicates
        skipped = {k: v for k, v in {"duplicate": duplicates, "empty": empty}.items() if v}
        self.load_report = EngineLoadReport(
            source=backend.source, format=backend.source_kind, engine=backend.name,
            records_read=int(inventory["n"].sum()), annotations_loaded=kept,
            skipped_counts=skipped, gold_rows=gold,
        )

    # -- the AnnotationSet surface ---------------------------------------------------------
    @property
    def question_names(self) -> list[str]:
        return [str(q) for q in self.questions["question"]]

    def question(self, name: str) -> QuestionSpec:
        """The :class:`~qa.schema.QuestionSpec` of question ``name``."""
        return question_spec(self.questions, name)

    def close(self) -> None:
        """Release the engine (DuckDB's database file, the Spark cache)."""
        self._backend.close()

    def __enter__(self) -> ReducedAnnotationSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reductions ------------------------------------------------------------------------
    def reduce(self, question: str) -> QuestionReduction:
        """The value-count patterns (and counts) of one question: one group-by in the engine."""
        if question not in self._reductions:
            self._reductions[question] = self._reduce(question)
        return self._reductions[question]

    def label_counts(self, question: str) -> pd.Series:
        """Ratings per value of one question (human annotators)."""
        return self.reduce(question).label_counts()

    def window_label_counts(self, question: str, by: str = "batch") -> tuple[pd.DataFrame, int]:
        """The windows x labels count table of :func:`metrics.drift.label_counts`, and the rows
        without a window."""
        self._require_supported(question)
        column = WINDOW_COLUMNS.get(by)
        if column is None or (column not in ("day", "week") and column not in self._backend.has_columns):
            raise EngineUnsupportedError(
                f"by={by!r}: the engines make windows from {sorted(WINDOW_COLUMNS)} "
                f"(the table has columns {sorted(self._backend.has_columns)})"
            )
        raw = self._backend.window_counts(question, column)
        without = int(raw.loc[raw["window"].isna(), "n"].sum())
        raw = raw[raw["window"].notna()]
        order = self._window_order(column, raw["window"])
        labels = self._decode(question, raw["code"].to_numpy())
        frame = pd.DataFrame({"window": raw["window"].map(order["name"]).to_numpy(), "label": labels,
                              "n": raw["n"].to_numpy(np.int64)})
        table = frame.pivot_table(index="window", columns="label", values="n", aggfunc="sum", fill_value=0)
        names = [n for n in order.sort_values("rank")["name"].drop_duplicates() if n in set(table.index)]
        table = table.reindex(index=pd.Index(names, name="window"), fill_value=0)
        table = table.reindex(columns=sorted(table.columns, key=str))
        table.columns.name = "label"
        return table.astype(np.int64), without

    def pair_table(
        self, question: str, a: Any = None, b: Any = None, *, categories: Sequence[Any] | None = None,
        level: str = "nominal",
    ) -> tuple[np.ndarray, int, np.ndarray]:
        """The ``V x V`` table of annotators ``a`` (rows) and ``b`` on their shared items, the
        items only one of them rated, and the values (``label_values`` order)."""
        reduction = self.reduce(question)
        a, b = self._two_annotators(reduction, a, b)
        pairs, n_a, n_b = self._backend.pair_counts(question, str(a), str(b))
        for role, name, count in (("a", a, n_a), ("b", b, n_b)):
            if count == 0:
                raise MetricInputError(f"annotator {role}={name!r} has no rating of question {question!r}")
        values = label_values(reduction.values, categories=categories, level=level)
        position = self._positions(question, values)
        table = np.zeros((len(values), len(values)), dtype=np.int64)
        np.add.at(table, (position[pairs["code_a"].to_numpy(np.int64)], position[pairs["code_b"].to_numpy(np.int64)]),
                  pairs["n"].to_numpy(np.int64))
        shared = int(table.sum())
        return table, n_a + n_b - 2 * shared, values

    # -- metrics ---------------------------------------------------------------------------
    def krippendorff_alpha(
        self, question: str, level: str | None = None, *, distance: Any = None,
        categories: Sequence[Any] | None = None, n_boot: int = BOOTSTRAP_REPLICATES,
        ci_level: float = 0.95, seed: int | None = 0, alpha_min: float | None = None,
    ) -> AgreementResult:
        """:func:`metrics.krippendorff_alpha` of one question (``level``: the question's)."""
        reduction = self.reduce(question)
        level = level or self.question(question).level
        patterns, values = reduction.declared(categories, level)
        return alpha_from_patterns(
            patterns, values, level, distance=distance, n_annotators=reduction.n_pairable_annotators,
            n_boot=n_boot, ci_level=ci_level, seed=seed, alpha_min=alpha_min,
        )

    def kappa(
        self, question: str, coefficient: str = "fleiss_kappa", *, weights: str | np.ndarray | None = None,
        categories: Sequence[Any] | None = None, interval: str = "bootstrap",
        n_boot: int = BOOTSTRAP_REPLICATES, ci_level: float = 0.95, seed: int | None = 0,
    ) -> AgreementResult:
        """A multi-rater coefficient of :data:`metrics.kappa.PATTERN_COEFFICIENTS`."""
        if coefficient not in PATTERN_COEFFICIENTS:
            raise EngineUnsupportedError(
                f"coefficient {coefficient!r} is not computed by the engines; they compute "
                f"krippendorff_alpha, cohen_kappa and {', '.join(PATTERN_COEFFICIENTS)}"
            )
        reduction = self.reduce(question)
        patterns, values = reduction.declared(categories, _weights_level(weights))
        return kappa_from_patterns(
            patterns, values, coefficient, n_annotators=reduction.n_pairable_annotators, weights=weights,
            interval=interval, n_boot=n_boot, ci_level=ci_level, seed=seed,
        )

    def fleiss_kappa(self, question: str, *, method: str = "fleiss", **options: Any) -> AgreementResult:
        """:func:`metrics.fleiss_kappa` of one question."""
        return self.kappa(question, "randolph_kappa" if method == "randolph" else "fleiss_kappa", **options)

    def cohen_kappa(
        self, question: str, a: Any = None, b: Any = None, weights: str | np.ndarray | None = None,
        categories: Sequence[Any] | None = None, *, interval: str = "bootstrap",
        n_boot: int = BOOTSTRAP_REPLICATES, ci_level: float = 0.95, seed: int | None = 0,
    ) -> AgreementResult:
        """:func:`metrics.cohen_kappa` of annotators ``a`` and ``b`` on one question."""
        table, single, _ = self.pair_table(question, a, b, categories=categories, level=_weights_level(weights))
        return cohen_kappa_from_table(
            table, weights=weights, n_unpairable_items=single, pair=(a, b), interval=interval,
            n_boot=n_boot, ci_level=ci_level, seed=seed,
        )

    def class_balance(self, question: str, categories: Sequence[Any] | None = None, **options: Any) -> ClassBalance:
        """:func:`metrics.class_balance` of one question's labels (human annotators)."""
        return class_balance_from_counts(self.label_counts(question), categories, **options)

    def label_drift(self, question: str, by: str = "batch", **options: Any) -> DriftResult:
        """:func:`metrics.label_drift` of one question (``by``: batch, day, week, annotator,
        model_vs_human)."""
        counts, without = self.window_label_counts(question, by)
        return drift_from_counts(counts, by, rows_without_window=without, **options)

    # -- internals -------------------------------------------------------------------------
    def _check_inventory(self, inventory: pd.DataFrame) -> None:
        source = self._backend.source
        for column, field_name in (("missing_item", "item_id"), ("missing_annotator", "annotator_id")):
            if inventory[column].sum():
                raise InputError(f"{field_name} is empty in {int(inventory[column].sum())} rows", path=source, field=field_name)
        if inventory["bad_timestamp"].sum():
            raise InputError(
                f"{int(inventory['bad_timestamp'].sum())} created_at values are not timestamps the engine can "
                "read (ISO 8601, e.g. 2026-03-02T09:14:05Z, or a Parquet timestamp)",
                path=source, field="created_at",
            )
        kinds = inventory["kind"].dropna().unique()
        unknown = [k for k in kinds if k not in ANNOTATOR_KINDS]
        if unknown:
            raise InputError(f"{unknown[0]!r} is not an annotator kind; expected one of {', '.join(ANNOTATOR_KINDS)}",
                             path=source, field="annotator_kind")
        if inventory["question"].isna().any():
            raise InputError("question is empty", path=source, field="question")

    def _label_mapping(self, inventory: pd.DataFrame) -> pd.DataFrame:
        """Each distinct (question, raw label) -> the question name and a per-question code, parsed
        by the loader's own parser; missing labels are left out (their rows are ``empty``)."""
        records = inventory["first_row"].to_numpy(np.int64) + (2 if self._backend.source_kind == "csv" else 1)
        path = Path(self._backend.source)
        question = _id_column(inventory["question"].astype(object), "question", records, path)
        codes, parsed, _ = parse_labels(question, inventory["label"].astype(object), records, path)
        values = parsed[codes]
        present = np.fromiter((not is_missing_label(v) for v in values), dtype=bool, count=len(values))
        names = question.astype(str).to_numpy()
        self._question_order = self._category_order("question", inventory["question"], names)
        mapping = pd.DataFrame({"question": inventory["question"], "label": inventory["label"], "q": names,
                                "value": values})[present]
        mapping = mapping.drop_duplicates(["question", "label"])
        mapping["code"] = -1
        for name, group in mapping.groupby("q", sort=False):  # one iteration per question
            distinct = pd.unique(pd.Series(group["value"].to_numpy(), dtype=object))
            self._codes[name] = distinct
            lookup = {_value_key(v): i for i, v in enumerate(distinct)}
            mapping.loc[group.index, "code"] = [lookup[_value_key(v)] for v in group["value"]]
        return mapping[["question", "label", "q", "code"]].reset_index(drop=True)

    def _category_order(self, canonical: str, raw: pd.Series, names: np.ndarray) -> list[str]:
        """The loader's category order of the raw values of a column: the order of the Parquet
        dictionaries for Parquet text (as ``pyarrow`` reads them), numbers numerically, sorted
        text otherwise (``read_csv(dtype="category")``)."""
        frame = pd.DataFrame({"raw": raw.to_numpy(object), "name": names}).drop_duplicates("name")
        column = self._backend.raw_column(canonical)
        if self._backend.source_kind == "parquet" and column and all(isinstance(v, str) for v in frame["raw"]):
            order = {value: rank for rank, value in enumerate(parquet_category_order(self._backend.source, column))}
            return frame.assign(rank=frame["raw"].map(order)).sort_values("rank", kind="stable")["name"].tolist()
        if all(isinstance(v, (int, float, np.integer, np.floating)) for v in frame["raw"]):
            return frame.sort_values("raw")["name"].tolist()
        return sorted(frame["name"])

    def _questions_table(self, inventory: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
        specs = []
        for name in self._question_order:
            present = counts.loc[counts["q"] == name, "code"].unique()
            if len(present) == 0 and name not in set(counts["q"]):
                continue
            labels = pd.Series(self._codes[name][np.sort(present)], dtype=object)
            specs.append(QuestionSpec(name, infer_question_kind(labels)))
        return questions_table(specs)

    def _require_supported(self, question: str) -> str:
        kind = self.question(question).kind
        if kind not in SUPPORTED_KINDS:
            raise EngineUnsupportedError(
                f"question {question!r} is a {kind} question: the {self.engine} engine reduces "
                f"{', '.join(SUPPORTED_KINDS)} questions only; load it in memory (engine='pandas')"
            )
        return kind

    def _reduce(self, question: str) -> QuestionReduction:
        kind = self._require_supported(question)
        codes = self._codes[question]
        human = self._human_counts[self._human_counts["q"] == question]
        present = np.sort(human["code"].to_numpy(np.int64))
        values = label_values(codes[present]) if len(present) else np.empty(0, dtype=object)
        n_annotators, names = self._backend.annotators(question, 2)
        if n_annotators == 2:  # Cohen's a and b: the loader's annotator (category) order
            order = self._window_order("annotator", pd.Series(names, dtype=object))
            names = [str(n) for n in order.sort_values("rank")["name"]]
        bits = max(int(n_annotators).bit_length(), 1)
        packed = len(codes) * bits <= KEY_BITS
        raw, pairable_annotators = self._backend.item_patterns(question, len(codes), bits if packed else None)
        position = self._positions(question, values)
        counts = _pattern_counts(raw, packed, bits, position, len(values))
        patterns = canonical_patterns(counts, raw["n_items"].to_numpy(np.int64))
        return QuestionReduction(
            question=question, kind=kind, values=values, patterns=patterns, n_annotators=n_annotators,
            n_pairable_annotators=pairable_annotators, annotator_names=tuple(names) if n_annotators <= 2 else (),
        )

    def _positions(self, question: str, values: np.ndarray) -> np.ndarray:
        """Engine code -> column of ``values`` (-1 for a code not among them)."""
        codes = self._codes[question]
        index = {_value_key(v): i for i, v in enumerate(values)}
        return np.array([index.get(_value_key(v), -1) for v in codes], dtype=np.int64)

    def _decode(self, question: str, codes: np.ndarray) -> np.ndarray:
        return self._codes[question][codes.astype(np.int64)]

    def _window_order(self, column: str, windows: pd.Series) -> pd.DataFrame:
        """Raw window -> its name and rank, as the loader and ``label_drift`` order them."""
        distinct = pd.unique(windows.astype(object))
        if column in ("day", "week"):
            names = [str(w) for w in distinct]
            ranks = pd.Series(names).rank(method="dense").to_numpy()
        elif column == "kind":
            names = [str(w) for w in distinct]
            ranks = [ANNOTATOR_KINDS.index(n) if n in ANNOTATOR_KINDS else len(ANNOTATOR_KINDS) for n in names]
        else:
            names = [_id_string(w) for w in distinct]
            canonical = {"batch": "batch", "annotator": "annotator_id"}[column]
            order = self._category_order(canonical, pd.Series(distinct, dtype=object), np.asarray(names, dtype=object))
            ranks = [order.index(n) for n in names]
        return pd.DataFrame({"name": names, "rank": ranks}, index=pd.Index(distinct, dtype=object))

    def _two_annotators(self, reduction: QuestionReduction, a: Any, b: Any) -> tuple[Any, Any]:
        if a is None and b is None:
            if reduction.n_annotators != 2:
                raise MetricInputError(
                    f"name the two annotators (a=..., b=...): the table has {reduction.n_annotators} annotators"
                )
            return reduction.annotator_names
        if a is None or b is None or a == b:
            raise MetricInputError(f"expected two different annotators a and b, got a={a!r}, b={b!r}")
        return a, b


def parquet_category_order(path: str, column: str) -> list:
    """The categories ``pyarrow`` gives a Parquet text column read as dictionaries (the loader's
    read): each row group's dictionary in order, new values appended. Reads one row group of one
    column at a time."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path, read_dictionary=[column])
    seen: dict = {}
    for group in range(parquet.num_row_groups):
        chunk = parquet.read_row_group(group, columns=[column]).column(0)
        for piece in chunk.chunks:
            values = piece.dictionary if pa.types.is_dictionary(piece.type) else pc.unique(piece)
            for value in values.to_pylist():  # distinct values only: a handful per row group
                seen.setdefault(value, None)
    return [value for value in seen if value is not None]


def _value_key(value: Any) -> Any:
    """A dict key equal for equal labels (floats by value, text by text)."""
    if isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(value, bool):
        return ("n", float(value))
    return ("t", value)


def _weights_level(weights: Any) -> str:
    """The level ``metrics.kappa`` encodes values for: weighted coefficients need an order."""
    if isinstance(weights, str) and weights not in WEIGHT_KINDS:
        raise MetricInputError(f"unknown weights {weights!r}; expected None, one of {WEIGHT_KINDS} or a q x q array")
    return "nominal" if weights is None else "ordinal"


def _pattern_counts(raw: pd.DataFrame, packed: bool, bits: int, position: np.ndarray, n_values: int) -> np.ndarray:
    """The P x V count matrix of an engine's pattern rows (keys or code lists), columns remapped."""
    n_patterns = len(raw)
    if packed:
        keys = raw["key"].to_numpy(np.int64)
        engine_codes = np.arange(len(position), dtype=np.int64)
        engine_counts = (keys[:, None] >> (engine_codes[None, :] * bits)) & ((1 << bits) - 1)
    else:
        lists = raw["codes"].to_list()
        lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=n_patterns)
        flat = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists]) if n_patterns else np.empty(0, np.int64)
        rows = np.repeat(np.arange(n_patterns), lengths)
        engine_counts = np.zeros((n_patterns, len(position)), dtype=np.int64)
        np.add.at(engine_counts, (rows, flat), 1)
    counts = np.zeros((n_patterns, n_values), dtype=np.int64)
    used = position >= 0
    counts[:, position[used]] = engine_counts[:, used]
    return counts


def memory_share_engine(path: str | Path, *, share: float = 0.25, expansion: float = 20.0) -> str:
    """``duckdb`` when loading ``path`` in memory would take more than ``share`` of the RAM
    (file size x ``expansion``, the in-memory footprint of a Parquet or CSV long table), else
    ``pandas``. Used by ``engine="auto"``."""
    size = Path(path).stat().st_size if Path(path).is_file() else 0
    return "duckdb" if size * expansion > share * total_memory_bytes() else "pandas"


def total_memory_bytes() -> int:
    """Physical memory of the machine (``os.sysconf``), or 8 GiB when unknown."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


__all__ = [
    "EngineLoadReport",
    "EngineUnsupportedError",
    "QuestionReduction",
    "ReducedAnnotationSet",
    "SUPPORTED_KINDS",
]

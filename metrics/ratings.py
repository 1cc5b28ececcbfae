"""The shared encoding of one question's ratings: integer codes and the sufficient statistics.

Every agreement coefficient starts here. :func:`prepare_ratings` validates a long table
(``item_id``, ``annotator_id``, ``label``) once, drops missing labels and encodes items,
annotators and values as integer codes; :class:`Ratings` holds the codes and their decoders.
:func:`value_patterns` reduces the ratings to the unique item x value count rows and how many
items share each one (DESIGN.md, "sufficient statistics"): every coefficient and its item
bootstrap are functions of those few rows, whatever the number of items.

:func:`from_wide` and :func:`from_counts` turn the other accepted shapes (an items x annotators
table, an items x categories counts table) into the long table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from metrics.errors import MetricInputError

LEVELS = ("nominal", "ordinal", "interval", "ratio", "multilabel")
"""Levels of measurement :func:`prepare_ratings` accepts (``multilabel``: frozenset labels)."""

DENSE_COUNT_CELLS = 50_000_000
"""Largest items x values count matrix held densely (400 MB of int64); beyond it, patterns are
per item over a sparse matrix (continuous ratings, where patterns are nearly as many as items)."""

_EXAMPLES_IN_MESSAGES = 5


@dataclass(frozen=True)
class Ratings:
    """One question's ratings as integer codes.

    Attributes
    ----------
    item_codes, annotator_codes, value_codes : int64 arrays, one entry per rating.
    items, annotators : decoders: ``items[item_codes[i]]`` is the item of rating ``i``.
    values : decoder of ``value_codes``: floats for numeric labels (sorted ascending unless
        categories were declared), objects otherwise (declared order, else sorted).
    level : the level of measurement the values were encoded for.
    n_unpairable_items : items dropped by :meth:`pairable` because they had a single rating.
    n_missing_labels : rows dropped because their label was missing.
    """

    item_codes: np.ndarray
    annotator_codes: np.ndarray
    value_codes: np.ndarray
    items: pd.Index
    annotators: pd.Index
    values: np.ndarray
    level: str = "nominal"
    n_unpairable_items: int = 0
    n_missing_labels: int = 0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_annotators(self) -> int:
        return len(self.annotators)

    @property
    def n_values(self) -> int:
        return len(self.values)

    @property
    def n_ratings(self) -> int:
        return len(self.value_codes)

    def count_matrix(self) -> sp.csr_matrix:
        """Items x values counts ``n_uc``: how many annotators gave value ``c`` to item ``u``."""
        ones = np.ones(self.n_ratings, dtype=np.int64)
        matrix = sp.coo_matrix(
            (ones, (self.item_codes, self.value_codes)), shape=(self.n_items, self.n_values)
        )
        return matrix.tocsr()

    def ratings_per_item(self) -> np.ndarray:
        """``m_u``: the number of ratings of each item (int64, indexed by item code)."""
        if "m" not in self._cache:
            self._cache["m"] = np.bincount(self.item_codes, minlength=self.n_items).astype(np.int64)
        return self._cache["m"]

    def pairable(self) -> Ratings:
        """Only the items with at least two ratings (codes re-indexed; values kept).

        Items with a single rating cannot form a pair: they are dropped and counted in
        ``n_unpairable_items``. Annotators left with no rating are dropped too.
        """
        per_item = self.ratings_per_item()
        single = int(np.count_nonzero(per_item == 1))
        if single == 0:
            return self
        keep = per_item[self.item_codes] >= 2
        item_codes, items = _compact(self.item_codes[keep], self.items)
        annotator_codes, annotators = _compact(self.annotator_codes[keep], self.annotators)
        return Ratings(
            item_codes=item_codes,
            annotator_codes=annotator_codes,
            value_codes=self.value_codes[keep],
            items=items,
            annotators=annotators,
            values=self.values,
            level=self.level,
            n_unpairable_items=self.n_unpairable_items + single,
            n_missing_labels=self.n_missing_labels,
        )


@dataclass(frozen=True)
class Patterns:
    """The unique rows of the items x values count matrix and how many items share each.

    Attributes
    ----------
    counts : P x V int64 counts (a dense ndarray; a scipy CSR matrix when the dense items x values
        matrix would exceed ``DENSE_COUNT_CELLS``, in which case every item is its own pattern).
    weights : P int64, the number of items with each pattern (sums to the number of items).
    item_pattern : the pattern of each item (indexed by item code); empty when the patterns come
        from an engine's reduction (:mod:`qa.engines`) or from :meth:`pairable`.

    Rows are in the canonical order of :func:`canonical_patterns`.
    """

    counts: np.ndarray | sp.csr_matrix
    weights: np.ndarray
    item_pattern: np.ndarray

    @property
    def n_patterns(self) -> int:
        return len(self.weights)

    @property
    def ratings_per_pattern(self) -> np.ndarray:
        """``m`` of each pattern (int64)."""
        return np.asarray(self.counts.sum(axis=1)).ravel().astype(np.int64)

    def dense_counts(self) -> np.ndarray:
        """``counts`` as a dense array."""
        return self.counts.toarray() if sp.issparse(self.counts) else self.counts

    @property
    def n_items(self) -> int:
        """Items the patterns stand for (the sum of the weights)."""
        return int(self.weights.sum())

    @property
    def n_ratings(self) -> int:
        """Ratings the patterns stand for: ``sum_p w_p m_p``."""
        return int(self.weights @ self.ratings_per_pattern)

    @property
    def n_single_rated_items(self) -> int:
        """Items with exactly one rating (unpairable)."""
        return int(self.weights[self.ratings_per_pattern == 1].sum())

    def pairable(self) -> Patterns:
        """Only the patterns with two or more ratings, in the same (canonical) order.

        ``item_pattern`` is dropped (empty): the patterns of pairable items are what every
        coefficient needs, and an engine's reduction has no per-item codes.
        """
        keep = self.ratings_per_pattern >= 2
        counts = self.counts[keep] if sp.issparse(self.counts) else self.counts[keep]
        if sp.issparse(counts) and counts.shape[0] * max(counts.shape[1], 1) <= DENSE_COUNT_CELLS:
            counts = counts.toarray().astype(np.int64)
        return Patterns(counts, self.weights[keep], np.empty(0, dtype=np.int64))


# ---------------------------------------------------------------------------------------------
# prepare_ratings
# ---------------------------------------------------------------------------------------------


def prepare_ratings(
    df: pd.DataFrame,
    *,
    categories: Sequence[Any] | None = None,
    level: str = "nominal",
    item: str = "item_id",
    annotator: str = "annotator_id",
    label: str = "label",
) -> Ratings:
    """Validate a long ratings table and encode it as integer codes.

    Parameters
    ----------
    df : long table, one row per item x annotator, of one question.
    categories : the declared values in order. For ``ordinal`` the order of text labels must be
        declared (it is never taken from sorted strings); numbers sort numerically. Labels outside
        the declared categories are an error. For multi-label (frozenset) labels, the declared
        categories are the atoms a set may hold.
    level : ``nominal`` (default), ``ordinal``, ``interval``, ``ratio`` or ``multilabel``.
    item, annotator, label : column names.

    Returns
    -------
    Ratings
        Missing labels (None, NaN, empty or blank strings, empty sets) are dropped and counted;
        they are never a category. Items left with no rating are dropped.

    Raises
    ------
    MetricInputError
        Missing columns, an unknown level, labels of mixed types (text and numbers), duplicate
        (item, annotator) rows, missing ids, labels outside the declared categories, text labels
        at the interval or ratio level, or ordinal text labels without a declared order.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": ["a", "a", "b", "b"], "annotator_id": ["x", "y", "x", "y"],
    ...                    "label": ["no", "yes", "yes", None]})
    >>> r = prepare_ratings(df)
    >>> r.n_items, r.n_ratings, list(r.values), r.n_missing_labels
    (2, 3, ['no', 'yes'], 1)
    """
    if level not in LEVELS:
        raise MetricInputError(f"level {level!r} is not one of {LEVELS}")
    _require_columns(df, (item, annotator, label))
    item_codes, items = _encode_ids(df[item], item)
    annotator_codes, annotators = _encode_ids(df[annotator], annotator)
    _require_unique_pairs(item_codes, annotator_codes, items, annotators, item, annotator)
    value_codes, values = _encode_labels(df[label], categories=categories, level=level)
    present = value_codes >= 0
    n_missing = int(len(value_codes) - np.count_nonzero(present))
    if n_missing:
        item_codes, annotator_codes, value_codes = (
            item_codes[present],
            annotator_codes[present],
            value_codes[present],
        )
    item_codes, items = _compact(item_codes, items)
    annotator_codes, annotators = _compact(annotator_codes, annotators)
    return Ratings(
        item_codes=item_codes,
        annotator_codes=annotator_codes,
        value_codes=value_codes,
        items=items,
        annotators=annotators,
        values=values,
        level=level,
        n_missing_labels=n_missing,
    )


def label_values(
    labels: Sequence[Any] | np.ndarray | pd.Series,
    *,
    categories: Sequence[Any] | None = None,
    level: str = "nominal",
) -> np.ndarray:
    """The values of one question in the order :func:`prepare_ratings` gives them.

    Numbers sort numerically, text (nominal) by its string, declared ``categories`` keep their
    order (and must hold every label); ordinal text needs declared categories. Missing labels are
    left out. Engines (:mod:`qa.engines`) call this on the distinct labels they reduced, so their
    pattern columns are the in-memory ones.

    Raises
    ------
    MetricInputError
        As :func:`prepare_ratings` for the same labels.

    Examples
    --------
    >>> label_values(["b", "a", None]).tolist(), label_values([10.0, 2.0]).tolist()
    (['a', 'b'], [2.0, 10.0])
    """
    if level not in LEVELS:
        raise MetricInputError(f"level {level!r} is not one of {LEVELS}")
    series = pd.Series(np.asarray(labels, dtype=object) if not isinstance(labels, pd.Series) else labels)
    _, values = _encode_labels(series, categories=categories, level=level)
    return values


def _require_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise MetricInputError(
            f"expected a pandas DataFrame with columns {list(columns)}, got {type(df).__name__}"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MetricInputError(
            f"the ratings table has no column {missing}; expected a long table with columns "
            f"{list(columns)} (one row per item x annotator); it has {list(df.columns)}"
        )


def _encode_ids(series: pd.Series, name: str) -> tuple[np.ndarray, pd.Index]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype(np.int64)
        uniques = pd.Index(series.cat.categories)
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        codes = codes.astype(np.int64, copy=False)
        uniques = pd.Index(uniques)
    if len(codes) and codes.min() < 0:
        rows = np.flatnonzero(codes < 0)[:_EXAMPLES_IN_MESSAGES].tolist()
        raise MetricInputError(
            f"column {name!r} has missing ids (rows {rows}); every rating needs an {name}"
        )
    return codes, uniques


def _require_unique_pairs(
    item_codes: np.ndarray,
    annotator_codes: np.ndarray,
    items: pd.Index,
    annotators: pd.Index,
    item: str,
    annotator: str,
) -> None:
    """One rating per (item, annotator): a second one would be counted as another rater."""
    key = item_codes * max(len(annotators), 1) + annotator_codes
    key_range = len(items) * max(len(annotators), 1)
    if key_range <= 8 * max(len(key), 1):
        has_duplicates = bool(len(key)) and np.bincount(key, minlength=key_range).max() > 1
    else:
        # a sort and a look at neighbours: ~10x faster than a hash set on millions of keys
        sorted_keys = np.sort(key)
        has_duplicates = bool(np.any(sorted_keys[1:] == sorted_keys[:-1]))
    if not has_duplicates:
        return
    duplicated = pd.Index(key)[pd.Index(key).duplicated()].unique()[:_EXAMPLES_IN_MESSAGES]
    n_annotators = max(len(annotators), 1)
    examples = [(items[k // n_annotators], annotators[k % n_annotators]) for k in duplicated]
    raise MetricInputError(
        f"duplicate ({item}, {annotator}) rows, e.g. {examples}; expected at most one label per "
        f"annotator and item in one question (deduplicate first, e.g. keep the latest)"
    )


def _compact(codes: np.ndarray, uniques: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Drop decoder entries no code uses and renumber the codes 0..k-1 (order kept)."""
    used = np.bincount(codes, minlength=len(uniques)) > 0
    if used.all():
        return codes, uniques
    new_code = np.cumsum(used) - 1
    return new_code[codes].astype(np.int64), uniques[used]


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------


def _encode_labels(
    series: pd.Series, *, categories: Sequence[Any] | None, level: str
) -> tuple[np.ndarray, np.ndarray]:
    """Codes (``-1`` for missing) into a decoder of values in their order for ``level``."""
    raw_codes, uniques = _factorize_labels(series)
    missing = _missing_mask(uniques)
    kind = _label_kind(uniques[~missing], level)
    present_uniques = uniques[~missing]
    if kind == "number":
        present_uniques = present_uniques.astype(float)
    if categories is not None:
        values, position = _order_by_declared(present_uniques, categories, kind, level)
    else:
        values, position = _order_observed(present_uniques, kind, level)
    lookup = np.full(len(uniques) + 1, -1, dtype=np.int64)
    lookup[np.flatnonzero(~missing)] = position
    return lookup[raw_codes], values


def _factorize_labels(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes with ``-1`` for NaN/None, and the uniques as a numpy array."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        # an unused category is not a value anyone gave: it must not count (e.g. in q for AC1)
        series = series.cat.remove_unused_categories()
        codes = series.cat.codes.to_numpy().astype(np.int64)
        uniques = np.asarray(series.cat.categories, dtype=object)
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        codes = codes.astype(np.int64, copy=False)
        uniques = np.asarray(uniques)
        if uniques.dtype.kind not in "fiub":
            uniques = uniques.astype(object)
    # -1 indexes the trailing slot of the lookup table, which is always "missing".
    return codes, uniques


def _missing_mask(uniques: np.ndarray) -> np.ndarray:
    if uniques.dtype.kind == "f":
        return np.isnan(uniques)
    if uniques.dtype.kind in "iub":
        return np.zeros(len(uniques), dtype=bool)
    return np.fromiter((is_missing_label(u) for u in uniques), dtype=bool, count=len(uniques))


def is_missing_label(value: Any) -> bool:
    """True for a missing label: None, NA, NaN, empty or blank text, an empty set. Never a
    category. An empty tuple of spans is a real answer ("no spans") and is not missing.

    >>> [is_missing_label(v) for v in (None, float("nan"), " ", frozenset(), (), "no")]
    [True, True, True, True, False, False]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    if isinstance(value, (frozenset, set)) and not value:
        return True
    return False


def _kind_of(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (frozenset, set)):
        return "set"
    if isinstance(value, tuple):
        return "spans"
    return type(value).__name__


def _label_kind(uniques: np.ndarray, level: str) -> str:
    if uniques.dtype.kind in "fiu":
        kinds = {"number"}
    elif uniques.dtype.kind == "b":
        kinds = {"bool"}
    else:
        kinds = {_kind_of(u) for u in uniques}
    if len(kinds) > 1:
        examples = {k: next(u for u in uniques if _kind_of(u) == k) for k in sorted(kinds)}
        raise MetricInputError(
            f"labels of mixed types in one question: {examples}; expected one type (all text "
            f"categories, all numbers, or all sets of categories); convert them first"
        )
    kind = kinds.pop() if kinds else "number" if level in ("interval", "ratio") else "text"
    if kind == "spans":
        raise MetricInputError(
            "span labels (tuples) cannot be rated here; use metrics.span_agreement"
        )
    if kind not in ("number", "text", "set", "bool"):
        raise MetricInputError(
            f"labels of type {kind!r} are not supported; expected str, number or frozenset"
        )
    if level in ("interval", "ratio") and kind != "number":
        raise MetricInputError(
            f"the {level} level needs numeric labels, got {kind} labels such as {uniques[0]!r}; "
            f"convert them to numbers or use level='nominal' / 'ordinal' with declared categories"
        )
    if level == "multilabel" and kind != "set":
        raise MetricInputError(
            f"the multilabel level needs frozenset labels, got {kind} labels such as {uniques[0]!r}"
        )
    if level == "ratio" and len(uniques) and np.min(uniques.astype(float)) < 0:
        raise MetricInputError(
            "the ratio level needs non-negative numbers (a ratio scale has a true zero)"
        )
    return kind


def _order_by_declared(
    uniques: np.ndarray, categories: Sequence[Any], kind: str, level: str
) -> tuple[np.ndarray, np.ndarray]:
    declared = list(categories)
    declared_index = pd.Index(declared, dtype=float if kind == "number" else object)
    if declared_index.has_duplicates:
        raise MetricInputError(f"declared categories repeat a value: {declared}")
    if kind == "set":
        return _order_sets(uniques, declared_index)
    position = declared_index.get_indexer(uniques)
    if (position < 0).any():
        unknown = uniques[position < 0][:_EXAMPLES_IN_MESSAGES].tolist()
        raise MetricInputError(
            f"labels outside the declared categories: {unknown}; the declared categories are {declared}"
        )
    values = (
        declared_index.to_numpy(dtype=float)
        if kind == "number"
        else np.asarray(declared, dtype=object)
    )
    return values, position.astype(np.int64)


def _order_sets(uniques: np.ndarray, atoms: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    known = set(atoms)
    unknown = sorted({str(a) for s in uniques for a in s if a not in known})
    if unknown:
        raise MetricInputError(
            f"labels outside the declared categories: {unknown[:_EXAMPLES_IN_MESSAGES]}; "
            f"the declared categories are {list(atoms)}"
        )
    return _order_observed(uniques, "set", "multilabel")


def _order_observed(uniques: np.ndarray, kind: str, level: str) -> tuple[np.ndarray, np.ndarray]:
    """Values in their natural order: numbers numerically, text and sets sorted (nominal only)."""
    if kind == "number":
        values, position = np.unique(uniques.astype(float), return_inverse=True)
        return values, position.astype(np.int64)
    if level == "ordinal":
        raise MetricInputError(
            "ordinal text labels need a declared order: pass categories=[lowest, ..., highest]; "
            "the order is never taken from sorted strings"
        )
    sort_key = [_sort_key(u) for u in uniques]
    order = sorted(range(len(uniques)), key=sort_key.__getitem__)
    values = np.empty(len(uniques), dtype=object)
    values[:] = [uniques[i] for i in order]
    # Equal keys (e.g. 1 and 1.0 as categories) merge into one value.
    keys = pd.Index([sort_key[i] for i in order], dtype=object)
    first = ~keys.duplicated()
    merged_code = np.cumsum(first) - 1
    position = np.empty(len(uniques), dtype=np.int64)
    position[order] = merged_code
    return values[first], position


def _sort_key(value: Any) -> tuple:
    if isinstance(value, (frozenset, set)):
        return (len(value), tuple(sorted(map(str, value))))
    return (str(value),)


# ---------------------------------------------------------------------------------------------
# Sufficient statistics
# ---------------------------------------------------------------------------------------------


def value_patterns(ratings: Ratings) -> Patterns:
    """Reduce ratings to the unique item x value count rows and how many items share each.

    With ``k`` raters and ``V`` values there are at most ``C(k+V-1, V)`` patterns, whatever the
    number of items, so coefficients and their item bootstrap (a multinomial over the pattern
    weights) cost the same for a thousand items as for a hundred million (DESIGN.md).

    Patterns are in the canonical order of :func:`canonical_patterns`, so the same items give the
    same patterns in the same order however they were reduced (in memory, DuckDB, Spark), and a
    seeded bootstrap gives the same interval. When the dense items x values matrix would exceed
    ``DENSE_COUNT_CELLS`` (continuous ratings with thousands of distinct values), the items are
    grouped over a sparse matrix.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": list("aabbcc"), "annotator_id": list("xyxyxy"),
    ...                    "label": ["p", "p", "q", "p", "p", "p"]})
    >>> patterns = value_patterns(prepare_ratings(df))
    >>> patterns.counts.tolist(), patterns.weights.tolist()
    ([[2, 0], [1, 1]], [2, 1])
    """
    n_items, n_values = ratings.n_items, ratings.n_values
    if n_items * max(n_values, 1) > DENSE_COUNT_CELLS:
        return canonical_patterns(ratings.count_matrix(), np.ones(n_items, dtype=np.int64))
    flat = ratings.item_codes * n_values + ratings.value_codes
    dense = np.bincount(flat, minlength=n_items * n_values).reshape(n_items, n_values)
    keys = _row_keys(dense)
    if keys is None:
        return canonical_patterns(dense, np.ones(n_items, dtype=np.int64))
    # Sorting by the base-(max+1) key is the canonical order (the last value is the most
    # significant digit), so no re-sort is needed.
    _, first, item_pattern, weights = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    return Patterns(
        dense[first].astype(np.int64), weights.astype(np.int64), item_pattern.astype(np.int64)
    )


def canonical_patterns(
    counts: np.ndarray | sp.spmatrix, weights: np.ndarray
) -> Patterns:
    """Merge identical count rows (adding their weights) and sort them in the canonical order.

    The canonical order compares rows on the count of the last value first, then the one before
    it, and so on (``np.lexsort(counts.T)``). Every engine reduces to this form, which makes
    a seeded item bootstrap give identical replicates whichever engine produced the rows.
    ``counts`` come back dense when ``P x V <= DENSE_COUNT_CELLS``, else as CSR.
    ``item_pattern`` maps each input row to its pattern.

    Examples
    --------
    >>> merged = canonical_patterns(np.array([[0, 2], [2, 0], [0, 2]]), np.array([1, 4, 2]))
    >>> merged.counts.tolist(), merged.weights.tolist(), merged.item_pattern.tolist()
    ([[2, 0], [0, 2]], [4, 3], [1, 0, 1])
    """
    weights = np.asarray(weights, dtype=np.int64)
    matrix = sp.csr_matrix(counts, dtype=np.int64)
    matrix.eliminate_zeros()
    matrix.sort_indices()
    if matrix.shape[0] == 0:
        empty = np.zeros((0, matrix.shape[1]), dtype=np.int64)
        return Patterns(empty, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    keys = _sparse_row_keys(matrix)
    _, first, row_pattern = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    row_pattern = row_pattern.ravel().astype(np.int64)
    merged_weights = np.bincount(row_pattern, weights=weights, minlength=len(first))
    unique_rows = matrix[first]
    n_values = matrix.shape[1]
    if len(first) * max(n_values, 1) <= DENSE_COUNT_CELLS:
        unique_rows = unique_rows.toarray().astype(np.int64)
    return Patterns(unique_rows, np.rint(merged_weights).astype(np.int64), row_pattern)


def _sparse_row_keys(matrix: sp.csr_matrix) -> np.ndarray:
    """Per row, its non-zero ``(value, count)`` pairs from the last value down, padded with
    ``(-1, 0)``: sorting these keys lexicographically is sorting rows by ``np.lexsort(counts.T)``
    (a row with a count at a later value, or a larger count there, sorts after)."""
    lengths = np.diff(matrix.indptr)
    width = max(int(lengths.max()), 1)
    keys = np.zeros((matrix.shape[0], 2 * width), dtype=np.int64)
    keys[:, 0::2] = -1
    row_of = np.repeat(np.arange(matrix.shape[0]), lengths)
    # position from the end of the row: the last stored value first
    slot = matrix.indptr[row_of + 1] - 1 - np.arange(len(row_of))
    keys[row_of, 2 * slot] = matrix.indices
    keys[row_of, 2 * slot + 1] = matrix.data
    return keys


def _row_keys(dense: np.ndarray) -> np.ndarray | None:
    """One exact int64 key per row (counts as digits in base max+1), or None when it overflows."""
    if dense.size == 0:
        return np.zeros(dense.shape[0], dtype=np.int64)
    base = int(dense.max()) + 1
    if dense.shape[1] * math.log2(base) >= 62:
        return None
    place = base ** np.arange(dense.shape[1], dtype=np.int64)
    return dense @ place


# ---------------------------------------------------------------------------------------------
# Other input shapes
# ---------------------------------------------------------------------------------------------


def from_wide(df: pd.DataFrame, item_column: str | None = None) -> pd.DataFrame:
    """An items x annotators table (one column per annotator) as a long table.

    Parameters
    ----------
    df : one row per item; one column per annotator holding its label (missing: NaN/None/"").
    item_column : the column holding the item ids; the index when None.

    Returns
    -------
    DataFrame with ``item_id``, ``annotator_id``, ``label`` (missing labels dropped).

    Examples
    --------
    >>> wide = pd.DataFrame({"ann1": ["a", "b"], "ann2": ["a", None]}, index=["i1", "i2"])
    >>> from_wide(wide).values.tolist()
    [['i1', 'ann1', 'a'], ['i1', 'ann2', 'a'], ['i2', 'ann1', 'b']]
    """
    frame = _items_as_column(df, item_column)
    annotators = [c for c in frame.columns if c != "item_id"]
    long = frame.melt(
        id_vars="item_id", value_vars=annotators, var_name="annotator_id", value_name="label"
    )
    long["label"] = long["label"].astype(object)
    long = long[~_missing_mask(long["label"].to_numpy())]
    long["item_id"] = long["item_id"].astype(str)
    long["annotator_id"] = long["annotator_id"].astype(str)
    return long.sort_values(["item_id", "annotator_id"], kind="stable").reset_index(drop=True)


def from_counts(df: pd.DataFrame, item_column: str | None = None) -> pd.DataFrame:
    """An items x categories counts table (e.g. Fleiss' layout) as a long table.

    Each item's ``n`` ratings get synthetic annotator ids ``r1..rn`` (per item: the same id on
    two items does not mean the same person, which Fleiss-type coefficients do not need).

    Examples
    --------
    >>> counts = pd.DataFrame({"yes": [2, 1], "no": [0, 1]}, index=["i1", "i2"])
    >>> from_counts(counts).values.tolist()
    [['i1', 'r1', 'yes'], ['i1', 'r2', 'yes'], ['i2', 'r1', 'yes'], ['i2', 'r2', 'no']]
    """
    frame = _items_as_column(df, item_column)
    categories = [c for c in frame.columns if c != "item_id"]
    counts = frame[categories].to_numpy()
    if not np.issubdtype(counts.dtype, np.number) or (counts < 0).any() or (counts % 1 != 0).any():
        raise MetricInputError(
            "a counts table needs non-negative whole numbers in every category column"
        )
    counts = counts.astype(np.int64)
    per_cell = counts.ravel()
    item_index = np.repeat(np.repeat(np.arange(len(frame)), len(categories)), per_cell)
    category_index = np.repeat(np.tile(np.arange(len(categories)), len(frame)), per_cell)
    starts = np.repeat(np.cumsum(counts.sum(axis=1)) - counts.sum(axis=1), counts.sum(axis=1))
    rater = np.arange(len(item_index)) - starts + 1
    return pd.DataFrame(
        {
            "item_id": frame["item_id"].astype(str).to_numpy()[item_index],
            "annotator_id": np.char.add("r", rater.astype(str)).astype(object),
            "label": np.asarray(categories, dtype=object)[category_index],
        }
    )


def _items_as_column(df: pd.DataFrame, item_column: str | None) -> pd.DataFrame:
    if item_column is None:
        frame = df.copy()
        frame.insert(0, "item_id", df.index.to_numpy())
        return frame.reset_index(drop=True)
    if item_column not in df.columns:
        raise MetricInputError(
            f"no column {item_column!r} holding the item ids; columns are {list(df.columns)}"
        )
    return df.rename(columns={item_column: "item_id"})

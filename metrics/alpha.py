"""Krippendorff's alpha from the sufficient statistics, with an item-bootstrap interval.

``alpha = 1 - D_o / D_e = 1 - (n - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck``, where
``o_ck = sum_u n_uc n_uk / (m_u - 1)`` (``c != k``) are the coincidences of pairable units
(items with ``m_u >= 2`` ratings), ``n_c`` their marginals, ``n = sum_c n_c`` and ``d_ck`` the
difference function of the level of measurement (Krippendorff 2011, 2019).

Everything is a weighted sum over the value-count patterns of :mod:`metrics.ratings`: per
pattern, its observed disagreement ``sum_{c != k} n_c n_k d_ck / (m - 1)`` (enumerated over the
pattern's non-zero values, never a values x values matrix per item) and its value counts. So a
bootstrap replicate is a multinomial draw of pattern weights followed by a few matrix products.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from metrics.bootstrap import BOOTSTRAP_REPLICATES, bootstrap_replicates, percentile_interval
from metrics.errors import MetricInputError
from metrics.ratings import LEVELS, Patterns, prepare_ratings, value_patterns
from metrics.result import AgreementResult, undefined_result

COEFFICIENT = "krippendorff_alpha"
ALPHA_RANGE = (-1.0, 1.0)
"""Range the bootstrap interval is clipped to."""

SET_DISTANCES = ("masi", "jaccard")
CUSTOM_DISTANCE_MAX_VALUES = 1000
"""A user distance is tabulated on every pair of distinct values (V^2 Python calls)."""

DENSE_DISTANCE_MAX_VALUES = 2048
"""Largest V x V difference matrix built at once (32 MB); beyond it, built in row blocks."""

_DISTANCE_ROW_BLOCK = 1024
_UNDEFINED_RELATIVE_TOLERANCE = 1e-12
_SYMMETRY_TOLERANCE = 1e-9


# ---------------------------------------------------------------------------------------------
# Difference functions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Metric:
    """A difference function ``d`` on value codes.

    ``pair`` maps two code arrays to ``d`` (vectorized); ``expected`` maps value totals ``N``
    (b x V) to ``sum_ck N_c N_k d_ck`` per row; ``max_difference`` scales the test for a zero
    expected disagreement.
    """

    name: str
    pair: Callable[[np.ndarray, np.ndarray], np.ndarray]
    expected: Callable[[np.ndarray], np.ndarray]
    max_difference: float = 1.0


def _nominal_metric() -> _Metric:
    def expected(totals: np.ndarray) -> np.ndarray:
        return totals.sum(axis=1) ** 2 - (totals**2).sum(axis=1)

    return _Metric("nominal", lambda a, b: (a != b).astype(float), expected)


def _interval_metric(values: np.ndarray) -> _Metric:
    """``d = (c - k)^2``; the expected sum has the closed form ``2 (n sum N x^2 - (sum N x)^2)``
    (values centred first, which leaves ``d`` unchanged and keeps the difference accurate)."""
    centered = values - values.mean() if len(values) else values

    def expected(totals: np.ndarray) -> np.ndarray:
        return _squared_spread(totals, centered)

    spread = float(np.ptp(values)) ** 2 if len(values) else 1.0
    return _Metric(
        "interval", lambda a, b: (centered[a] - centered[b]) ** 2, expected, spread or 1.0
    )


def _squared_spread(totals: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``sum_ck N_c N_k (x_c - x_k)^2 = 2 (n sum N x^2 - (sum N x)^2)`` per row (``positions``
    broadcast against ``totals``)."""
    n = totals.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (totals * positions).sum(axis=1) / n
    deviations = np.broadcast_to(positions, totals.shape) - np.nan_to_num(mean)[:, None]
    # After centring on the weighted mean, sum N x = 0 and the closed form is 2 n sum N x^2.
    return 2.0 * n * (totals * deviations**2).sum(axis=1)


def _ratio_difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    total = x + y
    with np.errstate(invalid="ignore", divide="ignore"):
        difference = ((x - y) / total) ** 2
    return np.where(total == 0, 0.0, difference)


def _ratio_metric(values: np.ndarray) -> _Metric:
    if len(values) <= DENSE_DISTANCE_MAX_VALUES:
        return _matrix_metric("ratio", _ratio_difference(values[:, None], values[None, :]))

    def rows(start: int, stop: int) -> np.ndarray:
        return _ratio_difference(values[start:stop, None], values[None, :])

    return _Metric(
        "ratio",
        lambda a, b: _ratio_difference(values[a], values[b]),
        lambda totals: _quadratic_form(totals, rows),
    )


def _matrix_metric(name: str, matrix: np.ndarray) -> _Metric:
    return _Metric(
        name,
        lambda a, b: matrix[a, b],
        lambda totals: _quadratic_form(totals, lambda start, stop: matrix[start:stop]),
        float(matrix.max()) if matrix.size and matrix.max() > 0 else 1.0,
    )


def _quadratic_form(
    totals: np.ndarray, matrix_rows: Callable[[int, int], np.ndarray]
) -> np.ndarray:
    """``sum_ck N_c N_k d_ck`` per row, the V x V matrix built in row blocks when V is large."""
    n_values = totals.shape[1]
    block = n_values if n_values <= DENSE_DISTANCE_MAX_VALUES else _DISTANCE_ROW_BLOCK
    result = np.zeros(totals.shape[0])
    for start in range(0, n_values, block):
        stop = min(start + block, n_values)
        result += ((totals[:, start:stop] @ matrix_rows(start, stop)) * totals).sum(axis=1)
    return result


def _mid_ranks(marginals: np.ndarray) -> np.ndarray:
    """Krippendorff's ordinal positions ``r_c = sum_{g <= c} n_g - n_c / 2``: his ordinal
    difference ``(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2`` equals ``(r_k - r_c)^2``."""
    return np.cumsum(marginals, axis=-1) - marginals / 2.0


def _ordinal_metric(marginals: np.ndarray) -> _Metric:
    """The ordinal difference on fixed marginals (for per-item shares of ``D_o``)."""
    ranks = _mid_ranks(marginals.astype(float))
    ranks = ranks - ranks.mean() if len(ranks) else ranks
    return _Metric(
        "ordinal",
        lambda a, b: (ranks[a] - ranks[b]) ** 2,
        lambda totals: _squared_spread(totals, _mid_ranks(totals)),
        float(marginals.sum()) ** 2 or 1.0,
    )


def masi_distance(a: frozenset, b: frozenset) -> float:
    """MASI distance between two label sets (Passonneau 2006): ``1 - J * M``.

    ``J`` is the Jaccard index ``|a & b| / |a | b|``; ``M`` is 1 when the sets are equal, 2/3 when
    one contains the other, 1/3 when they overlap otherwise, 0 when disjoint. (NLTK rounds 2/3 and
    1/3 to 0.67 and 0.33.)

    Examples
    --------
    >>> round(masi_distance(frozenset("ab"), frozenset("a")), 6)
    0.666667
    """
    union = len(a | b)
    if union == 0:
        return 0.0
    common = len(a & b)
    if a == b:
        monotonicity = 1.0
    elif a <= b or b <= a:
        monotonicity = 2.0 / 3.0
    elif common:
        monotonicity = 1.0 / 3.0
    else:
        monotonicity = 0.0
    return 1.0 - (common / union) * monotonicity


def jaccard_distance(a: frozenset, b: frozenset) -> float:
    """Jaccard distance between two label sets: ``1 - |a & b| / |a | b|``.

    Examples
    --------
    >>> jaccard_distance(frozenset("ab"), frozenset("bc"))
    0.6666666666666667
    """
    union = len(a | b)
    return 0.0 if union == 0 else 1.0 - len(a & b) / union


def _tabulate_distance(
    values: np.ndarray, distance: Callable[[Any, Any], float], name: str
) -> np.ndarray:
    """The V x V table of a distance on the observed values, validated as a difference function."""
    n_values = len(values)
    if n_values > CUSTOM_DISTANCE_MAX_VALUES:
        raise MetricInputError(
            f"distance {name!r} would be evaluated on {n_values}^2 value pairs; at most "
            f"{CUSTOM_DISTANCE_MAX_VALUES} distinct values are supported with a Python distance"
        )
    matrix = np.array(
        [[float(distance(a, b)) for b in values] for a in values], dtype=float
    ).reshape(n_values, n_values)
    _require_difference_function(matrix, values, name)
    return matrix


def _require_difference_function(matrix: np.ndarray, values: np.ndarray, name: str) -> None:
    problems = [
        (~np.isfinite(matrix), "is not a finite number"),
        (matrix < 0, "is negative"),
        (
            np.abs(matrix - matrix.T) > _SYMMETRY_TOLERANCE * (1.0 + np.abs(matrix)),
            "is not symmetric: d(a, b) != d(b, a)",
        ),
    ]
    diagonal = np.zeros_like(matrix, dtype=bool)
    np.fill_diagonal(diagonal, np.abs(np.diag(matrix)) > 0)
    problems.append((diagonal, "is not zero on identical values: d(a, a) != 0"))
    for mask, what in problems:
        if mask.any():
            i, j = np.argwhere(mask)[0]
            raise MetricInputError(
                f"distance {name!r} is not a difference function on these values: "
                f"d({values[i]!r}, {values[j]!r}) = {matrix[i, j]!r} {what}; expected a "
                f"non-negative, symmetric function that is zero on identical values"
            )


def difference_metric(
    level: str, distance: str | Callable | None, values: np.ndarray, marginals: np.ndarray
) -> _Metric:
    """The difference function of ``level``/``distance`` with the ordinal ranks fixed at
    ``marginals`` (the pairable value totals): used for per-item shares of ``D_o``."""
    level, distance = _resolve_level(level, distance)
    metric = _fixed_metric(level, distance, values)
    return metric if metric is not None else _ordinal_metric(marginals)


def _fixed_metric(
    level: str, distance: str | Callable | None, values: np.ndarray
) -> _Metric | None:
    """The difference function, or None for the ordinal level (it depends on the marginals)."""
    if callable(distance):
        return _matrix_metric(
            "custom", _tabulate_distance(values, distance, getattr(distance, "__name__", "custom"))
        )
    if distance in SET_DISTANCES:
        if len(values) and not all(isinstance(v, (frozenset, set)) for v in values):
            raise MetricInputError(
                f"distance {distance!r} compares label sets; expected frozenset labels"
            )
        function = masi_distance if distance == "masi" else jaccard_distance
        return _matrix_metric(distance, _tabulate_distance(values, function, distance))
    if distance is not None:
        raise MetricInputError(
            f"distance {distance!r} is not one of {SET_DISTANCES} or a callable d(a, b)"
        )
    if level == "ordinal":
        return None
    if level == "interval":
        return _interval_metric(values.astype(float))
    if level == "ratio":
        return _ratio_metric(values.astype(float))
    return _nominal_metric()


# ---------------------------------------------------------------------------------------------
# Sufficient statistics
# ---------------------------------------------------------------------------------------------


def _within_row_pairs(indptr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``(i, j)``, ``i < j``, of stored entries of the same CSR row, and its row."""
    lengths = np.diff(indptr)
    n_stored = int(indptr[-1])
    row_of = np.repeat(np.arange(len(lengths)), lengths)
    later = lengths[row_of] - (np.arange(n_stored) - indptr[row_of]) - 1
    first = np.repeat(np.arange(n_stored), later)
    group_start = np.repeat(np.cumsum(later) - later, later)
    second = first + (np.arange(len(first)) - group_start) + 1
    return first, second, row_of[first]


def pair_disagreement(
    counts: np.ndarray | sp.spmatrix, difference: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """Per row of a count matrix: ``sum_{c != k} n_c n_k d(c, k)`` over the row's non-zero values.

    Costs the number of within-row pairs of distinct values, never V x V per row.
    """
    matrix = sp.csr_matrix(counts)
    matrix.sort_indices()
    first, second, row = _within_row_pairs(matrix.indptr)
    weight = (
        matrix.data[first].astype(float)
        * matrix.data[second]
        * difference(matrix.indices[first], matrix.indices[second])
    )
    return 2.0 * np.bincount(row, weights=weight, minlength=matrix.shape[0])


@dataclass(frozen=True)
class _AlphaStatistic:
    """Alpha as a vectorized function of pattern weights (``b x P`` -> ``b``).

    ``observed`` holds each pattern's ``sum_{c != k} n_c n_k d_ck / (m - 1)`` (None for the
    ordinal level, whose ``d`` moves with the marginals of each replicate).
    """

    counts: np.ndarray | sp.csr_matrix
    ratings_per_pattern: np.ndarray
    metric: _Metric | None
    observed: np.ndarray | None

    def totals(self, weights: np.ndarray) -> np.ndarray:
        """Value totals ``N`` (b x V) of the weighted patterns."""
        if sp.issparse(self.counts):
            return np.asarray((self.counts.T @ weights.T).T)
        return weights @ self.counts

    def parts(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(n, sum o d, sum N N d)`` per row of ``weights``."""
        weights = np.asarray(weights, dtype=float)
        totals = self.totals(weights)
        n = totals.sum(axis=1)
        if self.metric is None:
            return (
                n,
                self._ordinal_observed(weights, totals),
                _squared_spread(totals, _mid_ranks(totals)),
            )
        return n, weights @ self.observed, self.metric.expected(totals)

    def _ordinal_observed(self, weights: np.ndarray, totals: np.ndarray) -> np.ndarray:
        """``sum_p w_p (m_p sum n r^2 - (sum n r)^2) * 2 / (m_p - 1)`` with each replicate's ranks."""
        ranks = _mid_ranks(totals)
        with np.errstate(invalid="ignore", divide="ignore"):
            ranks = (
                ranks - np.nan_to_num((totals * ranks).sum(axis=1) / totals.sum(axis=1))[:, None]
            )
        counts = self.counts
        first = np.asarray(counts @ ranks.T)
        second = np.asarray(counts @ (ranks**2).T)
        m = self.ratings_per_pattern[:, None].astype(float)
        per_pattern = 2.0 * (m * second - first**2) / (m - 1.0)
        return (weights * per_pattern.T).sum(axis=1)

    def max_difference(self, n: np.ndarray) -> np.ndarray:
        return n**2 if self.metric is None else np.full_like(n, self.metric.max_difference)

    def __call__(self, weights: np.ndarray) -> np.ndarray:
        n, observed, expected = self.parts(weights)
        undefined = expected <= _UNDEFINED_RELATIVE_TOLERANCE * n**2 * self.max_difference(n)
        with np.errstate(invalid="ignore", divide="ignore"):
            alpha = 1.0 - (n - 1.0) * observed / expected
        return np.where(undefined | (n < 2), np.nan, alpha)


def _alpha_statistic(patterns: Patterns, metric: _Metric | None) -> _AlphaStatistic:
    m = patterns.ratings_per_pattern
    observed = None
    if metric is not None:
        observed = pair_disagreement(patterns.counts, metric.pair) / (m - 1.0)
    counts = patterns.counts if sp.issparse(patterns.counts) else patterns.counts.astype(float)
    return _AlphaStatistic(counts, m, metric, observed)


# ---------------------------------------------------------------------------------------------
# Public
# ---------------------------------------------------------------------------------------------


def krippendorff_alpha(
    df: pd.DataFrame,
    level: str = "nominal",
    *,
    distance: str | Callable[[Any, Any], float] | None = None,
    categories: Sequence[Any] | None = None,
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
    alpha_min: float | None = None,
) -> AgreementResult:
    r"""Krippendorff's alpha of one question, with an item-bootstrap percentile interval.

    .. math:: \alpha = 1 - \frac{D_o}{D_e}
       = 1 - (n - 1) \frac{\sum_{c,k} o_{ck} \delta^2_{ck}}{\sum_{c,k} n_c n_k \delta^2_{ck}},
       \qquad o_{ck} = \sum_u \frac{n_{uc} n_{uk}}{m_u - 1}

    Parameters
    ----------
    df : long table (``item_id``, ``annotator_id``, ``label``) of one question; any number of
        annotators, any pattern of missing labels.
    level : ``nominal`` (default; never a silent interval), ``ordinal`` (Krippendorff's rank
        metric on the coincidence marginals), ``interval`` (squared difference), ``ratio``
        (``((c - k) / (c + k))^2``) or ``multilabel`` (frozenset labels, MASI distance).
    distance : ``"masi"`` or ``"jaccard"`` for frozenset labels, or a callable ``d(a, b)`` used as
        the difference function ``delta^2`` (non-negative, symmetric, zero on identical values;
        validated on the observed values). Overrides the level's difference.
    categories : declared values in order (required for ordinal text labels).
    n_boot : bootstrap replicates (0: no interval).
    ci_level : confidence level of the percentile interval.
    seed : seed of the bootstrap (the same seed gives the same interval).
    alpha_min : when given, ``details["prob_below_alpha_min"]`` is the share of replicates below
        it (Krippendorff's q; also ``result.prob_below(alpha_min)``).

    Returns
    -------
    AgreementResult
        ``value`` NaN with ``status="insufficient_data"`` when no item has two ratings, and
        ``status="undefined"`` when the expected disagreement is 0 (every rating the same value).
        ``details``: ``observed_disagreement``, ``expected_disagreement``, ``n_pairable_values``,
        ``n_patterns``, ``distance``, ``undefined_replicates``.

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability.
    Krippendorff, K. (2019). Content Analysis, 4th ed., ch. 12.
    Passonneau, R. (2006). Measuring agreement on set-valued items (MASI).

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": list("aabbccdd"), "annotator_id": list("xyxyxyxy"),
    ...                    "label": ["p", "p", "q", "q", "p", "q", "q", "q"]})
    >>> result = krippendorff_alpha(df, n_boot=100)
    >>> round(result.value, 4), result.n_items, result.status
    (0.5333, 4, 'ok')
    """
    ratings = prepare_ratings(df, categories=categories, level=level)
    pairable = ratings.pairable()
    return alpha_from_patterns(
        value_patterns(pairable),
        pairable.values,
        level,
        distance=distance,
        n_annotators=pairable.n_annotators,
        n_unpairable_items=pairable.n_unpairable_items,
        n_boot=n_boot,
        ci_level=ci_level,
        seed=seed,
        alpha_min=alpha_min,
    )


def alpha_from_patterns(
    patterns: Patterns,
    values: np.ndarray,
    level: str = "nominal",
    *,
    n_annotators: int,
    distance: str | Callable[[Any, Any], float] | None = None,
    n_unpairable_items: int = 0,
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
    alpha_min: float | None = None,
) -> AgreementResult:
    """Krippendorff's alpha from the value-count patterns of one question (DESIGN.md,
    "sufficient statistics"): the entry point every engine calls.

    :func:`krippendorff_alpha` encodes a long table and calls this function; the DuckDB and
    Spark engines of :mod:`qa.engines` reduce a table they never load to the same patterns and
    call it too, so alpha is written once.

    Parameters
    ----------
    patterns : value-count patterns (:func:`metrics.ratings.value_patterns` or
        :func:`metrics.ratings.canonical_patterns`), one column per entry of ``values``, in the
        canonical order. Patterns with a single rating are dropped here and counted as
        unpairable items.
    values : the values of the pattern columns, ordered as :func:`metrics.ratings.label_values`
        orders them.
    level, distance, n_boot, ci_level, seed, alpha_min : as in :func:`krippendorff_alpha`.
    n_annotators : annotators with at least one rating on an item with two or more ratings
        (not recoverable from patterns).
    n_unpairable_items : single-rated items already removed from ``patterns``.

    Returns
    -------
    AgreementResult
        As :func:`krippendorff_alpha`; the same patterns and seed give the same interval.

    Examples
    --------
    >>> from metrics.ratings import canonical_patterns
    >>> patterns = canonical_patterns(np.array([[2, 0], [0, 2], [1, 1]]), np.array([1, 2, 1]))
    >>> result = alpha_from_patterns(patterns, np.array(["p", "q"], dtype=object), n_annotators=2,
    ...                              n_boot=0)
    >>> round(result.value, 4), result.n_items
    (0.5333, 4)
    """
    if level not in LEVELS:
        raise MetricInputError(f"level {level!r} is not one of {LEVELS}")
    if patterns.counts.shape[1] != len(values):
        raise MetricInputError(
            f"patterns have {patterns.counts.shape[1]} value columns but {len(values)} values were given"
        )
    metric_level, distance = _resolve_level(level, distance)
    n_unpairable_items += patterns.n_single_rated_items
    patterns = patterns.pairable()
    counts = dict(
        level=_level_name(level, distance),
        n_items=patterns.n_items,
        n_annotations=patterns.n_ratings,
        n_annotators=n_annotators if patterns.n_items else 0,
        n_unpairable_items=n_unpairable_items,
        ci_level=ci_level,
    )
    if patterns.n_items == 0:
        return undefined_result(
            COEFFICIENT,
            "no item has two or more ratings, so no pair of ratings can be compared",
            status="insufficient_data",
            **counts,
        )
    statistic = _alpha_statistic(patterns, _fixed_metric(metric_level, distance, values))
    n, observed, expected = (float(x[0]) for x in statistic.parts(patterns.weights[None, :]))
    value = float(statistic(patterns.weights[None, :])[0])
    details = {
        "observed_disagreement": observed / n,
        "expected_disagreement": expected / (n * (n - 1.0)),
        "n_pairable_values": n,
        "n_patterns": patterns.n_patterns,
        "distance": counts["level"],
    }
    if math.isnan(value):
        return undefined_result(
            COEFFICIENT,
            "expected disagreement is 0: every pairable rating is the same value (or the distance "
            "puts every pair of used values at 0), so alpha is 0/0",
            **counts,
        ).with_(details=details)
    return _with_interval(
        AgreementResult(coefficient=COEFFICIENT, value=value, details=details, **counts),
        statistic,
        patterns.weights,
        n_boot=n_boot,
        seed=seed,
        alpha_min=alpha_min,
    )


def _resolve_level(
    level: str, distance: str | Callable | None
) -> tuple[str, str | Callable | None]:
    if level == "multilabel":
        return "nominal", distance if distance is not None else "masi"
    return level, distance


def _level_name(level: str, distance: str | Callable | None) -> str:
    if callable(distance):
        return "custom"
    if distance is not None:
        return str(distance)
    return "masi" if level == "multilabel" else level


def _with_interval(
    result: AgreementResult,
    statistic: _AlphaStatistic,
    weights: np.ndarray,
    *,
    n_boot: int,
    seed: int | None,
    alpha_min: float | None,
) -> AgreementResult:
    if n_boot <= 0:
        return result
    replicates = bootstrap_replicates(weights, statistic, n_boot=n_boot, seed=seed)
    low, high, clipped = percentile_interval(replicates, result.ci_level, ALPHA_RANGE)
    details = dict(
        result.details, undefined_replicates=int(np.count_nonzero(~np.isfinite(replicates)))
    )
    result = result.with_(
        ci_low=low,
        ci_high=high,
        ci_method="bootstrap_percentile",
        ci_clipped=clipped,
        bootstrap_replicates=replicates,
        details=details,
    )
    if alpha_min is not None:
        details["prob_below_alpha_min"] = result.prob_below(alpha_min)
    return result

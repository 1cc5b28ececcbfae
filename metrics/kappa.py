"""The kappa family: chance-corrected agreement on categories.

Every coefficient here has the form ``(p_a - p_e) / (1 - p_e)``: observed agreement ``p_a``
corrected by the agreement ``p_e`` expected by chance; they differ only in ``p_e`` (Gwet 2014,
ch. 2-5). Two raters: :func:`cohen_kappa` and :func:`pabak` work on the ``V x V`` table of the
pair's shared items. Any number of raters with any pattern of missing labels:
:func:`fleiss_kappa` (= :func:`scott_pi`), :func:`conger_kappa`, :func:`gwet_ac`,
:func:`brennan_prediger` and :func:`percent_agreement` follow Gwet's (2014) generalized forms,
which reduce to the textbook formulas when every item has the same raters:

- ``p_a``: the mean over items with at least two ratings of
  ``sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))``, ``r_ik`` raters giving value ``k`` to item ``i``,
  ``r*_ik = sum_l w_kl r_il`` (``w`` the agreement weights; the identity when unweighted);
- ``pi_k``: the mean over items with at least one rating of ``r_ik / r_i``. Items with a single
  rating cannot show agreement but do show how categories are used: they enter ``pi_k`` (as in
  Gwet 2014 and irrCAC) and are counted in ``n_unpairable_items``.

Chance agreement ``p_e``: Fleiss/Scott ``sum_kl w_kl pi_k pi_l``; Brennan-Prediger/Randolph
``T_w / q^2`` (``T_w`` the sum of the weights, ``q`` the number of categories); Gwet's AC
``T_w / (q (q-1)) sum_k pi_k (1 - pi_k)``; Conger ``sum_kl w_kl (pi_k pi_l - s2_kl / r)`` with
the raters' own marginals. The analytic standard errors are Gwet's (2008) linearization
(``se`` field), which does not assume independent raters; irrCAC reproduces the same numbers.

Weights (``weights=``): ``None`` (identity), ``"linear"`` ``1 - |k-l|/(q-1)``, ``"quadratic"``
``1 - (k-l)^2/(q-1)^2``, ``"ordinal"`` Gwet's ordinal weights ``1 - C(|k-l|+1, 2) / C(q, 2)``,
or a ``q x q`` array of agreement weights. ``k`` and ``l`` are the *positions* of the categories in
their declared order (equally spaced, as in statsmodels and SAS), never the numeric labels and
never sorted strings. Gwet's ordinal weights are not Krippendorff's ordinal metric, which ranks
categories by their observed frequencies (see :func:`metrics.krippendorff_alpha`).

Intervals: ``interval="bootstrap"`` (default) is an item-bootstrap percentile interval computed
on the sufficient statistics (pattern counts, the pair table), ``"analytic"`` the normal interval
``value +- z se``, ``"none"`` none. Both are clipped to the coefficient's range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from metrics.bootstrap import BOOTSTRAP_REPLICATES, bootstrap_replicates, percentile_interval
from metrics.errors import MetricInputError
from metrics.ratings import Patterns, Ratings, prepare_ratings, value_patterns
from metrics.result import AgreementResult, undefined_result

WEIGHT_KINDS = ("linear", "quadratic", "ordinal")
"""Named agreement weights (``None`` means unweighted, the identity)."""

INTERVALS = ("bootstrap", "analytic", "none")
"""How a coefficient's confidence interval is computed."""

KAPPA_RANGE = (-1.0, 1.0)
"""Every chance-corrected coefficient here lies in [-1, 1]; intervals are clipped to it."""

PROPORTION_RANGE = (0.0, 1.0)

CHANCE_TOLERANCE = 1e-12
"""``1 - p_e`` at or below this is treated as zero: the coefficient is undefined."""
ROUNDING_ULPS = 16
"""Differences of two terms within this many ulps of the larger are rounding, taken as 0."""

_ONE_VALUE_REASON = "every rating is the same value: chance-corrected agreement is undefined"


# ---------------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------------


def agreement_weights(n_categories: int, weights: str | np.ndarray | None = None) -> np.ndarray:
    """The ``q x q`` agreement weight matrix ``w_kl`` (1 on the diagonal, in [0, 1]).

    Parameters
    ----------
    n_categories : ``q``, the number of categories in their declared order.
    weights : ``None`` (identity), ``"linear"``, ``"quadratic"``, ``"ordinal"`` (Gwet 2014,
        section 3.2) or a ``q x q`` array of agreement weights.

    Examples
    --------
    >>> agreement_weights(3, "linear").tolist()
    [[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]]
    >>> agreement_weights(3, "ordinal").tolist()
    [[1.0, 0.6666666666666667, 0.0], [0.6666666666666667, 1.0, 0.6666666666666667], [0.0, 0.6666666666666667, 1.0]]
    """
    q = int(n_categories)
    if weights is None:
        return np.eye(q)
    if isinstance(weights, str):
        if weights not in WEIGHT_KINDS:
            raise MetricInputError(
                f"unknown weights {weights!r}; expected None, one of {WEIGHT_KINDS} or a q x q array"
            )
        if q < 2:
            return np.eye(q)
        distance = np.abs(np.subtract.outer(np.arange(q), np.arange(q))).astype(float)
        if weights == "linear":
            return 1.0 - distance / (q - 1)
        if weights == "quadratic":
            return 1.0 - distance**2 / (q - 1) ** 2
        steps = (distance + 1) * distance / 2.0  # C(|k-l|+1, 2): Gwet's ordinal weights
        return 1.0 - steps / (q * (q - 1) / 2.0)
    return _validated_matrix(np.asarray(weights, dtype=float), q)


def _validated_matrix(matrix: np.ndarray, q: int) -> np.ndarray:
    if matrix.shape != (q, q):
        raise MetricInputError(
            f"weights must be a {q} x {q} matrix (one row per category), got shape {matrix.shape}"
        )
    if not np.allclose(np.diag(matrix), 1.0) or matrix.min() < 0 or matrix.max() > 1:
        raise MetricInputError("agreement weights need 1 on the diagonal and values in [0, 1]")
    if not np.allclose(matrix, matrix.T):
        raise MetricInputError("agreement weights must be symmetric (w_kl = w_lk)")
    return matrix


def _weights_label(weights: str | np.ndarray | None) -> str:
    if weights is None:
        return "nominal"
    return weights if isinstance(weights, str) else "custom"


def _require_known_weights(weights: str | np.ndarray | None) -> None:
    if isinstance(weights, str) and weights not in WEIGHT_KINDS:
        raise MetricInputError(
            f"unknown weights {weights!r}; expected None, one of {WEIGHT_KINDS} or a q x q array"
        )
    if weights is not None and not isinstance(weights, (str, np.ndarray, list, tuple)):
        raise MetricInputError(
            f"weights must be None, one of {WEIGHT_KINDS} or a q x q array, got {type(weights).__name__}"
        )


def _prepare(df: pd.DataFrame, categories: Sequence[Any] | None, weights: Any) -> Ratings:
    """Encode the table; weighted coefficients need ordered categories (declared for text)."""
    _require_known_weights(weights)
    level = "nominal" if weights is None else "ordinal"
    return prepare_ratings(df, categories=categories, level=level)


# ---------------------------------------------------------------------------------------------
# Intervals and results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counts:
    n_items: int
    n_annotations: int
    n_annotators: int
    n_unpairable_items: int


def _require_interval(interval: str, allowed: Sequence[str] = INTERVALS) -> None:
    if interval not in allowed:
        raise MetricInputError(f"unknown interval {interval!r}; expected one of {tuple(allowed)}")


def normal_interval(
    value: float, se: float, level: float, bounds: tuple[float, float]
) -> tuple[float, float, bool]:
    """``value -+ z se`` clipped to ``bounds``; ``(low, high, clipped)`` (NaN when ``se`` is)."""
    if not (math.isfinite(value) and math.isfinite(se)):
        return math.nan, math.nan, False
    z = stats.norm.ppf(0.5 + level / 2.0)
    low, high = value - z * se, value + z * se
    clipped_low, clipped_high = max(low, bounds[0]), min(high, bounds[1])
    return clipped_low, clipped_high, bool(clipped_low != low or clipped_high != high)


def _finish(
    coefficient: str,
    value: float,
    se: float,
    *,
    counts: _Counts,
    level: str,
    interval: str,
    ci_level: float,
    bounds: tuple[float, float],
    replicates: Callable[[], np.ndarray],
    details: dict,
    reason: str = "",
) -> AgreementResult:
    """An ``ok`` result with its interval (``replicates`` runs only for the bootstrap)."""
    analytic = normal_interval(value, se, ci_level, bounds)
    details = {**details, "analytic_ci_low": analytic[0], "analytic_ci_high": analytic[1]}
    draws = np.empty(0)
    low, high, clipped, method = math.nan, math.nan, False, "none"
    if interval == "bootstrap":
        draws = replicates()
    if draws.size:
        low, high, clipped = percentile_interval(draws, ci_level, bounds)
        method = "bootstrap_percentile"
    elif interval == "analytic":
        low, high, clipped = analytic
        method = "analytic"
    return AgreementResult(
        coefficient=coefficient,
        value=float(value),
        ci_low=low,
        ci_high=high,
        ci_level=ci_level,
        ci_method=method,
        se=float(se),
        n_items=counts.n_items,
        n_annotations=counts.n_annotations,
        n_annotators=counts.n_annotators,
        level=level,
        status="ok",
        reason=reason,
        n_unpairable_items=counts.n_unpairable_items,
        ci_clipped=clipped,
        bootstrap_replicates=draws,
        details=details,
    )


def _not_computable(
    coefficient: str, reason: str, status: str, counts: _Counts, level: str, ci_level: float
) -> AgreementResult:
    return undefined_result(
        coefficient,
        reason,
        status=status,
        level=level,
        n_items=counts.n_items,
        n_annotations=counts.n_annotations,
        n_annotators=counts.n_annotators,
        n_unpairable_items=counts.n_unpairable_items,
        ci_level=ci_level,
    )


# ---------------------------------------------------------------------------------------------
# Two raters: the pair table
# ---------------------------------------------------------------------------------------------


def pair_table(ratings: Ratings, a: int, b: int) -> tuple[np.ndarray, int]:
    """The ``V x V`` table of annotators ``a`` (rows) and ``b`` (columns) on their shared items,
    and the number of items only one of them rated."""
    n_items, n_values = ratings.n_items, ratings.n_values
    value_of = np.full((2, n_items), -1, dtype=np.int64)
    for row, annotator in enumerate((a, b)):
        mine = ratings.annotator_codes == annotator
        value_of[row, ratings.item_codes[mine]] = ratings.value_codes[mine]
    shared = (value_of >= 0).all(axis=0)
    single = int(np.count_nonzero((value_of >= 0).any(axis=0) & ~shared))
    cells = value_of[0, shared] * n_values + value_of[1, shared]
    return np.bincount(cells, minlength=n_values * n_values).reshape(n_values, n_values), single


def cohen_from_tables(
    tables: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cohen's (weighted) kappa and its large-sample SE for a stack of ``... x V x V`` tables.

    Returns ``(kappa, se, p_a, p_e)``. The SE is Fleiss, Cohen & Everitt (1969), in the form of
    statsmodels' ``cohens_kappa`` / SAS PROC FREQ. NaN where ``1 - p_e`` is zero.
    """
    tables = np.asarray(tables, dtype=float)
    n = tables.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = tables / n[..., None, None]
        rows, cols = p.sum(axis=-1), p.sum(axis=-2)
        p_a = (weights * p).sum(axis=(-2, -1))
        p_e = np.einsum("...k,kl,...l->...", rows, weights, cols)
        kappa = (p_a - p_e) / (1.0 - p_e)
        row_mean = np.einsum("kl,...l->...k", weights, cols)  # w_i. = sum_j w_ij p_.j
        col_mean = np.einsum("...k,kl->...l", rows, weights)  # w_.j = sum_i p_i. w_ij
        spread = (
            weights
            - (row_mean[..., :, None] + col_mean[..., None, :]) * (1.0 - kappa)[..., None, None]
        )
        term = (p * spread**2).sum(axis=(-2, -1))
        centre = (kappa - p_e * (1.0 - kappa)) ** 2
        difference = term - centre
        # a difference within rounding of its terms is 0 (perfect agreement): its square root
        # would turn 1e-17 of noise into an SE of 1e-9
        rounding = ROUNDING_ULPS * np.finfo(float).eps * np.maximum(term, centre)
        difference = np.where(np.abs(difference) <= rounding, 0.0, difference)
        variance = difference / ((1.0 - p_e) ** 2 * n)
        se = np.sqrt(np.maximum(variance, 0.0))
    undefined = (1.0 - p_e) <= CHANCE_TOLERANCE
    kappa = np.where(undefined, np.nan, kappa)
    se = np.where(undefined, np.nan, se)
    return kappa, se, p_a, p_e


def two_rater_from_tables(
    tables: np.ndarray, weights: np.ndarray, chance: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scott's pi (``"fleiss"``), Gwet's AC (``"gwet"``), Brennan-Prediger (``"uniform"``) or
    percent agreement (``"none"``) on stacks of two-rater tables, with Gwet's (2008) SE.

    A two-rater table is a set of item patterns: cell ``(k, l)`` holds items rated ``k`` and
    ``l``, so the multi-rater formulas apply cell by cell. The variance is Gwet's two-rater
    form (divided by ``n``, as his contingency-table formulas and Cohen's SE are), where the
    multi-rater functions use his raw-data form (divided by ``n - 1``): on the same pair the
    SEs differ by ``sqrt(n / (n - 1))``. Returns ``(value, se, p_a, p_e)``.
    """
    tables = np.asarray(tables, dtype=float)
    q = tables.shape[-1]
    n = tables.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = tables / n[..., None, None]
        pi = (p.sum(axis=-1) + p.sum(axis=-2)) / 2.0
        p_a = (weights * p).sum(axis=(-2, -1))
        p_e = _CHANCE[chance](pi, weights, q)
        per_value = _CHANCE_PER_VALUE[chance](pi, weights, q)  # p_e|i for a rating k
        cell_chance = (per_value[..., :, None] + per_value[..., None, :]) / 2.0
        value = _corrected(p_a, p_e, chance)
        cell_value = (weights - p_e[..., None, None]) / (1.0 - p_e)[..., None, None]
        if chance == "none":
            cell_value = np.broadcast_to(weights, tables.shape)
        linearized = (
            cell_value
            - 2.0
            * (1.0 - value)[..., None, None]
            * (cell_chance - p_e[..., None, None])
            / (1.0 - p_e)[..., None, None]
        )
        variance = (tables * (linearized - value[..., None, None]) ** 2).sum(axis=(-2, -1)) / n**2
        se = np.sqrt(variance)
    undefined = _undefined_mask(pi, p_e, chance)
    return np.where(undefined, np.nan, value), np.where(undefined, np.nan, se), p_a, p_e


def _corrected(p_a: np.ndarray, p_e: np.ndarray, chance: str) -> np.ndarray:
    if chance == "none":
        return p_a
    with np.errstate(divide="ignore", invalid="ignore"):
        return (p_a - p_e) / (1.0 - p_e)


def _undefined_mask(pi: np.ndarray, p_e: np.ndarray, chance: str) -> np.ndarray:
    """Where a chance-corrected value is undefined: one value used, or ``1 - p_e`` zero."""
    if chance == "none":
        return ~np.isfinite(pi).all(axis=-1)
    one_value = np.count_nonzero(pi > 0, axis=-1) < 2
    return one_value | ~((1.0 - p_e) > CHANCE_TOLERANCE)


# Chance agreement p_e as a function of the classification probabilities pi (..., q).
def _chance_fleiss(pi: np.ndarray, w: np.ndarray, q: int) -> np.ndarray:
    return np.einsum("...k,kl,...l->...", pi, w, pi)


def _chance_uniform(pi: np.ndarray, w: np.ndarray, q: int) -> np.ndarray:
    return np.full(pi.shape[:-1], w.sum() / q**2)


def _chance_gwet(pi: np.ndarray, w: np.ndarray, q: int) -> np.ndarray:
    if q < 2:
        return np.ones(pi.shape[:-1])
    return w.sum() / (q * (q - 1)) * (pi * (1.0 - pi)).sum(axis=-1)


def _chance_none(pi: np.ndarray, w: np.ndarray, q: int) -> np.ndarray:
    return np.zeros(pi.shape[:-1])


# The item's chance term p_e|i per rating value k: p_e|i = sum_k (r_ik / r_i) * per_value_k.
def _per_value_fleiss(pi: np.ndarray, w: np.ndarray, q: int) -> np.ndarray:
    return np.einsum("kl,...l->...k", w, pi)


def _per_value_uniform(pi: np.ndarray, w: np.ndarray, q: int) -> np.ndarray:
    return np.broadcast_to(_chance_uniform(pi, w, q)[..., None], pi.shape)


def _per_value_gwet(pi: np.ndarray, w: np.ndarray, q: int) -> np.ndarray:
    if q < 2:
        return np.ones(pi.shape)
    return w.sum() / (q * (q - 1)) * (1.0 - pi)


def _per_value_none(pi: np.ndarray, w: np.ndarray, q: int) -> np.ndarray:
    return np.zeros(pi.shape)


_CHANCE = {
    "fleiss": _chance_fleiss,
    "uniform": _chance_uniform,
    "gwet": _chance_gwet,
    "none": _chance_none,
}
_CHANCE_PER_VALUE = {
    "fleiss": _per_value_fleiss,
    "uniform": _per_value_uniform,
    "gwet": _per_value_gwet,
    "none": _per_value_none,
}


# ---------------------------------------------------------------------------------------------
# Cohen's kappa and PABAK
# ---------------------------------------------------------------------------------------------


def _annotator_code(ratings: Ratings, name: Any, role: str) -> int:
    position = ratings.annotators.get_indexer([name])[0]
    if position < 0:
        known = list(ratings.annotators[:10])
        raise MetricInputError(
            f"annotator {role}={name!r} has no rating in the table; annotators include {known}"
        )
    return int(position)


def _two_annotators(ratings: Ratings, a: Any, b: Any) -> tuple[int, int]:
    if a is None and b is None:
        if ratings.n_annotators != 2:
            raise MetricInputError(
                f"name the two annotators (a=..., b=...): the table has {ratings.n_annotators} annotators"
            )
        return 0, 1
    if a is None or b is None or a == b:
        raise MetricInputError(f"expected two different annotators a and b, got a={a!r}, b={b!r}")
    return _annotator_code(ratings, a, "a"), _annotator_code(ratings, b, "b")


def _pair_counts(table: np.ndarray, single: int) -> _Counts:
    shared = int(table.sum())
    return _Counts(
        n_items=shared,
        n_annotations=2 * shared,
        n_annotators=2 if shared else 0,
        n_unpairable_items=single,
    )


def cohen_kappa(
    df: pd.DataFrame,
    a: Any = None,
    b: Any = None,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    *,
    interval: str = "bootstrap",
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
) -> AgreementResult:
    r"""Cohen's kappa (weighted: Cohen 1968) of annotators ``a`` and ``b`` on their shared items.

    .. math:: \kappa = \frac{p_a - p_e}{1 - p_e},\quad p_a = \sum_{kl} w_{kl} p_{kl},\quad
              p_e = \sum_{kl} w_{kl} p_{k+} p_{+l}

    ``p_kl`` the share of shared items ``a`` rated ``k`` and ``b`` rated ``l``. ``se`` is the
    large-sample SE of Fleiss, Cohen & Everitt (1969), exactly as statsmodels'
    ``cohens_kappa`` (its interval is ``details["analytic_ci_low"/"analytic_ci_high"]``);
    the default interval is an item bootstrap, a multinomial resample of the table's cells.

    Parameters
    ----------
    df : long table (``item_id``, ``annotator_id``, ``label``) of one question.
    a, b : the two annotators (optional when the table has exactly two).
    weights : ``None``, ``"linear"``, ``"quadratic"``, ``"ordinal"`` or a ``V x V`` array; weights
        use category positions in the declared order (``categories``; numbers sort numerically).
    categories : declared categories, in order; the table is ``V x V`` over them.
    interval : ``"bootstrap"`` (default), ``"analytic"`` or ``"none"``.
    n_boot, ci_level, seed : bootstrap replicates, interval level, seed.

    Returns
    -------
    AgreementResult
        NaN with status ``insufficient_data`` when ``a`` and ``b`` share no item, ``undefined``
        when both used one and the same value (``p_e = 1``). ``details``: ``p_a``, ``p_e``,
        ``kappa_max``, ``table``.

    References
    ----------
    Cohen (1960), Educ. Psychol. Meas. 20:37-46; Cohen (1968), Psychol. Bull. 70:213-220;
    Fleiss, Cohen & Everitt (1969), Psychol. Bull. 72:323-327.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                    "annotator_id": ["x", "y"] * 4,
    ...                    "label": ["a", "a", "b", "b", "a", "b", "b", "b"]})
    >>> round(cohen_kappa(df, "x", "y").value, 3)
    0.5
    """
    _require_interval(interval)
    ratings = _prepare(df, categories, weights)
    code_a, code_b = _two_annotators(ratings, a, b)
    table, single = pair_table(ratings, code_a, code_b)
    return cohen_kappa_from_table(
        table, weights=weights, n_unpairable_items=single, pair=(a, b), interval=interval,
        n_boot=n_boot, ci_level=ci_level, seed=seed,
    )


def cohen_kappa_from_table(
    table: np.ndarray,
    *,
    weights: str | np.ndarray | None = None,
    n_unpairable_items: int = 0,
    pair: tuple[Any, Any] = ("a", "b"),
    interval: str = "bootstrap",
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
) -> AgreementResult:
    """Cohen's kappa from the ``V x V`` table of two annotators on their shared items (the
    sufficient statistic): the entry point :func:`cohen_kappa` and the engines of
    :mod:`qa.engines` call.

    ``table[k, l]`` counts the items annotator ``a`` rated ``values[k]`` and ``b`` rated
    ``values[l]``, values ordered as :func:`metrics.ratings.label_values` orders them (all values
    of the question, not only the pair's). ``n_unpairable_items``: items only one of them rated.
    ``pair`` names the two annotators in messages. The rest is :func:`cohen_kappa`'s.

    Examples
    --------
    >>> round(cohen_kappa_from_table(np.array([[1, 1], [0, 2]]), interval="none").value, 3)
    0.5
    """
    _require_known_weights(weights)
    _require_interval(interval)
    table = np.asarray(table, dtype=np.int64)
    w = agreement_weights(table.shape[0], weights)
    level = _weights_label(weights)
    counts = _pair_counts(table, n_unpairable_items)
    if counts.n_items == 0:
        return _not_computable(
            "cohen_kappa",
            f"annotators {pair[0]!r} and {pair[1]!r} share no item",
            "insufficient_data",
            counts,
            level,
            ci_level,
        )
    kappa, se, p_a, p_e = cohen_from_tables(table, w)
    if not np.isfinite(kappa):
        return _not_computable(
            "cohen_kappa", _ONE_VALUE_REASON, "undefined", counts, level, ci_level
        )
    details = {"p_a": float(p_a), "p_e": float(p_e), "kappa_max": _kappa_max(table), "table": table}
    replicates = _table_replicates(table, lambda t: cohen_from_tables(t, w)[0], n_boot, seed)
    return _finish(
        "cohen_kappa",
        kappa,
        se,
        counts=counts,
        level=level,
        interval=interval,
        ci_level=ci_level,
        bounds=KAPPA_RANGE,
        replicates=replicates,
        details=details,
    )


def _kappa_max(table: np.ndarray) -> float:
    """The largest kappa the table's margins allow (Cohen 1960), unweighted."""
    p = table / table.sum()
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    p_e = float(rows @ cols)
    if 1.0 - p_e <= CHANCE_TOLERANCE:
        return math.nan
    return float((np.minimum(rows, cols).sum() - p_e) / (1.0 - p_e))


def _table_replicates(
    table: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], n_boot: int, seed: int | None
) -> Callable[[], np.ndarray]:
    """Item bootstrap of a pair table: a multinomial resample of its ``V x V`` cells."""
    shape = table.shape

    def on_cells(cell_weights: np.ndarray) -> np.ndarray:
        return statistic(cell_weights.reshape((-1, *shape)))

    return lambda: bootstrap_replicates(table.ravel(), on_cells, n_boot=n_boot, seed=seed)


def pabak(
    df: pd.DataFrame,
    a: Any = None,
    b: Any = None,
    categories: Sequence[Any] | None = None,
    *,
    interval: str = "bootstrap",
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
) -> AgreementResult:
    r"""Prevalence-adjusted bias-adjusted kappa of two annotators (Byrt, Bishop & Carlin 1993).

    For two categories ``PABAK = 2 p_a - 1``: kappa on the table whose agreement cells are
    replaced by their mean and disagreement cells likewise. With ``q`` categories this module
    uses the same chance model, ``PABAK = (q p_a - 1) / (q - 1)``, which is Bennett's S /
    Brennan-Prediger for two raters (``q`` = declared categories, else the values used in
    ``df``). ``se`` is ``q/(q-1) sqrt(p_a (1 - p_a) / n)`` (Gwet 2008, two raters).

    Returns
    -------
    AgreementResult
        NaN (``undefined``) when both annotators used one and the same value;
        ``insufficient_data`` when they share no item. ``details``: ``p_a``, ``p_e = 1/q``.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                    "annotator_id": ["x", "y"] * 4,
    ...                    "label": ["a", "a", "b", "b", "a", "b", "b", "b"]})
    >>> pabak(df).value
    0.5
    """
    _require_interval(interval)
    ratings = _prepare(df, categories, None)
    code_a, code_b = _two_annotators(ratings, a, b)
    table, single = pair_table(ratings, code_a, code_b)
    w = np.eye(ratings.n_values)
    counts = _pair_counts(table, single)
    if counts.n_items == 0:
        return _not_computable(
            "pabak",
            f"annotators {a!r} and {b!r} share no item",
            "insufficient_data",
            counts,
            "nominal",
            ci_level,
        )
    value, se, p_a, p_e = two_rater_from_tables(table, w, "uniform")
    if not np.isfinite(value):
        return _not_computable("pabak", _ONE_VALUE_REASON, "undefined", counts, "nominal", ci_level)
    replicates = _table_replicates(
        table, lambda t: two_rater_from_tables(t, w, "uniform")[0], n_boot, seed
    )
    return _finish(
        "pabak",
        value,
        se,
        counts=counts,
        level="nominal",
        interval=interval,
        ci_level=ci_level,
        bounds=KAPPA_RANGE,
        replicates=replicates,
        details={"p_a": float(p_a), "p_e": float(p_e)},
    )


# ---------------------------------------------------------------------------------------------
# Any number of raters: statistics of value patterns
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PatternTerms:
    """Per-pattern terms of the generalized coefficients (one row per value-count pattern)."""

    weights: np.ndarray  # items per pattern
    pairable: np.ndarray  # 1.0 when the pattern has >= 2 ratings
    observed: np.ndarray  # p_a|i (0 for single ratings)
    shares: np.ndarray  # r_ik / r_i, P x q
    ratings: np.ndarray  # r_i


def _pattern_terms(ratings: Ratings, w: np.ndarray) -> _PatternTerms:
    return _terms_of_patterns(value_patterns(ratings), w)


def _terms_of_patterns(patterns: Patterns, w: np.ndarray) -> _PatternTerms:
    counts = patterns.dense_counts().astype(float)
    per_item = counts.sum(axis=1)
    pairable = per_item >= 2
    agreeing = (counts * (counts @ w - 1.0)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.where(pairable, agreeing / (per_item * (per_item - 1.0)), 0.0)
    return _PatternTerms(
        weights=patterns.weights.astype(float),
        pairable=pairable.astype(float),
        observed=observed,
        shares=counts / per_item[:, None],
        ratings=per_item,
    )


def _generalized_estimate(
    terms: _PatternTerms, item_weights: np.ndarray, w: np.ndarray, chance: str
):
    """``(value, p_a, p_e, pi)`` for each row of ``item_weights`` (``b x P``), vectorized."""
    n = item_weights.sum(axis=-1)
    n_pairable = item_weights @ terms.pairable
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a = (item_weights @ terms.observed) / n_pairable
        pi = (item_weights @ terms.shares) / n[..., None]
    p_e = _CHANCE[chance](pi, w, w.shape[0])
    value = _corrected(p_a, p_e, chance)
    undefined = _undefined_mask(pi, p_e, chance) | ~(n_pairable > 0)
    return np.where(undefined, np.nan, value), p_a, p_e, pi


def _gwet_se(
    terms: _PatternTerms, w: np.ndarray, chance: str, value: float, p_e: float, pi: np.ndarray
) -> float:
    """Gwet's (2008) linearized SE, infinite population (f = 0)."""
    n = terms.weights.sum()
    n_pairable = terms.weights @ terms.pairable
    if n < 2:
        return math.nan
    item_value = (n / n_pairable) * (terms.observed - p_e * terms.pairable)
    item_chance = terms.shares @ _CHANCE_PER_VALUE[chance](pi, w, w.shape[0])
    if chance != "none":
        item_value = item_value / (1.0 - p_e)
        item_value = item_value - 2.0 * (1.0 - value) * (item_chance - p_e) / (1.0 - p_e)
    variance = terms.weights @ (item_value - value) ** 2 / (n * (n - 1.0))
    return float(math.sqrt(variance))


def _multi_counts(ratings: Ratings, full: Ratings) -> _Counts:
    per_item = full.ratings_per_item()
    pairable = per_item >= 2
    return _Counts(
        n_items=int(np.count_nonzero(pairable)),
        n_annotations=int(per_item[pairable].sum()),
        n_annotators=int(np.unique(full.annotator_codes[pairable[full.item_codes]]).size),
        n_unpairable_items=int(np.count_nonzero(per_item == 1)),
    )


def _generalized(
    coefficient: str,
    df: pd.DataFrame,
    *,
    chance: str,
    weights: Any,
    categories: Sequence[Any] | None,
    interval: str,
    n_boot: int,
    ci_level: float,
    seed: int | None,
    extra: Callable[[np.ndarray, _PatternTerms, dict], dict] | None = None,
) -> AgreementResult:
    _require_interval(interval)
    ratings = _prepare(df, categories, weights)
    return _generalized_from_patterns(
        coefficient,
        value_patterns(ratings),
        ratings.values,
        n_annotators=_multi_counts(ratings, ratings).n_annotators,
        chance=chance,
        weights=weights,
        interval=interval,
        n_boot=n_boot,
        ci_level=ci_level,
        seed=seed,
        extra=extra,
    )


def _patterns_counts(patterns: Patterns, n_annotators: int) -> _Counts:
    m = patterns.ratings_per_pattern
    pairable = m >= 2
    n_items = int(patterns.weights[pairable].sum())
    return _Counts(
        n_items=n_items,
        n_annotations=int(patterns.weights[pairable] @ m[pairable]),
        n_annotators=n_annotators if n_items else 0,
        n_unpairable_items=int(patterns.weights[m == 1].sum()),
    )


def _generalized_from_patterns(
    coefficient: str,
    patterns: Patterns,
    values: np.ndarray,
    *,
    n_annotators: int,
    chance: str,
    weights: Any,
    interval: str,
    n_boot: int,
    ci_level: float,
    seed: int | None,
    extra: Callable[[np.ndarray, _PatternTerms, dict], dict] | None = None,
) -> AgreementResult:
    _require_interval(interval)
    w = agreement_weights(len(values), weights)
    level = _weights_label(weights)
    counts = _patterns_counts(patterns, n_annotators)
    if counts.n_items == 0:
        return _not_computable(
            coefficient,
            "no item has two or more ratings",
            "insufficient_data",
            counts,
            level,
            ci_level,
        )
    terms = _terms_of_patterns(patterns, w)
    value, p_a, p_e, pi = _generalized_estimate(terms, terms.weights, w, chance)
    if not np.isfinite(value):
        return _not_computable(coefficient, _ONE_VALUE_REASON, "undefined", counts, level, ci_level)
    se = _gwet_se(terms, w, chance, float(value), float(p_e), pi)
    details = {"p_a": float(p_a), "p_e": float(p_e), "n_categories": len(values)}
    if extra is not None:
        details = extra(values, terms, details)
    bounds = PROPORTION_RANGE if chance == "none" else KAPPA_RANGE

    def replicates() -> np.ndarray:
        return bootstrap_replicates(
            terms.weights.astype(np.int64),
            lambda block: _generalized_estimate(terms, block, w, chance)[0],
            n_boot=n_boot,
            seed=seed,
        )

    reason = ""
    if chance == "none" and np.count_nonzero(pi > 0) < 2:
        reason = "every rating is the same value (chance-corrected coefficients are undefined)"
    return _finish(
        coefficient,
        float(value),
        se,
        counts=counts,
        level=level,
        interval=interval,
        ci_level=ci_level,
        bounds=bounds,
        replicates=replicates,
        details=details,
        reason=reason,
    )



PATTERN_COEFFICIENTS = {
    "fleiss_kappa": "fleiss",
    "scott_pi": "fleiss",
    "randolph_kappa": "uniform",
    "brennan_prediger": "uniform",
    "gwet_ac": "gwet",
    "percent_agreement": "none",
}
"""Coefficients computed from value-count patterns, and their chance model."""


def kappa_from_patterns(
    patterns: Patterns,
    values: np.ndarray,
    coefficient: str = "fleiss_kappa",
    *,
    n_annotators: int,
    weights: str | np.ndarray | None = None,
    interval: str = "bootstrap",
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
) -> AgreementResult:
    """A multi-rater coefficient of :data:`PATTERN_COEFFICIENTS` from the value-count patterns of
    one question (the sufficient statistic): the entry point of the engines in
    :mod:`qa.engines`, and the same code :func:`fleiss_kappa`, :func:`scott_pi`,
    :func:`gwet_ac`, :func:`brennan_prediger` and :func:`percent_agreement` run.

    ``patterns``: the patterns of *every* rated item (single-rated ones enter ``pi_k``), in the
    canonical order, one column per entry of ``values`` (ordered as
    :func:`metrics.ratings.label_values` orders them). ``n_annotators``: annotators with a rating
    on an item with two or more ratings. ``randolph_kappa`` is ``fleiss_kappa(method="randolph")``;
    ``gwet_ac`` is named ``gwet_ac1``/``gwet_ac2`` in the result as in :func:`gwet_ac`.

    Examples
    --------
    >>> from metrics.ratings import canonical_patterns
    >>> patterns = canonical_patterns(np.array([[3, 0], [1, 2], [0, 3]]), np.array([1, 1, 1]))
    >>> result = kappa_from_patterns(patterns, np.array(["a", "b"], dtype=object), n_annotators=3,
    ...                              interval="none")
    >>> round(result.value, 4)
    0.55
    """
    if coefficient not in PATTERN_COEFFICIENTS:
        raise MetricInputError(
            f"unknown coefficient {coefficient!r}; expected one of {tuple(PATTERN_COEFFICIENTS)}"
        )
    _require_known_weights(weights)
    name = coefficient
    if coefficient == "gwet_ac":
        name = "gwet_ac1" if weights is None else "gwet_ac2"
    extra = _fleiss_details if coefficient == "fleiss_kappa" and weights is None else None
    return _generalized_from_patterns(
        name, patterns, np.asarray(values), n_annotators=n_annotators,
        chance=PATTERN_COEFFICIENTS[coefficient], weights=weights, interval=interval,
        n_boot=n_boot, ci_level=ci_level, seed=seed, extra=extra,
    )


def fleiss_kappa(
    df: pd.DataFrame,
    *,
    method: str = "fleiss",
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    interval: str = "bootstrap",
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
) -> AgreementResult:
    r"""Fleiss' kappa (Fleiss 1971), or Randolph's free-marginal kappa (``method="randolph"``).

    .. math:: \kappa = \frac{p_a - p_e}{1 - p_e},\quad
              p_a = \frac{1}{n''}\sum_{i: r_i\ge 2}\sum_k \frac{r_{ik}(r^*_{ik}-1)}{r_i(r_i-1)},\quad
              p_e = \sum_{kl} w_{kl}\pi_k\pi_l \;(\text{Fleiss}),\; \frac{1}{q}\;(\text{Randolph})

    Items may have different numbers of raters: this is Gwet's (2014, ch. 5) generalization,
    which equals Fleiss' formula (and statsmodels' ``fleiss_kappa``) when every item has the same
    number; ``pi_k`` averages each item's shares, single-rated items included. ``se`` is Gwet's
    (2008) linearized SE (not conditioned on kappa = 0). With equal raters per item and no
    weights, ``details`` also holds the Fleiss, Nee & Landis (1979) SE under the null hypothesis
    kappa = 0 (``se_h0``), its ``z`` and one-sided ``p_value``, and the per-category kappas
    (``category_kappas``, see :func:`fleiss_category_kappas`). Randolph's kappa is
    :func:`brennan_prediger` unweighted; ``q`` is the number of declared categories, else of
    values used in ``df``.

    Returns
    -------
    AgreementResult
        NaN (``undefined``) when every rating is the same value; ``insufficient_data`` when no
        item has two ratings.

    References
    ----------
    Fleiss (1971), Psychol. Bull. 76:378-382; Fleiss, Nee & Landis (1979), Psychol. Bull.
    86:974-977; Randolph (2005), ERIC ED490661; Gwet (2008), Br. J. Math. Stat. Psychol. 61:29-48;
    Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [1, 1, 1, 2, 2, 2, 3, 3, 3],
    ...                    "annotator_id": ["x", "y", "z"] * 3,
    ...                    "label": ["a", "a", "a", "b", "b", "a", "b", "b", "b"]})
    >>> round(fleiss_kappa(df).value, 4), round(fleiss_kappa(df, method="randolph").value, 4)
    (0.55, 0.5556)
    """
    if method not in ("fleiss", "randolph"):
        raise MetricInputError(f"unknown method {method!r}; expected 'fleiss' or 'randolph'")
    if method == "randolph":
        return _generalized(
            "randolph_kappa",
            df,
            chance="uniform",
            weights=weights,
            categories=categories,
            interval=interval,
            n_boot=n_boot,
            ci_level=ci_level,
            seed=seed,
        )
    return _generalized(
        "fleiss_kappa",
        df,
        chance="fleiss",
        weights=weights,
        categories=categories,
        interval=interval,
        n_boot=n_boot,
        ci_level=ci_level,
        seed=seed,
        extra=_fleiss_details if weights is None else None,
    )


def _fleiss_details(values: np.ndarray, terms: _PatternTerms, details: dict) -> dict:
    table = _category_table(values, terms)
    details = {
        **details,
        "category_kappas": dict(zip(table["category"], table["kappa"], strict=True)),
    }
    return {**details, **_fleiss_null_test(terms, details)}


def _fleiss_null_test(terms: _PatternTerms, details: dict) -> dict:
    """Fleiss, Nee & Landis (1979) SE of kappa under H0 (kappa = 0), for equal raters per item."""
    raters = terms.ratings[terms.weights > 0]
    if raters.size == 0 or not (raters == raters[0]).all() or raters[0] < 2:
        return {"se_h0": math.nan, "z": math.nan, "p_value": math.nan}
    m, n = float(raters[0]), terms.weights.sum()
    pi = terms.weights @ terms.shares / n
    pq = pi * (1.0 - pi)
    spread = pq.sum()
    se_h0 = (
        math.sqrt(2.0)
        / (spread * math.sqrt(n * m * (m - 1.0)))
        * math.sqrt(spread**2 - (pq * (1.0 - 2.0 * pi)).sum())
    )
    kappa = (details["p_a"] - details["p_e"]) / (1.0 - details["p_e"])
    z = kappa / se_h0
    return {"se_h0": se_h0, "z": z, "p_value": float(stats.norm.sf(z))}


def _category_table(values: np.ndarray, terms: _PatternTerms) -> pd.DataFrame:
    n = terms.weights.sum()
    pi = terms.weights @ terms.shares / n
    counts = terms.shares * terms.ratings[:, None]
    pairable = terms.pairable > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        split = np.where(
            pairable[:, None],
            counts
            * (terms.ratings[:, None] - counts)
            / (terms.ratings * (terms.ratings - 1.0))[:, None],
            0.0,
        )
        disagreement = terms.weights @ split / (terms.weights @ terms.pairable)
        kappa = 1.0 - disagreement / (pi * (1.0 - pi))
    kappa = np.where(pi * (1.0 - pi) > CHANCE_TOLERANCE, kappa, np.nan)
    raters = terms.ratings[terms.weights > 0]
    equal = raters.size > 0 and (raters == raters[0]).all() and raters[0] >= 2
    se_h0 = math.sqrt(2.0 / (n * raters[0] * (raters[0] - 1.0))) if equal else math.nan
    return pd.DataFrame(
        {
            "category": list(values),
            "share": pi,
            "kappa": kappa,
            "se_h0": np.where(np.isfinite(kappa), se_h0, np.nan),
        }
    )


def fleiss_category_kappas(
    df: pd.DataFrame, categories: Sequence[Any] | None = None
) -> pd.DataFrame:
    r"""Fleiss' kappa of each category against all others (Fleiss 1971, eq. 8-9).

    .. math:: \kappa_k = 1 - \frac{\overline{r_{ik}(r_i - r_{ik}) / (r_i(r_i-1))}}{\pi_k(1-\pi_k)}

    (the mean over items with two or more ratings). The overall Fleiss' kappa is their mean
    weighted by ``pi_k (1 - pi_k)``.

    Returns
    -------
    DataFrame
        One row per category: ``category``, ``share`` (``pi_k``), ``kappa`` (NaN for a category
        nobody or everybody used), ``se_h0`` (the SE under kappa_k = 0, Fleiss, Nee & Landis 1979;
        NaN when items have different numbers of raters).

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [1, 1, 1, 2, 2, 2, 3, 3, 3],
    ...                    "annotator_id": ["x", "y", "z"] * 3,
    ...                    "label": ["a", "a", "a", "b", "b", "a", "b", "b", "b"]})
    >>> fleiss_category_kappas(df)["kappa"].round(3).tolist()
    [0.55, 0.55]
    """
    ratings = prepare_ratings(df, categories=categories, level="nominal")
    terms = _pattern_terms(ratings, np.eye(ratings.n_values))
    return _category_table(ratings.values, terms)


def scott_pi(
    df: pd.DataFrame,
    *,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    interval: str = "bootstrap",
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
) -> AgreementResult:
    r"""Scott's pi (Scott 1955): chance agreement from the pooled category shares.

    With two raters rating the same items this is Scott's (1955) pi; with more raters (or
    missing ratings) it is its multi-rater generalization, which is Fleiss' kappa (Fleiss 1971;
    Gwet 2014, ch. 5): the value equals :func:`fleiss_kappa`, only the name differs.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                    "annotator_id": ["x", "y"] * 4,
    ...                    "label": ["a", "a", "b", "b", "a", "b", "b", "b"]})
    >>> round(scott_pi(df).value, 4)
    0.4667
    """
    return _generalized(
        "scott_pi",
        df,
        chance="fleiss",
        weights=weights,
        categories=categories,
        interval=interval,
        n_boot=n_boot,
        ci_level=ci_level,
        seed=seed,
    )


def gwet_ac(
    df: pd.DataFrame,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    *,
    interval: str = "bootstrap",
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
) -> AgreementResult:
    r"""Gwet's AC1 (unweighted) or AC2 (weighted) agreement coefficient (Gwet 2008, 2014).

    .. math:: AC = \frac{p_a - p_e}{1 - p_e},\quad p_e = \frac{T_w}{q(q-1)}\sum_k \pi_k(1-\pi_k)

    ``T_w`` the sum of the agreement weights (``q`` unweighted), ``q`` the number of categories
    (declared, else used in ``df``), ``p_a`` and ``pi_k`` as in :func:`fleiss_kappa`. ``se`` is
    Gwet's (2008) variance estimator. ``"ordinal"`` weights are Gwet's, not Krippendorff's.

    Returns
    -------
    AgreementResult
        ``coefficient`` is ``gwet_ac1`` or ``gwet_ac2``. NaN (``undefined``) when every rating
        is the same value (AC1 would read 1 whatever the raters did); ``insufficient_data``
        when no item has two ratings.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                    "annotator_id": ["x", "y"] * 4,
    ...                    "label": ["a", "a", "b", "b", "a", "b", "b", "b"]})
    >>> round(gwet_ac(df).value, 4)
    0.5294
    """
    name = "gwet_ac1" if weights is None else "gwet_ac2"
    return _generalized(
        name,
        df,
        chance="gwet",
        weights=weights,
        categories=categories,
        interval=interval,
        n_boot=n_boot,
        ci_level=ci_level,
        seed=seed,
    )


def brennan_prediger(
    df: pd.DataFrame,
    *,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    interval: str = "bootstrap",
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
) -> AgreementResult:
    r"""Brennan & Prediger's (1981) free-marginal coefficient (Bennett's S; Randolph's kappa).

    .. math:: BP = \frac{p_a - T_w / q^2}{1 - T_w / q^2}

    Chance agreement assumes every category equally likely; ``q`` is the number of declared
    categories, else of values used in ``df`` (declare them: an unused category changes ``q``).

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                    "annotator_id": ["x", "y"] * 4,
    ...                    "label": ["a", "a", "b", "b", "a", "b", "b", "b"]})
    >>> brennan_prediger(df).value
    0.5
    """
    return _generalized(
        "brennan_prediger",
        df,
        chance="uniform",
        weights=weights,
        categories=categories,
        interval=interval,
        n_boot=n_boot,
        ci_level=ci_level,
        seed=seed,
    )


def percent_agreement(
    df: pd.DataFrame,
    *,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    interval: str = "bootstrap",
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
) -> AgreementResult:
    r"""Raw agreement: the share of agreeing rater pairs, averaged over items with >= 2 ratings.

    .. math:: p_a = \frac{1}{n''}\sum_{i: r_i\ge 2}\sum_k \frac{r_{ik}(r^*_{ik}-1)}{r_i(r_i-1)}

    Not corrected for chance: show it beside kappa or alpha (with one dominant class, kappa can
    be low while agreement is high). When every rating is the same value the value is 1.0 (the
    raters did agree) and ``reason`` notes that chance-corrected coefficients are undefined.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                    "annotator_id": ["x", "y"] * 4,
    ...                    "label": ["a", "a", "b", "b", "a", "b", "b", "b"]})
    >>> percent_agreement(df).value
    0.75
    """
    return _generalized(
        "percent_agreement",
        df,
        chance="none",
        weights=weights,
        categories=categories,
        interval=interval,
        n_boot=n_boot,
        ci_level=ci_level,
        seed=seed,
    )


# ---------------------------------------------------------------------------------------------
# Conger's kappa: chance agreement from each rater's own marginals
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RaterPatterns:
    """Items grouped by their full (annotator, value) pattern, for rater-specific marginals."""

    terms: _PatternTerms  # value-count terms, one row per full pattern
    cells: sp.csr_matrix  # P x (R * q) one-hot of (annotator, value)
    n_annotators: int


def _rater_patterns(ratings: Ratings, w: np.ndarray) -> _RaterPatterns:
    q, n_raters = ratings.n_values, ratings.n_annotators
    cell = ratings.annotator_codes * q + ratings.value_codes
    pattern_of_item, weights = _full_patterns(ratings.item_codes, cell, ratings.n_items)
    first_item = np.unique(pattern_of_item, return_index=True)[1]
    ones = np.ones(ratings.n_ratings)
    item_cells = sp.csr_matrix(
        (ones, (ratings.item_codes, cell)), shape=(ratings.n_items, n_raters * q)
    )
    cells = item_cells[first_item]
    counts = np.asarray((cells @ sp.kron(np.ones((n_raters, 1)), sp.eye(q))).todense())
    per_item = counts.sum(axis=1)
    pairable = per_item >= 2
    agreeing = (counts * (counts @ w - 1.0)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.where(pairable, agreeing / (per_item * (per_item - 1.0)), 0.0)
    terms = _PatternTerms(
        weights.astype(float),
        pairable.astype(float),
        observed,
        counts / per_item[:, None],
        per_item,
    )
    return _RaterPatterns(terms=terms, cells=sp.csr_matrix(cells), n_annotators=n_raters)


def _full_patterns(
    item_codes: np.ndarray, cell: np.ndarray, n_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """Group items with the same set of (annotator, value) cells: two independent 64-bit sums of
    random cell keys per item (a collision needs both to collide: probability ~ 2^-128)."""
    rng = np.random.default_rng(20240601)
    keys = rng.integers(
        0, np.iinfo(np.int64).max, size=(2, int(cell.max()) + 1), dtype=np.int64
    ).view(np.uint64)
    order = np.argsort(item_codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(item_codes[order]) != 0])
    with np.errstate(over="ignore"):
        sums = np.stack([np.add.reduceat(keys[j][cell[order]], starts) for j in range(2)], axis=1)
    unique_sums, pattern_of_item, weights = np.unique(
        sums, axis=0, return_inverse=True, return_counts=True
    )
    return pattern_of_item.ravel(), weights


def _conger_chance(
    rater_counts: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p_e`` from ``... x R x q`` rater counts: mean over rater pairs of their Cohen ``p_e``.

    Equals Conger's (1980) ``sum_kl w_kl (pi_k pi_l - s2_kl / r)``. Raters with no rating in a
    replicate are left out. Returns ``(p_e, rater shares p_gk, rater present mask)``.
    """
    totals = rater_counts.sum(axis=-1)
    present = totals > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(present[..., None], rater_counts / totals[..., None], 0.0)
    r = present.sum(axis=-1)
    summed = shares.sum(axis=-2)
    all_pairs = np.einsum("...k,kl,...l->...", summed, w, summed)
    same_rater = np.einsum("...gk,kl,...gl->...", shares, w, shares)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_e = (all_pairs - same_rater) / (r * (r - 1.0))
    return p_e, shares, present


def _conger_estimate(patterns: _RaterPatterns, item_weights: np.ndarray, w: np.ndarray):
    terms, q = patterns.terms, w.shape[0]
    n = item_weights.sum(axis=-1)
    n_pairable = item_weights @ terms.pairable
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a = (item_weights @ terms.observed) / n_pairable
        pi = (item_weights @ terms.shares) / n[..., None]
    rater_counts = np.asarray(patterns.cells.T @ np.atleast_2d(item_weights).T).T
    rater_counts = rater_counts.reshape((-1, patterns.n_annotators, q))
    p_e = _conger_chance(rater_counts, w)[0].reshape(np.shape(p_a))
    value = _corrected(p_a, p_e, "conger")
    undefined = _undefined_mask(pi, p_e, "conger") | ~(n_pairable > 0)
    return np.where(undefined, np.nan, value), p_a, p_e


def _conger_se(patterns: _RaterPatterns, w: np.ndarray, value: float, p_e: float) -> float:
    """Linearized SE (Gwet 2008 style; derived for Conger's p_e, reproduces Gwet 2014's values)."""
    terms, q, r = patterns.terms, w.shape[0], patterns.n_annotators
    n = terms.weights.sum()
    if n < 2 or r < 2:
        return math.nan
    rater_counts = np.asarray(patterns.cells.T @ terms.weights).reshape(r, q)
    _, shares, _ = _conger_chance(rater_counts, w)
    rated = rater_counts.sum(axis=1)
    others = (shares.sum(axis=0)[None, :] - shares) @ w  # u_g = W (sum_h p_h - p_g)
    scale = n / rated
    per_cell = (scale[:, None] * others).ravel()
    per_rater = np.repeat(scale * (shares * others).sum(axis=1), q)
    # sum_g (n / n_g) (u_g[x_ig] - p_g . u_g) over the raters g of the item
    influence = patterns.cells @ per_cell - patterns.cells @ per_rater
    influence *= 2.0 / (r * (r - 1.0))
    n_pairable = terms.weights @ terms.pairable
    item_value = (n / n_pairable) * (terms.observed - p_e * terms.pairable) / (1.0 - p_e)
    item_value = item_value - (1.0 - value) * influence / (1.0 - p_e)
    variance = terms.weights @ (item_value - value) ** 2 / (n * (n - 1.0))
    return float(math.sqrt(variance))


def conger_kappa(
    df: pd.DataFrame,
    *,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    interval: str = "bootstrap",
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
) -> AgreementResult:
    r"""Conger's (1980) kappa: Cohen's kappa generalized to many raters.

    .. math:: p_e = \sum_{kl} w_{kl}\Big(\pi_k\pi_l - \frac{s^2_{kl}}{r}\Big)
              = \frac{1}{r(r-1)}\sum_{g\ne h}\sum_{kl} w_{kl} p_{gk} p_{hl}

    ``p_gk`` the share of rater ``g``'s ratings that are ``k`` (over the items ``g`` rated),
    ``pi_k`` their mean over the ``r`` raters; ``p_a`` as in :func:`fleiss_kappa`. With two raters
    and no missing ratings it equals Cohen's kappa. ``se`` linearizes ``p_a`` and the raters'
    marginals (Gwet 2008's approach); it reproduces the SEs of Gwet (2014). The bootstrap groups
    items by their full (annotator, value) pattern, so it runs on a few rows when raters repeat.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                    "annotator_id": ["x", "y"] * 4,
    ...                    "label": ["a", "a", "b", "b", "a", "b", "b", "b"]})
    >>> round(conger_kappa(df).value, 4)
    0.5
    """
    _require_interval(interval)
    ratings = _prepare(df, categories, weights)
    w = agreement_weights(ratings.n_values, weights)
    level = _weights_label(weights)
    counts = _multi_counts(ratings, ratings)
    if counts.n_items == 0:
        return _not_computable(
            "conger_kappa",
            "no item has two or more ratings",
            "insufficient_data",
            counts,
            level,
            ci_level,
        )
    patterns = _rater_patterns(ratings, w)
    value, p_a, p_e = (float(x) for x in _conger_estimate(patterns, patterns.terms.weights, w))
    if not math.isfinite(value):
        return _not_computable(
            "conger_kappa", _ONE_VALUE_REASON, "undefined", counts, level, ci_level
        )
    se = _conger_se(patterns, w, value, p_e)

    def replicates() -> np.ndarray:
        return bootstrap_replicates(
            patterns.terms.weights.astype(np.int64),
            lambda block: _conger_estimate(patterns, block, w)[0],
            n_boot=n_boot,
            seed=seed,
        )

    return _finish(
        "conger_kappa",
        value,
        se,
        counts=counts,
        level=level,
        interval=interval,
        ci_level=ci_level,
        bounds=KAPPA_RANGE,
        replicates=replicates,
        details={
            "p_a": p_a,
            "p_e": p_e,
            "n_categories": ratings.n_values,
            "n_patterns": len(patterns.terms.weights),
        },
    )

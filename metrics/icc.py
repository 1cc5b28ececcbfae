"""Intraclass correlation coefficients for numeric ratings (Shrout & Fleiss 1979).

The six forms come from the mean squares of a two-way ANOVA of the ``n`` targets (items) x ``k``
judges (annotators) table: between targets ``MSR``, between judges ``MSC``, residual ``MSE`` and,
for the one-way model, within targets ``MSW``.

=========  ========================================  ==========================================
form       single rating (``ICC(.,1)``)              average of ``k`` ratings (``ICC(.,k)``)
=========  ========================================  ==========================================
ICC(1,.)   (MSR-MSW) / (MSR+(k-1)MSW)                (MSR-MSW) / MSR
ICC(2,.)   (MSR-MSE) / (MSR+(k-1)MSE+k(MSC-MSE)/n)   (MSR-MSE) / (MSR+(MSC-MSE)/n)
ICC(3,.)   (MSR-MSE) / (MSR+(k-1)MSE)                (MSR-MSE) / MSR
=========  ========================================  ==========================================

ICC(1): one-way random (each target rated by different judges); ICC(2): two-way random, absolute
agreement (McGraw & Wong's ICC(A,1)); ICC(3): two-way mixed, consistency (ICC(C,1)).

The ANOVA needs every judge on every target: only complete items (rated by every annotator of
the table) are used; the others are counted in ``details["n_incomplete_items"]``. Drop
annotators who rated little before calling, or every item they missed is lost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from metrics.bootstrap import BOOTSTRAP_REPLICATES, bootstrap_replicates, percentile_interval
from metrics.errors import MetricInputError
from metrics.ratings import prepare_ratings
from metrics.result import AgreementResult, undefined_result

ICC_FORMS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")
"""The Shrout & Fleiss (1979) forms; ``k`` is the number of annotators."""

ICC_INTERVALS = ("f_test", "bootstrap", "none")

ICC_UPPER_BOUND = 1.0
"""ICCs are at most 1; below they are unbounded for the average forms, so only the top clips."""


@dataclass(frozen=True)
class MeanSquares:
    """The ANOVA of the complete ``n x k`` table."""

    n_targets: int
    n_judges: int
    between_targets: np.ndarray  # MSR
    between_judges: np.ndarray  # MSC
    residual: np.ndarray  # MSE
    within_targets: np.ndarray  # MSW


def _mean_squares(table: np.ndarray, item_weights: np.ndarray) -> MeanSquares:
    """Mean squares for each row of ``item_weights`` (``b x n``: how often each target is drawn).

    Sums of squares from weighted sums of per-target statistics, so a bootstrap replicate is a
    matrix product, never a re-run on resampled rows. The table is centred first (ICCs are shift
    invariant) to keep the differences of sums accurate.
    """
    n, k = table.shape
    centred = table - table.mean()
    row_sum, row_squares = centred.sum(axis=1), (centred**2).sum(axis=1)
    grand = item_weights @ row_sum
    correction = grand**2 / (n * k)
    total = item_weights @ row_squares - correction
    targets = item_weights @ row_sum**2 / k - correction
    judges = ((item_weights @ centred) ** 2).sum(axis=-1) / n - correction
    residual = total - targets - judges
    return MeanSquares(
        n_targets=n,
        n_judges=k,
        between_targets=targets / (n - 1),
        between_judges=judges / (k - 1),
        residual=residual / ((n - 1) * (k - 1)),
        within_targets=(total - targets) / (n * (k - 1)),
    )


def icc_from_mean_squares(ms: MeanSquares, form: str) -> np.ndarray:
    """The ICC of ``form`` from the mean squares (see the module table); NaN when 0 / 0."""
    n, k = ms.n_targets, ms.n_judges
    msr, msc, mse, msw = ms.between_targets, ms.between_judges, ms.residual, ms.within_targets
    with np.errstate(divide="ignore", invalid="ignore"):
        if form == "ICC(1,1)":
            return (msr - msw) / (msr + (k - 1) * msw)
        if form == "ICC(2,1)":
            return (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
        if form == "ICC(3,1)":
            return (msr - mse) / (msr + (k - 1) * mse)
        if form == "ICC(1,k)":
            return (msr - msw) / msr
        if form == "ICC(2,k)":
            return (msr - mse) / (msr + (msc - mse) / n)
        return (msr - mse) / msr


def f_test_interval(ms: MeanSquares, form: str, level: float = 0.95) -> tuple[float, float]:
    """Confidence interval from the F distribution (Shrout & Fleiss 1979; McGraw & Wong 1996).

    ICC(1,.) and ICC(3,.): the exact interval from ``F = MSR/MSW`` or ``MSR/MSE``. ICC(2,.):
    Satterthwaite's approximate degrees of freedom (McGraw & Wong 1996, Table 7); the average
    form's bounds are the Spearman-Brown step-up of the single form's bounds, which is McGraw &
    Wong's formula for ICC(A,k).
    """
    n, k = ms.n_targets, ms.n_judges
    msr, msc, mse, msw = (
        float(x) for x in (ms.between_targets, ms.between_judges, ms.residual, ms.within_targets)
    )
    upper_quantile = 0.5 + level / 2.0
    if form.startswith("ICC(2"):
        low, high = _two_way_random_interval(ms, upper_quantile)
        if form.endswith("k)"):
            # the step-up k x / (1 + (k-1) x) has a pole at -1/(k-1): a single-form bound at or
            # below it means the average form is unbounded below (McGraw & Wong 1996, Table 7)
            low, high = (
                -math.inf if x <= -1.0 / (k - 1) else k * x / (1.0 + (k - 1) * x)
                for x in (low, high)
            )
        return low, high
    error, df_error = (msw, n * (k - 1)) if form.startswith("ICC(1") else (mse, (n - 1) * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        f_observed = msr / error
        f_low = f_observed / stats.f.ppf(upper_quantile, n - 1, df_error)
        f_high = f_observed * stats.f.ppf(upper_quantile, df_error, n - 1)
        if form.endswith("k)"):
            return 1.0 - 1.0 / f_low, 1.0 - 1.0 / f_high
        return (f_low - 1.0) / (f_low + k - 1.0), (f_high - 1.0) / (f_high + k - 1.0)


def _two_way_random_interval(ms: MeanSquares, upper_quantile: float) -> tuple[float, float]:
    n, k = ms.n_targets, ms.n_judges
    msr, msc, mse = float(ms.between_targets), float(ms.between_judges), float(ms.residual)
    icc = float(icc_from_mean_squares(ms, "ICC(2,1)"))
    a = k * icc / (n * (1.0 - icc))
    b = 1.0 + k * icc * (n - 1) / (n * (1.0 - icc))
    df_denominator = (a * msc + b * mse) ** 2 / (
        (a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1))
    )
    f_star = stats.f.ppf(upper_quantile, n - 1, df_denominator)
    f_star_reversed = stats.f.ppf(upper_quantile, df_denominator, n - 1)
    spread = k * msc + (k * n - k - n) * mse
    low = n * (msr - f_star * mse) / (f_star * spread + n * msr)
    high = n * (f_star_reversed * msr - mse) / (spread + n * f_star_reversed * msr)
    return low, high


def _complete_table(df: pd.DataFrame) -> tuple[np.ndarray, int]:
    """The ``items x annotators`` table of complete items and the number of items dropped."""
    ratings = prepare_ratings(df, level="interval")
    table = np.full((ratings.n_items, ratings.n_annotators), np.nan)
    table[ratings.item_codes, ratings.annotator_codes] = np.asarray(ratings.values, dtype=float)[
        ratings.value_codes
    ]
    complete = ~np.isnan(table).any(axis=1)
    return table[complete], int(np.count_nonzero(~complete))


def icc(
    df: pd.DataFrame,
    form: str = "ICC(2,1)",
    *,
    interval: str = "f_test",
    n_boot: int = BOOTSTRAP_REPLICATES,
    ci_level: float = 0.95,
    seed: int | None = 0,
) -> AgreementResult:
    """Intraclass correlation of numeric ratings (Shrout & Fleiss 1979), one of six forms.

    Parameters
    ----------
    df : long table (``item_id``, ``annotator_id``, ``label``) with numeric labels.
    form : ``"ICC(1,1)"``, ``"ICC(2,1)"`` (default: two-way random, absolute agreement),
        ``"ICC(3,1)"`` or their average-measure forms ``"ICC(1,k)"``, ``"ICC(2,k)"``,
        ``"ICC(3,k)"`` (see the module docstring for the formulas).
    interval : ``"f_test"`` (default; Shrout & Fleiss 1979 / McGraw & Wong 1996),
        ``"bootstrap"`` (item bootstrap percentile interval) or ``"none"``.
    n_boot, ci_level, seed : bootstrap replicates, interval level, seed.

    Returns
    -------
    AgreementResult
        ``coefficient`` ``"icc"``, ``level`` ``"interval"``; ``se`` is NaN (the literature gives
        F-test intervals, not a standard error). ``details``: ``form``, the mean squares
        (``msr``, ``msc``, ``mse``, ``msw``), ``n_incomplete_items``. NaN with status
        ``insufficient_data`` with fewer than two complete items or two annotators, and
        ``undefined`` when the ratio divides by zero (every rating the same, or no variance
        between items for the average forms). ``n_unpairable_items``: the incomplete items.

    References
    ----------
    Shrout & Fleiss (1979), Psychol. Bull. 86:420-428; McGraw & Wong (1996), Psychol. Methods
    1:30-46.

    Examples
    --------
    The data of Shrout & Fleiss (1979), Table 2 (6 targets, 4 judges):

    >>> scores = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> df = pd.DataFrame([(t, j, s) for t, row in enumerate(scores) for j, s in enumerate(row)],
    ...                   columns=["item_id", "annotator_id", "label"])
    >>> round(icc(df, "ICC(2,1)").value, 2), round(icc(df, "ICC(3,k)").value, 2)
    (0.29, 0.91)
    """
    if form not in ICC_FORMS:
        raise MetricInputError(f"unknown ICC form {form!r}; expected one of {ICC_FORMS}")
    if interval not in ICC_INTERVALS:
        raise MetricInputError(f"unknown interval {interval!r}; expected one of {ICC_INTERVALS}")
    table, n_incomplete = _complete_table(df)
    n, k = table.shape
    counts = {
        "n_items": n,
        "n_annotations": n * k,
        "n_annotators": k if n else 0,
        "n_unpairable_items": n_incomplete,
    }
    if n < 2 or k < 2:
        reason = f"{n} complete items x {k} annotators: the ICC needs at least 2 of each"
        return undefined_result(
            "icc", reason, status="insufficient_data", level="interval", ci_level=ci_level, **counts
        )
    ms = _mean_squares(table, np.ones(n))
    value = float(icc_from_mean_squares(ms, form))
    if not math.isfinite(value):
        return undefined_result(
            "icc",
            "the ICC divides by zero: every rating is the same value, or no variance between items",
            level="interval",
            ci_level=ci_level,
            **counts,
        )
    details = {
        "form": form,
        "msr": float(ms.between_targets),
        "msc": float(ms.between_judges),
        "mse": float(ms.residual),
        "msw": float(ms.within_targets),
        "n_incomplete_items": n_incomplete,
    }
    low, high, clipped, draws, method = math.nan, math.nan, False, np.empty(0), "none"
    if interval == "f_test":
        low, high = f_test_interval(ms, form, ci_level)
        low, high, clipped, method = (
            min(low, ICC_UPPER_BOUND),
            min(high, ICC_UPPER_BOUND),
            high > ICC_UPPER_BOUND,
            "f_test",
        )
    elif interval == "bootstrap" and n_boot > 0:
        draws = bootstrap_replicates(
            np.ones(n, dtype=np.int64),
            lambda block: icc_from_mean_squares(_mean_squares(table, block), form),
            n_boot=n_boot,
            seed=seed,
        )
        low, high, clipped = percentile_interval(draws, ci_level, (-math.inf, ICC_UPPER_BOUND))
        method = "bootstrap_percentile"
    reason = (
        f"{n_incomplete} items without a rating from every annotator were left out"
        if n_incomplete
        else ""
    )
    return AgreementResult(
        coefficient="icc",
        value=value,
        ci_low=float(low),
        ci_high=float(high),
        ci_level=ci_level,
        ci_method=method,
        n_items=n,
        n_annotations=n * k,
        n_annotators=k,
        level="interval",
        reason=reason,
        n_unpairable_items=n_incomplete,
        ci_clipped=bool(clipped),
        bootstrap_replicates=draws,
        details=details,
    )

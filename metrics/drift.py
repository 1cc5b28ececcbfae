"""Label drift: does the label mix of one window (batch, week, annotator, ...) differ from another?

The sufficient statistic is the **windows x labels count table** (:func:`label_counts`), one
group-by over the long annotation table; every figure below is a short function of it, so 5M
annotation rows cost one group-by.

Per comparison (a window against its reference, a 2 x K table):

- chi-square test of homogeneity (not goodness-of-fit against the reference as if the reference
  had no noise); when more than 20% of expected counts are below 5, a permutation p-value over
  tables with the same margins (multivariate hypergeometric draws) replaces the asymptotic one;
- Jensen-Shannon distance in bits, total variation distance, PSI with additive count smoothing,
  bias-corrected Cramér's V (Bergsma 2013);
- per-label share differences with Newcombe's hybrid score interval (Newcombe 1998, method 10);
- Holm-adjusted p-values for the gate (Benjamini-Hochberg on request, for exploration).

Gate (MEASURES.md, "Label drift"): a window drifts only when the adjusted p < 0.05 AND the JS
distance or the TVD is at least 0.10 (``warn``); a drifting window fails when the JS distance or
TVD is at least 0.20 or PSI at least 0.25. A window (or its reference) with fewer than 30 labels
is ``insufficient_data``, never ``ok``, ``warn`` or ``fail``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from metrics.errors import MetricInputError

# Thresholds: MEASURES.md "Label drift" (after Evidently/deepchecks practice and their users'
# complaints); PSI bands are the credit-scoring convention (Siddiqi 2006; Yurdakul 2018).
DRIFT_P_THRESHOLD = 0.05
DRIFT_WARN_DISTANCE = 0.10
DRIFT_FAIL_DISTANCE = 0.20
PSI_MODERATE = 0.10
PSI_LARGE = 0.25
MIN_LABELS_PER_WINDOW = 30
# Cochran's rule (Cochran 1954): the chi-square approximation needs expected counts >= 5 in at
# least 80% of the cells; otherwise a permutation p-value is used.
SMALL_EXPECTED_COUNT = 5.0
SMALL_EXPECTED_SHARE = 0.20
# Standardized residuals beyond 3 in absolute value stand out (Agresti 2013, sec. 2.4.5).
RESIDUAL_STANDS_OUT = 3.0
PSI_SMOOTHING = 0.5
DEFAULT_PERMUTATIONS = 2000

ADJUST_METHODS = {"holm": "holm", "bh": "fdr_bh"}
TIME_WINDOWS = ("day", "week")
Verdict = Literal["ok", "warn", "fail", "insufficient_data"]

COMPARISON_COLUMNS = [
    "window", "reference", "n", "n_reference", "chi2", "dof", "p_value", "p_method",
    "p_adjusted", "adjust", "js_distance", "tvd", "psi", "psi_band", "cramers_v", "verdict",
    "new_labels", "vanished_labels", "reason",
]


@dataclass(frozen=True)
class OmnibusTest:
    """Chi-square test of homogeneity over all windows with enough labels at once.

    ``statistic``, ``dof``, ``p_value`` and ``p_method`` (``asymptotic``, ``permutation`` or
    ``degenerate`` when the table has one window or one label: statistic 0, p-value 1);
    ``cramers_v`` (bias-corrected; NaN when undefined, ``reason`` says why); ``n`` labels in the
    test; ``windows`` tested and ``windows_excluded`` (fewer than ``min_labels`` labels).
    """

    statistic: float
    dof: int
    p_value: float
    p_method: str
    cramers_v: float
    n: int
    windows: tuple
    windows_excluded: tuple
    n_labels: int
    reason: str = ""


@dataclass(frozen=True)
class DriftResult:
    """Label drift across windows.

    Attributes
    ----------
    comparisons : one row per compared window (columns: ``window``, ``reference``, ``n``,
        ``n_reference``, ``chi2``, ``dof``, ``p_value`` (never NaN), ``p_method``
        (``asymptotic`` / ``permutation`` / ``degenerate``), ``p_adjusted``, ``adjust``
        (``holm`` / ``bh``), ``js_distance`` (bits), ``tvd``, ``psi``, ``psi_band``
        (``stable`` / ``moderate`` / ``large``), ``cramers_v``, ``verdict``, ``new_labels`` and
        ``vanished_labels`` (tuples), ``reason`` (why a figure is NaN or the verdict is
        ``insufficient_data``)).
    omnibus : :class:`OmnibusTest` over all windows.
    residuals : adjusted standardized residuals of the omnibus table, tidy: ``window``,
        ``label``, ``count``, ``expected``, ``std_residual``, ``stands_out`` (``|r| > 3``).
    share_differences : per comparison and label: ``window``, ``reference``, ``label``,
        ``share``, ``share_reference``, ``difference`` (window minus reference), ``ci_low``,
        ``ci_high`` (Newcombe hybrid score interval, 95%).
    counts : the windows x labels count table the figures rest on.
    by, mode, adjust : how windows were made and compared.
    rows_without_window : annotation rows left out because their window is missing (e.g. no
        ``created_at`` for ``by="week"``).
    notes : cautions (e.g. the annotator confound).
    """

    comparisons: pd.DataFrame
    omnibus: OmnibusTest
    residuals: pd.DataFrame
    share_differences: pd.DataFrame
    counts: pd.DataFrame
    by: str
    mode: str
    adjust: str
    rows_without_window: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def verdict(self) -> Verdict:
        """The worst verdict over the comparisons (``fail`` > ``warn`` > ``ok`` >
        ``insufficient_data``); ``insufficient_data`` when nothing could be compared."""
        verdicts = set(self.comparisons["verdict"])
        for level in ("fail", "warn", "ok"):
            if level in verdicts:
                return level
        return "insufficient_data"


@dataclass(frozen=True)
class PairedShiftResult:
    """Stuart-Maxwell test of marginal homogeneity for two annotators on their shared items.

    ``statistic``, ``dof``, ``p_value`` (1.0 with ``p_method="degenerate"`` when the two
    annotators used a single category between them), ``n_shared_items``, ``categories`` and
    the square ``table`` (rows annotator ``a``, columns annotator ``b``).
    """

    annotator_a: str
    annotator_b: str
    statistic: float
    dof: int
    p_value: float
    p_method: str
    n_shared_items: int
    categories: tuple
    table: pd.DataFrame
    reason: str = ""


# ---------------------------------------------------------------------------------------------
# The sufficient statistic
# ---------------------------------------------------------------------------------------------


def label_counts(df: pd.DataFrame, by: str = "batch") -> pd.DataFrame:
    """The windows x labels count table: one row per window (in window order), one column per
    label. Multi-label answers (frozensets) count once per label they contain.

    Examples
    --------
    >>> frame = pd.DataFrame({"item_id": list("abcd"), "annotator_id": "x",
    ...                       "label": ["yes", "no", "yes", "yes"], "batch": ["v1", "v1", "v2", "v2"]})
    >>> label_counts(frame, by="batch").to_dict(orient="index")
    {'v1': {'no': 1, 'yes': 1}, 'v2': {'no': 0, 'yes': 2}}
    """
    windows, _ = _windows(df, by)
    return _count_table(windows, df["label"])


def _windows(df: pd.DataFrame, by: str) -> tuple[pd.Series, int]:
    """The window of each row as an ordered categorical, and the count of rows without one."""
    if "label" not in df.columns:
        raise MetricInputError(f"label_drift needs a 'label' column; the table has {list(df.columns)}")
    column = {"annotator": "annotator_id", "model_vs_human": "annotator_kind"}.get(by, by)
    if column in TIME_WINDOWS and column not in df.columns:
        windows = _time_windows(df, column)
    elif column in df.columns:
        windows = _ordered_windows(df[column])
    else:
        raise MetricInputError(
            f"by={by!r} is neither 'day', 'week' nor a column of the table; columns are {list(df.columns)}"
        )
    return windows, int(windows.isna().sum())


def _time_windows(df: pd.DataFrame, unit: str) -> pd.Series:
    if "created_at" not in df.columns:
        raise MetricInputError(f"by={unit!r} needs a 'created_at' column of timestamps")
    stamps = pd.to_datetime(df["created_at"], utc=True, errors="coerce")
    days = stamps.dt.floor("D")
    if unit == "week":  # ISO weeks start on Monday; a window is named by its Monday
        days = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    codes, starts = pd.factorize(days, sort=True)  # name the few distinct windows, not every row
    names = [start.strftime("%Y-%m-%d") for start in starts]
    return pd.Series(pd.Categorical.from_codes(codes, categories=names, ordered=True), index=df.index)


def _ordered_windows(values: pd.Series) -> pd.Series:
    """Windows in their declared order (categorical) or sorted (numbers first, then by name)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = values.cat.remove_unused_categories()
        return present.cat.rename_categories([str(c) for c in present.cat.categories])
    codes, uniques = pd.factorize(values)
    order = sorted(range(len(uniques)), key=lambda i: _window_sort_key(uniques[i]))
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[order] = np.arange(len(uniques))
    ordered_codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
    names = [str(uniques[i]) for i in order]
    return pd.Series(pd.Categorical.from_codes(ordered_codes, categories=names, ordered=True), index=values.index)


def _window_sort_key(value) -> tuple:
    is_number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    return (not is_number, value if is_number else str(value))


def _count_table(windows: pd.Series, labels: pd.Series) -> pd.DataFrame:
    """windows x labels counts by one ``bincount`` over (window code, label code)."""
    window_codes = windows.cat.codes.to_numpy().astype(np.int64)
    labels = labels.reset_index(drop=True)
    first = labels.dropna().iloc[0] if labels.notna().any() else None
    if isinstance(first, tuple):
        raise MetricInputError("label_drift works on categorical or multi-label answers; spans are not categories")
    if isinstance(first, frozenset):  # one row per label held
        exploded = labels.map(sorted, na_action="ignore").explode()
        window_codes = window_codes[exploded.index.to_numpy()]
        labels = exploded.reset_index(drop=True)
    label_codes, label_values = pd.factorize(labels)
    valid = (window_codes >= 0) & (label_codes >= 0)
    n_windows, n_labels = len(windows.cat.categories), len(label_values)
    flat = np.bincount(window_codes[valid] * n_labels + label_codes[valid], minlength=n_windows * n_labels)
    counts = pd.DataFrame(flat.reshape(n_windows, n_labels), index=pd.Index(list(windows.cat.categories), name="window"),
                          columns=pd.Index(list(label_values), name="label"))
    counts = counts[sorted(counts.columns, key=str)]
    counts.columns.name = "label"
    return counts.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Figures of one comparison (a 2 x K table of counts)
# ---------------------------------------------------------------------------------------------


def chi2_homogeneity(
    table: np.ndarray, *, permutations: int = DEFAULT_PERMUTATIONS, seed: int = 0
) -> tuple[float, int, float, str]:
    """Chi-square test of homogeneity of the rows of a windows x labels count table.

    Returns ``(statistic, dof, p_value, p_method)``. Empty rows and columns are dropped first;
    a table left with fewer than two rows or two columns is degenerate (statistic 0, dof 0,
    p-value 1: there is no difference to detect). When more than 20% of the expected counts are
    below 5 (Cochran 1954) the p-value is a permutation p-value, ``(1 + #{T* >= T}) / (1 + B)``
    over ``B`` tables with the same margins; otherwise the asymptotic chi-square p-value.

    Examples
    --------
    >>> chi2_homogeneity(np.array([[50, 50], [100, 100]]))
    (0.0, 1, 1.0, 'asymptotic')
    >>> chi2_homogeneity(np.array([[40, 0], [0, 0]]))
    (0.0, 0, 1.0, 'degenerate')
    """
    table = np.asarray(table, dtype=np.int64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if table.ndim != 2 or min(table.shape) < 2:
        return 0.0, 0, 1.0, "degenerate"
    expected = _expected(table)
    statistic = _chi2_statistic(table, expected)
    dof = (table.shape[0] - 1) * (table.shape[1] - 1)
    if np.mean(expected < SMALL_EXPECTED_COUNT) > SMALL_EXPECTED_SHARE and permutations > 0:
        return statistic, dof, _permutation_p(table, expected, statistic, permutations, seed), "permutation"
    return statistic, dof, float(stats.chi2.sf(statistic, dof)), "asymptotic"


def _expected(table: np.ndarray) -> np.ndarray:
    return np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()


def _chi2_statistic(observed: np.ndarray, expected: np.ndarray) -> float | np.ndarray:
    """Pearson's statistic; ``observed`` may carry leading replicate axes."""
    statistic = ((observed - expected) ** 2 / expected).sum(axis=(-2, -1))
    return float(np.round(statistic, 12)) if np.ndim(statistic) == 0 else statistic


def _permutation_p(table: np.ndarray, expected: np.ndarray, statistic: float, permutations: int, seed: int) -> float:
    """Tables with the table's margins, drawn row by row from multivariate hypergeometric laws."""
    rng = np.random.default_rng(seed)
    column_totals = table.sum(axis=0)
    row_totals = table.sum(axis=1)
    if table.shape[0] == 2:
        first = rng.multivariate_hypergeometric(column_totals, int(row_totals[0]), size=permutations)
        replicates = np.stack([first, column_totals - first], axis=1)
    else:
        replicates = np.empty((permutations,) + table.shape, dtype=np.int64)
        for b in range(permutations):  # loop over replicates of a small table, not over rows of data
            remaining = column_totals.copy()
            for i, size in enumerate(row_totals[:-1]):
                replicates[b, i] = rng.multivariate_hypergeometric(remaining, int(size))
                remaining = remaining - replicates[b, i]
            replicates[b, -1] = remaining
    simulated = _chi2_statistic(replicates, expected)
    extreme = np.sum(simulated >= statistic - 1e-9 * max(1.0, statistic))
    return float((1 + extreme) / (1 + permutations))


def cramers_v_corrected(statistic: float, table_shape: tuple[int, int], n: int) -> float:
    r"""Bias-corrected Cramér's V (Bergsma 2013).

    .. math:: \tilde\varphi^2 = \max\left(0, \frac{\chi^2}{n} - \frac{(k-1)(r-1)}{n-1}\right),\quad
              \tilde k = k - \frac{(k-1)^2}{n-1},\quad \tilde r = r - \frac{(r-1)^2}{n-1},\quad
              \tilde V = \sqrt{\tilde\varphi^2 / \min(\tilde k - 1, \tilde r - 1)}

    NaN when undefined (one row or one column, or ``n < 2``).

    References
    ----------
    Bergsma, W. (2013). A bias-correction for Cramér's V and Tschuprow's T. Journal of the
    Korean Statistical Society 42(3), 323-328.

    Examples
    --------
    >>> round(cramers_v_corrected(100.0, (2, 2), 200), 4)
    0.7053
    """
    rows, columns = table_shape
    if n < 2 or min(rows, columns) < 2:
        return math.nan
    phi2 = max(0.0, statistic / n - (columns - 1) * (rows - 1) / (n - 1))
    rows_corrected = rows - (rows - 1) ** 2 / (n - 1)
    columns_corrected = columns - (columns - 1) ** 2 / (n - 1)
    denominator = min(columns_corrected - 1, rows_corrected - 1)
    if denominator <= 0:
        return math.nan
    return math.sqrt(phi2 / denominator)


def js_distance(window_counts: np.ndarray, reference_counts: np.ndarray) -> float:
    r"""Jensen-Shannon distance in bits (base 2), in [0, 1]; NaN when a side is empty.

    .. math:: JS(p, q) = \sqrt{\tfrac12 KL(p\,\|\,m) + \tfrac12 KL(q\,\|\,m)},\; m = (p+q)/2

    Examples
    --------
    >>> js_distance(np.array([10, 0]), np.array([0, 5]))
    1.0
    """
    p, q = _shares(window_counts), _shares(reference_counts)
    if p is None or q is None:
        return math.nan
    m = (p + q) / 2
    divergence = 0.5 * _kl_bits(p, m) + 0.5 * _kl_bits(q, m)
    return float(math.sqrt(max(divergence, 0.0)))


def _kl_bits(p: np.ndarray, m: np.ndarray) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / m[mask])))


def total_variation(window_counts: np.ndarray, reference_counts: np.ndarray) -> float:
    """Half the sum of absolute share differences: the share of labels that would have to move.
    NaN when a side is empty.

    Examples
    --------
    >>> total_variation(np.array([30, 70]), np.array([50, 50]))
    0.2
    """
    p, q = _shares(window_counts), _shares(reference_counts)
    if p is None or q is None:
        return math.nan
    return float(np.round(0.5 * np.abs(p - q).sum(), 12))


def psi(window_counts: np.ndarray, reference_counts: np.ndarray, smoothing: float = PSI_SMOOTHING) -> float:
    r"""Population stability index with additive count smoothing.

    .. math:: PSI = \sum_k (q_k - p_k) \ln(q_k / p_k),\quad
              q_k = \frac{c_k + a}{n + aK},\; p_k = \frac{r_k + a}{n_r + aK}

    Smoothing counts (rather than clipping shares at 1%) keeps rare and vanished labels visible.
    NaN when a side is empty.

    Examples
    --------
    >>> round(psi(np.array([30, 70]), np.array([50, 50])), 4)
    0.1659
    """
    if window_counts.sum() == 0 or reference_counts.sum() == 0:
        return math.nan
    k = len(window_counts)
    q = (window_counts + smoothing) / (window_counts.sum() + smoothing * k)
    p = (reference_counts + smoothing) / (reference_counts.sum() + smoothing * k)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_band(value: float) -> str:
    """``stable`` (< 0.1), ``moderate`` (0.1 to 0.25), ``large`` (>= 0.25); empty for NaN."""
    if math.isnan(value):
        return ""
    if value < PSI_MODERATE:
        return "stable"
    return "moderate" if value < PSI_LARGE else "large"


def _shares(counts: np.ndarray) -> np.ndarray | None:
    total = counts.sum()
    return None if total == 0 else counts / total


def newcombe_difference_interval(
    count: np.ndarray, n: np.ndarray | int, count_reference: np.ndarray, n_reference: np.ndarray | int,
    alpha: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Newcombe's hybrid score interval for the difference of two independent proportions.

    With Wilson intervals :math:`[l_1, u_1]` for :math:`p_1` and :math:`[l_2, u_2]` for
    :math:`p_2` (Newcombe 1998, method 10):

    .. math:: \left[\hat d - \sqrt{(p_1 - l_1)^2 + (u_2 - p_2)^2},\;
              \hat d + \sqrt{(u_1 - p_1)^2 + (p_2 - l_2)^2}\right]

    Vectorized over labels. NaN where a side has no labels.

    References
    ----------
    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890.

    Examples
    --------
    >>> low, high = newcombe_difference_interval(np.array([3]), 10, np.array([5]), 12)
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (-0.4431, 0.26)
    """
    count, count_reference = np.asarray(count, float), np.asarray(count_reference, float)
    n = np.broadcast_to(np.asarray(n, float), count.shape)
    n_reference = np.broadcast_to(np.asarray(n_reference, float), count_reference.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = count / n, count_reference / n_reference
        low1, high1 = _wilson(count, n, alpha)
        low2, high2 = _wilson(count_reference, n_reference, alpha)
        difference = p1 - p2
        low = difference - np.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2)
        high = difference + np.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2)
    return low, high


def _wilson(count: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    low = np.full(count.shape, np.nan)
    high = np.full(count.shape, np.nan)
    ok = n > 0
    if ok.any():
        low[ok], high[ok] = proportion_confint(count[ok], n[ok], alpha=alpha, method="wilson")
    return low, high


def drift_verdict(n: int, n_reference: int, p_adjusted: float, js: float, tvd: float, psi_value: float,
                  min_labels: int = MIN_LABELS_PER_WINDOW) -> Verdict:
    """The gate of MEASURES.md: ``insufficient_data`` below ``min_labels`` on either side;
    otherwise drift only when ``p_adjusted < 0.05`` AND (JS or TVD >= 0.10) -> ``warn``, and a
    drifting window ``fail``\\ s at JS or TVD >= 0.20 or PSI >= 0.25.

    Examples
    --------
    >>> drift_verdict(500, 500, 1e-6, 0.12, 0.15, 0.08)
    'warn'
    >>> drift_verdict(500, 500, 0.20, 0.30, 0.30, 0.50)
    'ok'
    >>> drift_verdict(12, 500, 1e-6, 0.5, 0.5, 1.0)
    'insufficient_data'
    """
    if n < min_labels or n_reference < min_labels:
        return "insufficient_data"
    distance = max(_or_zero(js), _or_zero(tvd))
    drifting = p_adjusted < DRIFT_P_THRESHOLD and distance >= DRIFT_WARN_DISTANCE
    if not drifting:
        return "ok"
    if distance >= DRIFT_FAIL_DISTANCE or _or_zero(psi_value) >= PSI_LARGE:
        return "fail"
    return "warn"


def _or_zero(value: float) -> float:
    return 0.0 if math.isnan(value) else value


# ---------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------


def label_drift(
    df: pd.DataFrame,
    by: str = "batch",
    reference: str | None = None,
    mode: Literal["reference", "consecutive"] = "reference",
    *,
    adjust: Literal["holm", "bh"] = "holm",
    min_labels: int = MIN_LABELS_PER_WINDOW,
    permutations: int = DEFAULT_PERMUTATIONS,
    psi_smoothing: float = PSI_SMOOTHING,
    seed: int = 0,
) -> DriftResult:
    """Compare the label mix across windows of a long annotation table (one question).

    Parameters
    ----------
    df : long table with ``label`` and the window column (categorical or multi-label answers).
    by : ``"batch"`` (round / guideline version), ``"day"`` or ``"week"`` (from ``created_at``,
        UTC; a week is named by its Monday), ``"annotator"`` (``annotator_id``; confounded with
        item assignment, see :func:`paired_label_shift`), ``"model_vs_human"``
        (``annotator_kind``) or any column.
    reference : the window every other window is compared with (default: the first window).
    mode : ``"reference"`` (each window against ``reference``) or ``"consecutive"`` (each window
        against the one before it).
    adjust : ``"holm"`` (family-wise, for gates) or ``"bh"`` (Benjamini-Hochberg, exploration);
        the family is every comparison made.
    min_labels : windows with fewer labels are ``insufficient_data``.
    permutations : permutation replicates when expected counts are small (0: always asymptotic).
    psi_smoothing : additive count smoothing of PSI.
    seed : seed of the permutation test.

    Returns
    -------
    DriftResult
        ``.comparisons`` is the per-window table; ``.omnibus`` the test over all windows;
        ``.residuals`` and ``.share_differences`` say which labels moved. See
        :class:`DriftResult`. NaN distances mean an empty side (``reason`` says so); p-values are
        never NaN (a degenerate table has p = 1).

    Notes
    -----
    Multi-label answers count once per label they hold, so ``n`` counts label assignments.
    Verdicts follow :func:`drift_verdict`.

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "item_id": range(400), "annotator_id": "a",
    ...     "label": ["yes"] * 100 + ["no"] * 100 + ["yes"] * 160 + ["no"] * 40,
    ...     "batch": ["v1"] * 200 + ["v2"] * 200})
    >>> result = label_drift(frame, by="batch")
    >>> result.comparisons[["window", "reference", "n", "tvd", "verdict"]]
      window reference    n  tvd verdict
    0     v2        v1  200  0.3    fail
    """
    if mode not in ("reference", "consecutive"):
        raise MetricInputError(f"mode must be 'reference' or 'consecutive', not {mode!r}")
    if adjust not in ADJUST_METHODS:
        raise MetricInputError(f"adjust must be one of {sorted(ADJUST_METHODS)}, not {adjust!r}")
    windows, rows_without_window = _windows(df, by)
    return drift_from_counts(
        _count_table(windows, df["label"]), by, reference, mode, adjust=adjust, min_labels=min_labels,
        permutations=permutations, psi_smoothing=psi_smoothing, seed=seed,
        rows_without_window=rows_without_window,
    )


def drift_from_counts(
    counts: pd.DataFrame,
    by: str = "batch",
    reference: str | None = None,
    mode: Literal["reference", "consecutive"] = "reference",
    *,
    adjust: Literal["holm", "bh"] = "holm",
    min_labels: int = MIN_LABELS_PER_WINDOW,
    permutations: int = DEFAULT_PERMUTATIONS,
    psi_smoothing: float = PSI_SMOOTHING,
    seed: int = 0,
    rows_without_window: int = 0,
) -> DriftResult:
    """Label drift from the windows x labels count table (the sufficient statistic): the entry
    point the DuckDB and Spark engines of :mod:`qa.engines` call with counts they reduced
    themselves.

    ``counts``: one row per window in window order (index: window names), one column per label
    (sorted by ``str``), as :func:`label_counts` returns it. ``rows_without_window``: rows left
    out for having no window, reported as such. Other parameters and the result are those of
    :func:`label_drift`.

    Examples
    --------
    >>> counts = pd.DataFrame({"no": [100, 40], "yes": [100, 160]},
    ...                       index=pd.Index(["v1", "v2"], name="window"))
    >>> drift_from_counts(counts).comparisons[["window", "tvd", "verdict"]].values.tolist()
    [['v2', 0.3, 'fail']]
    """
    if mode not in ("reference", "consecutive"):
        raise MetricInputError(f"mode must be 'reference' or 'consecutive', not {mode!r}")
    if adjust not in ADJUST_METHODS:
        raise MetricInputError(f"adjust must be one of {sorted(ADJUST_METHODS)}, not {adjust!r}")
    pairs = _comparison_pairs(list(counts.index), reference, mode)
    rows = [_compare(counts, window, base, min_labels, permutations, psi_smoothing, seed) for window, base in pairs]
    comparisons = _adjust(pd.DataFrame(rows, columns=[c for c in COMPARISON_COLUMNS if c not in ("p_adjusted", "adjust")]),
                          adjust, min_labels)
    notes = ()
    if by in ("annotator", "annotator_id"):
        notes = ("annotator windows are confounded with item assignment unless items were assigned at random; "
                 "compare annotators on shared items with paired_label_shift (Stuart-Maxwell)",)
    return DriftResult(
        comparisons=comparisons,
        omnibus=_omnibus(counts, min_labels, permutations, seed),
        residuals=standardized_residuals(counts[counts.sum(axis=1) >= min_labels]),
        share_differences=_share_differences(counts, pairs),
        counts=counts,
        by=by,
        mode=mode,
        adjust=adjust,
        rows_without_window=rows_without_window,
        notes=notes,
    )


def _comparison_pairs(windows: list, reference: str | None, mode: str) -> list[tuple]:
    if not windows:
        return []
    if mode == "consecutive":
        return list(zip(windows[1:], windows[:-1], strict=False))
    reference = windows[0] if reference is None else str(reference)
    if reference not in windows:
        raise MetricInputError(f"reference window {reference!r} is not one of the windows {windows}")
    return [(window, reference) for window in windows if window != reference]


def _compare(counts: pd.DataFrame, window: str, reference: str, min_labels: int,
             permutations: int, smoothing: float, seed: int) -> dict:
    current = counts.loc[window].to_numpy()
    base = counts.loc[reference].to_numpy()
    present = (current + base) > 0
    current, base = current[present], base[present]
    labels = counts.columns[present]
    statistic, dof, p_value, p_method = chi2_homogeneity(np.vstack([current, base]), permutations=permutations, seed=seed)
    n, n_reference = int(current.sum()), int(base.sum())
    reasons = []
    if n == 0 or n_reference == 0:
        reasons.append("empty window" if n == 0 else "empty reference window")
    if min(n, n_reference) < min_labels:
        reasons.append(f"fewer than {min_labels} labels")
    if p_method == "degenerate" and n and n_reference:
        reasons.append("a single label in both windows")
    shape = (2, int(present.sum()))
    return {
        "window": window, "reference": reference, "n": n, "n_reference": n_reference,
        "chi2": statistic, "dof": dof, "p_value": p_value, "p_method": p_method,
        "js_distance": js_distance(current, base), "tvd": total_variation(current, base),
        "psi": psi(current, base, smoothing), "psi_band": psi_band(psi(current, base, smoothing)),
        "cramers_v": cramers_v_corrected(statistic, shape, n + n_reference) if n and n_reference else math.nan,
        "verdict": "", "new_labels": tuple(labels[(current > 0) & (base == 0)]),
        "vanished_labels": tuple(labels[(current == 0) & (base > 0)]), "reason": "; ".join(reasons),
    }


def _adjust(comparisons: pd.DataFrame, adjust: str, min_labels: int) -> pd.DataFrame:
    if comparisons.empty:
        return comparisons.assign(p_adjusted=pd.Series(dtype=float), adjust=pd.Series(dtype=str))[COMPARISON_COLUMNS]
    adjusted = multipletests(comparisons["p_value"].to_numpy(), method=ADJUST_METHODS[adjust])[1]
    comparisons = comparisons.assign(p_adjusted=adjusted, adjust=adjust)
    comparisons["verdict"] = [
        drift_verdict(row.n, row.n_reference, row.p_adjusted, row.js_distance, row.tvd, row.psi, min_labels)
        for row in comparisons.itertuples()  # one row per window: a handful
    ]
    return comparisons[COMPARISON_COLUMNS]


def _omnibus(counts: pd.DataFrame, min_labels: int, permutations: int, seed: int) -> OmnibusTest:
    enough = counts.sum(axis=1) >= min_labels
    table = counts[enough]
    table = table.loc[:, table.sum(axis=0) > 0]
    statistic, dof, p_value, p_method = chi2_homogeneity(table.to_numpy(), permutations=permutations, seed=seed)
    n = int(table.to_numpy().sum())
    reason = "" if p_method != "degenerate" else "fewer than two windows or two labels to compare"
    return OmnibusTest(
        statistic=statistic, dof=dof, p_value=p_value, p_method=p_method,
        cramers_v=cramers_v_corrected(statistic, table.shape, n) if p_method != "degenerate" else math.nan,
        n=n, windows=tuple(table.index), windows_excluded=tuple(counts.index[~enough]),
        n_labels=int(table.shape[1]), reason=reason,
    )


def standardized_residuals(counts: pd.DataFrame) -> pd.DataFrame:
    r"""Adjusted standardized residuals of a windows x labels table, tidy.

    .. math:: r_{ij} = \frac{O_{ij} - E_{ij}}{\sqrt{E_{ij}(1 - n_{i+}/n)(1 - n_{+j}/n)}}

    approximately standard normal under homogeneity (Agresti 2013, sec. 2.4.5); ``|r| > 3``
    stands out. NaN where the denominator is zero (one window or one label).

    Examples
    --------
    >>> table = pd.DataFrame({"no": [50, 20], "yes": [50, 80]}, index=pd.Index(["v1", "v2"], name="window"))
    >>> standardized_residuals(table).round(2)
      window label  count  expected  std_residual  stands_out
    0     v1    no     50      35.0          4.45        True
    1     v1   yes     50      65.0         -4.45        True
    2     v2    no     20      35.0         -4.45        True
    3     v2   yes     80      65.0          4.45        True
    """
    columns = ["window", "label", "count", "expected", "std_residual", "stands_out"]
    observed = counts.to_numpy(dtype=float)
    total = observed.sum()
    if total == 0:
        return pd.DataFrame(columns=columns)
    row_share = observed.sum(axis=1, keepdims=True) / total
    column_share = observed.sum(axis=0, keepdims=True) / total
    expected = row_share * column_share * total
    with np.errstate(invalid="ignore", divide="ignore"):
        residual = (observed - expected) / np.sqrt(expected * (1 - row_share) * (1 - column_share))
    tidy = pd.DataFrame({
        "window": np.repeat(np.asarray(counts.index, dtype=object), observed.shape[1]),
        "label": np.tile(np.asarray(counts.columns, dtype=object), observed.shape[0]),
        "count": observed.ravel().astype(np.int64),
        "expected": expected.ravel(),
        "std_residual": residual.ravel(),
    })
    tidy["stands_out"] = tidy["std_residual"].abs() > RESIDUAL_STANDS_OUT
    return tidy[columns]


def _share_differences(counts: pd.DataFrame, pairs: list[tuple]) -> pd.DataFrame:
    columns = ["window", "reference", "label", "share", "share_reference", "difference", "ci_low", "ci_high"]
    frames = []
    for window, reference in pairs:  # one iteration per compared window, vectorized over labels
        current, base = counts.loc[window].to_numpy(), counts.loc[reference].to_numpy()
        n, n_reference = current.sum(), base.sum()
        low, high = newcombe_difference_interval(current, n, base, n_reference)
        with np.errstate(invalid="ignore", divide="ignore"):
            share, share_reference = current / n, base / n_reference
        frames.append(pd.DataFrame({
            "window": window, "reference": reference, "label": np.asarray(counts.columns, dtype=object),
            "share": share, "share_reference": share_reference, "difference": share - share_reference,
            "ci_low": low, "ci_high": high,
        }))
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def paired_label_shift(df: pd.DataFrame, a: str, b: str, categories: list | None = None) -> PairedShiftResult:
    """Do two annotators use the categories at different rates on the items they both labelled?

    The paired comparison that removes the item-assignment confound of ``by="annotator"``:
    the Stuart-Maxwell test of marginal homogeneity (Stuart 1955; Maxwell 1970) on the square
    table of their labels over shared items (statsmodels ``SquareTable.homogeneity``).
    Degenerate when they used fewer than two categories between them (statistic 0, p = 1).

    Examples
    --------
    >>> frame = pd.DataFrame({"item_id": list(range(6)) * 2, "annotator_id": ["x"] * 6 + ["y"] * 6,
    ...                       "label": list("aabbcc") + list("aabbcc")})
    >>> paired_label_shift(frame, "x", "y").p_value
    1.0
    """
    from statsmodels.stats.contingency_tables import SquareTable

    pair = df[df["annotator_id"].astype(str).isin([str(a), str(b)])]
    wide = pair.pivot_table(index="item_id", columns=pair["annotator_id"].astype(str), values="label",
                            aggfunc="first", observed=True)
    if str(a) not in wide.columns or str(b) not in wide.columns:
        raise MetricInputError(f"annotators {a!r} and {b!r} must both appear in the table")
    shared = wide[[str(a), str(b)]].dropna()
    observed = pd.unique(pd.concat([shared[str(a)], shared[str(b)]]))
    categories = list(categories) if categories is not None else sorted(observed, key=str)
    table = pd.crosstab(pd.Categorical(shared[str(a)], categories), pd.Categorical(shared[str(b)], categories),
                        dropna=False).reindex(index=categories, columns=categories, fill_value=0)
    used = (table.sum(axis=0) + table.sum(axis=1)) > 0
    if used.sum() < 2:
        return PairedShiftResult(str(a), str(b), 0.0, 0, 1.0, "degenerate", len(shared), tuple(categories), table,
                                 "fewer than two categories used on shared items")
    square = table.loc[used, used].to_numpy()
    if np.array_equal(square.sum(axis=0), square.sum(axis=1)):  # no marginal difference at all
        return PairedShiftResult(str(a), str(b), 0.0, int(used.sum()) - 1, 1.0, "degenerate", len(shared),
                                 tuple(categories), table, "identical margins")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = SquareTable(square, shift_zeros=False).homogeneity()
    statistic = float(test.statistic)
    if not math.isfinite(statistic):  # singular covariance of the margin differences
        return PairedShiftResult(str(a), str(b), statistic, int(test.df), 0.0 if statistic == math.inf else 1.0,
                                 "degenerate", len(shared), tuple(categories), table,
                                 "singular covariance of the margin differences")
    return PairedShiftResult(str(a), str(b), statistic, int(test.df), float(test.pvalue), "asymptotic",
                             len(shared), tuple(categories), table)

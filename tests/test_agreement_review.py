"""Independent review of the agreement core (issue 3): published values and textbook formulas.

Two kinds of tests live here:

- regression tests against values published by Gwet (R package irrCAC 1.0, README and vignette,
  2019; the data of Gwet 2014, *Handbook of Inter-Rater Reliability*, 4th ed.), and against an
  independent loop-by-loop implementation of Gwet's (2014, ch. 5) raw-data formulas;
- regression tests of bugs found in the review (unused categorical categories counted as
  values, an impossible ICC(2,k) interval, counts lost on NaN results, an empty table, n_boot=0
  labelled as a bootstrap). Each says what the right number is and where it comes from.
"""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

from metrics import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_category_kappas,
    fleiss_kappa,
    from_counts,
    from_wide,
    gwet_ac,
    icc,
    item_disagreement,
    krippendorff_alpha,
    pabak,
    pairwise_agreement,
    percent_agreement,
    scott_pi,
)
from metrics.disagreement import ITEM_DISAGREEMENT_COLUMNS
from metrics.kappa import agreement_weights

COLUMNS = ["item_id", "annotator_id", "label"]
PUBLISHED_DECIMALS = 5e-6
"""irrCAC prints 5 significant decimals for raw-data results (7-8 for tables)."""

# Gwet (2014), p. 120 (irrCAC ``cac.raw4raters``): 4 raters, 12 units, 5 categories, missing.
GWET_RAW_4_RATERS = {
    "Rater1": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "Rater2": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, None],
    "Rater3": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
    "Rater4": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}
# irrCAC ``distrib.6raters``: 15 patients x 5 diagnoses, counts of 6 psychiatrists per cell.
GWET_DISTRIBUTION_6_RATERS = [
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
]  # fmt: skip
# irrCAC ``cont3x3abstractors``: 100 pregnancies classified by 2 abstractors into 3 types.
GWET_ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]


def gwet_raw_4_raters() -> pd.DataFrame:
    return from_wide(pd.DataFrame(GWET_RAW_4_RATERS, index=[f"u{i}" for i in range(1, 13)]))


def gwet_distribution_6_raters() -> pd.DataFrame:
    counts = pd.DataFrame(
        GWET_DISTRIBUTION_6_RATERS,
        columns=["Depression", "Personality", "Schizophrenia", "Neurosis", "Other"],
        index=[f"p{i}" for i in range(1, 16)],
    )
    return from_counts(counts)


def two_rater_long(table: list[list[int]]) -> pd.DataFrame:
    rows, item = [], 0
    for row, counts in enumerate(table):
        for col, count in enumerate(counts):
            for _ in range(count):
                rows += [(f"i{item}", "A", f"c{row}"), (f"i{item}", "B", f"c{col}")]
                item += 1
    return pd.DataFrame(rows, columns=COLUMNS)


# --- published values (regression) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "value", "se", "p_e"),
    [
        (percent_agreement, 0.8181818, 0.12561, 0.0),
        (gwet_ac, 0.77544, 0.14295, 0.1903212),
        (fleiss_kappa, 0.76117, 0.15302, 0.2387153),
        (conger_kappa, 0.76282, 0.14917, 0.2334252),
        (brennan_prediger, 0.77273, 0.14472, 0.2),
    ],
    ids=lambda x: getattr(x, "__name__", None),
)
def test_multi_rater_values_and_ses_equal_gwet_2014_raw_four_raters(function, value, se, p_e):
    # Gwet, irrCAC 1.0 README (``*.raw(cac.raw4raters)``): coeff.val, coeff.se, pe.
    result = function(gwet_raw_4_raters(), interval="none")
    assert result.value == pytest.approx(value, abs=PUBLISHED_DECIMALS)
    assert result.se == pytest.approx(se, abs=PUBLISHED_DECIMALS)
    assert result.details["p_e"] == pytest.approx(p_e, abs=5e-8)


def test_alpha_equals_gwet_2014_raw_four_raters():
    # irrCAC ``krippen.alpha.raw(cac.raw4raters)``: 0.74342 (= Krippendorff 2011's 0.743).
    result = krippendorff_alpha(gwet_raw_4_raters(), n_boot=0)
    assert result.value == pytest.approx(0.74342, abs=PUBLISHED_DECIMALS)


@pytest.mark.parametrize(
    ("function", "value", "se"),
    [
        (gwet_ac, 0.4448007, 0.08418757),
        (fleiss_kappa, 0.4139265, 0.08119291),
        (brennan_prediger, 0.4388889, 0.08312142),
    ],
    ids=lambda x: getattr(x, "__name__", None),
)
def test_values_and_ses_equal_gwet_on_the_six_rater_distribution(function, value, se):
    # irrCAC 1.0 README, ``*.dist(distrib.6raters)``: coeff and stderr.
    result = function(gwet_distribution_6_raters(), interval="none")
    assert result.value == pytest.approx(value, abs=5e-8)
    assert result.se == pytest.approx(se, abs=5e-9)


def test_alpha_equals_gwet_on_the_six_rater_distribution():
    # irrCAC 1.0 README, ``krippen.alpha.dist(distrib.6raters)``: 0.4204384.
    result = krippendorff_alpha(gwet_distribution_6_raters(), n_boot=0)
    assert result.value == pytest.approx(0.4204384, abs=5e-8)


@pytest.mark.parametrize(
    ("coefficient", "value", "se"),
    [
        ("cohen_kappa", 0.7964094, 0.05891072),
        ("scott_pi", 0.7962397, 0.05905473),
        ("gwet_ac", 0.8493305, 0.04321747),
        ("brennan_prediger", 0.835, 0.04693346),
        ("percent_agreement", 0.89, 0.03128898),
    ],
)
def test_pairwise_values_and_ses_equal_gwet_two_rater_table_formulas(coefficient, value, se):
    # irrCAC 1.0 README, ``*2.table(cont3x3abstractors)``: Gwet's contingency-table SEs.
    row = pairwise_agreement(two_rater_long(GWET_ABSTRACTORS), coefficient).iloc[0]
    assert row.value == pytest.approx(value, abs=5e-8)
    assert row.se == pytest.approx(se, abs=5e-9)


def test_alpha_equals_gwet_on_the_abstractors_table():
    # irrCAC 1.0 README, ``krippen2.table(cont3x3abstractors)``: 0.7972585.
    result = krippendorff_alpha(two_rater_long(GWET_ABSTRACTORS), n_boot=0)
    assert result.value == pytest.approx(0.7972585, abs=5e-8)


# --- an independent implementation of Gwet (2014), ch. 5 ---------------------------------------


def _gwet_textbook(ratings: np.ndarray, q: int, w: np.ndarray, chance: str) -> tuple[float, float]:
    """Value and SE (Gwet 2008 linearization, f = 0) item by item; ``ratings`` items x raters
    of category codes, NaN missing. Conger returns no SE here (NaN)."""
    ratings = ratings[~np.isnan(ratings).all(axis=1)]
    ratings = ratings[:, ~np.isnan(ratings).all(axis=0)]  # a rater who rated nothing is no rater
    n, n_raters = ratings.shape
    r = np.zeros((n, q))
    for i in range(n):
        for g in range(n_raters):
            if not np.isnan(ratings[i, g]):
                r[i, int(ratings[i, g])] += 1
    r_i = r.sum(axis=1)
    pairable = r_i >= 2
    agreeing = (r * (r @ w.T - 1.0)).sum(axis=1)
    p_a_i = np.where(pairable, agreeing / np.where(pairable, r_i * (r_i - 1.0), 1.0), 0.0)
    p_a = p_a_i[pairable].mean()
    pi = (r / r_i[:, None]).mean(axis=0)
    t_w = w.sum()
    if chance == "fleiss":
        p_e, per_value = pi @ w @ pi, w @ pi
    elif chance == "gwet":
        p_e = t_w / (q * (q - 1)) * (pi * (1 - pi)).sum()
        per_value = t_w / (q * (q - 1)) * (1 - pi)
    elif chance == "uniform":
        p_e, per_value = t_w / q**2, np.full(q, t_w / q**2)
    elif chance == "none":
        p_e, per_value = 0.0, np.zeros(q)
    else:  # conger: each rater's own marginals over the items it rated
        shares = np.array(
            [[np.mean(ratings[~np.isnan(ratings[:, g]), g] == k) for k in range(q)]
             for g in range(n_raters)]
        )  # fmt: skip
        mean = shares.mean(axis=0)
        s2 = (shares.T @ shares - n_raters * np.outer(mean, mean)) / (n_raters - 1)
        p_e = (w * (np.outer(mean, mean) - s2 / n_raters)).sum()
        return (p_a - p_e) / (1 - p_e), math.nan
    n_pairable = pairable.sum()
    if chance == "none":
        item_value = n / n_pairable * p_a_i
        return p_a, math.sqrt(((item_value - p_a) ** 2).sum() / (n * (n - 1)))
    value = (p_a - p_e) / (1 - p_e)
    item_value = n / n_pairable * (p_a_i - p_e * pairable) / (1 - p_e)
    item_value -= 2 * (1 - value) * ((r @ per_value) / r_i - p_e) / (1 - p_e)
    return value, math.sqrt(((item_value - value) ** 2).sum() / (n * (n - 1)))


TEXTBOOK_CHANCE = {
    fleiss_kappa: "fleiss",
    gwet_ac: "gwet",
    brennan_prediger: "uniform",
    percent_agreement: "none",
    conger_kappa: "conger",
}


@pytest.mark.parametrize("weights", [None, "linear", "quadratic", "ordinal"])
@pytest.mark.parametrize("function", list(TEXTBOOK_CHANCE), ids=lambda f: f.__name__)
def test_multi_rater_coefficients_equal_gwet_textbook_formulas_on_incomplete_data(
    function, weights
):
    rng = np.random.default_rng(11)
    for _ in range(12):
        q, n, n_raters = int(rng.integers(2, 6)), int(rng.integers(3, 15)), int(rng.integers(2, 5))
        truth = rng.integers(0, q, n)
        ratings = np.where(
            rng.random((n, n_raters)) < 0.6, truth[:, None], rng.integers(0, q, (n, n_raters))
        ).astype(float)
        ratings[rng.random((n, n_raters)) < 0.3] = np.nan
        rows = [
            (f"i{i}", f"g{g}", int(ratings[i, g]))
            for i in range(n)
            for g in range(n_raters)
            if not np.isnan(ratings[i, g])
        ]
        df = pd.DataFrame(rows, columns=COLUMNS)
        result = function(df, weights=weights, categories=list(range(q)), interval="none")
        if result.status != "ok" or ratings.shape[0] < 2:
            continue
        value, se = _gwet_textbook(
            ratings, q, agreement_weights(q, weights), TEXTBOOK_CHANCE[function]
        )
        assert result.value == pytest.approx(value, abs=1e-12)
        if not math.isnan(se):
            assert result.se == pytest.approx(se, abs=1e-12)


def test_ordinal_alpha_with_unused_declared_categories_equals_krippendorff_value_domain():
    # Krippendorff (2011): the ordinal difference sums the marginals n_g of the values between
    # c and k; an unused value has n_g = 0, so declaring it changes nothing.
    domain = ["none", "low", "mid", "high", "max"]
    rng = np.random.default_rng(7)
    for _ in range(10):
        codes = rng.choice([0, 1, 3, 4], size=(3, 8)).astype(float)
        codes[rng.random(codes.shape) < 0.3] = np.nan
        rows = [
            (f"i{j}", f"r{i}", domain[int(codes[i, j])])
            for i in range(3)
            for j in range(8)
            if not np.isnan(codes[i, j])
        ]
        result = krippendorff_alpha(
            pd.DataFrame(rows, columns=COLUMNS), "ordinal", categories=domain, n_boot=0
        )
        expected = krippendorff.alpha(
            reliability_data=codes, level_of_measurement="ordinal", value_domain=range(5)
        )
        assert result.value == pytest.approx(expected, abs=1e-12)


# --- bug: unused categories of a categorical label column became values ------------------------
# The five items below: (p, p), (q, q), (p, q), (q, q), (p, p). p_a = 4/5; two values are used.
# A pandas Categorical that also lists an unused "r" (e.g. left over from another question) must
# not add a category: q counts the declared (``categories=``) or the used values only.

FIVE_ITEMS = pd.DataFrame(
    {
        "item_id": list("aabbccddee"),
        "annotator_id": list("xyxyxyxyxy"),
        "label": ["p", "p", "q", "q", "p", "q", "q", "q", "p", "p"],
    }
)


def _with_unused_category(df: pd.DataFrame, categories: list) -> pd.DataFrame:
    return df.assign(label=pd.Categorical(df["label"], categories=categories))


CATEGORICAL_BUG = "bug: ratings._factorize_labels keeps unused categories of a Categorical label"


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        # Brennan-Prediger / PABAK / Randolph: (p_a - 1/q) / (1 - 1/q) = (0.8 - 0.5) / 0.5.
        (brennan_prediger, 0.6),
        (pabak, 0.6),
        (lambda df, **kw: fleiss_kappa(df, method="randolph", **kw), 0.6),
        # Gwet's AC1: pi = (1/2, 1/2), p_e = sum pi (1 - pi) / (q - 1) = 1/2 -> 0.6.
        (gwet_ac, 0.6),
    ],
    ids=["brennan_prediger", "pabak", "randolph", "gwet_ac1"],
)
def test_unused_categories_of_a_categorical_label_do_not_count_in_q(function, expected):
    categorical = _with_unused_category(FIVE_ITEMS, ["p", "q", "r"])
    assert function(FIVE_ITEMS, interval="none").value == pytest.approx(expected)
    assert function(categorical, interval="none").value == pytest.approx(expected)


def test_an_unused_middle_category_of_a_categorical_label_leaves_weighted_kappa_unchanged():
    # Weights use category positions; a phantom 3 between the used 2 and 4 would stretch the
    # 2-4 distance. The right value is statsmodels' on the 3 x 3 table of the used values.
    pairs = [(1, 1), (2, 2), (4, 4), (1, 2), (2, 4), (1, 4), (2, 2), (4, 2)]
    df = pd.DataFrame(
        [
            (f"i{i}", rater, label)
            for i, pair in enumerate(pairs)
            for rater, label in zip("xy", pair, strict=True)
        ],
        columns=COLUMNS,
    )
    position = {1: 0, 2: 1, 4: 2}
    table = np.zeros((3, 3))
    for a, b in pairs:
        table[position[a], position[b]] += 1
    expected = sm_cohens_kappa(table, wt="linear").kappa
    assert cohen_kappa(df, weights="linear", interval="none").value == pytest.approx(expected)
    categorical = _with_unused_category(df, [1, 2, 3, 4])
    result = cohen_kappa(categorical, weights="linear", interval="none")
    assert result.value == pytest.approx(expected, abs=1e-12)


def test_fleiss_category_kappas_list_only_the_used_categories_of_a_categorical_label():
    table = fleiss_category_kappas(_with_unused_category(FIVE_ITEMS, ["p", "q", "r"]))
    result = fleiss_kappa(_with_unused_category(FIVE_ITEMS, ["p", "q", "r"]), interval="none")
    assert table["category"].tolist() == ["p", "q"]
    assert result.details["n_categories"] == 2


# --- bug: ICC(2,k) F-test lower bound past the Spearman-Brown pole -----------------------------


def _mcgraw_wong_average_absolute_interval(matrix: np.ndarray, level: float = 0.95):
    """ICC(A,k) bounds of McGraw & Wong (1996), Table 7, from a hand two-way ANOVA. The lower
    bound is unbounded (-inf) when its denominator ``F*(MSC - MSE) + n MSR`` is not positive."""
    n, k = matrix.shape
    grand = matrix.mean()
    ss_rows = k * ((matrix.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((matrix.mean(axis=0) - grand) ** 2).sum()
    ss_error = ((matrix - grand) ** 2).sum() - ss_rows - ss_cols
    msr, msc = ss_rows / (n - 1), ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    single = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    a = k * single / (n * (1 - single))
    b = 1 + k * single * (n - 1) / (n * (1 - single))
    df_satterthwaite = (a * msc + b * mse) ** 2 / (
        (a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1))
    )
    upper_quantile = 0.5 + level / 2
    f_low = stats.f.ppf(upper_quantile, n - 1, df_satterthwaite)
    f_high = stats.f.ppf(upper_quantile, df_satterthwaite, n - 1)
    low_denominator = f_low * (msc - mse) + n * msr
    low = n * (msr - f_low * mse) / low_denominator if low_denominator > 0 else -math.inf
    high = n * (f_high * msr - mse) / ((msc - mse) + n * f_high * msr)
    return low, high


def test_icc_2k_f_test_interval_is_unbounded_below_when_the_single_bound_passes_the_pole():
    # 3 items x 2 judges: MSR = 1.5, MSC = 0, MSE = 0.5, ICC(2,k) = 0.75. The ICC(2,1) lower
    # bound is -2.25 < -1/(k-1) = -1, where k x / (1 + (k-1) x) has its pole: the ICC(2,k)
    # interval is (-inf, 0.9943]. The code stepped -2.25 up to 3.25, clipped it to 1.0 and
    # returned [1.0, 0.994] (low > high, not containing 0.75, ci_clipped False).
    matrix = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0]])
    df = pd.DataFrame(
        [(f"t{i}", f"j{j}", matrix[i, j]) for i in range(3) for j in range(2)], columns=COLUMNS
    )
    low, high = _mcgraw_wong_average_absolute_interval(matrix)
    result = icc(df, "ICC(2,k)")
    assert result.value == pytest.approx(0.75)
    assert result.ci_low <= result.value <= result.ci_high
    assert (result.ci_low, result.ci_high) == (low, pytest.approx(high, abs=1e-12))


# --- bug: counts and NaN semantics -------------------------------------------------------------


def test_icc_without_complete_items_still_counts_the_incomplete_items():
    # Every item misses one of the three annotators: 0 complete items, 3 left out.
    df = pd.DataFrame(
        [("i1", "x", 1.0), ("i1", "y", 2.0), ("i2", "y", 3.0), ("i2", "z", 1.0),
         ("i3", "x", 2.0), ("i3", "z", 2.0)],
        columns=COLUMNS,
    )  # fmt: skip
    result = icc(df, "ICC(2,1)")
    assert result.status == "insufficient_data"
    assert result.n_unpairable_items == 3


def test_item_disagreement_of_a_table_without_ratings_is_an_empty_frame():
    all_missing = pd.DataFrame(
        {"item_id": ["a", "a"], "annotator_id": ["x", "y"], "label": [None, ""]}
    )
    frame = item_disagreement(all_missing)
    assert frame.empty and list(frame.columns) == list(ITEM_DISAGREEMENT_COLUMNS)


@pytest.mark.parametrize("function", [fleiss_kappa, scott_pi, gwet_ac], ids=lambda f: f.__name__)
def test_no_replicates_means_no_interval_method_as_for_alpha(function):
    # krippendorff_alpha(n_boot=0) reports ci_method "none"; the kappa family should too.
    result = function(gwet_raw_4_raters(), n_boot=0)
    assert krippendorff_alpha(gwet_raw_4_raters(), n_boot=0).ci_method == "none"
    assert result.ci_method == "none" and math.isnan(result.ci_low)

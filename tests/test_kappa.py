"""The kappa family: published values, statsmodels equality, invariances and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import reference_cases
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from metrics import (
    MetricInputError,
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_category_kappas,
    fleiss_kappa,
    from_wide,
    gwet_ac,
    pabak,
    percent_agreement,
    scott_pi,
)
from metrics.kappa import agreement_weights, pair_table
from metrics.ratings import prepare_ratings

COLUMNS = ["item_id", "annotator_id", "label"]
SMALL = settings(max_examples=50, deadline=None)

# Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., p. 120: 4 raters, 12 units, 5
# categories, missing ratings (dataset cac.raw4raters of R irrCAC). Published values below are
# Gwet's (reproduced by R irrCAC and its Python port).
GWET_4RATERS = {
    "Rater1": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "Rater2": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, None],
    "Rater3": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
    "Rater4": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}
# Gwet (2014), two-rater tables: 100 pregnancies x 3 types by 2 abstractors; 223 psychiatric
# patients x 4 diagnoses by 2 methods (irrCAC cont3x3abstractors, cont4x4diagnosis).
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
DIAGNOSIS = [[40, 4, 4, 17], [6, 25, 2, 13], [4, 1, 21, 12], [15, 5, 9, 45]]


def gwet_4raters() -> pd.DataFrame:
    wide = pd.DataFrame(GWET_4RATERS, index=[f"u{i}" for i in range(1, 13)])
    return from_wide(wide)


def table_to_long(table: list[list[int]], categories: list | None = None) -> pd.DataFrame:
    labels = categories or list(range(len(table)))
    rows, item = [], 0
    for row, counts in enumerate(table):
        for col, count in enumerate(counts):
            for _ in range(count):
                rows += [(f"i{item}", "A", labels[row]), (f"i{item}", "B", labels[col])]
                item += 1
    return pd.DataFrame(rows, columns=COLUMNS)


def wide_to_long(matrix: np.ndarray) -> pd.DataFrame:
    items, raters = np.indices(matrix.shape)
    return pd.DataFrame(
        {
            "item_id": items.ravel().astype(str),
            "annotator_id": np.char.add("r", raters.ravel().astype(str)),
            "label": matrix.ravel(),
        }
    )


# --- published values ---------------------------------------------------------------------------

REFERENCE = [
    case for case in reference_cases() if case["coefficient"] in ("fleiss_kappa", "cohen_kappa")
]


@pytest.mark.parametrize("case", REFERENCE, ids=[case["id"] for case in REFERENCE])
def test_reference_case_reproduces_its_published_value(case):
    df = pd.DataFrame(case["data"], columns=COLUMNS)
    function = {"fleiss_kappa": fleiss_kappa, "cohen_kappa": cohen_kappa}[case["coefficient"]]
    result = function(df, **case["params"])
    assert result.status == "ok"
    assert result.value == pytest.approx(case["expected"], abs=case["tolerance"])
    if "se" in case:
        assert result.se == pytest.approx(case["se"], abs=5e-4)
    if "ci_low" in case:
        assert result.details["analytic_ci_low"] == pytest.approx(
            case["ci_low"], abs=case["tolerance"]
        )
        assert result.details["analytic_ci_high"] == pytest.approx(
            case["ci_high"], abs=case["tolerance"]
        )


def test_cohen_kappa_analytic_interval_is_the_published_sas_interval():
    case = next(c for c in REFERENCE if c["coefficient"] == "cohen_kappa")
    result = cohen_kappa(
        pd.DataFrame(case["data"], columns=COLUMNS), **case["params"], interval="analytic"
    )
    assert result.ci_method == "analytic"
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (case["ci_low"], case["ci_high"]), abs=case["tolerance"]
    )


def test_fleiss_null_hypothesis_z_matches_fleiss_1971_diagnoses():
    # R irr::kappam.fleiss(diagnoses): Kappa = 0.43, z = 17.7 (Fleiss, Nee & Landis 1979 SE).
    case = next(c for c in REFERENCE if c["id"] == "fleiss1971-diagnoses")
    result = fleiss_kappa(pd.DataFrame(case["data"], columns=COLUMNS), interval="none")
    assert round(result.details["z"], 1) == 17.7


@pytest.mark.parametrize(
    ("weights", "value", "se"),
    [
        (None, 0.775, 0.143),
        ("linear", 0.859, 0.117),
        ("quadratic", 0.914, 0.104),
        ("ordinal", 0.899, 0.107),
    ],
)
def test_gwet_ac_reproduces_gwet_2014_four_raters(weights, value, se):
    result = gwet_ac(gwet_4raters(), weights=weights, categories=[1, 2, 3, 4, 5], interval="none")
    assert round(result.value, 3) == value
    assert round(result.se, 3) == se


def test_gwet_ac1_reproduces_gwet_2014_chance_agreement():
    result = gwet_ac(gwet_4raters(), interval="none")
    assert (round(result.details["p_a"], 3), round(result.details["p_e"], 3)) == (0.818, 0.190)


@pytest.mark.parametrize(
    ("function", "weights", "value", "se"),
    [
        (fleiss_kappa, None, 0.761, 0.153),
        (fleiss_kappa, "linear", 0.818, 0.149),
        (fleiss_kappa, "quadratic", 0.865, 0.146),
        (fleiss_kappa, "ordinal", 0.850, 0.147),
        (conger_kappa, None, 0.763, None),
        (conger_kappa, "linear", 0.814, 0.145),
        (conger_kappa, "quadratic", 0.858, 0.144),
        (brennan_prediger, None, 0.773, 0.145),
        (brennan_prediger, "linear", 0.848, 0.123),
        (brennan_prediger, "ordinal", 0.886, 0.114),
    ],
)
def test_multi_rater_coefficients_reproduce_gwet_2014_four_raters(function, weights, value, se):
    result = function(gwet_4raters(), weights=weights, categories=[1, 2, 3, 4, 5], interval="none")
    assert round(result.value, 3) == value
    if se is not None:
        assert round(result.se, 3) == se


def test_gwet_ac1_on_two_rater_tables_reproduces_gwet_2014():
    # Gwet (2014): AC1 = 0.849 (abstractors) and 0.456 with SE 0.043 (diagnosis methods).
    assert round(gwet_ac(table_to_long(ABSTRACTORS), interval="none").value, 3) == 0.849
    assert round(gwet_ac(table_to_long(DIAGNOSIS), interval="none").value, 3) == 0.456


def test_scott_pi_on_a_two_rater_table_reproduces_gwet_2014():
    assert round(scott_pi(table_to_long(ABSTRACTORS), interval="none").value, 3) == 0.796
    assert round(scott_pi(table_to_long(DIAGNOSIS), interval="none").value, 3) == 0.430


def test_unpairable_items_are_counted_and_inform_only_the_category_shares():
    result = fleiss_kappa(gwet_4raters(), interval="none")
    assert (result.n_items, result.n_unpairable_items, result.n_annotators) == (11, 1, 4)


# --- statsmodels equality -----------------------------------------------------------------------


@st.composite
def two_rater_tables(draw):
    n_categories = draw(st.integers(2, 5))
    n_items = draw(st.integers(2, 40))
    labels = st.integers(0, n_categories - 1)
    a = draw(st.lists(labels, min_size=n_items, max_size=n_items))
    b = draw(st.lists(labels, min_size=n_items, max_size=n_items))
    return n_categories, np.array(a), np.array(b)


def _two_rater_frame(a: np.ndarray, b: np.ndarray) -> pd.DataFrame:
    items = np.arange(len(a)).astype(str)
    return pd.DataFrame(
        {
            "item_id": np.r_[items, items],
            "annotator_id": ["A"] * len(a) + ["B"] * len(b),
            "label": np.r_[a, b],
        }
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # statsmodels' own 0/0 on degenerate tables
@SMALL
@given(two_rater_tables(), st.sampled_from([None, "linear", "quadratic"]))
def test_cohen_kappa_equals_statsmodels(data, weights):
    n_categories, a, b = data
    categories = list(range(n_categories))
    result = cohen_kappa(
        _two_rater_frame(a, b), "A", "B", weights=weights, categories=categories, interval="none"
    )
    table = np.zeros((n_categories, n_categories))
    np.add.at(table, (a, b), 1)
    reference = sm_cohens_kappa(table, wt=weights)
    if not np.isfinite(reference.kappa) or reference.kappa != reference.kappa:
        assert result.status == "undefined"
        return
    if result.status == "undefined":
        # one value used by both raters: statsmodels divides 0 by 0
        assert len(set(a) | set(b)) == 1
        return
    assert result.value == pytest.approx(reference.kappa, abs=1e-9)
    if np.isnan(
        reference.std_kappa
    ):  # a variance of -1e-17 from rounding: statsmodels takes its sqrt
        assert result.se == pytest.approx(0.0, abs=1e-7)
        return
    assert result.se == pytest.approx(reference.std_kappa, abs=1e-9)


@st.composite
def complete_ratings(draw):
    n_items = draw(st.integers(2, 30))
    n_raters = draw(st.integers(2, 6))
    n_categories = draw(st.integers(2, 4))
    values = draw(
        st.lists(
            st.integers(0, n_categories - 1),
            min_size=n_items * n_raters,
            max_size=n_items * n_raters,
        )
    )
    return np.array(values).reshape(n_items, n_raters)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@SMALL
@given(complete_ratings(), st.sampled_from(["fleiss", "randolph"]))
def test_fleiss_kappa_equals_statsmodels(matrix, method):
    result = fleiss_kappa(wide_to_long(matrix), method=method, interval="none")
    counts, _ = aggregate_raters(matrix)
    if len(np.unique(matrix)) < 2:
        assert result.status == "undefined" and math.isnan(result.value)
        return
    assert result.value == pytest.approx(sm_fleiss_kappa(counts, method=method), abs=1e-9)


@SMALL
@given(complete_ratings())
def test_fleiss_kappa_is_the_share_weighted_mean_of_category_kappas(matrix):
    df = wide_to_long(matrix)
    categories = fleiss_category_kappas(df)
    overall = fleiss_kappa(df, interval="none")
    spread = categories["share"] * (1 - categories["share"])
    if overall.status != "ok":
        return
    weighted = (spread * categories["kappa"].fillna(0)).sum() / spread.sum()
    assert overall.value == pytest.approx(weighted, abs=1e-9)


# --- invariances ----------------------------------------------------------------------------------


def _relabel(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = df["label"].unique()
    new_labels = dict(zip(labels, [f"L{i}" for i in rng.permutation(len(labels))], strict=True))
    annotators = df["annotator_id"].unique()
    new_annotators = dict(
        zip(annotators, [f"ann{i}" for i in rng.permutation(len(annotators))], strict=True)
    )
    out = df.assign(
        label=df["label"].map(new_labels), annotator_id=df["annotator_id"].map(new_annotators)
    )
    return out.sample(frac=1.0, random_state=seed).reset_index(drop=True)


NOMINAL_COEFFICIENTS = [
    fleiss_kappa,
    scott_pi,
    gwet_ac,
    brennan_prediger,
    percent_agreement,
    conger_kappa,
]


@SMALL
@given(complete_ratings(), st.sampled_from(NOMINAL_COEFFICIENTS), st.integers(0, 1000))
def test_renaming_labels_and_annotators_and_shuffling_rows_changes_nothing(matrix, function, seed):
    df = wide_to_long(matrix).astype({"label": str})
    original = function(df, interval="none")
    renamed = function(_relabel(df, seed), interval="none")
    assert original.status == renamed.status
    if original.status == "ok":
        assert renamed.value == pytest.approx(original.value, abs=1e-12)
        assert renamed.se == pytest.approx(original.se, abs=1e-12)


@SMALL
@given(two_rater_tables(), st.integers(0, 1000))
def test_cohen_kappa_is_invariant_to_renaming_and_row_order(data, seed):
    _, a, b = data
    df = _two_rater_frame(a, b).astype({"label": str})
    original = cohen_kappa(df, "A", "B", interval="none")
    shuffled = df.sample(frac=1.0, random_state=seed).assign(
        annotator_id=lambda d: d["annotator_id"].map({"A": "z", "B": "y"})
    )
    moved = cohen_kappa(shuffled, "z", "y", interval="none")
    assert moved.status == original.status
    if original.status == "ok":
        assert moved.value == pytest.approx(original.value, abs=1e-12)


@pytest.mark.parametrize("function", NOMINAL_COEFFICIENTS + [pabak])
def test_perfect_agreement_gives_one(function):
    labels = ["a", "b", "c", "a", "b", "c"]
    df = pd.DataFrame(
        {
            "item_id": np.repeat(range(6), 2),
            "annotator_id": ["x", "y"] * 6,
            "label": np.repeat(labels, 2),
        }
    )
    assert function(df, interval="none").value == pytest.approx(1.0)


def test_cohen_kappa_of_perfect_agreement_is_one():
    df = table_to_long([[3, 0], [0, 4]])
    assert cohen_kappa(df, "A", "B", interval="none").value == pytest.approx(1.0)


def test_conger_kappa_with_two_complete_raters_equals_cohen_kappa():
    df = table_to_long(DIAGNOSIS)
    assert conger_kappa(df, interval="none").value == pytest.approx(
        cohen_kappa(df, "A", "B", interval="none").value, abs=1e-12
    )


def test_scott_pi_equals_fleiss_kappa():
    df = gwet_4raters()
    assert scott_pi(df, interval="none").value == fleiss_kappa(df, interval="none").value


def test_pabak_for_two_categories_is_twice_agreement_minus_one():
    df = table_to_long([[40, 9], [6, 45]])
    assert pabak(df, "A", "B", interval="none").value == pytest.approx(2 * 0.85 - 1)


def test_randolph_kappa_is_brennan_prediger():
    df = gwet_4raters()
    randolph = fleiss_kappa(df, method="randolph", interval="none")
    assert randolph.coefficient == "randolph_kappa"
    assert randolph.value == pytest.approx(brennan_prediger(df, interval="none").value)


# --- intervals ------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_interval():
    df = table_to_long(DIAGNOSIS)
    first, second = cohen_kappa(df, "A", "B", seed=7), cohen_kappa(df, "A", "B", seed=7)
    assert (first.ci_low, first.ci_high) == (second.ci_low, second.ci_high)
    assert first.ci_method == "bootstrap_percentile" and len(first.bootstrap_replicates) == 1000


@pytest.mark.parametrize("function", [fleiss_kappa, gwet_ac, conger_kappa, percent_agreement])
def test_multi_rater_bootstrap_is_reproducible_and_brackets_the_value(function):
    first, second = function(gwet_4raters(), seed=3), function(gwet_4raters(), seed=3)
    assert (first.ci_low, first.ci_high) == (second.ci_low, second.ci_high)
    assert first.ci_low <= first.value <= first.ci_high


def test_bootstrap_interval_is_close_to_the_analytic_one_on_a_large_table():
    df = table_to_long(DIAGNOSIS)
    result = cohen_kappa(df, "A", "B", n_boot=2000)
    assert result.ci_low == pytest.approx(result.details["analytic_ci_low"], abs=0.02)
    assert result.ci_high == pytest.approx(result.details["analytic_ci_high"], abs=0.02)


def test_interval_is_clipped_to_one_and_flagged():
    result = gwet_ac(gwet_4raters(), interval="analytic")
    assert result.ci_high == 1.0 and result.ci_clipped


# --- edge cases -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "function", [fleiss_kappa, scott_pi, gwet_ac, brennan_prediger, conger_kappa, pabak]
)
def test_a_single_category_everywhere_is_undefined_not_one_or_zero(function):
    df = pd.DataFrame({"item_id": [1, 1, 2, 2], "annotator_id": ["x", "y"] * 2, "label": ["a"] * 4})
    result = function(df)
    assert result.status == "undefined" and math.isnan(result.value) and result.reason


def test_cohen_kappa_with_one_value_everywhere_is_undefined():
    df = pd.DataFrame({"item_id": [1, 1, 2, 2], "annotator_id": ["x", "y"] * 2, "label": ["a"] * 4})
    result = cohen_kappa(df, "x", "y")
    assert (
        result.status == "undefined" and math.isnan(result.value) and "same value" in result.reason
    )


def test_percent_agreement_with_one_value_everywhere_is_one_with_a_note():
    df = pd.DataFrame({"item_id": [1, 1, 2, 2], "annotator_id": ["x", "y"] * 2, "label": ["a"] * 4})
    result = percent_agreement(df)
    assert result.value == 1.0 and "same value" in result.reason


def test_cohen_kappa_without_shared_items_is_insufficient_data():
    df = pd.DataFrame({"item_id": [1, 2], "annotator_id": ["x", "y"], "label": ["a", "b"]})
    result = cohen_kappa(df, "x", "y")
    assert result.status == "insufficient_data" and math.isnan(result.value)
    assert result.n_unpairable_items == 2


def test_fleiss_kappa_without_pairable_items_is_insufficient_data():
    df = pd.DataFrame({"item_id": [1, 2], "annotator_id": ["x", "y"], "label": ["a", "b"]})
    result = fleiss_kappa(df)
    assert result.status == "insufficient_data" and result.reason


def test_missing_tokens_are_never_a_category():
    df = pd.DataFrame(
        {
            "item_id": [1, 1, 2, 2, 3, 3],
            "annotator_id": ["x", "y"] * 3,
            "label": ["a", "a", "b", "", "b", None],
        }
    )
    result = fleiss_kappa(df, interval="none")
    assert result.details["n_categories"] == 2 and result.n_items == 1


def test_unknown_weights_raise():
    with pytest.raises(MetricInputError, match="unknown weights"):
        cohen_kappa(table_to_long(ABSTRACTORS), "A", "B", weights="cubic")
    with pytest.raises(MetricInputError, match="unknown weights"):
        gwet_ac(table_to_long(ABSTRACTORS), weights="cubic")


def test_weighted_kappa_on_text_labels_needs_a_declared_order():
    df = table_to_long(ABSTRACTORS, categories=["low", "mid", "high"])
    with pytest.raises(MetricInputError, match="declared order"):
        cohen_kappa(df, "A", "B", weights="linear")
    ordered = cohen_kappa(
        df, "A", "B", weights="linear", categories=["low", "mid", "high"], interval="none"
    )
    numeric = cohen_kappa(table_to_long(ABSTRACTORS), "A", "B", weights="linear", interval="none")
    assert ordered.value == pytest.approx(numeric.value)


def test_declared_category_order_changes_weighted_kappa():
    df = table_to_long(ABSTRACTORS, categories=["low", "mid", "high"])
    natural = cohen_kappa(
        df, "A", "B", weights="quadratic", categories=["low", "mid", "high"], interval="none"
    )
    scrambled = cohen_kappa(
        df, "A", "B", weights="quadratic", categories=["mid", "low", "high"], interval="none"
    )
    assert natural.value != pytest.approx(scrambled.value)


def test_unknown_annotator_raises():
    with pytest.raises(MetricInputError, match="no rating"):
        cohen_kappa(table_to_long(ABSTRACTORS), "A", "nobody")


def test_custom_weights_must_have_ones_on_the_diagonal():
    with pytest.raises(MetricInputError, match="diagonal"):
        agreement_weights(2, np.array([[0.5, 0.0], [0.0, 1.0]]))


def test_pair_table_counts_shared_items_only():
    df = pd.DataFrame(
        {
            "item_id": [1, 1, 2, 3, 3],
            "annotator_id": ["x", "y", "x", "x", "y"],
            "label": ["a", "b", "a", "b", "b"],
        }
    )
    table, single = pair_table(prepare_ratings(df), 0, 1)
    assert table.tolist() == [[0, 1], [0, 1]] and single == 1


def test_perfect_agreement_has_a_standard_error_of_exactly_zero():
    # found by hypothesis: rounding left a variance of ~4e-17, whose square root read 6e-9
    labels = [3, 3, 1, 1, 1, 2, 3, 0, 0, 3, 0, 0, 0, 0, 2, 2, 1, 3, 1, 2, 3, 0]
    df = pd.DataFrame({
        "item_id": list(range(len(labels))) * 2,
        "annotator_id": ["a"] * len(labels) + ["b"] * len(labels),
        "label": labels * 2,
    })
    result = cohen_kappa(df, "a", "b", interval="analytic")
    assert result.value == 1.0
    assert result.se == 0.0

"""Specification of Krippendorff's alpha: published values, the reference implementation,
invariances, distances, edge cases and the bootstrap interval."""

from __future__ import annotations

import math
import tracemalloc

import krippendorff
import numpy as np
import pandas as pd
import pytest
from conftest import reference_cases
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics import krippendorff_alpha
from metrics.errors import MetricInputError

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def long_table(rows):
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])


def long_from_matrix(matrix: np.ndarray) -> pd.DataFrame:
    """annotators x items with NaN for missing -> long table."""
    annotators, items = np.nonzero(~np.isnan(matrix))
    return pd.DataFrame(
        {
            "item_id": [f"u{u}" for u in items],
            "annotator_id": [f"a{a}" for a in annotators],
            "label": matrix[annotators, items],
        }
    )


# --- published values --------------------------------------------------------------------------


ALPHA_CASES = [c for c in reference_cases() if c["coefficient"] == "krippendorff_alpha"]


@pytest.mark.parametrize("case", ALPHA_CASES, ids=[c["id"] for c in ALPHA_CASES])
def test_published_values_are_reproduced(case):
    result = krippendorff_alpha(long_table(case["data"]), **case["params"], n_boot=0)
    assert result.value == pytest.approx(case["expected"], abs=case["tolerance"])


def test_the_worked_example_counts_its_unpairable_item():
    case = ALPHA_CASES[0]
    result = krippendorff_alpha(long_table(case["data"]), **case["params"], n_boot=0)
    assert result.n_items == 11
    assert result.n_unpairable_items == 1
    assert result.status == "ok"


# --- the reference implementation --------------------------------------------------------------


@st.composite
def reliability_matrices(draw):
    n_annotators = draw(st.integers(2, 5))
    n_items = draw(st.integers(1, 12))
    n_values = draw(st.integers(2, 5))
    cells = draw(
        st.lists(
            st.one_of(st.none(), st.integers(1, n_values)),
            min_size=n_annotators * n_items,
            max_size=n_annotators * n_items,
        )
    )
    matrix = np.array([np.nan if c is None else float(c) for c in cells]).reshape(
        n_annotators, n_items
    )
    return matrix, list(range(1, n_values + 1))


def _reference_alpha(matrix: np.ndarray, level: str, domain: list[int]) -> float:
    with np.errstate(all="ignore"):
        try:
            return float(
                krippendorff.alpha(
                    reliability_data=matrix, level_of_measurement=level, value_domain=domain
                )
            )
        except ValueError:  # the reference refuses data with fewer than two values
            return math.nan


@pytest.mark.parametrize("level", LEVELS)
@settings(max_examples=50, deadline=None)
@given(data=reliability_matrices())
def test_alpha_equals_the_reference_implementation(level, data):
    matrix, domain = data
    df = long_from_matrix(matrix)
    expected = _reference_alpha(matrix, level, domain)
    if df.empty:
        return
    result = krippendorff_alpha(
        df, level, categories=domain if level == "ordinal" else None, n_boot=0
    )
    if math.isnan(expected):
        assert math.isnan(result.value) and result.reason
    else:
        assert result.value == pytest.approx(expected, abs=1e-9)


def test_continuous_interval_ratings_match_the_reference_without_a_values_matrix():
    rng = np.random.default_rng(5)
    matrix = rng.normal(50, 10, size=(3, 80)).round(3)
    matrix[rng.random(matrix.shape) < 0.2] = np.nan
    df = long_from_matrix(matrix)
    for level in ("interval", "ratio"):
        expected = _reference_alpha(matrix, level, None)
        assert krippendorff_alpha(df, level, n_boot=0).value == pytest.approx(expected, abs=1e-9)


def test_thousands_of_distinct_interval_values_stay_small_in_memory():
    rng = np.random.default_rng(6)
    n_items = 50_000
    truth = rng.normal(0, 1, n_items)
    matrix = truth + rng.normal(0, 0.5, size=(3, n_items))
    df = long_from_matrix(matrix)
    tracemalloc.start()
    result = krippendorff_alpha(df, "interval", n_boot=20)
    peak_bytes = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Independent: alpha = 1 - D_o / D_e with all three annotators rating every item.
    within = ((matrix[:, None, :] - matrix[None, :, :]) ** 2).sum() / 2  # sum over rater pairs
    n = matrix.size
    observed = 2 * within / 2 / n  # each unordered pair counted twice in o, divided by m - 1 = 2
    expected = 2 * (n * (matrix**2).sum() - matrix.sum() ** 2) / (n * (n - 1))
    assert result.value == pytest.approx(1 - observed / expected, abs=1e-9)
    assert peak_bytes < 300e6


# --- invariances ---------------------------------------------------------------------------------


def _crowd(seed: int, n_items: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.choice(["cat", "dog", "bird"], n_items)
    rows = []
    for u in range(n_items):
        for a in range(4):
            if rng.random() < 0.8:
                label = truth[u] if rng.random() < 0.7 else rng.choice(["cat", "dog", "bird"])
                rows.append((f"item{u}", f"ann{a}", label))
    return long_table(rows)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_renaming_labels_leaves_nominal_alpha_unchanged(seed):
    df = _crowd(seed)
    renamed = df.assign(label=df["label"].map({"cat": "zebra", "dog": "aardvark", "bird": "moose"}))
    assert krippendorff_alpha(renamed, n_boot=0).value == pytest.approx(
        krippendorff_alpha(df, n_boot=0).value, abs=1e-12
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_renaming_annotators_and_reordering_items_leaves_alpha_unchanged(seed):
    df = _crowd(seed)
    shuffled = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    shuffled["annotator_id"] = "rater-" + shuffled["annotator_id"].str[::-1]
    shuffled["item_id"] = "x" + shuffled["item_id"]
    assert krippendorff_alpha(shuffled, n_boot=0).value == pytest.approx(
        krippendorff_alpha(df, n_boot=0).value, abs=1e-12
    )


@pytest.mark.parametrize("level", LEVELS)
def test_perfect_agreement_gives_one(level):
    rows = [(f"u{u}", f"a{a}", float(u % 4 + 1)) for u in range(12) for a in range(3)]
    result = krippendorff_alpha(long_table(rows), level, n_boot=100)
    assert result.value == 1.0
    assert result.ci_high == 1.0


def test_the_ordinal_order_is_the_declared_one():
    order = ["low", "mid", "high"]
    matrix = np.array(
        [[1, 2, 3, 3, 1, 2, 2, 3], [2, 2, 3, 1, 1, 3, 2, 3], [1, 3, 3, 2, np.nan, 2, 1, 3]]
    )
    df = long_from_matrix(matrix).assign(label=lambda d: [order[int(v) - 1] for v in d["label"]])
    declared = krippendorff_alpha(df, "ordinal", categories=order, n_boot=0)
    expected = _reference_alpha(matrix, "ordinal", [1, 2, 3])
    assert declared.value == pytest.approx(expected, abs=1e-12)
    alphabetical = krippendorff_alpha(df, "ordinal", categories=sorted(order), n_boot=0)
    assert alphabetical.value != pytest.approx(expected, abs=1e-6)


# --- distances -----------------------------------------------------------------------------------


def test_a_squared_difference_distance_equals_the_interval_level():
    case = next(c for c in ALPHA_CASES if c["params"]["level"] == "interval")
    df = long_table(case["data"])
    custom = krippendorff_alpha(df, "interval", distance=lambda a, b: (a - b) ** 2, n_boot=0)
    assert custom.value == pytest.approx(
        krippendorff_alpha(df, "interval", n_boot=0).value, abs=1e-12
    )
    assert custom.level == "custom"


SETS = [
    ("u1", "a", frozenset({"x"})),
    ("u1", "b", frozenset({"x", "y"})),
    ("u2", "a", frozenset({"y"})),
    ("u2", "b", frozenset({"y"})),
]


def test_masi_alpha_on_a_hand_computed_example():
    # values {x}, {x,y}, {y}; MASI d({x},{x,y}) = 1 - 1/2 * 2/3 = 2/3, d({x,y},{y}) = 2/3,
    # d({x},{y}) = 1. n = 4; sum o d = 2 * 2/3 (unit u1); N = (1, 1, 2) for ({x}, {x,y}, {y}):
    # sum N N d = 2 * (1*1*2/3 + 1*2*1 + 1*2*2/3) = 2 * (2/3 + 2 + 4/3) = 8.
    expected = 1 - 3 * (4 / 3) / 8
    result = krippendorff_alpha(long_table(SETS), distance="masi", n_boot=0)
    assert result.value == pytest.approx(expected, abs=1e-12)


def test_jaccard_alpha_on_a_hand_computed_example():
    # Jaccard d({x},{x,y}) = 1/2, d({x,y},{y}) = 1/2, d({x},{y}) = 1.
    # sum o d = 2 * 1/2 = 1; sum N N d = 2 * (1*1*1/2 + 1*2*1 + 1*2*1/2) = 7.
    expected = 1 - 3 * 1 / 7
    result = krippendorff_alpha(long_table(SETS), distance="jaccard", n_boot=0)
    assert result.value == pytest.approx(expected, abs=1e-12)


def test_the_multilabel_level_uses_masi():
    masi = krippendorff_alpha(long_table(SETS), distance="masi", n_boot=0)
    assert krippendorff_alpha(long_table(SETS), "multilabel", n_boot=0).value == masi.value


def test_an_asymmetric_distance_is_refused():
    df = long_table([("u1", "a", 1.0), ("u1", "b", 2.0)])
    with pytest.raises(MetricInputError, match="symmetric"):
        krippendorff_alpha(df, "interval", distance=lambda a, b: max(a - b, 0.0))


def test_a_distance_not_zero_on_identical_values_is_refused():
    df = long_table([("u1", "a", 1.0), ("u1", "b", 2.0)])
    with pytest.raises(MetricInputError, match="zero on identical"):
        krippendorff_alpha(df, "interval", distance=lambda a, b: 1.0)


def test_a_negative_distance_is_refused():
    df = long_table([("u1", "a", 1.0), ("u1", "b", 2.0)])
    with pytest.raises(MetricInputError, match="negative"):
        krippendorff_alpha(df, "interval", distance=lambda a, b: -abs(a - b))


def test_set_distances_need_set_labels():
    df = long_table([("u1", "a", "x"), ("u1", "b", "y")])
    with pytest.raises(MetricInputError, match="frozenset"):
        krippendorff_alpha(df, distance="masi")


# --- edge cases ----------------------------------------------------------------------------------


def test_alpha_is_nan_with_a_reason_when_every_label_is_the_same():
    rows = [(f"u{u}", f"a{a}", "yes") for u in range(5) for a in range(3)]
    result = krippendorff_alpha(long_table(rows))
    assert math.isnan(result.value)
    assert result.status == "undefined"
    assert "same value" in result.reason


def test_alpha_is_nan_with_a_reason_when_no_item_has_two_ratings():
    rows = [(f"u{u}", f"a{u}", "yes" if u % 2 else "no") for u in range(5)]
    result = krippendorff_alpha(long_table(rows))
    assert math.isnan(result.value)
    assert result.status == "insufficient_data"
    assert result.n_unpairable_items == 5
    assert result.reason


def test_the_default_level_is_nominal_not_interval():
    rows = [
        ("u1", "a", 1),
        ("u1", "b", 2),
        ("u2", "a", 3),
        ("u2", "b", 3),
        ("u3", "a", 1),
        ("u3", "b", 1),
    ]
    df = long_table(rows)
    assert krippendorff_alpha(df, n_boot=0).level == "nominal"
    assert (
        krippendorff_alpha(df, n_boot=0).value == krippendorff_alpha(df, "nominal", n_boot=0).value
    )
    assert (
        krippendorff_alpha(df, n_boot=0).value != krippendorff_alpha(df, "interval", n_boot=0).value
    )


def test_an_unknown_level_is_refused():
    with pytest.raises(MetricInputError, match="level"):
        krippendorff_alpha(long_table([("u1", "a", 1)]), "intreval")


# --- bootstrap interval --------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_interval():
    df = _crowd(1)
    first, second = krippendorff_alpha(df, seed=11), krippendorff_alpha(df, seed=11)
    assert (first.ci_low, first.ci_high) == (second.ci_low, second.ci_high)
    assert np.array_equal(first.bootstrap_replicates, second.bootstrap_replicates)


def test_the_interval_has_the_default_thousand_replicates_and_contains_the_estimate():
    result = krippendorff_alpha(_crowd(2, n_items=200))
    assert len(result.bootstrap_replicates) == 1000
    assert result.ci_method == "bootstrap_percentile"
    assert result.ci_low < result.value < result.ci_high


@pytest.mark.parametrize("level", ("ordinal", "interval"))
def test_bootstrap_replicates_equal_alpha_on_resampled_items(level):
    # A replicate computed from pattern weights equals alpha re-run on the resampled rows.
    from metrics.alpha import _alpha_statistic, _fixed_metric
    from metrics.bootstrap import multinomial_weights
    from metrics.ratings import prepare_ratings, value_patterns

    df = _crowd(3).assign(label=lambda d: d["label"].map({"cat": 1, "dog": 2, "bird": 5}))
    ratings = prepare_ratings(df, level=level).pairable()
    patterns = value_patterns(ratings)
    statistic = _alpha_statistic(patterns, _fixed_metric(level, None, ratings.values))
    weights = multinomial_weights(patterns.weights, n_boot=3, seed=9)
    replicate_values = statistic(weights)
    for row, replicate in zip(weights, replicate_values, strict=True):
        picked = np.repeat(np.arange(len(row)), row)
        rows = []
        for copy, pattern in enumerate(picked):
            counts = patterns.counts[pattern]
            labels = np.repeat(ratings.values, counts)
            rows += [(f"copy{copy}", f"a{k}", label) for k, label in enumerate(labels)]
        rerun = krippendorff_alpha(long_table(rows), level, n_boot=0).value
        assert replicate == pytest.approx(rerun, abs=1e-9)


def test_prob_below_threshold_is_reported_for_alpha_min():
    result = krippendorff_alpha(_crowd(4, n_items=100), alpha_min=0.667)
    assert 0.0 <= result.details["prob_below_alpha_min"] <= 1.0
    assert result.details["prob_below_alpha_min"] == result.prob_below(0.667)

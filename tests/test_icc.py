"""ICC: Shrout & Fleiss (1979) published values, an independent ANOVA, intervals and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.anova import anova_lm

from metrics import MetricInputError, icc
from metrics.icc import ICC_FORMS

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]
# Their Table 4 (two decimals).
PUBLISHED = {
    "ICC(1,1)": 0.17,
    "ICC(2,1)": 0.29,
    "ICC(3,1)": 0.71,
    "ICC(1,k)": 0.44,
    "ICC(2,k)": 0.62,
    "ICC(3,k)": 0.91,
}
# F-test 95% intervals for the same data as printed by R psych::ICC (two decimals).
PUBLISHED_INTERVALS = {
    "ICC(1,1)": (-0.13, 0.72),
    "ICC(2,1)": (0.02, 0.76),
    "ICC(3,1)": (0.34, 0.95),
    "ICC(1,k)": (-0.88, 0.91),
    "ICC(2,k)": (0.07, 0.93),
    "ICC(3,k)": (0.68, 0.99),
}


def long_table(matrix) -> pd.DataFrame:
    matrix = np.asarray(matrix, dtype=float)
    targets, judges = np.indices(matrix.shape)
    return pd.DataFrame(
        {
            "item_id": np.char.add("t", targets.ravel().astype(str)),
            "annotator_id": np.char.add("j", judges.ravel().astype(str)),
            "label": matrix.ravel(),
        }
    )


@pytest.mark.parametrize("form", ICC_FORMS)
def test_icc_reproduces_shrout_fleiss_table_4(form):
    assert round(icc(long_table(SHROUT_FLEISS), form).value, 2) == PUBLISHED[form]


@pytest.mark.parametrize("form", ICC_FORMS)
def test_f_test_interval_reproduces_the_published_interval(form):
    result = icc(long_table(SHROUT_FLEISS), form)
    assert result.ci_method == "f_test"
    assert (round(result.ci_low, 2), round(result.ci_high, 2)) == PUBLISHED_INTERVALS[form]


def _icc_by_anova(df: pd.DataFrame, form: str) -> float:
    """Hand computation from statsmodels' ANOVA tables (an independent route to the mean squares)."""
    two_way = anova_lm(smf.ols("label ~ C(item_id) + C(annotator_id)", data=df).fit())
    one_way = anova_lm(smf.ols("label ~ C(item_id)", data=df).fit())
    msr = two_way.loc["C(item_id)", "mean_sq"]
    msc = two_way.loc["C(annotator_id)", "mean_sq"]
    mse = two_way.loc["Residual", "mean_sq"]
    msw = one_way.loc["Residual", "mean_sq"]
    n, k = df["item_id"].nunique(), df["annotator_id"].nunique()
    return {
        "ICC(1,1)": (msr - msw) / (msr + (k - 1) * msw),
        "ICC(2,1)": (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n),
        "ICC(3,1)": (msr - mse) / (msr + (k - 1) * mse),
        "ICC(1,k)": (msr - msw) / msr,
        "ICC(2,k)": (msr - mse) / (msr + (msc - mse) / n),
        "ICC(3,k)": (msr - mse) / msr,
    }[form]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the hand computation divides 0 by 0 too
@settings(max_examples=25, deadline=None)
@given(
    st.integers(3, 12).flatmap(
        lambda n: st.integers(2, 5).flatmap(
            lambda k: st.lists(st.integers(0, 9), min_size=n * k, max_size=n * k).map(
                lambda v: np.reshape(v, (n, k))
            )
        )
    ),
    st.sampled_from(ICC_FORMS),
)
def test_icc_equals_a_hand_computation_from_the_anova(matrix, form):
    df = long_table(matrix)
    result = icc(df, form, interval="none")
    expected = _icc_by_anova(df, form)
    if result.status != "ok":
        assert not np.isfinite(expected) or np.ptp(matrix) == 0
        return
    assert result.value == pytest.approx(expected, abs=1e-9)


def test_incomplete_items_are_left_out_and_counted():
    df = long_table(SHROUT_FLEISS)
    extra = pd.DataFrame({"item_id": ["t99"], "annotator_id": ["j0"], "label": [5.0]})
    result = icc(pd.concat([df, extra]), "ICC(3,1)")
    assert result.details["n_incomplete_items"] == 1 and result.n_items == 6
    assert result.value == pytest.approx(icc(df, "ICC(3,1)").value)


def test_bootstrap_interval_is_reproducible_and_brackets_the_value():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=60)
    matrix = truth[:, None] + rng.normal(scale=0.5, size=(60, 3))
    first = icc(long_table(matrix), "ICC(2,1)", interval="bootstrap", seed=1)
    second = icc(long_table(matrix), "ICC(2,1)", interval="bootstrap", seed=1)
    assert (first.ci_low, first.ci_high) == (second.ci_low, second.ci_high)
    assert first.ci_low < first.value < first.ci_high
    assert len(first.bootstrap_replicates) == 1000


def test_identical_ratings_everywhere_are_undefined():
    result = icc(long_table(np.full((5, 3), 4.0)))
    assert result.status == "undefined" and math.isnan(result.value) and result.reason


def test_a_single_annotator_is_insufficient_data():
    result = icc(long_table(np.arange(5.0)[:, None]))
    assert result.status == "insufficient_data" and math.isnan(result.value)


def test_text_ratings_raise():
    df = pd.DataFrame({"item_id": [1, 1], "annotator_id": ["a", "b"], "label": ["x", "y"]})
    with pytest.raises(MetricInputError):
        icc(df)


def test_unknown_form_raises():
    with pytest.raises(MetricInputError, match="unknown ICC form"):
        icc(long_table(SHROUT_FLEISS), "ICC(4,1)")

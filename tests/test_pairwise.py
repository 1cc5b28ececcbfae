"""Pairwise agreement: every pair at once, equal to the single-pair functions, fast."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics import (
    MetricInputError,
    brennan_prediger,
    cohen_kappa,
    gwet_ac,
    pairwise_agreement,
    percent_agreement,
    scott_pi,
)
from metrics.pairwise import PAIR_COLUMNS

SINGLE_PAIR = {
    "scott_pi": scott_pi,
    "gwet_ac": gwet_ac,
    "brennan_prediger": brennan_prediger,
    "percent_agreement": percent_agreement,
}


def crowd(
    n_items: int, n_annotators: int, per_item: int, seed: int = 0, n_labels: int = 3
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    items = np.repeat(np.arange(n_items), per_item)
    annotators = np.concatenate(
        [rng.choice(n_annotators, per_item, replace=False) for _ in range(n_items)]
    )
    truth = rng.integers(0, n_labels, n_items)
    noise = rng.integers(0, n_labels, len(items))
    labels = np.where(rng.random(len(items)) < 0.7, truth[items], noise)
    return pd.DataFrame(
        {
            "item_id": np.char.add("i", items.astype(str)),
            "annotator_id": np.char.add("a", annotators.astype(str)),
            "label": np.char.add("L", labels.astype(str)),
        }
    )


def row_of(frame: pd.DataFrame, a: str, b: str) -> pd.Series:
    match = frame[
        ((frame.annotator_a == a) & (frame.annotator_b == b))
        | ((frame.annotator_a == b) & (frame.annotator_b == a))
    ]
    assert len(match) == 1
    return match.iloc[0]


def shared_items(df: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    pair = df[df.annotator_id.isin([a, b])]
    counts = pair.groupby("item_id")["annotator_id"].transform("size")
    return pair[counts == 2]


def test_every_pair_is_listed_with_the_documented_columns():
    out = pairwise_agreement(crowd(50, 6, 3))
    assert tuple(out.columns) == PAIR_COLUMNS
    assert len(out) == 6 * 5 // 2
    assert set(out.status) <= {"ok", "undefined", "insufficient_data"}


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([None, "linear", "quadratic"]))
def test_pairwise_cohen_kappa_equals_cohen_kappa_of_each_pair(seed, weights):
    df = crowd(60, 5, 3, seed=seed)
    categories = ["L0", "L1", "L2"]
    out = pairwise_agreement(df, weights=weights, categories=categories, min_shared_items=1)
    for row in out.itertuples():
        single = cohen_kappa(
            df,
            row.annotator_a,
            row.annotator_b,
            weights=weights,
            categories=categories,
            interval="none",
        )
        assert row.status == single.status
        if single.status == "ok":
            assert row.value == pytest.approx(single.value, abs=1e-12)
            assert row.se == pytest.approx(single.se, abs=1e-12)


@pytest.mark.parametrize("coefficient", sorted(SINGLE_PAIR))
def test_pairwise_value_equals_the_coefficient_on_the_pair_s_shared_items(coefficient):
    df = crowd(200, 6, 3, seed=1)
    out = pairwise_agreement(df, coefficient)
    for row in out[out.status == "ok"].head(5).itertuples():
        shared = shared_items(df, row.annotator_a, row.annotator_b)
        single = SINGLE_PAIR[coefficient](shared, categories=["L0", "L1", "L2"], interval="none")
        assert row.value == pytest.approx(single.value, abs=1e-12)


def test_pairs_below_the_minimum_shared_items_are_insufficient_data():
    df = pd.DataFrame(
        {
            "item_id": [1, 1, 2, 2, 3],
            "annotator_id": ["x", "y", "x", "y", "z"],
            "label": ["a", "a", "b", "a", "b"],
        }
    )
    out = pairwise_agreement(df, min_shared_items=2)
    assert row_of(out, "x", "y").status == "ok"
    unshared = row_of(out, "x", "z")
    assert (
        unshared.status == "insufficient_data"
        and unshared.n_shared_items == 0
        and math.isnan(unshared.value)
    )


def test_a_pair_using_one_value_is_undefined_with_a_reason():
    df = pd.DataFrame({"item_id": [1, 1, 2, 2], "annotator_id": ["x", "y"] * 2, "label": ["a"] * 4})
    row = pairwise_agreement(df).iloc[0]
    assert row.status == "undefined" and math.isnan(row.value) and row.reason


def test_analytic_interval_brackets_the_value_and_stays_in_range():
    out = pairwise_agreement(crowd(300, 4, 3), ci="analytic")
    ok = out[out.status == "ok"]
    assert (ok.ci_low <= ok.value).all() and (ok.value <= ok.ci_high).all()
    assert (ok.ci_low >= -1).all() and (ok.ci_high <= 1).all()


def test_no_interval_by_default():
    out = pairwise_agreement(crowd(50, 4, 3))
    assert out.ci_low.isna().all()


def test_include_unshared_false_keeps_only_pairs_that_met():
    df = pd.DataFrame(
        {"item_id": [1, 1, 2], "annotator_id": ["x", "y", "z"], "label": ["a", "b", "a"]}
    )
    out = pairwise_agreement(df, include_unshared=False, min_shared_items=1)
    assert out[["annotator_a", "annotator_b"]].values.tolist() == [["x", "y"]]


def test_unknown_coefficient_raises():
    with pytest.raises(MetricInputError, match="unknown coefficient"):
        pairwise_agreement(crowd(20, 3, 2), "krippendorff")


def test_two_hundred_annotators_give_every_pair_once():
    # speed is measured in bench/bench_agreement_kappa.py, not asserted here
    df = crowd(4000, 200, 5)
    out = pairwise_agreement(df)
    assert len(out) == 19_900
    assert not out.duplicated(["annotator_a", "annotator_b"]).any()

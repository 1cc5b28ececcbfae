"""Specification of item_disagreement: per-item shares of alpha's D_o and label spread."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from metrics import item_disagreement, krippendorff_alpha
from metrics.disagreement import ITEM_DISAGREEMENT_COLUMNS


def long_table(rows):
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])


def crowd(seed: int, numeric: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = [1, 2, 3, 4] if numeric else ["a", "b", "c", "d"]
    rows = []
    for u in range(60):
        truth = labels[rng.integers(4)]
        for k in range(int(rng.integers(1, 6))):
            label = truth if rng.random() < 0.6 else labels[rng.integers(4)]
            rows.append((f"item{u}", f"ann{k}", label))
    return long_table(rows)


def test_one_row_per_item_with_the_documented_columns():
    df = crowd(0)
    table = item_disagreement(df)
    assert list(table.columns) == list(ITEM_DISAGREEMENT_COLUMNS)
    assert sorted(table["item_id"]) == sorted(df["item_id"].unique())


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_item_shares_sum_to_alphas_observed_disagreement(level):
    df = crowd(1, numeric=True)
    shares = item_disagreement(df, level=level)["observed_disagreement"]
    alpha = krippendorff_alpha(df, level, n_boot=0)
    assert shares.sum() == pytest.approx(alpha.details["observed_disagreement"], rel=1e-12)


def test_an_item_with_a_single_rating_has_no_observed_disagreement():
    df = long_table([("u1", "a", "x"), ("u1", "b", "y"), ("u2", "a", "x")])
    row = item_disagreement(df).set_index("item_id").loc["u2"]
    assert math.isnan(row["observed_disagreement"])
    assert row["n_ratings"] == 1


def test_unanimous_items_have_zero_disagreement_and_entropy():
    df = long_table([("u1", "a", "x"), ("u1", "b", "x"), ("u2", "a", "x"), ("u2", "b", "y")])
    row = item_disagreement(df).set_index("item_id").loc["u1"]
    assert row["observed_disagreement"] == 0.0
    assert row["label_entropy"] == 0.0
    assert row["majority_share"] == 1.0
    assert row["n_distinct_labels"] == 1


def test_entropy_is_in_bits_and_majority_is_the_most_frequent_label():
    rows = [("u1", "a", "x"), ("u1", "b", "y"), ("u1", "c", "y"), ("u1", "d", "z")]
    row = item_disagreement(long_table(rows)).iloc[0]
    assert row["label_entropy"] == pytest.approx(1.5)  # shares 1/4, 1/2, 1/4
    assert row["majority_label"] == "y"
    assert row["majority_share"] == 0.5
    assert row["n_distinct_labels"] == 3


def test_more_disagreeing_items_have_larger_shares():
    rows = [
        ("calm", "a", "x"), ("calm", "b", "x"), ("calm", "c", "y"),
        ("split", "a", "x"), ("split", "b", "y"), ("split", "c", "z"),
    ]  # fmt: skip
    shares = item_disagreement(long_table(rows)).set_index("item_id")["observed_disagreement"]
    assert shares["split"] > shares["calm"] > 0

"""Class balance: known values, declared categories, Wilson intervals, verdicts, prevalence."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from metrics import class_balance, prevalence_and_agreement


def labels(counts: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"label": [label for label, n in counts.items() for _ in range(n)]})


def verdict_of(balance, check: str) -> str:
    return balance.verdicts.set_index("check").loc[check, "verdict"]


def test_uniform_mix_has_normalized_entropy_one_and_k_effective_classes():
    balance = class_balance(labels({"a": 40, "b": 40, "c": 40, "d": 40}))
    assert balance.normalized_entropy == pytest.approx(1.0)
    assert balance.effective_classes == pytest.approx(4.0)
    assert balance.inverse_simpson == pytest.approx(4.0)
    assert balance.rarest_share_times_k == pytest.approx(1.0)
    assert balance.imbalance_ratio == 1.0
    assert balance.verdict == "ok"


def test_k_comes_from_declared_categories_not_only_observed():
    balance = class_balance(labels({"a": 50, "b": 50}), categories=["a", "b", "c", "d"])
    assert balance.k == 4
    assert balance.normalized_entropy == pytest.approx(math.log(2) / math.log(4))
    assert balance.missing_categories == ("c", "d")
    assert balance.rarest_share_times_k == 0.0
    assert verdict_of(balance, "missing_categories") == "fail"


def test_missing_category_verdict_is_configurable():
    balance = class_balance(labels({"a": 50, "b": 50}), categories=["a", "b", "c"], missing_verdict="warn")
    assert verdict_of(balance, "missing_categories") == "warn"


def test_undeclared_observed_labels_are_reported():
    balance = class_balance(labels({"a": 50, "z": 50}), categories=["a"])
    assert balance.unexpected_categories == ("z",)
    assert balance.counts.set_index("label").loc["z", "declared"] == np.False_


def test_shares_carry_wilson_intervals_equal_to_statsmodels():
    balance = class_balance(labels({"a": 7, "b": 30, "c": 63}))
    low, high = proportion_confint(np.array([7, 30, 63]), 100, method="wilson")
    np.testing.assert_allclose(balance.counts["ci_low"], low)
    np.testing.assert_allclose(balance.counts["ci_high"], high)


@pytest.mark.parametrize(("largest", "smallest", "expected"), [(900, 90, "ok"), (900, 9, "warn"), (1010, 10, "fail")])
def test_imbalance_ratio_warns_above_10_and_fails_above_100(largest, smallest, expected):
    balance = class_balance(labels({"a": largest, "b": smallest}))
    assert balance.imbalance_ratio == largest / smallest
    assert verdict_of(balance, "imbalance_ratio") == expected


def test_rarest_share_times_k_warns_below_point_two_and_fails_below_point_one():
    steady = class_balance(labels({"a": 850, "b": 75, "c": 75}))  # 0.075 * 3 = 0.225
    assert verdict_of(steady, "rarest_share_times_k") == "ok"
    assert verdict_of(class_balance(labels({"a": 880, "b": 60, "c": 60})), "rarest_share_times_k") == "warn"
    assert verdict_of(class_balance(labels({"a": 940, "b": 30, "c": 30})), "rarest_share_times_k") == "fail"


def test_classes_below_min_support_are_listed():
    balance = class_balance(labels({"a": 100, "b": 29, "c": 30}))
    assert balance.below_min_support == ("b",)
    assert verdict_of(balance, "below_min_support") == "warn"


def test_target_mix_distance_and_goodness_of_fit():
    balance = class_balance(labels({"a": 600, "b": 400}), target={"a": 0.5, "b": 0.5})
    assert balance.target_tvd == pytest.approx(0.1)
    expected = stats.chisquare([600, 400], [500, 500])
    assert balance.target_chi2 == pytest.approx(expected.statistic)
    assert balance.target_p_value == pytest.approx(expected.pvalue)
    assert verdict_of(balance, "target_tvd") == "warn"


def test_target_matching_the_mix_passes():
    balance = class_balance(labels({"a": 500, "b": 500}), target={"a": 1, "b": 1})
    assert balance.target_tvd == 0.0 and balance.target_p_value == pytest.approx(1.0)
    assert verdict_of(balance, "target_tvd") == "ok"


def test_target_naming_an_unknown_category_is_an_error():
    with pytest.raises(ValueError, match="target names categories"):
        class_balance(labels({"a": 5}), target={"q": 1.0})


def test_multilabel_answers_count_each_label():
    frame = pd.DataFrame({"label": [frozenset({"x", "y"}), frozenset({"x"})]})
    counts = class_balance(frame).counts.set_index("label")["count"].to_dict()
    assert counts == {"x": 2, "y": 1}


def test_no_labels_gives_nan_figures_not_errors():
    balance = class_balance(pd.DataFrame({"label": pd.Series([], dtype=object)}), categories=["a", "b"])
    assert math.isnan(balance.normalized_entropy) and balance.n == 0
    assert balance.missing_categories == ("a", "b")


def test_percent_agreement_and_prevalence_show_the_paradox():
    items = [str(i) for i in range(100)]
    first = ["no"] * 100
    second = ["no"] * 95 + ["yes"] * 5
    frame = pd.DataFrame({"item_id": items * 2, "annotator_id": ["x"] * 100 + ["y"] * 100,
                          "question": "toxic", "label": first + second})
    table = prevalence_and_agreement(frame, {"toxic": {"cohen_kappa": 0.0}}).iloc[0]
    assert table["percent_agreement"] == pytest.approx(0.95)
    assert table["majority_label"] == "no"
    assert table["majority_prevalence"] == pytest.approx(195 / 200)
    assert table["cohen_kappa"] == 0.0
    assert bool(table["paradox_suspected"])


def test_percent_agreement_averages_agreeing_pairs_over_items():
    frame = pd.DataFrame({"item_id": ["1"] * 3 + ["2"] * 2, "annotator_id": ["x", "y", "z", "x", "y"],
                          "label": ["a", "a", "b", "a", "a"]})
    table = prevalence_and_agreement(frame)
    assert table.iloc[0]["percent_agreement"] == pytest.approx((1 / 3 + 1) / 2)
    assert not bool(table.iloc[0]["paradox_suspected"])

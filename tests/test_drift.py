"""Label drift: planted shifts are found, null data is not, degenerate tables stay defined."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DATA
from scipy.spatial.distance import jensenshannon
from statsmodels.stats.contingency_tables import SquareTable
from statsmodels.stats.proportion import confint_proportions_2indep

from metrics import label_drift, paired_label_shift
from metrics.drift import (
    chi2_homogeneity,
    cramers_v_corrected,
    js_distance,
    newcombe_difference_interval,
    psi,
    total_variation,
)


def windows_table(mixes: dict[str, dict[str, int]], by: str = "batch") -> pd.DataFrame:
    """A long table with the given label counts per window."""
    labels, windows = [], []
    for window, counts in mixes.items():
        for label, count in counts.items():
            labels += [label] * count
            windows += [window] * count
    return pd.DataFrame({"item_id": [str(i) for i in range(len(labels))], "annotator_id": "a",
                         "label": labels, by: windows})


def test_planted_shift_is_detected_as_fail():
    frame = windows_table({"v1": {"a": 300, "b": 300, "c": 400}, "v2": {"a": 600, "b": 200, "c": 200}})
    row = label_drift(frame, by="batch").comparisons.iloc[0]
    assert row["verdict"] == "fail"
    assert row["tvd"] == pytest.approx(0.3)
    assert row["p_adjusted"] < 1e-6


def test_same_proportions_at_different_sizes_show_no_drift():
    frame = windows_table({"v1": {"a": 50, "b": 30, "c": 20}, "v2": {"a": 5000, "b": 3000, "c": 2000},
                           "v3": {"a": 500, "b": 300, "c": 200}})
    comparisons = label_drift(frame, by="batch").comparisons
    assert (comparisons["verdict"] == "ok").all()
    assert comparisons["tvd"].tolist() == [0.0, 0.0]
    assert comparisons["js_distance"].abs().max() < 1e-9
    assert comparisons["p_value"].tolist() == [1.0, 1.0]


def test_a_small_shift_on_big_data_is_significant_but_not_drift():
    frame = windows_table({"v1": {"a": 50_000, "b": 50_000}, "v2": {"a": 53_000, "b": 47_000}})
    row = label_drift(frame).comparisons.iloc[0]
    assert row["p_adjusted"] < 1e-10
    assert row["verdict"] == "ok"


def test_a_moderate_shift_warns():
    frame = windows_table({"v1": {"a": 500, "b": 500}, "v2": {"a": 620, "b": 380}})
    assert label_drift(frame).comparisons.iloc[0]["verdict"] == "warn"


def test_window_with_fewer_than_30_labels_is_insufficient_data():
    frame = windows_table({"v1": {"a": 100, "b": 100}, "v2": {"a": 20, "b": 0}})
    row = label_drift(frame).comparisons.iloc[0]
    assert row["verdict"] == "insufficient_data"
    assert "fewer than 30" in row["reason"]


def test_empty_window_has_a_defined_p_value():
    frame = windows_table({"v1": {"a": 100, "b": 100}, "v2": {"a": 3}})
    frame.loc[frame["batch"] == "v2", "label"] = None
    row = label_drift(frame).comparisons.iloc[0]
    assert row["n"] == 0
    assert row["p_value"] == 1.0 and row["p_method"] == "degenerate"
    assert row["verdict"] == "insufficient_data"
    assert math.isnan(row["tvd"]) and "empty window" in row["reason"]


def test_single_category_table_is_degenerate_with_p_one():
    frame = windows_table({"v1": {"a": 100}, "v2": {"a": 40}})
    result = label_drift(frame)
    row = result.comparisons.iloc[0]
    assert (row["p_value"], row["p_method"], row["verdict"]) == (1.0, "degenerate", "ok")
    assert result.omnibus.p_value == 1.0


def test_new_and_vanished_labels_are_reported():
    frame = windows_table({"v1": {"a": 100, "b": 50}, "v2": {"a": 100, "c": 50}})
    row = label_drift(frame).comparisons.iloc[0]
    assert row["new_labels"] == ("c",)
    assert row["vanished_labels"] == ("b",)


def test_permutation_p_value_is_used_when_expected_counts_are_small():
    frame = windows_table({"v1": {"a": 30, "b": 2, "c": 1, "d": 1}, "v2": {"a": 30, "b": 1, "c": 2, "d": 0}})
    row = label_drift(frame).comparisons.iloc[0]
    assert row["p_method"] == "permutation"
    assert 0 < row["p_value"] <= 1


def test_asymptotic_p_value_is_used_when_expected_counts_are_large():
    frame = windows_table({"v1": {"a": 300, "b": 200}, "v2": {"a": 280, "b": 220}})
    assert label_drift(frame).comparisons.iloc[0]["p_method"] == "asymptotic"


def test_permutation_p_value_agrees_with_fisher_exact_on_a_2x2_table():
    from scipy.stats import fisher_exact

    table = np.array([[8, 2], [1, 5]])
    _, _, p_value, method = chi2_homogeneity(table, permutations=20_000, seed=1)
    assert method == "permutation"
    assert p_value == pytest.approx(fisher_exact(table).pvalue, abs=0.01)


def test_holm_adjustment_matches_the_step_down_formula():
    frame = windows_table({
        "v1": {"a": 500, "b": 500}, "v2": {"a": 560, "b": 440}, "v3": {"a": 530, "b": 470},
        "v4": {"a": 600, "b": 400}, "v5": {"a": 505, "b": 495},
    })
    comparisons = label_drift(frame, adjust="holm").comparisons
    p = comparisons["p_value"].to_numpy()
    order = np.argsort(p)
    m = len(p)
    expected = np.empty(m)
    expected[order] = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    np.testing.assert_allclose(comparisons["p_adjusted"], expected)
    assert set(comparisons["adjust"]) == {"holm"}


def test_benjamini_hochberg_is_named_in_the_result():
    frame = windows_table({"v1": {"a": 50, "b": 50}, "v2": {"a": 60, "b": 40}, "v3": {"a": 40, "b": 60}})
    comparisons = label_drift(frame, adjust="bh").comparisons
    assert set(comparisons["adjust"]) == {"bh"}
    assert (comparisons["p_adjusted"] >= comparisons["p_value"] - 1e-12).all()


def test_consecutive_mode_compares_neighbours():
    frame = windows_table({"v1": {"a": 50, "b": 50}, "v2": {"a": 50, "b": 50}, "v3": {"a": 90, "b": 10}})
    comparisons = label_drift(frame, mode="consecutive").comparisons
    assert list(zip(comparisons["window"], comparisons["reference"], strict=True)) == [("v2", "v1"), ("v3", "v2")]


def test_reference_window_can_be_chosen():
    frame = windows_table({"v1": {"a": 50, "b": 50}, "v2": {"a": 50, "b": 50}, "v3": {"a": 90, "b": 10}})
    comparisons = label_drift(frame, reference="v3").comparisons
    assert comparisons["window"].tolist() == ["v1", "v2"]
    assert set(comparisons["reference"]) == {"v3"}


def test_unknown_reference_window_is_an_error():
    frame = windows_table({"v1": {"a": 50}, "v2": {"a": 50}})
    with pytest.raises(ValueError, match="reference window"):
        label_drift(frame, reference="v9")


def test_weekly_windows_come_from_created_at():
    frame = windows_table({"w1": {"a": 40, "b": 40}, "w2": {"a": 70, "b": 10}})
    frame["created_at"] = np.where(frame["batch"] == "w1", "2026-03-04T10:00:00Z", "2026-03-11T10:00:00Z")
    result = label_drift(frame, by="week")
    assert result.comparisons.iloc[0][["window", "reference"]].tolist() == ["2026-03-09", "2026-03-02"]
    assert result.comparisons.iloc[0]["verdict"] == "fail"


def test_multilabel_answers_count_each_label():
    frame = pd.DataFrame({"item_id": ["1", "2"], "annotator_id": "a", "batch": ["v1", "v1"],
                          "label": [frozenset({"x", "y"}), frozenset({"x"})]})
    counts = label_drift(frame).counts
    assert counts.loc["v1"].to_dict() == {"x": 2, "y": 1}


def test_annotator_windows_carry_the_confound_note():
    frame = windows_table({"ann1": {"a": 50, "b": 50}, "ann2": {"a": 50, "b": 50}}, by="annotator_id")
    result = label_drift(frame, by="annotator")
    assert result.notes and "confounded" in result.notes[0]


def test_residuals_point_at_the_label_that_moved():
    frame = windows_table({"v1": {"a": 400, "b": 400, "c": 200}, "v2": {"a": 400, "b": 400, "c": 20}})
    residuals = label_drift(frame).residuals
    largest = residuals.loc[residuals["std_residual"].abs().idxmax()]
    assert largest["label"] == "c" and largest["stands_out"]
    assert set(residuals.columns) >= {"window", "label", "count", "expected", "std_residual"}


def test_share_differences_use_newcombe_intervals_like_statsmodels():
    frame = windows_table({"v1": {"a": 30, "b": 70}, "v2": {"a": 45, "b": 55}})
    diff = label_drift(frame).share_differences.set_index("label").loc["a"]
    low, high = confint_proportions_2indep(45, 100, 30, 100, method="newcomb", compare="diff")
    assert diff["difference"] == pytest.approx(0.15)
    assert (diff["ci_low"], diff["ci_high"]) == pytest.approx((low, high))


def test_newcombe_interval_matches_statsmodels_on_several_counts():
    for count, n, count_ref, n_ref in [(0, 20, 5, 30), (12, 12, 3, 40), (7, 50, 7, 50)]:
        low, high = newcombe_difference_interval(np.array([count]), n, np.array([count_ref]), n_ref)
        expected = confint_proportions_2indep(count, n, count_ref, n_ref, method="newcomb", compare="diff")
        assert (low[0], high[0]) == pytest.approx(expected)


def test_js_distance_is_base_2_like_scipy():
    window, reference = np.array([10, 30, 60]), np.array([40, 40, 20])
    assert js_distance(window, reference) == pytest.approx(jensenshannon(window / 100, reference / 100, base=2))


def test_tvd_and_psi_known_values():
    assert total_variation(np.array([30, 70]), np.array([50, 50])) == pytest.approx(0.2)
    expected_psi = (0.3 - 0.5) * math.log(0.3 / 0.5) + (0.7 - 0.5) * math.log(0.7 / 0.5)
    assert psi(np.array([30, 70]), np.array([50, 50]), smoothing=0.0) == pytest.approx(expected_psi)


def test_psi_smoothing_keeps_a_vanished_label_finite_and_large():
    value = psi(np.array([100, 0]), np.array([50, 50]))
    assert math.isfinite(value) and value > 0.25


def test_bias_corrected_cramers_v_follows_bergsma():
    statistic, n, rows, columns = 12.0, 300, 2, 4
    phi2 = max(0, statistic / n - (columns - 1) * (rows - 1) / (n - 1))
    r_tilde, k_tilde = rows - (rows - 1) ** 2 / (n - 1), columns - (columns - 1) ** 2 / (n - 1)
    assert cramers_v_corrected(statistic, (rows, columns), n) == pytest.approx(math.sqrt(phi2 / min(r_tilde - 1, k_tilde - 1)))


def test_cramers_v_is_zero_for_identical_mixes():
    frame = windows_table({"v1": {"a": 100, "b": 100}, "v2": {"a": 100, "b": 100}})
    assert label_drift(frame).comparisons.iloc[0]["cramers_v"] == 0.0


def test_omnibus_covers_all_windows_with_enough_labels():
    frame = windows_table({"v1": {"a": 100, "b": 100}, "v2": {"a": 100, "b": 100}, "v3": {"a": 5}})
    omnibus = label_drift(frame).omnibus
    assert omnibus.windows == ("v1", "v2") and omnibus.windows_excluded == ("v3",)
    assert omnibus.p_value == pytest.approx(1.0)


def test_omnibus_detects_a_drifting_window_among_many():
    frame = windows_table({f"v{i}": {"a": 100, "b": 100} for i in range(5)} | {"v9": {"a": 160, "b": 40}})
    assert label_drift(frame).omnibus.p_value < 1e-6


def test_paired_shift_matches_statsmodels_stuart_maxwell():
    rng = np.random.default_rng(3)
    truth = rng.choice(["a", "b", "c"], 200)
    shifted = np.where((truth == "a") & (rng.random(200) < 0.4), "b", truth)
    frame = pd.DataFrame({"item_id": list(range(200)) * 2, "annotator_id": ["x"] * 200 + ["y"] * 200,
                          "label": np.concatenate([truth, shifted])})
    result = paired_label_shift(frame, "x", "y")
    table = pd.crosstab(truth, shifted).reindex(index=["a", "b", "c"], columns=["a", "b", "c"], fill_value=0)
    expected = SquareTable(table.to_numpy(), shift_zeros=False).homogeneity()
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value < 0.001 and result.n_shared_items == 200


def test_paired_shift_of_identical_annotators_is_p_one():
    frame = pd.DataFrame({"item_id": list(range(4)) * 2, "annotator_id": ["x"] * 4 + ["y"] * 4,
                          "label": list("abab") * 2})
    result = paired_label_shift(frame, "x", "y")
    assert result.p_value == 1.0 and result.statistic == 0.0


@pytest.mark.skipif(not (SAMPLE_DATA / "support_project.csv").exists(), reason="sample data not generated")
def test_sample_project_v2_drift_of_the_drifting_annotator_is_found():
    frame = pd.read_csv(SAMPLE_DATA / "support_project.csv", dtype={"item_id": str})
    intents = frame[(frame["question"] == "intent") & (frame["annotator_kind"] == "human")]
    drifting = label_drift(intents[intents["annotator_id"] == "dana"], by="batch")
    row = drifting.comparisons.iloc[0]
    assert row["window"] == "v2" and row["verdict"] in ("warn", "fail")
    moved = drifting.share_differences.set_index("label")
    assert moved.loc["how_to", "difference"] < 0 < moved.loc["feature_request", "difference"]
    steady = label_drift(intents[intents["annotator_id"] == "bea"], by="batch").comparisons.iloc[0]
    assert steady["verdict"] == "ok"

"""Specification of the item bootstrap on pattern weights and of the percentile interval."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metrics.bootstrap import bootstrap_replicates, multinomial_weights, percentile_interval


def test_each_resample_draws_as_many_items_as_the_sample_has():
    weights = np.array([5, 0, 12, 3])
    draws = multinomial_weights(weights, n_boot=50, seed=1)
    assert draws.shape == (50, 4)
    assert (draws.sum(axis=1) == 20).all()


def test_a_pattern_with_no_items_is_never_drawn():
    draws = multinomial_weights(np.array([5, 0, 12]), n_boot=200, seed=1)
    assert (draws[:, 1] == 0).all()


def test_resample_weights_are_unbiased():
    weights = np.array([10, 30, 60])
    draws = multinomial_weights(weights, n_boot=4000, seed=2)
    assert np.allclose(draws.mean(axis=0), weights, rtol=0.05)


def test_the_same_seed_gives_the_same_resamples():
    weights = np.array([4, 7, 9])
    assert (
        multinomial_weights(weights, 30, seed=7) == multinomial_weights(weights, 30, seed=7)
    ).all()


def test_different_seeds_give_different_resamples():
    weights = np.array([4, 7, 9])
    assert (
        multinomial_weights(weights, 30, seed=7) != multinomial_weights(weights, 30, seed=8)
    ).any()


def test_replicates_do_not_depend_on_the_chunk_size():
    weights = np.array([3, 8, 1, 6])
    statistic = lambda w: w[:, 0] / w.sum(axis=1)  # noqa: E731
    whole = bootstrap_replicates(weights, statistic, n_boot=100, seed=3, chunk=100)
    chunked = bootstrap_replicates(weights, statistic, n_boot=100, seed=3, chunk=7)
    assert np.array_equal(whole, chunked)


def test_replicates_match_resampling_items_directly_in_distribution():
    # Item bootstrap of a mean: the replicate spread must match the analytic standard error.
    values = np.array([0.0, 1.0])
    weights = np.array([300, 700])
    statistic = lambda w: (w @ values) / w.sum(axis=1)  # noqa: E731
    replicates = bootstrap_replicates(weights, statistic, n_boot=2000, seed=4)
    expected_se = math.sqrt(0.7 * 0.3 / 1000)
    assert replicates.std() == pytest.approx(expected_se, rel=0.1)


def test_percentile_interval_ignores_nan_replicates():
    low, high, clipped = percentile_interval(np.array([np.nan, 0.1, 0.2, 0.3, np.nan]), level=0.5)
    assert (low, high, clipped) == (pytest.approx(0.15), pytest.approx(0.25), False)


def test_percentile_interval_is_clipped_to_the_range_with_a_flag():
    low, high, clipped = percentile_interval(np.array([0.9, 1.2, 1.3]), bounds=(-1.0, 1.0))
    assert high == 1.0
    assert clipped


def test_percentile_interval_of_no_finite_replicate_is_nan():
    low, high, clipped = percentile_interval(np.array([np.nan, np.nan]))
    assert math.isnan(low) and math.isnan(high) and not clipped

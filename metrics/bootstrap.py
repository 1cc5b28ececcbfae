"""Item bootstrap on sufficient statistics.

Resampling ``n`` items with replacement is the same as drawing, for each pattern (a group of
items with identical value counts, see :func:`metrics.ratings.value_patterns`), how many times
its items are drawn: a multinomial over the pattern weights. A coefficient written as a
vectorized function of pattern weights (weighted sums of per-pattern statistics) is then
evaluated for a whole block of replicates at once, never by re-running it on resampled rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

BOOTSTRAP_REPLICATES = 1000
"""Default number of bootstrap replicates (Efron & Tibshirani 1993 recommend >= 1000 for
percentile intervals)."""

CHUNK_CELLS = 4_000_000
"""Largest replicates x patterns block held at once (32 MB of int64)."""

INDEX_DRAW_RATIO = 8
"""Resample by drawing item indices when patterns exceed items / 8: a multinomial costs about
0.1 us per category, an index draw about 0.02 us per item (numpy 2, measured)."""


def multinomial_weights(
    pattern_weights: np.ndarray,
    n_boot: int,
    seed: int | np.random.Generator | None = 0,
    *,
    chunk: int | None = None,
) -> np.ndarray:
    """``n_boot`` item-bootstrap resamples as pattern weights (an ``n_boot x P`` int64 array).

    Row ``b`` holds how many times each pattern's items were drawn when ``n = sum(weights)``
    items are drawn with replacement: ``Multinomial(n, weights / n)`` (drawn as item indices
    counted per pattern when patterns are nearly as many as items). Drawn in chunks of rows
    (``chunk``) from one generator, so the result does not depend on the chunk size.

    Examples
    --------
    >>> draws = multinomial_weights(np.array([3, 1]), n_boot=2, seed=0)
    >>> draws.shape, draws.sum(axis=1).tolist()
    ((2, 2), [4, 4])
    """
    rng = np.random.default_rng(seed)
    blocks = [block for block in _weight_blocks(np.asarray(pattern_weights), n_boot, rng, chunk)]
    if not blocks:
        return np.zeros((0, len(pattern_weights)), dtype=np.int64)
    return np.concatenate(blocks, axis=0)


def _weight_blocks(
    pattern_weights: np.ndarray, n_boot: int, rng: np.random.Generator, chunk: int | None
):
    """Blocks of resampled pattern weights, ``chunk`` rows at a time."""
    n_patterns = len(pattern_weights)
    n_items = int(pattern_weights.sum())
    rows = chunk or max(1, CHUNK_CELLS // max(n_patterns, n_items // INDEX_DRAW_RATIO, 1))
    draw = _draw_by_index if n_patterns * INDEX_DRAW_RATIO > n_items else _draw_multinomial
    done = 0
    while done < n_boot:
        size = min(rows, n_boot - done)
        if n_items == 0:
            yield np.zeros((size, n_patterns), dtype=np.int64)
        else:
            yield draw(pattern_weights, size, rng)
        done += size


def _draw_multinomial(
    pattern_weights: np.ndarray, size: int, rng: np.random.Generator
) -> np.ndarray:
    probabilities = pattern_weights / pattern_weights.sum()
    return rng.multinomial(int(pattern_weights.sum()), probabilities, size=size).astype(np.int64)


def _draw_by_index(pattern_weights: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw item indices and count them per pattern: cheaper than a multinomial over many
    categories when patterns are nearly as many as items (continuous ratings)."""
    n_items, n_patterns = int(pattern_weights.sum()), len(pattern_weights)
    pattern_of_item = np.repeat(np.arange(n_patterns), pattern_weights)
    drawn = pattern_of_item[rng.integers(0, n_items, size=(size, n_items))]
    drawn += np.arange(size)[:, None] * n_patterns
    counts = np.bincount(drawn.ravel(), minlength=size * n_patterns)
    return counts.reshape(size, n_patterns).astype(np.int64)


def bootstrap_replicates(
    pattern_weights: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    n_boot: int = BOOTSTRAP_REPLICATES,
    seed: int | np.random.Generator | None = 0,
    chunk: int | None = None,
) -> np.ndarray:
    """Bootstrap replicates of a statistic of pattern weights.

    Parameters
    ----------
    pattern_weights : P item counts per pattern (the original sample).
    statistic : maps a ``b x P`` weight matrix to ``b`` values (vectorized over rows); NaN where
        a replicate leaves the statistic undefined.
    n_boot : number of replicates (default 1000).
    seed : seed of ``numpy.random.default_rng``; the same seed gives the same replicates.
    chunk : replicates per block (default: bounded by ``CHUNK_CELLS`` weights).

    Examples
    --------
    >>> weights = np.array([5, 5])
    >>> share_first = lambda w: w[:, 0] / w.sum(axis=1)
    >>> replicates = bootstrap_replicates(weights, share_first, n_boot=200, seed=1)
    >>> replicates.shape, bool(0.0 <= replicates.min() <= replicates.max() <= 1.0)
    ((200,), True)
    """
    rng = np.random.default_rng(seed)
    pattern_weights = np.asarray(pattern_weights)
    values = [
        np.asarray(statistic(block), dtype=float)
        for block in _weight_blocks(pattern_weights, n_boot, rng, chunk)
    ]
    return np.concatenate(values) if values else np.empty(0)


def percentile_interval(
    replicates: np.ndarray,
    level: float = 0.95,
    bounds: tuple[float, float] = (-1.0, 1.0),
) -> tuple[float, float, bool]:
    """Percentile interval of bootstrap replicates, clipped to the coefficient's range.

    The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the finite replicates (NaN
    replicates, where a resample left the statistic undefined, are ignored). Returns
    ``(low, high, clipped)``; ``clipped`` is True when a bound was moved into ``bounds``.
    ``(nan, nan, False)`` when no replicate is finite.

    Examples
    --------
    >>> percentile_interval(np.array([0.2, 0.4, np.nan, 0.6]), level=0.5)
    (0.30000000000000004, 0.5, False)
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    replicates = np.asarray(replicates, dtype=float)
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return math.nan, math.nan, False
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    clipped_low, clipped_high = np.clip([low, high], bounds[0], bounds[1])
    clipped = bool(clipped_low != low or clipped_high != high)
    return float(clipped_low), float(clipped_high), clipped

"""Benchmark: Krippendorff's alpha with its bootstrap interval against the path users have today.

Run: ``.venv/bin/python bench/bench_agreement_alpha.py [--small]``. Prints, and writes to
``bench/results/alpha.txt``:

1. ``metrics.krippendorff_alpha`` with its default 1000-replicate interval, end to end, on a long
   table of 1M items x 5 annotators (5M rows, string ids, 8 categories, categorical columns as a
   loader gives them);
2. the anchor without any interval: factorize the labels, pivot with pandas to annotators x items,
   call ``krippendorff.alpha``; and the ratio;
3. the bootstrap alone (1000 replicates on the pattern weights) against looping
   ``krippendorff.alpha`` over item resamples (a few timed, extrapolated to 1000); the ratio;
4. a sparse crowd (200k items, 2000 annotators, 3 labels per item): time and peak memory, where
   the dense annotators x items matrix the anchor needs would hold 400M cells.

``krippendorff`` (GPL) is imported here only as the anchor being measured against.
"""

from __future__ import annotations

import argparse
import platform
import time
import tracemalloc
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd

from metrics import krippendorff_alpha, prepare_ratings, value_patterns
from metrics.alpha import _alpha_statistic, _fixed_metric
from metrics.bootstrap import bootstrap_replicates

RESULTS = Path(__file__).resolve().parent / "results" / "alpha.txt"
N_CATEGORIES = 8
ANCHOR_RESAMPLES = 3
N_BOOT = 1000


def labelled_table(
    n_items: int, n_annotators: int, per_item: int | None, seed: int
) -> pd.DataFrame:
    """Long table with categorical columns: each item has a true category, each label agrees with
    it with probability 0.7 (else uniform). ``per_item`` annotators drawn per item (crowd), or all."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, N_CATEGORIES, n_items)
    if per_item is None:
        item_codes = np.repeat(np.arange(n_items), n_annotators)
        annotator_codes = np.tile(np.arange(n_annotators), n_items)
    else:
        item_codes = np.repeat(np.arange(n_items), per_item)
        # per_item distinct annotators per item: an offset plus distinct steps.
        start = rng.integers(0, n_annotators, n_items)
        annotator_codes = (
            np.repeat(start, per_item) + np.tile(np.arange(per_item) * 7, n_items)
        ) % n_annotators
    noisy = rng.random(len(item_codes)) >= 0.7
    label_codes = np.where(noisy, rng.integers(0, N_CATEGORIES, len(item_codes)), truth[item_codes])
    return pd.DataFrame(
        {
            "item_id": pd.Categorical.from_codes(
                item_codes, categories=[f"item-{k:07d}" for k in range(n_items)]
            ),
            "annotator_id": pd.Categorical.from_codes(
                annotator_codes, categories=[f"annotator-{k:04d}" for k in range(n_annotators)]
            ),
            "label": pd.Categorical.from_codes(
                label_codes, categories=[f"category-{k}" for k in range(N_CATEGORIES)]
            ),
        }
    )


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def anchor_matrix(df: pd.DataFrame) -> np.ndarray:
    """What users do today: factorize labels, pivot to annotators x items (NaN for missing)."""
    codes, _ = pd.factorize(df["label"])
    frame = pd.DataFrame(
        {"item_id": df["item_id"], "annotator_id": df["annotator_id"], "code": codes.astype(float)}
    )
    wide = frame.pivot(index="annotator_id", columns="item_id", values="code")
    return wide.to_numpy(dtype=float)


def anchor_alpha(df: pd.DataFrame) -> float:
    return float(
        krippendorff.alpha(reliability_data=anchor_matrix(df), level_of_measurement="nominal")
    )


def bootstrap_alone(df: pd.DataFrame) -> tuple[float, float]:
    """Seconds to reduce to patterns, and seconds for 1000 bootstrap replicates on them."""
    start = time.perf_counter()
    ratings = prepare_ratings(df).pairable()
    patterns = value_patterns(ratings)
    statistic = _alpha_statistic(patterns, _fixed_metric("nominal", None, ratings.values))
    reduce_s = time.perf_counter() - start
    _, boot_s = timed(bootstrap_replicates, patterns.weights, statistic, n_boot=N_BOOT, seed=0)
    return reduce_s, boot_s


def anchor_bootstrap_per_replicate(matrix: np.ndarray, n_resamples: int) -> float:
    """Seconds per replicate when looping krippendorff.alpha over item resamples."""
    rng = np.random.default_rng(0)
    n_items = matrix.shape[1]
    start = time.perf_counter()
    for _ in range(n_resamples):
        columns = rng.integers(0, n_items, n_items)
        krippendorff.alpha(reliability_data=matrix[:, columns], level_of_measurement="nominal")
    return (time.perf_counter() - start) / n_resamples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10x smaller data, for a quick run")
    args = parser.parse_args()
    scale = 10 if args.small else 1
    n_items, n_annotators = 1_000_000 // scale, 5
    crowd_items, crowd_annotators = 200_000 // scale, 2000
    lines = [
        f"# bench_agreement_alpha ({'small' if args.small else 'full'}); {platform.processor() or platform.machine()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}",
    ]

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    df = labelled_table(n_items, n_annotators, None, seed=0)
    report(
        f"data: {n_items:,} items x {n_annotators} annotators = {len(df):,} rows, {N_CATEGORIES} categories"
    )

    result, ours_s = timed(krippendorff_alpha, df)
    report(
        f"(1) metrics.krippendorff_alpha + {N_BOOT}-replicate interval, end to end: {ours_s:.2f} s  -> {result}"
    )
    anchor_value, anchor_s = timed(anchor_alpha, df)
    report(
        f"(2) factorize + pandas pivot + krippendorff.alpha, no interval: {anchor_s:.2f} s  (alpha={anchor_value:.6f})"
    )
    report(
        f"    ratio anchor / ours: {anchor_s / ours_s:.1f}x  (values agree: {abs(anchor_value - result.value) < 1e-9})"
    )

    reduce_s, boot_s = bootstrap_alone(df)
    matrix = anchor_matrix(df)
    per_replicate_s = anchor_bootstrap_per_replicate(matrix, ANCHOR_RESAMPLES)
    del matrix
    report(
        f"(3) bootstrap alone, {N_BOOT} replicates on pattern weights: {boot_s:.3f} s (reduction to patterns: {reduce_s:.2f} s)"
    )
    report(
        f"    looping krippendorff.alpha over item resamples: {per_replicate_s:.2f} s per replicate "
        f"({ANCHOR_RESAMPLES} timed) -> {per_replicate_s * N_BOOT:.0f} s for {N_BOOT}"
    )
    report(f"    ratio: {per_replicate_s * N_BOOT / boot_s:,.0f}x")

    crowd = labelled_table(crowd_items, crowd_annotators, 3, seed=1)
    crowd_result, crowd_s = timed(krippendorff_alpha, crowd)
    tracemalloc.start()
    krippendorff_alpha(crowd)
    peak_bytes = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    dense_gb = crowd_items * crowd_annotators * 8 / 1e9
    report(
        f"(4) sparse crowd {crowd_items:,} items x {crowd_annotators} annotators, 3 labels/item ({len(crowd):,} rows): "
        f"{crowd_s:.2f} s with interval, peak traced memory {peak_bytes / 1e6:.0f} MB "
        f"(a dense annotators x items float matrix would be {dense_gb:.1f} GB)  -> {crowd_result}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()

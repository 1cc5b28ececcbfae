"""Benchmark: pairwise Cohen's kappa and Fleiss' kappa against the statsmodels paths users take.

1. Pairwise Cohen's kappa for 200 annotators (19,900 pairs), vectorized (one sparse product for
   every pair table), against looping statsmodels' ``cohens_kappa`` over a sample of pairs (each
   pair's table built with ``pd.crosstab`` from the wide table) and extrapolating.
2. Fleiss' kappa on 1M items x 5 raters (5M rows, string ids) end to end from the long table,
   against the same data through pandas (factorize, pivot) + statsmodels ``aggregate_raters`` +
   ``fleiss_kappa``; with and without our default 1000-replicate bootstrap interval.

Run ``python bench/bench_agreement_kappa.py`` (``--small`` for a quick run). Results are printed
and written to ``bench/results/kappa.txt``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrics import fleiss_kappa, pairwise_agreement  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "kappa.txt"
LABELS = np.array(["negative", "neutral", "positive"])


def crowd(n_items: int, n_annotators: int, per_item: int, seed: int = 0) -> pd.DataFrame:
    """A long table: each item rated by ``per_item`` distinct annotators, 70% of them right."""
    rng = np.random.default_rng(seed)
    items = np.repeat(np.arange(n_items), per_item)
    # distinct annotators per item: a random offset plus a stride over a random permutation
    offsets = rng.integers(0, n_annotators, n_items)
    annotators = (
        offsets[:, None] + np.arange(per_item)[None, :] * (n_annotators // per_item)
    ) % n_annotators
    permutation = rng.permutation(n_annotators)
    annotators = permutation[annotators.ravel()]
    truth = rng.integers(0, len(LABELS), n_items)
    labels = np.where(
        rng.random(len(items)) < 0.7, truth[items], rng.integers(0, len(LABELS), len(items))
    )
    return pd.DataFrame(
        {
            "item_id": pd.Series(np.char.add("item-", items.astype(str))).astype(str),
            "annotator_id": pd.Series(np.char.add("ann-", annotators.astype(str))).astype(str),
            "label": pd.Series(LABELS[labels]).astype(str),
        }
    )


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def statsmodels_pairs(df: pd.DataFrame, pairs: list[tuple[str, str]]) -> list[float]:
    """The loop users write: pivot once, then a crosstab and ``cohens_kappa`` per pair."""
    wide = df.pivot(index="item_id", columns="annotator_id", values="label")
    categories = sorted(df["label"].unique())
    values = []
    for a, b in pairs:
        both = wide[[a, b]].dropna()
        table = pd.crosstab(
            pd.Categorical(both[a], categories=categories),
            pd.Categorical(both[b], categories=categories),
            dropna=False,
        )
        values.append(sm_cohens_kappa(table.to_numpy(), return_results=False))
    return values


def statsmodels_calls_only(df: pd.DataFrame, pairs: list[tuple[str, str]]) -> float:
    """A lower bound for any loop: tables prebuilt with numpy, time only ``cohens_kappa`` calls."""
    wide = df.pivot(index="item_id", columns="annotator_id", values="label")
    codes = {
        c: pd.Categorical(wide[c], categories=sorted(df["label"].unique())).codes
        for c in wide.columns
    }
    tables = []
    for a, b in pairs:
        both = (codes[a] >= 0) & (codes[b] >= 0)
        tables.append(np.bincount(codes[a][both] * 3 + codes[b][both], minlength=9).reshape(3, 3))
    start = time.perf_counter()
    for table in tables:
        sm_cohens_kappa(table, return_results=True)
    return time.perf_counter() - start


def bench_pairwise(n_items: int, n_annotators: int, n_sampled_pairs: int, lines: list[str]) -> None:
    df = crowd(n_items, n_annotators, per_item=5, seed=1)
    out, ours = timed(pairwise_agreement, df, "cohen_kappa")
    n_pairs = len(out)
    ok = out[out.status == "ok"]
    rng = np.random.default_rng(2)
    sample = ok.iloc[rng.choice(len(ok), min(n_sampled_pairs, len(ok)), replace=False)]
    pairs = list(zip(sample.annotator_a, sample.annotator_b, strict=True))
    reference, looped = timed(statsmodels_pairs, df, pairs)
    gap = np.nanmax(np.abs(np.array(reference) - sample.value.to_numpy()))
    calls_only = statsmodels_calls_only(df, pairs) / len(pairs) * n_pairs
    per_pair = looped / len(pairs)
    extrapolated = per_pair * n_pairs
    lines += [
        f"pairwise Cohen's kappa: {n_annotators} annotators, {n_pairs} pairs, {len(df):,} rows ({n_items:,} items x 5)",
        f"  ours, vectorized, all pairs:                 {ours:8.3f} s",
        f"  statsmodels loop, {len(pairs)} pairs:               {looped:8.3f} s  ({per_pair * 1e3:.2f} ms/pair)",
        f"  statsmodels loop, extrapolated to all pairs: {extrapolated:8.3f} s",
        f"  ratio (statsmodels / ours):                  {extrapolated / ours:8.1f}x",
        f"  statsmodels cohens_kappa calls alone (tables prebuilt), extrapolated: {calls_only:.3f} s"
        f" (ratio {calls_only / ours:.1f}x)",
        f"  largest |difference| on sampled pairs:       {gap:.2e}",
    ]


def statsmodels_fleiss(df: pd.DataFrame) -> float:
    """Factorize the labels, pivot to items x raters, ``aggregate_raters`` + ``fleiss_kappa``."""
    codes, _ = pd.factorize(df["label"])
    rater = df.groupby("item_id", sort=False).cumcount()  # Fleiss needs no rater identity
    wide = pd.DataFrame(
        {"item": df["item_id"].to_numpy(), "rater": rater.to_numpy(), "code": codes}
    ).pivot(index="item", columns="rater", values="code")
    counts, _ = aggregate_raters(wide.to_numpy())
    return sm_fleiss_kappa(counts)


def bench_fleiss(n_items: int, lines: list[str]) -> None:
    df = crowd(n_items, 50, per_item=5, seed=3)
    reference, anchor = timed(statsmodels_fleiss, df)
    point, ours_point = timed(fleiss_kappa, df, interval="none")
    interval, ours_interval = timed(fleiss_kappa, df)
    lines += [
        f"Fleiss' kappa: {n_items:,} items x 5 raters ({len(df):,} rows, string ids)",
        f"  statsmodels (factorize + pivot + aggregate_raters + fleiss_kappa): {anchor:8.3f} s",
        f"  ours, point estimate + analytic SE:                                {ours_point:8.3f} s"
        f"  ratio {anchor / ours_point:5.1f}x",
        f"  ours, with the 1000-replicate bootstrap interval:                  {ours_interval:8.3f} s"
        f"  ratio {anchor / ours_interval:5.1f}x",
        f"  values: ours {point.value:.10f}, statsmodels {reference:.10f}, "
        f"interval [{interval.ci_low:.4f}, {interval.ci_high:.4f}]",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a quick run on smaller data")
    args = parser.parse_args(argv)
    lines = [f"bench_agreement_kappa ({'small' if args.small else 'full'} run)"]
    if args.small:
        bench_pairwise(n_items=4_000, n_annotators=200, n_sampled_pairs=100, lines=lines)
        bench_fleiss(n_items=50_000, lines=lines)
    else:
        bench_pairwise(n_items=40_000, n_annotators=200, n_sampled_pairs=300, lines=lines)
        bench_fleiss(n_items=1_000_000, lines=lines)
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()

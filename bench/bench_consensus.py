"""Dawid-Skene on generated crowds with known truth: accuracy against crowd-kit's DawidSkene and
majority vote, and time on 200k items.

Run: ``.venv/bin/python bench/bench_consensus.py`` (writes bench/results/consensus.txt).
crowd-kit is optional (``pip install crowd-kit``; its aggregation needs only attrs, nltk, tqdm);
without it the crowd-kit columns read "n/a".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from planted_crowd import Annotator, expert, planted_crowd, spammer  # noqa: E402

from metrics import DawidSkene, consensus  # noqa: E402

try:
    from crowdkit.aggregation import DawidSkene as CrowdKitDawidSkene
except ImportError:  # pragma: no cover - optional
    CrowdKitDawidSkene = None

SEEDS = range(5)
RESULTS = ROOT / "bench" / "results" / "consensus.txt"


def mixed_crowd() -> list[Annotator]:
    return [
        expert("e1", 0.9, coverage=0.5),
        expert("e2", 0.8, coverage=0.5),
        expert("e3", 0.7, coverage=0.5),
        expert("weak", 0.55, coverage=0.5),
        spammer("s1", coverage=0.5),
        spammer("s2", coverage=0.5),
        Annotator("biased", 0.85, overuse_label="complaint", overuse_rate=0.3, coverage=0.5),
    ]


def sparse_crowd(seed: int) -> list[Annotator]:
    rng = np.random.default_rng(100 + seed)
    return [expert(f"w{i}", float(a), coverage=0.1) for i, a in enumerate(rng.uniform(0.35, 0.95, size=30))]


SETTINGS = {
    "mixed, 7 annotators, ~3.5 labels/item": lambda seed: dict(annotators=mixed_crowd()),
    "sparse, 30 annotators, ~3 labels/item": lambda seed: dict(annotators=sparse_crowd(seed)),
    "imbalanced classes (70/10/10/10), mixed crowd": lambda seed: dict(annotators=mixed_crowd(), priors=(0.7, 0.1, 0.1, 0.1)),
}


def accuracy(labels: pd.Series, truth: pd.Series) -> float:
    return float((labels == truth.reindex(labels.index)).mean())


def crowd_kit_labels(df: pd.DataFrame) -> pd.Series:
    frame = df.rename(columns={"item_id": "task", "annotator_id": "worker"})[["task", "worker", "label"]]
    return CrowdKitDawidSkene(n_iter=100).fit_predict(frame)


def run_accuracy() -> pd.DataFrame:
    rows = []
    for name, make in SETTINGS.items():
        for seed in SEEDS:
            df, truth = planted_crowd(n_items=2000, seed=seed, **make(seed))
            ours = DawidSkene().fit_predict(df)
            majority = consensus(df).set_index("item_id")["label"]
            row = {"setting": name, "seed": seed, "ours": accuracy(ours, truth), "majority": accuracy(majority.dropna(), truth) * majority.notna().mean()}
            row["crowd_kit"] = accuracy(crowd_kit_labels(df), truth) if CrowdKitDawidSkene else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def run_timing(n_items: int = 200_000) -> dict:
    annotators = [expert(f"w{i}", 0.6 + 0.03 * i, coverage=0.3) for i in range(10)]
    df, truth = planted_crowd(annotators, n_items=n_items, seed=0)
    timing = {"n_items": n_items, "n_labels": len(df)}
    start = time.perf_counter()
    model = DawidSkene().fit(df)
    timing["ours_s"] = time.perf_counter() - start
    timing["ours_iter"] = model.n_iter_
    timing["ours_accuracy"] = accuracy(model.labels_, truth)
    if CrowdKitDawidSkene:
        start = time.perf_counter()
        labels = crowd_kit_labels(df)
        timing["crowd_kit_s"] = time.perf_counter() - start
        timing["crowd_kit_accuracy"] = accuracy(labels, truth)
    return timing


def report(table: pd.DataFrame, timing: dict) -> str:
    summary = table.groupby("setting", sort=False)[["ours", "crowd_kit", "majority"]].mean()
    wins = table.assign(ok=table["ours"] >= table["crowd_kit"] - 1e-12).groupby("setting", sort=False)["ok"].sum()
    summary["ours_minus_crowd_kit"] = summary["ours"] - summary["crowd_kit"]
    lines = [
        "Dawid-Skene accuracy on generated crowds (2000 items, 4 classes, mean of 5 seeds)",
        "majority: ties count as wrong (no label)",
        "",
        summary.assign(seeds_ours_ge_crowd_kit=wins.astype(str) + "/" + str(len(SEEDS))).to_string(float_format=lambda v: f"{v:.4f}"),
        "",
        f"timing: {timing['n_items']:,} items, {timing['n_labels']:,} labels, 10 annotators",
        f"  ours      {timing['ours_s']:.2f} s ({timing['ours_iter']} EM rounds), accuracy {timing['ours_accuracy']:.4f}",
    ]
    if "crowd_kit_s" in timing:
        lines.append(f"  crowd-kit {timing['crowd_kit_s']:.2f} s, accuracy {timing['crowd_kit_accuracy']:.4f}")
    else:
        lines.append("  crowd-kit n/a (not installed)")
    return "\n".join(lines) + "\n"


def main() -> None:
    text = report(run_accuracy(), run_timing())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

"""Load speed and memory: a long Parquet of N items x 5 annotators through ``qa.load``.

Writes a deterministic Parquet file (item ids, annotator ids, one 8-category question, created_at,
lead_time_s), then, each in a fresh subprocess so peak RSS is its own: a plain
``pandas.read_parquet`` of the file and ``qa.load`` of it. Prints seconds and peak RSS (the
process's ``ru_maxrss`` minus its RSS after importing pandas, pyarrow and qa) and writes ``bench/results/load.txt``.

Usage: ``python bench/bench_load.py [--items 1000000] [--annotators 5]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results" / "load.txt"
CATEGORIES = ["billing", "bug", "feature_request", "account", "how_to", "refund", "outage", "other"]
SEED = 20260302

_MEASURE = """
import json, resource, sys, time
import pandas as pd
import pyarrow.parquet
import qa
def rss_mb():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20
base = rss_mb()
started = time.perf_counter()
if sys.argv[2] == "pandas":
    frame = pd.read_parquet(sys.argv[1]); rows = len(frame)
else:
    loaded = qa.load(sys.argv[1]); rows = len(loaded.annotations)
    frame = loaded.annotations
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak - base, "rows": rows,
                  "result_mb": frame.memory_usage(deep=False).sum() / 2**20}))
"""


def write_parquet(path: Path, items: int, annotators: int) -> None:
    rng = np.random.default_rng(SEED)
    n = items * annotators
    item_codes = np.repeat(np.arange(items), annotators)
    annotator_codes = np.tile(np.arange(annotators), items)
    truth = rng.choice(len(CATEGORIES), size=items, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03])
    noisy = rng.random(n) < 0.2
    labels = np.where(noisy, rng.integers(0, len(CATEGORIES), n), np.repeat(truth, annotators))
    start = np.datetime64("2026-03-02T00:00:00", "s")
    frame = pd.DataFrame({
        "item_id": pd.Categorical.from_codes(item_codes, [f"item-{i:07d}" for i in range(items)]),
        "annotator_id": pd.Categorical.from_codes(annotator_codes, [f"annotator-{a}" for a in range(annotators)]),
        "question": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), ["intent"]),
        "label": pd.Categorical.from_codes(labels, CATEGORIES),
        "created_at": start + rng.integers(0, 30 * 86400, n).astype("timedelta64[s]"),
        "lead_time_s": rng.gamma(2.0, 10.0, n).round(1),
    })
    frame.to_parquet(path, index=False)


def measure(path: Path, what: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path), what], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--annotators", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "long.parquet"
        started = time.perf_counter()
        write_parquet(path, args.items, args.annotators)
        write_s = time.perf_counter() - started
        size_mb = path.stat().st_size / 2**20
        plain = measure(path, "pandas")
        loaded = measure(path, "qa")
    lines = [
        f"qa.load of a long Parquet: {args.items:,} items x {args.annotators} annotators = "
        f"{args.items * args.annotators:,} rows (1 question, 8 categories, created_at, lead_time_s)",
        f"file size               {size_mb:8.1f} MB   (written in {write_s:.1f} s)",
        f"pandas.read_parquet     {plain['seconds']:8.2f} s    peak RSS +{plain['peak_mb']:7.0f} MB   frame {plain['result_mb']:6.0f} MB",
        f"qa.load                 {loaded['seconds']:8.2f} s    peak RSS +{loaded['peak_mb']:7.0f} MB   "
        f"annotations {loaded['result_mb']:6.0f} MB   ({loaded['rows']:,} rows)",
        f"qa.load / read_parquet  {loaded['seconds'] / plain['seconds']:8.1f} x time, "
        f"{loaded['peak_mb'] / max(plain['peak_mb'], 1):.1f} x peak memory; "
        f"peak memory / file size {loaded['peak_mb'] / size_mb:.1f} x",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()

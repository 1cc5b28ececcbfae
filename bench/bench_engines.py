"""Engines at scale: alpha (1000-replicate bootstrap), class balance and drift on DuckDB, Spark and
in memory, with time and peak memory.

Generates a long Parquet table (not committed: ``bench/data/``, gitignored) in chunks with
pyarrow: items with up to 5 ratings from 200 annotators (an annotator drawn twice for an item is a
duplicate, resolved by ``created_at``; 10% of the rows are dropped, leaving single-rated items),
4 categories, 8 weekly batches. Then, each in a fresh subprocess so that its peak RSS
(``ru_maxrss``; DuckDB runs inside the process) is its own:

- ``duckdb`` on ``--rows`` rows (default 100M);
- ``duckdb`` and ``pandas`` (``qa.load`` in memory) on the ``--compare`` sizes;
- ``spark`` (local mode, 2 cores) on ``--spark-rows`` rows, checked equal to DuckDB.

Usage: ``python bench/bench_engines.py [--rows N] [--compare 5000000,20000000]
[--spark-rows 10000000] [--small]``; writes ``bench/results/engines.txt``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
RESULTS = ROOT / "results" / "engines.txt"
CATEGORIES = ["billing", "bug", "feature_request", "other"]
SHARES = [0.45, 0.3, 0.15, 0.1]
ANNOTATORS = 200
SLOTS_PER_ITEM = 5
DROP_SHARE = 0.10
CHUNK_ROWS = 5_000_000
N_BOOT = 1000
PEAK_LIMIT_MB = 4096
SEED = 20261129


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def parquet_path(rows: int) -> Path:
    return DATA / f"engines_{rows}.parquet"


def generate(rows: int) -> tuple[Path, float]:
    """Write (once) the Parquet table of about ``rows`` rows; returns its path and the seconds."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = parquet_path(rows)
    if path.exists():
        return path, 0.0
    DATA.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    slots = int(math.ceil(rows / (1 - DROP_SHARE)))
    annotator_names = pa.array([f"ann{k:03d}" for k in range(ANNOTATORS)])
    category_names = pa.array(CATEGORIES)
    batch_names = pa.array([f"b{k:02d}" for k in range(1, 9)])
    week_us = 7 * 24 * 3600 * 10**6
    start_us = 1_767_571_200 * 10**6  # 2026-01-05, a Monday
    writer = None
    for number, first in enumerate(range(0, slots, CHUNK_ROWS)):
        rng = np.random.default_rng([SEED, number])
        slot = np.arange(first, min(first + CHUNK_ROWS, slots), dtype=np.int64)
        slot = slot[rng.random(len(slot)) >= DROP_SHARE]
        item = slot // SLOTS_PER_ITEM
        truth = np.random.default_rng([SEED, 1, number]).choice(len(CATEGORIES), size=len(slot), p=SHARES)
        # the truth is a function of the item: draw it per item, then spread it to the rows
        item_truth = _per_item(item, truth)
        noisy = rng.random(len(slot)) < 0.25
        label = np.where(noisy, rng.integers(0, len(CATEGORIES), len(slot)), item_truth).astype(np.int32)
        created_us = start_us + rng.integers(0, 8 * week_us, len(slot))
        table = pa.table({
            "item_id": pa.array(item),
            "annotator_id": pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, ANNOTATORS, len(slot)).astype(np.int32)), annotator_names),
            "label": pa.DictionaryArray.from_arrays(pa.array(label), category_names),
            "created_at": pa.array(created_us, type=pa.timestamp("us", tz="UTC")),
            "batch": pa.DictionaryArray.from_arrays(pa.array(((created_us - start_us) // week_us).astype(np.int32)), batch_names),
        })
        if writer is None:
            writer = pq.ParquetWriter(partial, table.schema, compression="zstd")
        writer.write_table(table, row_group_size=1_000_000)
    writer.close()
    partial.rename(path)
    return path, time.perf_counter() - started


def _per_item(item: np.ndarray, draws: np.ndarray) -> np.ndarray:
    first = np.r_[True, item[1:] != item[:-1]]
    group = np.cumsum(first) - 1
    return draws[np.flatnonzero(first)][group]


# ---------------------------------------------------------------------------------------------
# One measured run (a subprocess)
# ---------------------------------------------------------------------------------------------


def child(engine: str, path: str, memory_limit: str) -> dict:
    import resource

    import qa
    from metrics import class_balance, krippendorff_alpha, label_drift

    steps: dict[str, float] = {}
    started = time.perf_counter()
    if engine == "pandas":
        loaded = qa.load(path)
        ratings = loaded.for_question("label")
        steps["load"] = time.perf_counter() - started
        alpha = _timed(steps, "alpha", lambda: krippendorff_alpha(ratings, "nominal", n_boot=N_BOOT))
        balance = _timed(steps, "balance", lambda: class_balance(ratings))
        drift = _timed(steps, "drift", lambda: label_drift(ratings, by="batch"))
        skipped = loaded.load_report.skipped_counts
    else:
        options = {"memory_limit": memory_limit, "temp_directory": str(DATA)} if engine == "duckdb" else {}
        reduced = qa.load(path, engine=engine, **options)
        steps["reduce (dedup)"] = time.perf_counter() - started
        _timed(steps, "patterns", lambda: reduced.reduce("label"))
        alpha = _timed(steps, "alpha", lambda: reduced.krippendorff_alpha("label", "nominal", n_boot=N_BOOT))
        balance = _timed(steps, "balance", lambda: reduced.class_balance("label"))
        drift = _timed(steps, "drift", lambda: reduced.label_drift("label", by="batch"))
        skipped = reduced.load_report.skipped_counts
        reduced.close()
    return {
        "engine": engine,
        "seconds": time.perf_counter() - started,
        "steps": steps,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_average": os.getloadavg()[0],  # other work on the machine slows every step
        "alpha": [alpha.value, alpha.ci_low, alpha.ci_high, alpha.n_items, alpha.n_annotations, alpha.n_unpairable_items],
        "balance": [balance.imbalance_ratio, balance.normalized_entropy, [int(c) for c in balance.counts["count"]]],
        "drift": [drift.omnibus.statistic, float(drift.comparisons["tvd"].max()), drift.verdict],
        "skipped": skipped,
    }


def _timed(steps: dict, name: str, compute):
    started = time.perf_counter()
    result = compute()
    steps[name] = time.perf_counter() - started
    return result


def measure(engine: str, path: Path, memory_limit: str) -> dict:
    command = [sys.executable, __file__, "--child", engine, "--path", str(path), "--memory-limit", memory_limit]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"engine": engine, "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def same_numbers(first: dict, second: dict) -> bool:
    """Equal to 1e-12: alpha and its interval, balance figures, drift statistic."""
    if "error" in first or "error" in second:
        return False
    numbers = lambda r: [*r["alpha"], *r["balance"][:2], *r["drift"][:2]]  # noqa: E731
    close = all(abs(a - b) <= 1e-12 * max(1.0, abs(a)) for a, b in zip(numbers(first), numbers(second), strict=True))
    return close and first["balance"][2] == second["balance"][2] and first["drift"][2] == second["drift"][2]


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def describe(rows: int, run: dict) -> str:
    if "error" in run:
        return f"{run['engine']:>7} {rows:>12,} rows  FAILED: {run['error']}"
    steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in run["steps"].items())
    return (f"{run['engine']:>7} {rows:>12,} rows  {run['seconds']:8.1f} s  peak RSS {run['peak_rss_mb']:7.0f} MB  "
            f"load avg {run.get('load_average', float('nan')):4.1f}  "
            f"alpha {run['alpha'][0]:.6f} [{run['alpha'][1]:.6f}, {run['alpha'][2]:.6f}]  ({steps})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--compare", default="5000000,20000000", help="sizes run both in memory and on DuckDB")
    parser.add_argument("--spark-rows", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit")
    parser.add_argument("--small", action="store_true", help="a quick run: 2M rows, compare 1M, Spark 1M")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.path, args.memory_limit)))
        return
    if args.small:
        args.rows, args.compare, args.spark_rows = 2_000_000, "1000000", 1_000_000
    compare = [int(float(n)) for n in args.compare.split(",") if n]
    lines = [
        f"bench_engines: alpha (nominal, {N_BOOT}-replicate bootstrap), class balance, drift by batch",
        f"machine: {platform.machine()}, {_cpus()} cores, {_ram_gib():.0f} GiB RAM; DuckDB memory_limit {args.memory_limit}, threads 2",
        "peak RSS: ru_maxrss of the measuring process (DuckDB runs inside it; Spark's JVM is separate)",
        "",
    ]
    print("\n".join(lines), flush=True)

    def emit(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    path, seconds = generate(args.rows)
    emit(f"generated {args.rows:,} rows in {seconds:.0f} s ({path.stat().st_size / 2**20:.0f} MB Parquet)")
    large = measure("duckdb", path, args.memory_limit)
    emit(describe(args.rows, large))
    if "error" not in large:
        emit(f"        peak under {PEAK_LIMIT_MB} MB: {large['peak_rss_mb'] < PEAK_LIMIT_MB}; skipped {large['skipped']}")
    for rows in compare:
        path, seconds = generate(rows)
        emit(f"generated {rows:,} rows in {seconds:.0f} s ({path.stat().st_size / 2**20:.0f} MB Parquet)")
        in_memory, duckdb = measure("pandas", path, args.memory_limit), measure("duckdb", path, args.memory_limit)
        emit(describe(rows, in_memory))
        emit(describe(rows, duckdb))
        emit(f"        equal to 1e-12: {same_numbers(in_memory, duckdb)}")
    if not args.no_spark and args.spark_rows:
        path, seconds = generate(args.spark_rows)
        emit(f"generated {args.spark_rows:,} rows in {seconds:.0f} s")
        spark, duckdb = measure("spark", path, args.memory_limit), measure("duckdb", path, args.memory_limit)
        emit(describe(args.spark_rows, duckdb))
        emit(describe(args.spark_rows, spark))
        emit(f"        equal to 1e-12: {same_numbers(duckdb, spark)}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def _ram_gib() -> float:
    from qa.engines import total_memory_bytes

    return total_memory_bytes() / 2**30


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT.parent))
    main()

"""Dashboard speed on a 1M-annotation export: load once, then time every page through AppTest.

Writes a deterministic long Parquet export (100,000 items x 5 annotators x 2 questions: an
8-category intent and a 1-5 quality rating; text, language and channel per item, batches,
timestamps, lead times, 2% gold), then, in one process (as one Streamlit server would):

1. the first run of the Overview page: loading the export and computing the per-question
   reductions (agreement with its bootstrap interval, disputes, calibration, the check run);
2. each page's first visit (its own reductions computed and cached) and a second visit (a rerun
   after a click: cached reductions only), per page.

Prints seconds per page and writes ``bench/results/dashboard.txt``. The Coverage page's text
diversity runs on request on exports this large (a button); it is timed separately.

Usage: ``python bench/bench_dashboard.py [--items 100000] [--annotators 5] [--n-boot 1000]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "dashboard.txt"
APP = ROOT / "dashboards" / "app.py"
PAGES = ("disputes", "annotators", "labels", "coverage", "checks")
INTENTS = ["billing", "bug_report", "feature_request", "account_access", "how_to", "refund", "shipping", "complaint"]
SEED = 20260302
WORDS = ("order invoice refund parcel login password app crash sync plan upgrade cancel charge card "
         "delivery address account export report screen update email phone code reset").split()


def write_export(path: Path, items: int, annotators: int) -> int:
    """A long Parquet table: ``items`` x ``annotators`` x 2 questions, plus gold rows."""
    rng = np.random.default_rng(SEED)
    item_ids = np.array([f"t{i:07d}" for i in range(items)], dtype=object)
    truth = rng.integers(0, len(INTENTS), items)
    quality_truth = rng.integers(1, 6, items)
    word_codes = rng.integers(0, len(WORDS), (items, 8))
    texts = np.array([" ".join(WORDS[c] for c in row) + f" #{i}" for i, row in enumerate(word_codes)], dtype=object)
    n = items * annotators
    item_codes = np.repeat(np.arange(items), annotators)
    annotator_codes = (np.tile(np.arange(annotators), items) + item_codes) % (annotators * 3)
    noisy = rng.random(n) < 0.25
    intent = np.where(noisy, rng.integers(0, len(INTENTS), n), truth[item_codes])
    quality = np.clip(quality_truth[item_codes] + rng.integers(-1, 2, n) * (rng.random(n) < 0.4), 1, 5)
    start = np.datetime64("2026-03-02T00:00:00", "s")
    created = start + (item_codes * (28 * 86400 // items)).astype("timedelta64[s]")
    base = pd.DataFrame({
        "item_id": item_ids[item_codes],
        "annotator_id": np.array([f"ann{a:02d}" for a in range(annotators * 3)], dtype=object)[annotator_codes],
        "created_at": pd.to_datetime(created, utc=True),
        "lead_time_s": rng.lognormal(3.0, 0.5, n).round(2),
        "batch": np.where(item_codes < items // 2, "v1", "v2"),
        "text": texts[item_codes],
        "language": np.array(["en", "de", "fr", "es"], dtype=object)[item_codes % 4],
        "channel": np.array(["email", "chat", "phone"], dtype=object)[item_codes % 3],
    })
    frames = [base.assign(question="intent", label=np.array(INTENTS, dtype=object)[intent]),
              base.assign(question="quality", label=quality.astype(str))]
    gold_items = np.arange(0, items, 50)
    gold = pd.DataFrame({"item_id": item_ids[gold_items], "annotator_id": None, "created_at": pd.NaT,
                         "lead_time_s": np.nan, "batch": None, "text": texts[gold_items],
                         "language": None, "channel": None, "is_gold": True})
    frames += [gold.assign(question="intent", label=np.array(INTENTS, dtype=object)[truth[gold_items]]),
               gold.assign(question="quality", label=quality_truth[gold_items].astype(str))]
    table = pd.concat(frames, ignore_index=True)
    table["is_gold"] = table["is_gold"].fillna(False).astype(bool)
    table.to_parquet(path, index=False)
    return n * 2


def timed(label: str, run) -> float:
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    print(f"{label:<44} {seconds:8.2f} s", flush=True)
    return seconds


def check(app) -> None:
    if len(app.exception):
        raise RuntimeError(f"the page raised: {app.exception[0].value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--annotators", type=int, default=5)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--export", help="reuse this Parquet export instead of writing one")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from streamlit.testing.v1 import AppTest

    workdir = Path(tempfile.mkdtemp(prefix="aqa-bench-dashboard-"))
    export = Path(args.export) if args.export else workdir / "export.parquet"
    lines = []
    if not args.export:
        started = time.perf_counter()
        rows = write_export(export, args.items, args.annotators)
        lines.append(f"export: {rows:,} annotations ({args.items:,} items x {args.annotators} annotators x 2 questions), "
                     f"{export.stat().st_size / 1e6:.1f} MB Parquet, written in {time.perf_counter() - started:.1f} s")
        print(lines[-1], flush=True)
    config = workdir / "aqa.toml"
    config.write_text(f"n_boot = {args.n_boot}\n", encoding="utf-8")
    os.environ.update({"AQA_DASHBOARD_PATH": str(export), "AQA_DASHBOARD_CONFIG": str(config),
                       "AQA_UPLOAD_DIR": str(workdir / "uploads")})
    app = AppTest.from_file(str(APP), default_timeout=3600)
    results = [("load + overview (first run)", timed("load + overview (first run)", app.run))]
    check(app)
    results.append(("overview (rerun)", timed("overview (rerun)", app.run)))
    for page in PAGES:
        app.switch_page(f"views/{page}.py")
        results.append((f"{page} (first visit)", timed(f"{page} (first visit)", app.run)))
        check(app)
        results.append((f"{page} (rerun)", timed(f"{page} (rerun)", app.run)))
    app.switch_page("views/disputes.py").run()
    app.text_input(key="adjudication_who").input("bench")
    results.append(("disputes: save a decision", timed("disputes: save a decision", lambda: _submit(app))))
    check(app)
    app.switch_page("views/coverage.py").run()
    if any(b.key == "coverage_compute" for b in app.button):
        results.append(("coverage: text diversity on request",
                        timed("coverage: text diversity on request", app.button(key="coverage_compute").click().run)))
        check(app)
    header = (f"Dashboard page runs through streamlit AppTest, {os.cpu_count()} cores, n_boot={args.n_boot}; "
              "first visit computes and caches the page's reductions, rerun reads the cache")
    body = "\n".join([header, *lines] + [f"{name:<44} {seconds:8.2f} s" for name, seconds in results])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(body + "\n", encoding="utf-8")
    print(f"written {RESULTS}")
    return 0


def _submit(app) -> None:
    submit = next(b for b in app.button if b.label == "Save decision")
    submit.click().run()


if __name__ == "__main__":
    raise SystemExit(main())

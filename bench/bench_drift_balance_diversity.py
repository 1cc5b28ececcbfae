"""Benchmark: label drift and class balance on 5M annotation rows; text diversity on 100k texts.

Run: ``.venv/bin/python bench/bench_drift_balance_diversity.py [--small]``. Prints, and writes to
``bench/results/drift_balance_diversity.txt``:

1. ``metrics.label_drift`` on a long table of 5M rows (8 categories, 10 batches, 60 days,
   200 annotators, categorical columns as a loader gives them; batch b09 planted with a
   billing/other swap, TVD 0.17) by batch, by week and by
   annotator; ``metrics.class_balance`` on the same rows. They are one group-by each.
2. ``metrics.text_diversity`` on 100k generated support tickets (40 templates, a 400-word
   vocabulary, 2% exact copies after normalisation, 2% near copies) and
   ``metrics.duplicate_groups`` on the same texts.

The machine is shared: the wall-clock numbers are upper bounds; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from metrics import class_balance, duplicate_groups, label_drift, text_diversity

RESULTS = Path(__file__).resolve().parent / "results" / "drift_balance_diversity.txt"
LABELS = ["billing", "cancellation", "complaint", "feature_request", "how_to", "refund", "shipping", "other"]
SHARES = np.array([0.24, 0.15, 0.13, 0.08, 0.04, 0.11, 0.18, 0.07])


def annotation_rows(n_rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    batch = rng.integers(0, 10, n_rows)
    shifted = SHARES.copy()
    shifted[[0, 7]] = shifted[[7, 0]]  # batch 9 swaps billing and other: TVD 0.17
    label = np.where(batch == 9, rng.choice(8, n_rows, p=shifted), rng.choice(8, n_rows, p=SHARES))
    start = pd.Timestamp("2026-01-05", tz="UTC")
    return pd.DataFrame({
        "item_id": pd.Categorical(rng.integers(0, n_rows // 5, n_rows).astype(str)),
        "annotator_id": pd.Categorical.from_codes(rng.integers(0, 200, n_rows), [f"ann{i:03d}" for i in range(200)]),
        "label": pd.Categorical.from_codes(label, LABELS).astype(object),
        "created_at": start + pd.to_timedelta(rng.integers(0, 60 * 86400, n_rows), unit="s"),
        "batch": pd.Categorical.from_codes(batch, [f"b{i:02d}" for i in range(10)]),
    })


def ticket_texts(n_texts: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    syllables = ["ka", "lo", "mi", "ne", "pu", "ro", "sa", "ti", "vu", "ze", "bar", "den", "fol", "gri", "hum",
                 "jas", "kel", "mor", "nip", "qua"]
    vocabulary = np.array(sorted({a + b + c for a in syllables for b in syllables for c in ("", "t", "s")}))[:400]
    openers = ["Hi team,", "Hello,", "Dear support,", "Hey,", "Good morning,", "", "Urgent:", "Quick question:"]
    bodies = ["I want a refund for my {0} order because the {1} arrived {2}.",
              "Where is my {0} package? Tracking says {1} since {2} days.",
              "Please cancel my {0} subscription, the {1} plan is {2}.",
              "How do I change the {0} on my {1} account without {2}?",
              "My {0} stopped working after the {1} update and {2} does not help.",
              "You charged me twice for {0}; the invoice {1} shows {2}.",
              "Could you add {0} support to the {1} app so I can {2}?",
              "The {0} in your store is broken, {1} keeps saying {2}."]
    bodies = [b.replace("{0}", "{0} {3}") for b in bodies] + bodies * 4
    closers = ["Thanks.", "Regards, {0}", "Best, {0} {1}", "", "Cheers", "Thank you in advance!"]
    words = vocabulary[rng.integers(0, len(vocabulary), (n_texts, 8))]
    parts = (rng.integers(0, len(openers), n_texts), rng.integers(0, len(bodies), (n_texts, 2)),
             rng.integers(0, len(closers), n_texts), rng.random(n_texts) < 0.5)
    texts = [
        " ".join(filter(None, [openers[parts[0][i]], bodies[parts[1][i, 0]].format(*words[i, :4]),
                               bodies[parts[1][i, 1]].format(*words[i, 4:]) if parts[3][i] else "",
                               closers[parts[2][i]].format(*words[i, 6:])]))
        for i in range(n_texts)
    ]
    for i in rng.choice(n_texts, n_texts // 50, replace=False):  # exact copies after normalisation
        texts[i] = texts[(i * 7 + 1) % n_texts].upper().replace(".", "!")
    for i in rng.choice(n_texts, n_texts // 50, replace=False):  # near copies: one word appended
        texts[i] = texts[(i * 13 + 5) % n_texts] + " please"
    return texts


def timed(label: str, function, lines: list[str]):
    started = time.perf_counter()
    value = function()
    seconds = time.perf_counter() - started
    lines.append(f"{label:<58} {seconds:8.2f} s")
    print(lines[-1], flush=True)
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="500k rows and 10k texts")
    arguments = parser.parse_args()
    n_rows, n_texts = (500_000, 10_000) if arguments.small else (5_000_000, 100_000)
    lines = [f"# drift, balance, diversity  ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"load average {os.getloadavg()[0]:.1f} at start)"]
    print(lines[0])
    rows = timed(f"generate {n_rows:,} annotation rows", lambda: annotation_rows(n_rows), lines)
    by_batch = timed(f"label_drift by batch ({n_rows:,} rows, 10 windows)", lambda: label_drift(rows, by="batch"), lines)
    timed(f"label_drift by week ({n_rows:,} rows)", lambda: label_drift(rows, by="week"), lines)
    timed(f"label_drift by annotator ({n_rows:,} rows, 200 windows)", lambda: label_drift(rows, by="annotator"), lines)
    timed(f"class_balance ({n_rows:,} rows)", lambda: class_balance(rows, categories=LABELS), lines)
    flagged = by_batch.comparisons.loc[by_batch.comparisons["verdict"] != "ok", ["window", "tvd", "verdict"]]
    lines.append(f"  batches flagged: {flagged.to_dict('records')}")
    print(lines[-1])
    texts = timed(f"generate {n_texts:,} texts", lambda: ticket_texts(n_texts), lines)
    diversity = timed(f"text_diversity ({n_texts:,} texts)", lambda: text_diversity(texts), lines)
    groups = timed(f"duplicate_groups ({n_texts:,} texts)", lambda: duplicate_groups(texts), lines)
    lines.append(f"  vendi={diversity.vendi_score:.1f} (n_sample={diversity.n_sample}) "
                 f"distinct_2={diversity.distinct_2:.3f} exact_dup={diversity.exact_duplicate_rate:.3f} "
                 f"near_dup={diversity.near_duplicate_rate:.3f} groups={groups['group_id'].nunique()}")
    lines.append(f"# load average {os.getloadavg()[0]:.1f} at the end")
    print("\n".join(lines[-2:]))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

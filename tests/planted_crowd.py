"""Generated crowds with planted annotators and known truth, for consensus/calibration tests and
the consensus benchmark.

Each annotator answers an item's true class ``t`` as follows: with probability ``overuse_rate``
they give ``overuse_label`` whatever the item; otherwise they are right with probability
``accuracy`` (``accuracy_after`` from batch ``drift_batch`` on) and otherwise pick one of the
other classes uniformly. A spammer is ``accuracy = 1 / K`` (uniform answers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CATEGORIES = ("billing", "complaint", "praise", "question")


@dataclass(frozen=True)
class Annotator:
    name: str
    accuracy: float = 0.9
    overuse_label: str | None = None
    overuse_rate: float = 0.0
    drift_batch: str | None = None
    accuracy_after: float | None = None
    median_lead_time_s: float = 30.0
    coverage: float = 1.0
    kind: str = "human"


def expert(name: str, accuracy: float = 0.9, **kw) -> Annotator:
    return Annotator(name, accuracy=accuracy, **kw)


def spammer(name: str, n_classes: int = len(CATEGORIES), **kw) -> Annotator:
    return Annotator(name, accuracy=1.0 / n_classes, **kw)


def planted_crowd(
    annotators: list[Annotator],
    n_items: int = 600,
    categories: tuple[str, ...] = CATEGORIES,
    priors: tuple[float, ...] | None = None,
    batches: tuple[str, ...] = ("v1", "v2", "v3"),
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """A long annotations table and the true label of each item (Series indexed by item_id)."""
    rng = np.random.default_rng(seed)
    n_classes = len(categories)
    probabilities = np.full(n_classes, 1.0 / n_classes) if priors is None else np.asarray(priors)
    truth = rng.choice(n_classes, size=n_items, p=probabilities)
    item_ids = np.array([f"item{i:05d}" for i in range(n_items)], dtype=object)
    batch_of_item = np.asarray(batches, dtype=object)[np.arange(n_items) * len(batches) // n_items]
    start = pd.Timestamp("2024-01-01", tz="UTC")
    created = start + pd.to_timedelta(np.arange(n_items) * (7 * len(batches) / n_items), unit="D")
    frames = []
    for annotator in annotators:
        chosen = np.flatnonzero(rng.random(n_items) < annotator.coverage)
        answers = _answers(annotator, truth[chosen], batch_of_item[chosen], categories, rng)
        lead = annotator.median_lead_time_s * np.exp(rng.normal(0.0, 0.4, size=len(chosen)))
        frames.append(
            pd.DataFrame(
                {
                    "item_id": item_ids[chosen],
                    "annotator_id": annotator.name,
                    "label": np.asarray(categories, dtype=object)[answers],
                    "created_at": created[chosen],
                    "lead_time_s": lead,
                    "batch": batch_of_item[chosen],
                    "annotator_kind": annotator.kind,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    df["label"] = df["label"].astype(object)
    return df, pd.Series(np.asarray(categories, dtype=object)[truth], index=item_ids, name="truth")


def _answers(annotator, truth, batch, categories, rng) -> np.ndarray:
    n_classes = len(categories)
    accuracy = np.full(len(truth), annotator.accuracy)
    if annotator.drift_batch is not None:
        after = batch >= annotator.drift_batch
        accuracy[after] = annotator.accuracy_after
    correct = rng.random(len(truth)) < accuracy
    other = (truth + rng.integers(1, n_classes, size=len(truth))) % n_classes
    answers = np.where(correct, truth, other)
    if annotator.overuse_label is not None:
        overuse = rng.random(len(truth)) < annotator.overuse_rate
        answers[overuse] = categories.index(annotator.overuse_label)
    return answers


def planted_confusion(annotator: Annotator, categories: tuple[str, ...] = CATEGORIES) -> np.ndarray:
    """The annotator's true confusion matrix (rows: true class, columns: given label)."""
    n_classes = len(categories)
    off = (1 - annotator.accuracy) / (n_classes - 1)
    matrix = np.full((n_classes, n_classes), off)
    np.fill_diagonal(matrix, annotator.accuracy)
    if annotator.overuse_label is not None:
        matrix *= 1 - annotator.overuse_rate
        matrix[:, categories.index(annotator.overuse_label)] += annotator.overuse_rate
    return matrix

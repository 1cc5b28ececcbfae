"""Synthetic annotation sets for the check / report / CI output tests (not collected by pytest).

``project(...)`` builds an :class:`~qa.schema.AnnotationSet` whose questions have a known
agreement: each annotator gives the true label with probability ``accuracy`` and a uniformly
random one otherwise, so a high accuracy gives alpha near 1 and ``accuracy=0`` gives alpha near 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from qa.schema import (
    AnnotationSet,
    LoadReport,
    QuestionSpec,
    canonical_annotations,
    canonical_gold,
    canonical_items,
    questions_table,
)

CATEGORIES = ("billing", "bug", "how_to", "feature_request")


def question_rows(
    question: str,
    n_items: int,
    accuracy: float,
    *,
    annotators: tuple[str, ...] = ("ann", "bea", "cal"),
    categories: tuple[str, ...] = CATEGORIES,
    seed: int = 0,
    batch_split: bool = True,
    shift: float = 0.0,
) -> list[dict]:
    rng = np.random.default_rng(seed)
    truth = rng.choice(categories, size=n_items)
    # label drift: in the second batch a share `shift` of the items truly are the first category
    second_half = np.arange(n_items) >= n_items // 2
    truth = np.where(second_half & (rng.random(n_items) < shift), categories[0], truth)
    rows = []
    for annotator in annotators:
        correct = rng.random(n_items) < accuracy
        random_labels = rng.choice(categories, size=n_items)
        labels = np.where(correct, truth, random_labels)
        for index in range(n_items):
            rows.append(
                {
                    "item_id": f"{question}-{index}",
                    "annotator_id": annotator,
                    "question": question,
                    "label": str(labels[index]),
                    "batch": ("v1" if index < n_items // 2 else "v2") if batch_split else "v1",
                    "created_at": pd.Timestamp("2026-03-02T08:00:00Z") + pd.Timedelta(hours=index),
                }
            )
    return rows


def project(
    questions: dict[str, tuple],
    *,
    seed: int = 0,
    texts: dict[str, str] | None = None,
    kinds: dict[str, str] | None = None,
    text_template: str | None = "ticket {item_id}",
) -> AnnotationSet:
    """An AnnotationSet with one question per entry ``name: (n_items, accuracy[, shift])``, categorical
    unless ``kinds`` says otherwise (e.g. ``{"note": "text"}`` for a free-text question)."""
    rows: list[dict] = []
    for offset, (name, spec) in enumerate(questions.items()):
        n_items, accuracy, *shift = spec
        rows += question_rows(name, n_items, accuracy, seed=seed + offset, shift=shift[0] if shift else 0.0)
    annotations = canonical_annotations(rows)
    item_ids = annotations["item_id"].astype(str)
    items = pd.DataFrame({"item_id": pd.unique(item_ids)})
    if text_template is not None:
        items["text"] = items["item_id"].map(lambda i: (texts or {}).get(i, text_template.format(item_id=i)))
    kinds = kinds or {}
    specs = [
        QuestionSpec(name, kinds.get(name, "categorical"), CATEGORIES if kinds.get(name, "categorical") == "categorical" else ())
        for name in questions
    ]
    report = LoadReport(source="synthetic", format="synthetic", records_read=len(rows), annotations_loaded=len(rows))
    return AnnotationSet(
        annotations=annotations,
        items=canonical_items(items),
        gold=canonical_gold([]),
        questions=questions_table(specs),
        load_report=report,
    )


def write_long_csv(annotation_set: AnnotationSet, path: Path) -> Path:
    """The set as a canonical long CSV (what ``qa.load`` reads back)."""
    frame = annotation_set.annotations[["item_id", "annotator_id", "question", "label", "batch"]].copy()
    frame.to_csv(path, index=False)
    return path

"""``aqa summary PATH``: what an export holds.

Items, annotators (human and model), questions with their kind and categories, human labels per
item (min / median / max) per question, gold items, and every skipped record counted by reason.
``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

import pandas as pd

from qa.commands._common import add_input_arguments, load_from_args
from qa.schema import AnnotationSet

MAX_CATEGORIES_SHOWN = 12


@dataclass(frozen=True)
class QuestionSummary:
    question: str
    kind: str
    level: str
    categories: list
    categories_declared: bool
    annotations: int
    items: int
    labels_per_item_min: int
    labels_per_item_median: float
    labels_per_item_max: int
    gold_items: int


@dataclass(frozen=True)
class ExportSummary:
    source: str
    format: str
    records_read: int
    annotations: int
    items: int
    items_with_text: int
    gold_items: int
    human_annotators: list[str]
    model_annotators: list[str]
    questions: list[QuestionSummary]
    skipped: list[dict]
    notes: list[str]


def summarize(aset: AnnotationSet) -> ExportSummary:
    """The figures ``aqa summary`` prints.

    >>> from qa.schema import canonical_annotations, canonical_items, canonical_gold, LoadReport
    >>> from qa.schema import questions_table, QuestionSpec
    >>> rows = [{"item_id": i, "annotator_id": a, "label": "x"} for i in (1, 2) for a in ("a", "b")]
    >>> aset = AnnotationSet(canonical_annotations(rows), canonical_items([], pd.Series(["1", "2"])),
    ...     canonical_gold([]), questions_table([QuestionSpec("label", "categorical")]),
    ...     LoadReport("t.csv", "long", 4, 4))
    >>> s = summarize(aset)
    >>> s.items, s.human_annotators, s.questions[0].labels_per_item_median
    (2, ['a', 'b'], 2.0)
    """
    annotations = aset.annotations
    kinds = annotations["annotator_kind"].astype(str)
    report = aset.load_report
    texts = aset.items["text"] if "text" in aset.items else pd.Series(dtype=object)
    return ExportSummary(
        source=report.source,
        format=report.format,
        records_read=report.records_read,
        annotations=len(annotations),
        items=len(aset.items),
        items_with_text=int(texts.notna().sum()),
        gold_items=int(aset.gold["item_id"].nunique()),
        human_annotators=sorted(set(annotations.loc[kinds == "human", "annotator_id"].astype(str))),
        model_annotators=sorted(set(annotations.loc[kinds == "model", "annotator_id"].astype(str))),
        questions=[_question_summary(aset, name) for name in aset.question_names],
        skipped=report.skipped_table().to_dict("records"),
        notes=list(report.notes),
    )


def _question_summary(aset: AnnotationSet, name: str) -> QuestionSummary:
    spec = aset.question(name)
    humans = aset.for_question(name)
    per_item = humans.groupby("item_id", observed=True).size()
    categories = list(spec.categories)
    declared = bool(categories)
    if not declared and spec.kind in ("categorical", "ordinal"):
        categories = sorted({_plain(v) for v in humans["label"]}, key=str)
    return QuestionSummary(
        question=name,
        kind=spec.kind,
        level=spec.level,
        categories=[_plain(c) for c in categories],
        categories_declared=declared,
        annotations=len(humans),
        items=int(per_item.size),
        labels_per_item_min=int(per_item.min()) if per_item.size else 0,
        labels_per_item_median=float(per_item.median()) if per_item.size else float("nan"),
        labels_per_item_max=int(per_item.max()) if per_item.size else 0,
        gold_items=int(aset.gold_for(name)["item_id"].nunique()),
    )


def _plain(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, (int, float, str)) else str(value)


def render_text(summary: ExportSummary) -> str:
    """The summary as the lines ``aqa summary`` prints."""
    lines = [
        f"{summary.source} ({summary.format}): {summary.records_read:,} records read, "
        f"{summary.annotations:,} annotations loaded",
        f"items: {summary.items:,} ({summary.items_with_text:,} with text), gold items: {summary.gold_items:,}",
        f"annotators: {len(summary.human_annotators)} human ({', '.join(summary.human_annotators) or 'none'}), "
        f"{len(summary.model_annotators)} model ({', '.join(summary.model_annotators) or 'none'})",
        "",
        "questions (human labels per item: min / median / max):",
    ]
    for q in summary.questions:
        shown = ", ".join(str(c) for c in q.categories[:MAX_CATEGORIES_SHOWN])
        if len(q.categories) > MAX_CATEGORIES_SHOWN:
            shown += f", ... ({len(q.categories)} in all)"
        source = "declared" if q.categories_declared else "observed"
        lines.append(
            f"  {q.question}: {q.kind} (level {q.level}), {q.annotations:,} labels on {q.items:,} items, "
            f"{q.labels_per_item_min} / {q.labels_per_item_median:g} / {q.labels_per_item_max} per item, "
            f"{q.gold_items:,} gold items"
        )
        if shown:
            lines.append(f"    categories ({source}): {shown}")
    lines.append("")
    if not summary.skipped:
        lines.append("skipped records: none")
    else:
        total = sum(int(row["count"]) for row in summary.skipped)
        lines.append(f"skipped records: {total:,}")
        for row in summary.skipped:
            lines.append(f"  {row['reason']}: {int(row['count']):,} (e.g. {row['examples']}) - {row['meaning']}")
    for note in summary.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def run(args: argparse.Namespace) -> int:
    summary = summarize(load_from_args(args))
    if args.json:
        print(json.dumps(_json_safe(asdict(summary)), indent=2, default=str))
    else:
        print(render_text(summary))
    return 0


def _json_safe(value):
    """NaN (a question with no human labels has no median) as null: JSON has no NaN."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value

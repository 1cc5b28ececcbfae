"""Disputed items: the ranked list a QA lead works through, with a recommended action each.

One row per item (x question) that annotators disagree on, or whose consensus contradicts gold.
The ``score`` is the item's disagreement on a scale shared by every kind of question:

- categories, multi-label, ordinal and interval labels: the item's mean pairwise difference
  (alpha's :math:`\\delta^2` at the question's level: nominal, MASI for sets, ordinal ranks,
  squared difference) divided by the expected disagreement :math:`D_e` of Krippendorff's alpha
  on the whole question. 0 = everyone agrees; 1 = as much disagreement as labels drawn at
  random from the question's label distribution; it can exceed 1.
- spans: ``1 - mean pairwise span F1`` on the item (:func:`metrics.spans.item_span_disagreement`).

Actions (``ACTIONS``), the first that applies:

``gold_conflict``
    the item has a gold label and the consensus differs from it: fix the gold or the guideline.
``needs_more_labels``
    fewer than ``min_labels`` labels and the consensus is a tie or below ``low_confidence``:
    another label is cheaper than an adjudicator.
``guideline_gap``
    (categories) two of the item's labels form a *systematic* confusion pair
    (:func:`metrics.confusion_pairs`): the guideline does not separate them.
``check_annotator``
    the consensus is not a tie and every dissenting annotator is unreliable (their labels match
    the consensus on fewer than ``reliable_agreement`` of their items): review the annotator,
    not the item.
``adjudicate``
    reliable annotators disagree and the consensus is a tie or below ``low_confidence``.
``accept_consensus``
    a reliable annotator dissented but the consensus is clear; listed last, for completeness.

Rows are ranked by ``score`` (descending) with gold conflicts first (a unanimous item can
contradict gold), then by consensus confidence (ascending).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics.alpha import krippendorff_alpha
from metrics.confusion import confusion_pairs
from metrics.consensus import consensus as make_consensus
from metrics.consensus import gold_for, is_present, label_kind, split_questions
from metrics.disagreement import item_disagreement
from metrics.errors import MetricInputError
from metrics.spans import item_span_disagreement

ACTIONS = ("gold_conflict", "needs_more_labels", "guideline_gap", "check_annotator", "adjudicate", "accept_consensus")
DISPUTE_COLUMNS = (
    "rank",
    "item_id",
    "score",
    "n_labels",
    "labels_by_annotator",
    "label_counts",
    "consensus_label",
    "consensus_confidence",
    "is_tie",
    "gold_label",
    "action",
    "reason",
)


@dataclass(frozen=True)
class DisputeThresholds:
    """When a disputed item gets which action (see the module docstring).

    Attributes
    ----------
    min_labels : fewer labels than this is "few" (3: the smallest crowd where a majority can
        outvote one slip).
    low_confidence : consensus confidence below this is "low" (2/3: a 2-1 split sits at the line,
        a 1-1 split or a three-way split falls below it).
    reliable_agreement : an annotator whose labels match the consensus on at least this share of
        their items is reliable (0.7: well above a spammer's 1/K, below a good annotator's 0.85+).
    min_reliability_items : an annotator's reliability needs at least this many items with
        ``min_labels`` labels; below it their reliability is unknown and they are never blamed
        alone (20: a share on 20 items has a Wilson interval about +-0.2 wide).
    """

    min_labels: int = 3
    low_confidence: float = 2 / 3
    reliable_agreement: float = 0.7
    min_reliability_items: int = 20


def disputed_items(
    df: pd.DataFrame,
    gold: pd.DataFrame | pd.Series | dict | None = None,
    level: str | None = None,
    consensus: pd.DataFrame | None = None,
    *,
    categories: Sequence[Any] | None = None,
    span_mode: str = "overlap",
    thresholds: DisputeThresholds = DisputeThresholds(),
    include_agreed: bool = False,
) -> pd.DataFrame:
    """The ranked disputed items of a question (or of each question), with an action and reason.

    Parameters
    ----------
    df : long table ``item_id``, ``annotator_id``, ``label`` (optionally ``question``). Labels
        may be categories, numbers, frozensets (multi-label) or tuples of spans.
    gold : known answers (DataFrame ``item_id``, ``label`` [, ``question``], Series or dict).
    level : level of measurement for the score; default from the labels (``nominal`` for text,
        ``ordinal`` for integers with at most 10 values, ``interval`` for other numbers,
        ``multilabel`` for sets, spans for tuples).
    consensus : a table from :func:`metrics.consensus` to use (e.g. Dawid-Skene); by default
        majority vote (median for numbers), computed without gold.
    categories : declared categories (needed for ordinal text labels).
    span_mode : ``"exact"`` or ``"overlap"`` matching for span questions.
    thresholds : :class:`DisputeThresholds`.
    include_agreed : also list items everyone agrees on (action ``accept_consensus``).

    Returns
    -------
    DataFrame
        ``rank``, ``item_id`` (``question`` after it when present), ``score`` (see the module
        docstring; NaN for an item with a single label), ``n_labels``, ``labels_by_annotator``
        (``"ann: billing | bob: refund"``), ``label_counts`` (``"billing x2, refund x1"``),
        ``consensus_label``, ``consensus_confidence``, ``is_tie``, ``gold_label`` (None when
        none), ``action`` (one of ``ACTIONS``) and ``reason`` (the evidence in words).

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": list("aaabbbcc"), "annotator_id": list("xyzxyzxy"),
    ...                    "label": ["bill", "bill", "bill", "bill", "spam", "refund", "bill", "spam"]})
    >>> out = disputed_items(df)
    >>> out[["item_id", "action", "label_counts"]].values.tolist()
    [['b', 'adjudicate', 'bill x1, refund x1, spam x1'], ['c', 'needs_more_labels', 'bill x1, spam x1']]
    >>> out.loc[1, "reason"]
    'only 2 label(s) (bill x1, spam x1), a tie'

    """
    missing = [c for c in ("item_id", "annotator_id", "label") if c not in df.columns]
    if missing:
        raise MetricInputError(f"the annotations table has no column {missing}; expected item_id, annotator_id, label")
    parts = []
    for question, rows in split_questions(df):
        rows = rows[rows["label"].map(is_present)]
        if rows.empty:
            continue
        given = _consensus_for(consensus, question)
        part = _disputes_one_question(rows, gold_for(gold, question), level, given, categories, span_mode, thresholds, include_agreed)
        if question is not None:
            part.insert(2, "question", question)
        parts.append(part)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DISPUTE_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    return _ranked(out)


def _consensus_for(consensus: pd.DataFrame | None, question: str | None) -> pd.DataFrame | None:
    if consensus is None:
        return None
    if question is not None and "question" in consensus.columns:
        return consensus[consensus["question"].astype(str) == question]
    return consensus


def infer_level(labels: pd.Series) -> str:
    """The default level of a question from its labels (see :func:`disputed_items`)."""
    kind = label_kind(labels)
    if kind == "multilabel":
        return "multilabel"
    if kind == "spans":
        return "spans"
    if kind == "numeric":
        values = pd.to_numeric(labels[labels.map(is_present)]).astype(float)
        return "ordinal" if bool((values % 1 == 0).all()) and values.nunique() <= 10 else "interval"
    return "nominal"


def _disputes_one_question(df, gold, level, given, categories, span_mode, thresholds, include_agreed) -> pd.DataFrame:
    level = level or infer_level(df["label"])
    frame = df[["item_id", "annotator_id", "label"]].assign(item_id=df["item_id"].astype(str), annotator_id=df["annotator_id"].astype(str))
    if given is None:
        method = "median" if level in ("ordinal", "interval", "ratio") else "majority"
        given = make_consensus(frame, method=method, level=level if method == "median" else None)
    items = _item_table(frame, given, level, categories, span_mode)
    gold_labels = gold.reindex(items["item_id"]).to_numpy() if not gold.empty else [None] * len(items)
    items["gold_label"] = pd.Series([g if is_present(g) else None for g in gold_labels], dtype=object).to_numpy()
    items["gold_conflict"] = _gold_conflict(items["consensus_label"], items["gold_label"])
    disputed = (items["score"].fillna(0) > 0) | items["is_tie"] | items["gold_conflict"]
    if not include_agreed:
        items = items[disputed.to_numpy()]
    if items.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DISPUTE_COLUMNS if c != "rank"} | {"gold_conflict": pd.Series(dtype=bool)})
    reliability = _reliability(frame, given, thresholds.min_labels, thresholds.min_reliability_items)
    disputed_rows = frame[frame["item_id"].isin(items["item_id"])]
    items = _describe_labels(items, disputed_rows)
    systematic = _systematic_pairs(frame, level, categories)
    return _assign_actions(items, disputed_rows, reliability, systematic, thresholds)


def _item_table(frame, given, level, categories, span_mode) -> pd.DataFrame:
    """Per item: ``item_id``, ``score``, ``n_labels``, consensus columns."""
    if level == "spans":
        spread = item_span_disagreement(frame, mode=span_mode)
        score = spread.set_index("item_id")["disagreement"]
    else:
        score = _relative_disagreement(frame, level, categories)
    by_item = given.assign(item_id=given["item_id"].astype(str)).set_index("item_id")
    n_labels = frame.groupby("item_id", sort=False).size()
    items = pd.DataFrame({"item_id": n_labels.index.to_numpy(dtype=object), "n_labels": n_labels.to_numpy()})
    items["score"] = score.reindex(items["item_id"]).to_numpy(dtype=float)
    items["consensus_label"] = pd.Series(by_item["label"].reindex(items["item_id"]).to_numpy(), dtype=object).to_numpy()
    items["consensus_confidence"] = by_item["confidence"].reindex(items["item_id"]).to_numpy(dtype=float)
    items["is_tie"] = by_item["is_tie"].reindex(items["item_id"]).fillna(False).to_numpy(dtype=bool)
    return items


def _relative_disagreement(frame, level, categories) -> pd.Series:
    """Per item: mean pairwise difference / alpha's expected disagreement D_e."""
    per_item = item_disagreement(frame, level=level, categories=categories)
    alpha = krippendorff_alpha(frame, level=level, categories=categories, n_boot=0)
    n_values = alpha.details.get("n_pairable_values", math.nan)
    expected = alpha.details.get("expected_disagreement", math.nan)
    mean_pairwise = per_item["observed_disagreement"].to_numpy(dtype=float) * n_values / per_item["n_ratings"].to_numpy(dtype=float)
    if not (expected > 0):
        # every pairable label is the same value: no item disagrees
        score = np.where(np.isnan(mean_pairwise), np.nan, 0.0)
    else:
        score = mean_pairwise / expected
    return pd.Series(score, index=per_item["item_id"].astype(str).to_numpy())


def _gold_conflict(consensus_labels: pd.Series, gold_labels: pd.Series) -> pd.Series:
    flags = [is_present(g) and not _same_label(c, g) for c, g in zip(consensus_labels, gold_labels, strict=True)]
    return pd.Series(flags, index=consensus_labels.index, dtype=bool)


def _same_label(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, tuple) and isinstance(b, tuple):
        return sorted(map(tuple, a)) == sorted(map(tuple, b))
    if isinstance(a, (int, float, np.integer, np.floating)) and isinstance(b, (int, float, np.integer, np.floating)):
        return float(a) == float(b)
    return a == b


def _reliability(frame: pd.DataFrame, given: pd.DataFrame, min_labels: int, min_items: int) -> pd.Series:
    """Per annotator: the share of their labels equal to the item's consensus, over items with at
    least ``min_labels`` labels (NaN with fewer than ``min_items`` such items)."""
    sizes = frame.groupby("item_id")["annotator_id"].transform("size")
    rows = frame[sizes >= min_labels]
    if rows.empty:
        return pd.Series(dtype=float)
    agreed = _agrees_with_consensus(rows, given).groupby(rows["annotator_id"].to_numpy())
    return agreed.mean().where(agreed.size() >= min_items)


def _agrees_with_consensus(rows: pd.DataFrame, given: pd.DataFrame) -> pd.Series:
    by_item = pd.Series(given["label"].to_numpy(dtype=object), index=given["item_id"].astype(str).to_numpy())
    consensus_labels = by_item.reindex(rows["item_id"]).to_numpy()
    return pd.Series([_same_label(a, b) for a, b in zip(rows["label"], consensus_labels, strict=True)], index=rows.index)


def _systematic_pairs(frame: pd.DataFrame, level: str, categories) -> set[frozenset]:
    if level not in ("nominal",) or frame["item_id"].nunique() == 0:
        return set()
    pairs = confusion_pairs(frame, categories=categories)
    pairs = pairs[pairs["systematic"].astype(bool)]
    return {frozenset((a, b)) for a, b in zip(pairs["label_a"], pairs["label_b"], strict=True)}


# ---------------------------------------------------------------------------------------------
# Presentation: labels in words, actions and reasons
# ---------------------------------------------------------------------------------------------


def format_label(value: Any) -> str:
    """A label as short text: ``billing``, ``4``, ``{a, b}``, ``[0-5 ORG, 9-14 PER]``."""
    if value is None:
        return "-"
    if isinstance(value, (frozenset, set)):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    if isinstance(value, tuple):
        return "[" + ", ".join(f"{s[0]}-{s[1]} {s[2]}" for s in sorted(map(tuple, value))) + "]"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _describe_labels(items: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    text = rows.assign(text=rows["label"].map(format_label)).sort_values(["item_id", "annotator_id"], kind="stable")
    pairs = (text["annotator_id"] + ": " + text["text"]).groupby(text["item_id"], sort=False).agg(" | ".join)
    counts = text.groupby(["item_id", "text"], sort=True).size().rename("n").reset_index()
    counts = counts.sort_values(["item_id", "n", "text"], ascending=[True, False, True], kind="stable")
    summary = (counts["text"] + " x" + counts["n"].astype(str)).groupby(counts["item_id"], sort=False).agg(", ".join)
    items = items.copy()
    items["labels_by_annotator"] = pairs.reindex(items["item_id"]).to_numpy()
    items["label_counts"] = summary.reindex(items["item_id"]).to_numpy()
    return items


def _assign_actions(items, rows, reliability, systematic, thresholds) -> pd.DataFrame:
    agrees = _agrees_with_consensus(rows, items.rename(columns={"consensus_label": "label"})[["item_id", "label"]])
    dissent = rows[~agrees.to_numpy()]
    dissenters = dissent.groupby("item_id")["annotator_id"].agg(tuple)
    label_sets = rows.groupby("item_id")["label"].agg(lambda s: set(s.map(_hashable)))
    actions, reasons = [], []
    for row in items.itertuples(index=False):  # one disputed item per iteration: building words
        who = dissenters.get(row.item_id, ())
        action, reason = _action(row, who, label_sets.get(row.item_id, set()), reliability, systematic, thresholds)
        actions.append(action)
        reasons.append(reason)
    items = items.assign(action=actions, reason=reasons)
    return items[[c for c in DISPUTE_COLUMNS if c != "rank"] + ["gold_conflict"]]


def _hashable(value: Any) -> Any:
    return tuple(sorted(map(tuple, value))) if isinstance(value, tuple) else value


def _action(row, dissenters, labels, reliability, systematic, thresholds) -> tuple[str, str]:
    consensus_text = "none (tie)" if row.consensus_label is None else format_label(row.consensus_label)
    low = row.is_tie or row.consensus_confidence < thresholds.low_confidence
    if row.gold_conflict:
        return "gold_conflict", (
            f"consensus {consensus_text} (confidence {row.consensus_confidence:.2f}) differs from gold "
            f"{format_label(row.gold_label)}"
        )
    if row.n_labels < thresholds.min_labels and low:
        split = "a tie" if row.is_tie else f"confidence {row.consensus_confidence:.2f}"
        return "needs_more_labels", f"only {row.n_labels} label(s) ({row.label_counts}), {split}"
    gap = [pair for pair in systematic if pair <= labels]
    if gap:
        names = " / ".join(sorted(format_label(x) for x in next(iter(gap))))
        return "guideline_gap", f"labels {names} are a systematic confusion pair across annotators; here: {row.label_counts}"
    scores = [reliability.get(a, math.nan) for a in dissenters]
    unreliable = bool(dissenters) and all(s < thresholds.reliable_agreement for s in scores)
    if unreliable and not row.is_tie:
        who = ", ".join(f"{a} (matches consensus on {s:.0%} of items)" for a, s in zip(dissenters, scores, strict=True))
        return "check_annotator", f"consensus {consensus_text} holds; the dissent comes only from low-agreement annotators: {who}"
    if low:
        split = "a tie" if row.is_tie else f"consensus {consensus_text} at confidence {row.consensus_confidence:.2f}"
        return "adjudicate", f"annotators disagree ({row.label_counts}): {split}"
    dissent = ", ".join(dissenters) if dissenters else "none"
    return "accept_consensus", f"consensus {consensus_text} is clear (confidence {row.consensus_confidence:.2f}); dissent: {dissent}"


def _ranked(out: pd.DataFrame) -> pd.DataFrame:
    order = out.assign(_score=out["score"].fillna(-1.0)).sort_values(
        ["gold_conflict", "_score", "consensus_confidence"], ascending=[False, False, True], kind="stable"
    )
    order = order.drop(columns=["_score", "gold_conflict"]).reset_index(drop=True)
    order.insert(0, "rank", np.arange(1, len(order) + 1))
    return order

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

Rows are ranked by action, in the order a QA lead works (``ACTION_PRIORITY``): gold conflicts
(a unanimous item can contradict gold), items to adjudicate, guideline gaps, items that need more
labels, then the annotator-side and clear-consensus rows; within an action by ``score``
(descending), then by consensus confidence (ascending).
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
from metrics.consensus import (
    gold_for,
    is_present,
    label_kind,
    present_mask,
    split_questions,
    value_key,
)
from metrics.disagreement import item_disagreement
from metrics.errors import MetricInputError
from metrics.spans import item_span_disagreement

ACTIONS = ("gold_conflict", "needs_more_labels", "guideline_gap", "check_annotator", "adjudicate", "accept_consensus")
"""The actions, in the order their rules are tried (the first that applies wins)."""
ACTION_PRIORITY = ("gold_conflict", "adjudicate", "guideline_gap", "needs_more_labels", "check_annotator", "accept_consensus")
"""The order of the ranked list: decisions about the item that an adjudicator must make first
(gold conflicts, disagreements among reliable annotators, guideline gaps), then those another
label settles, then rows where the item itself is fine."""
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
        rows = rows[present_mask(rows["label"])]
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
        values = pd.to_numeric(labels[present_mask(labels)]).astype(float)
        return "ordinal" if bool((values % 1 == 0).all()) and values.nunique() <= 10 else "interval"
    return "nominal"


def _disputes_one_question(df, gold, level, given, categories, span_mode, thresholds, include_agreed) -> pd.DataFrame:
    level = level or infer_level(df["label"])
    frame = df[["item_id", "annotator_id", "label"]].assign(item_id=df["item_id"].astype(str), annotator_id=df["annotator_id"].astype(str))
    if given is None:
        method = "median" if level in ("ordinal", "interval", "ratio") else "majority"
        given = make_consensus(frame, method=method, level=level if method == "median" else None)
    items = _item_table(frame, given, level, categories, span_mode)
    gold_labels = gold.reindex(items["item_id"]) if not gold.empty else pd.Series([None] * len(items), dtype=object)
    gold_labels = pd.Series(gold_labels.to_numpy(dtype=object), dtype=object)
    items["gold_label"] = gold_labels.where(present_mask(gold_labels), None).to_numpy(dtype=object)
    row_key, consensus_key, gold_key = label_codes(frame["label"], items["consensus_label"], items["gold_label"])
    items["gold_conflict"] = (gold_key >= 0) & (gold_key != consensus_key)
    item_position = pd.Index(items["item_id"]).get_indexer(frame["item_id"])
    frame = frame.assign(_key=row_key, _agrees=(consensus_key[item_position] >= 0) & (row_key == consensus_key[item_position]))
    disputed = (items["score"].fillna(0) > 0) | items["is_tie"] | items["gold_conflict"]
    if not include_agreed:
        items = items[disputed.to_numpy()].reset_index(drop=True)
    if items.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DISPUTE_COLUMNS if c != "rank"} | {"gold_conflict": pd.Series(dtype=bool)})
    reliability = _reliability(frame, thresholds.min_labels, thresholds.min_reliability_items)
    disputed_rows = frame[frame["item_id"].isin(items["item_id"])]
    items = _describe_labels(items, disputed_rows)
    systematic = _systematic_pairs(frame, level, categories)
    return _assign_actions(items, disputed_rows, reliability, systematic, thresholds)


def label_codes(*labels: pd.Series) -> list[np.ndarray]:
    """Codes of several label columns in one shared code space: equal codes for the same label
    (numbers by value, so 3 == 3.0; span tuples in any order); -1 for a missing label. Each
    distinct label is normalized once."""
    arrays = [np.asarray(series, dtype=object) for series in labels]
    codes, distinct = pd.factorize(np.concatenate(arrays), use_na_sentinel=True)
    keys = pd.Series([_normal_key(v) for v in distinct], dtype=object)
    key_codes = pd.factorize(keys)[0] if len(keys) else np.empty(0, dtype=np.int64)
    present = np.asarray([is_present(v) for v in distinct], dtype=bool)
    key_codes = np.where(present, key_codes, -1)
    unified = np.where(codes >= 0, key_codes[np.maximum(codes, 0)] if len(key_codes) else -1, -1)
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    return [unified[bounds[i] : bounds[i + 1]] for i in range(len(arrays))]


def _normal_key(value: Any) -> Any:
    if isinstance(value, tuple):
        return ("spans", tuple(sorted(map(tuple, value))))
    return value_key(value)


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


def _reliability(frame: pd.DataFrame, min_labels: int, min_items: int) -> pd.Series:
    """Per annotator: the share of their labels equal to the item's consensus, over items with at
    least ``min_labels`` labels (NaN with fewer than ``min_items`` such items)."""
    sizes = frame.groupby("item_id", sort=False)["annotator_id"].transform("size")
    rows = frame[(sizes >= min_labels).to_numpy()]
    if rows.empty:
        return pd.Series(dtype=float)
    agreed = rows["_agrees"].astype(float).groupby(rows["annotator_id"].to_numpy())
    return agreed.mean().where(agreed.size() >= min_items)


def _systematic_pairs(frame: pd.DataFrame, level: str, categories) -> list[tuple[Any, Any]]:
    """The systematic confusion pairs of the question, most confused first."""
    if level not in ("nominal",) or frame["item_id"].nunique() == 0:
        return []
    pairs = confusion_pairs(frame[["item_id", "annotator_id", "label"]], categories=categories)
    pairs = pairs[pairs["systematic"].astype(bool)]
    return list(zip(pairs["label_a"], pairs["label_b"], strict=True))


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


def _join_groups(groups: np.ndarray, pieces: np.ndarray, separator: str) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate ``pieces`` (sorted by ``groups``) per group with ``separator``: returns the
    group keys and the joined texts. Vectorized with ``np.add.reduceat`` on object arrays."""
    if len(groups) == 0:
        return groups, np.empty(0, dtype=object)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    joined = np.add.reduceat(np.asarray(pieces, dtype=object) + separator, starts)
    trimmed = pd.Series(joined, dtype=object).str.slice(0, -len(separator)) if separator else pd.Series(joined, dtype=object)
    return groups[starts], trimmed.to_numpy(dtype=object)


def _text_per_item(items: pd.DataFrame, groups: np.ndarray, pieces: np.ndarray, separator: str, empty: Any = None) -> np.ndarray:
    keys, texts = _join_groups(groups, pieces, separator)
    return pd.Series(texts, index=keys, dtype=object).reindex(items["item_id"]).where(lambda x: x.notna(), empty).to_numpy(dtype=object)


def _describe_labels(items: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    text = rows.assign(text=_format_labels(rows["label"]).to_numpy(dtype=object))
    text = text.sort_values(["item_id", "annotator_id"], kind="stable")
    pairs = text["annotator_id"].to_numpy(dtype=object) + ": " + text["text"].to_numpy(dtype=object)
    counts = text.groupby(["item_id", "text"], sort=True).size().rename("n").reset_index()
    counts = counts.sort_values(["item_id", "n", "text"], ascending=[True, False, True], kind="stable")
    summary = counts["text"].to_numpy(dtype=object) + " x" + counts["n"].astype(str).to_numpy(dtype=object)
    items = items.copy()
    items["labels_by_annotator"] = _text_per_item(items, text["item_id"].to_numpy(dtype=object), pairs, " | ")
    items["label_counts"] = _text_per_item(items, counts["item_id"].to_numpy(dtype=object), summary, ", ")
    return items


def _format_labels(labels: pd.Series) -> pd.Series:
    """:func:`format_label` of every label, computed once per distinct label."""
    codes, distinct = pd.factorize(np.asarray(labels, dtype=object), use_na_sentinel=True)
    text = np.asarray([format_label(v) for v in distinct] + [format_label(None)], dtype=object)
    return pd.Series(text[codes], index=labels.index, dtype=object)


def _gap_pairs(items: pd.DataFrame, rows: pd.DataFrame, systematic: list[tuple[Any, Any]]) -> np.ndarray:
    """Per item: the first systematic pair both of whose labels it got, as text (None if none)."""
    gap = np.full(len(items), None, dtype=object)
    if not systematic:
        return gap
    position = pd.Index(items["item_id"]).get_indexer(rows["item_id"])
    pair_labels = pd.Series([x for pair in systematic for x in pair], dtype=object)
    row_codes, pair_codes = label_codes(rows["label"], pair_labels)
    n_codes = int(max(row_codes.max(initial=-1), pair_codes.max(initial=-1))) + 1
    seen = np.zeros((len(items), max(n_codes, 1)), dtype=bool)
    seen[position[row_codes >= 0], row_codes[row_codes >= 0]] = True
    for index, (a, b) in enumerate(systematic):  # one pass per systematic pair (a handful)
        code_a, code_b = pair_codes[2 * index], pair_codes[2 * index + 1]
        if code_a < 0 or code_b < 0:
            continue
        hit = seen[:, code_a] & seen[:, code_b] & pd.isna(gap)
        gap[hit] = " / ".join(sorted((format_label(a), format_label(b))))
    return gap


def _assign_actions(items, rows, reliability, systematic, thresholds) -> pd.DataFrame:
    items = items.reset_index(drop=True)
    position = pd.Index(items["item_id"]).get_indexer(rows["item_id"])
    dissent = ~rows["_agrees"].to_numpy(dtype=bool)
    score_of = reliability.reindex(rows["annotator_id"].to_numpy()).to_numpy(dtype=float)
    unreliable = dissent & (score_of < thresholds.reliable_agreement)
    n_dissent = np.bincount(position[dissent], minlength=len(items))
    n_unreliable = np.bincount(position[unreliable], minlength=len(items))
    confidence = items["consensus_confidence"].to_numpy(dtype=float)
    is_tie = items["is_tie"].to_numpy(dtype=bool)
    low = is_tie | ~(confidence >= thresholds.low_confidence)
    gap = _gap_pairs(items, rows, systematic)
    rules = {
        "gold_conflict": items["gold_conflict"].to_numpy(dtype=bool),
        "needs_more_labels": (items["n_labels"].to_numpy() < thresholds.min_labels) & low,
        "guideline_gap": pd.notna(gap),
        "check_annotator": (n_dissent > 0) & (n_unreliable == n_dissent) & ~is_tie,
        "adjudicate": low,
    }
    action = np.select(list(rules.values()), list(rules.keys()), default="accept_consensus").astype(object)
    who = _dissent_text(items, rows[dissent], score_of[dissent])
    items = items.assign(action=action, reason=_reasons(items, action, gap, who))
    return items[[c for c in DISPUTE_COLUMNS if c != "rank"] + ["gold_conflict"]]


def _dissent_text(items: pd.DataFrame, dissent: pd.DataFrame, scores: np.ndarray) -> pd.DataFrame:
    """Per item: the dissenting annotators, plain and with their reliability."""
    order = np.argsort(pd.Index(items["item_id"]).get_indexer(dissent["item_id"]), kind="stable")
    groups = dissent["item_id"].to_numpy(dtype=object)[order]
    names = dissent["annotator_id"].to_numpy(dtype=object)[order]
    shares = pd.Series(scores[order]).map(lambda v: f"{v:.0%}" if np.isfinite(v) else "an unknown share").to_numpy(dtype=object)
    with_scores = names + " (matches consensus on " + shares + " of items)"
    return pd.DataFrame(
        {
            "plain": _text_per_item(items, groups, names, ", ", empty="none"),
            "scored": _text_per_item(items, groups, with_scores, ", ", empty=""),
        }
    )


def _reasons(items: pd.DataFrame, action: np.ndarray, gap: np.ndarray, who: pd.DataFrame) -> np.ndarray:
    """The evidence in words, one sentence per item, built column-wise."""
    consensus_text = _format_labels(items["consensus_label"]).where(items["consensus_label"].notna(), "none (tie)")
    consensus_text = consensus_text.to_numpy(dtype=object)
    confidence = items["consensus_confidence"].map(lambda v: f"{v:.2f}").to_numpy(dtype=object)
    counts = items["label_counts"].to_numpy(dtype=object)
    tie = items["is_tie"].to_numpy(dtype=bool)
    gold_text = _format_labels(items["gold_label"]).to_numpy(dtype=object)
    n_labels = items["n_labels"].astype(str).to_numpy(dtype=object)
    split_low = np.where(tie, "a tie", "confidence " + confidence)
    split_adjudicate = np.where(tie, "a tie", "consensus " + consensus_text + " at confidence " + confidence)
    sentences = {
        "gold_conflict": "consensus " + consensus_text + " (confidence " + confidence + ") differs from gold " + gold_text,
        "needs_more_labels": "only " + n_labels + " label(s) (" + counts + "), " + split_low,
        "guideline_gap": "labels " + gap.astype(str) + " are a systematic confusion pair across annotators; here: " + counts,
        "check_annotator": "consensus " + consensus_text + " holds; the dissent comes only from low-agreement annotators: "
        + who["scored"].to_numpy(dtype=object),
        "adjudicate": "annotators disagree (" + counts + "): " + split_adjudicate,
        "accept_consensus": "consensus " + consensus_text + " is clear (confidence " + confidence + "); dissent: "
        + who["plain"].to_numpy(dtype=object),
    }
    reason = np.empty(len(items), dtype=object)
    for name, sentence in sentences.items():  # six actions, each a vectorized column
        chosen = action == name
        reason[chosen] = np.asarray(sentence, dtype=object)[chosen]
    return reason


def _ranked(out: pd.DataFrame) -> pd.DataFrame:
    priority = pd.Index(ACTION_PRIORITY).get_indexer(out["action"])
    order = out.assign(_priority=priority, _score=out["score"].fillna(-1.0)).sort_values(
        ["_priority", "_score", "consensus_confidence"], ascending=[True, False, True], kind="stable"
    )
    order = order.drop(columns=["_priority", "_score", "gold_conflict"]).reset_index(drop=True)
    order.insert(0, "rank", np.arange(1, len(order) + 1))
    return order

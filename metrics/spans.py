"""Span agreement between annotators, the way NER agreement is reported: pairwise precision,
recall and F1 per label, with exact or overlap matching.

Labels are tuples of spans ``(start, end, label)`` (``qa.schema.Span`` or plain 3-tuples,
``[start, end)`` in characters); an empty tuple is a real answer ("no spans"). For a pair of
annotators (a, b) on the items both labelled, a is the reference and b the prediction:
``tp`` = matched spans, ``fp`` = b's unmatched spans, ``fn`` = a's unmatched spans;
``precision = tp / (tp + fp)``, ``recall = tp / (tp + fn)``, ``F1 = 2 tp / (2 tp + fp + fn)``.
F1 is symmetric in a and b; swapping them swaps precision and recall (Hripcsak & Rothschild 2005:
with no chance-corrected alternative for spans, pairwise F1 is the agreement measure of record).

Matching:

- ``exact``: same start, end and label.
- ``overlap``: same label and intersecting character ranges. Matching is one-to-one, greedy by
  the largest overlap (ties by position), so a long span against two short ones inside it
  counts one match and one unmatched span.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from metrics.errors import MetricInputError
from metrics.result import AgreementResult, undefined_result

MODES = ("exact", "overlap")
SPAN_AGREEMENT_COLUMNS = (
    "annotator_a",
    "annotator_b",
    "label",
    "tp",
    "fp",
    "fn",
    "precision",
    "recall",
    "f1",
    "n_items",
)


def span_agreement(df: pd.DataFrame, mode: str = "exact") -> pd.DataFrame:
    """Pairwise span precision, recall and F1 per label between annotators.

    Parameters
    ----------
    df : long table ``item_id``, ``annotator_id``, ``label`` of one span question; ``label`` is
        a tuple of ``(start, end, label)`` spans (missing labels are dropped).
    mode : ``"exact"`` or ``"overlap"`` (see the module docstring).

    Returns
    -------
    DataFrame
        One row per annotator pair (``annotator_a`` < ``annotator_b``) x span label with
        ``tp``, ``fp``, ``fn``, ``precision``, ``recall``, ``f1`` and ``n_items`` (items both
        labelled). Precision (recall) is NaN when b (a) marked no span of that label on the
        shared items. Labels neither marked on the shared items have no row.

    References
    ----------
    Hripcsak, G. & Rothschild, A. S. (2005). Agreement, the F-measure, and reliability in
    information retrieval. JAMIA 12(3), 296-298.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": ["t1", "t1"], "annotator_id": ["ann", "bob"],
    ...                    "label": [((0, 5, "ORG"), (10, 14, "PER")), ((0, 5, "ORG"), (9, 14, "PER"))]})
    >>> span_agreement(df, mode="exact")[["label", "tp", "fp", "fn", "f1"]]
      label  tp  fp  fn   f1
    0   ORG   1   0   0  1.0
    1   PER   0   1   1  0.0
    >>> span_agreement(df, mode="overlap")["f1"].tolist()
    [1.0, 1.0]
    """
    counts = _pair_label_counts(df, mode)
    shared = _pairs(_units(df)).groupby(["annotator_a", "annotator_b"], sort=False).size().rename("n_items")
    table = counts.groupby(["annotator_a", "annotator_b", "label"], sort=True)[["tp", "n_a", "n_b"]].sum().reset_index()
    table = table.join(shared, on=["annotator_a", "annotator_b"])
    table = _scores(table)
    return table[list(SPAN_AGREEMENT_COLUMNS)].reset_index(drop=True)


def span_f1(df: pd.DataFrame, mode: str = "exact") -> AgreementResult:
    """Micro-averaged pairwise span F1 over every annotator pair, item and label.

    ``F1 = 2 sum(tp) / (sum(n_a) + sum(n_b))`` summed over all pairs and labels, so pairs that
    share more items weigh more. NaN (status ``insufficient_data``) when no item was labelled by
    two annotators, or no span was marked on such items. ``details["per_label"]`` holds the
    micro F1 of each label.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": ["t1", "t1"], "annotator_id": ["ann", "bob"],
    ...                    "label": [((0, 5, "ORG"), (10, 14, "PER")), ((0, 5, "ORG"), (9, 14, "PER"))]})
    >>> round(span_f1(df, mode="exact").value, 3)
    0.5
    """
    coefficient = f"span_f1_{mode}"
    units = _units(df)
    pairs = _pairs(units)
    if pairs.empty:
        return undefined_result(coefficient, "no item was labelled by two annotators", status="insufficient_data", level="spans")
    counts = _pair_label_counts(df, mode)
    marked = float(counts["n_a"].sum() + counts["n_b"].sum())
    n_items = int(pairs["item_id"].nunique())
    pairable = units[units["item_id"].isin(pairs["item_id"])]
    sizes = {"n_items": n_items, "n_annotations": len(pairable), "n_annotators": int(pairable["annotator_id"].nunique())}
    if marked == 0:
        return undefined_result(coefficient, "no span was marked on items labelled by two annotators", status="insufficient_data", level="spans", **sizes)
    per_label = counts.groupby("label")[["tp", "n_a", "n_b"]].sum()
    label_f1 = (2 * per_label["tp"] / (per_label["n_a"] + per_label["n_b"])).to_dict()
    value = 2 * float(counts["tp"].sum()) / marked
    return AgreementResult(coefficient=coefficient, value=value, level="spans", details={"per_label": label_f1}, **sizes)


def item_span_disagreement(df: pd.DataFrame, mode: str = "overlap") -> pd.DataFrame:
    """Per item: how much its annotators' spans disagree, for the disputed-items list.

    ``disagreement = 1 - mean over annotator pairs of the pair's F1 on the item`` (all labels
    together); a pair where neither marked a span agrees fully (F1 = 1). NaN for an item with a
    single annotator.

    Returns
    -------
    DataFrame
        ``item_id``, ``n_annotators``, ``n_pairs``, ``mean_f1``, ``disagreement``.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": ["t1", "t1", "t2"], "annotator_id": ["ann", "bob", "ann"],
    ...                    "label": [((0, 5, "ORG"),), ((0, 5, "PER"),), ()]})
    >>> item_span_disagreement(df, mode="exact")[["item_id", "n_annotators", "disagreement"]]
      item_id  n_annotators  disagreement
    0      t1             2           1.0
    1      t2             1           NaN
    """
    units = _units(df)
    n_annotators = units.groupby("item_id", sort=True).size().rename("n_annotators")
    counts = _pair_label_counts(df, mode)
    per_pair = counts.groupby(["item_id", "annotator_a", "annotator_b"], sort=False)[["tp", "n_a", "n_b"]].sum()
    pairs = _pairs(units).set_index(["item_id", "annotator_a", "annotator_b"])
    per_pair = per_pair.reindex(pairs.index, fill_value=0)
    marked = (per_pair["n_a"] + per_pair["n_b"]).to_numpy(dtype=float)
    pair_f1 = np.divide(2 * per_pair["tp"].to_numpy(dtype=float), marked, out=np.ones_like(marked), where=marked > 0)
    by_item = pd.Series(pair_f1, index=per_pair.index.get_level_values("item_id")).groupby(level=0)
    out = pd.DataFrame({"n_annotators": n_annotators})
    out["n_pairs"] = by_item.size().reindex(out.index).fillna(0).astype(np.int64)
    out["mean_f1"] = by_item.mean().reindex(out.index)
    out["disagreement"] = 1.0 - out["mean_f1"]
    return out.rename_axis("item_id").reset_index()


# ---------------------------------------------------------------------------------------------
# The reductions
# ---------------------------------------------------------------------------------------------


def _units(df: pd.DataFrame) -> pd.DataFrame:
    """The (item, annotator) pairs with a present span answer, labels validated."""
    missing = [c for c in ("item_id", "annotator_id", "label") if c not in df.columns]
    if missing:
        raise MetricInputError(f"the span table has no column {missing}; expected item_id, annotator_id, label")
    present = df["label"].map(lambda v: isinstance(v, (tuple, list)))
    absent = df["label"].map(lambda v: v is None or (isinstance(v, float) and math.isnan(v)))
    bad = ~(present | absent)
    if bad.any():
        example = df.loc[bad, "label"].iloc[0]
        raise MetricInputError(f"span labels must be tuples of (start, end, label) spans; got {example!r}")
    units = pd.DataFrame(
        {
            "item_id": df.loc[present, "item_id"].astype(str).to_numpy(dtype=object),
            "annotator_id": df.loc[present, "annotator_id"].astype(str).to_numpy(dtype=object),
            "label": df.loc[present, "label"].to_numpy(dtype=object),
        }
    )
    if units.duplicated(["item_id", "annotator_id"]).any():
        raise MetricInputError("one span answer per (item, annotator) is expected; found duplicates")
    return units


def _spans(units: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct span: ``item_id``, ``annotator_id``, ``start``, ``end``, ``label``, ``span_id``."""
    exploded = units.explode("label").dropna(subset=["label"])
    if exploded.empty:
        return pd.DataFrame(
            {
                "item_id": pd.Series(dtype=object),
                "annotator_id": pd.Series(dtype=object),
                "start": pd.Series(dtype=np.int64),
                "end": pd.Series(dtype=np.int64),
                "label": pd.Series(dtype=object),
                "span_id": pd.Series(dtype=np.int64),
            }
        )
    parts = exploded["label"].tolist()
    if any(not isinstance(p, (tuple, list)) or len(p) != 3 for p in parts):
        raise MetricInputError("each span must be a (start, end, label) triple")
    start, end, label = zip(*parts, strict=True)
    spans = pd.DataFrame(
        {
            "item_id": exploded["item_id"].to_numpy(),
            "annotator_id": exploded["annotator_id"].to_numpy(),
            "start": np.asarray(start, dtype=np.int64),
            "end": np.asarray(end, dtype=np.int64),
            "label": np.asarray([str(x) for x in label], dtype=object),
        }
    ).drop_duplicates(ignore_index=True)
    spans["span_id"] = np.arange(len(spans))
    return spans


def _pairs(units: pd.DataFrame) -> pd.DataFrame:
    """Every (item, annotator_a < annotator_b) pair of annotators who both answered the item."""
    left = units[["item_id", "annotator_id"]]
    joined = left.merge(left, on="item_id", suffixes=("_a", "_b"))
    joined = joined[joined["annotator_id_a"] < joined["annotator_id_b"]]
    return joined.rename(columns={"annotator_id_a": "annotator_a", "annotator_id_b": "annotator_b"}).reset_index(drop=True)


def _pair_label_counts(df: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Per item x annotator pair x span label: ``n_a``, ``n_b`` (spans marked) and ``tp``."""
    if mode not in MODES:
        raise MetricInputError(f"mode {mode!r} is not one of {MODES}")
    units = _units(df)
    spans = _spans(units)
    pairs = _pairs(units)
    keys = ["item_id", "annotator_a", "annotator_b", "label"]
    per_annotator = spans.groupby(["item_id", "annotator_id", "label"], sort=False).size().rename("n").reset_index()
    side_a = pairs.merge(per_annotator.rename(columns={"annotator_id": "annotator_a", "n": "n_a"}), on=["item_id", "annotator_a"])
    side_b = pairs.merge(per_annotator.rename(columns={"annotator_id": "annotator_b", "n": "n_b"}), on=["item_id", "annotator_b"])
    counts = side_a.merge(side_b, on=keys, how="outer")
    matched = _matches(spans, mode)
    tp = matched.groupby(keys, sort=False).size().rename("tp")
    counts = counts.join(tp, on=keys)
    for column in ("n_a", "n_b", "tp"):
        counts[column] = counts[column].fillna(0).astype(np.int64)
    return counts


def _matches(spans: pd.DataFrame, mode: str) -> pd.DataFrame:
    """One row per matched span pair (item, annotator_a, annotator_b, label)."""
    on = ["item_id", "label"] if mode == "overlap" else ["item_id", "start", "end", "label"]
    candidates = spans.merge(spans, on=on, suffixes=("_a", "_b"))
    candidates = candidates[candidates["annotator_id_a"] < candidates["annotator_id_b"]]
    candidates = candidates.rename(columns={"annotator_id_a": "annotator_a", "annotator_id_b": "annotator_b"})
    if mode == "exact":
        return candidates
    overlap = np.minimum(candidates["end_a"], candidates["end_b"]) - np.maximum(candidates["start_a"], candidates["start_b"])
    candidates = candidates.assign(overlap=overlap)[overlap > 0]
    candidates = candidates.sort_values(["overlap", "start_a", "start_b"], ascending=[False, True, True], kind="stable")
    return _greedy_one_to_one(candidates)


def _greedy_one_to_one(candidates: pd.DataFrame) -> pd.DataFrame:
    """Accept the best candidate of each span on both sides, drop candidates touching accepted
    spans, and repeat until none is left (a few rounds; each round is vectorized)."""
    accepted = []
    pair_keys = ["annotator_a", "annotator_b"]
    while not candidates.empty:
        best = candidates.drop_duplicates(pair_keys + ["span_id_a"]).drop_duplicates(pair_keys + ["span_id_b"])
        accepted.append(best)
        used_a = pd.MultiIndex.from_frame(best[pair_keys + ["span_id_a"]])
        used_b = pd.MultiIndex.from_frame(best[pair_keys + ["span_id_b"]])
        keep = ~pd.MultiIndex.from_frame(candidates[pair_keys + ["span_id_a"]]).isin(used_a)
        keep &= ~pd.MultiIndex.from_frame(candidates[pair_keys + ["span_id_b"]]).isin(used_b)
        candidates = candidates[keep]
    if not accepted:
        return candidates
    return pd.concat(accepted, ignore_index=True)


def _scores(table: pd.DataFrame) -> pd.DataFrame:
    tp = table["tp"].to_numpy(dtype=float)
    n_a = table["n_a"].to_numpy(dtype=float)
    n_b = table["n_b"].to_numpy(dtype=float)
    table = table.assign(fp=(n_b - tp).astype(np.int64), fn=(n_a - tp).astype(np.int64))
    table["precision"] = np.divide(tp, n_b, out=np.full_like(tp, np.nan), where=n_b > 0)
    table["recall"] = np.divide(tp, n_a, out=np.full_like(tp, np.nan), where=n_a > 0)
    table["f1"] = np.divide(2 * tp, n_a + n_b, out=np.full_like(tp, np.nan), where=(n_a + n_b) > 0)
    table["n_items"] = table["n_items"].astype(np.int64)
    return table

"""Which pairs of categories annotators confuse, across all annotators: the guideline-gap signal.

Two annotators who give different labels ``c`` and ``k`` to the same item have confused the
pair. Counting those pairs with Krippendorff's coincidences,
:math:`o_{ck} = \\sum_u n_{uc} n_{uk} / (m_u - 1)`, and comparing them with what chance gives for
the same label frequencies, :math:`e_{ck} = n_c n_k / (n - 1)`, separates a pair that is confused
because the guideline does not separate it from a pair that is only confused because both labels
are common.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from metrics.consensus import label_kind, python_values, split_questions
from metrics.errors import MetricInputError
from metrics.ratings import prepare_ratings

SYSTEMATIC_LIFT = 1.5
"""A pair is *systematic* when it draws at least 1.5 times the share of all disagreement that
chance would give it: random slips spread over the pairs in proportion to the labels' use and
keep every lift near 1 (0.9-1.1 on generated crowds of 800 items), while a pair the guideline
leaves unclear (30% of one class given as the other) reaches about 2."""
SYSTEMATIC_MIN_ITEMS = 5
"""... and when it was seen on at least this many items (below that, a lift is anecdote)."""
EXAMPLES_PER_PAIR = 5

CONFUSION_COLUMNS = (
    "label_a",
    "label_b",
    "n_items",
    "n_disagreeing_pairs",
    "coincidence",
    "expected",
    "observed_over_expected",
    "share_of_disagreement",
    "lift",
    "systematic",
    "example_item_ids",
)


def confusion_pairs(
    df: pd.DataFrame,
    *,
    categories: Sequence[Any] | None = None,
    n_examples: int = EXAMPLES_PER_PAIR,
    min_lift: float = SYSTEMATIC_LIFT,
    min_items: int = SYSTEMATIC_MIN_ITEMS,
) -> pd.DataFrame:
    r"""Pairs of categories that annotators give to the same item, most confused first.

    Parameters
    ----------
    df : long table ``item_id``, ``annotator_id``, ``label`` (category or number labels; a
        ``question`` column gives one block of rows per question).
    categories : the declared categories (optional).
    n_examples : how many example items to list per pair (those with the most such pairs).
    min_lift, min_items : when a pair counts as ``systematic`` (see ``SYSTEMATIC_LIFT``).

    Returns
    -------
    DataFrame
        One row per unordered pair of labels seen together on at least one item, sorted by
        ``coincidence`` (descending): ``label_a``, ``label_b`` (in value order), ``n_items``
        (items that got both), ``n_disagreeing_pairs`` (annotator pairs on the same item who
        gave one each, :math:`\sum_u n_{ua} n_{ub}`), ``coincidence`` (:math:`o_{ab}`),
        ``expected`` (:math:`e_{ab} = n_a n_b / (n-1)`), ``observed_over_expected``
        (:math:`o_{ab} / e_{ab}`; 1 is chance level, NaN when ``e`` is 0),
        ``share_of_disagreement`` (:math:`o_{ab} / \sum_{c<k} o_{ck}`), ``lift`` (that share over
        its chance share :math:`e_{ab} / \sum_{c<k} e_{ck}`), ``systematic`` (bool) and
        ``example_item_ids`` (tuple). With two categories every disagreement is the same pair, so
        its lift is 1 and it is never systematic.

    References
    ----------
    Krippendorff, K. (2019). Content Analysis, 4th ed., ch. 12 (coincidence matrices).

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": list("aabbccdd"), "annotator_id": list("xyxyxyxy"),
    ...                    "label": ["bill", "refund", "bill", "refund", "bill", "bill", "spam", "spam"]})
    >>> confusion_pairs(df)[["label_a", "label_b", "n_items", "example_item_ids"]]
      label_a label_b  n_items example_item_ids
    0    bill  refund        2           (a, b)
    """
    missing = [c for c in ("item_id", "annotator_id", "label") if c not in df.columns]
    if missing:
        raise MetricInputError(f"the annotations table has no column {missing}; expected item_id, annotator_id, label")
    parts = []
    for question, rows in split_questions(df):
        part = _confusion_one_question(rows, categories, n_examples, min_lift, min_items)
        if question is not None:
            part.insert(0, "question", question)
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else _empty()


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CONFUSION_COLUMNS})


def _confusion_one_question(df, categories, n_examples, min_lift, min_items) -> pd.DataFrame:
    kind = label_kind(df["label"])
    if kind in ("multilabel", "spans"):
        raise MetricInputError(
            f"confusion_pairs needs one category per annotation; got {kind} labels "
            "(for spans use metrics.span_agreement per label)"
        )
    ratings = prepare_ratings(df[["item_id", "annotator_id", "label"]], categories=categories).pairable()
    if ratings.n_items == 0 or ratings.n_values < 2:
        return _empty()
    counts = ratings.count_matrix().astype(float)
    per_item = ratings.ratings_per_item().astype(float)
    coincidence = (counts.T @ sp.diags(1.0 / (per_item - 1.0)) @ counts).toarray()
    pair_counts = (counts.T @ counts).toarray()
    both = (counts > 0).astype(float)
    items_with_both = (both.T @ both).toarray()
    marginals = coincidence.sum(axis=1)
    n = marginals.sum()
    expected = np.outer(marginals, marginals) / (n - 1.0)
    label_a, label_b = np.triu_indices(ratings.n_values, k=1)
    seen = items_with_both[label_a, label_b] > 0
    label_a, label_b = label_a[seen], label_b[seen]
    observed = coincidence[label_a, label_b]
    chance = expected[label_a, label_b]
    share = observed / observed.sum() if observed.sum() > 0 else np.full(len(observed), np.nan)
    chance_share = chance / expected[np.triu_indices(ratings.n_values, k=1)].sum()
    lift = np.divide(share, chance_share, out=np.full(len(share), np.nan), where=chance_share > 0)
    table = pd.DataFrame(
        {
            "label_a": pd.Series(python_values(ratings.values[label_a]), dtype=object),
            "label_b": pd.Series(python_values(ratings.values[label_b]), dtype=object),
            "n_items": items_with_both[label_a, label_b].astype(np.int64),
            "n_disagreeing_pairs": pair_counts[label_a, label_b].astype(np.int64),
            "coincidence": observed,
            "expected": chance,
            "observed_over_expected": np.divide(observed, chance, out=np.full(len(observed), np.nan), where=chance > 0),
            "share_of_disagreement": share,
            "lift": lift,
        }
    )
    table["systematic"] = (table["lift"] >= min_lift) & (table["n_items"] >= min_items)
    table["example_item_ids"] = _examples(counts.tocsc(), label_a, label_b, ratings.items, n_examples)
    table = table.sort_values(["coincidence", "n_items"], ascending=False, kind="stable")
    return table[list(CONFUSION_COLUMNS)].reset_index(drop=True)


def _examples(counts: sp.csc_matrix, label_a, label_b, items: pd.Index, n_examples: int) -> pd.Series:
    """Per pair, the items with the most annotator pairs giving one label each (ties: item order)."""
    item_ids = np.asarray(items.astype(str), dtype=object)
    examples = []
    for a, b in zip(label_a, label_b, strict=True):  # one iteration per label pair, not per item
        product = counts[:, a].multiply(counts[:, b]).tocoo()
        order = np.lexsort((product.row, -product.data))[:n_examples]
        examples.append(tuple(item_ids[product.row[order]]))
    return pd.Series(examples, dtype=object)

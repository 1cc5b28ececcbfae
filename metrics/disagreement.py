"""Per-item disagreement: which items the annotators disagree on, and how.

The basis of the disputed-items ranking: each item's share of Krippendorff's observed
disagreement ``D_o``, beside simpler readings (label entropy, majority share).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metrics.alpha import difference_metric, pair_disagreement
from metrics.ratings import prepare_ratings

ITEM_DISAGREEMENT_COLUMNS = (
    "item_id",
    "n_ratings",
    "observed_disagreement",
    "label_entropy",
    "majority_label",
    "majority_share",
    "n_distinct_labels",
)


def item_disagreement(
    df: pd.DataFrame,
    level: str = "nominal",
    categories: Sequence[Any] | None = None,
    *,
    distance: str | Callable[[Any, Any], float] | None = None,
) -> pd.DataFrame:
    r"""One row per item: its share of alpha's observed disagreement and its label spread.

    ``observed_disagreement`` of item ``u`` is
    :math:`\frac{1}{n} \frac{\sum_{c \ne k} n_{uc} n_{uk} \delta^2_{ck}}{m_u - 1}`, so the shares of
    the pairable items sum to ``D_o`` of :func:`metrics.krippendorff_alpha` at the same level
    (for ordinal, ``delta`` uses the ranks of all pairable ratings). NaN for an item with a
    single rating (it cannot disagree with anyone and is not part of ``D_o``).

    Columns: ``item_id``, ``n_ratings``, ``observed_disagreement``, ``label_entropy`` (Shannon
    entropy of the item's labels, bits), ``majority_label`` (most frequent label; on a tie the
    first in value order), ``majority_share`` (its share of the item's ratings),
    ``n_distinct_labels``. Rows follow the order items first appear in ``df``; items whose labels
    are all missing are left out.

    References
    ----------
    Krippendorff, K. (2019). Content Analysis, 4th ed., ch. 12 (coincidences and ``D_o``).

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": list("aabb"), "annotator_id": list("xyxy"),
    ...                    "label": ["p", "p", "p", "q"]})
    >>> item_disagreement(df)[["item_id", "observed_disagreement", "label_entropy"]].values.tolist()
    [['a', 0.0, 0.0], ['b', 0.5, 1.0]]
    """
    ratings = prepare_ratings(df, categories=categories, level=level)
    if ratings.n_items == 0:
        return pd.DataFrame(columns=list(ITEM_DISAGREEMENT_COLUMNS))
    counts = ratings.count_matrix()
    counts.sort_indices()
    per_item = ratings.ratings_per_item()
    pairable = per_item >= 2
    marginals = np.asarray(counts[pairable].sum(axis=0)).ravel()
    metric = difference_metric(level, distance, ratings.values, marginals)
    n_pairable = float(marginals.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = pair_disagreement(counts, metric.pair) / (per_item - 1.0) / n_pairable
    shares = np.where(pairable, shares, np.nan)
    majority = np.asarray(counts.argmax(axis=1)).ravel()
    majority_count = np.asarray(counts.max(axis=1).toarray()).ravel()
    return pd.DataFrame(
        {
            "item_id": ratings.items.to_numpy(),
            "n_ratings": per_item,
            "observed_disagreement": shares,
            "label_entropy": _entropy_bits(counts, per_item),
            "majority_label": ratings.values[majority]
            if len(majority)
            else np.empty(0, dtype=object),
            "majority_share": majority_count / np.maximum(per_item, 1),
            "n_distinct_labels": np.diff(counts.indptr),
        },
        columns=list(ITEM_DISAGREEMENT_COLUMNS),
    )


def _entropy_bits(counts, per_item: np.ndarray) -> np.ndarray:
    """Shannon entropy (base 2) of each row of a CSR count matrix."""
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    share = counts.data / per_item[rows]
    return np.bincount(rows, weights=-share * np.log2(share), minlength=counts.shape[0]) + 0.0

"""Consensus labels: majority vote with explicit ties, the median for ratings, and Dawid-Skene.

:func:`consensus` returns one row per item (x question when the table has a ``question``
column): ``item_id``, ``label``, ``confidence``, ``method``, ``is_tie``, ``tied_labels``,
``n_labels``, ``is_gold``. :class:`DawidSkene` is the EM model behind ``method="dawid_skene"``.

Tie rules (ties are reported, never broken at random):

- ``majority`` on category labels: when two or more labels share the top count, ``label`` is
  ``None``, ``is_tie`` is True and ``tied_labels`` lists them (in value order). ``confidence`` is
  still the top share (e.g. 0.5 for a 1-1 split).
- ``majority`` on multi-label (frozenset) and span (tuple) labels is element-wise: a category
  (or an exact span ``(start, end, label)``) is in the consensus when more than half of the
  item's annotators chose it. An element chosen by exactly half is left out and listed in
  ``tied_labels`` (``is_tie`` True); the rest of the consensus stands.
- ``median`` on numeric labels: the median; at the ordinal level the *lower* middle value when
  the two middle values differ (a value someone actually gave), with ``is_tie`` True and both
  middle values in ``tied_labels``.
- ``dawid_skene``: the label with the highest posterior; an exact posterior tie gives ``None``
  with ``is_tie`` True, as for majority.

Gold labels, when given, replace the consensus on their items (``is_gold`` True, confidence
1.0); for Dawid-Skene they are also held fixed during estimation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from metrics.errors import MetricInputError
from metrics.ratings import is_missing_label, prepare_ratings

METHODS = ("majority", "median", "dawid_skene")
CONSENSUS_COLUMNS = (
    "item_id",
    "label",
    "confidence",
    "method",
    "is_tie",
    "tied_labels",
    "n_labels",
    "is_gold",
)

DS_SMOOTHING = 0.5
"""Pseudo-count added to every confusion-matrix cell and every class prior in the M-step (a MAP
estimate under a Dirichlet prior, Raykar et al. 2010, sec. 2.4; 0.5 is the Jeffreys-Perks
add-half rule). It keeps the log-probability of a label an annotator never used finite and
shrinks the confusion rows of annotators with few labels towards uniform. On the generated crowds
of bench/bench_consensus.py it matches crowd-kit's unsmoothed EM on dense crowds and beats it
on sparse ones (about 200 labels per annotator); 0.01 was slightly worse there."""
DS_MAX_ITER = 100
DS_TOL = 1e-7
"""Convergence: the relative change of the log-likelihood between two EM rounds."""


# ---------------------------------------------------------------------------------------------
# Label kinds
# ---------------------------------------------------------------------------------------------


def label_kind(labels: pd.Series) -> str:
    """The kind of a label column: ``spans`` (tuples), ``multilabel`` (frozensets), ``numeric``
    or ``categorical``, read from its first present label.

    >>> label_kind(pd.Series(["a", None, "b"]))
    'categorical'
    >>> label_kind(pd.Series([frozenset({"x"}), frozenset()]))
    'multilabel'
    """
    for value in labels:
        if isinstance(value, tuple):
            return "spans"
        if isinstance(value, (frozenset, set)):
            if value:
                return "multilabel"
            continue
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, (bool, np.bool_)):
            return "categorical"
        if isinstance(value, (int, float, np.integer, np.floating)):
            return "numeric"
        return "categorical"
    return "categorical"


def is_present(value: Any) -> bool:
    """False for a missing label (None, NaN, blank text, empty set). An empty tuple of spans is a
    real answer ("no spans") and is present."""
    return not is_missing_label(value)


def present_mask(labels: pd.Series) -> np.ndarray:
    """:func:`is_present` of every label, vectorized: the test runs once per distinct label
    (``pd.factorize`` hashes the rest), so a million rows cost a hash pass, not a million calls.

    >>> present_mask(pd.Series(["a", None, " ", frozenset(), (), 2.0])).tolist()
    [True, False, False, False, True, True]
    """
    codes, uniques = pd.factorize(np.asarray(labels, dtype=object), use_na_sentinel=True)
    if len(uniques) == 0:
        return np.zeros(len(codes), dtype=bool)
    unique_present = np.fromiter((is_present(v) for v in uniques), dtype=bool, count=len(uniques))
    return (codes >= 0) & unique_present[np.maximum(codes, 0)]


def _require_columns(df: pd.DataFrame, columns: Sequence[str] = ("item_id", "annotator_id", "label")) -> None:
    if not isinstance(df, pd.DataFrame):
        raise MetricInputError(f"expected a pandas DataFrame with columns {list(columns)}, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MetricInputError(
            f"the annotations table has no column {missing}; expected a long table with columns "
            f"{list(columns)}; it has {list(df.columns)}"
        )


def split_questions(df: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """``[(question, rows)]``: one entry per question when a ``question`` column is present,
    else ``[(None, df)]``."""
    if "question" not in df.columns:
        return [(None, df)]
    questions = pd.unique(df["question"].astype(object))
    return [(str(q), df[df["question"].astype(object) == q]) for q in questions]


def gold_for(gold: pd.DataFrame | pd.Series | dict | None, question: str | None) -> pd.Series:
    """Gold labels as a Series indexed by ``item_id`` (str), for one question.

    Accepts a DataFrame with ``item_id``, ``label`` (and optionally ``question``), a Series
    indexed by item, or a dict item -> label. Missing gold labels are dropped.
    """
    if gold is None:
        return pd.Series(dtype=object)
    if isinstance(gold, dict):
        gold = pd.Series(gold, dtype=object)
    if isinstance(gold, pd.Series):
        series = gold.astype(object)
        series.index = series.index.astype(str)
    else:
        _require_columns(gold, ("item_id", "label"))
        frame = gold
        if question is not None and "question" in frame.columns:
            frame = frame[frame["question"].astype(str) == question]
        series = pd.Series(frame["label"].astype(object).to_numpy(), index=frame["item_id"].astype(str).to_numpy())
    series = series[present_mask(series)]
    return series[~series.index.duplicated(keep="last")]


# ---------------------------------------------------------------------------------------------
# consensus()
# ---------------------------------------------------------------------------------------------


def consensus(
    df: pd.DataFrame,
    method: str = "majority",
    gold: pd.DataFrame | pd.Series | dict | None = None,
    *,
    level: str | None = None,
    smoothing: float = DS_SMOOTHING,
    max_iter: int = DS_MAX_ITER,
) -> pd.DataFrame:
    """One consensus label per item, with its confidence and explicit ties.

    Parameters
    ----------
    df : long table with ``item_id``, ``annotator_id``, ``label`` (and optionally ``question``:
        each question gets its own consensus and the output a ``question`` column).
    method : ``"majority"`` (default; element-wise for frozenset and span labels), ``"median"``
        (numeric ratings) or ``"dawid_skene"`` (:class:`DawidSkene`, category labels).
    gold : known answers (DataFrame ``item_id``, ``label`` [, ``question``], Series or dict);
        they replace the consensus on their items, and Dawid-Skene holds them fixed.
    level : for ``median``: ``"ordinal"`` takes the lower middle value on even splits, any other
        level the usual median. Default: ordinal when every rating is an integer.
    smoothing, max_iter : passed to :class:`DawidSkene`.

    Returns
    -------
    DataFrame
        One row per item: ``item_id``, ``label``, ``confidence`` (majority: the share of the
        item's annotators who gave the label, or for sets/spans the mean over the elements seen
        of the share agreeing with the element's decision; median: ``1 - mean |rating - median|
        / range of the scale``; Dawid-Skene: the posterior of the label), ``method``, ``is_tie``,
        ``tied_labels`` (tuple), ``n_labels``, ``is_gold``. The tie rules are in the module
        docstring. ``label`` is ``None`` only for a tie (or an item with no present label).

    References
    ----------
    Dawid & Skene (1979), Maximum likelihood estimation of observer error-rates using the EM
    algorithm, JRSS C 28(1).

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": ["a", "a", "a", "b", "b"],
    ...                    "annotator_id": ["x", "y", "z", "x", "y"],
    ...                    "label": ["pos", "pos", "neg", "pos", "neg"]})
    >>> consensus(df)[["item_id", "label", "confidence", "is_tie", "tied_labels"]]
      item_id label  confidence  is_tie tied_labels
    0       a   pos    0.666667   False          ()
    1       b  None    0.500000    True  (neg, pos)
    """
    _require_columns(df)
    if method not in METHODS:
        raise MetricInputError(f"method {method!r} is not one of {METHODS}")
    parts = []
    for question, rows in split_questions(df):
        part = _consensus_one_question(rows, method, gold_for(gold, question), level, smoothing, max_iter)
        if question is not None:
            part.insert(1, "question", question)
        parts.append(part)
    if not parts:
        return _empty_consensus()
    return pd.concat(parts, ignore_index=True)


def _consensus_one_question(
    df: pd.DataFrame, method: str, gold: pd.Series, level: str | None, smoothing: float, max_iter: int
) -> pd.DataFrame:
    present = df[present_mask(df["label"])]
    kind = label_kind(present["label"])
    if method == "dawid_skene":
        if kind == "spans":
            raise MetricInputError("Dawid-Skene needs category labels; span labels use method='majority'")
        result = _dawid_skene_consensus(present, gold, smoothing, max_iter)
    elif method == "median":
        if kind != "numeric":
            raise MetricInputError(f"method='median' needs numeric labels, got {kind} labels")
        result = _median_consensus(present, level)
    elif kind in ("multilabel", "spans"):
        result = _elementwise_majority(present, kind)
    else:
        result = _majority(present)
    return _apply_gold(result, gold)


def _empty_consensus() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CONSENSUS_COLUMNS})


def _frame(items, labels, confidence, method, is_tie, tied, n_labels) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.Index(items).astype(str).to_numpy(dtype=object),
            "label": pd.Series(list(labels), dtype=object),
            "confidence": np.asarray(confidence, dtype=float),
            "method": method,
            "is_tie": np.asarray(is_tie, dtype=bool),
            "tied_labels": pd.Series(list(tied), dtype=object),
            "n_labels": np.asarray(n_labels, dtype=np.int64),
            "is_gold": False,
        }
    )


def _majority(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return _empty_consensus()
    ratings = prepare_ratings(df[["item_id", "annotator_id", "label"]], level="nominal")
    counts = ratings.count_matrix()
    top = np.asarray(counts.max(axis=1).toarray()).ravel()
    n_labels = ratings.ratings_per_item()
    rows = np.repeat(np.arange(ratings.n_items), np.diff(counts.indptr))
    at_top = counts.data == top[rows]
    n_at_top = np.bincount(rows[at_top], minlength=ratings.n_items)
    winner = np.full(ratings.n_items, -1, dtype=np.int64)
    single = at_top & (n_at_top[rows] == 1)
    winner[rows[single]] = counts.indices[single]
    values = ratings.values
    labels = np.empty(ratings.n_items, dtype=object)
    labels[winner >= 0] = python_values(values[winner[winner >= 0]])
    tied = _tied_tuples(rows[at_top & ~single], counts.indices[at_top & ~single], values, ratings.n_items)
    return _frame(ratings.items, labels, top / n_labels, "majority", n_at_top > 1, tied, n_labels)


def python_values(values: np.ndarray) -> list:
    """numpy scalars as Python scalars (integral floats as int, so 3.0 prints as 3)."""
    out = []
    for v in values:
        if isinstance(v, (np.floating, float)) and float(v).is_integer():
            out.append(int(v))
        elif isinstance(v, np.generic):
            out.append(v.item())
        else:
            out.append(v)
    return out


def _tied_tuples(rows: np.ndarray, columns: np.ndarray, values: np.ndarray, n_rows: int) -> list[tuple]:
    """Per row, the tuple of tied values (empty when the row has no tie); rows/columns are sorted
    by row then column (CSR order), so each tuple is in value order."""
    tied: list[tuple] = [()] * n_rows
    if len(rows) == 0:
        return tied
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    ends = np.r_[starts[1:], len(rows)]
    decoded = python_values(values[columns])
    for start, end in zip(starts, ends, strict=True):  # one iteration per tied item only
        tied[rows[start]] = tuple(decoded[start:end])
    return tied


def _elementwise_majority(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Majority per element (category or exact span) over the item's annotators."""
    if df.empty:
        return _empty_consensus()
    item_ids = df["item_id"].astype(str).to_numpy()
    n_labels = pd.Series(item_ids).value_counts(sort=False)
    elements = pd.Series([tuple(v) for v in df["label"]], index=item_ids).explode().dropna()
    order = n_labels.index
    if elements.empty:
        empty_label = frozenset() if kind == "multilabel" else ()
        return _frame(order, [empty_label] * len(order), np.ones(len(order)), "majority", np.zeros(len(order), bool), [()] * len(order), n_labels.to_numpy())
    pairs = pd.DataFrame({"item_id": elements.index.to_numpy(), "element": elements.to_numpy()})
    counted = pairs.groupby(["item_id", "element"], sort=True).size().rename("n").reset_index()
    counted["share"] = counted["n"].to_numpy() / n_labels.reindex(counted["item_id"]).to_numpy()
    counted["selected"] = counted["share"] > 0.5
    counted["tied"] = np.isclose(counted["share"], 0.5)
    counted["certainty"] = np.maximum(counted["share"], 1 - counted["share"])
    make = frozenset if kind == "multilabel" else tuple
    by_item = counted.groupby("item_id", sort=False)
    selected = counted[counted["selected"]].groupby("item_id", sort=False)["element"].agg(make)
    tied = counted[counted["tied"]].groupby("item_id", sort=False)["element"].agg(tuple)
    certainty = by_item["certainty"].mean()
    labels = selected.reindex(order)
    labels = [make() if not isinstance(v, (frozenset, tuple)) else v for v in labels]
    tied_labels = [v if isinstance(v, tuple) else () for v in tied.reindex(order)]
    confidence = certainty.reindex(order).fillna(1.0).to_numpy()
    is_tie = np.array([len(t) > 0 for t in tied_labels], dtype=bool)
    return _frame(order, labels, confidence, "majority", is_tie, tied_labels, n_labels.to_numpy())


def _median_consensus(df: pd.DataFrame, level: str | None) -> pd.DataFrame:
    if df.empty:
        return _empty_consensus()
    values = pd.to_numeric(df["label"]).astype(float).to_numpy()
    items = df["item_id"].astype(str).to_numpy()
    ordinal = level == "ordinal" if level is not None else bool(np.all(values % 1 == 0))
    frame = pd.DataFrame({"item_id": items, "value": values})
    grouped = frame.groupby("item_id", sort=False)["value"]
    low = grouped.quantile(0.5, interpolation="lower")
    high = grouped.quantile(0.5, interpolation="higher")
    median = low if ordinal else grouped.median()
    scale_range = float(np.ptp(values)) if len(values) else 0.0
    deviation = np.abs(values - median.reindex(items).to_numpy())
    mean_dev = pd.Series(deviation, index=items).groupby(level=0, sort=False).mean().reindex(median.index)
    confidence = 1.0 - mean_dev.to_numpy() / scale_range if scale_range > 0 else np.ones(len(median))
    is_tie = (low != high).to_numpy() if ordinal else np.zeros(len(median), dtype=bool)
    tied = [
        tuple(python_values(np.array([lo, hi]))) if tie else ()
        for lo, hi, tie in zip(low.to_numpy(), high.to_numpy(), is_tie, strict=True)
    ]
    n_labels = grouped.size().to_numpy()
    return _frame(median.index, python_values(median.to_numpy()), confidence, "median", is_tie, tied, n_labels)


def _dawid_skene_consensus(df: pd.DataFrame, gold: pd.Series, smoothing: float, max_iter: int) -> pd.DataFrame:
    if df.empty:
        return _empty_consensus()
    model = DawidSkene(max_iter=max_iter, smoothing=smoothing).fit(df, gold=gold)
    probas = model.probas_.to_numpy()
    top = probas.max(axis=1)
    at_top = np.isclose(probas, top[:, None], rtol=0, atol=1e-12)
    n_at_top = at_top.sum(axis=1)
    labels = np.asarray(model.labels_.to_numpy(), dtype=object)
    labels[n_at_top > 1] = None
    rows, columns = np.nonzero(at_top & (n_at_top[:, None] > 1))
    tied = _tied_tuples(rows, columns, np.asarray(model.probas_.columns, dtype=object), len(probas))
    n_labels = df.groupby(df["item_id"].astype(str), sort=False).size().reindex(model.probas_.index).to_numpy()
    return _frame(model.probas_.index, labels, top, "dawid_skene", n_at_top > 1, tied, n_labels)


def _apply_gold(result: pd.DataFrame, gold: pd.Series) -> pd.DataFrame:
    if gold.empty or result.empty:
        return result
    known = result["item_id"].isin(gold.index).to_numpy()
    if not known.any():
        return result
    result = result.copy()
    result.loc[known, "label"] = pd.Series(gold.reindex(result.loc[known, "item_id"]).to_numpy(), dtype=object).to_numpy()
    result.loc[known, "confidence"] = 1.0
    result.loc[known, "is_tie"] = False
    result.loc[known, "tied_labels"] = pd.Series([()] * int(known.sum()), dtype=object).to_numpy()
    result.loc[known, "is_gold"] = True
    return result


# ---------------------------------------------------------------------------------------------
# Dawid-Skene
# ---------------------------------------------------------------------------------------------


@dataclass
class DawidSkene:
    r"""Dawid-Skene aggregation: per-annotator confusion matrices and class priors fitted by EM.

    Model: item ``i`` has a true class :math:`z_i \sim \mathrm{Cat}(\pi)`; annotator ``a``
    labels it ``l`` with probability :math:`\theta^{(a)}_{k l} = P(y_{ia} = l \mid z_i = k)`,
    independently across annotators. EM alternates

    - E-step: :math:`T_{ik} \propto \pi_k \prod_{a} \theta^{(a)}_{k, y_{ia}}` (in logs);
    - M-step: :math:`\pi_k \propto \alpha + \sum_i T_{ik}`,
      :math:`\theta^{(a)}_{kl} \propto \alpha + \sum_{i: y_{ia} = l} T_{ik}`,

    with :math:`\alpha` = ``smoothing`` (a Dirichlet pseudo-count, see ``DS_SMOOTHING``).
    ``T`` starts at the majority-vote shares; gold items keep a one-hot ``T`` at their gold label
    throughout. Everything is vectorized over ratings (``np.bincount``), so one EM round costs
    O(ratings x classes).

    Parameters
    ----------
    max_iter : the most EM rounds.
    tol : stop when the log-likelihood changes by less than ``tol`` relative to its size.
    smoothing : Dirichlet pseudo-count for confusion cells and priors (0 gives the plain MLE).

    Attributes
    ----------
    labels_ : Series item_id -> the most probable class (exact ties go to the first class in
        value order; :func:`consensus` reports them instead).
    probas_ : DataFrame items x classes, the posterior ``T``.
    priors_ : Series class -> prior.
    errors_ : tidy DataFrame ``annotator_id``, ``true_label``, ``observed_label``,
        ``probability`` (each annotator's confusion matrix, rows summing to one).
    accuracies_ : Series annotator_id -> :math:`\sum_k \pi_k \theta^{(a)}_{kk}`.
    confusion_ : ndarray annotators x classes x classes, the same numbers as ``errors_``.
    n_iter_, converged_, log_likelihood_ : EM rounds run, whether ``tol`` was met, and the final
        observed-data log-likelihood (natural log).

    References
    ----------
    Dawid, A. P. & Skene, A. M. (1979). Maximum likelihood estimation of observer error-rates
    using the EM algorithm. JRSS C 28(1), 20-28. The interface follows crowd-kit's DawidSkene
    (Ustalov et al. 2021).

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": list("aaabbbccc"), "annotator_id": list("xyzxyzxyz"),
    ...                    "label": ["p", "p", "n", "n", "n", "n", "p", "p", "p"]})
    >>> model = DawidSkene().fit(df)
    >>> model.labels_.to_dict()
    {'a': 'p', 'b': 'n', 'c': 'p'}
    >>> bool(model.converged_)
    True
    """

    max_iter: int = DS_MAX_ITER
    tol: float = DS_TOL
    smoothing: float = DS_SMOOTHING
    labels_: pd.Series = field(init=False, repr=False, default=None)
    probas_: pd.DataFrame = field(init=False, repr=False, default=None)
    priors_: pd.Series = field(init=False, repr=False, default=None)
    errors_: pd.DataFrame = field(init=False, repr=False, default=None)
    accuracies_: pd.Series = field(init=False, repr=False, default=None)
    confusion_: np.ndarray = field(init=False, repr=False, default=None)
    n_iter_: int = field(init=False, repr=False, default=0)
    converged_: bool = field(init=False, repr=False, default=False)
    log_likelihood_: float = field(init=False, repr=False, default=math.nan)

    def fit(self, df: pd.DataFrame, gold: pd.DataFrame | pd.Series | dict | None = None) -> DawidSkene:
        """Fit on a long table ``item_id``, ``annotator_id``, ``label`` of one question."""
        _require_columns(df)
        if self.max_iter < 1 or self.smoothing < 0:
            raise MetricInputError("DawidSkene needs max_iter >= 1 and smoothing >= 0")
        ratings = prepare_ratings(df[["item_id", "annotator_id", "label"]], level="nominal")
        if ratings.n_ratings == 0:
            raise MetricInputError("Dawid-Skene needs at least one present label")
        values = np.asarray(ratings.values, dtype=object)
        gold_series = gold_for(gold, None)
        gold_codes, values = _gold_codes(gold_series, ratings.items, values)
        n_classes = len(values)
        item_codes, annotator_codes = ratings.item_codes, ratings.annotator_codes
        label_codes = ratings.value_codes
        known = gold_codes >= 0
        posterior = _vote_shares(item_codes, label_codes, ratings.n_items, n_classes)
        posterior[known] = np.eye(n_classes)[gold_codes[known]]
        previous = -math.inf
        for round_number in range(1, self.max_iter + 1):
            priors, confusion = _m_step(posterior, item_codes, annotator_codes, label_codes, ratings.n_annotators, self.smoothing)
            log_joint = _log_joint(priors, confusion, item_codes, annotator_codes, label_codes, ratings.n_items)
            posterior, log_likelihood = _e_step(log_joint, gold_codes)
            self.n_iter_ = round_number
            if abs(log_likelihood - previous) <= self.tol * max(1.0, abs(log_likelihood)):
                self.converged_ = True
                break
            previous = log_likelihood
        else:
            self.converged_ = False
        priors, confusion = _m_step(posterior, item_codes, annotator_codes, label_codes, ratings.n_annotators, self.smoothing)
        self._store(ratings.items, ratings.annotators, values, posterior, priors, confusion, log_likelihood)
        return self

    def fit_predict(self, df: pd.DataFrame, gold: pd.DataFrame | pd.Series | dict | None = None) -> pd.Series:
        """Fit, then return :attr:`labels_`."""
        return self.fit(df, gold=gold).labels_

    def fit_predict_proba(self, df: pd.DataFrame, gold: pd.DataFrame | pd.Series | dict | None = None) -> pd.DataFrame:
        """Fit, then return :attr:`probas_`."""
        return self.fit(df, gold=gold).probas_

    def _store(self, items, annotators, values, posterior, priors, confusion, log_likelihood) -> None:
        decoded = python_values(values)
        class_index = pd.Index(decoded, dtype=object, name="label")
        item_index = pd.Index(items.astype(str), name="item_id")
        annotator_index = pd.Index(annotators.astype(str), name="annotator_id")
        self.probas_ = pd.DataFrame(posterior, index=item_index, columns=class_index)
        self.labels_ = pd.Series(np.asarray(decoded, dtype=object)[posterior.argmax(axis=1)], index=item_index, name="label")
        self.priors_ = pd.Series(priors, index=class_index, name="prior")
        self.confusion_ = confusion
        n_annotators, n_classes = confusion.shape[0], confusion.shape[1]
        self.errors_ = pd.DataFrame(
            {
                "annotator_id": np.repeat(annotator_index.to_numpy(), n_classes * n_classes),
                "true_label": np.tile(np.repeat(class_index.to_numpy(), n_classes), n_annotators),
                "observed_label": np.tile(class_index.to_numpy(), n_annotators * n_classes),
                "probability": confusion.reshape(-1),
            }
        )
        diagonal = confusion[:, np.arange(n_classes), np.arange(n_classes)]
        self.accuracies_ = pd.Series(diagonal @ priors, index=annotator_index, name="accuracy")
        self.log_likelihood_ = float(log_likelihood)


def _gold_codes(gold: pd.Series, items: pd.Index, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per item, the class code of its gold label (-1 when none); gold classes nobody used are
    appended to the class list."""
    codes = np.full(len(items), -1, dtype=np.int64)
    if gold.empty:
        return codes, values
    item_gold = gold.reindex(pd.Index(items.astype(str)))
    present = present_mask(item_gold)
    gold_codes, gold_values = pd.factorize(item_gold[present].to_numpy(dtype=object))
    lookup = {value_key(v): i for i, v in enumerate(values)}
    new_values = list(values)
    class_of_gold_value = np.empty(len(gold_values), dtype=np.int64)
    for position, value in enumerate(gold_values):  # one pass over the distinct gold labels
        key = value_key(value)
        if key not in lookup:
            lookup[key] = len(new_values)
            new_values.append(value)
        class_of_gold_value[position] = lookup[key]
    codes[np.flatnonzero(present)] = class_of_gold_value[gold_codes]
    out = np.empty(len(new_values), dtype=object)
    out[:] = new_values
    return codes, out


def value_key(value: Any) -> Any:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    return value


def _vote_shares(item_codes, label_codes, n_items, n_classes) -> np.ndarray:
    counts = sp.coo_matrix(
        (np.ones(len(item_codes)), (item_codes, label_codes)), shape=(n_items, n_classes)
    ).toarray()
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.full_like(counts, 1.0 / n_classes), where=totals > 0)


def _m_step(posterior, item_codes, annotator_codes, label_codes, n_annotators, smoothing):
    """Priors (K) and confusion matrices (A x K_true x K_observed) from the posterior."""
    n_items, n_classes = posterior.shape
    priors = (posterior.sum(axis=0) + smoothing) / (n_items + n_classes * smoothing)
    cell = annotator_codes * n_classes + label_codes
    per_rating = posterior[item_codes]
    sums = np.stack(
        [np.bincount(cell, weights=per_rating[:, k], minlength=n_annotators * n_classes) for k in range(n_classes)],
        axis=1,
    )  # (A*K_observed) x K_true
    confusion = sums.reshape(n_annotators, n_classes, n_classes).transpose(0, 2, 1) + smoothing
    totals = confusion.sum(axis=2, keepdims=True)
    confusion = np.divide(confusion, totals, out=np.full_like(confusion, 1.0 / n_classes), where=totals > 0)
    return priors, confusion


def _log_joint(priors, confusion, item_codes, annotator_codes, label_codes, n_items) -> np.ndarray:
    """``log pi_k + sum_a log theta^(a)_{k, y_ia}`` for every item and class."""
    with np.errstate(divide="ignore"):
        log_confusion = np.log(confusion)
        log_priors = np.log(priors)
    per_rating = log_confusion[annotator_codes, :, label_codes]  # ratings x K_true
    n_classes = len(priors)
    sums = np.stack(
        [np.bincount(item_codes, weights=per_rating[:, k], minlength=n_items) for k in range(n_classes)], axis=1
    )
    return sums + log_priors


def _e_step(log_joint: np.ndarray, gold_codes: np.ndarray) -> tuple[np.ndarray, float]:
    """Posterior and observed-data log-likelihood; gold items keep their one-hot posterior."""
    top = log_joint.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    scaled = np.exp(log_joint - top)
    totals = scaled.sum(axis=1, keepdims=True)
    posterior = scaled / totals
    log_marginal = np.log(totals).ravel() + top.ravel()
    known = gold_codes >= 0
    if known.any():
        n_classes = log_joint.shape[1]
        posterior[known] = np.eye(n_classes)[gold_codes[known]]
        log_marginal[known] = log_joint[known, gold_codes[known]]
    return posterior, float(log_marginal.sum())

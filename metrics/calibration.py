"""Annotator calibration: one row per annotator (x question) with the evidence a manager needs to
decide whom to retrain and whose labels to discount, and flags that say so in words.

Every agreement figure compares an annotator with the **leave-one-out consensus** of an item:
the majority label of the *other* human annotators of that item (items where the others tie, or
where nobody else labelled, are left out). Comparing with a consensus that includes the
annotator's own vote would flatter everyone, most of all on items with few labels.

Flags (codes in ``FLAG_CODES``; thresholds in :class:`CalibrationThresholds`):

``near_chance``
    kappa with the leave-one-out consensus below ``near_chance_kappa`` (for interval questions:
    the correlation with the others' mean): a possible spammer or someone who misread the task.
``low_gold_accuracy``
    the Wilson interval of gold accuracy lies entirely below ``min_gold_accuracy``.
``label_overuse``
    a label used significantly more often than the other annotators used it on the same items
    (Holm-adjusted p below ``overuse_p``), by a factor of at least ``overuse_ratio`` and at least
    ``overuse_min_share_gap`` of their labels.
``too_fast``
    median lead time below ``too_fast_ratio`` of the crowd's median.
``agreement_drop``
    from one batch (or week) on, kappa with the consensus fell by at least ``agreement_drop``
    more than the other human annotators' kappa did, or the annotator's use of one label moved
    away from the others' use on the same items by ``drift_share_gap``; either significant at
    ``drop_p`` after Holm's adjustment over all drift tests.
``leniency``
    (ordinal and interval) rates higher or lower than the others on the same items by at least
    ``leniency_sd`` standard deviations of the question's ratings.

Model annotators (``annotator_kind == "model"``: pre-labels, labeling functions) get rows too,
compared with the human consensus; they never count in it. Their rows add the anchoring signal
(how often humans kept the pre-label, beside how often humans agree with each other on the same
items) and labeling-function coverage, overlap and conflict (Ratner et al. 2017, Snorkel).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from statsmodels.stats.contingency_tables import SquareTable
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from metrics.alpha import krippendorff_alpha
from metrics.consensus import (
    DawidSkene,
    gold_for,
    present_mask,
    python_values,
    split_questions,
    value_key,
)
from metrics.disputes import format_label, infer_level
from metrics.errors import MetricInputError
from metrics.kappa import agreement_weights, cohen_from_tables
from metrics.pairwise import pair_tables
from metrics.ratings import Ratings, prepare_ratings

FLAG_CODES = ("near_chance", "low_gold_accuracy", "label_overuse", "too_fast", "agreement_drop", "leniency")
TREND_WINDOWS = ("batch", "week")
MAX_KAPPA_VALUES = 20
"""Interval questions with more distinct values than this get no kappa (a 100-point slider is not
a set of categories); the correlation with the others' mean stands in for it."""
MAX_DAWID_SKENE_VALUES = 50


@dataclass(frozen=True)
class CalibrationThresholds:
    """When a flag is raised. Each default and why.

    Attributes
    ----------
    min_items : agreement-based flags need at least this many items with a leave-one-out
        consensus (30: a kappa on fewer items has a standard error of 0.1 or more).
    near_chance_kappa : 0.20, the upper end of Landis & Koch's (1977) "slight" band; a spammer
        answering at random sits near 0.
    min_gold_accuracy : 0.80; flagged only when the whole 95% Wilson interval is below it, so a
        few unlucky gold items do not flag anyone.
    min_gold_items : gold accuracy is judged on at least 10 gold items.
    overuse_ratio, overuse_min_share_gap, overuse_p : over-use needs a share at least 1.5 times
        the others' on the same items, at least 5 points above it, and Holm-adjusted p < 0.05
        (MEASURES.md: a p-value alone flags trivial shifts on big data).
    too_fast_ratio : 0.35: a median lead time about a third of the crowd's cannot include
        reading the item (Kittur et al. 2008 screen on the same ratio).
    min_timed_items : speed is judged on at least 20 timed labels.
    agreement_drop : 0.20 of kappa beyond the other human annotators' own change over the same
        split, and significant (Holm-adjusted one-sided p below ``drop_p``): a kappa on 30 items
        has an SE near 0.1, so an effect size alone flags experts by chance on small windows.
    drop_min_items : each side of a split needs at least this many items (30, as ``min_items``).
    drift_share_gap : 0.05: the flag also fires when the annotator's use of one label moved
        away from the other annotators' use on the same items by at least 5 points of share
        after a split, significantly (Holm-adjusted two-sided p below ``drop_p``). A drift
        confined to one class ("how_to" now given as "feature_request") moves overall kappa too
        little to see, while its label use moves clearly.
    drop_p : 0.05, the family-wise error rate of the drift tests (Holm 1979, over every
        annotator x split x (kappa, label) test of the question).
    gold_tolerance : ordinal and interval ratings within this many points of the gold rating
        count as correct (1.0: on a 5-point scale a careful rater with 0.65 points of noise
        hits the exact gold point only about half the time; categories are always exact).
    leniency_sd : 0.5 standard deviations of the question's ratings (Cohen's "medium" effect).
    ci_level : level of the Wilson interval.
    """

    min_items: int = 30
    near_chance_kappa: float = 0.20
    min_gold_accuracy: float = 0.80
    min_gold_items: int = 10
    overuse_ratio: float = 1.5
    overuse_min_share_gap: float = 0.05
    overuse_p: float = 0.05
    too_fast_ratio: float = 0.35
    min_timed_items: int = 20
    agreement_drop: float = 0.20
    drop_min_items: int = 30
    drift_share_gap: float = 0.05
    drop_p: float = 0.05
    gold_tolerance: float = 1.0
    leniency_sd: float = 0.5
    ci_level: float = 0.95


# ---------------------------------------------------------------------------------------------
# The shared reduction: codes, human counts and the leave-one-out consensus
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Question:
    frame: pd.DataFrame  # the rows used, aligned with the codes
    ratings: Ratings
    level: str
    is_human: np.ndarray  # per rating
    others: np.ndarray  # ratings x values: other humans' label counts on the rating's item
    loo: np.ndarray  # per rating: the leave-one-out majority code, -1 when undefined
    weights: np.ndarray | None  # kappa agreement weights, None when no kappa

    @property
    def n_values(self) -> int:
        return self.ratings.n_values


def _prepare(df: pd.DataFrame, level: str | None, categories: Sequence[Any] | None) -> _Question:
    rows = df[present_mask(df["label"])].reset_index(drop=True)
    level = level or infer_level(rows["label"])
    labels = _format_labels(rows["label"]) if level == "spans" else rows["label"]
    encode_level = "nominal" if level in ("spans", "multilabel") else level
    frame = rows.assign(label=labels, item_id=rows["item_id"].astype(str), annotator_id=rows["annotator_id"].astype(str))
    ratings = prepare_ratings(frame[["item_id", "annotator_id", "label"]], categories=categories, level=encode_level)
    if "annotator_kind" in frame.columns:
        is_human = (frame["annotator_kind"].astype(str) != "model").to_numpy()
    else:
        is_human = np.ones(len(frame), dtype=bool)
    q = ratings.n_values
    cells = ratings.item_codes[is_human] * q + ratings.value_codes[is_human]
    human_counts = np.bincount(cells, minlength=ratings.n_items * q).reshape(ratings.n_items, q).astype(float)
    others = human_counts[ratings.item_codes]
    others[np.arange(ratings.n_ratings), ratings.value_codes] -= is_human
    top = others.max(axis=1)
    n_top = (others == top[:, None]).sum(axis=1)
    loo = np.where((top > 0) & (n_top == 1), others.argmax(axis=1), -1)
    weights = _kappa_weights(level, q)
    return _Question(frame.rename(columns={"label": "label_text"}), ratings, level, is_human, others, loo, weights)


def _kappa_weights(level: str, q: int) -> np.ndarray | None:
    """Agreement weights, or None where a kappa over whole answers means nothing: span answers
    (each distinct set of spans would be a category; use :func:`metrics.span_agreement`) and
    multi-label or interval questions with more than ``MAX_KAPPA_VALUES`` distinct answers."""
    if level == "spans" or (level == "multilabel" and q > MAX_KAPPA_VALUES):
        return None
    if level == "ordinal":
        return agreement_weights(q, "linear")
    if level in ("interval", "ratio"):
        return agreement_weights(q, "quadratic") if q <= MAX_KAPPA_VALUES else None
    return agreement_weights(q, None)


def _tables(data: _Question, group: np.ndarray, n_groups: int, mask: np.ndarray | None = None) -> np.ndarray:
    """``n_groups x V x V`` tables of own label (rows) against the leave-one-out consensus."""
    q = data.n_values
    keep = data.loo >= 0
    if mask is not None:
        keep &= mask
    cells = (group[keep] * q + data.ratings.value_codes[keep]) * q + data.loo[keep]
    return np.bincount(cells, minlength=n_groups * q * q).reshape(n_groups, q, q)


def _kappa(data: _Question, tables: np.ndarray) -> np.ndarray:
    if data.weights is None:
        return np.full(tables.shape[:-2], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return cohen_from_tables(tables, data.weights)[0]


def _percent(tables: np.ndarray) -> np.ndarray:
    n = tables.sum(axis=(-2, -1)).astype(float)
    agreed = np.trace(tables, axis1=-2, axis2=-1).astype(float)
    return np.divide(agreed, n, out=np.full(n.shape, np.nan), where=n > 0)


# ---------------------------------------------------------------------------------------------
# annotator_calibration
# ---------------------------------------------------------------------------------------------


def annotator_calibration(
    df: pd.DataFrame,
    gold: pd.DataFrame | pd.Series | dict | None = None,
    level: str | None = None,
    thresholds: CalibrationThresholds = CalibrationThresholds(),
    *,
    categories: Sequence[Any] | None = None,
    trend_by: str = "batch",
) -> pd.DataFrame:
    """One row per annotator (x question): agreement, gold accuracy, bias, speed, trend, flags.

    Parameters
    ----------
    df : long table ``item_id``, ``annotator_id``, ``label``; optional ``question``,
        ``annotator_kind``, ``lead_time_s``, ``batch``, ``created_at``.
    gold : known answers (DataFrame ``item_id``, ``label`` [, ``question``], Series or dict).
    level : level of measurement (default from the labels, as in :func:`metrics.disputed_items`).
    thresholds : :class:`CalibrationThresholds`.
    categories : declared categories (needed for ordinal text labels).
    trend_by : ``"batch"`` or ``"week"``: the windows of the ``agreement_drop`` flag.

    Returns
    -------
    DataFrame
        One row per annotator, with columns

        - ``annotator_id``, (``question``), ``annotator_kind``, ``n_items``;
        - ``n_consensus_items`` (items with a leave-one-out majority), ``n_compared_items``
          (items with at least one other human label: the base of the correlation, leniency and
          usage figures), ``kappa_vs_consensus`` (Cohen's kappa against the leave-one-out
          majority; linear weights for ordinal, quadratic for interval), ``percent_vs_consensus``,
          ``correlation_vs_others`` (numeric questions: Pearson r with the others' mean);
        - ``alpha_all``, ``alpha_without``, ``alpha_change`` (``alpha_without - alpha_all``:
          positive when leaving the annotator out raises agreement), ``mean_pairwise_kappa``;
        - ``n_gold``, ``gold_accuracy``, ``gold_ci_low``, ``gold_ci_high`` (Wilson);
        - ``ds_accuracy`` (Dawid-Skene: the diagonal of their confusion matrix weighted by the
          class priors);
        - ``overused_label``, ``overused_share``, ``overused_expected_share``, ``overused_ratio``,
          ``overused_p_holm`` (the label with the largest standardized residual in
          :func:`label_usage`);
        - ``leniency`` (mean own rating minus the others' mean on the same item),
          ``rating_sd``, ``crowd_rating_sd`` (numeric questions);
        - ``median_lead_time_s``, ``crowd_median_lead_time_s`` (median of the human annotators'
          medians), ``speed_ratio``;
        - ``drop_window``, ``kappa_before``, ``kappa_after``, ``crowd_kappa_before``,
          ``crowd_kappa_after`` (the other human annotators, pooled), ``drop_excess`` (the
          annotator's fall minus the others'), ``drop_p_holm``: the split with the most
          significant fall (NaN without two windows of ``drop_min_items`` items);
        - ``usage_shift_label``, ``usage_shift_window``, ``usage_share_before``,
          ``usage_share_after``, ``others_share_before``, ``others_share_after``,
          ``usage_shift_p_holm``: the label whose use moved most significantly away from the
          others' use on the same items, by at least ``drift_share_gap`` (None/NaN when none);
        - model annotators: ``prelabel_kept_share`` (human labels equal to the pre-label),
          ``human_agreement_share`` (pairs of human labels that agree, same items),
          ``lf_coverage``, ``lf_overlap``, ``lf_conflict``;
        - ``flags`` (tuple of codes, see the module docstring) and ``flag_reasons`` (tuple of
          sentences with the evidence, aligned with ``flags``).

        NaN means not computable for that annotator (e.g. no gold items, no timing).

    References
    ----------
    Landis & Koch (1977), Biometrics 33:159-174; Wilson (1927), JASA 22:209-212;
    Holm (1979), Scand. J. Statist. 6:65-70; Dawid & Skene (1979), JRSS C 28:20-28.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.choice(["a", "b", "c"], size=60)
    >>> rows = [(i, who, t if who != "spam" else rng.choice(["a", "b", "c"]))
    ...         for i, t in enumerate(truth) for who in ("ann", "bob", "cat", "spam")]
    >>> df = pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])
    >>> table = annotator_calibration(df)
    >>> table.set_index("annotator_id")["flags"].to_dict()
    {'ann': (), 'bob': (), 'cat': (), 'spam': ('near_chance',)}
    """
    _require_columns(df)
    if trend_by not in TREND_WINDOWS:
        raise MetricInputError(f"trend_by {trend_by!r} is not one of {TREND_WINDOWS}")
    parts = []
    for question, rows in split_questions(df):
        if not present_mask(rows["label"]).any():
            continue
        part = _calibrate_question(rows, gold_for(gold, question), level, thresholds, categories, trend_by)
        if question is not None:
            part.insert(1, "question", question)
        parts.append(part)
    if not parts:
        raise MetricInputError("no present label to calibrate annotators on")
    return pd.concat(parts, ignore_index=True)


def _require_columns(df: pd.DataFrame) -> None:
    if not isinstance(df, pd.DataFrame):
        raise MetricInputError(f"expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in ("item_id", "annotator_id", "label") if c not in df.columns]
    if missing:
        raise MetricInputError(f"the annotations table has no column {missing}; expected item_id, annotator_id, label")


def _calibrate_question(df, gold, level, thresholds, categories, trend_by) -> pd.DataFrame:
    data = _prepare(df, level, categories)
    annotators = data.ratings.annotators.astype(str)
    table = pd.DataFrame({"annotator_id": annotators.to_numpy(dtype=object)})
    table["annotator_kind"] = _kinds(data)
    table["n_items"] = np.bincount(data.ratings.annotator_codes, minlength=len(annotators))
    table = table.join(_consensus_agreement(data), on="annotator_id")
    table = table.join(_alpha_change(data), on="annotator_id")
    table = table.join(_mean_pairwise_kappa(data), on="annotator_id")
    table = table.join(_gold_accuracy(data, gold, thresholds.ci_level, thresholds.gold_tolerance), on="annotator_id")
    table = table.join(_dawid_skene_accuracy(data, gold), on="annotator_id")
    table = table.join(_overuse_summary(label_usage_table(data)), on="annotator_id")
    table = table.join(_leniency(data), on="annotator_id")
    table = table.join(_speed(data), on="annotator_id")
    table = table.join(_drift_summary(data, trend_by, thresholds), on="annotator_id")
    table = table.join(_model_signals(data), on="annotator_id")
    flags, reasons = _flags(table, data.level, trend_by, thresholds)
    table["flags"] = pd.Series(flags, dtype=object).to_numpy()
    table["flag_reasons"] = pd.Series(reasons, dtype=object).to_numpy()
    return table


def _kinds(data: _Question) -> np.ndarray:
    human_share = np.bincount(data.ratings.annotator_codes, weights=data.is_human.astype(float), minlength=data.ratings.n_annotators)
    counts = np.bincount(data.ratings.annotator_codes, minlength=data.ratings.n_annotators)
    return np.where(human_share >= counts, "human", "model").astype(object)


def _index(data: _Question) -> pd.Index:
    return pd.Index(data.ratings.annotators.astype(str), name="annotator_id")


def _consensus_agreement(data: _Question) -> pd.DataFrame:
    n_annotators = data.ratings.n_annotators
    tables = _tables(data, data.ratings.annotator_codes, n_annotators)
    out = pd.DataFrame(index=_index(data))
    out["n_consensus_items"] = tables.sum(axis=(1, 2))
    has_others = data.others.sum(axis=1) > 0
    out["n_compared_items"] = np.bincount(data.ratings.annotator_codes[has_others], minlength=n_annotators)
    out["kappa_vs_consensus"] = _kappa(data, tables)
    out["percent_vs_consensus"] = _percent(tables)
    out["correlation_vs_others"] = _correlation_with_others(data)
    return out


def _numeric_values(data: _Question) -> np.ndarray | None:
    if data.level not in ("ordinal", "interval", "ratio") or data.ratings.values.dtype.kind != "f":
        return None
    return data.ratings.values.astype(float)


def _others_mean(data: _Question, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per rating: the mean of the other humans' ratings of the item, and how many there are."""
    n_others = data.others.sum(axis=1)
    total = data.others @ values
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_others > 0, total / n_others, np.nan), n_others


def _correlation_with_others(data: _Question) -> np.ndarray:
    values = _numeric_values(data)
    n_annotators = data.ratings.n_annotators
    if values is None:
        return np.full(n_annotators, np.nan)
    others_mean, _ = _others_mean(data, values)
    frame = pd.DataFrame({"a": data.ratings.annotator_codes, "own": values[data.ratings.value_codes], "others": others_mean}).dropna()
    correlation = frame.groupby("a")[["own", "others"]].corr().xs("own", level=1)["others"]
    return correlation.reindex(np.arange(n_annotators)).to_numpy()


def _human_frame(data: _Question, exclude: int | None = None) -> pd.DataFrame:
    keep = data.is_human.copy()
    if exclude is not None:
        keep &= data.ratings.annotator_codes != exclude
    return pd.DataFrame(
        {
            "item_id": data.ratings.item_codes[keep],
            "annotator_id": data.ratings.annotator_codes[keep],
            "label": data.ratings.value_codes[keep],
        }
    )


def _alpha_level(data: _Question) -> str:
    return data.level if data.level in ("ordinal", "interval", "ratio") else "nominal"


def _alpha_change(data: _Question) -> pd.DataFrame:
    """Alpha on the human labels, and without each annotator (on the value codes, so the level's
    order is the codes' order, which :func:`prepare_ratings` made the value order)."""
    level = _alpha_level(data)
    values = data.ratings.values
    frame = _human_frame(data)
    if level != "nominal" and values.dtype.kind == "f":
        frame["label"] = values[frame["label"].to_numpy()].astype(float)
    elif level != "nominal":
        frame["label"] = frame["label"].astype(float)  # ordinal text: the codes are the declared order
    alpha_all = krippendorff_alpha(frame, level=level, n_boot=0).value
    without = np.full(data.ratings.n_annotators, np.nan)
    humans = np.unique(data.ratings.annotator_codes[data.is_human])
    for code in humans:  # one alpha per annotator: annotators are few, each alpha is vectorized
        rest = frame[frame["annotator_id"] != code]
        without[code] = krippendorff_alpha(rest, level=level, n_boot=0).value
    out = pd.DataFrame(index=_index(data))
    out["alpha_all"] = alpha_all
    out["alpha_without"] = without
    out["alpha_change"] = without - alpha_all
    return out


def _mean_pairwise_kappa(data: _Question) -> pd.DataFrame:
    out = pd.DataFrame(index=_index(data))
    if data.weights is None:
        out["mean_pairwise_kappa"] = np.nan
        return out
    first, second, tables = pair_tables(data.ratings)
    kappa = _kappa(data, tables)
    frame = pd.DataFrame({"a": np.r_[first, second], "kappa": np.r_[kappa, kappa]}).dropna()
    mean = frame.groupby("a")["kappa"].mean().reindex(np.arange(data.ratings.n_annotators))
    out["mean_pairwise_kappa"] = mean.to_numpy()
    return out


def _gold_accuracy(data: _Question, gold: pd.Series, ci_level: float, tolerance: float) -> pd.DataFrame:
    out = pd.DataFrame(index=_index(data))
    n_gold = np.zeros(data.ratings.n_annotators)
    correct = np.zeros(data.ratings.n_annotators)
    if not gold.empty:
        gold_of_rating = _gold_value_codes(data, gold)[data.ratings.item_codes]
        has_gold = gold_of_rating != -2
        right = gold_of_rating == data.ratings.value_codes
        values = _numeric_values(data)
        if values is not None:
            gold_value = _gold_numbers(gold, data)[data.ratings.item_codes]
            right = has_gold & (np.abs(values[data.ratings.value_codes] - gold_value) <= tolerance)
        n_gold = np.bincount(data.ratings.annotator_codes[has_gold], minlength=data.ratings.n_annotators).astype(float)
        correct = np.bincount(data.ratings.annotator_codes[right], minlength=data.ratings.n_annotators).astype(float)
    out["n_gold"] = n_gold.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["gold_accuracy"] = np.where(n_gold > 0, correct / n_gold, np.nan)
    low, high = np.full(len(n_gold), np.nan), np.full(len(n_gold), np.nan)
    judged = n_gold > 0
    if judged.any():
        low[judged], high[judged] = proportion_confint(correct[judged], n_gold[judged], alpha=1 - ci_level, method="wilson")
    out["gold_ci_low"], out["gold_ci_high"] = low, high
    return out


def _gold_numbers(gold: pd.Series, data: _Question) -> np.ndarray:
    """Per item code: the numeric gold rating (NaN when none)."""
    labels = gold.reindex(data.ratings.items.astype(str))
    return pd.to_numeric(labels, errors="coerce").to_numpy(dtype=float)


def _gold_value_codes(data: _Question, gold: pd.Series) -> np.ndarray:
    """Per item code: the gold label's value code, -1 when gold is a value nobody used, -2 when
    the item has no gold."""
    items = data.ratings.items.astype(str)
    labels = gold.reindex(items)
    present = present_mask(labels)
    labels = labels[present]
    if data.level == "spans":
        labels = _format_labels(labels)
    lookup = {value_key(v): i for i, v in enumerate(data.ratings.values)}
    label_codes, distinct = pd.factorize(labels.to_numpy(dtype=object))
    code_of_distinct = np.asarray([lookup.get(value_key(v), -1) for v in distinct], dtype=np.int64)
    codes = np.full(len(items), -2, dtype=np.int64)
    codes[present] = code_of_distinct[label_codes] if len(label_codes) else np.empty(0, dtype=np.int64)
    return codes


def _format_labels(labels: pd.Series) -> pd.Series:
    """:func:`format_label` of every label, computed once per distinct label."""
    codes, distinct = pd.factorize(labels.to_numpy(dtype=object), use_na_sentinel=True)
    text = np.asarray([format_label(v) for v in distinct] + [format_label(None)], dtype=object)
    return pd.Series(text[codes], index=labels.index, dtype=object)


def _dawid_skene_accuracy(data: _Question, gold: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame(index=_index(data))
    out["ds_accuracy"] = np.nan
    if data.n_values < 2 or data.n_values > MAX_DAWID_SKENE_VALUES:
        return out
    frame = pd.DataFrame(
        {
            "item_id": data.frame["item_id"].to_numpy(),
            "annotator_id": data.frame["annotator_id"].to_numpy(),
            "label": data.ratings.value_codes,
        }
    )
    gold_codes = _gold_value_codes(data, gold) if not gold.empty else np.full(data.ratings.n_items, -2)
    known = gold_codes >= 0
    gold_series = pd.Series(gold_codes[known], index=data.ratings.items.astype(str)[known])
    model = DawidSkene().fit(frame, gold=gold_series)
    out["ds_accuracy"] = model.accuracies_.reindex(out.index).to_numpy()
    return out


# ---------------------------------------------------------------------------------------------
# Label usage
# ---------------------------------------------------------------------------------------------


LABEL_USAGE_COLUMNS = (
    "annotator_id",
    "label",
    "observed",
    "expected",
    "share",
    "expected_share",
    "ratio",
    "residual",
    "p_value",
    "p_holm",
)


def label_usage(df: pd.DataFrame, *, level: str | None = None, categories: Sequence[Any] | None = None) -> pd.DataFrame:
    r"""Each annotator's use of each label against the other annotators' labels on the same items.

    On the items annotator ``a`` labelled that other humans labelled too, let :math:`p_{il}` be
    the share of the others' labels of item ``i`` that are ``l`` and
    :math:`d_{il} = 1[y_{ia} = l] - p_{il}`. If ``a`` uses ``l`` as the others do on the same
    items, :math:`E[d_{il}] = 0`; ``expected`` is :math:`E_l = \sum_i p_{il}`, ``residual`` the
    paired z statistic :math:`\bar d_l / (s_{d_l} / \sqrt{n})` with the *empirical* standard
    deviation of the differences, ``p_value`` its two-sided normal p, and ``p_holm`` the Holm
    adjustment over every annotator x label of the question. (The binomial variance
    :math:`\sum_i p_{il}(1 - p_{il})` would treat two agreeing others as certainty, so that
    every honest slip on such an item counts as evidence: it flags experts.) Comparing on the same items
    removes the confounding of who got which items (MEASURES.md, annotator drift).

    Returns
    -------
    DataFrame
        ``annotator_id``, ``label``, ``observed``, ``expected``, ``share`` and
        ``expected_share`` (of the annotator's compared labels), ``ratio`` (observed /
        expected), ``residual``, ``p_value``, ``p_holm``; NaN where the variance is 0.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [i for i in range(40) for _ in range(3)],
    ...                    "annotator_id": ["a", "b", "c"] * 40,
    ...                    "label": [x for i in range(40) for x in ("y", "y", "y" if i % 2 else "n")]})
    >>> usage = label_usage(df)
    >>> usage[usage["annotator_id"] == "c"][["label", "observed", "expected"]].values.tolist()
    [['n', 20.0, 0.0], ['y', 20.0, 40.0]]
    """
    _require_columns(df)
    parts = []
    for question, rows in split_questions(df):
        part = label_usage_table(_prepare(rows, level, categories))
        if question is not None:
            part.insert(1, "question", question)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class _UsageSums:
    """Per group x label sums of the paired differences ``d = 1[own = l] - p_l`` (``p_l``: the
    share of the other humans' labels of the item that are ``l``), over ratings with others."""

    n: np.ndarray  # groups (x 1): compared ratings
    observed: np.ndarray  # groups x labels: sum of 1[own = l]
    expected: np.ndarray  # groups x labels: sum of p_l
    sum_d: np.ndarray  # groups x labels
    sum_d2: np.ndarray  # groups x labels


def _usage_sums(data: _Question, group: np.ndarray, n_groups: int) -> _UsageSums:
    q = data.n_values
    n_others = data.others.sum(axis=1)
    compared = (n_others > 0) & (group >= 0)
    shares = data.others[compared] / n_others[compared][:, None]
    who, own = group[compared], data.ratings.value_codes[compared]
    by_group = sp.csr_matrix((np.ones(len(who)), (who, np.arange(len(who)))), shape=(n_groups, len(who)))
    expected = np.asarray(by_group @ shares)
    squares = np.asarray(by_group @ (shares * shares))
    cell = who * q + own
    observed = np.bincount(cell, minlength=n_groups * q).reshape(n_groups, q).astype(float)
    own_share = np.bincount(cell, weights=shares[np.arange(len(own)), own], minlength=n_groups * q).reshape(n_groups, q)
    n = np.bincount(who, minlength=n_groups).astype(float)[:, None]
    return _UsageSums(n, observed, expected, observed - expected, observed - 2 * own_share + squares)


def _mean_and_variance(sum_d: np.ndarray, sum_d2: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean of ``d`` and the variance of that mean (sample variance / n)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sum_d / n
        variance = np.maximum(sum_d2 - sum_d * mean, 0.0) / (n - 1)
        return mean, variance / n


def _z_p(mean: np.ndarray, variance_of_mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided normal p of ``mean / sqrt(var)``: 0 when a nonzero mean has no variance,
    NaN when both are 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z = mean / np.sqrt(variance_of_mean)
    return z, 2 * stats.norm.sf(np.abs(z))


def _holm(p_value: np.ndarray, tested: np.ndarray | None = None) -> np.ndarray:
    """Holm-adjusted p over the finite (and ``tested``) entries; NaN elsewhere."""
    tested = np.isfinite(p_value) if tested is None else tested & np.isfinite(p_value)
    adjusted = np.full(p_value.shape, np.nan)
    if tested.any():
        adjusted[tested] = multipletests(p_value[tested], method="holm")[1]
    return adjusted


def label_usage_table(data: _Question) -> pd.DataFrame:
    """:func:`label_usage` on a prepared question."""
    q, n_annotators = data.n_values, data.ratings.n_annotators
    sums = _usage_sums(data, data.ratings.annotator_codes, n_annotators)
    mean, variance = _mean_and_variance(sums.sum_d, sums.sum_d2, sums.n)
    residual, p_value = _z_p(mean, variance)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = sums.observed / sums.n
        expected_share = sums.expected / sums.n
        ratio = np.where(sums.expected > 0, sums.observed / sums.expected, np.nan)
    labels = [format_label(v) if not isinstance(v, str) else v for v in python_values(data.ratings.values)]
    return pd.DataFrame(
        {
            "annotator_id": np.repeat(data.ratings.annotators.astype(str).to_numpy(dtype=object), q),
            "label": pd.Series(np.tile(np.asarray(labels, dtype=object), n_annotators), dtype=object),
            "observed": sums.observed.ravel(),
            "expected": sums.expected.ravel(),
            "share": share.ravel(),
            "expected_share": expected_share.ravel(),
            "ratio": ratio.ravel(),
            "residual": residual.ravel(),
            "p_value": p_value.ravel(),
            "p_holm": _holm(p_value).ravel(),
        }
    )


def _overuse_summary(usage: pd.DataFrame) -> pd.DataFrame:
    ranked = usage.dropna(subset=["residual"]).sort_values("residual", ascending=False, kind="stable")
    top = ranked.drop_duplicates("annotator_id").set_index("annotator_id")
    out = pd.DataFrame(
        {
            "overused_label": top["label"],
            "overused_share": top["share"],
            "overused_expected_share": top["expected_share"],
            "overused_ratio": top["ratio"],
            "overused_p_holm": top["p_holm"],
        }
    )
    out["overused_label"] = out["overused_label"].astype(object)
    return out


def pairwise_label_bias(df: pd.DataFrame, *, categories: Sequence[Any] | None = None) -> pd.DataFrame:
    """Stuart-Maxwell test of marginal homogeneity for every annotator pair on shared items.

    Do two annotators use the labels in the same proportions on the items both labelled? The
    test (Stuart 1955; Maxwell 1970) is statsmodels' ``SquareTable.homogeneity``; ``p_holm`` is
    Holm-adjusted over the pairs. NaN when the pair shares fewer than two items or the table is
    degenerate.

    Returns
    -------
    DataFrame
        ``annotator_a``, ``annotator_b``, ``n_shared_items``, ``statistic``, ``df``,
        ``p_value``, ``p_holm``.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [i for i in range(30) for _ in range(2)],
    ...                    "annotator_id": ["a", "b"] * 30,
    ...                    "label": [x for i in range(30) for x in ("y", "y" if i < 10 else "n")]})
    >>> out = pairwise_label_bias(df)
    >>> out[["annotator_a", "annotator_b", "n_shared_items"]].values.tolist(), bool(out["p_holm"][0] < 0.01)
    ([['a', 'b', 30]], True)
    """
    _require_columns(df)
    ratings = prepare_ratings(df[["item_id", "annotator_id", "label"]], categories=categories)
    first, second, tables = pair_tables(ratings)
    statistic, dof, p_value = np.full(len(first), np.nan), np.full(len(first), np.nan), np.full(len(first), np.nan)
    for index, table in enumerate(tables):  # one test per annotator pair
        used = (table.sum(axis=0) + table.sum(axis=1)) > 0
        if table.sum() < 2 or used.sum() < 2:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            try:
                result = SquareTable(table[np.ix_(used, used)], shift_zeros=False).homogeneity()
            except np.linalg.LinAlgError:
                continue
        statistic[index], dof[index], p_value[index] = result.statistic, result.df, result.pvalue
    p_holm = np.full(len(first), np.nan)
    tested = np.isfinite(p_value)
    if tested.any():
        p_holm[tested] = multipletests(p_value[tested], method="holm")[1]
    names = ratings.annotators.astype(str).to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "annotator_a": names[first],
            "annotator_b": names[second],
            "n_shared_items": tables.sum(axis=(1, 2)),
            "statistic": statistic,
            "df": dof,
            "p_value": p_value,
            "p_holm": p_holm,
        }
    )


# ---------------------------------------------------------------------------------------------
# Leniency, speed, model annotators
# ---------------------------------------------------------------------------------------------


def _leniency(data: _Question) -> pd.DataFrame:
    out = pd.DataFrame(index=_index(data))
    values = _numeric_values(data)
    if values is None:
        out["leniency"], out["rating_sd"], out["crowd_rating_sd"] = np.nan, np.nan, np.nan
        return out
    own = values[data.ratings.value_codes]
    others_mean, _ = _others_mean(data, values)
    frame = pd.DataFrame({"a": data.ratings.annotator_codes, "own": own, "diff": own - others_mean})
    grouped = frame.groupby("a")
    n_annotators = data.ratings.n_annotators
    out["leniency"] = grouped["diff"].mean().reindex(np.arange(n_annotators)).to_numpy()
    out["rating_sd"] = grouped["own"].std().reindex(np.arange(n_annotators)).to_numpy()
    out["crowd_rating_sd"] = float(np.std(own[data.is_human], ddof=1)) if data.is_human.sum() > 1 else np.nan
    return out


def _speed(data: _Question) -> pd.DataFrame:
    out = pd.DataFrame(index=_index(data))
    if "lead_time_s" not in data.frame.columns:
        out["median_lead_time_s"], out["n_timed"], out["crowd_median_lead_time_s"], out["speed_ratio"] = np.nan, 0, np.nan, np.nan
        return out
    lead = pd.to_numeric(data.frame["lead_time_s"], errors="coerce").to_numpy(dtype=float)
    frame = pd.DataFrame({"a": data.ratings.annotator_codes, "lead": lead, "human": data.is_human}).dropna(subset=["lead"])
    grouped = frame.groupby("a")["lead"]
    codes = np.arange(data.ratings.n_annotators)
    medians = grouped.median().reindex(codes)
    human_codes = np.unique(frame.loc[frame["human"], "a"])
    crowd = float(medians.reindex(human_codes).median()) if len(human_codes) else np.nan
    out["median_lead_time_s"] = medians.to_numpy()
    out["n_timed"] = grouped.size().reindex(codes).fillna(0).astype(np.int64).to_numpy()
    out["crowd_median_lead_time_s"] = crowd
    out["speed_ratio"] = medians.to_numpy() / crowd if crowd and np.isfinite(crowd) else np.nan
    return out


def _model_signals(data: _Question) -> pd.DataFrame:
    """Anchoring and labeling-function coverage/overlap/conflict for model annotators."""
    out = pd.DataFrame(index=_index(data))
    n_annotators, q = data.ratings.n_annotators, data.n_values
    model = ~data.is_human
    columns = ("prelabel_kept_share", "human_agreement_share", "lf_coverage", "lf_overlap", "lf_conflict")
    for column in columns:
        out[column] = np.nan
    if not model.any():
        return out
    items, values, annotators = data.ratings.item_codes, data.ratings.value_codes, data.ratings.annotator_codes
    humans_on_item = data.others.sum(axis=1)  # for a model rating, "others" are all humans
    kept = data.others[np.arange(len(values)), values]
    human_counts = data.others[model]
    n_h = humans_on_item[model]
    pairs = n_h * (n_h - 1)
    agreeing_pairs = (human_counts * (human_counts - 1)).sum(axis=1)
    model_counts = np.zeros((data.ratings.n_items, q))
    np.add.at(model_counts, (items[model], values[model]), 1.0)
    other_models = model_counts[items[model]].sum(axis=1) - 1
    disagreeing_models = model_counts[items[model]].sum(axis=1) - model_counts[items[model], values[model]]
    who = annotators[model]
    sums = {
        "kept": np.bincount(who, weights=kept[model], minlength=n_annotators),
        "human_labels": np.bincount(who, weights=n_h, minlength=n_annotators),
        "agreeing_pairs": np.bincount(who, weights=agreeing_pairs, minlength=n_annotators),
        "pairs": np.bincount(who, weights=pairs, minlength=n_annotators),
        "n": np.bincount(who, minlength=n_annotators).astype(float),
        "overlap": np.bincount(who, weights=(other_models > 0).astype(float), minlength=n_annotators),
        "conflict": np.bincount(who, weights=(disagreeing_models > 0).astype(float), minlength=n_annotators),
    }
    is_model = sums["n"] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        out["prelabel_kept_share"] = np.where(is_model & (sums["human_labels"] > 0), sums["kept"] / sums["human_labels"], np.nan)
        out["human_agreement_share"] = np.where(is_model & (sums["pairs"] > 0), sums["agreeing_pairs"] / sums["pairs"], np.nan)
        out["lf_coverage"] = np.where(is_model, sums["n"] / data.ratings.n_items, np.nan)
        out["lf_overlap"] = np.where(is_model, sums["overlap"] / sums["n"], np.nan)
        out["lf_conflict"] = np.where(is_model, sums["conflict"] / sums["n"], np.nan)
    return out


# ---------------------------------------------------------------------------------------------
# Agreement trend
# ---------------------------------------------------------------------------------------------


TREND_COLUMNS = ("annotator_id", "window", "window_order", "n_items", "kappa_vs_consensus", "percent_vs_consensus")


def agreement_trend(
    df: pd.DataFrame,
    by: str = "batch",
    *,
    level: str | None = None,
    categories: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Each annotator's agreement with the leave-one-out consensus per batch or per week.

    The consensus is computed once on the whole question; each window's kappa uses the
    annotator's labels in that window. Windows are batches in their categorical order (else in
    the order of their first ``created_at``, else sorted), or ISO weeks (Monday start) of
    ``created_at``.

    Returns
    -------
    DataFrame
        ``annotator_id``, (``question``), ``window``, ``window_order``, ``n_items``,
        ``kappa_vs_consensus``, ``percent_vs_consensus``; one row per annotator x window where
        the annotator has labels with a consensus. NaN kappa where it is undefined.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [i for i in range(8) for _ in range(3)],
    ...                    "annotator_id": ["a", "b", "c"] * 8,
    ...                    "label": ["y", "y", "y", "n", "n", "n"] * 4,
    ...                    "batch": ["v1"] * 12 + ["v2"] * 12})
    >>> agreement_trend(df)[["annotator_id", "window", "n_items", "percent_vs_consensus"]].head(2).values.tolist()
    [['a', 'v1', 4, 1.0], ['a', 'v2', 4, 1.0]]
    """
    _require_columns(df)
    if by not in TREND_WINDOWS:
        raise MetricInputError(f"by {by!r} is not one of {TREND_WINDOWS}")
    parts = []
    for question, rows in split_questions(df):
        data = _prepare(rows, level, categories)
        part = _trend(data, by)
        if question is not None:
            part.insert(1, "question", question)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _windows(data: _Question, by: str) -> tuple[np.ndarray, list[str]] | None:
    """Per rating: the window code (-1 when unknown), and the window names in order."""
    frame = data.frame
    if by == "week":
        if "created_at" not in frame.columns:
            return None
        created = pd.to_datetime(frame["created_at"], utc=True, errors="coerce")
        weeks = created.dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
        keys = weeks.dt.strftime("%Y-%m-%d").where(weeks.notna(), None)
        names = sorted(k for k in pd.unique(keys.dropna()))
    else:
        if "batch" not in frame.columns:
            return None
        batch_codes, batch_values = pd.factorize(frame["batch"].to_numpy(dtype=object), use_na_sentinel=True)
        keys = pd.Series(np.asarray([str(v) for v in batch_values], dtype=object), dtype=object).reindex(batch_codes)
        keys = keys.where(batch_codes >= 0, None).reset_index(drop=True)
        names = _batch_order(frame, keys)
    if not names:
        return None
    codes = pd.Categorical(np.asarray(keys, dtype=object), categories=names).codes.astype(np.int64)
    return codes, names


def _batch_order(frame: pd.DataFrame, keys: pd.Series) -> list[str]:
    if isinstance(frame["batch"].dtype, pd.CategoricalDtype):
        present = set(keys.dropna())
        return [str(c) for c in frame["batch"].cat.categories if str(c) in present]
    if "created_at" in frame.columns:
        created = pd.to_datetime(frame["created_at"], utc=True, errors="coerce")
        first = pd.Series(created.to_numpy()).groupby(keys.to_numpy()).min()
        if len(first) and first.notna().all():
            return [str(k) for k in first.sort_values(kind="stable").index]
    return sorted(str(k) for k in keys.dropna().unique())


def _trend_tables(data: _Question, by: str) -> tuple[np.ndarray, list[str]] | None:
    windows = _windows(data, by)
    if windows is None:
        return None
    codes, names = windows
    n_windows, n_annotators, q = len(names), data.ratings.n_annotators, data.n_values
    group = data.ratings.annotator_codes * n_windows + np.maximum(codes, 0)
    tables = _tables(data, group, n_annotators * n_windows, mask=codes >= 0)
    return tables.reshape(n_annotators, n_windows, q, q), names


def _trend(data: _Question, by: str) -> pd.DataFrame:
    result = _trend_tables(data, by)
    if result is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TREND_COLUMNS})
    tables, names = result
    n_annotators, n_windows = tables.shape[:2]
    out = pd.DataFrame(
        {
            "annotator_id": np.repeat(data.ratings.annotators.astype(str).to_numpy(dtype=object), n_windows),
            "window": np.tile(np.asarray(names, dtype=object), n_annotators),
            "window_order": np.tile(np.arange(n_windows), n_annotators),
            "n_items": tables.sum(axis=(2, 3)).ravel(),
            "kappa_vs_consensus": _kappa(data, tables).ravel(),
            "percent_vs_consensus": _percent(tables).ravel(),
        }
    )
    return out[out["n_items"] > 0].reset_index(drop=True)


def _splits(data: _Question, by: str) -> tuple[np.ndarray, list[str]] | None:
    """Per rating its window code, and the window names, when there are at least two windows."""
    windows = _windows(data, by)
    if windows is None or len(windows[1]) < 2:
        return None
    return windows


def _before_after(per_window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums over windows ``0..s`` and ``s+1..`` for every split ``s``: ``(A, W, ...)`` in,
    two ``(A, W-1, ...)`` out."""
    before = np.cumsum(per_window, axis=1)[:, :-1]
    return before, per_window.sum(axis=1, keepdims=True) - before


def _kappa_drop_tests(data: _Question, codes: np.ndarray, n_windows: int, t: CalibrationThresholds) -> dict:
    """Difference in differences of kappa with the leave-one-out consensus, per annotator and
    split: the annotator's fall minus the fall of the *other* human annotators' pooled kappa on
    the same windows, with a one-sided normal p from the four large-sample SEs
    (:func:`metrics.kappa.cohen_from_tables`)."""
    n_annotators, q = data.ratings.n_annotators, data.n_values
    group = np.where(codes >= 0, data.ratings.annotator_codes * n_windows + codes, -1)
    tables = _tables(data, np.maximum(group, 0), n_annotators * n_windows, mask=codes >= 0)
    tables = tables.reshape(n_annotators, n_windows, q, q)
    human = np.bincount(data.ratings.annotator_codes[data.is_human], minlength=n_annotators) > 0
    others = tables[human].sum(axis=0)[None] - np.where(human[:, None, None, None], tables, 0)
    own_before, own_after = _before_after(tables)
    crowd_before, crowd_after = _before_after(others)
    kappa = {}
    for name, stack in (("before", own_before), ("after", own_after), ("crowd_before", crowd_before), ("crowd_after", crowd_after)):
        with np.errstate(invalid="ignore", divide="ignore"):
            kappa[name] = cohen_from_tables(stack, data.weights)[0]
    excess = (kappa["before"] - kappa["after"]) - (kappa["crowd_before"] - kappa["crowd_after"])
    variance = _null_kappa_variance(tables, own_before, own_after, data.weights)
    variance = variance + _null_kappa_variance(others, crowd_before, crowd_after, data.weights)
    with np.errstate(invalid="ignore"):
        z = excess / np.sqrt(variance)
    p_value = stats.norm.sf(z)  # one-sided: a fall
    enough = (own_before.sum(axis=(2, 3)) >= t.drop_min_items) & (own_after.sum(axis=(2, 3)) >= t.drop_min_items)
    return {"kappa": kappa, "excess": excess, "p_value": np.where(enough, p_value, np.nan)}


def _null_kappa_variance(per_window: np.ndarray, before: np.ndarray, after: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Variance of ``kappa_before - kappa_after`` under "no change": the SE of kappa on all
    windows together, scaled to each side's size (as the pooled two-proportion test does). The
    SE at each side's own estimate shrinks as kappa nears 1 and made lucky early windows look
    like significant falls."""
    with np.errstate(invalid="ignore", divide="ignore"):
        se_all = cohen_from_tables(per_window.sum(axis=1), weights)[1]
        n_all = per_window.sum(axis=(1, 2, 3)).astype(float)[:, None]
        n_before, n_after = before.sum(axis=(2, 3)), after.sum(axis=(2, 3))
        return se_all[:, None] ** 2 * n_all * (1 / n_before + 1 / n_after)


def _usage_shift_tests(data: _Question, codes: np.ndarray, n_windows: int, t: CalibrationThresholds) -> dict:
    """Change of each label's paired difference ``d = 1[own = l] - p_l`` (own use minus the other
    humans' use on the same items) from before a split to after it; two-sided normal p from the
    empirical variances. Comparing with the others on the same items in the same windows
    removes changes of item mix and crowd-wide guideline changes."""
    n_annotators, q = data.ratings.n_annotators, data.n_values
    group = np.where(codes >= 0, data.ratings.annotator_codes * n_windows + codes, -1)
    sums = _usage_sums(data, group, n_annotators * n_windows)
    shape = (n_annotators, n_windows)
    n_before, n_after = _before_after(np.broadcast_to(sums.n, (n_annotators * n_windows, q)).reshape(*shape, q))
    parts = {}
    for name in ("observed", "expected", "sum_d", "sum_d2"):
        parts[name] = _before_after(getattr(sums, name).reshape(*shape, q))
    mean_before = parts["sum_d"][0] / np.where(n_before > 0, n_before, np.nan)
    mean_after = parts["sum_d"][1] / np.where(n_after > 0, n_after, np.nan)
    # the variance of d under "no change": pooled over both sides, as a pooled two-sample test
    n_all = n_before + n_after
    _, pooled = _mean_and_variance(parts["sum_d"][0] + parts["sum_d"][1], parts["sum_d2"][0] + parts["sum_d2"][1], n_all)
    with np.errstate(invalid="ignore", divide="ignore"):
        _, p_value = _z_p(mean_after - mean_before, pooled * n_all * (1 / n_before + 1 / n_after))
    enough = (n_before >= t.drop_min_items) & (n_after >= t.drop_min_items)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = {
            "share_before": parts["observed"][0] / n_before,
            "share_after": parts["observed"][1] / n_after,
            "others_before": parts["expected"][0] / n_before,
            "others_after": parts["expected"][1] / n_after,
        }
    moved_away = np.abs(mean_after) - np.abs(mean_before)
    return {"p_value": np.where(enough, p_value, np.nan), "moved_away": moved_away, **shares}


DRIFT_COLUMNS = (
    "drop_window", "kappa_before", "kappa_after", "crowd_kappa_before", "crowd_kappa_after", "drop_excess",
    "drop_p_holm", "usage_shift_label", "usage_shift_window", "usage_share_before", "usage_share_after",
    "others_share_before", "others_share_after", "usage_shift_p_holm",
)


def _drift_summary(data: _Question, by: str, t: CalibrationThresholds) -> pd.DataFrame:
    """Per annotator: the split where kappa fell most significantly beyond the other humans'
    (``drop_*``) and the label whose use moved most significantly away from the others' on the
    same items (``usage_shift_*``). Both families of tests share one Holm adjustment."""
    out = pd.DataFrame(index=_index(data))
    for column in DRIFT_COLUMNS:
        out[column] = None if column in ("drop_window", "usage_shift_label", "usage_shift_window") else np.nan
    splits = _splits(data, by)
    if splits is None:
        return out
    codes, names = splits
    kappa = _kappa_drop_tests(data, codes, len(names), t) if data.weights is not None else None
    usage = _usage_shift_tests(data, codes, len(names), t)
    kappa_p = kappa["p_value"] if kappa is not None else np.full(usage["p_value"].shape[:2], np.nan)
    adjusted = _holm(np.concatenate([kappa_p.ravel(), usage["p_value"].ravel()]))
    kappa_holm = adjusted[: kappa_p.size].reshape(kappa_p.shape)
    usage_holm = adjusted[kappa_p.size :].reshape(usage["p_value"].shape)
    rows = np.arange(data.ratings.n_annotators)
    if kappa is not None:
        split = _best(kappa_holm, -kappa["excess"])
        found = split >= 0
        pick = lambda values: np.where(found, values[rows, np.maximum(split, 0)], np.nan)  # noqa: E731
        out["drop_window"] = _names_at(names, split + 1, found)
        for column, key in (("kappa_before", "before"), ("kappa_after", "after")):
            out[column] = pick(kappa["kappa"][key])
        for column, key in (("crowd_kappa_before", "crowd_before"), ("crowd_kappa_after", "crowd_after")):
            out[column] = pick(kappa["kappa"][key])
        out["drop_excess"] = pick(kappa["excess"])
        out["drop_p_holm"] = pick(kappa_holm)
    eligible = np.where(usage["moved_away"] >= t.drift_share_gap, usage_holm, np.nan)
    flat = _best(eligible.reshape(len(rows), -1), -usage["moved_away"].reshape(len(rows), -1))
    found = flat >= 0
    split, label = np.divmod(np.maximum(flat, 0), data.n_values)
    pick = lambda values: np.where(found, values[rows, split, label], np.nan)  # noqa: E731
    labels = np.asarray([format_label(v) if not isinstance(v, str) else v for v in python_values(data.ratings.values)], dtype=object)
    out["usage_shift_label"] = pd.Series(np.where(found, labels[label], None), dtype=object).to_numpy()
    out["usage_shift_window"] = _names_at(names, split + 1, found)
    for column, key in (("usage_share_before", "share_before"), ("usage_share_after", "share_after"),
                        ("others_share_before", "others_before"), ("others_share_after", "others_after")):
        out[column] = pick(usage[key])
    out["usage_shift_p_holm"] = pick(usage_holm)
    return out


def _best(p_holm: np.ndarray, tie_break: np.ndarray) -> np.ndarray:
    """Per row, the column with the smallest finite ``p_holm`` (ties: smallest ``tie_break``);
    -1 when the row has none."""
    finite = np.isfinite(p_holm)
    order = np.lexsort((np.where(np.isfinite(tie_break), tie_break, np.inf), np.where(finite, p_holm, np.inf)), axis=-1)
    best = order[:, 0] if order.ndim == 2 else order[:1]
    return np.where(finite.any(axis=-1), best, -1)


def _names_at(names: list[str], positions: np.ndarray, found: np.ndarray) -> np.ndarray:
    return pd.Series([names[i] if f else None for i, f in zip(positions, found, strict=True)], dtype=object).to_numpy()


# ---------------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------------


def _flags(table: pd.DataFrame, level: str, trend_by: str, t: CalibrationThresholds) -> tuple[list, list]:
    flags, reasons = [], []
    for row in table.itertuples(index=False):  # one annotator per iteration: building sentences
        found = [check(row, level, trend_by, t) for check in _CHECKS]
        found = [f for f in found if f is not None]
        flags.append(tuple(code for code, _ in found))
        reasons.append(tuple(reason for _, reason in found))
    return flags, reasons


def _near_chance(row, level, trend_by, t):
    if math.isfinite(row.kappa_vs_consensus) and row.n_consensus_items >= t.min_items:
        if row.kappa_vs_consensus < t.near_chance_kappa:
            return "near_chance", (
                f"near-chance agreement (possible spammer): kappa with consensus "
                f"{row.kappa_vs_consensus:.2f} on {row.n_consensus_items} items"
            )
        return None
    if row.n_compared_items < t.min_items:
        return None
    if math.isfinite(row.correlation_vs_others) and row.correlation_vs_others < t.near_chance_kappa:
        return "near_chance", (
            f"near-chance agreement (possible spammer): correlation with the others' mean "
            f"{row.correlation_vs_others:.2f} on {row.n_compared_items} items"
        )
    return None


def _low_gold(row, level, trend_by, t):
    if row.n_gold < t.min_gold_items or not math.isfinite(row.gold_ci_high):
        return None
    if row.gold_ci_high < t.min_gold_accuracy:
        return "low_gold_accuracy", (
            f"gold accuracy below {t.min_gold_accuracy:.0%}: {row.gold_accuracy:.0%} on {row.n_gold} gold items "
            f"(95% CI {row.gold_ci_low:.0%}-{row.gold_ci_high:.0%})"
        )
    return None


def _overuse(row, level, trend_by, t):
    if not isinstance(row.overused_label, str) or not math.isfinite(row.overused_p_holm):
        return None
    gap = row.overused_share - row.overused_expected_share
    if row.overused_p_holm < t.overuse_p and row.overused_ratio >= t.overuse_ratio and gap >= t.overuse_min_share_gap:
        return "label_overuse", (
            f"over-uses label {row.overused_label}: {row.overused_share:.0%} vs {row.overused_expected_share:.0%} "
            f"by others on the same items (p_holm={row.overused_p_holm:.1g})"
        )
    return None


def _too_fast(row, level, trend_by, t):
    if row.n_timed < t.min_timed_items or not math.isfinite(row.speed_ratio) or row.annotator_kind == "model":
        return None
    if row.speed_ratio < t.too_fast_ratio:
        return "too_fast", (
            f"too fast: median {row.median_lead_time_s:.1f} s per item vs the crowd's "
            f"{row.crowd_median_lead_time_s:.1f} s ({row.speed_ratio:.0%})"
        )
    return None


def _drop(row, level, trend_by, t):
    window = "batch" if trend_by == "batch" else "week of"
    if isinstance(row.drop_window, str) and row.drop_p_holm < t.drop_p and row.drop_excess >= t.agreement_drop:
        return "agreement_drop", (
            f"agreement dropped after {window} {row.drop_window}: kappa {row.kappa_before:.2f} -> {row.kappa_after:.2f} "
            f"(other annotators {row.crowd_kappa_before:.2f} -> {row.crowd_kappa_after:.2f}; p_holm={row.drop_p_holm:.1g})"
        )
    if isinstance(row.usage_shift_window, str) and row.usage_shift_p_holm < t.drop_p:
        return "agreement_drop", (
            f"agreement dropped after {window} {row.usage_shift_window}: gives {row.usage_shift_label} to "
            f"{row.usage_share_after:.0%} of items vs {row.others_share_after:.0%} by the others on the same items "
            f"(before: {row.usage_share_before:.0%} vs {row.others_share_before:.0%}; p_holm={row.usage_shift_p_holm:.1g})"
        )
    return None


def _lenient(row, level, trend_by, t):
    if not math.isfinite(row.leniency) or not math.isfinite(row.crowd_rating_sd) or row.crowd_rating_sd <= 0:
        return None
    if row.n_compared_items < t.min_items:
        return None
    size = row.leniency / row.crowd_rating_sd
    if abs(size) >= t.leniency_sd:
        direction = "higher" if size > 0 else "lower"
        return "leniency", (
            f"rates {direction} than the others on the same items: {row.leniency:+.2f} points on average "
            f"({abs(size):.1f} sd)"
        )
    return None


_CHECKS = (_near_chance, _low_gold, _overuse, _too_fast, _drop, _lenient)


# ---------------------------------------------------------------------------------------------
# annotator_confusion
# ---------------------------------------------------------------------------------------------


def annotator_confusion(
    df: pd.DataFrame,
    annotator: Any,
    *,
    level: str | None = None,
    categories: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """One annotator's labels against the leave-one-out consensus, for the dashboard's heatmap.

    Returns
    -------
    DataFrame
        ``consensus_label``, ``annotator_label``, ``n``, ``share_of_consensus`` (share of the
        items with that consensus that the annotator gave this label: rows sum to one); one row
        per cell with ``n > 0``.

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": [i for i in range(4) for _ in range(3)],
    ...                    "annotator_id": ["a", "b", "c"] * 4,
    ...                    "label": ["y", "y", "n", "n", "n", "n", "y", "y", "y", "n", "n", "y"]})
    >>> annotator_confusion(df, "c").values.tolist()
    [['n', 'n', 1, 0.5], ['n', 'y', 1, 0.5], ['y', 'n', 1, 0.5], ['y', 'y', 1, 0.5]]
    """
    _require_columns(df)
    rows = df if "question" not in df.columns or df["question"].nunique() <= 1 else None
    if rows is None:
        raise MetricInputError("annotator_confusion needs the rows of one question; filter on 'question' first")
    data = _prepare(rows, level, categories)
    names = data.ratings.annotators.astype(str)
    if str(annotator) not in set(names):
        raise MetricInputError(f"annotator {annotator!r} has no label here; the annotators are {list(names)[:10]}")
    code = int(np.flatnonzero(names == str(annotator))[0])
    mine = data.ratings.annotator_codes == code
    table = _tables(data, np.zeros(data.ratings.n_ratings, dtype=np.int64), 1, mask=mine)[0]
    consensus_code, own_code = np.nonzero(table.T)
    counts = table[own_code, consensus_code]
    totals = table.sum(axis=0)[consensus_code]
    labels = np.asarray(python_values(data.ratings.values), dtype=object)
    return pd.DataFrame(
        {
            "consensus_label": pd.Series(labels[consensus_code], dtype=object),
            "annotator_label": pd.Series(labels[own_code], dtype=object),
            "n": counts.astype(np.int64),
            "share_of_consensus": counts / totals,
        }
    )

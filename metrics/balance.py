"""Class balance of one question, and the prevalence paradox beside agreement.

The sufficient statistic is the label count vector ``n_k`` over the K categories declared by the
schema (not only the observed ones: a category nobody used is the most important finding).
Thresholds are MEASURES.md "Class balance".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from metrics.errors import MetricInputError

# MEASURES.md "Class balance" (after deepchecks' class-imbalance check and He & Garcia 2009).
IMBALANCE_RATIO_WARN = 10.0
IMBALANCE_RATIO_FAIL = 100.0
RAREST_SHARE_TIMES_K_WARN = 0.2
RAREST_SHARE_TIMES_K_FAIL = 0.1
NORMALIZED_ENTROPY_WARN = 0.7
MIN_SUPPORT = 30
TARGET_TVD_WARN = 0.05
TARGET_TVD_FAIL = 0.10
MISSING_CATEGORY_VERDICT = "fail"
BELOW_MIN_SUPPORT_VERDICT = "warn"
SOURCE = "MEASURES.md: Class balance"
# Prevalence paradox (Feinstein & Cicchetti 1990): high raw agreement with low kappa/alpha
# under a dominant class.
PARADOX_AGREEMENT = 0.80
PARADOX_CHANCE_CORRECTED = 0.40
PARADOX_PREVALENCE = 0.80
GOF_PERMUTATIONS = 2000

VERDICT_COLUMNS = ["check", "value", "warn_at", "fail_at", "verdict", "source"]
VERDICT_ORDER = {"ok": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class ClassBalance:
    """The label mix of one question.

    Attributes
    ----------
    counts : tidy, one row per category (declared first, then undeclared ones): ``label``,
        ``count``, ``share``, ``ci_low``, ``ci_high`` (95% Wilson), ``declared``,
        ``below_min_support``, and ``target_share`` when a target was given.
    n : labels counted (label assignments for multi-label answers).
    k : number of categories (declared and observed).
    imbalance_ratio : largest / smallest count over the categories that occur (missing ones are
        reported by ``missing_categories``); NaN with no labels.
    rarest_share_times_k : smallest share over all K categories times K (1 for a uniform mix;
        0 when a category is missing).
    normalized_entropy : H / ln K (1 for a uniform mix); NaN when K < 2.
    effective_classes : exp(H). inverse_simpson : 1 / sum of squared shares.
    missing_categories : declared categories with no label. unexpected_categories : observed
        but not declared. below_min_support : categories with fewer than ``min_support`` labels.
    target_tvd, target_chi2, target_p_value, target_p_method : distance to the declared target
        mix and the goodness-of-fit test (NaN / empty without a target).
    verdicts : tidy table ``check``, ``value``, ``warn_at``, ``fail_at``, ``verdict``, ``source``.
    """

    counts: pd.DataFrame
    n: int
    k: int
    imbalance_ratio: float
    rarest_share_times_k: float
    normalized_entropy: float
    effective_classes: float
    inverse_simpson: float
    missing_categories: tuple
    unexpected_categories: tuple
    below_min_support: tuple
    min_support: int
    target_tvd: float
    target_chi2: float
    target_p_value: float
    target_p_method: str
    verdicts: pd.DataFrame

    @property
    def verdict(self) -> str:
        """The worst verdict of :attr:`verdicts` (``ok`` when there is none)."""
        return worst_verdict(self.verdicts["verdict"])


def worst_verdict(verdicts: pd.Series | list) -> str:
    """``fail`` > ``warn`` > ``ok``."""
    levels = [VERDICT_ORDER.get(v, 0) for v in verdicts]
    return {0: "ok", 1: "warn", 2: "fail"}[max(levels, default=0)]


def verdict_row(check: str, value: float, warn_at: float, fail_at: float, *, higher_is_worse: bool,
                source: str = SOURCE) -> dict:
    """One row of a verdict table: compares ``value`` with its warn and fail thresholds
    (strictly beyond the threshold, as MEASURES.md words them: "warn > 10"). NaN is ``ok``."""
    verdict = "ok"
    if not math.isnan(value):
        beyond = (lambda t: value > t) if higher_is_worse else (lambda t: value < t)
        if not math.isnan(fail_at) and beyond(fail_at):
            verdict = "fail"
        elif not math.isnan(warn_at) and beyond(warn_at):
            verdict = "warn"
    return {"check": check, "value": value, "warn_at": warn_at, "fail_at": fail_at, "verdict": verdict, "source": source}


def label_count_vector(labels: pd.Series, categories: list | tuple | None = None) -> pd.Series:
    """Counts per category, declared categories first (zeros kept), then undeclared ones.
    Multi-label answers (frozensets) count once per label.

    Examples
    --------
    >>> label_count_vector(pd.Series(["a", "a", "c"]), categories=["a", "b"]).to_dict()
    {'a': 2, 'b': 0, 'c': 1}
    """
    present = labels.dropna()
    if not present.empty and isinstance(present.iloc[0], frozenset):
        present = present.map(sorted).explode().dropna()
    elif not present.empty and isinstance(present.iloc[0], tuple):
        raise MetricInputError("class_balance works on categorical or multi-label answers; spans are not categories")
    observed = present.value_counts(sort=False)
    declared = list(categories) if categories is not None else []
    extra = sorted((c for c in observed.index if c not in set(declared)), key=str)
    counts = observed.reindex(declared + extra, fill_value=0).astype(np.int64)
    counts.index.name = "label"
    return counts


def class_balance(
    df: pd.DataFrame,
    categories: list | tuple | None = None,
    target: Mapping | None = None,
    min_support: int = MIN_SUPPORT,
    *,
    missing_verdict: str = MISSING_CATEGORY_VERDICT,
    permutations: int = GOF_PERMUTATIONS,
    seed: int = 0,
) -> ClassBalance:
    r"""Class balance of the labels of one question.

    Parameters
    ----------
    df : long table with a ``label`` column (categorical or multi-label answers).
    categories : the schema's categories; K counts them (plus any undeclared observed label).
    target : declared target mix, label -> share (normalised to sum to 1).
    min_support : per-category minimum count.
    missing_verdict : verdict of a missing declared category (``fail`` by default).
    permutations : Monte Carlo replicates for the goodness-of-fit p-value when expected counts
        are small (below 5 in more than 20% of categories).

    Returns
    -------
    ClassBalance

    Notes
    -----
    With shares :math:`p_k = n_k / N`: :math:`H = -\sum p_k \ln p_k`, normalized entropy
    :math:`H / \ln K`, effective classes :math:`e^H`, inverse Simpson :math:`1/\sum p_k^2`
    (Hill numbers of order 1 and 2, Hill 1973). Wilson intervals (Wilson 1927) through
    statsmodels ``proportion_confint(method="wilson")``. Target distance is the TVD
    :math:`\tfrac12\sum|p_k - t_k|` with a chi-square goodness-of-fit test.
    Multi-label answers count once per label, so shares are shares of label assignments.

    Examples
    --------
    >>> frame = pd.DataFrame({"label": ["a"] * 60 + ["b"] * 30 + ["c"] * 10})
    >>> balance = class_balance(frame, categories=["a", "b", "c", "d"])
    >>> balance.imbalance_ratio, balance.missing_categories, balance.verdict
    (6.0, ('d',), 'fail')
    >>> round(balance.normalized_entropy, 3)
    0.648
    """
    if "label" not in df.columns:
        raise MetricInputError(f"class_balance needs a 'label' column; the table has {list(df.columns)}")
    return class_balance_from_counts(
        label_count_vector(df["label"], categories), categories, target, min_support,
        missing_verdict=missing_verdict, permutations=permutations, seed=seed,
    )


def class_balance_from_counts(
    counts: pd.Series,
    categories: list | tuple | None = None,
    target: Mapping | None = None,
    min_support: int = MIN_SUPPORT,
    *,
    missing_verdict: str = MISSING_CATEGORY_VERDICT,
    permutations: int = GOF_PERMUTATIONS,
    seed: int = 0,
) -> ClassBalance:
    """Class balance from the label count vector (the sufficient statistic): the entry point
    the DuckDB and Spark engines of :mod:`qa.engines` call with counts they reduced themselves.

    ``counts`` is indexed by label; it is put in :func:`label_count_vector`'s order (declared
    categories first, zeros kept, then undeclared labels sorted). Other parameters, the result
    and the formulas are those of :func:`class_balance`.

    Examples
    --------
    >>> balance = class_balance_from_counts(pd.Series({"a": 60, "b": 30, "c": 10}), ["a", "b", "c"])
    >>> balance.imbalance_ratio, balance.verdict
    (6.0, 'warn')
    """
    declared_order = list(categories) if categories is not None else []
    extra = sorted((c for c in counts.index if c not in set(declared_order)), key=str)
    counts = counts.reindex(declared_order + extra, fill_value=0).astype(np.int64)
    counts.index.name = "label"
    declared = set(categories) if categories is not None else set(counts.index)
    values = counts.to_numpy()
    n, k = int(values.sum()), len(values)
    shares = values / n if n else np.full(k, np.nan)
    table = _counts_table(counts, shares, n, declared, min_support)
    target_shares = _target_shares(target, counts.index) if target is not None else None
    if target_shares is not None:
        table["target_share"] = target_shares
    entropy = float(-np.sum(shares[shares > 0] * np.log(shares[shares > 0]))) if n else math.nan
    occurring = values[values > 0]
    result = dict(
        counts=table, n=n, k=k,
        imbalance_ratio=float(occurring.max() / occurring.min()) if occurring.size else math.nan,
        rarest_share_times_k=float(shares.min() * k) if n else math.nan,
        normalized_entropy=entropy / math.log(k) if n and k >= 2 else math.nan,
        effective_classes=math.exp(entropy) if n else math.nan,
        inverse_simpson=float(1.0 / np.sum(shares**2)) if n else math.nan,
        missing_categories=tuple(c for c in counts.index if c in declared and counts[c] == 0),
        unexpected_categories=tuple(c for c in counts.index if c not in declared),
        below_min_support=tuple(counts.index[values < min_support]),
        min_support=min_support,
    )
    result.update(_target_fit(values, target_shares, permutations, seed))
    result["verdicts"] = _balance_verdicts(result, missing_verdict)
    return ClassBalance(**result)


def _counts_table(counts: pd.Series, shares: np.ndarray, n: int, declared: set, min_support: int) -> pd.DataFrame:
    values = counts.to_numpy()
    if n:
        low, high = proportion_confint(values, n, alpha=0.05, method="wilson")
    else:
        low = high = np.full(len(values), np.nan)
    return pd.DataFrame({
        "label": np.asarray(counts.index, dtype=object), "count": values, "share": shares,
        "ci_low": low, "ci_high": high, "declared": [c in declared for c in counts.index],
        "below_min_support": values < min_support,
    })


def _target_shares(target: Mapping, labels: pd.Index) -> np.ndarray:
    unknown = [label for label in target if label not in set(labels)]
    if unknown:
        raise MetricInputError(f"target names categories {unknown} that are neither declared nor observed")
    shares = np.array([float(target.get(label, 0.0)) for label in labels])
    if (shares < 0).any() or shares.sum() <= 0:
        raise MetricInputError("target shares must be non-negative and sum to more than 0")
    return shares / shares.sum()


def _target_fit(values: np.ndarray, target: np.ndarray | None, permutations: int, seed: int) -> dict:
    empty = dict(target_tvd=math.nan, target_chi2=math.nan, target_p_value=math.nan, target_p_method="")
    n = values.sum()
    if target is None or n == 0:
        return empty
    tvd = float(np.round(0.5 * np.abs(values / n - target).sum(), 12))
    statistic, p_value, method = goodness_of_fit(values, target, permutations=permutations, seed=seed)
    return dict(target_tvd=tvd, target_chi2=statistic, target_p_value=p_value, target_p_method=method)


def goodness_of_fit(counts: np.ndarray, target: np.ndarray, *, permutations: int = GOF_PERMUTATIONS,
                    seed: int = 0) -> tuple[float, float, str]:
    """Chi-square goodness-of-fit of ``counts`` to the shares ``target``.

    Returns ``(statistic, p_value, p_method)``. A label observed where the target share is 0
    makes the statistic infinite (p = 0, ``impossible_under_target``). With expected counts
    below 5 in more than 20% of the categories, a Monte Carlo p-value over multinomial draws
    (``monte_carlo``); else the asymptotic one.

    Examples
    --------
    >>> goodness_of_fit(np.array([50, 50]), np.array([0.5, 0.5]))
    (0.0, 1.0, 'asymptotic')
    """
    counts = np.asarray(counts, dtype=float)
    n = counts.sum()
    expected = n * target
    if np.any((expected == 0) & (counts > 0)):
        return math.inf, 0.0, "impossible_under_target"
    keep = expected > 0
    if keep.sum() < 2:
        return 0.0, 1.0, "degenerate"
    observed, expected = counts[keep], expected[keep]
    statistic = float(np.round(np.sum((observed - expected) ** 2 / expected), 12))
    if np.mean(expected < 5) > 0.2 and permutations > 0:
        draws = np.random.default_rng(seed).multinomial(int(n), target[keep] / target[keep].sum(), size=permutations)
        simulated = ((draws - expected) ** 2 / expected).sum(axis=1)
        return statistic, float((1 + np.sum(simulated >= statistic - 1e-9)) / (1 + permutations)), "monte_carlo"
    return statistic, float(stats.chi2.sf(statistic, keep.sum() - 1)), "asymptotic"


def _balance_verdicts(result: dict, missing_verdict: str) -> pd.DataFrame:
    rows = [
        verdict_row("imbalance_ratio", result["imbalance_ratio"], IMBALANCE_RATIO_WARN, IMBALANCE_RATIO_FAIL, higher_is_worse=True),
        verdict_row("rarest_share_times_k", result["rarest_share_times_k"], RAREST_SHARE_TIMES_K_WARN,
                    RAREST_SHARE_TIMES_K_FAIL, higher_is_worse=False),
        verdict_row("normalized_entropy", result["normalized_entropy"], NORMALIZED_ENTROPY_WARN, math.nan, higher_is_worse=False),
    ]
    missing = len(result["missing_categories"])
    rows.append({"check": "missing_categories", "value": float(missing), "warn_at": 0.0, "fail_at": 0.0,
                 "verdict": missing_verdict if missing else "ok", "source": SOURCE})
    below = len(result["below_min_support"])
    rows.append({"check": "below_min_support", "value": float(below), "warn_at": 0.0, "fail_at": math.nan,
                 "verdict": BELOW_MIN_SUPPORT_VERDICT if below else "ok", "source": SOURCE})
    if not math.isnan(result["target_tvd"]):
        rows.append(verdict_row("target_tvd", result["target_tvd"], TARGET_TVD_WARN, TARGET_TVD_FAIL, higher_is_worse=True))
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def prevalence_and_agreement(
    df: pd.DataFrame, agreement: Mapping | pd.DataFrame | None = None, *, question_column: str = "question"
) -> pd.DataFrame:
    r"""Raw percent agreement and class prevalence per question, beside kappa/alpha.

    With one dominant class, chance-corrected coefficients can be low while raw agreement is
    high (the prevalence paradox, Feinstein & Cicchetti 1990); showing both keeps a low kappa
    from being misread. Percent agreement is the share of agreeing rating pairs within items,
    averaged over items with at least two ratings:
    :math:`P_o = \frac{1}{I}\sum_i \frac{\sum_k n_{ik}(n_{ik}-1)}{m_i(m_i-1)}`.

    Parameters
    ----------
    df : long table ``item_id``, ``annotator_id``, ``label`` (and ``question`` for several).
    agreement : chance-corrected values computed elsewhere (this function computes none):
        ``{question: {"krippendorff_alpha": 0.31, ...}}`` or a DataFrame with a ``question``
        column; each coefficient becomes a column.

    Returns
    -------
    DataFrame
        One row per question: ``question``, ``n_items`` (pairable), ``percent_agreement``,
        ``majority_label``, ``majority_prevalence``, the agreement columns, and
        ``paradox_suspected`` (agreement >= 0.80, majority prevalence >= 0.80 and some given
        coefficient < 0.40). NaN agreement when no item has two ratings.

    Examples
    --------
    >>> frame = pd.DataFrame({"item_id": [1, 1, 2, 2, 3, 3], "annotator_id": list("xyxyxy"),
    ...                       "label": ["no", "no", "no", "no", "no", "yes"]})
    >>> table = prevalence_and_agreement(frame, {"label": {"cohen_kappa": 0.0}})
    >>> table[["question", "percent_agreement", "majority_label", "paradox_suspected"]].round(3)
      question  percent_agreement majority_label  paradox_suspected
    0    label              0.667             no              False
    """
    frame = df if question_column in df.columns else df.assign(**{question_column: "label"})
    frame = frame[["item_id", question_column, "label"]].dropna(subset=["label"])
    frame = frame.assign(label=frame["label"].map(lambda v: tuple(sorted(v)) if isinstance(v, frozenset) else v))
    cell = frame.groupby([question_column, "item_id", "label"], observed=True).size().rename("n_ik").reset_index()
    cell["pairs_agreeing"] = cell["n_ik"] * (cell["n_ik"] - 1)
    per_item = cell.groupby([question_column, "item_id"], observed=True).agg(m=("n_ik", "sum"), agree=("pairs_agreeing", "sum"))
    per_item = per_item[per_item["m"] >= 2]
    per_item = per_item.assign(p_o=per_item["agree"] / (per_item["m"] * (per_item["m"] - 1)))
    agreement_table = per_item.groupby(level=0, observed=True).agg(n_items=("p_o", "size"), percent_agreement=("p_o", "mean"))
    prevalence = frame.groupby([question_column, "label"], observed=True).size().rename("count").reset_index()
    prevalence = prevalence.sort_values([question_column, "count"], ascending=[True, False], kind="stable")
    totals = prevalence.groupby(question_column, observed=True)["count"].transform("sum")
    prevalence = prevalence.assign(majority_prevalence=prevalence["count"] / totals).drop_duplicates(question_column)
    table = prevalence.rename(columns={"label": "majority_label"})[[question_column, "majority_label", "majority_prevalence"]]
    table = table.merge(agreement_table, left_on=question_column, right_index=True, how="left")
    table["n_items"] = table["n_items"].fillna(0).astype(np.int64)
    table = table.rename(columns={question_column: "question"})
    given = _agreement_frame(agreement)
    coefficients = [c for c in given.columns if c != "question"]
    table = table.merge(given, on="question", how="left") if coefficients else table
    low = table[coefficients].lt(PARADOX_CHANCE_CORRECTED).any(axis=1) if coefficients else False
    table["paradox_suspected"] = (table["percent_agreement"] >= PARADOX_AGREEMENT) & (
        table["majority_prevalence"] >= PARADOX_PREVALENCE) & low
    columns = ["question", "n_items", "percent_agreement", "majority_label", "majority_prevalence", *coefficients, "paradox_suspected"]
    return table[columns].reset_index(drop=True)


def _agreement_frame(agreement: Mapping | pd.DataFrame | None) -> pd.DataFrame:
    if agreement is None:
        return pd.DataFrame({"question": pd.Series(dtype=object)})
    if isinstance(agreement, pd.DataFrame):
        if "question" not in agreement.columns:
            raise MetricInputError("agreement DataFrame needs a 'question' column")
        return agreement.assign(question=agreement["question"].astype(str))
    rows = [{"question": str(question), **dict(values)} for question, values in agreement.items()]
    return pd.DataFrame(rows)

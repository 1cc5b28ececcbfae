"""Metric results of one export, computed once and shared by ``aqa check`` and ``aqa report``.

:class:`Measurements` is the only place where ``qa`` calls the ``metrics`` functions for the
CI gate and the report: each result is computed on first use and cached, so a check and the
report section that shows the same number read the same object (a number means the same
everywhere, STYLE.md principle 11). Checks never recompute a formula; they read these results.

A metric family whose module is not installed raises :class:`MetricUnavailable`; the check
becomes an ``error`` and the report leaves the section out with a note.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
from collections.abc import Callable
from typing import Any

import pandas as pd

from metrics.result import AgreementResult
from qa.schema import AnnotationSet

#: Metric family -> the module that computes it.
FAMILY_MODULES = {
    "krippendorff_alpha": "metrics.alpha",
    "kappa": "metrics.kappa",
    "pairwise": "metrics.pairwise",
    "calibration": "metrics.calibration",
    "disputes": "metrics.disputes",
    "balance": "metrics.balance",
    "drift": "metrics.drift",
    "diversity": "metrics.diversity",
    "spans": "metrics.spans",
}
#: Agreement coefficient -> (module key, function name).
COEFFICIENT_FUNCTIONS = {
    "krippendorff_alpha": ("krippendorff_alpha", "krippendorff_alpha"),
    "fleiss_kappa": ("kappa", "fleiss_kappa"),
    "scott_pi": ("kappa", "scott_pi"),
    "gwet_ac": ("kappa", "gwet_ac"),
    "brennan_prediger": ("kappa", "brennan_prediger"),
    "cohen_kappa": ("kappa", "cohen_kappa"),
    "percent_agreement": ("kappa", "percent_agreement"),
}
#: Agreement weights of the kappa family by level of measurement (Gwet 2014, sec. 3.2).
LEVEL_WEIGHTS = {"ordinal": "ordinal", "interval": "quadratic", "ratio": "quadratic"}


class MetricUnavailable(RuntimeError):
    """The module computing a metric family is not installed (yet)."""


def metric_function(family: str, name: str) -> Callable[..., Any]:
    """The function ``name`` of the module of ``family``; :class:`MetricUnavailable` when the
    module or the function does not exist."""
    module_name = FAMILY_MODULES[family]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name == module_name:
            raise MetricUnavailable(f"{module_name} is not available") from None
        raise
    function = getattr(module, name, None)
    if function is None:
        raise MetricUnavailable(f"{module_name}.{name} is not available")
    return function


def family_available(family: str, name: str) -> bool:
    """True when :func:`metric_function` would find ``family``'s function ``name``."""
    try:
        metric_function(family, name)
    except MetricUnavailable:
        return False
    return True


def call_with_supported(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``function`` with the keyword arguments it accepts (the others are dropped), so an
    optional parameter such as ``n_boot`` is passed only to the coefficients that take it."""
    parameters = inspect.signature(function).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return function(*args, **kwargs)
    return function(*args, **{k: v for k, v in kwargs.items() if k in parameters})


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """A context limiting BLAS/OpenMP pools to one thread (threadpoolctl, a scikit-learn
    dependency); a no-op when threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_limits
    except ModuleNotFoundError:  # pragma: no cover - scikit-learn always brings it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


class Measurements:
    """Lazily computed, cached metric results of one :class:`~qa.schema.AnnotationSet`.

    Parameters
    ----------
    annotations : the export.
    ci_level, n_boot, seed : the interval every agreement coefficient reports.
    """

    def __init__(self, annotations: AnnotationSet, *, ci_level: float = 0.95, n_boot: int = 1000, seed: int = 0) -> None:
        self.annotations = annotations
        self.ci_level = ci_level
        self.n_boot = n_boot
        self.seed = seed
        self._cache: dict[tuple, Any] = {}

    # -- plumbing -------------------------------------------------------------------------
    def _cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def ratings(self, question: str) -> pd.DataFrame:
        """The human annotations of one question (the long table every metric reads)."""
        return self._cached(("ratings", question), lambda: self.annotations.for_question(question))

    def questions(self) -> list[str]:
        return self.annotations.question_names

    def kind(self, question: str) -> str:
        return self.annotations.question(question).kind

    def level(self, question: str) -> str:
        return self.annotations.question(question).level

    def categories(self, question: str) -> list | None:
        categories = list(self.annotations.question(question).categories)
        return categories or None

    # -- agreement ------------------------------------------------------------------------
    def agreement(
        self,
        question: str,
        coefficient: str = "krippendorff_alpha",
        *,
        level: str | None = None,
        annotators: tuple[str, str] | None = None,
        weights: str | None = None,
    ) -> AgreementResult:
        """One agreement coefficient of one question, with its bootstrap interval.

        ``level`` defaults to the question's level. Kappa-family coefficients are weighted by
        ``weights``, else by the level: ``ordinal`` weights for ordinal questions, ``quadratic``
        for interval ones, none for nominal ones.
        """
        level = level or self.level(question)
        if coefficient != "krippendorff_alpha" and weights is None:
            weights = LEVEL_WEIGHTS.get(level)
        key = ("agreement", question, coefficient, level, annotators, weights)
        return self._cached(key, lambda: self._agreement(question, coefficient, level, annotators, weights))

    def _agreement(
        self, question: str, coefficient: str, level: str, annotators: tuple[str, str] | None, weights: str | None
    ) -> AgreementResult:
        family, name = COEFFICIENT_FUNCTIONS[coefficient]
        function = metric_function(family, name)
        ratings = self.ratings(question)
        options: dict[str, Any] = dict(
            n_boot=self.n_boot, ci_level=self.ci_level, seed=self.seed, categories=self.categories(question)
        )
        if coefficient == "krippendorff_alpha":
            options["level"] = level
        else:
            options["weights"] = weights
        if annotators is not None:
            return call_with_supported(function, ratings, annotators[0], annotators[1], **options)
        return call_with_supported(function, ratings, **options)

    def span_f1(self, question: str, mode: str = "exact") -> AgreementResult:
        """Micro-averaged pairwise span F1 of a spans question (see ``metrics.spans``)."""
        def compute() -> AgreementResult:
            return metric_function("spans", "span_f1")(self.ratings(question), mode=mode)

        return self._cached(("span_f1", question, mode), compute)

    def pairable_items(self, question: str) -> int:
        """Items with at least two labels, as counted by the question's agreement coefficient
        (span F1 for spans questions, Krippendorff's alpha otherwise)."""
        if self.kind(question) == "spans":
            return int(self.span_f1(question).n_items)
        return int(self.agreement(question, "krippendorff_alpha").n_items)

    def pairwise(self, question: str) -> pd.DataFrame:
        """Pairwise agreement of the annotators of one question (tidy: one row per pair)."""
        def compute() -> pd.DataFrame:
            function = metric_function("pairwise", "pairwise_agreement")
            return call_with_supported(
                function, self.ratings(question), categories=self.categories(question),
                weights=LEVEL_WEIGHTS.get(self.level(question)),
            )

        return self._cached(("pairwise", question), compute)

    # -- annotators and items ---------------------------------------------------------------
    def calibration(self, question: str) -> pd.DataFrame:
        """One row per annotator with a ``flags`` column (see ``metrics.calibration``)."""
        def compute() -> pd.DataFrame:
            function = metric_function("calibration", "annotator_calibration")
            gold = self.annotations.gold_for(question)
            return call_with_supported(
                function, self.ratings(question), gold=gold if not gold.empty else None,
                level=self._metric_level(question), categories=self.categories(question),
            )

        return self._cached(("calibration", question), compute)

    def disputes(self, question: str) -> pd.DataFrame:
        """Disputed items of one question, ranked (see ``metrics.disputes``)."""
        def compute() -> pd.DataFrame:
            function = metric_function("disputes", "disputed_items")
            gold = self.annotations.gold_for(question)
            return call_with_supported(
                function, self.ratings(question), gold=gold if not gold.empty else None,
                level=self._metric_level(question),
                categories=self.categories(question),
            )

        return self._cached(("disputes", question), compute)

    def _metric_level(self, question: str) -> str | None:
        """The question's level when it is a level of measurement (else the metric infers it)."""
        level = self.level(question)
        return level if level in ("nominal", "ordinal", "interval", "ratio", "multilabel") else None

    # -- data -----------------------------------------------------------------------------
    def balance(self, question: str) -> Any:
        """Class balance of one question's labels (see ``metrics.balance``)."""
        def compute() -> Any:
            function = metric_function("balance", "class_balance")
            return call_with_supported(function, self.ratings(question), categories=self.categories(question))

        return self._cached(("balance", question), compute)

    def drift(self, question: str, by: str | None = None) -> Any:
        """Label drift of one question over windows (``by``: default :meth:`default_window`)."""
        by = by or self.default_window()
        def compute() -> Any:
            function = metric_function("drift", "label_drift")
            return call_with_supported(function, self.ratings(question), by=by, seed=self.seed)

        return self._cached(("drift", question, by), compute)

    def default_window(self) -> str:
        """``batch`` when the export has batches, else ``week`` when it has timestamps."""
        table = self.annotations.annotations
        if "batch" in table.columns and table["batch"].notna().any() and table["batch"].nunique() > 1:
            return "batch"
        if "created_at" in table.columns and table["created_at"].notna().any():
            return "week"
        return "batch"

    def diversity(self) -> Any:
        """Lexical and semantic diversity of the item texts (see ``metrics.diversity``).

        Computed with BLAS limited to one thread: its matrices (texts x 128 SVD dimensions) are
        too small to gain from threads, and on a busy CI runner OpenBLAS threads spin-wait. On the
        sample project (600 texts, 2 shared cores) this took the call from 2.5-3.9 s of CPU
        (9-14 s wall) to 0.4 s (1.3 s wall), with the same figures.
        """
        def compute() -> Any:
            function = metric_function("diversity", "text_diversity")
            with single_threaded_blas():
                return call_with_supported(function, self.item_texts(), seed=self.seed)

        return self._cached(("diversity",), compute)

    def item_texts(self) -> pd.Series:
        """The items' texts (empty when the export has none)."""
        items = self.annotations.items
        if "text" not in items.columns:
            return pd.Series(dtype=object)
        return items["text"].dropna().astype(str)

"""``aqa check --engine``: the check machinery on an engine's reductions.

:class:`EngineMeasurements` is :class:`qa.measurements.Measurements` whose results come from a
:class:`~qa.engines.ReducedAnnotationSet` (DuckDB or Spark) instead of a loaded table: the same
checks, thresholds and outputs, the same numbers. Metrics the engines do not compute (annotator
flags, disputes, spans, diversity, pairwise tables) raise :class:`MetricUnavailable`, which the
check reports as an error naming the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from metrics.result import AgreementResult
from qa.engines import AUTO_MEMORY_SHARE, ReducedAnnotationSet, choose_engine, open_engine
from qa.errors import ConfigError
from qa.measurements import Measurements, MetricUnavailable

PATTERN_COEFFICIENTS = ("fleiss_kappa", "scott_pi", "gwet_ac", "brennan_prediger", "percent_agreement")


class EngineMeasurements(Measurements):
    """Cached metric results of a :class:`~qa.engines.ReducedAnnotationSet`.

    >>> EngineMeasurements.__mro__[1].__name__
    'Measurements'
    """

    def __init__(self, reduced: ReducedAnnotationSet, *, ci_level: float = 0.95, n_boot: int = 1000, seed: int = 0) -> None:
        super().__init__(reduced, ci_level=ci_level, n_boot=n_boot, seed=seed)  # type: ignore[arg-type]
        self.reduced = reduced

    def _unavailable(self, what: str) -> MetricUnavailable:
        return MetricUnavailable(
            f"{what} is not computed by the {self.reduced.engine} engine (it computes alpha, the kappa family, "
            "class balance and drift); run with --engine pandas"
        )

    def ratings(self, question: str) -> pd.DataFrame:
        raise self._unavailable("the row-level table")

    def _agreement(
        self, question: str, coefficient: str, level: str, annotators: tuple[str, str] | None, weights: str | None
    ) -> AgreementResult:
        options: dict[str, Any] = dict(n_boot=self.n_boot, ci_level=self.ci_level, seed=self.seed,
                                       categories=self.categories(question))
        if coefficient == "krippendorff_alpha":
            return self.reduced.krippendorff_alpha(question, level, **options)
        if coefficient == "cohen_kappa":
            a, b = annotators if annotators is not None else (None, None)
            return self.reduced.cohen_kappa(question, a, b, weights, **options)
        if coefficient in PATTERN_COEFFICIENTS:
            return self.reduced.kappa(question, coefficient, weights=weights, **options)
        raise self._unavailable(coefficient)

    def span_f1(self, question: str, mode: str = "exact") -> AgreementResult:
        raise self._unavailable("span F1")

    def pairwise(self, question: str) -> pd.DataFrame:
        raise self._unavailable("pairwise agreement")

    def calibration(self, question: str) -> pd.DataFrame:
        raise self._unavailable("annotator calibration")

    def disputes(self, question: str) -> pd.DataFrame:
        raise self._unavailable("disputed items")

    def diversity(self) -> Any:
        raise self._unavailable("text diversity")

    def item_texts(self) -> pd.Series:
        return pd.Series(dtype=object)

    def balance(self, question: str) -> Any:
        return self._cached(("balance", question),
                            lambda: self.reduced.class_balance(question, categories=self.categories(question)))

    def drift(self, question: str, by: str | None = None) -> Any:
        by = by or self.default_window()
        return self._cached(("drift", question, by), lambda: self.reduced.label_drift(question, by=by, seed=self.seed))

    def default_window(self) -> str:
        """``batch`` when the table has a batch column, else ``week`` when it has timestamps."""
        columns = self.reduced.columns
        return "batch" if "batch" in columns or "created_at" not in columns else "week"


def engine_for_source(source: str | Path | None, engine: str, *, fmt: str | None = None,
                      memory_share: float | None = None) -> str:
    """The engine ``aqa check`` uses: ``engine`` itself, or for ``auto`` DuckDB when ``source``
    is a long table (Parquet or CSV) whose loaded size would exceed ``memory_share`` of RAM."""
    if engine == "auto" and (source is None or (fmt is not None and fmt.strip().lower() != "long")):
        return "pandas"
    return choose_engine(source, engine, share=AUTO_MEMORY_SHARE if memory_share is None else memory_share)


def open_for_check(config: Any, engine: str, *, memory_share: float | None = None) -> tuple[Any, Measurements] | None:
    """``(reduced set, measurements)`` of the configured source on ``engine`` (``auto``
    resolved), or None when the source is to be loaded in memory."""
    if config.source_path() is None:
        return None
    chosen = engine_for_source(config.source_path(), engine, fmt=config.format, memory_share=memory_share)
    if chosen == "pandas":
        return None
    if config.normalize_labels:
        raise ConfigError(f"--normalize-labels is not supported by the {chosen} engine; use --engine pandas")
    reduced = open_engine(config.source_path(), chosen, column_map=config.column_map or None, question=config.question)
    return reduced, EngineMeasurements(reduced, ci_level=config.ci_level, n_boot=config.n_boot, seed=config.seed)

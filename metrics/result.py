"""Result types shared by every agreement coefficient.

A coefficient returns one :class:`AgreementResult`: the estimate, its interval and the counts it
rests on, with a ``status`` and a ``reason`` whenever the value is not an ordinary number.
Breakdowns (per item, per pair, per window) are tidy DataFrames, documented where they are made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

Status = Literal["ok", "undefined", "insufficient_data"]


@dataclass(frozen=True)
class AgreementResult:
    """One agreement coefficient with its uncertainty.

    Attributes
    ----------
    coefficient : name of the coefficient (``"krippendorff_alpha"``, ``"cohen_kappa"``, ...).
    value : the estimate; NaN when ``status`` is not ``"ok"`` (``reason`` says why).
    ci_low, ci_high : the confidence interval at ``ci_level`` (NaN when not computed).
    ci_level : e.g. 0.95.
    ci_method : ``"bootstrap_percentile"``, ``"analytic"``, ``"f_test"`` or ``"none"``.
    se : the analytic standard error where the literature gives one, else NaN.
    n_items : pairable items the value rests on (items with at least two ratings).
    n_annotations : ratings on pairable items.
    n_annotators : annotators with at least one pairable rating.
    level : level of measurement or weighting (``"nominal"``, ``"ordinal"``, ``"linear"``, ...).
    status : ``"ok"``, ``"undefined"`` (e.g. every rating is the same value) or
        ``"insufficient_data"`` (e.g. no pairable items).
    reason : why ``value`` is NaN, or a note (empty when nothing to say).
    n_unpairable_items : items with a single rating, excluded and counted.
    ci_clipped : True when the interval was clipped to the coefficient's range.
    bootstrap_replicates : the bootstrap replicates (empty when no bootstrap ran); used for
        :meth:`prob_below`.
    details : extra named numbers (per-category kappas, observed/expected agreement, ...).
    """

    coefficient: str
    value: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    ci_level: float = 0.95
    ci_method: str = "none"
    se: float = math.nan
    n_items: int = 0
    n_annotations: int = 0
    n_annotators: int = 0
    level: str = "nominal"
    status: Status = "ok"
    reason: str = ""
    n_unpairable_items: int = 0
    ci_clipped: bool = False
    bootstrap_replicates: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)
    details: dict = field(default_factory=dict, compare=False)

    @property
    def is_defined(self) -> bool:
        """True when ``value`` is a number (status ``ok``)."""
        return self.status == "ok" and not math.isnan(self.value)

    def prob_below(self, threshold: float) -> float:
        """Probability that the coefficient lies below ``threshold``.

        Estimated as the share of bootstrap replicates below the threshold (Krippendorff's q for
        alpha_min, Hayes & Krippendorff 2007). Falls back to the normal approximation with ``se``
        when no bootstrap ran; NaN when neither is available.
        """
        replicates = self.bootstrap_replicates
        finite = replicates[np.isfinite(replicates)] if replicates.size else replicates
        if finite.size:
            return float(np.mean(finite < threshold))
        if math.isfinite(self.se) and self.se > 0 and math.isfinite(self.value):
            return float(0.5 * math.erfc((self.value - threshold) / (self.se * math.sqrt(2.0))))
        return math.nan

    def with_(self, **changes) -> AgreementResult:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    def summary(self) -> str:
        """One readable line, e.g. ``krippendorff_alpha (nominal) = 0.743 [0.61, 0.85] n=12``."""
        if not self.is_defined:
            return f"{self.coefficient} ({self.level}) = NaN [{self.status}: {self.reason}]"
        interval = ""
        if math.isfinite(self.ci_low) and math.isfinite(self.ci_high):
            interval = f" [{self.ci_low:.3f}, {self.ci_high:.3f}] ({self.ci_level:.0%} {self.ci_method})"
        return (
            f"{self.coefficient} ({self.level}) = {self.value:.3f}{interval} "
            f"items={self.n_items} annotators={self.n_annotators}"
        )

    def __str__(self) -> str:
        return self.summary()


def undefined_result(
    coefficient: str,
    reason: str,
    *,
    status: Status = "undefined",
    level: str = "nominal",
    n_items: int = 0,
    n_annotations: int = 0,
    n_annotators: int = 0,
    n_unpairable_items: int = 0,
    ci_level: float = 0.95,
) -> AgreementResult:
    """An :class:`AgreementResult` whose value is NaN, with the reason it is."""
    return AgreementResult(
        coefficient=coefficient,
        value=math.nan,
        ci_level=ci_level,
        level=level,
        status=status,
        reason=reason,
        n_items=n_items,
        n_annotations=n_annotations,
        n_annotators=n_annotators,
        n_unpairable_items=n_unpairable_items,
    )

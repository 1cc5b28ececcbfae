"""Checks: thresholds on metric results, turned into verdicts and an exit status.

A check reads a metric result from :class:`~qa.measurements.Measurements` (it never computes a
formula itself), compares it with its ``warn`` / ``fail`` thresholds and returns a frozen
:class:`CheckResult`. Verdicts:

- ``pass``: no threshold crossed;
- ``warn``: the warn threshold is crossed (warnings never fail the gate);
- ``fail``: the fail threshold is crossed; with ``on = "lower_bound"``, the *whole* interval lies
  beyond it;
- ``inconclusive``: ``on = "lower_bound"`` and the interval straddles the fail threshold: the
  data cannot tell pass from fail. By default this fails the gate (``inconclusive = "fail"``);
  ``--inconclusive warn`` makes it a warning. The message carries a label-budget hint
  (:func:`items_to_settle`);
- ``error``: the metric could not be computed (undefined value, module missing, or fewer pairable
  items than ``min_pairable_items`` for an agreement coefficient: too few to gate on).

Exit status (:attr:`CheckRun.exit_code`): 1 when a check fails the gate (``fail``, or
``inconclusive`` under the default policy); otherwise 3 when a check is an ``error`` (a metric
could not be computed) or when no check applied to the export at all (nothing was gated, which
must not read as a pass); otherwise 0, warnings allowed. A failed gate is reported before an
incomplete run because it is a definite finding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from metrics.errors import MetricInputError
from qa.config import (
    HIGHER_IS_BETTER,
    METRICS,
    CheckSpec,
    Config,
)
from qa.errors import ConfigError
from qa.measurements import Measurements, MetricUnavailable
from qa.schema import AnnotationSet

VERDICTS = ("pass", "warn", "fail", "inconclusive", "error")
#: Version of the ``aqa check --json`` document (docs/ci.md, "JSON").
JSON_SCHEMA_VERSION = 1
EXIT_OK, EXIT_GATE_FAILED, EXIT_NOT_COMPUTABLE = 0, 1, 3
# Disputed items that still need a decision about the item (metrics.disputes actions); items
# whose consensus stands (accept_consensus) or whose dissent is one unreliable annotator's
# (check_annotator, covered by the annotator_flags check) are not counted.
DISPUTED_ACTIONS = ("gold_conflict", "needs_more_labels", "guideline_gap", "adjudicate")
# Drift verdicts are made by metrics.drift's own gate (MEASURES.md, "Label drift").
_DRIFT_VERDICTS = {"ok": "pass", "warn": "warn", "fail": "fail"}


@dataclass(frozen=True)
class Reading:
    """What a check reads from a metric result.

    ``error`` non-empty means the metric could not be computed (and says why). ``verdict`` is set
    when the metric module makes its own verdict (drift); ``detail`` adds words to the message.
    """

    value: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    ci_level: float = math.nan
    n_items: int | None = None
    label: str = ""
    error: str = ""
    detail: str = ""
    verdict: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one question.

    ``blocking`` is True when this result fails the gate (``fail``; ``inconclusive`` under the
    ``fail`` policy). ``items_to_settle`` is the label-budget hint of an inconclusive check (None
    otherwise, or when no number of items would settle it at the current estimate).
    """

    family: str
    name: str
    question: str | None
    metric: str
    value: float
    ci_low: float
    ci_high: float
    ci_level: float
    threshold_warn: float | None
    threshold_fail: float | None
    on: str
    direction: str
    verdict: str
    message: str
    n_items: int | None = None
    blocking: bool = False
    items_to_settle: int | None = None
    threshold_source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN and infinities become None."""
        return {key: _json_number(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class CheckRun:
    """All check results of one run, the notes (skipped questions) and the exit status."""

    results: tuple[CheckResult, ...]
    notes: tuple[str, ...] = ()
    inconclusive_policy: str = "fail"
    source: str = ""
    config_path: str = ""

    @property
    def exit_code(self) -> int:
        if any(r.blocking for r in self.results):
            return EXIT_GATE_FAILED
        if not self.results or any(r.verdict == "error" for r in self.results):
            return EXIT_NOT_COMPUTABLE
        return EXIT_OK

    @property
    def verdict(self) -> str:
        """``fail``, ``error``, ``warn`` or ``pass`` for the whole run."""
        if self.exit_code == EXIT_GATE_FAILED:
            return "fail"
        if self.exit_code == EXIT_NOT_COMPUTABLE:
            return "error"
        return "warn" if any(is_warning(r) for r in self.results) else "pass"

    def counts(self) -> dict[str, int]:
        """Results per verdict (every verdict present, zero when unused)."""
        return {verdict: sum(r.verdict == verdict for r in self.results) for verdict in VERDICTS}

    def by_family(self) -> dict[str, list[CheckResult]]:
        families: dict[str, list[CheckResult]] = {}
        for result in self.results:
            families.setdefault(result.family, []).append(result)
        return families

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (schema in docs/ci.md; :data:`JSON_SCHEMA_VERSION` changes only
        when a key is renamed or removed)."""
        return {
            "schema_version": JSON_SCHEMA_VERSION,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "counts": self.counts(),
            "inconclusive_policy": self.inconclusive_policy,
            "source": self.source,
            "config": self.config_path,
            "checks": [r.to_dict() for r in self.results],
            "notes": list(self.notes),
        }


def is_warning(result: CheckResult) -> bool:
    """A warning: ``warn``, or a non-blocking ``inconclusive`` (``--inconclusive warn``)."""
    return result.verdict == "warn" or (result.verdict == "inconclusive" and not result.blocking)


# ---------------------------------------------------------------------------------------------
# Threshold logic (pure)
# ---------------------------------------------------------------------------------------------


def crosses(value: float, threshold: float | None, direction: str) -> bool:
    """True when ``value`` is worse than ``threshold`` (strictly).

    >>> crosses(0.6, 0.667, "higher_is_better"), crosses(12.0, 10.0, "lower_is_better")
    (True, True)
    >>> crosses(0.667, 0.667, "higher_is_better")
    False
    """
    if threshold is None or math.isnan(value):
        return False
    return value < threshold if direction == HIGHER_IS_BETTER else value > threshold


def threshold_verdict(
    value: float,
    ci_low: float,
    ci_high: float,
    *,
    warn: float | None,
    fail: float | None,
    on: str,
    direction: str,
) -> str:
    """``pass``, ``warn``, ``fail`` or ``inconclusive`` for one reading.

    With ``on="value"`` the point estimate is compared with the thresholds. With
    ``on="lower_bound"`` the pessimistic bound of the interval is (the lower bound when higher is
    better, the upper bound otherwise): the check fails only when the whole interval is beyond
    the fail threshold, and is ``inconclusive`` when the interval straddles it. Without an
    interval (NaN bounds) the value is used.

    >>> threshold_verdict(0.85, 0.81, 0.89, warn=0.8, fail=0.667, on="lower_bound", direction="higher_is_better")
    'pass'
    >>> threshold_verdict(0.74, 0.70, 0.78, warn=0.8, fail=0.667, on="lower_bound", direction="higher_is_better")
    'warn'
    >>> threshold_verdict(0.70, 0.62, 0.78, warn=0.8, fail=0.667, on="lower_bound", direction="higher_is_better")
    'inconclusive'
    >>> threshold_verdict(0.50, 0.42, 0.58, warn=0.8, fail=0.667, on="lower_bound", direction="higher_is_better")
    'fail'
    """
    if on == "value" or math.isnan(ci_low) or math.isnan(ci_high):
        if crosses(value, fail, direction):
            return "fail"
        return "warn" if crosses(value, warn, direction) else "pass"
    optimistic, pessimistic = (ci_high, ci_low) if direction == HIGHER_IS_BETTER else (ci_low, ci_high)
    if crosses(optimistic, fail, direction):
        return "fail"
    if crosses(pessimistic, fail, direction):
        return "inconclusive"
    return "warn" if crosses(pessimistic, warn, direction) else "pass"


def items_to_settle(value: float, ci_low: float, ci_high: float, threshold: float, n_items: int) -> int | None:
    """About how many more doubly-labelled items would make the interval clear ``threshold``,
    if agreement stays at ``value``.

    Approximation: the interval's half-width on the threshold's side, ``h``, shrinks like
    ``1 / sqrt(n)`` (the standard error of a mean over items), so the interval clears the
    threshold once ``n' = n * (h / |value - threshold|)^2``; the answer is ``n' - n``, rounded
    up. None when the estimate sits on the threshold (no sample size settles it) or the inputs
    are not finite. A rough budget for planning, not a power analysis.

    >>> items_to_settle(0.70, 0.62, 0.78, 0.667, 100)
    488
    """
    numbers = (value, ci_low, ci_high, threshold)
    if not all(math.isfinite(x) for x in numbers) or n_items <= 0:
        return None
    gap = abs(value - threshold)
    if gap == 0:
        return None
    half_width = value - ci_low if value > threshold else ci_high - value
    needed = n_items * (half_width / gap) ** 2
    return max(1, math.ceil(needed - n_items))


# ---------------------------------------------------------------------------------------------
# Readers: one per metric, each a look-up in a metric result
# ---------------------------------------------------------------------------------------------

Reader = Callable[[Measurements, CheckSpec, "str | None"], Reading]


def _read_agreement(measurements: Measurements, spec: CheckSpec, question: str | None) -> Reading:
    annotators = tuple(spec.options["annotators"]) if "annotators" in spec.options else None
    result = measurements.agreement(
        question, spec.metric, level=spec.options.get("level"), annotators=annotators, weights=spec.options.get("weights")
    )
    label = f"{spec.metric} ({result.level})" if result.level else spec.metric
    if not result.is_defined:
        return Reading(math.nan, n_items=result.n_items, label=label, error=f"{result.status}: {result.reason}")
    return Reading(
        value=float(result.value),
        ci_low=float(result.ci_low),
        ci_high=float(result.ci_high),
        ci_level=float(result.ci_level),
        n_items=int(result.n_items),
        label=label,
    )


def _read_pairable_items(measurements: Measurements, spec: CheckSpec, question: str | None) -> Reading:
    pairable = measurements.pairable_items(question)
    return Reading(value=float(pairable), n_items=pairable, label="pairable items")


def _read_annotator_flags(measurements: Measurements, spec: CheckSpec, question: str | None) -> Reading:
    table = measurements.calibration(question)
    flags = table["flags"].map(_flag_codes)
    flagged = table.loc[flags.map(bool)]
    detail = "; ".join(
        f"{row_annotator}: {', '.join(codes)}" for row_annotator, codes in zip(flagged["annotator_id"], flags[flags.map(bool)], strict=True)
    )
    return Reading(value=float(len(flagged)), n_items=len(table), label="flagged annotators", detail=detail)


def _read_drift(measurements: Measurements, spec: CheckSpec, question: str | None) -> Reading:
    result = measurements.drift(question, spec.options.get("by"))
    comparisons = result.comparisons
    judged = comparisons[comparisons["verdict"].isin(list(_DRIFT_VERDICTS))]
    if judged.empty:
        return Reading(
            math.nan,
            label=f"drift by {result.by}",
            error=f"insufficient_data: no window with at least the minimum number of labels (by {result.by})",
        )
    distance = np.fmax(judged["js_distance"].to_numpy(float), judged["tvd"].to_numpy(float))
    worst = int(np.nanargmax(distance)) if np.isfinite(distance).any() else 0
    row = judged.iloc[worst]
    detail = (
        f"largest shift: window {row['window']} vs {row['reference']}: JS {row['js_distance']:.3f} bits, "
        f"TVD {row['tvd']:.3f}, PSI {row['psi']:.3f}, adjusted p {row['p_adjusted']:.3g}"
    )
    return Reading(
        value=float(distance[worst]),
        n_items=int(judged["n"].sum()),
        label=f"drift by {result.by}",
        detail=detail,
        verdict=_DRIFT_VERDICTS[result.verdict] if result.verdict in _DRIFT_VERDICTS else None,
    )


def _read_disputed_share(measurements: Measurements, spec: CheckSpec, question: str | None) -> Reading:
    pairable = measurements.pairable_items(question)
    disputes = measurements.disputes(question)
    if pairable == 0:
        return Reading(math.nan, n_items=0, label="disputed share", error="insufficient_data: no pairable items")
    open_items = disputes[disputes["action"].isin(DISPUTED_ACTIONS)]
    actions = open_items["action"].value_counts()
    breakdown = ", ".join(f"{count} {action}" for action, count in actions.items())
    return Reading(
        value=len(open_items) / pairable,
        n_items=int(pairable),
        label="disputed share",
        detail=f"{len(open_items)} of {pairable} pairable items need a decision: {breakdown or 'none'}",
    )


def _read_class_balance(measurements: Measurements, spec: CheckSpec, question: str | None) -> Reading:
    figure = spec.metric.split(".", 1)[1]
    result = measurements.balance(question)
    value = _balance_figure(result, figure)
    label = figure.replace("_", " ")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        reason = getattr(result, "reason", "") or f"{figure} is undefined for these labels"
        return Reading(math.nan, label=label, error=f"undefined: {reason}")
    return Reading(value=float(value), label=label)


def _balance_figure(result: Any, figure: str) -> float | None:
    if figure == "missing_categories":
        missing = getattr(result, "missing_categories", ())
        return float(len(missing))
    if figure == "min_class_count":
        counts = getattr(result, "counts", None)
        if counts is not None and hasattr(counts, "columns") and "count" in counts.columns:
            used = counts["count"][counts["count"] > 0]
            return float(used.min()) if len(used) else math.nan
        return getattr(result, "min_class_count", None)
    value = getattr(result, figure, None)
    return None if value is None else float(value)


def _read_coverage(measurements: Measurements, spec: CheckSpec, question: str | None) -> Reading:
    if measurements.item_texts().empty:
        return Reading(math.nan, label="cluster coverage", error="insufficient_data: the export has no item texts")
    result = measurements.diversity()
    label = "cluster coverage"
    if math.isnan(result.cluster_coverage):
        return Reading(math.nan, label=label, error=f"undefined: {result.reason or 'too few texts'}")
    detail = f"{result.n_clusters} clusters over {result.n} texts"
    return Reading(value=float(result.cluster_coverage), n_items=int(result.n), label=label, detail=detail)


def _read_span_f1(measurements: Measurements, spec: CheckSpec, question: str | None) -> Reading:
    result = measurements.span_f1(question, spec.options.get("mode", "exact"))
    label = f"span F1 ({spec.options.get('mode', 'exact')})"
    if not result.is_defined:
        return Reading(math.nan, n_items=result.n_items, label=label, error=f"{result.status}: {result.reason}")
    return Reading(value=float(result.value), n_items=int(result.n_items), label=label)


def _flag_codes(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        return tuple(code.strip() for code in value.replace(";", ",").split(",") if code.strip())
    return tuple(str(code) for code in value)


READERS: dict[str, Reader] = {
    "krippendorff_alpha": _read_agreement,
    "fleiss_kappa": _read_agreement,
    "scott_pi": _read_agreement,
    "gwet_ac": _read_agreement,
    "brennan_prediger": _read_agreement,
    "cohen_kappa": _read_agreement,
    "percent_agreement": _read_agreement,
    "span_f1": _read_span_f1,
    "pairable_items": _read_pairable_items,
    "class_balance.imbalance_ratio": _read_class_balance,
    "class_balance.rarest_share_times_k": _read_class_balance,
    "class_balance.normalized_entropy": _read_class_balance,
    "class_balance.missing_categories": _read_class_balance,
    "class_balance.min_class_count": _read_class_balance,
    "drift": _read_drift,
    "coverage": _read_coverage,
    "annotator_flags": _read_annotator_flags,
    "disputed_share": _read_disputed_share,
}


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def run_checks(
    annotations: AnnotationSet,
    config: Config,
    measurements: Measurements | None = None,
    *,
    source: str = "",
) -> CheckRun:
    """Run every check of ``config`` (the defaults when it has none) on ``annotations``.

    Raises
    ------
    ConfigError : a check names a question the export does not have, or one the metric does
        not apply to.
    """
    measurements = measurements or Measurements(
        annotations, ci_level=config.ci_level, n_boot=config.n_boot, seed=config.seed
    )
    results: list[CheckResult] = []
    skipped: dict[str, list[str]] = {}
    for index, spec in enumerate(config.effective_checks()):
        questions, left_out = resolve_questions(spec, annotations, index)
        for question in left_out:
            skipped.setdefault(question, []).append(spec.metric)
        for question in questions:
            _check_options_against_export(spec, question, measurements, index)
            results.append(evaluate(spec, question, measurements, config))
    notes = [_skip_note(annotations, question, metrics) for question, metrics in skipped.items()]
    if not results:
        notes.append(NOTHING_GATED)
    return CheckRun(
        results=tuple(results),
        notes=tuple(notes),
        inconclusive_policy=config.inconclusive,
        source=source,
        config_path=str(config.path) if config.path else "",
    )


NOTHING_GATED = (
    "no check applies to this export's questions, so nothing was gated (exit 3); "
    "configure a check that fits them, e.g. metric = \"span_f1\" for spans"
)


def _check_options_against_export(spec: CheckSpec, question: str | None, measurements: Measurements, index: int) -> None:
    """Options naming something the export must have (an annotator pair, a window column): a
    typo there is a configuration error (exit 2), not a metric that could not be computed."""
    pair, by = spec.options.get("annotators"), spec.options.get("by")
    if question is None or not (pair or by):
        return
    try:
        ratings = measurements.ratings(question)
    except MetricUnavailable:  # an engine without the row-level table: the metric says what it can
        return
    where = f"{spec.origin}: checks[{index}]"
    if pair:
        present = set(ratings["annotator_id"].astype(str))
        missing = [a for a in pair if str(a) not in present]
        if missing:
            raise ConfigError(
                f"{where}.annotators: {', '.join(map(repr, missing))} rated nothing in {question!r}; "
                f"the annotators are {', '.join(sorted(present))}"
            )
    if by:
        columns = set(ratings.columns)
        aliases = {"day", "week", "annotator", "model_vs_human"}
        if by not in aliases and by not in columns:
            raise ConfigError(
                f"{where}.by: {by!r} is neither day, week, annotator, model_vs_human nor a column of "
                f"the export; the columns are {', '.join(sorted(map(str, columns)))}"
            )


def _skip_note(annotations: AnnotationSet, question: str, metrics: list[str]) -> str:
    kind = annotations.question(question).kind
    hint = " (span agreement is shown by aqa report, or gate it with metric = \"span_f1\")" if kind == "spans" else ""
    return f"{question}: {', '.join(metrics)} skipped: not defined for {kind} questions{hint}"


def resolve_questions(spec: CheckSpec, annotations: AnnotationSet, index: int) -> tuple[list[str | None], list[str]]:
    """The questions ``spec`` runs on, and the questions it leaves out (not of its kinds)."""
    applies_to = spec.info.applies_to
    if not applies_to:
        return [None], []
    kinds = {name: annotations.question(name).kind for name in annotations.question_names}
    if spec.questions:
        for name in spec.questions:
            if name not in kinds:
                raise ConfigError(
                    f"{spec.origin}: checks[{index}]: no question {name!r} in the export; "
                    f"the questions are {', '.join(kinds) or '(none)'}"
                )
            if kinds[name] not in applies_to:
                raise ConfigError(
                    f"{spec.origin}: checks[{index}]: {spec.metric} does not apply to {name!r}, "
                    f"a {kinds[name]} question (it applies to {', '.join(applies_to)})"
                )
        return list(spec.questions), []
    chosen = [name for name, kind in kinds.items() if kind in applies_to]
    return chosen, [name for name, kind in kinds.items() if kind not in applies_to]


def evaluate(spec: CheckSpec, question: str | None, measurements: Measurements, config: Config) -> CheckResult:
    """One check on one question: read the metric result, then judge it."""
    try:
        reading = READERS[spec.metric](measurements, spec, question)
    except MetricUnavailable as err:
        reading = Reading(math.nan, label=spec.metric, error=f"not available: {err}")
    except MetricInputError as err:
        # The metric rejected this question's labels (e.g. level = "interval" on text labels).
        reading = Reading(math.nan, label=spec.metric, error=f"invalid_input: {err}")
    return judge(spec, question, reading, config)


def judge(spec: CheckSpec, question: str | None, reading: Reading, config: Config) -> CheckResult:
    """The verdict and message of one reading against ``spec``'s thresholds."""
    ci_level = reading.ci_level if math.isfinite(reading.ci_level) else config.ci_level
    base = dict(
        family=spec.family,
        name=check_name(spec, question),
        question=question,
        metric=spec.metric,
        value=reading.value,
        ci_low=reading.ci_low,
        ci_high=reading.ci_high,
        ci_level=ci_level,
        threshold_warn=spec.warn,
        threshold_fail=spec.fail,
        on=spec.on,
        direction=spec.direction,
        n_items=reading.n_items,
        threshold_source=spec.info.source,
    )
    if not reading.error and reading.verdict is None and math.isnan(reading.value):
        # A NaN never crosses a threshold, so it would pass silently: it is an error.
        reading = replace(reading, error="undefined: the metric returned NaN")
    if reading.error:
        return CheckResult(**base, verdict="error", message=f"{reading.label}: could not compute ({reading.error})")
    if _needs_pairable_items(spec) and (reading.n_items or 0) < config.min_pairable_items:
        message = (
            f"{reading.label} = {reading.value:.3f} on only {reading.n_items} pairable items "
            f"(fewer than {config.min_pairable_items}): too few to gate on; label more items twice"
        )
        return CheckResult(**base, verdict="error", message=message)
    verdict = reading.verdict or threshold_verdict(
        reading.value, reading.ci_low, reading.ci_high,
        warn=spec.warn, fail=spec.fail, on=spec.on, direction=spec.direction,
    )
    settle = None
    if verdict == "inconclusive" and spec.fail is not None:
        settle = items_to_settle(reading.value, reading.ci_low, reading.ci_high, spec.fail, reading.n_items or 0)
    blocking = verdict == "fail" or (verdict == "inconclusive" and config.inconclusive == "fail")
    message = describe(spec, reading, verdict, ci_level, settle, config.inconclusive)
    return CheckResult(**base, verdict=verdict, message=message, blocking=blocking, items_to_settle=settle)


def check_name(spec: CheckSpec, question: str | None) -> str:
    """``metric (question)``, or the configured name (with the question when there is one)."""
    name = spec.name or spec.metric
    return f"{name} ({question})" if question else name


def _needs_pairable_items(spec: CheckSpec) -> bool:
    return spec.family == "agreement" and spec.metric != "pairable_items"


def describe(spec: CheckSpec, reading: Reading, verdict: str, ci_level: float, settle: int | None, policy: str) -> str:
    """A one-line explanation with the numbers: value, interval, items, and the threshold crossed."""
    parts = [f"{reading.label} = {format_number(reading.value, count=spec.metric in COUNT_METRICS)}"]
    has_interval = math.isfinite(reading.ci_low) and math.isfinite(reading.ci_high)
    if has_interval:
        parts.append(f", {ci_level:.0%} CI [{_fmt(reading.ci_low)}, {_fmt(reading.ci_high)}]")
    if reading.n_items is not None and spec.family == "agreement":
        parts.append(f" on {reading.n_items} pairable items")
    gated = "lower bound" if spec.on == "lower_bound" and has_interval else "value"
    if spec.on == "lower_bound" and not has_interval and verdict != "error":
        parts.append(" (no interval: gated on the value)")
    if spec.on == "lower_bound" and has_interval and spec.direction != HIGHER_IS_BETTER:
        gated = "upper bound"
    worse = "<" if spec.direction == HIGHER_IS_BETTER else ">"
    parts.append(": " + _explanation(verdict, gated, worse, spec, settle, policy))
    if reading.detail:
        parts.append(f" ({reading.detail})")
    return "".join(parts)


def _explanation(verdict: str, gated: str, worse: str, spec: CheckSpec, settle: int | None, policy: str) -> str:
    if verdict == "fail":
        if gated == "value":
            return f"value {worse} fail threshold {_fmt(spec.fail)}"
        return f"the whole interval is {'below' if worse == '<' else 'above'} the fail threshold {_fmt(spec.fail)}"
    if verdict == "inconclusive":
        budget = (
            f"about {settle} more doubly-labelled items would settle it at the current agreement"
            if settle is not None
            else "the estimate sits on the threshold: more items alone will not settle it"
        )
        counted = "fails the gate" if policy == "fail" else "counted as a warning (--inconclusive warn)"
        return f"inconclusive: the interval straddles the fail threshold {_fmt(spec.fail)}; {budget}; {counted}"
    if verdict == "warn":
        return f"{gated} {worse} warn threshold {_fmt(spec.warn)}"
    thresholds = ", ".join(
        f"{name} {_fmt(value)}" for name, value in (("warn", spec.warn), ("fail", spec.fail)) if value is not None
    )
    return f"{gated} within thresholds ({thresholds})"


COUNT_METRICS = frozenset({"annotator_flags", "pairable_items", "class_balance.missing_categories"})
"""Metrics whose value is a count: shown as whole numbers (``1``, not ``1.000``)."""


def format_number(value: float | int | None, digits: int = 3, *, count: bool = False) -> str:
    """A number for messages and tables: ``-`` for None, ``NaN`` for NaN, integers without
    decimals (any integer when ``count``, else from 2 up, so an agreement of 1 reads ``1.000``).

    >>> format_number(0.66666), format_number(None), format_number(50.0), format_number(1.0, count=True)
    ('0.667', '-', '50', '1')
    """
    if value is None:
        return "-"
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and (count or abs(value) >= 2):
        return str(int(value))
    return f"{value:.{digits}f}"


def _fmt(value: float | None) -> str:
    return format_number(value)


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


__all__ = [
    "CheckResult",
    "CheckRun",
    "METRICS",
    "Reading",
    "VERDICTS",
    "check_name",
    "crosses",
    "evaluate",
    "is_warning",
    "items_to_settle",
    "judge",
    "run_checks",
    "threshold_verdict",
]

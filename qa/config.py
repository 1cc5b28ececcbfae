"""Configuration of ``aqa check`` and ``aqa report``: ``[tool.aqa]`` or ``aqa.toml``.

The configuration is data: a :class:`Config` holding the source, its format, the column map and a
list of :class:`CheckSpec`. It is read from, in order of precedence:

1. ``--config PATH`` (an ``aqa.toml``, or a ``pyproject.toml`` with a ``[tool.aqa]`` table);
2. the first directory, from the current one upward, holding an ``aqa.toml`` or a
   ``pyproject.toml`` with a ``[tool.aqa]`` table (in one directory ``aqa.toml`` wins);
3. nothing: the defaults (:func:`default_checks`).

Command-line flags override the file (``aqa check export.json --min-alpha 0.8``).

Example ``aqa.toml`` (the same keys go under ``[tool.aqa]`` in ``pyproject.toml``)::

    source = "export.json"        # relative to the configuration file
    format = "label_studio"       # optional: detected from content
    inconclusive = "fail"         # or "warn": a straddling interval only warns
    min_pairable_items = 50       # fewer is an error (exit 3), not a pass

    [column_map]                  # long tables: canonical column -> the export's column
    annotator_id = "worker"

    [[checks]]
    metric = "krippendorff_alpha" # any agreement coefficient, see METRICS
    questions = ["intent"]        # omitted: every question the metric applies to
    on = "lower_bound"            # gate on the lower bound of the interval, or on "value"
    warn = 0.800
    fail = 0.667

    [[checks]]
    metric = "class_balance.imbalance_ratio"
    warn = 10
    fail = 100

A threshold is crossed when the value is *worse* than it: below it for a metric where higher is
better (agreement), above it for one where lower is better (imbalance ratio, disputed share).
When a check gives neither ``warn`` nor ``fail`` the defaults of :data:`METRICS` apply; when it
gives one, only that one applies.

Every default threshold lives in :data:`METRICS`, with its source.

>>> spec = CheckSpec(metric="krippendorff_alpha")
>>> spec.warn, spec.fail, spec.on
(0.8, 0.667, 'lower_bound')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from metrics import balance as _balance
from metrics import drift as _drift
from qa.errors import ConfigError

HIGHER_IS_BETTER = "higher_is_better"
LOWER_IS_BETTER = "lower_is_better"
DIRECTIONS = (HIGHER_IS_BETTER, LOWER_IS_BETTER)
GATE_ON = ("value", "lower_bound")
INCONCLUSIVE_POLICIES = ("fail", "warn")
CONFIG_FILENAME = "aqa.toml"
PYPROJECT_FILENAME = "pyproject.toml"

# Krippendorff (2004), Content Analysis, 2nd ed., p. 241: rely on variables with alpha >= .800,
# draw tentative conclusions only from .667 <= alpha < .800.
KRIPPENDORFF_RELIABLE = 0.800
KRIPPENDORFF_TENTATIVE = 0.667
# MEASURES.md, "Agreement gate": fewer pairable items than this is an error, not a pass.
MIN_PAIRABLE_ITEMS = 50
DEFAULT_CI_LEVEL = 0.95
DEFAULT_N_BOOT = 1000
DEFAULT_SEED = 0
# Efron & Tibshirani (1993), An Introduction to the Bootstrap, sec. 19.3: percentile intervals need
# B of about 1000; with fewer than 200 replicates a 95% interval rests on fewer than 5 replicates in
# each tail. ``n_boot = 0`` means no interval (checks then gate on the value, and say so).
MIN_N_BOOT = 200
# The widest confidence level a bootstrap interval of a few hundred items can support.
MAX_CI_LEVEL = 0.999


@dataclass(frozen=True)
class MetricInfo:
    """What a check may say about one metric: its family, which way is better, the range a
    threshold may take, the default thresholds and where they come from.

    ``family`` groups checks in outputs (one JUnit testsuite per family). ``has_interval`` says
    whether the metric carries a confidence interval (only then may a check gate on its lower
    bound). ``applies_to`` lists the question kinds the metric is computed for by default.
    """

    name: str
    family: str
    direction: str
    lower: float
    upper: float
    warn: float | None
    fail: float | None
    source: str
    has_interval: bool = False
    applies_to: tuple[str, ...] = ("categorical", "multilabel", "ordinal", "interval")
    description: str = ""


_AGREEMENT_KINDS = ("categorical", "multilabel", "ordinal", "interval")
_CATEGORY_KINDS = ("categorical", "ordinal")
_KRIPPENDORFF_SOURCE = (
    "Krippendorff (2004), Content Analysis, p. 241: reliable >= 0.800, tentative >= 0.667"
)
_CHANCE_CORRECTED_SOURCE = (
    "Krippendorff's 0.667/0.800 conventions applied to a chance-corrected coefficient "
    "(Landis & Koch bands are for display only, MEASURES.md)"
)


def _agreement(name: str, source: str = _CHANCE_CORRECTED_SOURCE, **kwargs: Any) -> MetricInfo:
    defaults = dict(
        family="agreement",
        direction=HIGHER_IS_BETTER,
        lower=-1.0,
        upper=1.0,
        warn=KRIPPENDORFF_RELIABLE,
        fail=KRIPPENDORFF_TENTATIVE,
        source=source,
        has_interval=True,
        applies_to=_AGREEMENT_KINDS,
    )
    defaults.update(kwargs)
    return MetricInfo(name=name, **defaults)


#: Every metric a check may gate on, with its default thresholds and their source.
METRICS: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        _agreement(
            "krippendorff_alpha",
            _KRIPPENDORFF_SOURCE,
            description="Krippendorff's alpha at the question's level of measurement",
        ),
        _agreement("fleiss_kappa", applies_to=_CATEGORY_KINDS, description="Fleiss' kappa"),
        _agreement("scott_pi", applies_to=_CATEGORY_KINDS, description="Scott's pi"),
        _agreement("gwet_ac", applies_to=_CATEGORY_KINDS, description="Gwet's AC1 (AC2 when weighted)"),
        _agreement(
            "brennan_prediger", applies_to=_CATEGORY_KINDS, description="Brennan-Prediger kappa"
        ),
        _agreement(
            "cohen_kappa",
            applies_to=_CATEGORY_KINDS,
            description="Cohen's kappa of one annotator pair (give `annotators = [a, b]`)",
        ),
        _agreement(
            "percent_agreement",
            lower=0.0,
            warn=None,
            fail=None,
            source="no convention: raw agreement ignores chance (MEASURES.md); set warn/fail yourself",
            applies_to=_CATEGORY_KINDS,
            description="share of agreeing annotator pairs",
        ),
        MetricInfo(
            "span_f1",
            family="agreement",
            direction=HIGHER_IS_BETTER,
            lower=0.0,
            upper=1.0,
            warn=None,
            fail=None,
            source="no convention for span F1; set warn/fail yourself",
            applies_to=("spans",),
            description="micro-averaged pairwise span F1 (give `mode = \"exact\"` or \"overlap\")",
        ),
        MetricInfo(
            "pairable_items",
            family="agreement",
            direction=HIGHER_IS_BETTER,
            lower=0.0,
            upper=math.inf,
            warn=None,
            fail=MIN_PAIRABLE_ITEMS,
            source="MEASURES.md, Agreement gate: fewer than 50 pairable items cannot support a verdict",
            applies_to=_AGREEMENT_KINDS + ("spans",),
            description="items labelled by at least two annotators",
        ),
        MetricInfo(
            "class_balance.imbalance_ratio",
            family="class_balance",
            direction=LOWER_IS_BETTER,
            lower=1.0,
            upper=math.inf,
            warn=_balance.IMBALANCE_RATIO_WARN,
            fail=_balance.IMBALANCE_RATIO_FAIL,
            source="MEASURES.md, Class balance: max/min count, warn > 10, fail > 100",
            applies_to=_CATEGORY_KINDS,
            description="count of the most frequent class / count of the rarest",
        ),
        MetricInfo(
            "class_balance.rarest_share_times_k",
            family="class_balance",
            direction=HIGHER_IS_BETTER,
            lower=0.0,
            upper=1.0,
            warn=_balance.RAREST_SHARE_TIMES_K_WARN,
            fail=_balance.RAREST_SHARE_TIMES_K_FAIL,
            source="MEASURES.md, Class balance: rarest share x K, warn < 0.2, fail < 0.1",
            applies_to=_CATEGORY_KINDS,
            description="share of the rarest class times the number of classes (1 = uniform)",
        ),
        MetricInfo(
            "class_balance.normalized_entropy",
            family="class_balance",
            direction=HIGHER_IS_BETTER,
            lower=0.0,
            upper=1.0,
            warn=_balance.NORMALIZED_ENTROPY_WARN,
            fail=None,
            source="MEASURES.md, Class balance: H / ln K, warn < 0.7",
            applies_to=_CATEGORY_KINDS,
            description="entropy of the label shares over ln K (1 = uniform)",
        ),
        MetricInfo(
            "class_balance.missing_categories",
            family="class_balance",
            direction=LOWER_IS_BETTER,
            lower=0.0,
            upper=math.inf,
            warn=None,
            fail=0.0,
            source="MEASURES.md, Class balance: a missing schema class fails (configurable)",
            applies_to=_CATEGORY_KINDS,
            description="declared categories no annotator used",
        ),
        MetricInfo(
            "class_balance.min_class_count",
            family="class_balance",
            direction=HIGHER_IS_BETTER,
            lower=0.0,
            upper=math.inf,
            warn=float(_balance.MIN_SUPPORT),
            fail=None,
            source="MEASURES.md, Class balance: per-class minimum support 30",
            applies_to=_CATEGORY_KINDS,
            description="labels of the rarest used class",
        ),
        MetricInfo(
            "drift",
            family="drift",
            direction=LOWER_IS_BETTER,
            lower=0.0,
            upper=1.0,
            warn=_drift.DRIFT_WARN_DISTANCE,
            fail=_drift.DRIFT_FAIL_DISTANCE,
            source=(
                "MEASURES.md, Label drift: warn when Holm-adjusted p < 0.05 and JS or TVD >= 0.10, "
                "fail at >= 0.20 or PSI >= 0.25 (the drift module's gate)"
            ),
            applies_to=_CATEGORY_KINDS,
            description="largest label shift of a window against the reference (JS distance, bits)",
        ),
        MetricInfo(
            "coverage",
            family="coverage",
            direction=HIGHER_IS_BETTER,
            lower=0.0,
            upper=1.0,
            warn=0.9,
            fail=None,
            source=(
                "MEASURES.md, Diversity and coverage: coverage warns under 0.9 and diversity never "
                "fails a gate on its own"
            ),
            applies_to=(),
            description="share of the item texts' k-means clusters (k ~ sqrt(n)) holding at least 3 texts",
        ),
        MetricInfo(
            "annotator_flags",
            family="annotators",
            direction=LOWER_IS_BETTER,
            lower=0.0,
            upper=math.inf,
            warn=0.0,
            fail=None,
            source="annotation-qa default: any flagged annotator warns (a flag asks for a look)",
            applies_to=_CATEGORY_KINDS,
            description="annotators with at least one calibration flag",
        ),
        MetricInfo(
            "disputed_share",
            family="disputes",
            direction=LOWER_IS_BETTER,
            lower=0.0,
            upper=1.0,
            warn=0.10,
            fail=0.25,
            source="annotation-qa default (no published convention): warn > 10%, fail > 25% of pairable items",
            applies_to=_AGREEMENT_KINDS + ("spans",),
            description="pairable items still needing a decision (adjudicate, gold_conflict, guideline_gap, needs_more_labels)",
        ),
    )
}

AGREEMENT_COEFFICIENTS = tuple(
    name for name, info in METRICS.items() if info.family == "agreement" and name != "pairable_items"
)


@dataclass(frozen=True)
class CheckSpec:
    """One check: a threshold on one metric, for one or more questions.

    ``questions`` empty means every question the metric applies to. ``warn`` and ``fail`` default
    to the metric's thresholds in :data:`METRICS` when both are left out. ``options`` carries
    metric parameters (``level`` for agreement, ``by`` for drift, ``annotators`` for Cohen's
    kappa, ``strata`` for coverage).
    """

    metric: str
    questions: tuple[str, ...] = ()
    warn: float | None = None
    fail: float | None = None
    on: str = ""
    direction: str = ""
    name: str = ""
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    origin: str = "defaults"

    def __post_init__(self) -> None:
        info = METRICS.get(self.metric)
        if info is None:
            raise ConfigError(_unknown_metric_message(self.metric, self.origin))
        if self.warn is None and self.fail is None:
            object.__setattr__(self, "warn", info.warn)
            object.__setattr__(self, "fail", info.fail)
        if not self.on:
            object.__setattr__(self, "on", "lower_bound" if info.has_interval else "value")
        if not self.direction:
            object.__setattr__(self, "direction", info.direction)

    @property
    def info(self) -> MetricInfo:
        return METRICS[self.metric]

    @property
    def family(self) -> str:
        return self.info.family


@dataclass(frozen=True)
class Config:
    """Everything ``aqa check`` / ``aqa report`` need besides the export itself.

    ``path`` is the file the configuration came from (None for the defaults); a relative
    ``source`` is resolved against its directory.
    """

    source: str | None = None
    format: str | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    normalize_labels: bool = False
    question: str | None = None
    checks: tuple[CheckSpec, ...] = ()
    ci_level: float = DEFAULT_CI_LEVEL
    n_boot: int = DEFAULT_N_BOOT
    seed: int = DEFAULT_SEED
    min_pairable_items: int = MIN_PAIRABLE_ITEMS
    inconclusive: str = "fail"
    path: Path | None = None

    @property
    def uses_default_checks(self) -> bool:
        return not self.checks

    def effective_checks(self) -> tuple[CheckSpec, ...]:
        """The configured checks, or :func:`default_checks` when none are configured."""
        return self.checks or default_checks()

    def source_path(self) -> Path | None:
        """``source`` resolved against the configuration file's directory."""
        if not self.source:
            return None
        source = Path(self.source).expanduser()
        if source.is_absolute() or self.path is None:
            return source
        return self.path.parent / source

    def with_(self, **changes: Any) -> Config:
        return replace(self, **changes)


def default_checks() -> tuple[CheckSpec, ...]:
    """With no configuration: Krippendorff's alpha per question at its natural level, gated on
    the lower bound of the 95% interval (fail < 0.667, warn < 0.800); questions with fewer than
    ``min_pairable_items`` pairable items are errors.

    >>> [c.metric for c in default_checks()]
    ['krippendorff_alpha']
    """
    return (CheckSpec(metric="krippendorff_alpha"),)


def apply_overrides(
    config: Config,
    *,
    source: str | None = None,
    format: str | None = None,
    min_alpha: float | None = None,
    warn_alpha: float | None = None,
    on: str | None = None,
    inconclusive: str | None = None,
    min_pairable_items: int | None = None,
    ci_level: float | None = None,
    n_boot: int | None = None,
    seed: int | None = None,
) -> Config:
    """The configuration with command-line flags applied (a flag beats the file).

    ``min_alpha`` / ``warn_alpha`` set the fail / warn thresholds of every Krippendorff's alpha
    check (``--min-alpha 0.8`` also raises a lower warn threshold to 0.8, so the two stay in
    order). ``on`` sets what every check with an interval gates on.

    >>> config = apply_overrides(Config(), min_alpha=0.9)
    >>> [(c.fail, c.warn) for c in config.checks]
    [(0.9, 0.9)]
    """
    where = "command line"
    checks = config.effective_checks()
    if (min_alpha is not None or warn_alpha is not None) and not any(c.metric == "krippendorff_alpha" for c in checks):
        flag = "--min-alpha" if min_alpha is not None else "--warn-alpha"
        raise ConfigError(
            f"{where}: {flag}: {config.path or 'the configuration'} has no krippendorff_alpha check to "
            f"apply it to (its checks: {', '.join(sorted({c.metric for c in checks}))})"
        )
    if min_alpha is not None or warn_alpha is not None or on is not None:
        checks = tuple(_override_check(c, min_alpha, warn_alpha, on, where) for c in checks)
    if min_pairable_items is not None:
        checks = _follow_min_pairable_items(checks, config.min_pairable_items, min_pairable_items)
    changes: dict[str, Any] = {"checks": checks} if checks != config.effective_checks() else {}
    if source is not None:
        # A source given on the command line is relative to the current directory.
        changes["source"] = str(Path(source).expanduser().resolve())
    if format is not None:
        changes["format"] = format
    for name, value in (
        ("inconclusive", inconclusive),
        ("min_pairable_items", min_pairable_items),
        ("ci_level", ci_level),
        ("n_boot", n_boot),
        ("seed", seed),
    ):
        if value is not None:
            changes[name] = value
    if inconclusive is not None and inconclusive not in INCONCLUSIVE_POLICIES:
        raise ConfigError(f"{where}: --inconclusive: {inconclusive!r} is not one of fail, warn")
    if min_pairable_items is not None and min_pairable_items < 2:
        raise ConfigError(f"{where}: --min-pairable-items: expected at least 2, got {min_pairable_items}")
    if ci_level is not None and not 0.5 <= ci_level <= MAX_CI_LEVEL:
        raise ConfigError(f"{where}: --ci-level: expected a level in [0.5, {MAX_CI_LEVEL}], got {ci_level}")
    if n_boot is not None:
        if n_boot < 0:
            raise ConfigError(f"{where}: --n-boot: expected 0 (no interval) or at least {MIN_N_BOOT}, got {n_boot}")
        _n_boot(n_boot, where, "--n-boot")
    if seed is not None and not 0 <= seed <= 2**32 - 1:
        raise ConfigError(f"{where}: --seed: expected a whole number in [0, 2**32 - 1], got {seed}")
    return replace(config, **changes)


def _follow_min_pairable_items(checks: tuple[CheckSpec, ...], old: int, new: int) -> tuple[CheckSpec, ...]:
    """``pairable_items`` checks left at the minimum (fail = ``old``, no warn) follow it to ``new``."""
    return tuple(
        replace(c, fail=float(new))
        if c.metric == "pairable_items" and c.warn is None and c.fail == old
        else c
        for c in checks
    )


def _override_check(
    check: CheckSpec, min_alpha: float | None, warn_alpha: float | None, on: str | None, where: str
) -> CheckSpec:
    changes: dict[str, Any] = {}
    if on is not None and check.info.has_interval:
        if on not in GATE_ON:
            raise ConfigError(f"{where}: --on: {on!r} is not one of {', '.join(GATE_ON)}")
        changes["on"] = on
    if check.metric == "krippendorff_alpha":
        info = check.info
        for flag, value in (("--min-alpha", min_alpha), ("--warn-alpha", warn_alpha)):
            if value is not None and not info.lower <= value <= info.upper:
                raise ConfigError(f"{where}: {flag}: {value} is outside the range of alpha [-1, 1]")
        fail = check.fail if min_alpha is None else min_alpha
        warn = check.warn if warn_alpha is None else warn_alpha
        if min_alpha is not None and warn_alpha is None and warn is not None:
            warn = max(warn, min_alpha)
        _check_order(warn, fail, check.direction, where, "--min-alpha/--warn-alpha")
        changes.update(fail=fail, warn=warn)
    return replace(check, **changes) if changes else check


# ---------------------------------------------------------------------------------------------
# Finding and reading
# ---------------------------------------------------------------------------------------------


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``aqa.toml``, or ``pyproject.toml`` with a ``[tool.aqa]`` table, from ``start``
    (default: the current directory) upward; None when there is none.

    Raises
    ------
    ConfigError : a pyproject.toml on the way mentions ``tool.aqa`` but cannot be read as TOML
        (it is not passed over: that would silently fall back to another configuration).
    """
    directory = (start or Path.cwd()).resolve()
    for folder in (directory, *directory.parents):
        candidate = folder / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT_FILENAME
        if pyproject.is_file() and _has_tool_aqa(pyproject):
            return pyproject
    return None


def load_config(path: str | Path | None = None, *, search_from: Path | None = None) -> Config:
    """Read the configuration at ``path``, or the nearest one (see :func:`find_config`), or the
    defaults when there is none.

    Raises
    ------
    ConfigError : the file is missing, is not TOML, or holds an invalid key or value; the message
        names the file and the key.
    """
    if path is None:
        found = find_config(search_from)
        if found is None:
            return Config()
        path = found
    config_path = Path(path)
    if not config_path.is_file():
        raise ConfigError(f"{config_path}: no such configuration file")
    table = _read_table(config_path)
    return parse_config(table, path=config_path)


def parse_config(table: dict[str, Any], *, path: Path | None = None) -> Config:
    """Validate one ``[tool.aqa]`` table into a :class:`Config`.

    >>> config = parse_config({"checks": [{"metric": "fleiss_kappa", "questions": ["intent"], "fail": 0.6}]})
    >>> config.checks[0].fail, config.checks[0].warn
    (0.6, None)
    >>> parse_config({"checks": [{"metric": "alpha"}]})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qa.errors.ConfigError: <config>: checks[0].metric: unknown metric 'alpha'; ...
    """
    where = str(path) if path is not None else "<config>"
    if path is not None and path.name == PYPROJECT_FILENAME:
        where += " [tool.aqa]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table of settings, got {_type_name(table)}")
    _reject_unknown_keys(table, _TOP_LEVEL_KEYS, where, "")
    checks_table = table.get("checks", [])
    if not isinstance(checks_table, list):
        raise ConfigError(f"{where}: checks: expected an array of tables ([[checks]]), got {_type_name(checks_table)}")
    min_pairable = _integer(table, "min_pairable_items", MIN_PAIRABLE_ITEMS, where, low=2)
    checks = tuple(_parse_check(entry, index, where, min_pairable) for index, entry in enumerate(checks_table))
    config = Config(
        source=_optional_str(table, "source", where),
        format=_optional_str(table, "format", where),
        column_map=_column_map(table.get("column_map", {}), where),
        normalize_labels=_bool(table, "normalize_labels", False, where),
        question=_optional_str(table, "question", where),
        checks=checks,
        ci_level=_number(table, "ci_level", DEFAULT_CI_LEVEL, where, low=0.5, high=MAX_CI_LEVEL),
        n_boot=_n_boot(_integer(table, "n_boot", DEFAULT_N_BOOT, where, low=0, high=100_000), where, "n_boot"),
        seed=_integer(table, "seed", DEFAULT_SEED, where, low=0, high=2**32 - 1),
        min_pairable_items=min_pairable,
        inconclusive=_choice(table, "inconclusive", "fail", INCONCLUSIVE_POLICIES, where),
        path=path,
    )
    return config


_TOP_LEVEL_KEYS = (
    "source",
    "format",
    "column_map",
    "normalize_labels",
    "question",
    "checks",
    "ci_level",
    "n_boot",
    "seed",
    "min_pairable_items",
    "inconclusive",
)
_OPTION_KEYS = ("level", "by", "annotators", "weights", "mode")
_CHECK_KEYS = ("metric", "question", "questions", "warn", "fail", "on", "direction", "name", *_OPTION_KEYS)
_WEIGHTS = ("linear", "quadratic", "ordinal")


def _parse_check(entry: Any, index: int, where: str, min_pairable_items: int = MIN_PAIRABLE_ITEMS) -> CheckSpec:
    key = f"checks[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: {key}: expected a table with a metric, got {_type_name(entry)}")
    _reject_unknown_keys(entry, _CHECK_KEYS, where, key + ".")
    metric = entry.get("metric")
    if not isinstance(metric, str) or not metric:
        raise ConfigError(f"{where}: {key}.metric: required; one of {', '.join(METRICS)}")
    if metric not in METRICS:
        raise ConfigError(f"{where}: {key}.metric: {_unknown_metric_message(metric, None)}")
    info = METRICS[metric]
    questions = _questions(entry, where, key)
    on = _choice(entry, "on", "lower_bound" if info.has_interval else "value", GATE_ON, where, key + ".")
    if on == "lower_bound" and not info.has_interval:
        raise ConfigError(
            f"{where}: {key}.on: {metric} has no confidence interval; use on = \"value\""
        )
    direction = _choice(entry, "direction", info.direction, DIRECTIONS, where, key + ".")
    if metric == "drift" and ("warn" in entry or "fail" in entry):
        raise ConfigError(
            f"{where}: {key}: drift verdicts come from the drift gate of MEASURES.md (adjusted p < 0.05 "
            "and JS or TVD >= 0.10 warns, >= 0.20 or PSI >= 0.25 fails); drop warn/fail"
        )
    warn = _threshold(entry, "warn", info, where, key)
    fail = _threshold(entry, "fail", info, where, key)
    if warn is None and fail is None:
        warn, fail = info.warn, info.fail
        if metric == "pairable_items":  # one minimum: the check follows min_pairable_items
            fail = float(min_pairable_items)
        if warn is None and fail is None:
            raise ConfigError(f"{where}: {key}: {metric} has no default threshold ({info.source}); give warn and/or fail")
    _check_order(warn, fail, direction, where, key)
    options = {name: entry[name] for name in _OPTION_KEYS if name in entry}
    _reject_foreign_options(metric, options, where, key)
    _validate_options(metric, options, where, key)
    return CheckSpec(
        metric=metric,
        questions=questions,
        warn=warn,
        fail=fail,
        on=on,
        direction=direction,
        name=_optional_str(entry, "name", where, key + ".") or "",
        options=options,
        origin=where,
    )


def _threshold(entry: dict, name: str, info: MetricInfo, where: str, key: str) -> float | None:
    if name not in entry:
        return None
    value = entry[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigError(f"{where}: {key}.{name}: expected a number, got {value!r}")
    if not info.lower <= value <= info.upper:
        raise ConfigError(
            f"{where}: {key}.{name}: {value!r} is outside the range of {info.name} "
            f"[{info.lower:g}, {info.upper:g}]"
        )
    return float(value)


def _check_order(warn: float | None, fail: float | None, direction: str, where: str, key: str) -> None:
    if warn is None or fail is None:
        return
    if direction == HIGHER_IS_BETTER and fail > warn:
        raise ConfigError(
            f"{where}: {key}: fail ({fail:g}) must not be above warn ({warn:g}): higher is better "
            "for this metric, so the fail threshold is the lower one"
        )
    if direction == LOWER_IS_BETTER and fail < warn:
        raise ConfigError(
            f"{where}: {key}: fail ({fail:g}) must not be below warn ({warn:g}): lower is better "
            "for this metric, so the fail threshold is the higher one"
        )


def _options_of(metric: str) -> tuple[str, ...]:
    """The options ``metric`` reads (any other option given to it would be silently ignored)."""
    if metric == "krippendorff_alpha":
        return ("level",)
    if metric == "cohen_kappa":
        return ("level", "weights", "annotators")
    if metric in AGREEMENT_COEFFICIENTS and metric != "span_f1":
        return ("level", "weights")
    return {"span_f1": ("mode",), "drift": ("by",)}.get(metric, ())


def _reject_foreign_options(metric: str, options: dict[str, Any], where: str, key: str) -> None:
    allowed = _options_of(metric)
    for name in options:
        if name not in allowed:
            takes = f"takes only {', '.join(allowed)}" if allowed else "takes no options"
            raise ConfigError(f"{where}: {key}.{name}: {metric} does not use {name} ({metric} {takes})")


def _validate_options(metric: str, options: dict[str, Any], where: str, key: str) -> None:
    if "level" in options and options["level"] not in ("nominal", "ordinal", "interval", "ratio"):
        raise ConfigError(
            f"{where}: {key}.level: {options['level']!r} is not one of nominal, ordinal, interval, ratio"
        )
    if "weights" in options and options["weights"] not in _WEIGHTS:
        raise ConfigError(f"{where}: {key}.weights: {options['weights']!r} is not one of {', '.join(_WEIGHTS)}")
    if "mode" in options and options["mode"] not in ("exact", "overlap"):
        raise ConfigError(f"{where}: {key}.mode: {options['mode']!r} is not one of exact, overlap")
    if metric == "cohen_kappa":
        pair = options.get("annotators")
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(a, str) for a in pair)):
            raise ConfigError(f"{where}: {key}.annotators: cohen_kappa needs two annotator ids, e.g. [\"ann1\", \"ann2\"]")
    if "by" in options and not isinstance(options["by"], str):
        raise ConfigError(f"{where}: {key}.by: expected a column name (e.g. \"batch\")")


def _questions(entry: dict, where: str, key: str) -> tuple[str, ...]:
    if "question" in entry and "questions" in entry:
        raise ConfigError(f"{where}: {key}: give question or questions, not both")
    if "question" in entry:
        value = entry["question"]
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key}.question: expected a question name, got {value!r}")
        return (value,)
    value = entry.get("questions", [])
    if not isinstance(value, list) or not all(isinstance(q, str) for q in value):
        raise ConfigError(f"{where}: {key}.questions: expected a list of question names, got {value!r}")
    return tuple(value)


def _read_document(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (TOML files are UTF-8): byte {err.start}") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from None


def _read_table(path: Path) -> dict[str, Any]:
    document = _read_document(path)
    tool_table = document.get("tool", {}).get("aqa") if isinstance(document.get("tool"), dict) else None
    if tool_table is not None and not isinstance(tool_table, dict):
        raise ConfigError(f"{path}: tool.aqa: expected a table ([tool.aqa]), got {_type_name(tool_table)}")
    if path.name == PYPROJECT_FILENAME:
        if tool_table is None:
            raise ConfigError(f"{path}: no [tool.aqa] table")
        return tool_table
    if tool_table is not None:
        outside = [key for key in document if key != "tool"]
        if outside:  # keys beside [tool.aqa] in an aqa.toml would be silently ignored
            raise ConfigError(
                f"{path}: {outside[0]}: outside the [tool.aqa] table; in aqa.toml put every key either "
                "at the top level or under [tool.aqa], not both"
            )
        return tool_table
    return document


def _has_tool_aqa(path: Path) -> bool:
    """True when ``path`` has a ``[tool.aqa]`` table. A pyproject.toml that cannot be read is
    passed over, unless it mentions ``tool.aqa``: then its error is raised rather than silently
    falling back to a configuration further up (or to the defaults)."""
    try:
        document = _read_document(path)
    except ConfigError:
        try:
            mentions_aqa = b"tool.aqa" in path.read_bytes()
        except OSError:
            mentions_aqa = False
        if mentions_aqa:
            raise
        return False
    tool = document.get("tool")
    return isinstance(tool, dict) and "aqa" in tool


def _reject_unknown_keys(table: dict, known: tuple[str, ...], where: str, prefix: str) -> None:
    for name in table:
        if name not in known:
            raise ConfigError(f"{where}: {prefix}{name}: unknown key; the keys are {', '.join(known)}")


def _optional_str(table: dict, name: str, where: str, prefix: str = "") -> str | None:
    value = table.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {prefix}{name}: expected a non-empty string, got {value!r}")
    return value


def _bool(table: dict, name: str, default: bool, where: str) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {name}: expected true or false, got {value!r}")
    return value


def _number(table: dict, name: str, default: float, where: str, *, low: float, high: float) -> float:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError(f"{where}: {name}: expected a number in [{low:g}, {high:g}], got {value!r}")
    return value


def _integer(table: dict, name: str, default: int, where: str, *, low: int, high: float = math.inf) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}: {name}: expected a whole number in [{low:g}, {high:g}], got {value!r}")
    return value


def _n_boot(value: int, where: str, name: str) -> int:
    if 0 < value < MIN_N_BOOT:
        raise ConfigError(
            f"{where}: {name}: {value} bootstrap replicates cannot support an interval; give at least "
            f"{MIN_N_BOOT} (Efron & Tibshirani 1993 suggest about 1000), or 0 for no interval"
        )
    return value


def _choice(table: dict, name: str, default: str, choices: tuple[str, ...], where: str, prefix: str = "") -> str:
    value = table.get(name, default)
    if value not in choices:
        raise ConfigError(f"{where}: {prefix}{name}: {value!r} is not one of {', '.join(choices)}")
    return value


def _column_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(f"{where}: column_map: expected a table of canonical column = \"export column\"")
    return dict(value)


def _unknown_metric_message(metric: str, origin: str | None) -> str:
    prefix = f"{origin}: " if origin and origin != "defaults" else ""
    return f"{prefix}unknown metric {metric!r}; the metrics are {', '.join(METRICS)}"


def _type_name(value: Any) -> str:
    return type(value).__name__

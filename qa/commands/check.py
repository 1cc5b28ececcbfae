"""``aqa check``: gate a pipeline on agreement and data-quality checks.

Reads the configuration (``--config``, else ``aqa.toml`` / ``[tool.aqa]`` found upward from the
current directory, else the defaults), applies the flags, loads the export, runs the checks and
writes the outputs. Exit status: 0 pass (warnings allowed), 1 a gate failed, 2 usage, config or
input error, 3 a metric could not be computed (see :mod:`qa.checks`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import qa
from qa import ci_outputs
from qa.checks import CheckRun, run_checks
from qa.commands._common import parse_column_map
from qa.config import GATE_ON, INCONCLUSIVE_POLICIES, Config, apply_overrides, load_config
from qa.engines.measurements import open_for_check
from qa.errors import ConfigError, InputError
from qa.measurements import Measurements
from qa.schema import AnnotationSet


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    gate = parser.add_argument_group("gate (flags override the configuration)")
    gate.add_argument("--min-alpha", type=float, metavar="X", help="fail threshold of every Krippendorff's alpha check")
    gate.add_argument("--warn-alpha", type=float, metavar="X", help="warn threshold of every Krippendorff's alpha check")
    gate.add_argument("--on", choices=GATE_ON, help="gate checks with an interval on the value or on its lower bound")
    gate.add_argument(
        "--inconclusive",
        choices=INCONCLUSIVE_POLICIES,
        help="what an interval straddling the fail threshold does (default: fail)",
    )
    gate.add_argument("--min-pairable-items", type=int, metavar="N", help="fewer pairable items is an error (default 50)")
    gate.add_argument("--ci-level", type=float, metavar="P", help="confidence level of the intervals (default 0.95)")
    gate.add_argument("--n-boot", type=int, metavar="B", help="bootstrap replicates (default 1000)")
    gate.add_argument("--seed", type=int, help="bootstrap seed (default 0)")
    engine = parser.add_argument_group("engine (tables too large to load: docs/engines.md)")
    engine.add_argument(
        "--engine",
        choices=("auto", "pandas", "duckdb", "spark"),
        default="auto",
        help="where the reductions run (default auto: duckdb for a Parquet/CSV table too large to load)",
    )
    engine.add_argument(
        "--memory-share", type=float, metavar="F", help="auto: use duckdb when the loaded table would exceed this share of RAM (default 0.25)"
    )
    out = parser.add_argument_group("outputs")
    out.add_argument("--json", metavar="PATH", help="write the results as JSON")
    out.add_argument("--junit", metavar="PATH", help="write JUnit XML (one testsuite per check family)")
    out.add_argument("--markdown", metavar="PATH", help="write a Markdown table")
    out.add_argument("--quiet", action="store_true", help="print only the summary line")
    out.add_argument(
        "--no-github",
        action="store_true",
        help="no ::error/::warning lines or step summary, even when GITHUB_ACTIONS=true",
    )


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """The export and the configuration: shared by ``aqa check`` and ``aqa report``.

    The same input options as ``aqa summary`` (``--format``, ``--map``, ``--question``,
    ``--normalize-labels``), but the export is optional: the configuration may name it.
    """
    parser.add_argument("source", nargs="?", metavar="PATH", help="the export (default: `source` of the configuration)")
    parser.add_argument("--config", metavar="PATH", help="aqa.toml or pyproject.toml (default: found upward)")
    parser.add_argument("--format", dest="input_format", metavar="NAME", help="force the export format (default: detected)")
    parser.add_argument(
        "--map", metavar="CANONICAL=COLUMN,...", help="long tables: the export's column names, e.g. item=task_id"
    )
    parser.add_argument("--question", help="the question name, for exports that hold one unnamed question")
    parser.add_argument("--normalize-labels", action="store_true", help="case-fold and strip category labels")


def config_from_args(args: argparse.Namespace) -> Config:
    """The configuration file (or the defaults) with the command-line flags applied."""
    config = load_config(args.config)
    config = apply_overrides(
        config,
        source=args.source,
        format=args.input_format,
        min_alpha=getattr(args, "min_alpha", None),
        warn_alpha=getattr(args, "warn_alpha", None),
        on=getattr(args, "on", None),
        inconclusive=getattr(args, "inconclusive", None),
        min_pairable_items=getattr(args, "min_pairable_items", None),
        ci_level=getattr(args, "ci_level", None),
        n_boot=getattr(args, "n_boot", None),
        seed=getattr(args, "seed", None),
    )
    if args.normalize_labels:
        config = config.with_(normalize_labels=True)
    if args.map:
        config = config.with_(column_map={**config.column_map, **parse_column_map(args.map)})
    if args.question:
        config = config.with_(question=args.question)
    source = config.source_path()
    if args.source is None and config.path is not None and source is not None and not source.exists():
        raise ConfigError(
            f"{config.path}: source: {source} does not exist (a relative source is read from the "
            "configuration file's directory)"
        )
    return config


def load_source(config: Config) -> AnnotationSet:
    """Load the configured export; :class:`ConfigError` when there is none."""
    source = config.source_path()
    if source is None:
        where = f"set source in {config.path}" if config.path else "or set source in aqa.toml / [tool.aqa]"
        raise ConfigError(f"no source: give the export as an argument (aqa check EXPORT) {where}")
    return qa.load(
        source,
        format=config.format,
        column_map=config.column_map or None,
        normalize_labels=config.normalize_labels,
        question=config.question,
    )


def measurements_for(annotations: AnnotationSet, config: Config) -> Measurements:
    return Measurements(annotations, ci_level=config.ci_level, n_boot=config.n_boot, seed=config.seed)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    opened = open_for_check(config, getattr(args, "engine", "pandas"), memory_share=getattr(args, "memory_share", None))
    annotations, measurements = opened if opened else (load_source(config), None)
    check_run = run_checks(
        annotations, config, measurements or measurements_for(annotations, config), source=str(config.source_path())
    )
    print(ci_outputs.summary_line(check_run) if args.quiet else ci_outputs.terminal_table(check_run))
    write_outputs(check_run, args)
    return check_run.exit_code


def write_outputs(check_run: CheckRun, args: argparse.Namespace) -> None:
    """The requested files, and the GitHub Actions lines and step summary when on GitHub."""
    writers = (
        (args.json, ci_outputs.write_json),
        (args.junit, ci_outputs.write_junit),
        (args.markdown, ci_outputs.write_markdown),
    )
    for path, write in writers:
        if path:
            try:
                write(check_run, path)
            except OSError as err:
                raise InputError(f"cannot write: {err.strerror}", path=path) from None
    if args.no_github or not ci_outputs.running_on_github():
        return
    config_file = _relative(check_run.config_path)
    for line in ci_outputs.github_annotations(check_run, file=config_file):
        print(line)
    try:
        ci_outputs.append_step_summary(check_run)
    except OSError as err:
        print(f"aqa check: could not append to GITHUB_STEP_SUMMARY: {err.strerror}", file=sys.stderr)


def _relative(path: str) -> str:
    if not path:
        return ""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path

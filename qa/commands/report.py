"""``aqa report``: write an offline HTML report (or Markdown for a pull-request comment).

Uses the same configuration as ``aqa check`` (``--config``, else ``aqa.toml`` / ``[tool.aqa]``
found upward, else the defaults) and shows the check verdicts in the report, but it is not a
gate: it exits 0 whatever the verdicts (2 on a usage, configuration or input error).

``--format`` names the export's format, as in every ``aqa`` command; the report's own format is
``--output-format md`` or an output path ending in ``.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qa.checks import run_checks
from qa.commands.check import add_source_arguments, config_from_args, load_source, measurements_for
from qa.errors import InputError
from qa.report import DEFAULT_TOP_DISPUTES, build_report, write_report

DEFAULT_OUTPUT = {"html": "aqa-report.html", "md": "aqa-report.md"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument("-o", "--output", metavar="PATH", help="where to write (default: aqa-report.html / .md)")
    parser.add_argument(
        "--output-format",
        choices=("html", "md"),
        help="html (self-contained, offline) or md (Markdown); default: from the output suffix, else html",
    )
    parser.add_argument("--title", help="the report's title")
    parser.add_argument("--top", type=_positive_int, default=DEFAULT_TOP_DISPUTES, metavar="N", help="disputed items shown per question")
    parser.add_argument("--no-checks", action="store_true", help="leave the check verdicts out")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def output_format(args: argparse.Namespace) -> str:
    if args.output_format:
        return args.output_format
    if args.output and Path(args.output).suffix.lower() in (".md", ".markdown"):
        return "md"
    return "html"


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    annotations = load_source(config)
    measurements = measurements_for(annotations, config)
    check_run = None if args.no_checks else run_checks(annotations, config, measurements, source=str(config.source_path()))
    report = build_report(
        annotations, config, measurements=measurements, check_run=check_run, title=args.title, top_disputes=args.top
    )
    fmt = output_format(args)
    target = Path(args.output or DEFAULT_OUTPUT[fmt])
    try:
        write_report(report, target, fmt)
    except OSError as err:
        raise InputError(f"cannot write the report: {err.strerror}", path=target) from None
    omitted = [s for s in report.sections if s.omitted]
    print(f"Report written to {target} ({len(report.sections)} sections)")
    for section in omitted:
        print(f"  {section.title}: {section.omitted}")
    return 0

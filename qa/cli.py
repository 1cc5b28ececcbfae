"""The ``aqa`` command line: ``summary``, ``convert``, ``check``, ``report``, ``dashboard``.

Each subcommand lives in ``qa/commands/<name>.py`` with ``add_arguments(parser)`` and
``run(args) -> int``. Errors of the suite's own (bad input, bad configuration) print one clear
message and exit 2, never a traceback.

Exit status: 0 pass, 1 a gate failed, 2 usage/config/input error, 3 a metric could not be computed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from qa.errors import AQAError

COMMANDS = {
    "summary": "what an export holds: items, annotators, questions, skipped records",
    "convert": "write the canonical long table as CSV, Parquet or JSONL",
    "check": "gate a pipeline on agreement and data-quality checks",
    "report": "write an offline HTML (or Markdown) report",
    "dashboard": "start the QA dashboard (Streamlit) on 127.0.0.1",
}
EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE, EXIT_NOT_COMPUTABLE = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aqa", description="annotation-qa: can these labels be trusted?")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = _command_module(name)
        if module is None:
            continue
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and EXIT_USAGE
    if not getattr(args, "_run", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args._run(args))
    except AQAError as err:
        print(f"aqa {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (``aqa summary x | head``): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def _command_module(name: str):
    try:
        return importlib.import_module(f"qa.commands.{name}")
    except ModuleNotFoundError as err:
        if err.name == f"qa.commands.{name}":
            return None
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

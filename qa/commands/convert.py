"""``aqa convert IN OUT``: load any supported export and write the canonical long table as CSV,
TSV, Parquet or JSONL (by OUT's extension). Gold becomes ``is_gold`` rows and item text and
metadata become columns, so ``aqa convert`` output loads back to the same tables (see
``qa.writers``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qa.commands._common import add_input_arguments, load_from_args
from qa.errors import ConfigError
from qa.writers import LONG_TABLE_SUFFIXES, write_long_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser, metavar="IN")
    parser.add_argument("output", metavar="OUT", help=f"the long table to write ({', '.join(LONG_TABLE_SUFFIXES)})")


def run(args: argparse.Namespace) -> int:
    suffix = Path(args.output).suffix.lower()
    if suffix not in LONG_TABLE_SUFFIXES:  # before a long load, not after
        raise ConfigError(f"OUT {args.output!r}: cannot write a long table as {suffix or 'a file with no extension'}; "
                          f"use one of {', '.join(LONG_TABLE_SUFFIXES)}")
    aset = load_from_args(args)
    path = write_long_table(aset, args.output)
    report = aset.load_report
    skipped = sum(report.skipped_counts.values())
    print(
        f"wrote {report.annotations_loaded} annotations of {len(aset.items)} items"
        + (f" and {len(aset.gold)} gold labels" if len(aset.gold) else "")
        + f" to {path}" + (f" ({skipped} records skipped; see aqa summary)" if skipped else ""),
        file=sys.stdout,
    )
    return 0

"""Run every benchmark in bench/ in turn and collect what they print.

Usage: ``python bench/run.py [--small] [--only NAME ...]``. Each ``bench_*.py`` script prints
its own numbers and ratios against the anchor libraries and writes ``bench/results/<name>.txt``;
``--small`` asks the scripts that support it for a quick run (the results then say so).
The scripts run one after the other (the machine has 2 cores): timings are not comparable when
something else runs at the same time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def scripts(only: list[str]) -> list[Path]:
    found = sorted(BENCH.glob("bench_*.py"))
    if only:
        found = [s for s in found if any(name in s.stem for name in only)]
    return found


def supports_small(script: Path) -> bool:
    return "--small" in script.read_text()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="quick runs, for checking the scripts")
    parser.add_argument("--only", nargs="*", default=[], help="run only scripts whose name contains these")
    args = parser.parse_args()
    failures = []
    for script in scripts(args.only):
        command = [sys.executable, str(script)]
        if args.small and supports_small(script):
            command.append("--small")
        print(f"\n=== {script.name} {' '.join(command[2:])}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(command, cwd=BENCH.parent)
        print(f"=== {script.name}: exit {code} in {time.perf_counter() - started:.0f} s", flush=True)
        if code:
            failures.append(script.name)
    if failures:
        print(f"\nfailed: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

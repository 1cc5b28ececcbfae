"""What ``aqa check`` writes: a terminal table, JSON, JUnit XML, GitHub Actions annotations and a
Markdown table (the step summary and ``--markdown``).

All of them present one :class:`~qa.checks.CheckRun`; none computes anything.

JUnit XML has no "warning": a warning is a passing testcase with a ``verdict`` property
(MEASURES.md, "CI outputs"). GitHub shows only about 10 annotations of each kind per step, so
:func:`github_annotations` emits at most :data:`GITHUB_ANNOTATION_LIMIT` of each kind, the last one
summarising the rest.
"""

from __future__ import annotations

import json
import math
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from qa.checks import COUNT_METRICS, NOTHING_GATED, CheckResult, CheckRun, format_number, is_warning

GITHUB_ANNOTATION_LIMIT = 10
"""GitHub displays at most 10 error and 10 warning annotations per step."""

VERDICT_MARKS = {"pass": "✅", "warn": "⚠️", "fail": "❌", "inconclusive": "❔", "error": "💥"}
TABLE_COLUMNS = ("verdict", "check", "value", "interval", "gate on", "warn", "fail", "items")


# ---------------------------------------------------------------------------------------------
# Numbers as text
# ---------------------------------------------------------------------------------------------


def fmt_number(value: float | int | None, digits: int = 3, *, count: bool = False) -> str:
    """A number for a table (:func:`qa.checks.format_number`).

    >>> fmt_number(0.66666), fmt_number(None), fmt_number(50.0), fmt_number(float("nan"))
    ('0.667', '-', '50', 'NaN')
    """
    return format_number(value, digits, count=count)


def fmt_interval(result: CheckResult) -> str:
    if not (math.isfinite(result.ci_low) and math.isfinite(result.ci_high)):
        return "-"
    return f"[{fmt_number(result.ci_low)}, {fmt_number(result.ci_high)}]"


def verdict_label(result: CheckResult) -> str:
    """The verdict as shown: ``inconclusive (warn)`` when the policy makes it a warning."""
    if result.verdict == "inconclusive" and not result.blocking:
        return "inconclusive (warn)"
    return result.verdict


def table_rows(run: CheckRun) -> list[tuple[str, ...]]:
    """One tuple of cells per check, in :data:`TABLE_COLUMNS` order."""
    return [
        (
            verdict_label(r),
            r.name,
            fmt_number(r.value, count=r.metric in COUNT_METRICS),
            fmt_interval(r),
            r.on.replace("_", " "),
            fmt_number(r.threshold_warn),
            fmt_number(r.threshold_fail),
            fmt_number(r.n_items) if r.n_items is not None else "-",
        )
        for r in run.results
    ]


def summary_line(run: CheckRun) -> str:
    """``3 passed, 1 warning, 1 failed, 0 inconclusive, 0 errors: exit 1 (gate failed)``."""
    counts = run.counts()
    warnings = sum(is_warning(r) for r in run.results)
    inconclusive_blocking = sum(r.verdict == "inconclusive" and r.blocking for r in run.results)
    meaning = {0: "pass", 1: "gate failed", 3: "could not compute"}[run.exit_code]
    if not run.results:
        return f"no check applied to this export, nothing was gated: exit {run.exit_code} ({meaning})"
    return (
        f"{counts['pass']} passed, {warnings} warning{'s' if warnings != 1 else ''}, "
        f"{counts['fail']} failed, {inconclusive_blocking} inconclusive, "
        f"{counts['error']} error{'s' if counts['error'] != 1 else ''}: exit {run.exit_code} ({meaning})"
    )


# ---------------------------------------------------------------------------------------------
# Terminal
# ---------------------------------------------------------------------------------------------


def terminal_table(run: CheckRun) -> str:
    """A plain-text table (verdict, check, value, interval, gate, thresholds, items), then the
    message of every check that did not pass, the notes and the summary line."""
    header = tuple(c.upper() for c in TABLE_COLUMNS)
    rows = [header, *table_rows(run)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    details = [f"{verdict_label(r).upper()} {r.name}: {r.message}" for r in run.results if r.verdict != "pass"]
    if details:
        lines += ["", *details]
    if run.notes:
        lines += ["", *(f"note: {note}" for note in run.notes)]
    lines += ["", summary_line(run)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


def to_json(run: CheckRun) -> str:
    """The run as JSON (NaN as null)."""
    return json.dumps(run.to_dict(), indent=2, ensure_ascii=False, default=str)


def write_json(run: CheckRun, path: str | Path) -> None:
    _write(path, to_json(run) + "\n")


# ---------------------------------------------------------------------------------------------
# JUnit XML
# ---------------------------------------------------------------------------------------------


def junit_xml(run: CheckRun) -> str:
    """JUnit XML: one ``testsuite`` per check family, one ``testcase`` per check.

    ``fail`` and blocking ``inconclusive`` results are ``<failure>`` elements carrying the numbers;
    ``error`` results are ``<error>``; warnings pass with a ``verdict`` property. Every testcase
    has properties ``verdict``, ``value``, ``ci_low``, ``ci_high``, ``threshold_warn``,
    ``threshold_fail`` and ``on``.
    """
    root = ET.Element("testsuites", name="aqa check")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for family, results in run.by_family().items():
        suite = ET.SubElement(root, "testsuite", name=family)
        counts = {
            "tests": len(results),
            "failures": sum(r.blocking for r in results),
            "errors": sum(r.verdict == "error" for r in results),
        }
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("skipped", "0")
        suite.set("time", "0")
        for result in results:
            _junit_testcase(suite, family, result)
    if not run.results:  # nothing gated: exit 3, so the report must not read as an empty pass
        suite = ET.SubElement(root, "testsuite", name="aqa", tests="1", failures="0", errors="1", skipped="0", time="0")
        case = ET.SubElement(suite, "testcase", classname="aqa", name="checks applied to the export", time="0")
        ET.SubElement(case, "error", message=NOTHING_GATED, type="error").text = NOTHING_GATED
        totals["tests"] += 1
        totals["errors"] += 1
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("skipped", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


# Characters XML 1.0 forbids even as references (C0 controls but TAB, LF, CR; surrogates; U+FFFE/F):
# ElementTree writes them raw and the file would not parse, so they become U+FFFD.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot carry replaced by U+FFFD.

    >>> xml_safe("ann\\x01ot\\x1bator") == "ann\\ufffdot\\ufffdator"
    True
    """
    return _XML_ILLEGAL.sub("\ufffd", text)


def _junit_testcase(suite: ET.Element, family: str, result: CheckResult) -> None:
    case = ET.SubElement(suite, "testcase", classname=f"aqa.{family}", name=xml_safe(result.name), time="0")
    properties = ET.SubElement(case, "properties")
    for name, value in (
        ("verdict", verdict_label(result)),
        ("value", fmt_number(result.value)),
        ("ci_low", fmt_number(result.ci_low)),
        ("ci_high", fmt_number(result.ci_high)),
        ("threshold_warn", fmt_number(result.threshold_warn)),
        ("threshold_fail", fmt_number(result.threshold_fail)),
        ("on", result.on),
    ):
        ET.SubElement(properties, "property", name=name, value=xml_safe(value))
    message = xml_safe(result.message)
    if result.verdict == "error":
        element = ET.SubElement(case, "error", message=message, type="error")
        element.text = message
    elif result.blocking:
        element = ET.SubElement(case, "failure", message=message, type=result.verdict)
        element.text = xml_safe(_failure_text(result))
    ET.SubElement(case, "system-out").text = message


def _failure_text(result: CheckResult) -> str:
    return (
        f"{result.message}\n"
        f"value={fmt_number(result.value)} interval={fmt_interval(result)} on={result.on} "
        f"warn={fmt_number(result.threshold_warn)} fail={fmt_number(result.threshold_fail)} "
        f"items={result.n_items if result.n_items is not None else '-'}"
    )


def write_junit(run: CheckRun, path: str | Path) -> None:
    _write(path, junit_xml(run) + "\n")


# ---------------------------------------------------------------------------------------------
# GitHub Actions
# ---------------------------------------------------------------------------------------------


def escape_data(text: str) -> str:
    """Escape a workflow-command message (actions/toolkit ``escapeData``): ``%``, CR, LF.

    >>> escape_data("50% of items\\nneed labels: see below")
    '50%25 of items%0Aneed labels: see below'
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow-command property such as ``title`` (actions/toolkit ``escapeProperty``):
    ``%``, CR, LF, ``:`` and ``,``.

    >>> escape_property("alpha (intent): 0.5, low")
    'alpha (intent)%3A 0.5%2C low'
    """
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str) -> str:
    """``::command key=value,...::message`` with both parts escaped."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value)
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def github_annotations(run: CheckRun, limit: int = GITHUB_ANNOTATION_LIMIT, file: str = "") -> list[str]:
    """``::error`` lines for checks that fail the gate or could not be computed, ``::warning``
    lines for warnings; at most ``limit`` of each kind, the last summarising the ones left out."""
    errors = [r for r in run.results if r.blocking or r.verdict == "error"]
    warnings = [r for r in run.results if is_warning(r)]
    nothing = [workflow_command("error", NOTHING_GATED, file=file, title="aqa check: nothing gated")]
    return (
        (nothing if not run.results else [])
        + _annotations("error", errors, limit, file)
        + _annotations("warning", warnings, limit, file)
    )


def _annotations(command: str, results: list[CheckResult], limit: int, file: str) -> list[str]:
    shown = results if len(results) <= limit else results[: limit - 1]
    lines = [
        workflow_command(command, r.message, file=file, title=f"aqa check {verdict_label(r)}: {r.name}")
        for r in shown
    ]
    left_out = len(results) - len(shown)
    if left_out:
        names = ", ".join(r.name for r in results[len(shown):])
        lines.append(
            workflow_command(
                command,
                f"{left_out} more checks: {names}. See the step summary for the numbers.",
                file=file,
                title=f"aqa check: {left_out} more",
            )
        )
    return lines


def running_on_github(environ: dict[str, str] | None = None) -> bool:
    return (environ if environ is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def append_step_summary(run: CheckRun, environ: dict[str, str] | None = None) -> Path | None:
    """Append the Markdown table to the file named by ``GITHUB_STEP_SUMMARY`` (if set)."""
    target = (environ if environ is not None else os.environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(markdown_table(run) + "\n")
    return path


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


def markdown_cell(text: str) -> str:
    """A table cell: pipes escaped, newlines as ``<br>``, HTML special characters escaped.

    >>> markdown_cell("a|b <script>")
    'a\\\\|b &lt;script&gt;'
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def markdown_table(run: CheckRun, *, title: str = "aqa check") -> str:
    """A Markdown section: the overall verdict, one table row per check, then the notes."""
    marks = {"fail": "❌", "error": "💥", "warn": "⚠️", "pass": "✅"}
    lines = [f"### {marks[run.verdict]} {title}: {run.verdict}", "", summary_line(run), ""]
    lines.append("| | verdict | check | value | interval | gate on | warn | fail | items | details |")
    lines.append("|---|---|---|---:|---|---|---:|---:|---:|---|")
    for result, cells in zip(run.results, table_rows(run), strict=True):
        mark = VERDICT_MARKS[result.verdict]
        body = " | ".join(markdown_cell(cell) for cell in cells)
        lines.append(f"| {mark} | {body} | {markdown_cell(result.message)} |")
    if run.notes:
        lines += ["", *(f"- {markdown_cell(note)}" for note in run.notes)]
    return "\n".join(lines) + "\n"


def write_markdown(run: CheckRun, path: str | Path) -> None:
    _write(path, markdown_table(run))


def _write(path: str | Path, text: str) -> None:
    target = Path(path)
    if target.parent and not target.parent.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")

"""What aqa check writes: terminal table, JSON, JUnit XML, GitHub Actions lines, Markdown."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET

import pytest

from qa import ci_outputs
from qa.checks import CheckResult, CheckRun


def result(name: str, verdict: str, *, family: str = "agreement", value: float = 0.7, blocking: bool | None = None,
           message: str | None = None, ci: tuple[float, float] = (0.6, 0.8)) -> CheckResult:
    return CheckResult(
        family=family, name=name, question="intent", metric="krippendorff_alpha", value=value,
        ci_low=ci[0], ci_high=ci[1], ci_level=0.95, threshold_warn=0.8, threshold_fail=0.667, on="lower_bound",
        direction="higher_is_better", verdict=verdict, message=message or f"{name}: alpha = {value}",
        n_items=120, blocking=(verdict in ("fail", "inconclusive")) if blocking is None else blocking,
    )


@pytest.fixture
def run() -> CheckRun:
    return CheckRun(
        results=(
            result("alpha (intent)", "pass"),
            result("alpha (quality)", "warn"),
            result("alpha (pii)", "fail", message="alpha = 0.41: 50% below\nthe fail threshold: 0.667"),
            result("alpha (tone)", "inconclusive"),
            result("imbalance (intent)", "warn", family="class_balance", value=12.0, ci=(math.nan, math.nan)),
            result("alpha (tiny)", "error", value=math.nan, ci=(math.nan, math.nan)),
        ),
        notes=("pii: skipped",),
    )


# -- terminal ---------------------------------------------------------------------------------


def test_terminal_table_has_one_row_per_check_with_verdict_value_interval_and_thresholds(run):
    lines = ci_outputs.terminal_table(run).splitlines()
    assert lines[0].split()[:4] == ["VERDICT", "CHECK", "VALUE", "INTERVAL"]
    row = next(line for line in lines if "alpha (pii)" in line)
    assert row.startswith("fail") and "[0.600, 0.800]" in row and "0.667" in row and "0.800" in row


def test_terminal_summary_counts_verdicts_and_states_the_exit_code(run):
    assert ci_outputs.terminal_table(run).splitlines()[-1] == (
        "1 passed, 2 warnings, 1 failed, 1 inconclusive, 1 error: exit 1 (gate failed)"
    )


# -- JSON ---------------------------------------------------------------------------------------


def test_json_holds_every_check_and_null_for_nan(run, tmp_path):
    path = tmp_path / "out" / "aqa.json"
    ci_outputs.write_json(run, path)
    payload = json.loads(path.read_text())
    assert payload["exit_code"] == 1 and payload["verdict"] == "fail"
    assert [c["verdict"] for c in payload["checks"]] == ["pass", "warn", "fail", "inconclusive", "warn", "error"]
    assert payload["checks"][-1]["value"] is None


# -- JUnit ----------------------------------------------------------------------------------------


def test_junit_has_one_testsuite_per_family_and_one_testcase_per_check(run):
    root = ET.fromstring(ci_outputs.junit_xml(run))
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert set(suites) == {"agreement", "class_balance"}
    assert [len(s.findall("testcase")) for s in suites.values()] == [5, 1]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "1")


def test_junit_suite_counts_match_their_testcases(run):
    root = ET.fromstring(ci_outputs.junit_xml(run))
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("errors")) == sum(c.find("error") is not None for c in cases)


def test_junit_failure_carries_the_numbers(run):
    root = ET.fromstring(ci_outputs.junit_xml(run))
    case = root.find(".//testcase[@name='alpha (pii)']")
    failure = case.find("failure")
    assert failure.get("type") == "fail"
    assert "value=0.700" in failure.text and "interval=[0.600, 0.800]" in failure.text and "fail=0.667" in failure.text


def test_junit_warning_is_a_passing_testcase_with_a_verdict_property(run):
    root = ET.fromstring(ci_outputs.junit_xml(run))
    case = root.find(".//testcase[@name='alpha (quality)']")
    assert case.find("failure") is None and case.find("error") is None
    assert case.find("properties/property[@name='verdict']").get("value") == "warn"


def test_junit_inconclusive_under_the_warn_policy_passes():
    run = CheckRun(results=(result("alpha (tone)", "inconclusive", blocking=False),), inconclusive_policy="warn")
    case = ET.fromstring(ci_outputs.junit_xml(run)).find(".//testcase")
    assert case.find("failure") is None
    assert case.find("properties/property[@name='verdict']").get("value") == "inconclusive (warn)"


def test_junit_escapes_markup_in_messages():
    run = CheckRun(results=(result("alpha <x> & \"y\"", "fail", message="a < b & c > d"),))
    case = ET.fromstring(ci_outputs.junit_xml(run)).find(".//testcase")
    assert case.get("name") == "alpha <x> & \"y\""
    assert case.find("failure").get("message") == "a < b & c > d"


# -- GitHub Actions -------------------------------------------------------------------------------


def parse_workflow_command(line: str) -> tuple[str, dict[str, str], str]:
    """Read a ``::command props::message`` line back the way the Actions runner does."""
    match = re.fullmatch(r"::(\w+)(?: ([^:]*))?::(.*)", line)
    assert match, line
    command, props, data = match.groups()
    def unescape_data(text):
        return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
    def unescape_property(text):
        return unescape_data(text.replace("%3A", ":").replace("%2C", ","))
    properties = dict(part.split("=", 1) for part in props.split(",")) if props else {}
    return command, {k: unescape_property(v) for k, v in properties.items()}, unescape_data(data)


def test_github_message_escapes_percent_and_newlines():
    line = ci_outputs.workflow_command("error", "50% below\nthe threshold\r")
    assert line == "::error::50%25 below%0Athe threshold%0D"
    assert "\n" not in line


def test_github_title_escapes_colons_and_commas():
    line = ci_outputs.workflow_command("warning", "m", title="aqa check fail: alpha (intent), low")
    assert line == "::warning title=aqa check fail%3A alpha (intent)%2C low::m"


def test_github_lines_round_trip_through_the_runners_unescaping(run):
    lines = ci_outputs.github_annotations(run, file="aqa.toml")
    parsed = [parse_workflow_command(line) for line in lines]
    failing = next(p for p in parsed if p[1]["title"].endswith("alpha (pii)"))
    assert failing[0] == "error"
    assert failing[1] == {"file": "aqa.toml", "title": "aqa check fail: alpha (pii)"}
    assert failing[2] == "alpha = 0.41: 50% below\nthe fail threshold: 0.667"  # colons kept, % and LF restored
    assert all("\n" not in line for line in lines)


def test_github_errors_cover_failures_inconclusive_and_errors_and_warnings_cover_warnings(run):
    commands = [parse_workflow_command(line) for line in ci_outputs.github_annotations(run)]
    errors = [p[1]["title"] for p in commands if p[0] == "error"]
    warnings = [p[1]["title"] for p in commands if p[0] == "warning"]
    assert errors == ["aqa check fail: alpha (pii)", "aqa check inconclusive: alpha (tone)", "aqa check error: alpha (tiny)"]
    assert warnings == ["aqa check warn: alpha (quality)", "aqa check warn: imbalance (intent)"]


def test_github_annotations_are_capped_with_a_summary_line():
    many = CheckRun(results=tuple(result(f"alpha (q{i})", "fail") for i in range(25)))
    lines = ci_outputs.github_annotations(many)
    assert len(lines) == ci_outputs.GITHUB_ANNOTATION_LIMIT
    command, properties, message = parse_workflow_command(lines[-1])
    assert properties["title"] == "aqa check: 16 more"
    assert message.startswith("16 more checks: alpha (q9), alpha (q10)")


def test_step_summary_is_appended_when_github_names_a_file(run, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    ci_outputs.append_step_summary(run, {"GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "| ❌ | fail | alpha (pii) |" in text


def test_no_step_summary_without_the_variable(run):
    assert ci_outputs.append_step_summary(run, {}) is None


def test_running_on_github_reads_github_actions():
    assert ci_outputs.running_on_github({"GITHUB_ACTIONS": "true"})
    assert not ci_outputs.running_on_github({})


# -- Markdown -------------------------------------------------------------------------------------


def test_markdown_table_has_a_row_per_check_and_escapes_pipes_and_markup():
    run = CheckRun(results=(result("alpha | <b>", "fail", message="a|b\n<script>"),))
    text = ci_outputs.markdown_table(run)
    row = next(line for line in text.splitlines() if line.startswith("| ❌"))
    assert "alpha \\| &lt;b&gt;" in row and "a\\|b<br>&lt;script&gt;" in row
    assert "<script>" not in text


def test_markdown_heading_states_the_overall_verdict(run):
    assert ci_outputs.markdown_table(run).splitlines()[0] == "### ❌ aqa check: fail"


# -- second reading ---------------------------------------------------------------------------


def test_junit_stays_parseable_with_control_characters_in_names_and_messages():
    hostile = CheckRun((result("alpha (an\x01n\x1b[31m)", "fail", message="alpha\x00 = 0.4 <low> & \"bad\""),))
    root = ET.fromstring(ci_outputs.junit_xml(hostile).encode("utf-8"))
    case = root.find(".//testcase")
    assert case.get("name") == "alpha (an\ufffdn\ufffd[31m)"
    assert case.find("failure").get("message") == 'alpha\ufffd = 0.4 <low> & "bad"'


def test_a_run_that_gated_nothing_is_an_error_in_junit_github_and_the_summary():
    empty = CheckRun(results=(), notes=("note: skipped",))
    root = ET.fromstring(ci_outputs.junit_xml(empty))
    assert (root.get("tests"), root.get("errors")) == ("1", "1")
    assert ci_outputs.github_annotations(empty)[0].startswith("::error title=aqa check%3A nothing gated::")
    assert ci_outputs.summary_line(empty).endswith("nothing was gated: exit 3 (could not compute)")

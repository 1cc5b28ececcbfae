"""aqa check and aqa report end to end on the sample support project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from qa.cli import main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
AQA = REPO / ".venv" / "bin" / "aqa"


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    """The sample project and its demo configurations (generated when not checked out)."""
    if (SAMPLE / "support_project.csv").exists():
        return SAMPLE
    target = tmp_path_factory.mktemp("sample")
    subprocess.run([sys.executable, str(SAMPLE / "generate.py"), str(target)], check=True)
    for name in ("aqa.toml", "aqa_strict.toml"):
        shutil.copy(SAMPLE / name, target / name)
    return target


@pytest.fixture(autouse=True)
def outside_github_and_any_config(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)  # no aqa.toml found upward from here


def write_config(path: Path, sample_dir: Path, checks: str) -> Path:
    path.write_text(f'source = "{sample_dir / "support_project.csv"}"\n{checks}', encoding="utf-8")
    return path


def test_the_demo_config_passes_with_warnings(sample_dir, capsys):
    assert main(["check", "--config", str(sample_dir / "aqa.toml")]) == 0
    out = capsys.readouterr().out
    assert "exit 0 (pass)" in out and "warn " in out


def test_the_strict_config_fails_and_names_the_failing_check(sample_dir, tmp_path, capsys):
    junit, report_json = tmp_path / "junit.xml", tmp_path / "aqa.json"
    code = main(["check", "--config", str(sample_dir / "aqa_strict.toml"), "--junit", str(junit), "--json", str(report_json)])
    assert code == 1
    out = capsys.readouterr().out
    assert "FAIL krippendorff_alpha (intent)" in out and "whole interval is below the fail threshold 0.667" in out
    payload = json.loads(report_json.read_text())
    failed = [c["name"] for c in payload["checks"] if c["verdict"] == "fail"]
    assert "krippendorff_alpha (intent)" in failed

    root = ET.parse(junit).getroot()
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"agreement", "class_balance", "drift"}
    assert int(root.get("tests")) == len(payload["checks"]) == len(root.findall(".//testcase"))
    assert int(root.get("failures")) == len(failed) == len(root.findall(".//testcase/failure"))
    assert int(suites["agreement"].get("failures")) == 2  # intent and quality


def test_github_annotations_and_step_summary_on_github_actions(sample_dir, tmp_path, monkeypatch, capsys):
    summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["check", "--config", str(sample_dir / "aqa_strict.toml")]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::")]
    errors = [line for line in lines if line.startswith("::error ")]
    assert any("title=aqa check fail%3A krippendorff_alpha (intent)" in line for line in errors)
    assert all("file=" in line and "::" in line[2:] for line in lines)
    assert "| ❌ | fail | krippendorff_alpha (intent) |" in summary.read_text()


def test_min_alpha_flag_overrides_the_default_gate(sample_dir, capsys):
    source = str(sample_dir / "support_project.csv")
    assert main(["check", source, "--min-alpha", "0.3", "--warn-alpha", "0.35", "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == "2 passed, 0 warnings, 0 failed, 0 inconclusive, 0 errors: exit 0 (pass)"


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ('[[checks]]\nmetric = "kappa_alpha"\n', "checks[0].metric: unknown metric 'kappa_alpha'"),
        ('[[checks]]\nmetric = "krippendorff_alpha"\nwarn = 0.6\nfail = 0.7\n', "checks[0]: fail (0.7) must not be above warn (0.6)"),
        ('[[checks]]\nmetric = "krippendorff_alpha"\nfail = 1.2\n', "checks[0].fail: 1.2 is outside the range"),
        ('[[checks]]\nmetric = "krippendorff_alpha"\nquestion = "sentiment"\n', "no question 'sentiment' in the export"),
    ],
    ids=["unknown-metric", "thresholds-out-of-order", "threshold-out-of-range", "unknown-question"],
)
def test_malformed_config_exits_2_with_a_message_naming_the_file_and_key(sample_dir, tmp_path, capsys, checks, expected):
    config = write_config(tmp_path / "aqa.toml", sample_dir, checks)
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aqa check: error: ") and str(config) in err and expected in err


def test_missing_source_exits_2_and_says_how_to_give_one(tmp_path, capsys):
    config = tmp_path / "aqa.toml"
    config.write_text('[[checks]]\nmetric = "krippendorff_alpha"\n')
    assert main(["check", "--config", str(config)]) == 2
    assert "no source: give the export as an argument" in capsys.readouterr().err


def test_config_is_found_from_the_current_directory(sample_dir, tmp_path, capsys):
    write_config(tmp_path / "aqa.toml", sample_dir, '[[checks]]\nmetric = "pairable_items"\n')
    assert main(["check", "--quiet"]) == 0
    assert "3 passed" in capsys.readouterr().out


def test_fewer_pairable_items_than_required_exits_3(sample_dir, capsys):
    source = str(sample_dir / "support_project.csv")
    assert main(["check", source, "--min-pairable-items", "1000", "--quiet"]) == 3
    assert "2 errors: exit 3 (could not compute)" in capsys.readouterr().out


def test_the_aqa_console_script_gates_and_writes_an_offline_report(sample_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    checked = subprocess.run(
        [str(AQA), "check", "--config", str(sample_dir / "aqa_strict.toml"), "--quiet"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    assert checked.returncode == 1 and "exit 1 (gate failed)" in checked.stdout
    output = tmp_path / "report.html"
    made = subprocess.run(
        [str(AQA), "report", "--config", str(sample_dir / "aqa.toml"), "--output", str(output)],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    from test_report import loaded_resources

    document = output.read_text(encoding="utf-8")
    assert loaded_resources(document).resources == []
    assert "Disputed items" in document and "Annotator calibration" in document


@pytest.mark.parametrize(
    ("config_text", "flags", "expected"),
    [
        ("[[checks]]\nmetric = \n", [], "not valid TOML: Invalid value (at line 3, column 10)"),
        (b"\xff\xfe[tool.aqa]", [], "not UTF-8 text"),
        ("tresholds = 0.8\n", [], "tresholds: unknown key"),
        ("n_boot = 1.5\n", [], "n_boot: expected a whole number"),
        ('[[checks]]\nmetric = "krippendorff_alpha"\nweights = "linear"\n', [], "krippendorff_alpha does not use weights"),
        ('[[checks]]\nmetric = "drift"\nby = "nocolumn"\n', [], "checks[0].by: 'nocolumn' is neither"),
        ('[[checks]]\nmetric = "cohen_kappa"\nquestion = "intent"\nannotators = ["x", "y"]\n', [], "'x', 'y' rated nothing"),
        ('[[checks]]\nmetric = "gwet_ac"\n', ["--min-alpha", "0.8"], "no krippendorff_alpha check"),
        ("", ["--seed", "-1"], "--seed: expected a whole number"),
        ("", ["--n-boot", "10"], "--n-boot: 10 bootstrap replicates"),
    ],
    ids=["toml-syntax", "not-utf8", "typo-key", "fraction", "foreign-option", "drift-by", "annotators",
         "min-alpha-unused", "negative-seed", "few-replicates"],
)
def test_bad_configs_and_flags_exit_2_with_one_line_and_no_traceback(sample_dir, tmp_path, capsys, config_text, flags, expected):
    config = tmp_path / "aqa.toml"
    if isinstance(config_text, bytes):
        config.write_bytes(config_text)
    else:
        write_config(config, sample_dir, config_text)
    assert main(["check", "--config", str(config), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aqa check: error: ") and err.count("\n") == 1 and expected in err


def test_report_rejects_a_top_below_one(sample_dir, capsys):
    assert main(["report", str(sample_dir / "support_project.csv"), "--top", "0"]) == 2
    assert "--top: expected at least 1" in capsys.readouterr().err


def test_a_source_in_the_config_that_does_not_exist_names_the_config_and_where_it_was_looked_for(tmp_path, capsys):
    config = tmp_path / "sub" / "aqa.toml"
    config.parent.mkdir()
    config.write_text('source = "exports/missing.csv"\n')
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{config}: source: {tmp_path / 'sub' / 'exports' / 'missing.csv'} does not exist" in err
    assert "read from the configuration file's directory" in err

"""Checks: thresholds on metric results, verdicts, the label-budget hint and exit codes."""

from __future__ import annotations

import math

import pytest
from aqa_synthetic import project

from qa import measurements as measurements_module
from qa.checks import (
    CheckRun,
    crosses,
    is_warning,
    items_to_settle,
    run_checks,
    threshold_verdict,
)
from qa.config import Config, parse_config
from qa.errors import ConfigError
from qa.measurements import Measurements

HIGHER, LOWER = "higher_is_better", "lower_is_better"


def alpha_gate(value, low, high, on="lower_bound"):
    return threshold_verdict(value, low, high, warn=0.8, fail=0.667, on=on, direction=HIGHER)


# -- threshold logic --------------------------------------------------------------------------


def test_interval_wholly_above_warn_passes():
    assert alpha_gate(0.9, 0.85, 0.95) == "pass"


def test_lower_bound_between_fail_and_warn_warns():
    assert alpha_gate(0.78, 0.70, 0.85) == "warn"


def test_interval_straddling_the_fail_threshold_is_inconclusive():
    assert alpha_gate(0.70, 0.60, 0.78) == "inconclusive"


def test_estimate_below_the_threshold_with_a_straddling_interval_is_still_inconclusive():
    assert alpha_gate(0.64, 0.55, 0.72) == "inconclusive"


def test_interval_wholly_below_the_fail_threshold_fails():
    assert alpha_gate(0.5, 0.4, 0.6) == "fail"


def test_gating_on_the_value_ignores_the_interval():
    assert alpha_gate(0.70, 0.60, 0.78, on="value") == "warn"
    assert alpha_gate(0.66, 0.60, 0.78, on="value") == "fail"


def test_without_an_interval_the_value_is_gated():
    assert alpha_gate(0.70, math.nan, math.nan) == "warn"


def test_lower_is_better_metrics_cross_above_their_thresholds():
    verdict = threshold_verdict(150.0, math.nan, math.nan, warn=10, fail=100, on="value", direction=LOWER)
    assert verdict == "fail"
    assert threshold_verdict(20.0, math.nan, math.nan, warn=10, fail=100, on="value", direction=LOWER) == "warn"


def test_lower_is_better_with_an_interval_gates_on_the_upper_bound():
    assert threshold_verdict(0.08, 0.05, 0.12, warn=0.1, fail=0.25, on="lower_bound", direction=LOWER) == "warn"
    assert threshold_verdict(0.2, 0.15, 0.3, warn=0.1, fail=0.25, on="lower_bound", direction=LOWER) == "inconclusive"


def test_a_value_on_the_threshold_does_not_cross_it():
    assert not crosses(0.667, 0.667, HIGHER)
    assert not crosses(10.0, 10.0, LOWER)


def test_a_missing_threshold_is_never_crossed():
    assert threshold_verdict(-0.5, math.nan, math.nan, warn=None, fail=None, on="value", direction=HIGHER) == "pass"


# -- label-budget hint ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "low", "high", "n"),
    [(0.70, 0.62, 0.78, 100), (0.64, 0.55, 0.72, 80), (0.9, 0.5, 0.99, 20), (0.60, 0.50, 0.70, 500)],
)
def test_the_budget_hint_shrinks_the_interval_just_enough_to_clear_the_threshold(value, low, high, n):
    extra = items_to_settle(value, low, high, 0.667, n)
    half_width = value - low if value > 0.667 else high - value
    def shrunk(items):
        return half_width * math.sqrt(n / items)
    assert shrunk(n + extra) <= abs(value - 0.667)  # enough
    assert extra == 1 or shrunk(n + extra - 1) > abs(value - 0.667)  # and not more


def test_no_budget_settles_an_estimate_that_sits_on_the_threshold():
    assert items_to_settle(0.667, 0.6, 0.7, 0.667, 100) is None


# -- running checks on annotation sets --------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_project():
    return project({"good": (200, 0.97), "noisy": (200, 0.3), "tiny": (20, 0.97)})


@pytest.fixture(scope="module")
def mixed_run(mixed_project) -> CheckRun:
    return run_checks(mixed_project, Config())


def result_for(run: CheckRun, question: str):
    (result,) = [r for r in run.results if r.question == question]
    return result


def test_default_checks_run_alpha_on_every_categorical_question(mixed_run):
    assert [(r.metric, r.question) for r in mixed_run.results] == [
        ("krippendorff_alpha", "good"), ("krippendorff_alpha", "noisy"), ("krippendorff_alpha", "tiny")
    ]


def test_high_agreement_passes(mixed_run):
    assert result_for(mixed_run, "good").verdict == "pass"


def test_low_agreement_fails_and_blocks_the_gate_with_the_numbers_in_the_message(mixed_run):
    result = result_for(mixed_run, "noisy")
    assert (result.verdict, result.blocking) == ("fail", True)
    assert f"{result.value:.3f}" in result.message and "0.667" in result.message


def test_fewer_than_fifty_pairable_items_is_an_error_not_a_pass(mixed_run):
    result = result_for(mixed_run, "tiny")
    assert result.verdict == "error"
    assert "20 pairable items" in result.message and "fewer than 50" in result.message


def test_a_failed_gate_takes_precedence_over_an_error_in_the_exit_code(mixed_run):
    assert mixed_run.exit_code == 1


def test_an_error_alone_exits_3(mixed_project):
    config = parse_config({"checks": [{"metric": "krippendorff_alpha", "questions": ["good", "tiny"]}]})
    assert run_checks(mixed_project, config).exit_code == 3


def test_a_passing_run_exits_0(mixed_project):
    config = parse_config({"checks": [{"metric": "krippendorff_alpha", "question": "good"}]})
    run = run_checks(mixed_project, config)
    assert (run.exit_code, run.verdict) == (0, "pass")


def test_warnings_do_not_fail_the_gate(mixed_project):
    config = parse_config({"checks": [{"metric": "krippendorff_alpha", "question": "good", "warn": 0.99, "fail": 0.5}]})
    run = run_checks(mixed_project, config)
    assert (run.results[0].verdict, run.exit_code, run.verdict) == ("warn", 0, "warn")


def test_check_value_is_the_metric_result_not_a_recomputation(mixed_project):
    measurements = Measurements(mixed_project)
    run = run_checks(mixed_project, Config(), measurements)
    alpha = measurements.agreement("good")
    result = result_for(run, "good")
    assert (result.value, result.ci_low, result.ci_high, result.n_items) == (alpha.value, alpha.ci_low, alpha.ci_high, alpha.n_items)


@pytest.fixture(scope="module")
def straddling_project():
    return project({"borderline": (60, 0.82)}, seed=0)


def test_a_straddling_interval_is_inconclusive_with_a_label_budget_and_fails_by_default(straddling_project):
    (result,) = run_checks(straddling_project, Config()).results
    assert result.ci_low < 0.667 < result.ci_high
    assert (result.verdict, result.blocking) == ("inconclusive", True)
    assert result.items_to_settle is not None and result.items_to_settle > 0
    assert f"about {result.items_to_settle} more doubly-labelled items" in result.message


def test_inconclusive_warn_policy_makes_a_straddling_interval_a_warning(straddling_project):
    run = run_checks(straddling_project, Config(inconclusive="warn"))
    (result,) = run.results
    assert result.verdict == "inconclusive" and not result.blocking and is_warning(result)
    assert run.exit_code == 0


def test_questions_a_metric_does_not_apply_to_are_skipped_with_a_note():
    annotations = project({"intent": (80, 0.97), "note": (80, 0.5)}, kinds={"note": "text"})
    run = run_checks(annotations, Config())
    assert [r.question for r in run.results] == ["intent"]
    assert run.notes == ("note: krippendorff_alpha skipped: not defined for text questions",)


def test_a_check_naming_an_unknown_question_is_a_config_error(mixed_project):
    config = parse_config({"checks": [{"metric": "krippendorff_alpha", "question": "intnet"}]})
    with pytest.raises(ConfigError, match=r"checks\[0\]: no question 'intnet'.*good, noisy, tiny"):
        run_checks(mixed_project, config)


def test_a_check_on_a_question_of_the_wrong_kind_is_a_config_error():
    annotations = project({"note": (80, 0.5)}, kinds={"note": "text"})
    config = parse_config({"checks": [{"metric": "krippendorff_alpha", "question": "note"}]})
    with pytest.raises(ConfigError, match="does not apply to 'note', a text question"):
        run_checks(annotations, config)


def test_an_unavailable_metric_module_is_an_error_that_says_so(mixed_project, monkeypatch):
    monkeypatch.setitem(measurements_module.FAMILY_MODULES, "balance", "metrics.no_such_module")
    config = parse_config({"checks": [{"metric": "class_balance.imbalance_ratio", "question": "good"}]})
    run = run_checks(mixed_project, config)
    assert run.results[0].verdict == "error" and "not available" in run.results[0].message
    assert run.exit_code == 3


def test_class_balance_checks_read_the_class_balance_result(mixed_project):
    measurements = Measurements(mixed_project)
    config = parse_config({"checks": [{"metric": "class_balance.imbalance_ratio", "question": "good", "warn": 1.01, "fail": 50}]})
    (result,) = run_checks(mixed_project, config, measurements).results
    assert result.value == measurements.balance("good").imbalance_ratio
    assert result.verdict == "warn" and result.family == "class_balance"


def test_a_missing_declared_category_fails_class_balance(mixed_project):
    annotations = project({"intent": (120, 1.0)})
    annotations = annotations.__class__(
        annotations=annotations.annotations,
        items=annotations.items,
        gold=annotations.gold,
        questions=annotations.questions.assign(categories=[("billing", "bug", "how_to", "feature_request", "spam")]),
        load_report=annotations.load_report,
    )
    config = parse_config({"checks": [{"metric": "class_balance.missing_categories"}]})
    (result,) = run_checks(annotations, config).results
    assert (result.value, result.verdict) == (1.0, "fail")


def test_drift_verdict_is_the_drift_modules_verdict():
    annotations = project({"steady": (400, 0.95), "shifting": (400, 0.95, 0.8)})
    measurements = Measurements(annotations)
    run = run_checks(annotations, parse_config({"checks": [{"metric": "drift"}]}), measurements)
    verdicts = {r.question: r.verdict for r in run.results}
    assert verdicts == {"steady": "pass", "shifting": "fail"}
    assert measurements.drift("shifting").verdict == "fail"
    assert "window v2 vs v1" in result_for(run, "shifting").message


def test_results_serialise_without_nan():
    annotations = project({"tiny": (10, 0.9)})
    run = run_checks(annotations, parse_config({"checks": [{"metric": "fleiss_kappa"}]}))
    payload = run.to_dict()
    assert payload["exit_code"] == 3
    assert all(not (isinstance(v, float) and math.isnan(v)) for v in payload["checks"][0].values())


# -- second reading: nothing may pass silently --------------------------------------------------


def test_a_run_where_no_check_applies_exits_3_not_0():
    run = run_checks(project({"note": (60, 0.9)}, kinds={"note": "text"}), Config())
    assert run.results == () and run.exit_code == 3 and run.verdict == "error"
    assert any("nothing was gated" in note for note in run.notes)


def test_a_nan_value_without_a_reason_is_an_error_not_a_pass():
    from qa.checks import Reading, judge
    from qa.config import CheckSpec

    result = judge(CheckSpec("annotator_flags"), "intent", Reading(math.nan, label="flagged annotators"), Config())
    assert result.verdict == "error" and "NaN" in result.message


def test_a_metric_rejecting_its_input_is_an_error_verdict_not_a_crash(mixed_project):
    config = parse_config({"checks": [{"metric": "krippendorff_alpha", "questions": ["good"], "level": "interval"}]})
    (result,) = run_checks(mixed_project, config).results
    assert result.verdict == "error" and "numeric labels" in result.message


def test_an_annotator_pair_not_in_the_export_is_a_config_error(mixed_project):
    config = parse_config({"checks": [{"metric": "cohen_kappa", "questions": ["good"], "annotators": ["ann", "zed"]}]})
    with pytest.raises(ConfigError, match=r"checks\[0\]\.annotators: 'zed' rated nothing in 'good'"):
        run_checks(mixed_project, config)


def test_a_drift_window_that_is_not_a_column_is_a_config_error(mixed_project):
    config = parse_config({"checks": [{"metric": "drift", "questions": ["good"], "by": "bacth"}]})
    with pytest.raises(ConfigError, match=r"checks\[0\]\.by: 'bacth' is neither day, week"):
        run_checks(mixed_project, config)


def test_without_an_interval_a_lower_bound_check_says_it_gated_the_value(mixed_project):
    run = run_checks(mixed_project, Config(n_boot=0))
    assert all("(no interval: gated on the value)" in r.message for r in run.results if r.verdict != "error")
    assert result_for(run, "noisy").verdict == "fail"


def test_the_json_document_carries_a_schema_version(mixed_run):
    from qa.checks import JSON_SCHEMA_VERSION

    assert mixed_run.to_dict()["schema_version"] == JSON_SCHEMA_VERSION == 1

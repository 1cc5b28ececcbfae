"""The configuration of aqa check: where it is found, its defaults and how it is validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.config import (
    KRIPPENDORFF_RELIABLE,
    KRIPPENDORFF_TENTATIVE,
    METRICS,
    MIN_PAIRABLE_ITEMS,
    CheckSpec,
    Config,
    apply_overrides,
    default_checks,
    find_config,
    load_config,
    parse_config,
)
from qa.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_gate_krippendorff_alpha_on_the_lower_bound_at_0667_and_warn_at_0800():
    (check,) = default_checks()
    assert check.metric == "krippendorff_alpha"
    assert (check.fail, check.warn, check.on) == (KRIPPENDORFF_TENTATIVE, KRIPPENDORFF_RELIABLE, "lower_bound")
    assert check.questions == ()


def test_defaults_require_fifty_pairable_items():
    assert Config().min_pairable_items == MIN_PAIRABLE_ITEMS == 50


def test_every_default_threshold_names_its_source():
    for info in METRICS.values():
        assert info.source, info.name


def test_no_configuration_file_gives_the_defaults(tmp_path):
    config = load_config(search_from=tmp_path)
    assert config.path is None
    assert config.effective_checks() == default_checks()


def test_aqa_toml_is_found_from_a_subdirectory(tmp_path):
    write(tmp_path / "aqa.toml", 'source = "export.csv"\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_config(nested) == tmp_path / "aqa.toml"


def test_pyproject_without_a_tool_aqa_table_is_passed_over(tmp_path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert find_config(tmp_path) is None


def test_tool_aqa_in_pyproject_is_read(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.aqa]\nsource = "data/export.json"\ninconclusive = "warn"\n')
    config = load_config(search_from=tmp_path)
    assert config.path == tmp_path / "pyproject.toml"
    assert config.inconclusive == "warn"


def test_aqa_toml_wins_over_pyproject_in_the_same_directory(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.aqa]\nsource = "a.csv"\n')
    write(tmp_path / "aqa.toml", 'source = "b.csv"\n')
    assert load_config(search_from=tmp_path).source == "b.csv"


def test_source_is_relative_to_the_configuration_file(tmp_path):
    config = load_config(write(tmp_path / "aqa.toml", 'source = "data/export.csv"\n'))
    assert config.source_path() == tmp_path / "data" / "export.csv"


def test_checks_are_read_with_their_thresholds_and_options(tmp_path):
    path = write(
        tmp_path / "aqa.toml",
        """
[[checks]]
metric = "krippendorff_alpha"
questions = ["intent"]
on = "value"
warn = 0.85
fail = 0.7
level = "ordinal"

[[checks]]
metric = "class_balance.imbalance_ratio"
question = "intent"
""",
    )
    alpha, balance = load_config(path).checks
    assert (alpha.questions, alpha.on, alpha.warn, alpha.fail, alpha.options) == (("intent",), "value", 0.85, 0.7, {"level": "ordinal"})
    assert (balance.warn, balance.fail, balance.on, balance.direction) == (10.0, 100.0, "value", "lower_is_better")


def test_a_check_with_only_a_fail_threshold_has_no_warn_threshold():
    (check,) = parse_config({"checks": [{"metric": "krippendorff_alpha", "fail": 0.7}]}).checks
    assert (check.warn, check.fail) == (None, 0.7)


def test_unknown_metric_is_a_config_error_naming_the_key_and_the_file(tmp_path):
    path = write(tmp_path / "aqa.toml", '[[checks]]\nmetric = "kripendorf"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message and "checks[0].metric" in message and "kripendorf" in message
    assert "krippendorff_alpha" in message  # says what would be valid


def test_warn_and_fail_out_of_order_is_a_config_error():
    with pytest.raises(ConfigError, match=r"checks\[0\]: fail \(0.9\) must not be above warn \(0.8\)"):
        parse_config({"checks": [{"metric": "krippendorff_alpha", "warn": 0.8, "fail": 0.9}]})


def test_lower_is_better_thresholds_must_have_fail_above_warn():
    with pytest.raises(ConfigError, match="must not be below warn"):
        parse_config({"checks": [{"metric": "class_balance.imbalance_ratio", "warn": 50, "fail": 20}]})


def test_threshold_outside_the_metric_range_is_a_config_error():
    with pytest.raises(ConfigError, match=r"checks\[0\]\.fail: 1.5 is outside the range of krippendorff_alpha \[-1, 1\]"):
        parse_config({"checks": [{"metric": "krippendorff_alpha", "fail": 1.5}]})


def test_a_threshold_that_is_not_a_number_is_a_config_error():
    with pytest.raises(ConfigError, match=r"checks\[0\]\.warn: expected a number"):
        parse_config({"checks": [{"metric": "krippendorff_alpha", "warn": "high"}]})


def test_gating_on_the_lower_bound_of_a_metric_without_interval_is_a_config_error():
    with pytest.raises(ConfigError, match="has no confidence interval"):
        parse_config({"checks": [{"metric": "disputed_share", "on": "lower_bound"}]})


def test_unknown_top_level_key_is_a_config_error():
    with pytest.raises(ConfigError, match="min_alpha: unknown key"):
        parse_config({"min_alpha": 0.8})


def test_unknown_check_key_is_a_config_error():
    with pytest.raises(ConfigError, match=r"checks\[0\]\.treshold: unknown key"):
        parse_config({"checks": [{"metric": "krippendorff_alpha", "treshold": 0.8}]})


def test_percent_agreement_has_no_conventional_threshold_so_one_must_be_given():
    with pytest.raises(ConfigError, match="give warn and/or fail"):
        parse_config({"checks": [{"metric": "percent_agreement"}]})


def test_cohen_kappa_needs_an_annotator_pair():
    with pytest.raises(ConfigError, match="annotators"):
        parse_config({"checks": [{"metric": "cohen_kappa"}]})


def test_drift_thresholds_come_from_the_drift_gate():
    with pytest.raises(ConfigError, match="drift gate"):
        parse_config({"checks": [{"metric": "drift", "warn": 0.05}]})


def test_invalid_toml_is_a_config_error_naming_the_file(tmp_path):
    path = write(tmp_path / "aqa.toml", "checks = [[\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "nope.toml")


def test_min_alpha_flag_sets_the_fail_threshold_and_keeps_warn_above_it():
    config = apply_overrides(Config(), min_alpha=0.85)
    (check,) = config.checks
    assert (check.fail, check.warn) == (0.85, 0.85)


def test_min_alpha_flag_below_the_warn_threshold_keeps_warn():
    (check,) = apply_overrides(Config(), min_alpha=0.7).checks
    assert (check.fail, check.warn) == (0.7, KRIPPENDORFF_RELIABLE)


def test_on_flag_switches_checks_with_an_interval_only():
    config = parse_config({"checks": [{"metric": "krippendorff_alpha"}, {"metric": "disputed_share"}]})
    alpha, disputes = apply_overrides(config, on="value").checks
    assert (alpha.on, disputes.on) == ("value", "value")


def test_min_alpha_out_of_range_is_a_config_error():
    with pytest.raises(ConfigError, match="--min-alpha"):
        apply_overrides(Config(), min_alpha=2.0)


def test_source_flag_is_resolved_against_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = apply_overrides(Config(path=tmp_path / "conf" / "aqa.toml"), source="export.csv")
    assert config.source_path() == tmp_path / "export.csv"


def test_check_spec_rejects_an_unknown_metric():
    with pytest.raises(ConfigError, match="unknown metric"):
        CheckSpec(metric="alpha")


# -- second reading: malformed files and settings ----------------------------------------------


def test_a_config_that_is_not_utf8_text_is_a_config_error(tmp_path):
    config = tmp_path / "aqa.toml"
    config.write_bytes(b"\xff\xfe\x00s\x00o")
    with pytest.raises(ConfigError, match=r"aqa\.toml: not UTF-8 text"):
        load_config(config)


def test_a_broken_pyproject_that_mentions_tool_aqa_is_not_passed_over(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.aqa]\nsource = \n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml: not valid TOML: .*line 2"):
        find_config(tmp_path)


def test_a_broken_pyproject_without_tool_aqa_is_passed_over(tmp_path):
    write(tmp_path / "aqa.toml", 'source = "x.csv"\n')
    inner = tmp_path / "inner"
    inner.mkdir()
    write(inner / "pyproject.toml", "[project\nname = 1\n")
    assert find_config(inner) == tmp_path / "aqa.toml"


def test_tool_aqa_that_is_not_a_table_is_a_config_error(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool]\naqa = 3\n")
    with pytest.raises(ConfigError, match=r"tool\.aqa: expected a table"):
        load_config(path)


def test_an_unknown_key_in_pyproject_names_the_tool_aqa_table(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool.aqa]\ntresholds = 2\n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml \[tool\.aqa\]: tresholds: unknown key"):
        load_config(path)


@pytest.mark.parametrize("key", ["n_boot", "seed", "min_pairable_items"])
def test_whole_number_settings_reject_fractions(key):
    with pytest.raises(ConfigError, match=rf"{key}: expected a whole number"):
        parse_config({key: 300.5})


def test_too_few_bootstrap_replicates_is_a_config_error_but_zero_means_no_interval():
    with pytest.raises(ConfigError, match="n_boot: 50 bootstrap replicates cannot support an interval"):
        parse_config({"n_boot": 50})
    assert parse_config({"n_boot": 0}).n_boot == 0


@pytest.mark.parametrize(
    ("metric", "option", "value"),
    [
        ("krippendorff_alpha", "weights", "linear"),
        ("krippendorff_alpha", "by", "batch"),
        ("drift", "mode", "exact"),
        ("fleiss_kappa", "annotators", ["a", "b"]),
    ],
)
def test_an_option_the_metric_does_not_use_is_a_config_error_not_ignored(metric, option, value):
    with pytest.raises(ConfigError, match=rf"checks\[0\]\.{option}: {metric} does not use {option}"):
        parse_config({"checks": [{"metric": metric, option: value}]})


def test_min_alpha_flag_without_an_alpha_check_is_a_config_error_not_ignored():
    config = parse_config({"checks": [{"metric": "gwet_ac"}]})
    with pytest.raises(ConfigError, match="--min-alpha: .* has no krippendorff_alpha check"):
        apply_overrides(config, min_alpha=0.9)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"n_boot": -5}, "--n-boot: expected 0"),
        ({"n_boot": 20}, "--n-boot: 20 bootstrap replicates"),
        ({"seed": -1}, "--seed: expected a whole number"),
        ({"ci_level": 0.9999}, r"--ci-level: expected a level in \[0.5, 0.999\]"),
    ],
)
def test_bootstrap_flags_are_validated_like_the_file(flags, expected):
    with pytest.raises(ConfigError, match=expected):
        apply_overrides(Config(), **flags)


def test_a_pairable_items_check_follows_min_pairable_items_from_the_file_and_the_flag():
    config = parse_config({"min_pairable_items": 120, "checks": [{"metric": "pairable_items"}]})
    assert config.checks[0].fail == 120
    assert apply_overrides(config, min_pairable_items=200).checks[0].fail == 200
    explicit = parse_config({"min_pairable_items": 120, "checks": [{"metric": "pairable_items", "fail": 80}]})
    assert apply_overrides(explicit, min_pairable_items=200).checks[0].fail == 80


def test_keys_beside_a_tool_aqa_table_in_aqa_toml_are_an_error_not_ignored(tmp_path):
    path = write(tmp_path / "aqa.toml", 'min_pairable_items = 100\n[tool.aqa]\nsource = "x.csv"\n')
    with pytest.raises(ConfigError, match=r"min_pairable_items: outside the \[tool\.aqa\] table"):
        load_config(path)

"""Specification of the engines: DuckDB and Spark give the in-memory engine's numbers.

Every test loads the same generated long table in memory (``qa.load``) and reduces it in an
engine (``qa.load(engine=...)``), then compares a metric to 1e-12, bootstrap intervals included.
The table has three questions (categories, 1-5 ratings, continuous scores), items with one to
four ratings, duplicates (later created_at, same created_at, no created_at), empty labels,
model pre-labels, gold rows and batches.
"""

from __future__ import annotations

import importlib.util
import math
import shutil

import numpy as np
import pandas as pd
import pytest

import qa
from metrics import (
    brennan_prediger,
    class_balance,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac,
    krippendorff_alpha,
    label_drift,
    percent_agreement,
    scott_pi,
)
from metrics.errors import MetricInputError
from metrics.ratings import canonical_patterns, prepare_ratings, value_patterns
from qa.engines import EngineUnsupportedError, choose_engine

TOLERANCE = 1e-12
N_BOOT = 200
ANNOTATORS = [f"ann{k}" for k in range(6)]
SENTIMENTS = ["neg", "neu", "pos"]


def generated_table(n_items: int = 300, seed: int = 7) -> pd.DataFrame:
    """A long table with every complication the loader handles (see the module docstring)."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2026-01-05", tz="UTC")
    for item in range(n_items):
        truth = rng.integers(0, 3)
        for annotator in rng.choice(ANNOTATORS, size=rng.integers(1, 5), replace=False):
            when = start + pd.Timedelta(hours=int(rng.integers(0, 24 * 20)))
            batch = f"v{1 + item % 3}" if item % 3 else "v10"
            sentiment = SENTIMENTS[int(np.clip(truth + rng.integers(-1, 2), 0, 2))]
            rows.append((f"i{item}", annotator, "sentiment", sentiment, when, batch, "human"))
            rows.append((f"i{item}", annotator, "rating", str(int(np.clip(2 * truth + 1 + rng.integers(-1, 2), 1, 5))),
                         when, batch, "human"))
            rows.append((f"i{item}", annotator, "score", f"{truth * 2.5 + rng.normal():.2f}", when, batch, "human"))
    frame = pd.DataFrame(rows, columns=["item_id", "annotator_id", "question", "label", "created_at", "batch",
                                        "annotator_kind"])
    later = frame.sample(60, random_state=1).assign(label="neu", question="sentiment",
                                                    created_at=lambda d: d["created_at"] + pd.Timedelta(days=1))
    same_time = frame.sample(20, random_state=2).assign(label="4", question="rating")
    undated = frame.sample(15, random_state=3).assign(created_at=pd.NaT)
    empty = frame.sample(25, random_state=4).assign(label=None)
    blank = frame.sample(5, random_state=5).assign(label="  ", question="sentiment")
    model = frame.sample(40, random_state=6).assign(annotator_id="gpt", annotator_kind="model")
    frame = pd.concat([frame, later, same_time, undated, empty, blank, model], ignore_index=True)
    frame["is_gold"] = "no"
    gold = frame.sample(10, random_state=8).assign(is_gold="yes", annotator_id="expert")
    return pd.concat([frame, gold], ignore_index=True).sample(frac=1.0, random_state=9).reset_index(drop=True)


@pytest.fixture(scope="module")
def table_paths(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("engines")
    frame = generated_table()
    paths = {"parquet": str(folder / "annotations.parquet"), "csv": str(folder / "annotations.csv")}
    frame.to_parquet(paths["parquet"], row_group_size=1000)
    frame.to_csv(paths["csv"], index=False)
    return paths


@pytest.fixture(scope="module")
def in_memory(table_paths) -> dict:
    return {kind: qa.load(path) for kind, path in table_paths.items()}


@pytest.fixture(scope="module")
def duckdb_sets(table_paths):
    sets = {kind: qa.load(path, engine="duckdb") for kind, path in table_paths.items()}
    yield sets
    for reduced in sets.values():
        reduced.close()


def assert_same_result(expected, actual) -> None:
    """Two AgreementResults agree to TOLERANCE on every number, interval included."""
    for name in ("value", "ci_low", "ci_high", "se"):
        a, b = getattr(expected, name), getattr(actual, name)
        assert (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOLERANCE, (name, a, b)
    for name in ("coefficient", "status", "n_items", "n_annotations", "n_annotators", "n_unpairable_items", "level"):
        assert getattr(expected, name) == getattr(actual, name), name


def ratings_of(annotation_set, question: str) -> pd.DataFrame:
    return annotation_set.for_question(question)


# ---------------------------------------------------------------------------------------------
# The reduction itself
# ---------------------------------------------------------------------------------------------


def test_canonical_patterns_do_not_depend_on_row_order():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 3, size=(50, 4))
    weights = rng.integers(1, 9, size=50)
    order = rng.permutation(50)
    first, second = canonical_patterns(counts, weights), canonical_patterns(counts[order], weights[order])
    assert (first.counts == second.counts).all() and (first.weights == second.weights).all()


def test_value_patterns_are_already_canonical():
    frame = generated_table(n_items=80)
    ratings = prepare_ratings(frame[frame["question"] == "sentiment"].drop_duplicates(["item_id", "annotator_id"]))
    patterns = value_patterns(ratings)
    merged = canonical_patterns(patterns.counts, patterns.weights)
    assert (merged.counts == patterns.counts).all() and (merged.weights == patterns.weights).all()


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_duckdb_skips_the_same_duplicates_and_empty_labels_as_the_loader(kind, in_memory, duckdb_sets):
    loaded, reduced = in_memory[kind].load_report, duckdb_sets[kind].load_report
    assert reduced.skipped_counts == loaded.skipped_counts
    assert reduced.annotations_loaded == loaded.annotations_loaded
    assert reduced.records_read == loaded.records_read


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_duckdb_questions_table_equals_the_loaders(kind, in_memory, duckdb_sets):
    pd.testing.assert_frame_equal(duckdb_sets[kind].questions, in_memory[kind].questions)


# ---------------------------------------------------------------------------------------------
# Agreement
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["parquet", "csv"])
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_duckdb_alpha_equals_in_memory_at_every_level(kind, level, in_memory, duckdb_sets):
    expected = krippendorff_alpha(ratings_of(in_memory[kind], "rating"), level, n_boot=N_BOOT, seed=3)
    actual = duckdb_sets[kind].krippendorff_alpha("rating", level, n_boot=N_BOOT, seed=3)
    assert_same_result(expected, actual)


def test_duckdb_alpha_on_continuous_scores_equals_in_memory(in_memory, duckdb_sets):
    expected = krippendorff_alpha(ratings_of(in_memory["parquet"], "score"), "interval", n_boot=N_BOOT)
    actual = duckdb_sets["parquet"].krippendorff_alpha("score", "interval", n_boot=N_BOOT)
    assert_same_result(expected, actual)


def test_duckdb_alpha_with_declared_ordinal_categories_equals_in_memory(in_memory, duckdb_sets):
    expected = krippendorff_alpha(ratings_of(in_memory["parquet"], "sentiment"), "ordinal", categories=SENTIMENTS,
                                  n_boot=N_BOOT)
    actual = duckdb_sets["parquet"].krippendorff_alpha("sentiment", "ordinal", categories=SENTIMENTS, n_boot=N_BOOT)
    assert_same_result(expected, actual)


def test_duckdb_alpha_uses_the_questions_level_by_default(in_memory, duckdb_sets):
    expected = krippendorff_alpha(ratings_of(in_memory["parquet"], "rating"), "ordinal", n_boot=N_BOOT)
    assert_same_result(expected, duckdb_sets["parquet"].krippendorff_alpha("rating", n_boot=N_BOOT))


@pytest.mark.parametrize(
    ("coefficient", "function"),
    [("fleiss_kappa", fleiss_kappa), ("scott_pi", scott_pi), ("gwet_ac", gwet_ac),
     ("brennan_prediger", brennan_prediger), ("percent_agreement", percent_agreement)],
)
def test_duckdb_pattern_coefficients_equal_in_memory(coefficient, function, in_memory, duckdb_sets):
    expected = function(ratings_of(in_memory["parquet"], "sentiment"), n_boot=N_BOOT)
    actual = duckdb_sets["parquet"].kappa("sentiment", coefficient, n_boot=N_BOOT)
    assert_same_result(expected, actual)


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_duckdb_weighted_fleiss_kappa_equals_in_memory(kind, in_memory, duckdb_sets):
    expected = fleiss_kappa(ratings_of(in_memory[kind], "rating"), weights="quadratic", n_boot=N_BOOT)
    actual = duckdb_sets[kind].fleiss_kappa("rating", weights="quadratic", n_boot=N_BOOT)
    assert_same_result(expected, actual)
    assert expected.details["p_e"] == pytest.approx(actual.details["p_e"], abs=TOLERANCE)


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_duckdb_cohen_kappa_equals_in_memory(kind, in_memory, duckdb_sets):
    expected = cohen_kappa(ratings_of(in_memory[kind], "sentiment"), "ann0", "ann3", n_boot=N_BOOT)
    actual = duckdb_sets[kind].cohen_kappa("sentiment", "ann0", "ann3", n_boot=N_BOOT)
    assert_same_result(expected, actual)
    assert (expected.details["table"] == actual.details["table"]).all()


def test_duckdb_weighted_cohen_kappa_equals_in_memory(in_memory, duckdb_sets):
    expected = cohen_kappa(ratings_of(in_memory["parquet"], "rating"), "ann1", "ann2", weights="linear", n_boot=N_BOOT)
    actual = duckdb_sets["parquet"].cohen_kappa("rating", "ann1", "ann2", weights="linear", n_boot=N_BOOT)
    assert_same_result(expected, actual)


def test_duckdb_cohen_kappa_names_an_annotator_without_ratings(duckdb_sets):
    with pytest.raises(MetricInputError, match="annotator b=.nobody. has no rating"):
        duckdb_sets["parquet"].cohen_kappa("sentiment", "ann0", "nobody")


# ---------------------------------------------------------------------------------------------
# Balance and drift
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["parquet", "csv"])
@pytest.mark.parametrize("question", ["sentiment", "rating"])
def test_duckdb_class_balance_equals_in_memory(kind, question, in_memory, duckdb_sets):
    expected = class_balance(ratings_of(in_memory[kind], question))
    actual = duckdb_sets[kind].class_balance(question)
    pd.testing.assert_frame_equal(expected.counts, actual.counts, rtol=0, atol=TOLERANCE)
    for name in ("imbalance_ratio", "normalized_entropy", "effective_classes", "inverse_simpson"):
        assert getattr(expected, name) == pytest.approx(getattr(actual, name), abs=TOLERANCE)
    pd.testing.assert_frame_equal(expected.verdicts, actual.verdicts)


@pytest.mark.parametrize("kind", ["parquet", "csv"])
@pytest.mark.parametrize("by", ["batch", "day", "week", "annotator"])
def test_duckdb_label_drift_equals_in_memory(kind, by, in_memory, duckdb_sets):
    expected = label_drift(ratings_of(in_memory[kind], "sentiment"), by=by)
    actual = duckdb_sets[kind].label_drift("sentiment", by=by)
    pd.testing.assert_frame_equal(expected.counts, actual.counts)
    pd.testing.assert_frame_equal(expected.comparisons, actual.comparisons, rtol=0, atol=TOLERANCE)
    assert expected.omnibus == actual.omnibus
    assert expected.rows_without_window == actual.rows_without_window


# ---------------------------------------------------------------------------------------------
# What the engines refuse, and how the engine is chosen
# ---------------------------------------------------------------------------------------------


def test_engines_refuse_a_multilabel_question_with_a_clear_error(tmp_path):
    path = tmp_path / "multi.csv"
    pd.DataFrame({"item_id": ["a", "a", "b", "b"], "annotator_id": ["x", "y", "x", "y"],
                  "label": ['["bug", "ui"]', '["bug"]', '["ui"]', '["ui"]']}).to_csv(path, index=False)
    with qa.load(path, engine="duckdb") as reduced:
        assert reduced.question("label").kind == "multilabel"
        with pytest.raises(EngineUnsupportedError, match="multilabel question.*engine='pandas'"):
            reduced.krippendorff_alpha("label")


def test_engines_refuse_a_list_label_column_with_a_clear_error(tmp_path):
    path = tmp_path / "multi.parquet"
    pd.DataFrame({"item_id": ["a", "a"], "annotator_id": ["x", "y"], "label": [["bug"], ["ui"]]}).to_parquet(path)
    with pytest.raises(qa.InputError, match="multi-label or spans"):
        qa.load(path, engine="duckdb")


def test_auto_engine_loads_small_files_in_memory(table_paths):
    assert choose_engine(table_paths["parquet"], "auto") == "pandas"


def test_auto_engine_reduces_files_larger_than_a_share_of_memory(table_paths):
    assert choose_engine(table_paths["parquet"], "auto", share=1e-9) == "duckdb"


# ---------------------------------------------------------------------------------------------
# Spark (local mode): the same numbers
# ---------------------------------------------------------------------------------------------

SPARK_SKIP = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="the Spark engine needs pyspark (pip install annotation-qa[spark]) and Java 17+ (`java` on PATH)",
)


@pytest.fixture(scope="module")
def spark_set(table_paths, in_memory):
    reduced = qa.load(table_paths["parquet"], engine="spark")
    yield reduced
    reduced.close()


@SPARK_SKIP
def test_spark_skips_the_same_duplicates_as_the_loader(in_memory, spark_set):
    assert spark_set.load_report.skipped_counts == in_memory["parquet"].load_report.skipped_counts


@SPARK_SKIP
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_spark_alpha_equals_in_memory_at_every_level(level, in_memory, spark_set):
    expected = krippendorff_alpha(ratings_of(in_memory["parquet"], "rating"), level, n_boot=N_BOOT)
    assert_same_result(expected, spark_set.krippendorff_alpha("rating", level, n_boot=N_BOOT))


@SPARK_SKIP
def test_spark_fleiss_and_cohen_kappa_equal_in_memory(in_memory, spark_set):
    ratings = ratings_of(in_memory["parquet"], "sentiment")
    assert_same_result(fleiss_kappa(ratings, n_boot=N_BOOT), spark_set.fleiss_kappa("sentiment", n_boot=N_BOOT))
    assert_same_result(cohen_kappa(ratings, "ann0", "ann3", n_boot=N_BOOT),
                       spark_set.cohen_kappa("sentiment", "ann0", "ann3", n_boot=N_BOOT))


@SPARK_SKIP
def test_spark_balance_and_drift_equal_in_memory(in_memory, spark_set):
    ratings = ratings_of(in_memory["parquet"], "sentiment")
    pd.testing.assert_frame_equal(class_balance(ratings).counts, spark_set.class_balance("sentiment").counts)
    expected, actual = label_drift(ratings, by="batch"), spark_set.label_drift("sentiment", by="batch")
    pd.testing.assert_frame_equal(expected.comparisons, actual.comparisons, rtol=0, atol=TOLERANCE)


# ---------------------------------------------------------------------------------------------
# aqa check --engine
# ---------------------------------------------------------------------------------------------


def _check_results(path: str, engine: str, folder, *extra: str) -> dict:
    import json

    from qa.cli import main

    out = folder / f"{engine}.json"
    code = main(["check", path, "--engine", engine, "--json", str(out), "--no-github", "--quiet", "--n-boot", "200", *extra])
    report = json.loads(out.read_text())
    return {"exit": code, "verdict": report["verdict"], "checks": report["checks"]}


def test_aqa_check_on_duckdb_reports_the_in_memory_numbers(table_paths, tmp_path):
    in_memory = _check_results(table_paths["parquet"], "pandas", tmp_path)
    reduced = _check_results(table_paths["parquet"], "duckdb", tmp_path)
    assert reduced == in_memory


def test_aqa_check_auto_reduces_with_duckdb_when_the_share_of_memory_is_exceeded(table_paths, tmp_path):
    in_memory = _check_results(table_paths["csv"], "pandas", tmp_path)
    automatic = _check_results(table_paths["csv"], "auto", tmp_path, "--memory-share", "1e-9")
    assert automatic == in_memory


def test_duckdb_refuses_json_lines_with_a_clear_error(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"item_id": "a", "annotator_id": "x", "label": "yes"}\n')
    with pytest.raises(qa.InputError, match="JSON exports are loaded in memory"):
        qa.load(path, engine="duckdb")


def test_auto_engine_loads_json_lines_in_memory_whatever_their_size(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"item_id": "a", "annotator_id": "x", "label": "yes"}\n')
    assert choose_engine(path, "auto", share=1e-9) == "pandas"

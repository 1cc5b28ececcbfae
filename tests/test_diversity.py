"""Diversity, duplicates, conflicting labels, sources and strata coverage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DATA

from metrics import (
    conflicting_labels,
    diversity_by_source,
    duplicate_groups,
    strata_coverage,
    text_diversity,
    vendi_score,
)
from metrics.diversity import compression_ratio, distinct_n, near_pairs, normalize_texts

WORDS = ("order refund parcel invoice account password delivery tracking subscription discount "
         "warranty battery screen charger login address payment receipt voucher upgrade").split()


def sentences(n: int, seed: int = 0, length: int = 12) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, length)) + f" ref{i}" for i in range(n)]


def test_vendi_of_identical_vectors_is_one():
    assert vendi_score(np.tile([[0.3, 0.4, 0.5]], (50, 1))) == pytest.approx(1.0)


def test_vendi_of_orthogonal_vectors_is_their_number():
    assert vendi_score(np.eye(7)) == pytest.approx(7.0)
    assert vendi_score(np.eye(300)[:, :300]) == pytest.approx(300.0)


def test_vendi_uses_the_covariance_when_n_exceeds_d_with_the_same_value():
    vectors = np.random.default_rng(0).standard_normal((40, 5))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    eigenvalues = np.clip(np.linalg.eigvalsh(unit @ unit.T / 40), 0, None)
    eigenvalues = eigenvalues[eigenvalues > 1e-12] / eigenvalues.sum()
    assert vendi_score(vectors) == pytest.approx(math.exp(-np.sum(eigenvalues * np.log(eigenvalues))))


def test_vendi_weights_count_as_repeated_rows():
    vectors = np.array([[1.0, 0.0], [0.6, 0.8]])
    assert vendi_score(vectors, np.array([3, 1])) == pytest.approx(vendi_score(vectors[[0, 0, 0, 1]]))


def test_vendi_rejects_zero_vectors():
    with pytest.raises(ValueError, match="non-zero"):
        vendi_score(np.array([[0.0, 0.0], [1.0, 0.0]]))


def test_normalisation_folds_case_punctuation_whitespace_and_compatibility_forms():
    assert normalize_texts(["Ｒｅｆｕｎｄ,  please!", "refund please"]).nunique() == 1


def test_distinct_n_and_compression_known_values():
    assert distinct_n(["a a a a"], 1) == 0.25
    assert distinct_n(["a b c"], 2) == 1.0
    assert math.isnan(distinct_n([""], 1))
    assert compression_ratio(["the same line"] * 500) > 20 * compression_ratio(sentences(50))


def test_near_pairs_equal_brute_force():
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((20, 64))  # wider than the 32-dim prefilter
    points = centres[rng.integers(0, 20, 600)] + 0.08 * rng.standard_normal((600, 64))
    points = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    threshold = 0.97
    found = near_pairs(points, points, threshold, same_set=True, neighbours=600)
    similarity = points @ points.T
    np.fill_diagonal(similarity, -1)
    expected = {(int(i), int(j)) for i, j in zip(*np.nonzero(similarity >= threshold), strict=True)}
    assert expected and set(zip(found["query"], found["base"], strict=True)) == expected


def test_planted_near_copies_are_found_and_distinct_texts_are_not():
    texts = sentences(300, seed=2, length=30)
    def swap_one_word(text: str) -> str:
        words = text.split()
        words[5] = "receipt" if words[5] != "receipt" else "voucher"
        return " ".join(words)

    copies = [swap_one_word(texts[i]) for i in range(10)]
    edited = [texts[i] + " x" for i in range(20, 30)]
    groups = duplicate_groups(texts + copies + edited, dims=64)
    grouped = set(groups["item_id"].astype(int))
    planted = set(range(0, 10)) | set(range(20, 30)) | set(range(300, 320))
    assert planted <= grouped
    assert len(grouped - planted) <= 3


def test_exact_duplicates_are_grouped_as_exact():
    groups = duplicate_groups(["Where is my parcel?", "where is my PARCEL", "Cancel it"], dims=2)
    assert groups["kind"].tolist() == ["exact", "exact"]
    assert groups["item_id"].tolist() == ["0", "1"]


def test_text_diversity_reports_sample_size_and_duplicate_rates():
    texts = sentences(200, seed=3) + ["Same sentence here."] * 50
    result = text_diversity(texts, sample_size=100, seeds=3, dims=32)
    assert (result.n, result.n_sample, result.seeds) == (250, 100, 3)
    assert result.exact_duplicate_rate == pytest.approx(50 / 250)
    assert result.near_duplicate_rate >= result.exact_duplicate_rate
    assert 1 <= result.vendi_score <= 100


def test_duplicated_corpus_has_lower_vendi_and_distinct_2():
    diverse = text_diversity(sentences(200, seed=4), sample_size=200, seeds=1, dims=32)
    redundant = text_diversity(sentences(20, seed=4) * 10, sample_size=200, seeds=1, dims=32)
    assert redundant.vendi_score < diverse.vendi_score
    assert redundant.distinct_2 < diverse.distinct_2
    assert redundant.compression_ratio > diverse.compression_ratio


def test_too_few_texts_give_nan_semantic_figures_with_a_reason():
    result = text_diversity(["only one"], dims=4)
    assert math.isnan(result.vendi_score) and result.reason


def test_conflicting_labels_lists_duplicates_with_different_consensus():
    items = pd.DataFrame({"item_id": ["a", "b", "c", "d"],
                          "text": ["Cancel my plan now", "cancel my plan NOW!", "Refund please", "refund please"]})
    consensus = pd.DataFrame({"item_id": ["a", "b", "c", "d"], "label": ["cancel", "refund", "refund", "refund"]})
    conflicts = conflicting_labels(items, consensus, dims=2)
    assert sorted(conflicts["item_id"]) == ["a", "b"]
    assert set(conflicts["n_labels"]) == {2}


def test_by_source_counts_synthetic_near_copies_of_originals():
    originals = sentences(120, seed=5, length=20)
    synthetic = [t + "!" for t in originals[:30]] + [t + " q" for t in originals[30:40]] + sentences(40, seed=6, length=20)
    items = pd.DataFrame({"item_id": [str(i) for i in range(200)], "text": originals + synthetic,
                          "source": ["original"] * 120 + ["synthetic"] * 80})
    table = diversity_by_source(items, sample_size=80, seeds=1, dims=32).set_index("source")
    assert table.loc["original", "near_copies_of_original"] == 0
    assert 40 <= table.loc["synthetic", "near_copies_of_original"] <= 42
    assert table.loc["synthetic", "n_sample"] == table.loc["original", "n_sample"] == 80


def test_by_source_warns_when_synthetic_diversity_drops():
    originals = sentences(100, seed=7)
    synthetic = originals[:5] * 20
    items = pd.DataFrame({"text": originals + synthetic, "source": ["original"] * 100 + ["synthetic"] * 100})
    table = diversity_by_source(items, sample_size=100, seeds=1, dims=16).set_index("source")
    assert table.loc["synthetic", "verdict"] == "warn"
    assert table.loc["original", "verdict"] == "ok"


@pytest.mark.skipif(not (SAMPLE_DATA / "support_project.csv").exists(), reason="sample data not generated")
def test_sample_project_planted_exact_duplicates_are_grouped():
    import json

    frame = pd.read_csv(SAMPLE_DATA / "support_project.csv", dtype={"item_id": str})
    items = frame.drop_duplicates("item_id")[["item_id", "text"]]
    planted = json.loads((SAMPLE_DATA / "planted.json").read_text())
    groups = duplicate_groups(items)
    group_of = groups.set_index("item_id")["group_id"]
    for first, second in planted["exact_duplicates"]:
        assert group_of[first] == group_of[second]


# -- strata coverage --------------------------------------------------------------------------


def strata_items() -> pd.DataFrame:
    return pd.DataFrame({"language": ["en"] * 40 + ["de"] * 10 + ["fr"] * 3,
                         "difficulty": ["easy"] * 20 + ["hard"] * 20 + ["easy"] * 10 + ["easy"] * 3})


def test_strata_fill_and_share_at_target():
    spec = {("en", "easy"): 20, ("en", "hard"): 30, ("de", "easy"): 5, ("de", "hard"): 5}
    coverage = strata_coverage(strata_items(), spec, columns=["language", "difficulty"])
    cells = coverage.cells.set_index(["language", "difficulty"])
    assert cells.loc[("en", "hard"), "fill"] == pytest.approx(20 / 30)
    assert cells.loc[("de", "hard"), "count"] == 0
    assert coverage.share_at_target == 0.5
    assert coverage.worst_cells[["language", "difficulty"]].values.tolist() == [["de", "hard"], ["en", "hard"]]
    assert coverage.verdict == "fail"


def test_cells_present_but_not_declared_are_unexpected():
    coverage = strata_coverage(strata_items(), {"en": 1, "de": 1}, columns=["language"])
    assert coverage.unexpected_cells.to_dict("records") == [{"language": "fr", "count": 3}]
    assert coverage.items_outside_spec == 3
    assert coverage.verdicts.set_index("check").loc["unexpected_cells", "verdict"] == "warn"


def test_optional_cells_below_target_warn_but_do_not_fail():
    spec = pd.DataFrame({"language": ["en", "de", "fr"], "min_count": [10, 10, 10], "required": [True, True, False]})
    coverage = strata_coverage(strata_items(), spec)
    verdicts = coverage.verdicts.set_index("check")["verdict"]
    assert coverage.required_share_at_target == 1.0
    assert verdicts["required_share_at_target"] == "ok"
    assert verdicts["share_at_target"] == "warn"


def test_mapping_spec_without_columns_is_an_error():
    with pytest.raises(ValueError, match="columns"):
        strata_coverage(strata_items(), {("en", "easy"): 3})

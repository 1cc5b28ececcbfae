"""The sample project: deterministic, planted as documented, and the same in all three forms.

The generator writes one canonical project as a long CSV, a Label Studio JSON export and Prodigy
JSONL (one dataset per question); each form must load back to the same canonical tables, up to
what the tool's format cannot carry (Label Studio names users by number; Prodigy has no lead
times, no gold and no model pre-labels).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import qa
from qa import writers

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"

FILES = (
    "support_project.csv",
    "support_project_labelstudio.json",
    "support_project_prodigy/intent.jsonl",
    "support_project_prodigy/quality.jsonl",
    "support_project_prodigy/pii.jsonl",
    "support_project_truth.csv",
    "planted.json",
)
QUESTIONS = ("intent", "quality", "pii")


def _generator():
    spec = importlib.util.spec_from_file_location("sample_generate", SAMPLE_DATA / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator():
    return _generator()


@pytest.fixture(scope="module")
def generated(tmp_path_factory, generator) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generator.main(out)
    return out


@pytest.fixture(scope="module")
def project(generator):
    return generator.build_project()


@pytest.fixture(scope="module")
def canonical(project):
    return project[0]


@pytest.fixture(scope="module")
def from_csv(generated) -> qa.AnnotationSet:
    return qa.load(generated / "support_project.csv")


@pytest.fixture(scope="module")
def from_label_studio(generated) -> qa.AnnotationSet:
    return qa.load(generated / "support_project_labelstudio.json")


@pytest.fixture(scope="module")
def from_prodigy(generated) -> dict[str, qa.AnnotationSet]:
    """Prodigy keeps one dataset per task: each question is its own file, loaded with its name."""
    return {q: qa.load(generated / "support_project_prodigy" / f"{q}.jsonl", question=q) for q in QUESTIONS}


@pytest.fixture(scope="module")
def planted(generated) -> dict:
    return json.loads((generated / "planted.json").read_text())


def _rows(aset: qa.AnnotationSet, columns: list[str], *, humans_only: bool = False,
          rename: dict[str, str] | None = None) -> list[dict]:
    frame = aset.annotations
    if humans_only:
        frame = frame[frame["annotator_kind"] == "human"]
    out = pd.DataFrame({c: frame[c].astype(object).tolist() for c in columns})
    if rename:
        out["annotator_id"] = out["annotator_id"].map(lambda a: rename.get(str(a), str(a)))
    for column in ("item_id", "annotator_id", "question", "annotator_kind", "batch"):
        if column in out:
            out[column] = out[column].map(lambda v: None if v is None or v is np.nan else str(v))
    if "created_at" in out:
        out["created_at"] = [pd.Timestamp(t).tz_convert("UTC").isoformat() for t in frame["created_at"]]
    if "lead_time_s" in out:
        out["lead_time_s"] = pd.Series([None if pd.isna(v) else float(v) for v in out["lead_time_s"]], dtype=object)
    if "label" in out:
        out["label"] = out["label"].map(lambda v: float(v) if isinstance(v, (int, float)) else v)
    return out.sort_values(["item_id", "annotator_id", "question"]).to_dict("records")


def _gold(aset: qa.AnnotationSet) -> list[tuple]:
    return sorted((str(r.item_id), str(r.question), repr(r.label)) for r in aset.gold.itertuples())


ALL_COLUMNS = ["item_id", "annotator_id", "question", "label", "created_at", "lead_time_s", "batch", "annotator_kind"]


# -- determinism --------------------------------------------------------------------------------------


def test_regenerating_gives_byte_identical_files(generator, generated, tmp_path):
    generator.main(tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (generated / name).read_bytes(), name


@pytest.mark.parametrize("name", FILES)
def test_committed_sample_file_is_what_the_generator_writes(generated, name):
    committed = SAMPLE_DATA / name
    assert committed.exists(), f"{committed} is missing: run `make sample-data`"
    assert committed.read_bytes() == (generated / name).read_bytes(), f"{name} is stale: run `make sample-data`"


# -- the long CSV ---------------------------------------------------------------------------------------


def test_long_csv_loads_to_the_canonical_annotations(from_csv, canonical):
    loaded = from_csv
    assert loaded.load_report.format == "long"
    assert _rows(loaded, ALL_COLUMNS) == _rows(canonical, ALL_COLUMNS)


def test_long_csv_carries_items_and_gold(from_csv, canonical):
    loaded = from_csv
    columns = list(canonical.items.columns)
    expected = canonical.items.astype(str).sort_values("item_id").reset_index(drop=True)
    actual = loaded.items[columns].astype(str).sort_values("item_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(actual, expected)
    assert _gold(loaded) == _gold(canonical)


def test_long_csv_questions_have_the_canonical_kinds(from_csv, canonical):
    loaded = from_csv
    assert dict(zip(loaded.questions["question"], loaded.questions["kind"], strict=False)) == dict(
        zip(canonical.questions["question"], canonical.questions["kind"], strict=False)
    )


# -- Label Studio -------------------------------------------------------------------------------------


def _label_studio_names(canonical) -> dict[str, str]:
    """Label Studio's loader names users by their numeric id; the export says whose id is whose."""
    return {str(user["id"]): name for name, user in writers.label_studio_users(canonical).items()}


def test_label_studio_export_loads_to_the_canonical_annotations(from_label_studio, canonical):
    loaded = from_label_studio
    assert loaded.load_report.format == "label_studio"
    assert _rows(loaded, ALL_COLUMNS, rename=_label_studio_names(canonical)) == _rows(canonical, ALL_COLUMNS)


def test_label_studio_export_carries_items_gold_and_questions(from_label_studio, canonical):
    loaded = from_label_studio
    columns = list(canonical.items.columns)
    expected = canonical.items.astype(str).sort_values("item_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(loaded.items[columns].astype(str).sort_values("item_id").reset_index(drop=True), expected)
    assert _gold(loaded) == _gold(canonical)
    assert dict(zip(loaded.questions["question"], loaded.questions["kind"], strict=False)) == dict(
        zip(canonical.questions["question"], canonical.questions["kind"], strict=False)
    )


def test_label_studio_export_counts_its_cancelled_annotations(from_label_studio):
    loaded = from_label_studio
    assert loaded.load_report.skipped_counts == {"cancelled": 4}


# -- Prodigy --------------------------------------------------------------------------------------------

PRODIGY_COLUMNS = ["item_id", "annotator_id", "question", "label", "created_at", "batch"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_prodigy_dataset_loads_to_the_canonical_human_annotations(from_prodigy, canonical, question):
    loaded = from_prodigy[question]
    expected = [r for r in _rows(canonical, PRODIGY_COLUMNS, humans_only=True) if r["question"] == question]
    assert _rows(loaded, PRODIGY_COLUMNS) == expected


@pytest.mark.parametrize("question", QUESTIONS)
def test_prodigy_dataset_keeps_the_question_kind(from_prodigy, canonical, question):
    loaded = from_prodigy[question]
    assert loaded.question(question).kind == canonical.question(question).kind


def test_prodigy_dataset_carries_item_texts_and_counts_ignored_examples(from_prodigy, canonical):
    loaded = from_prodigy["intent"]
    texts = dict(zip(canonical.items["item_id"].astype(str), canonical.items["text"], strict=False))
    assert dict(zip(loaded.items["item_id"].astype(str), loaded.items["text"], strict=False)) == texts
    assert loaded.load_report.skipped_counts == {"ignored": 3}


# -- what the project holds -------------------------------------------------------------------------


def test_project_has_about_600_items_each_labelled_by_three_to_five_humans(canonical):
    assert 550 <= len(canonical.items) <= 650
    humans = canonical.for_question("intent")
    per_item = humans.groupby("item_id", observed=True)["annotator_id"].nunique()
    assert per_item.min() == 3 and per_item.max() == 5
    assert humans["annotator_id"].nunique() == 7


def test_every_item_has_a_model_prelabel_for_intent(canonical):
    model = canonical.annotations[canonical.annotations["annotator_kind"] == "model"]
    assert set(model["question"]) == {"intent"}
    assert model["item_id"].nunique() == len(canonical.items)


def test_gold_covers_a_tenth_of_items_for_every_question(canonical, planted):
    assert len(planted["gold_items"]) == len(canonical.items) // 10
    assert set(canonical.gold["question"]) == set(QUESTIONS)


def test_pii_spans_of_the_truth_point_at_the_text_they_name(project):
    _, truth, _ = project
    texts = dict(zip(project[0].items["item_id"], project[0].items["text"], strict=False))
    for row in truth.itertuples():
        for span in row.pii:
            covered = texts[row.item_id][span.start:span.end]
            assert covered.strip() == covered and covered, (row.item_id, span)
            if span.label == "EMAIL":
                assert "@" in covered


def test_intent_prevalence_is_skewed(project):
    shares = project[1]["intent"].value_counts(normalize=True)
    assert len(shares) == 8
    assert shares.iloc[0] > 3 * shares.iloc[-1]


def test_planted_duplicates_are_exact_and_near_copies(canonical, planted):
    texts = dict(zip(canonical.items["item_id"], canonical.items["text"], strict=False))
    assert planted["exact_duplicates"] and all(texts[a] == texts[b] for a, b in planted["exact_duplicates"])
    assert planted["near_duplicates"] and all(texts[a] != texts[b] for a, b in planted["near_duplicates"])


# -- the planted characters show in the labels ----------------------------------------------------


def _intent_accuracy(canonical, truth) -> pd.Series:
    frame = canonical.for_question("intent").merge(truth[["item_id", "intent"]], on="item_id")
    return (frame["label"] == frame["intent"]).groupby(frame["annotator_id"].astype(str)).mean()


def test_experts_are_the_most_accurate_and_the_careless_annotator_near_chance(project, planted):
    accuracy = _intent_accuracy(project[0], project[1])
    assert set(accuracy.nlargest(2).index) == set(planted["experts"])
    assert accuracy[planted["careless"]["annotator"]] < 0.35


def test_careless_annotator_is_the_fastest(canonical, planted):
    lead = canonical.for_question("intent").groupby("annotator_id", observed=True)["lead_time_s"].median()
    assert lead.idxmin() == planted["careless"]["annotator"]
    assert lead.min() < lead.drop(lead.idxmin()).min() / 3


def test_overuser_gives_the_overused_label_most_often(canonical, planted):
    intent = canonical.for_question("intent")
    share = (intent["label"] == planted["overuse"]["label"]).groupby(intent["annotator_id"].astype(str)).mean()
    assert share.idxmax() == planted["overuse"]["annotator"]


def test_drifter_maps_how_to_to_feature_request_only_after_the_guideline_change(project, planted):
    drift = planted["drift"]
    frame = project[0].for_question("intent").merge(project[1][["item_id", "intent"]], on="item_id")
    mine = frame[(frame["annotator_id"] == drift["annotator"]) & (frame["intent"] == drift["from"])]
    rate = (mine["label"] == drift["to"]).groupby(mine["batch"].astype(str)).mean()
    assert rate[drift["batch"]] > 0.4
    assert rate.drop(drift["batch"]).max() < 0.2

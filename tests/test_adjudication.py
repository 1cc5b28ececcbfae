"""The adjudication store keeps every decision, survives restarts and loses nothing under concurrency."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from qa.adjudication import AdjudicationStore, decode_label, encode_label, store_path_for
from qa.errors import InputError


def test_store_lives_beside_the_export(tmp_path: Path) -> None:
    export = tmp_path / "project.json"
    assert store_path_for(export) == tmp_path / "project.json.adjudications.sqlite"


def test_decisions_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "decisions.sqlite"
    AdjudicationStore(path).decide("t1", "intent", "billing", decided_by="ana", note="clear refund request")
    reopened = AdjudicationStore(path)
    current = reopened.current()
    assert current[["item_id", "question", "final_label", "decided_by", "note"]].values.tolist() == [
        ["t1", "intent", "billing", "ana", "clear refund request"]
    ]


def test_a_new_decision_never_overwrites_the_old_one(tmp_path: Path) -> None:
    store = AdjudicationStore(tmp_path / "d.sqlite")
    store.decide("t1", "intent", "billing", decided_by="ana")
    second = store.decide("t1", "intent", "complaint", decided_by="ben")
    assert second.previous_label == "billing"
    history = store.history("t1", "intent")
    assert history["final_label"].tolist() == ["billing", "complaint"]
    assert history["decided_by"].tolist() == ["ana", "ben"]
    assert store.current()["final_label"].tolist() == ["complaint"]


def test_questions_are_adjudicated_separately(tmp_path: Path) -> None:
    store = AdjudicationStore(tmp_path / "d.sqlite")
    store.decide("t1", "intent", "billing", decided_by="ana")
    store.decide("t1", "quality", 4, decided_by="ana")
    current = store.current().sort_values("question")
    assert current["final_label"].tolist() == ["billing", 4]
    assert store.current("quality")["final_label"].tolist() == [4]


@pytest.mark.parametrize(
    "label",
    ["billing", 3, 4.5, frozenset({"billing", "complaint"}), ((0, 5, "NAME"), (10, 22, "EMAIL")), ()],
)
def test_labels_round_trip_through_the_store(label) -> None:
    decoded = decode_label(encode_label(label))
    if label == ():
        assert decoded in ((), frozenset())
    else:
        assert decoded == label


def test_a_decision_needs_a_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="decided_by"):
        AdjudicationStore(tmp_path / "d.sqlite").decide("t1", "intent", "billing", decided_by=" ")


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="broken.sqlite"):
        AdjudicationStore(path)


def _adjudicate_many(path: str, who: str, count: int) -> None:
    store = AdjudicationStore(path)
    for index in range(count):
        store.decide(f"{who}-{index % 10}", "intent", f"label-{index}", decided_by=who)


def test_two_sessions_adjudicating_at_once_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    AdjudicationStore(path)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_adjudicate_many, args=(path, who, 40)) for who in ("ana", "ben")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    history = AdjudicationStore(path).history()
    assert len(history) == 80
    assert history.groupby("decided_by").size().to_dict() == {"ana": 40, "ben": 40}
    # each decision names the label it replaced: the chain of every item is unbroken
    for _, chain in history.groupby("item_id"):
        assert chain["previous_label"].iloc[1:].tolist() == chain["final_label"].iloc[:-1].tolist()

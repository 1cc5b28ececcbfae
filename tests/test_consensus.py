"""Consensus labels: majority with explicit ties, element-wise majority, median, Dawid-Skene."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from planted_crowd import CATEGORIES, Annotator, expert, planted_confusion, planted_crowd, spammer

from metrics import DawidSkene, MetricInputError, consensus

DS_TOLERANCE = 0.05
"""Dawid-Skene must recover each planted confusion matrix within this max absolute error on 5000
items labelled by every annotator (the sampling SE of a cell near 0.3 is about 0.013)."""


def long(rows):
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])


def test_majority_picks_the_most_frequent_label_with_its_share_as_confidence():
    out = consensus(long([("a", "x", "pos"), ("a", "y", "pos"), ("a", "z", "neg")]))
    assert out.loc[0, "label"] == "pos"
    assert out.loc[0, "confidence"] == pytest.approx(2 / 3)
    assert not out.loc[0, "is_tie"]


def test_majority_tie_is_reported_with_no_label_and_the_tied_labels():
    out = consensus(long([("a", "x", "pos"), ("a", "y", "neg"), ("a", "z", "neu"), ("a", "w", "pos"), ("a", "v", "neg")]))
    assert out.loc[0, "label"] is None
    assert out.loc[0, "is_tie"]
    assert out.loc[0, "tied_labels"] == ("neg", "pos")


def test_majority_of_multilabel_sets_is_elementwise_and_reports_half_votes_as_ties():
    df = long([("a", "x", frozenset({"food", "price"})), ("a", "y", frozenset({"food"})),
               ("a", "z", frozenset({"food", "staff"})), ("a", "w", frozenset({"price"}))])
    out = consensus(df)
    assert out.loc[0, "label"] == frozenset({"food"})
    assert out.loc[0, "tied_labels"] == ("price",)
    assert out.loc[0, "is_tie"]


def test_majority_of_spans_keeps_spans_chosen_by_more_than_half():
    df = long([("t", "x", ((0, 4, "ORG"), (6, 9, "PER"))), ("t", "y", ((0, 4, "ORG"),)), ("t", "z", ((0, 4, "ORG"), (6, 8, "PER")))])
    out = consensus(df)
    assert out.loc[0, "label"] == ((0, 4, "ORG"),)
    assert not out.loc[0, "is_tie"]


def test_median_on_an_ordinal_even_split_takes_the_lower_value_and_flags_the_tie():
    out = consensus(long([("a", "x", 2), ("a", "y", 4)]), method="median", level="ordinal")
    assert out.loc[0, "label"] == 2
    assert out.loc[0, "is_tie"]
    assert out.loc[0, "tied_labels"] == (2, 4)


def test_gold_replaces_the_consensus_on_its_items():
    df = long([("a", "x", "pos"), ("a", "y", "pos"), ("b", "x", "neg"), ("b", "y", "neg")])
    out = consensus(df, gold={"a": "neg"}).set_index("item_id")
    assert out.loc["a", "label"] == "neg" and out.loc["a", "is_gold"]
    assert out.loc["b", "label"] == "neg" and not out.loc["b", "is_gold"]


def test_each_question_gets_its_own_consensus():
    df = long([("a", "x", "pos"), ("a", "y", "pos")]).assign(question="sentiment")
    df = pd.concat([df, long([("a", "x", "yes"), ("a", "y", "no")]).assign(question="toxic")])
    out = consensus(df).set_index("question")
    assert out.loc["sentiment", "label"] == "pos"
    assert out.loc["toxic", "is_tie"]


def test_an_unknown_method_is_an_input_error():
    with pytest.raises(MetricInputError, match="method"):
        consensus(long([("a", "x", "pos")]), method="mode")


@pytest.fixture(scope="module")
def planted():
    annotators = [
        expert("e1", 0.9),
        expert("e2", 0.8),
        expert("e3", 0.7),
        spammer("s"),
        Annotator("b", 0.85, overuse_label="complaint", overuse_rate=0.3),
    ]
    df, truth = planted_crowd(annotators, n_items=5000, seed=11)
    return annotators, df, truth


def test_dawid_skene_recovers_planted_confusion_matrices(planted):
    annotators, df, _ = planted
    model = DawidSkene().fit(df)
    for annotator in annotators:
        errors = model.errors_[model.errors_["annotator_id"] == annotator.name]
        estimate = errors.pivot(index="true_label", columns="observed_label", values="probability")
        estimate = estimate.loc[list(CATEGORIES), list(CATEGORIES)].to_numpy()
        assert np.abs(estimate - planted_confusion(annotator)).max() < DS_TOLERANCE, annotator.name


def test_dawid_skene_is_at_least_as_accurate_as_majority_vote(planted):
    _, df, truth = planted
    ds = consensus(df, method="dawid_skene").set_index("item_id")["label"]
    mv = consensus(df).set_index("item_id")["label"]
    assert (ds == truth.reindex(ds.index)).mean() >= (mv == truth.reindex(mv.index)).mean()


def test_dawid_skene_reports_convergence_and_rows_of_each_confusion_matrix_sum_to_one(planted):
    _, df, _ = planted
    model = DawidSkene().fit(df)
    assert model.converged_ and 1 <= model.n_iter_ < model.max_iter
    sums = model.errors_.groupby(["annotator_id", "true_label"])["probability"].sum()
    assert np.allclose(sums, 1.0)
    assert model.priors_.sum() == pytest.approx(1.0)
    assert np.isfinite(model.log_likelihood_)


def test_dawid_skene_accuracy_ranks_the_spammer_last(planted):
    _, df, _ = planted
    accuracies = DawidSkene().fit(df).accuracies_
    assert accuracies.idxmin() == "s"
    assert accuracies["e1"] > accuracies["e2"] > accuracies["e3"]


def test_dawid_skene_holds_gold_labels_fixed():
    df = long([("a", "x", "pos"), ("a", "y", "pos"), ("a", "z", "pos"), ("b", "x", "neg"), ("b", "y", "neg")])
    model = DawidSkene().fit(df, gold={"a": "neg"})
    assert model.labels_["a"] == "neg"
    assert model.probas_.loc["a", "neg"] == 1.0


def test_dawid_skene_gold_may_name_a_class_nobody_used():
    df = long([("a", "x", "pos"), ("a", "y", "pos"), ("b", "x", "pos")])
    model = DawidSkene().fit(df, gold={"b": "neg"})
    assert set(model.priors_.index) == {"pos", "neg"}
    assert model.labels_["b"] == "neg"


def test_dawid_skene_posterior_tie_is_reported_not_broken():
    df = long([("a", "x", "pos"), ("a", "y", "neg"), ("b", "x", "neg"), ("b", "y", "pos")])
    out = consensus(df, method="dawid_skene")
    assert out["is_tie"].all()
    assert out["label"].isna().all()


def test_dawid_skene_log_likelihood_never_decreases_without_smoothing(planted):
    _, df, _ = planted
    small = df[df["item_id"] < "item00400"]
    values = [DawidSkene(max_iter=k, smoothing=0.0, tol=0.0).fit(small).log_likelihood_ for k in range(1, 8)]
    assert all(b >= a - 1e-9 for a, b in zip(values, values[1:], strict=False)), values


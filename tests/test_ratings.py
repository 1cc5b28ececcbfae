"""Specification of the shared encoding: prepare_ratings, Ratings, value_patterns, other shapes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics.errors import MetricInputError
from metrics.ratings import from_counts, from_wide, prepare_ratings, value_patterns


def long_table(rows):
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])


def test_missing_labels_are_dropped_and_never_a_category():
    df = long_table(
        [
            ("i1", "a", "yes"),
            ("i1", "b", None),
            ("i1", "c", float("nan")),
            ("i2", "a", ""),
            ("i2", "b", "  "),
            ("i2", "c", "no"),
        ]
    )
    ratings = prepare_ratings(df)
    assert list(ratings.values) == ["no", "yes"]
    assert ratings.n_ratings == 2
    assert ratings.n_missing_labels == 4


def test_empty_frozenset_is_a_missing_label():
    df = long_table([("i1", "a", frozenset({"x"})), ("i1", "b", frozenset())])
    ratings = prepare_ratings(df)
    assert ratings.n_ratings == 1
    assert list(ratings.values) == [frozenset({"x"})]


def test_missing_columns_are_named_in_the_error():
    with pytest.raises(MetricInputError, match="annotator_id"):
        prepare_ratings(pd.DataFrame({"item_id": ["i1"], "label": ["x"]}))


def test_text_and_numbers_in_one_question_are_refused():
    df = long_table([("i1", "a", "yes"), ("i1", "b", 2.0)])
    with pytest.raises(MetricInputError, match="mixed types"):
        prepare_ratings(df)


def test_unknown_level_is_refused():
    df = long_table([("i1", "a", "yes")])
    with pytest.raises(MetricInputError, match="level"):
        prepare_ratings(df, level="intervall")


def test_duplicate_item_annotator_rows_are_refused_with_an_example():
    df = long_table([("i1", "a", "yes"), ("i1", "a", "no"), ("i2", "a", "no")])
    with pytest.raises(MetricInputError, match=r"duplicate.*'i1', 'a'"):
        prepare_ratings(df)


def test_duplicates_are_found_when_ids_are_sparse():
    rows = [(f"i{k}", f"a{k}", "x") for k in range(50)] + [("i7", "a7", "y")]
    with pytest.raises(MetricInputError, match="duplicate"):
        prepare_ratings(long_table(rows))


def test_labels_outside_declared_categories_are_named():
    df = long_table([("i1", "a", "low"), ("i1", "b", "hgih")])
    with pytest.raises(MetricInputError, match="hgih"):
        prepare_ratings(df, categories=["low", "mid", "high"])


def test_declared_order_is_kept_not_sorted():
    df = long_table([("i1", "a", "low"), ("i1", "b", "high")])
    ratings = prepare_ratings(df, categories=["low", "mid", "high"], level="ordinal")
    assert list(ratings.values) == ["low", "mid", "high"]
    assert ratings.value_codes.tolist() == [0, 2]


def test_ordinal_text_without_declared_order_is_refused():
    df = long_table([("i1", "a", "low"), ("i1", "b", "high")])
    with pytest.raises(MetricInputError, match="declared order"):
        prepare_ratings(df, level="ordinal")


def test_numbers_sort_numerically():
    df = long_table([("i1", "a", 10), ("i1", "b", 9), ("i1", "c", 1.5)])
    ratings = prepare_ratings(df, level="ordinal")
    assert ratings.values.tolist() == [1.5, 9.0, 10.0]


def test_interval_level_needs_numbers():
    df = long_table([("i1", "a", "3"), ("i1", "b", "4")])
    with pytest.raises(MetricInputError, match="numeric"):
        prepare_ratings(df, level="interval")


def test_ratio_level_needs_non_negative_numbers():
    df = long_table([("i1", "a", -1.0), ("i1", "b", 4.0)])
    with pytest.raises(MetricInputError, match="non-negative"):
        prepare_ratings(df, level="ratio")


def test_integers_and_equal_floats_are_one_value():
    df = long_table([("i1", "a", 1), ("i1", "b", 1.0), ("i1", "c", 2)])
    assert prepare_ratings(df, level="interval").n_values == 2


def test_categorical_columns_encode_like_object_columns():
    df = long_table([("i1", "a", "x"), ("i1", "b", "y"), ("i2", "a", "y")])
    categorical = df.astype(
        {"item_id": "category", "annotator_id": "category", "label": "category"}
    )
    plain, fast = prepare_ratings(df), prepare_ratings(categorical)
    assert list(plain.values) == list(fast.values)
    assert plain.value_codes.tolist() == fast.value_codes.tolist()
    assert plain.item_codes.tolist() == fast.item_codes.tolist()


def test_unused_categories_of_a_categorical_id_column_are_not_items():
    df = long_table([("i1", "a", "x"), ("i1", "b", "y")])
    df["item_id"] = pd.Categorical(df["item_id"], categories=["i0", "i1", "i2"])
    assert list(prepare_ratings(df).items) == ["i1"]


def test_pairable_drops_and_counts_single_rating_items():
    df = long_table([("i1", "a", "x"), ("i1", "b", "y"), ("i2", "a", "x"), ("i3", "c", "y")])
    pairable = prepare_ratings(df).pairable()
    assert list(pairable.items) == ["i1"]
    assert pairable.n_unpairable_items == 2
    assert list(pairable.annotators) == ["a", "b"]
    assert pairable.ratings_per_item().tolist() == [2]


def test_count_matrix_counts_values_per_item():
    df = long_table([("i1", "a", "x"), ("i1", "b", "x"), ("i2", "a", "y")])
    counts = prepare_ratings(df).count_matrix().toarray()
    assert counts.tolist() == [[2, 0], [0, 1]]


def test_value_patterns_group_items_with_identical_counts():
    rng = np.random.default_rng(3)
    labels = rng.choice(["p", "q", "r"], size=(300, 4))
    df = long_table([(f"i{u}", f"a{a}", labels[u, a]) for u in range(300) for a in range(4)])
    ratings = prepare_ratings(df)
    patterns = value_patterns(ratings)
    dense = ratings.count_matrix().toarray()
    assert patterns.weights.sum() == 300
    assert len({tuple(row) for row in dense}) == patterns.n_patterns
    assert (patterns.counts[patterns.item_pattern] == dense).all()


def test_from_wide_gives_the_long_table_without_missing_cells():
    wide = pd.DataFrame({"item": ["i1", "i2"], "ann1": [1, np.nan], "ann2": [2, 3]})
    long = from_wide(wide, item_column="item")
    assert long.values.tolist() == [["i1", "ann1", 1.0], ["i1", "ann2", 2.0], ["i2", "ann2", 3.0]]


def test_from_counts_gives_one_row_per_rating():
    counts = pd.DataFrame({"a": [2, 0], "b": [1, 3]}, index=["i1", "i2"])
    long = from_counts(counts)
    assert len(long) == 6
    assert prepare_ratings(long).count_matrix().toarray().tolist() == [[2, 1], [0, 3]]



"""The validation carve: deterministic for a seed, disjoint, complete, whatever the input order."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negmine.data import carve_validation, load_retrieval
from negmine.errors import NegmineError

ids = st.lists(st.text(min_size=1, max_size=6), min_size=2, max_size=200, unique=True)
fractions = st.floats(min_value=0.05, max_value=0.95)


@given(ids=ids, fraction=fractions, seed=st.integers(0, 2**31 - 1))
@settings(max_examples=60, deadline=None)
def test_carve_is_a_partition_independent_of_order(ids, fraction, seed):
    train, validation = carve_validation(ids, fraction, seed)
    assert set(train).isdisjoint(validation)
    assert set(train) | set(validation) == set(ids)
    assert train and validation
    shuffled = ids[:]
    random.Random(seed).shuffle(shuffled)
    assert carve_validation(shuffled, fraction, seed) == (train, validation)


def test_carve_size_and_seed():
    query_ids = [str(i) for i in range(809)]
    train, validation = carve_validation(query_ids, 0.2, seed=42)
    assert len(validation) == 162 and len(train) == 647
    assert carve_validation(query_ids, 0.2, seed=43)[1] != validation


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1])
def test_bad_fraction(fraction):
    with pytest.raises(NegmineError, match="validation fraction"):
        carve_validation(["a", "b", "c"], fraction, 0)


def test_train_and_validation_splits_of_a_dataset(scifact_dir):
    train = load_retrieval(scifact_dir, "train", validation_fraction=0.3, seed=1)
    validation = load_retrieval(scifact_dir, "validation", validation_fraction=0.3, seed=1)
    full = load_retrieval(scifact_dir, "train", validation_fraction=0)
    assert set(train.queries).isdisjoint(validation.queries)
    assert set(train.queries) | set(validation.queries) == set(full.queries)
    assert len(validation.queries) == 3 and validation.split == "validation"
    again = load_retrieval(scifact_dir, "validation", validation_fraction=0.3, seed=1)
    assert again.queries == validation.queries


def test_validation_needs_a_fraction(scifact_dir):
    with pytest.raises(NegmineError, match="needs a validation fraction"):
        load_retrieval(scifact_dir, "validation", validation_fraction=0)

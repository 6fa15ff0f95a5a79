"""BallTreeSampler: never returns the point itself or a known positive, takes the closer of the two trees, draws
random negatives at the asked rate, and the FAISS backend finds the same neighbours as the BallTree."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negmine.search.balltree import BallTreeSampler, ExactIndex


def data(seed: int, n_points=30, n_counters=80, dim=16):
    rng = np.random.default_rng(seed)
    points, counters = rng.normal(size=(n_points, dim)), rng.normal(size=(n_counters, dim))
    positives = [list(rng.choice(n_counters, size=rng.integers(1, 4), replace=False)) for _ in range(n_points)]
    return points, counters, positives


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_faiss_backend_finds_the_same_neighbours(seed):
    points, counters, positives = data(seed)
    tree = ExactIndex(counters, "balltree").search(points, 10)
    flat = ExactIndex(counters, "faiss").search(points, 10)
    np.testing.assert_array_equal(tree.indices, flat.indices)
    np.testing.assert_allclose(tree.scores, flat.scores, rtol=1e-4)
    ours = BallTreeSampler(points, counters, positives, backend="balltree").sample(enumerate(points), 0.0)
    theirs = BallTreeSampler(points, counters, positives, backend="faiss").sample(enumerate(points), 0.0)
    assert ours == theirs


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.0, 0.3, 1.0]))
def test_never_the_point_itself_or_a_known_positive(seed, rate):
    points, counters, positives = data(seed)
    shared = [[(i + 1) % len(points)] for i in range(len(points))]  # a neighbour claim citing the same abstract
    searcher = BallTreeSampler(points, counters, positives, point_positives=shared, seed=seed)
    for i, (source, index) in enumerate(searcher.sample(enumerate(points), rate)):
        if source == "point":
            assert index != i and index != shared[i][0]
        else:
            assert index not in positives[i]


def test_the_closer_tree_wins_by_hand():
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 3.0]])
    counters = np.array([[0.0, 0.1], [1.0, 0.0], [10.0, 1.0]])
    searcher = BallTreeSampler(points, counters, positives=[[0], [2], [1]])
    # point 0: counter 0 is its positive, counter 1 at 1.0, point 2 at 3.0 -> counter 1
    # point 1: counter 2 is its positive, counter 1 at 9.0, point 0 at 10.0 -> counter 1
    # point 2: counter 0 at 2.9, point 0 at 3.0 -> counter 0
    assert searcher.sample(enumerate(points), 0.0) == [("counter", 1), ("counter", 1), ("counter", 0)]
    sources, chosen, distances = searcher.nearest([0], points[:1])
    assert sources == ["counter"] and chosen.tolist() == [1] and distances[0] == pytest.approx(1.0)


def test_random_rate_is_the_share_of_random_negatives():
    points, counters, positives = data(0, n_points=400)
    nearest = BallTreeSampler(points, counters, positives).sample(enumerate(points), 0.0)
    searcher = BallTreeSampler(points, counters, positives, seed=1)
    mixed = searcher.sample(enumerate(points), 0.5)
    differs = np.mean([a != b for a, b in zip(nearest, mixed, strict=True)])
    assert 0.4 < differs < 0.6  # half are random, and a random one is rarely the nearest
    sources = [s for s, _ in searcher.sample(enumerate(points), 1.0)]
    assert 0.4 < sources.count("point") / len(sources) < 0.6
    assert BallTreeSampler(points, counters, positives, seed=7).sample(enumerate(points), 0.5) == BallTreeSampler(
        points, counters, positives, seed=7
    ).sample(enumerate(points), 0.5)
    with pytest.raises(ValueError, match="random_rate"):
        searcher.sample(enumerate(points), 1.5)

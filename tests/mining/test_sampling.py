"""Sampling strategies: top is the head, random and semi-hard are uniform over their sets, SimANS follows its
weights."""

from __future__ import annotations

import numpy as np
import pytest

from negmine.mining.sampling import sample_negatives, simans_weights

POOL = np.array([0.9, 0.8, 0.75, 0.7, 0.6, 0.4, 0.2])


def test_top_takes_the_head():
    assert sample_negatives(POOL, 3, "top").tolist() == [0, 1, 2]


def test_random_is_seeded_unique_and_sorted():
    first = sample_negatives(POOL, 4, "random", np.random.default_rng(7))
    assert first.tolist() == sample_negatives(POOL, 4, "random", np.random.default_rng(7)).tolist()
    assert len(set(first.tolist())) == 4 and first.tolist() == sorted(first.tolist())


def test_semi_hard_stays_in_the_band():
    rng = np.random.default_rng(0)
    for _ in range(50):
        chosen = sample_negatives(POOL, 2, "semi-hard", rng, positive_score=0.78, semi_hard_margin=0.1)
        assert set(chosen.tolist()) <= {2, 3}  # 0.68 <= s < 0.78


def test_simans_weights_hand_computed():
    np.testing.assert_allclose(simans_weights(np.array([0.7, 0.5]), 0.8, a=10.0, b=-0.1), [1.0, np.exp(-0.4)])


def test_simans_frequencies_follow_the_weights():
    rng = np.random.default_rng(0)
    scores = np.array([0.75, 0.7, 0.5, 0.1])
    counts = np.zeros(4)
    draws = 20000
    for _ in range(draws):
        counts[sample_negatives(scores, 1, "simans", rng, positive_score=0.8, simans_a=20.0, simans_b=-0.1)] += 1
    weights = simans_weights(scores, 0.8, 20.0, -0.1)
    np.testing.assert_allclose(counts / draws, weights / weights.sum(), atol=0.015)


def test_unknown_strategy():
    with pytest.raises(ValueError, match="sampling_strategy"):
        sample_negatives(POOL, 1, "hardest")

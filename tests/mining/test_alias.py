"""The alias sampler: its tables encode the target exactly, and drawn frequencies match it (chi-square)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chisquare

from negmine.mining.alias import AliasSampler, noise_distribution


def implied_distribution(sampler: AliasSampler) -> np.ndarray:
    """The distribution the tables draw from: column i keeps prob[i], hands 1 - prob[i] to its alias."""
    n = len(sampler.probability)
    p = sampler.probability.copy()
    np.add.at(p, sampler.alias, 1.0 - sampler.probability)
    return p / n


@given(st.lists(st.floats(0, 1000), min_size=1, max_size=60).filter(lambda w: sum(w) > 0))
def test_tables_encode_the_target(weights):
    sampler = AliasSampler(weights)
    target = np.asarray(weights) / sum(weights)
    np.testing.assert_allclose(implied_distribution(sampler), target, atol=1e-9)


def test_drawn_frequencies_match_the_unigram_075_noise():
    counts = [500, 120, 60, 30, 10, 5, 1, 1]
    target = noise_distribution(counts, alpha=0.75)
    draws = AliasSampler(target, seed=3).sample(200_000)
    observed = np.bincount(draws, minlength=len(counts))
    assert chisquare(observed, target * len(draws)).pvalue > 0.001
    assert target[0] < counts[0] / sum(counts)  # alpha < 1 flattens the frequent end


def test_bad_weights():
    with pytest.raises(ValueError, match="non-negative"):
        AliasSampler([1.0, -1.0])
    with pytest.raises(ValueError, match="positive sum"):
        AliasSampler([0.0, 0.0])

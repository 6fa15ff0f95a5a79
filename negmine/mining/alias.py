"""Walker's alias method: O(n) set-up, O(1) draws from a fixed discrete distribution, such as the noise
distribution proportional to frequency ** alpha of word2vec's negative sampling.

References:
    Walker, "An Efficient Method for Generating Discrete Random Variables with General Distributions", ACM TOMS 1977;
    Vose, "A Linear Algorithm for Generating Random Numbers with a Given Distribution", IEEE TSE 1991 (the set-up);
    Mikolov et al., "Distributed Representations of Words and Phrases and their Compositionality", NeurIPS 2013
    (alpha = 0.75).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def noise_distribution(counts: Sequence[float], alpha: float = 0.75) -> np.ndarray:
    """``counts ** alpha``, normalised: alpha = 1 follows the frequencies, 0 is uniform, 0.75 is in between.

    Example:
        >>> noise_distribution([1, 16], alpha=0.5).tolist()
        [0.2, 0.8]
    """
    weights = np.asarray(counts, dtype=np.float64) ** alpha
    if weights.ndim != 1 or len(weights) == 0 or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("counts must be a non-empty list of non-negative numbers with a positive sum")
    return weights / weights.sum()


class AliasSampler:
    """Draws indices with probability proportional to ``weights`` in O(1) each, after an O(n) set-up (Vose).

    Args:
        weights: non-negative weights (need not sum to 1).
        seed: seeds the sampler's generator.

    Example:
        >>> sampler = AliasSampler([1.0, 0.0, 3.0], seed=0)
        >>> draws = sampler.sample(10_000)
        >>> bool((draws != 1).all()), round(float((draws == 2).mean()), 1)
        (True, 0.8)
    """

    def __init__(self, weights: Sequence[float], seed: int = 0):
        p = noise_distribution(weights, alpha=1.0)
        n = len(p)
        scaled = p * n
        self.probability = np.ones(n)
        self.alias = np.arange(n)
        small = [i for i in range(n) if scaled[i] < 1.0]
        large = [i for i in range(n) if scaled[i] >= 1.0]
        while small and large:
            less, more = small.pop(), large.pop()
            self.probability[less] = scaled[less]
            self.alias[less] = more
            scaled[more] -= 1.0 - scaled[less]
            (small if scaled[more] < 1.0 else large).append(more)
        # what is left has probability 1 up to rounding
        self.rng = np.random.default_rng(seed)

    def sample(self, size: int) -> np.ndarray:
        """``size`` draws: a uniform column, then a biased coin between it and its alias."""
        columns = self.rng.integers(len(self.probability), size=size)
        keep = self.rng.random(size) < self.probability[columns]
        return np.where(keep, columns, self.alias[columns])

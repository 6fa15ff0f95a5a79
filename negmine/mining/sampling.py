"""Choosing negatives from a candidate pool: the top ones, uniformly at random, from a semi-hard band, or with
SimANS weights.

References:
    Zhou et al., "SimANS: Simple Ambiguous Negatives Sampling for Dense Text Retrieval", EMNLP 2022 (industry);
    Schroff et al., "FaceNet", CVPR 2015 (semi-hard negatives).
"""

from __future__ import annotations

import numpy as np

SAMPLING_STRATEGIES = ("top", "random", "semi-hard", "simans")


def simans_weights(scores: np.ndarray, positive_score: float, a: float, b: float) -> np.ndarray:
    """SimANS sampling weights ``exp(-a (s_neg - s_pos - b)^2)``: highest for negatives near ``s_pos + b``.

    Example:
        >>> simans_weights(np.array([0.8, 0.5]), 0.8, a=10.0, b=0.0).round(3).tolist()
        [1.0, 0.407]
    """
    return np.exp(-a * (scores - positive_score - b) ** 2)


def sample_negatives(
    scores: np.ndarray,
    num: int,
    strategy: str,
    rng: np.random.Generator | None = None,
    positive_score: float = float("nan"),
    semi_hard_margin: float = 0.1,
    simans_a: float = 50.0,
    simans_b: float = -0.05,
    prior: np.ndarray | None = None,
) -> np.ndarray:
    """Positions of the chosen negatives in a pool, ordered by score (best first).

    Args:
        scores: the pool's scores, sorted best first.
        num: how many to choose (fewer when the pool or the band is smaller).
        strategy: ``top``, ``random``, ``semi-hard`` (random among ``s_pos - semi_hard_margin <= s < s_pos``) or
            ``simans`` (without replacement, probability proportional to :func:`simans_weights`).
        rng: the random generator (not needed for ``top``).
        positive_score: the query's lowest positive score (``semi-hard`` and ``simans``; NaN falls back to ``top``).
        semi_hard_margin: width of the semi-hard band under the positive.
        simans_a, simans_b: SimANS's sharpness and offset, on the cosine scale.
        prior: relative weights of the pool's candidates for ``random`` (e.g. :func:`reuse_weights`); None is uniform.

    Returns:
        Sorted positions into ``scores``.

    Example:
        >>> sample_negatives(np.array([0.9, 0.7, 0.6, 0.1]), 2, "semi-hard", np.random.default_rng(0), 0.75, 0.2)
        array([1, 2])
    """
    if strategy not in SAMPLING_STRATEGIES:
        raise ValueError(f"sampling_strategy must be one of {SAMPLING_STRATEGIES}, got {strategy!r}")
    n = len(scores)
    if strategy == "top" or n == 0 or (strategy in ("semi-hard", "simans") and np.isnan(positive_score)):
        return np.arange(min(num, n))
    if strategy == "random":
        p = None if prior is None else prior / prior.sum()
        return np.sort(rng.choice(n, size=min(num, n), replace=False, p=p))
    if strategy == "semi-hard":
        band = np.flatnonzero((scores < positive_score) & (scores >= positive_score - semi_hard_margin))
        return np.sort(rng.choice(band, size=min(num, len(band)), replace=False))
    weights = simans_weights(scores, positive_score, simans_a, simans_b)
    usable = np.flatnonzero(weights > 0)
    weights = weights[usable] / weights[usable].sum()
    return np.sort(rng.choice(usable, size=min(num, len(usable)), replace=False, p=weights))


def reuse_weights(taken: np.ndarray, bias: float) -> np.ndarray:
    """Sampling weights that move diversity and leave hardness alone: ``(1 + t) ** bias`` for a candidate that
    earlier anchors took ``t`` times (preferential attachment when ``bias > 0``). Drawn from the same rank band, the
    negatives keep the band's hardness while ``bias > 0`` concentrates them on fewer documents (more duplicates,
    lower Vendi score) and ``bias < 0`` spreads them (experiment C of the negative-analysis framework: one property
    held fixed while the other moves).

    Args:
        taken: how many earlier anchors took each candidate of the pool.
        bias: the exponent; 0 is uniform.

    Returns:
        One positive weight a candidate.

    Example:
        >>> reuse_weights(np.array([0, 3, 1]), 2.0).tolist()
        [1.0, 16.0, 4.0]

    Reference:
        Barabási & Albert, "Emergence of Scaling in Random Networks", Science 1999 (preferential attachment).
    """
    return (1.0 + np.asarray(taken, dtype=np.float64)) ** bias

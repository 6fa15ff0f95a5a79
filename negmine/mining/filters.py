"""False-negative filters: drop candidates that score too close to (or above) the query's positive.

The margins compare each candidate with the query's *lowest* positive score, as sentence-transformers'
``mine_hard_negatives`` does: ``absolute_margin`` keeps ``s < p - margin``; ``relative_margin`` keeps
``s <= p - |p| * margin`` (``relative_margin=0.05`` is NV-Retriever's TopK-PercPos: below 95% of the positive);
``max_score`` and ``min_score`` bound the score itself.

References:
    Moreira et al., "NV-Retriever: Improving text embedding models with effective hard-negative mining", 2024.
"""

from __future__ import annotations

import numpy as np

FILTERS = ("absolute_margin", "relative_margin", "max_score", "min_score")


def false_negative_filter(
    scores: np.ndarray,
    positive_scores: np.ndarray,
    *,
    absolute_margin: float | None = None,
    relative_margin: float | None = None,
    max_score: float | None = None,
    min_score: float | None = None,
    alive: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, int]]:
    """Which candidates survive the filters, and how many each filter removed (in this order).

    Args:
        scores: ``(n_queries, n_candidates)`` similarities of the candidates.
        positive_scores: ``(n_queries,)`` the lowest positive score of each query (NaN: no margin applies).
        absolute_margin, relative_margin, max_score, min_score: the filters; None turns one off.
        alive: candidates still in play (others are neither kept nor counted); default all.

    Returns:
        ``(keep, removed)``: a boolean mask like ``scores`` and ``{filter: count}`` for the filters that are on.

    Example:
        >>> keep, removed = false_negative_filter(np.array([[0.9, 0.8, 0.5]]), np.array([0.85]), relative_margin=0.05)
        >>> keep.tolist(), removed
        ([[False, True, True]], {'relative_margin': 1})
    """
    keep = np.ones(scores.shape, dtype=bool) if alive is None else alive.copy()
    positive = positive_scores[:, None]
    rules = {
        "absolute_margin": None if absolute_margin is None else scores > positive - absolute_margin,
        "relative_margin": None if relative_margin is None else scores > positive - np.abs(positive) * relative_margin,
        "max_score": None if max_score is None else scores > max_score,
        "min_score": None if min_score is None else scores < min_score,
    }
    removed = {}
    for name in FILTERS:
        rule = rules[name]
        if rule is None:
            continue
        hit = keep & rule
        removed[name] = int(hit.sum())
        keep &= ~hit
    return keep, removed

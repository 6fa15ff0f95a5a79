"""A validation split carved from the training queries, the same for the same seed, so tuning never needs the
held-out split."""

from __future__ import annotations

import math
from collections.abc import Iterable

from sklearn.model_selection import train_test_split

from negmine.errors import NegmineError


def carve_validation(query_ids: Iterable[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Split query ids into (train, validation), deterministically for a seed whatever the input order.

    Args:
        query_ids: the training queries (those with relevance judgements).
        fraction: the share that goes to validation, in (0, 1).
        seed: the random seed.

    Returns:
        Two sorted, disjoint, non-empty lists of ids, together the input; validation has
        ``ceil(fraction * n)`` ids (at most ``n - 1``).

    Example:
        >>> carve_validation([str(i) for i in range(10)], 0.2, seed=0)[1]
        ['2', '8']
    """
    if not 0 < fraction < 1:
        raise NegmineError(f"validation fraction must be between 0 and 1 (exclusive), got {fraction}")
    ids = sorted(set(query_ids))
    if len(ids) < 2:
        raise NegmineError(f"cannot carve a validation split from {len(ids)} query")
    n_validation = min(max(1, math.ceil(fraction * len(ids))), len(ids) - 1)  # both sides keep a query
    train, validation = train_test_split(ids, test_size=n_validation, random_state=seed, shuffle=True)
    return sorted(train), sorted(validation)

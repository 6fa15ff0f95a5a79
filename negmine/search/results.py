"""What every searcher returns: scores then indices, as FAISS does."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class SearchResults(NamedTuple):
    """``scores[i, j]`` is the score of document ``indices[i, j]`` for query ``i``; rows are sorted best first."""

    scores: np.ndarray
    indices: np.ndarray

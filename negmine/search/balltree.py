"""``BallTreeSampler``: one negative per point from two trees (the points' own side and the counter side), with a
scheduled share of random negatives; the trees are ``ExactIndex`` searchers (scikit-learn's BallTree, or an exact
FAISS L2 index that gives the same neighbours).

The design comes from bi-encoder training code that keeps two scikit-learn BallTrees, one over each side of the
training pairs (claims and abstracts, say). A point's negative is its nearest neighbour in either tree, the point
itself and its known positives left out, whichever of the two is closer; with probability ``random_rate`` a random
side and a random candidate stand in for it, a rate that decays over training (see
:class:`negmine.mining.schedules.RandomRateSchedule`).

References:
    Omohundro, "Five Balltree Construction Algorithms", ICSI TR-89-063, 1989 (the tree);
    Johnson, Douze and Jégou, "Billion-scale similarity search with GPUs", 2017 (FAISS).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np

from negmine.search.results import SearchResults

SOURCES = ("point", "counter")


class ExactIndex:
    """Exact euclidean k-nearest neighbours over one embedding set, a scikit-learn ``BallTree`` or a FAISS flat L2
    index, with the searchers' interface: ``search(queries, k) -> SearchResults``, its scores the negative euclidean
    distances (higher is closer).

    Why not negmine's dense searcher (:func:`negmine.search.dense.dense_searcher`): that one ranks by inner product,
    this one by euclidean distance, the metric of the BallTree design the balltree recipes reproduce, over embeddings
    that need not be normalised; the ``balltree`` backend is scikit-learn's tree itself, and ``faiss`` the check
    that it finds the same neighbours.

    Args:
        embeddings: ``(n, dim)`` vectors.
        backend: ``balltree`` or ``faiss``.
        leaf_size: the BallTree's leaf size.

    Example:
        >>> x = np.eye(4, dtype="float32")
        >>> ExactIndex(x).search(x[:1] * 0.9, k=2).indices[0, 0]
        np.int64(0)
    """

    def __init__(self, embeddings: np.ndarray, backend: Literal["balltree", "faiss"] = "balltree", leaf_size=40):
        self.embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        self.backend = backend
        if backend == "balltree":
            from sklearn.neighbors import BallTree

            self.index = BallTree(self.embeddings, leaf_size=leaf_size)
        elif backend == "faiss":
            from negmine.search.faiss import import_faiss

            faiss = import_faiss()
            self.index = faiss.IndexFlatL2(self.embeddings.shape[1])
            self.index.add(self.embeddings)
        else:
            raise ValueError(f"backend must be 'balltree' or 'faiss', got {backend!r}")

    def __len__(self) -> int:
        return len(self.embeddings)

    def search(self, queries: np.ndarray, k: int) -> SearchResults:
        """The ``k`` nearest vectors of each query (fewer columns when the set is smaller), nearest first; scores are
        minus the euclidean distances."""
        k = min(k, len(self))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if self.backend == "balltree":
            distances, indices = self.index.query(queries, k=k)
            return SearchResults(-distances.astype(np.float32), indices.astype(np.int64))
        squared, indices = self.index.search(queries, k)
        return SearchResults(-np.sqrt(np.maximum(squared, 0)), indices.astype(np.int64))


class BallTreeSampler:
    """A negative for each training point from the point tree or the counter tree, or at random.

    Args:
        points: ``(n_points, dim)`` embeddings of one side of the pairs (e.g. claims).
        counters: ``(n_counters, dim)`` embeddings of the other side (e.g. abstracts).
        positives: for each point, its known positive counter indices (never returned).
        point_positives: for each point, other points that must not be its negative (e.g. claims citing the same
            abstract); the point itself is always left out.
        backend: ``balltree`` (scikit-learn) or ``faiss`` (exact ``IndexFlatL2``): the same neighbours.
        leaf_size: the BallTrees' leaf size.
        seed: seeds the random negatives; the searcher's generator advances with each call.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> claims, abstracts = rng.normal(size=(5, 8)), rng.normal(size=(20, 8))
        >>> sampler = BallTreeSampler(claims, abstracts, positives=[[0], [1], [2], [3], [4]])
        >>> negatives = sampler.sample([(0, claims[0]), (1, claims[1])], random_rate=0.0)
        >>> [source in ("point", "counter") for source, index in negatives]
        [True, True]
    """

    def __init__(
        self,
        points: np.ndarray,
        counters: np.ndarray,
        positives: Sequence[Iterable[int]],
        point_positives: Sequence[Iterable[int]] | None = None,
        backend: Literal["balltree", "faiss"] = "balltree",
        leaf_size: int = 40,
        seed: int = 0,
    ):
        if len(positives) != len(points):
            raise ValueError(f"positives has {len(positives)} rows for {len(points)} points")
        self.trees = {
            "point": ExactIndex(points, backend, leaf_size),
            "counter": ExactIndex(counters, backend, leaf_size),
        }
        self.excluded = {
            "point": [{i, *(point_positives[i] if point_positives is not None else ())} for i in range(len(points))],
            "counter": [set(p) for p in positives],
        }
        self.rng = np.random.default_rng(seed)
        self.last_random = np.zeros(0, dtype=bool)

    def nearest(self, indices: Sequence[int], embeddings: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The nearest allowed neighbour of each point in each tree, and the closer of the two.

        Returns:
            ``(sources, neighbour_indices, distances)``; index -1 and distance inf where a tree has nothing allowed.
        """
        best = {}
        for source in SOURCES:
            excluded = [self.excluded[source][i] for i in indices]
            k = 1 + max((len(e) for e in excluded), default=0)
            found = self.trees[source].search(embeddings, k)
            choice = np.full(len(indices), -1, dtype=np.int64)
            distance = np.full(len(indices), np.inf, dtype=np.float32)
            for row, skip in enumerate(excluded):
                for score, j in zip(found.scores[row], found.indices[row], strict=True):
                    if j not in skip:
                        choice[row], distance[row] = j, -score
                        break
            best[source] = (choice, distance)
        from_counter = best["counter"][1] <= best["point"][1]  # ties go to the counter side
        sources = ["counter" if c else "point" for c in from_counter]
        chosen = np.where(from_counter, best["counter"][0], best["point"][0])
        distances = np.where(from_counter, best["counter"][1], best["point"][1])
        return sources, chosen, distances

    def random_negative(self, index: int) -> tuple[str, int]:
        """A random side and a random allowed candidate on it."""
        for _ in range(1000):
            source = SOURCES[int(self.rng.integers(2))]
            candidate = int(self.rng.integers(len(self.trees[source])))
            if candidate not in self.excluded[source][index]:
                return source, candidate
        raise ValueError(f"point {index}: no allowed random candidate found")

    def sample(self, points: Iterable[tuple[int, np.ndarray]], random_rate: float = 0.0) -> list[tuple[str, int]]:
        """One negative per point (a sampler, not a searcher: no k, one choice a point).

        Args:
            points: ``(index, embedding)`` pairs; the index is the point's row in ``points`` (for the exclusions).
            random_rate: the probability, per point, of a random negative instead of the nearest one.

        Returns:
            ``[(source, index), ...]``: ``source`` is ``point`` or ``counter``, ``index`` a row of that set.
        """
        if not 0.0 <= random_rate <= 1.0:
            raise ValueError(f"random_rate must be in [0, 1], got {random_rate}")
        points = list(points)
        if not points:
            return []
        indices = [int(i) for i, _ in points]
        embeddings = np.stack([np.asarray(e, dtype=np.float32) for _, e in points])
        draws = self.rng.random(len(points))
        self.last_random = draws < random_rate  # which of the last call's negatives were drawn at random
        sources, chosen, _ = self.nearest(indices, embeddings) if (draws >= random_rate).any() else ([], [], [])
        return [
            self.random_negative(index) if draw < random_rate else (sources[row], int(chosen[row]))
            for row, (index, draw) in enumerate(zip(indices, draws, strict=True))
        ]

"""Diversity of negatives: how much of the embedding space they cover, and how often the same ones come back.

References:
    Friedman & Dieng, 2023, "The Vendi Score: A Diversity Evaluation Metric for Machine Learning" (TMLR);
    Wang & Isola, 2020, "Understanding Contrastive Representation Learning through Alignment and Uniformity on
    the Hypersphere" (ICML); the feature-coverage and value-entropy measures of negmine's design source
    (docs: negative-analysis-framework).
"""

from __future__ import annotations

from collections import Counter

import numpy as np


def sample_rows(vectors: np.ndarray, limit: int, seed: int = 0) -> np.ndarray:
    """At most ``limit`` rows of ``vectors``, drawn without replacement with a fixed seed (all when fewer)."""
    if len(vectors) <= limit:
        return vectors
    return vectors[np.sort(np.random.default_rng(seed).choice(len(vectors), limit, replace=False))]


def upper_pairs(vectors: np.ndarray, metric: str = "cosine") -> np.ndarray:
    """The distances of every pair i < j of ``vectors`` (``cosine`` or ``sqeuclidean``), like scipy's ``pdist``
    but through scikit-learn's BLAS-backed pairwise kernels (pdist's Python-level loop is far slower at d = 384).

    Example:
        >>> upper_pairs(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])).round(6).tolist()
        [1.0, 0.0, 1.0]
    """
    from sklearn.metrics.pairwise import cosine_distances, euclidean_distances

    matrix = cosine_distances(vectors) if metric == "cosine" else euclidean_distances(vectors, squared=True)
    return np.clip(matrix[np.triu_indices(len(vectors), k=1)], 0, None)


def pairwise_distances(vectors: np.ndarray, limit: int = 2000, seed: int = 0) -> dict[str, float]:
    """Mean, std, min and max cosine distance between all pairs of (at most ``limit`` sampled) vectors.

    Example:
        >>> pairwise_distances(np.array([[1.0, 0.0], [0.0, 1.0]]))["mean"]
        1.0
    """
    vectors = sample_rows(vectors, limit, seed)
    if len(vectors) < 2:
        return {}
    distances = upper_pairs(vectors, "cosine")
    return {"mean": float(distances.mean()), "std": float(distances.std()), "min": float(distances.min()),
            "max": float(distances.max()), "sampled": int(len(vectors))}  # fmt: skip


def per_anchor_distance(vectors: np.ndarray, groups: np.ndarray) -> float | None:
    """The mean over anchors with two or more negatives of the mean cosine distance among that anchor's negatives
    (None when no anchor has two).

    Args:
        vectors: ``(n, d)`` negative vectors.
        groups: ``(n,)`` the anchor of each.

    Example:
        >>> per_anchor_distance(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), np.array([0, 0, 1]))
        1.0
    """
    # for unit vectors, the sum of x_i . x_j over the pairs of a group is (||sum x||^2 - n) / 2: no pairwise loop
    x = np.asarray(vectors, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    _, index, sizes = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
    sums = np.zeros((len(sizes), x.shape[1]))
    np.add.at(sums, index, x)
    many = sizes >= 2
    similarity = ((sums[many] ** 2).sum(axis=1) - sizes[many]) / (sizes[many] * (sizes[many] - 1))
    means = (1.0 - similarity).tolist()
    return float(np.mean(means)) if means else None


def vendi_score(vectors: np.ndarray) -> float:
    """The Vendi score with the cosine kernel: exp of the entropy of the eigenvalues of K / n, K = X X^T over the
    unit-normalised rows; an effective number of distinct vectors (1 when all are equal, n when orthogonal).

    The non-zero eigenvalues of X X^T / n are those of X^T X / n, so the d x d form is used: exact, with no
    sampling, in O(n d^2).

    Example:
        >>> round(vendi_score(np.eye(3)), 6), round(vendi_score(np.ones((4, 2))), 6)
        (3.0, 1.0)
    """
    x = np.asarray(vectors, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    eigenvalues = np.clip(np.linalg.eigvalsh(x.T @ x / len(x)), 0, None)
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    return float(np.exp(-(eigenvalues * np.log(eigenvalues)).sum()))


def uniformity(vectors: np.ndarray, t: float = 2.0, limit: int = 2000, seed: int = 0) -> float | None:
    """Wang & Isola's uniformity: log E exp(-t ||x - y||^2) over pairs of (sampled) vectors; lower is more uniform.

    Example:
        >>> round(uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]])), 6)
        -8.0
    """
    vectors = sample_rows(vectors, limit, seed)
    if len(vectors) < 2:
        return None
    squared = upper_pairs(vectors, "sqeuclidean")
    return float(np.log(np.mean(np.exp(-t * squared))))


def duplicate_rate(doc_ids: list[str], anchors: list, top: int = 5) -> dict:
    """How often the same document is a negative of several anchors.

    Args:
        doc_ids: the document id of each (anchor, negative) pair (generated negatives: leave them out).
        anchors: the anchor of each pair.
        top: how many of the most reused documents to list.

    Returns:
        ``rate`` (share of pairs whose document is a negative of two or more anchors), ``unique`` documents and
        ``most_reused`` as ``[doc id, anchors]`` pairs.

    Example:
        >>> duplicate_rate(["a", "a", "b"], [1, 2, 1])["rate"]
        0.6666666666666666
    """
    per_doc: dict[str, set] = {}
    for doc, anchor in zip(doc_ids, anchors, strict=True):
        per_doc.setdefault(doc, set()).add(anchor)
    counts = Counter({doc: len(owners) for doc, owners in per_doc.items()})
    shared = sum(1 for doc in doc_ids if counts[doc] >= 2)
    return {"rate": shared / len(doc_ids) if doc_ids else None, "unique": len(per_doc),
            "most_reused": [[doc, n] for doc, n in counts.most_common(top) if n >= 2]}  # fmt: skip


def corpus_clusters(corpus: np.ndarray, k: int = 50, seed: int = 0, limit: int = 50_000):
    """A k-means model of the corpus vectors (fitted on at most ``limit`` sampled documents), for
    :func:`cluster_entropy`."""
    from sklearn.cluster import KMeans

    sample = sample_rows(corpus, limit, seed)
    return KMeans(n_clusters=min(k, len(sample)), n_init=1, random_state=seed).fit(sample)


def cluster_entropy(vectors: np.ndarray, clusters) -> float | None:
    """Entropy of the histogram of the vectors' corpus clusters, normalised by log k: 1 when the negatives spread
    evenly over the corpus' clusters, 0 when they all fall in one.

    Args:
        vectors: negative vectors.
        clusters: a fitted k-means (:func:`corpus_clusters`).

    Example:
        >>> from sklearn.cluster import KMeans
        >>> km = KMeans(2, n_init=1, random_state=0).fit(np.array([[0.0], [10.0]]))
        >>> cluster_entropy(np.array([[0.1], [9.9]]), km)
        1.0
    """
    from scipy.stats import entropy

    if len(vectors) == 0 or clusters.n_clusters < 2:
        return None
    histogram = np.bincount(clusters.predict(np.asarray(vectors, dtype=clusters.cluster_centers_.dtype)),
                            minlength=clusters.n_clusters)  # fmt: skip
    return float(entropy(histogram) / np.log(clusters.n_clusters))


def feature_coverage(vectors: np.ndarray, threshold: float = 0.1) -> dict[str, float]:
    """The design source's feature-space coverage: mean per-dimension variance, the share of entries with
    |x| > threshold (``coverage``) and the number of dimensions above it in over half the vectors
    (``effective_dimensions``).

    Example:
        >>> feature_coverage(np.array([[0.5, 0.0], [0.5, 0.0]]))["effective_dimensions"]
        1
    """
    active = np.abs(vectors) > threshold
    return {"variance": float(vectors.var(axis=0).mean()), "coverage": float(active.mean()),
            "effective_dimensions": int((active.mean(axis=0) > 0.5).sum())}  # fmt: skip


def value_entropy(vectors: np.ndarray, bins: int = 50) -> float:
    """The design source's feature entropy: entropy of a ``bins``-bin histogram of all vector entries, divided by
    log(bins) (1: values spread evenly over their range).

    Example:
        >>> value_entropy(np.array([[0.0, 1.0]]), bins=2)
        1.0
    """
    from scipy.stats import entropy

    histogram, _ = np.histogram(np.asarray(vectors).ravel(), bins=bins)
    return float(entropy(histogram) / np.log(bins))

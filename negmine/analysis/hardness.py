"""Hardness of negatives: how close each negative's score comes to its positive's.

Every function takes scores from one encoder (the fixed reference model by default, so runs compare) and returns
per-negative arrays; :func:`summarize` turns an array into the mean / median / quantiles a report shows.

References:
    Moreira et al., 2024, "NV-Retriever: Improving text embedding models with effective hard-negative mining"
    (the relative score s(q,n) / s(q,p)); Zhou et al., 2022, "SimANS: Simple Ambiguous Negatives Sampling" (the
    band s(q,n) - s(q,p) = b); Oord et al., 2018, "Representation Learning with Contrastive Predictive Coding"
    (InfoNCE, whose gradient on a negative's logit is its softmax share).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-6


def summarize(values: np.ndarray, prefix: str) -> dict[str, float]:
    """Mean, standard deviation, median, 10th and 90th percentile, min and max of ``values`` as flat keys.

    Args:
        values: a 1-D array (NaNs are left out).
        prefix: the key prefix, e.g. ``"hardness.margin"``.

    Returns:
        ``{prefix + ".mean": ..., prefix + ".median": ...}``; empty when nothing is left.

    Example:
        >>> summarize(np.array([1.0, 2.0, 3.0]), "x")["x.median"]
        2.0
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return {}
    q10, q50, q90 = np.quantile(values, [0.1, 0.5, 0.9])
    return {f"{prefix}.mean": float(values.mean()), f"{prefix}.std": float(values.std()),
            f"{prefix}.median": float(q50), f"{prefix}.q10": float(q10), f"{prefix}.q90": float(q90),
            f"{prefix}.min": float(values.min()), f"{prefix}.max": float(values.max())}  # fmt: skip


def score_hardness(positive_scores: np.ndarray, negative_scores: np.ndarray, band: float = -0.05) -> dict:
    """Per-negative hardness from the scores of (anchor, positive, negative) triplets.

    Args:
        positive_scores: s(q, p) of each triplet's positive.
        negative_scores: s(q, n) of each triplet's negative.
        band: SimANS's b, the most informative s(q,n) - s(q,p) (negative: a little below the positive).

    Returns:
        Arrays keyed ``score`` (s(q,n)), ``margin`` (s(q,p) - s(q,n)), ``relative`` (s(q,n) / s(q,p), NV-Retriever),
        ``inversion`` (1.0 where s(q,n) >= s(q,p)), ``simans_distance`` (|s(q,n) - s(q,p) - b|) and the framework's
        ``score_gap_hardness`` (1 / (|s(q,p) - s(q,n)| + eps)).

    Example:
        >>> h = score_hardness(np.array([0.8, 0.5]), np.array([0.6, 0.5]))
        >>> h["margin"].round(2).tolist(), h["inversion"].tolist()
        ([0.2, 0.0], [0.0, 1.0])
    """
    pos = np.asarray(positive_scores, dtype=np.float64)
    neg = np.asarray(negative_scores, dtype=np.float64)
    margin = pos - neg
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(np.abs(pos) > EPS, neg / pos, np.nan)
    return {
        "score": neg,
        "margin": margin,
        "relative": relative,
        "inversion": (neg >= pos).astype(np.float64),
        "simans_distance": np.abs(neg - pos - band),
        "score_gap_hardness": 1.0 / (np.abs(margin) + EPS),
    }


def infonce_share(positive_score: np.ndarray, negative_scores: np.ndarray, temperature: float = 0.05) -> np.ndarray:
    """Each negative's share of the InfoNCE gradient: its softmax probability among the positive and the row's
    negatives at ``temperature`` (the gradient of -log p(positive) on a negative's logit is that probability).

    Args:
        positive_score: ``(rows,)`` s(q, p).
        negative_scores: ``(rows, k)`` s(q, n) of each row's negatives (NaN for a missing one).
        temperature: the loss's temperature (MultipleNegativesRankingLoss's scale 20 is 0.05).

    Returns:
        ``(rows, k)`` probabilities (NaN where the negative is missing).

    Example:
        >>> infonce_share(np.array([0.0]), np.array([[0.0, 0.0]]), temperature=1.0).round(3).tolist()
        [[0.333, 0.333]]
    """
    from scipy.special import softmax

    logits = np.concatenate([np.asarray(positive_score)[:, None], np.asarray(negative_scores)], axis=1) / temperature
    missing = np.isnan(logits)
    probabilities = softmax(np.where(missing, -np.inf, logits), axis=1)
    return np.where(missing[:, 1:], np.nan, probabilities[:, 1:])


def corpus_rank(anchors: np.ndarray, anchor_of: np.ndarray, negative_scores: np.ndarray, corpus: np.ndarray,
                block: int = 512) -> np.ndarray:  # fmt: skip
    """The rank each negative would take in its anchor's ranking of the whole corpus: 1 + the number of corpus
    documents the anchor scores strictly above it (a generated negative, which is no corpus document, gets the
    rank it would take if it were one).

    Each anchor's corpus scores are computed and sorted once, then every negative of that anchor is placed by a
    binary search: the cost is anchors x corpus, not negatives x corpus.

    Args:
        anchors: ``(a, d)`` anchor vectors.
        anchor_of: ``(n,)`` the anchor index of each negative.
        negative_scores: ``(n,)`` s(q, n).
        corpus: ``(m, d)`` corpus vectors.
        block: anchors scored at a time (memory is ``block * m`` floats).

    Returns:
        ``(n,)`` integer ranks, 1 the top.

    Example:
        >>> corpus_rank(np.array([[1.0, 0.0]]), np.array([0]), np.array([0.5]),
        ...             np.array([[1.0, 0.0], [0.0, 1.0]])).tolist()
        [2]
    """
    anchor_of = np.asarray(anchor_of)
    ranks = np.empty(len(anchor_of), dtype=np.int64)
    order = np.argsort(anchor_of, kind="stable")
    bounds = np.searchsorted(anchor_of[order], np.arange(len(anchors) + 1))
    for start in range(0, len(anchors), block):
        scores = np.sort(anchors[start : start + block] @ corpus.T, axis=1)
        for row in range(scores.shape[0]):
            members = order[bounds[start + row] : bounds[start + row + 1]]
            if members.size:
                above = np.searchsorted(scores[row], negative_scores[members] + 1e-6, side="right")
                ranks[members] = 1 + scores.shape[1] - above
    return ranks


def feature_distance(positives: np.ndarray, negatives: np.ndarray) -> dict:
    """The framework's feature-distance hardness of each triplet: L2 distance and cosine similarity between the
    positive's and the negative's vectors, and 1 / (L2 + eps).

    Example:
        >>> feature_distance(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))["cosine"].tolist()
        [0.0]
    """
    l2 = np.linalg.norm(positives - negatives, axis=1)
    norms = np.linalg.norm(positives, axis=1) * np.linalg.norm(negatives, axis=1)
    cosine = np.einsum("ij,ij->i", positives, negatives) / np.maximum(norms, EPS)
    return {"l2": l2, "cosine": cosine, "inverse_l2": 1.0 / (l2 + EPS)}

"""Validity of negatives: how far their distribution lies from the corpus' and the positives'.

References:
    Heusel et al., 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium" (the
    Fréchet distance of FID); Gretton et al., 2012, "A Kernel Two-Sample Test" (JMLR; MMD).
"""

from __future__ import annotations

import numpy as np

from negmine.analysis.diversity import sample_rows, upper_pairs


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to two sets of vectors: ||mu_a - mu_b||^2 +
    Tr(S_a + S_b - 2 (S_a S_b)^(1/2)).

    Example:
        >>> round(frechet_distance(np.array([[0.0], [2.0]]), np.array([[1.0], [3.0]])), 6)
        1.0
    """
    from scipy.linalg import eigh

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False, bias=True)), np.atleast_2d(np.cov(b, rowvar=False, bias=True))
    # Tr (S_a S_b)^(1/2) = sum of the square roots of the eigenvalues of S_a^(1/2) S_b S_a^(1/2) (symmetric, PSD):
    # two symmetric eigen-decompositions instead of a general matrix square root (scipy's sqrtm is far slower at d=384)
    values, vectors = eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    trace_root = np.sqrt(np.clip(eigh(root_a @ cov_b @ root_a, eigvals_only=True), 0, None)).sum()
    value = float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)
    return max(value, 0.0)


def mmd_rbf(a: np.ndarray, b: np.ndarray, gamma: float | None = None, limit: int = 2000, seed: int = 0) -> dict:
    """The (biased) squared maximum mean discrepancy with an RBF kernel exp(-gamma ||x - y||^2), on at most
    ``limit`` sampled rows a side; ``gamma`` defaults to 1 / the median squared distance within a sample of
    ``limit`` pooled rows.

    Returns:
        ``{"mmd2": ..., "gamma": ..., "sampled": ...}``.

    Example:
        >>> mmd_rbf(np.array([[0.0], [1.0]]), np.array([[0.0], [1.0]]))["mmd2"]
        0.0
    """
    from sklearn.metrics.pairwise import rbf_kernel

    a, b = sample_rows(a, limit, seed), sample_rows(b, limit, seed + 1)
    if gamma is None:
        median = np.median(upper_pairs(sample_rows(np.concatenate([a, b]), limit, seed), "sqeuclidean"))
        gamma = 1.0 / median if median > 0 else 1.0
    value = rbf_kernel(a, a, gamma=gamma).mean() + rbf_kernel(b, b, gamma=gamma).mean()
    value -= 2 * rbf_kernel(a, b, gamma=gamma).mean()
    return {"mmd2": max(float(value), 0.0), "gamma": float(gamma), "sampled": int(min(len(a), len(b)))}


def score_gap(positive_scores: np.ndarray, negative_scores: np.ndarray, bins: int = 50) -> dict[str, float]:
    """How the negatives' score distribution differs from the positives': the 1-D Wasserstein distance, the
    Kolmogorov-Smirnov statistic and p-value, the design source's KL divergence between ``bins``-bin histograms
    (positive to negative, add-one smoothed) and the gap of the means.

    Example:
        >>> gap = score_gap(np.array([0.8, 0.9]), np.array([0.3, 0.4]))
        >>> round(gap["wasserstein"], 6), round(gap["mean_gap"], 6), gap["ks"]
        (0.5, 0.5, 1.0)
    """
    from scipy.stats import entropy, ks_2samp, wasserstein_distance

    pos = np.asarray(positive_scores, dtype=np.float64)
    neg = np.asarray(negative_scores, dtype=np.float64)
    pos, neg = pos[~np.isnan(pos)], neg[~np.isnan(neg)]
    if pos.size == 0 or neg.size == 0:
        return {}
    edges = np.histogram_bin_edges(np.concatenate([pos, neg]), bins=bins)
    p_hist = np.histogram(pos, bins=edges)[0] + 1.0
    n_hist = np.histogram(neg, bins=edges)[0] + 1.0
    ks = ks_2samp(pos, neg)
    return {"wasserstein": float(wasserstein_distance(pos, neg)), "ks": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue), "kl": float(entropy(p_hist, n_hist)),
            "mean_gap": float(pos.mean() - neg.mean())}  # fmt: skip

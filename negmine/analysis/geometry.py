"""The geometry of a model's embeddings: alignment and uniformity of its positives, and how similar two models'
embeddings of the same texts are.

References:
    Wang & Isola, 2020, "Understanding Contrastive Representation Learning through Alignment and Uniformity on
    the Hypersphere" (ICML); Kornblith et al., 2019, "Similarity of Neural Network Representations Revisited"
    (ICML; linear CKA).
"""

from __future__ import annotations

import numpy as np


def alignment(anchors: np.ndarray, positives: np.ndarray, alpha: float = 2.0) -> float:
    """Wang & Isola's alignment: E ||f(q) - f(p)||^alpha over (anchor, positive) pairs; lower is better aligned.

    Example:
        >>> alignment(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
        2.0000000000000004
    """
    return float((np.linalg.norm(anchors - positives, axis=1) ** alpha).mean())


def linear_cka(a: np.ndarray, b: np.ndarray) -> float:
    """Linear centred kernel alignment between two representations of the same n texts (the dimensions may
    differ): ||B^T A||_F^2 / (||A^T A||_F ||B^T B||_F) over centred columns; 1 for representations equal up to a
    rotation and scale.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(20, 3))
        >>> round(linear_cka(x, 2 * x @ np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]), 6)
        1.0
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a - a.mean(0)
    b = b - b.mean(0)
    cross = np.linalg.norm(b.T @ a) ** 2
    return float(cross / (np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b)))

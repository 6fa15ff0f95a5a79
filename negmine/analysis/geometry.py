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


def model_geometry(claims: np.ndarray, documents: np.ndarray, reference: np.ndarray | None = None,
                   limit: int = 2000, seed: int = 0) -> dict:  # fmt: skip
    """One model's geometry on (claim, relevant document) pairs: alignment of the pairs, uniformity of all the
    embeddings (at most ``limit`` sampled), and linear CKA with a reference model's embeddings of the same texts.

    Args:
        claims, documents: the model's embeddings of the pairs' two sides, row i of each a pair.
        reference: the reference model's embeddings of the claims then the documents (optional).
        limit, seed: the uniformity sample.

    Returns:
        ``{"geometry.alignment", "geometry.uniformity"}`` and, with ``reference``, ``"geometry.cka_reference"``.

    Example:
        >>> x = np.eye(2)
        >>> model_geometry(x, x, reference=np.concatenate([x, x]))["geometry.cka_reference"]
        1.0
    """
    from negmine.analysis.diversity import uniformity

    both = np.concatenate([claims, documents])
    out = {"geometry.alignment": alignment(claims, documents),
           "geometry.uniformity": uniformity(both, limit=limit, seed=seed)}  # fmt: skip
    if reference is not None:
        out["geometry.cka_reference"] = linear_cka(reference, both)
    return out

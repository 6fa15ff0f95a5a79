"""Estimates of how many negatives are in fact relevant (false negatives), from three independent signals.

- **sister evidence**: the negative is cited by another claim that shares a cited document with the anchor
  (two claims about the same finding usually share their evidence);
- **inversion**: the reference model scores the negative at or above the anchor's positive;
- **judge**: a stronger model (a bi-encoder or a cross-encoder, optional) scores it at or above the positive.

References:
    Qu et al., 2021, "RocketQA" (denoised hard negatives with a cross-encoder judge); Moreira et al., 2024,
    "NV-Retriever" (positive-aware false-negative removal); Wadden et al., 2020, "Fact or Fiction: Verifying
    Scientific Claims" (SciFact's evidence sets).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def sister_documents(qrels: dict[str, Iterable[str]]) -> dict[str, set[str]]:
    """For each query, the documents cited by the other queries that share a cited document with it (its own
    cited documents left out).

    Args:
        qrels: query id -> its relevant document ids.

    Returns:
        query id -> set of sister-evidence document ids.

    Example:
        >>> sister_documents({"q1": {"a"}, "q2": {"a", "b"}, "q3": {"c"}})["q1"]
        {'b'}
    """
    relevant = {q: set(docs) for q, docs in qrels.items()}
    citing: dict[str, set[str]] = {}
    for query, docs in relevant.items():
        for doc in docs:
            citing.setdefault(doc, set()).add(query)
    sisters = {}
    for query, docs in relevant.items():
        others = {other for doc in docs for other in citing[doc]} - {query}
        sisters[query] = {doc for other in others for doc in relevant[other]} - docs
    return sisters


def sister_flags(query_ids: list[str], doc_ids: list[str], sisters: dict[str, set[str]]) -> np.ndarray:
    """1.0 where the negative document is sister evidence of its anchor.

    Example:
        >>> sister_flags(["q1", "q1"], ["b", "z"], {"q1": {"b"}}).tolist()
        [1.0, 0.0]
    """
    return np.array([float(doc in sisters.get(q, ())) for q, doc in zip(query_ids, doc_ids, strict=True)])


def judge_scores(judge, anchors: list[str], documents: list[str], batch_size: int = 32) -> np.ndarray:
    """A judge's score of each (anchor, document) pair: a ``CrossEncoder``'s prediction, or a
    ``SentenceTransformer``'s cosine similarity.

    Example:
        >>> judge_scores(CrossEncoder("cross-encoder/ms-marco-MiniLM-L6-v2"), ["q"], ["d"])  # doctest: +SKIP
    """
    from sentence_transformers import CrossEncoder

    if isinstance(judge, CrossEncoder):
        return np.asarray(judge.predict(list(zip(anchors, documents, strict=True)), batch_size=batch_size,
                                        show_progress_bar=False), dtype=np.float64)  # fmt: skip
    q = judge.encode_query(anchors, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    d = judge.encode_document(documents, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    return np.einsum("ij,ij->i", q, d).astype(np.float64)


def load_judge(name: str):
    """A judge model by name or folder: a cross-encoder when its config names a sequence-classification head,
    else a sentence-transformers bi-encoder."""
    import json
    from pathlib import Path

    from negmine.models import load_model, resolve_model

    resolved = resolve_model(name)
    config = Path(resolved) / "config.json"
    architectures = json.loads(config.read_text()).get("architectures", []) if config.is_file() else []
    if any(arch.endswith("ForSequenceClassification") for arch in architectures):
        from sentence_transformers import CrossEncoder

        return CrossEncoder(resolved)
    return load_model(name)


def judge_flags(judge, nset) -> np.ndarray:
    """1.0 per distinct negative of a :class:`~negmine.analysis.negatives.NegativeSet` the judge scores at or above
    the best of its anchor's positives."""
    example, anchor, positive, negative = nset.triplets()
    pairs = sorted(set(zip(anchor.tolist(), positive.tolist(), strict=True)))
    pos = judge_scores(judge, [nset.anchors[a] for a, _ in pairs], [nset.positives[p] for _, p in pairs])
    best = np.full(len(nset.anchors), -np.inf)
    for (a, _), score in zip(pairs, pos, strict=True):
        best[a] = max(best[a], score)
    neg = judge_scores(judge, [nset.anchors[a] for a in nset.negative_anchor], nset.negatives)
    return (neg >= best[np.asarray(nset.negative_anchor)]).astype(np.float64)

"""Static hard-negative mining: candidates from one or more searchers, known positives excluded, false negatives
filtered, a rank window, then sampling; deterministic for a seed.

The parameter names and their meaning follow ``sentence_transformers.util.mine_hard_negatives``: each searcher
returns ``range_max`` + (most positives of a query) candidates; positives and filtered candidates are dropped;
the first ``range_min`` survivors are skipped and the next ones up to ``range_max`` form the window. The candidates
of several searchers (dense and lexical) are merged without duplicates and ranked by the dense similarity, so
``range_min`` skips the same head whoever found it; a negative found by both is tagged ``dense+lexical``. Every
score the filters and samplers see is the dense model's similarity.

References:
    Karpukhin et al., "Dense Passage Retrieval for Open-Domain Question Answering", EMNLP 2020 (BM25 negatives);
    Xiong et al., "Approximate Nearest Neighbor Negative Contrastive Learning", ICLR 2021 (dense negatives);
    Moreira et al., "NV-Retriever", 2024 (positive-aware false-negative filtering).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from tqdm.auto import tqdm

from negmine.mining.filters import false_negative_filter
from negmine.mining.sampling import reuse_weights, sample_negatives
from negmine.search.results import SearchResults


class MiningParams(BaseModel):
    """What the static miner does; the names are those of ``mine_hard_negatives`` where the concept is the same.

    Example:
        >>> MiningParams(range_min=5, range_max=50, sampling_strategy="random").num_negatives
        3
    """

    model_config = ConfigDict(extra="forbid")

    range_min: int = Field(10, ge=0, description="Survivors skipped at the top of each searcher's ranking "
                           "(build-pairs on pair data: 0 unless given).")
    range_max: int = Field(100, ge=1, description="Rank up to which survivors are considered.")
    absolute_margin: float | None = Field(None, description="Keep s < p - margin (p: lowest positive score).")
    relative_margin: float | None = Field(0.05, ge=0, description="Keep s <= p - |p| * margin.")
    max_score: float | None = None
    min_score: float | None = None
    sampling_strategy: Literal["top", "random", "semi-hard", "simans"] = "top"
    num_negatives: int = Field(3, ge=1)
    semi_hard_margin: float = Field(0.1, gt=0, description="Width of the semi-hard band below the positive.")
    simans_a: float = Field(50.0, gt=0, description="SimANS sharpness on the cosine scale.")
    simans_b: float = Field(-0.05, description="SimANS offset: the preferred s - p.")
    reuse_bias: float = Field(0.0, description="random sampling: a document earlier anchors took t times weighs "
                              "(1 + t)^bias (> 0 fewer distinct negatives, < 0 more; same band, so same hardness).")
    seed: int = 42

    @model_validator(mode="after")
    def _window(self) -> MiningParams:
        if self.reuse_bias and self.sampling_strategy != "random":
            raise ValueError("reuse_bias needs sampling_strategy: random")
        if self.range_min >= self.range_max:
            raise ValueError(f"range_min ({self.range_min}) must be smaller than range_max ({self.range_max})")
        if self.num_negatives > self.range_max - self.range_min:
            raise ValueError(
                f"num_negatives ({self.num_negatives}) exceeds the window range_max - range_min "
                f"({self.range_max - self.range_min})"
            )
        return self


@dataclass
class MinedNegatives:
    """The negatives of each query, padded to ``num_negatives`` (index -1, score NaN, source '' where short).

    Attributes:
        indices: ``(n_queries, num_negatives)`` document indices, best first.
        scores: their dense similarity to the query.
        sources: which searcher(s) proposed each (``dense``, ``lexical``, ``dense+lexical`` ...).
        positive_scores: ``(n_queries,)`` each query's lowest positive score (NaN without positives).
        report: candidates per searcher, what each filter removed, queries left with too few negatives.
    """

    indices: np.ndarray
    scores: np.ndarray
    sources: np.ndarray
    positive_scores: np.ndarray
    report: dict = field(default_factory=dict)


def positive_matrix(positives: Sequence[Sequence[int]]) -> np.ndarray:
    """Positives as a ``(n_queries, max_positives)`` array padded with -2 (never a document index)."""
    width = max((len(p) for p in positives), default=0) or 1
    matrix = np.full((len(positives), width), -2, dtype=np.int64)
    for row, docs in enumerate(positives):
        matrix[row, : len(docs)] = list(docs)
    return matrix


def pair_scores(queries: np.ndarray, docs: np.ndarray, indices: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """``scores[i, j] = queries[i] . docs[indices[i, j]]`` in query chunks (NaN where ``indices`` < 0)."""
    scores = np.full(indices.shape, np.nan, dtype=np.float32)
    for start in range(0, len(indices), chunk):
        idx = indices[start : start + chunk]
        gathered = docs[np.clip(idx, 0, None)]
        block = np.matmul(gathered, queries[start : start + chunk, :, None])[:, :, 0]
        scores[start : start + chunk] = np.where(idx >= 0, block, np.nan)
    return scores


def positive_cosine(doc_embeddings: np.ndarray, indices: np.ndarray, positives: np.ndarray,
                    chunk: int = 256) -> np.ndarray:  # fmt: skip
    """``(n_queries, m)``: each candidate's highest cosine to one of its query's positives (-inf where none).

    Example:
        >>> docs = np.eye(3, dtype="float32")
        >>> positive_cosine(docs, np.array([[1, 2]]), np.array([[1, -2]])).tolist()
        [[1.0, 0.0]]
    """
    out = np.full(indices.shape, -np.inf, dtype=np.float32)
    for start in range(0, len(indices), chunk):
        idx, pos = indices[start : start + chunk], positives[start : start + chunk]
        cand = doc_embeddings[np.clip(idx, 0, None)]
        posv = doc_embeddings[np.clip(pos, 0, None)]
        sims = np.matmul(cand, np.transpose(posv, (0, 2, 1)))
        sims = np.where((pos >= 0)[:, None, :], sims, -np.inf).max(axis=2)
        out[start : start + chunk] = np.where(idx >= 0, sims, -np.inf)
    return out


def merge_candidates(
    query_embeddings: np.ndarray,
    doc_embeddings: np.ndarray,
    candidates: dict[str, SearchResults],
    rescore: Sequence[str] = (),
    keep_order: Sequence[str] = (),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """One candidate list per query from one or more searchers.

    A single searcher keeps its own ranking when it is in ``keep_order`` (a lexical searcher ranks by BM25) or is
    not rescored; a rescored one (an approximate index) is re-ranked by the exact dense score. Several searchers
    are merged without duplicates and ranked by the dense score, so ``range_min`` skips the same head whichever
    searcher found it.

    Returns:
        ``(indices, scores, source_bits, names)``: ``(n_queries, n)`` document indices (-1: none), dense scores, a
        bit mask per candidate telling which of ``names`` proposed it, and the searcher names.
    """
    names = list(candidates)
    blocks_idx, blocks_scores, blocks_bits = [], [], []
    for bit, name in enumerate(names):
        scores, indices = candidates[name]
        indices = np.asarray(indices, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float32)
        if name in rescore:
            scores = pair_scores(query_embeddings, doc_embeddings, indices)
        blocks_idx.append(indices)
        blocks_scores.append(np.where(indices >= 0, scores, np.nan))
        blocks_bits.append(np.full(indices.shape, 1 << bit, dtype=np.int64))
    indices, scores, bits = (np.concatenate(b, axis=1) for b in (blocks_idx, blocks_scores, blocks_bits))
    if len(names) > 1:  # merge duplicates: the first copy collects every searcher's bit
        order = np.argsort(indices, axis=1, kind="stable")
        indices, scores, bits = (np.take_along_axis(a, order, 1) for a in (indices, scores, bits))
        for _ in range(len(names) - 1):
            same = (indices[:, 1:] == indices[:, :-1]) & (indices[:, 1:] >= 0)
            bits[:, :-1] |= np.where(same, bits[:, 1:], 0)
            indices[:, 1:] = np.where(same, -1, indices[:, 1:])
    if len(names) > 1 or (names[0] in rescore and names[0] not in keep_order):
        key = np.where(indices >= 0, -np.nan_to_num(scores, nan=np.inf), np.inf)
        order = np.lexsort((indices, key), axis=-1)
        indices, scores, bits = (np.take_along_axis(a, order, 1) for a in (indices, scores, bits))
    return indices, scores, bits, names


def mine_negatives(
    query_embeddings: np.ndarray,
    doc_embeddings: np.ndarray,
    positives: Sequence[Sequence[int]],
    candidates: dict[str, SearchResults],
    params: MiningParams | None = None,
    rescore: Sequence[str] = (),
    keep_order: Sequence[str] = ("lexical",),
    excluded: np.ndarray | None = None,
    show_progress_bar: bool = False,
    exclude: Mapping[str, Sequence[Sequence[int]]] | None = None,
    exclude_positives: bool = True,
    score_fn: Callable[[np.ndarray], np.ndarray] | None = None,
    duplicate_cosine: float | None = None,
) -> MinedNegatives:
    """Choose negatives for each query from the candidates of one or more searchers.

    Args:
        query_embeddings: ``(n_queries, dim)`` normalised query embeddings.
        doc_embeddings: ``(n_docs, dim)`` normalised document embeddings.
        positives: the known positive document indices of each query (all are excluded).
        candidates: searcher name -> its ``SearchResults`` for these queries, each with at least
            ``range_max + max positives`` columns, rows in that searcher's rank order (see :func:`merge_candidates`).
        params: :class:`MiningParams` (defaults: window 10..100, relative margin 0.05, 3 negatives, top).
        rescore: searchers whose scores are not the dense similarity (BM25, approximate indexes): their candidates
            get exact dense scores before filtering.
        keep_order: searchers whose own ranking is kept when they are the only one (by default ``lexical``:
            the window counts BM25 ranks, not dense ones).
        excluded: a boolean mask over documents that must never be negatives (noise, retractions).
        show_progress_bar: a progress bar over queries.
        exclude: per-query documents that are never its negatives, by reason (``anchor_text``: the query's own
            text in the corpus; ``near_duplicate``: a positive's text up to case and whitespace), each counted
            in the report under its reason.
        exclude_positives: False keeps the positives among the candidates (sentence-transformers'
            ``include_positives``: a full ranking for reranking evaluation); they still set the margins.
        score_fn: rescores an ``(n_queries, m)`` matrix of document indices (-1: none) into an ``(n_queries, m)``
            score matrix, e.g. a cross-encoder; candidates and positives are then ranked and filtered by it.
        duplicate_cosine: a candidate whose dense cosine to one of the query's positives reaches this is a copy of
            the positive, not a negative (counted as ``duplicate_cosine``).

    Returns:
        :class:`MinedNegatives`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> docs = rng.standard_normal((50, 8)).astype("float32"); docs /= np.linalg.norm(docs, axis=1, keepdims=True)
        >>> from negmine.search.faiss import FaissSearcher
        >>> found = FaissSearcher(docs, use_gpu=False).search(docs[:3], k=20)
        >>> mined = mine_negatives(docs[:3], docs, [[0], [1], [2]], {"dense": found},
        ...                        MiningParams(range_min=0, range_max=10, relative_margin=None))
        >>> bool((mined.indices != np.array([[0], [1], [2]])).all())
        True
    """
    params = params or MiningParams()
    n_queries = len(query_embeddings)
    pos = positive_matrix(positives)
    has_positive = (pos >= 0).any(axis=1)
    positive_scores = pair_scores(query_embeddings, doc_embeddings, pos) if score_fn is None else score_fn(pos)
    with np.errstate(invalid="ignore"):
        lowest_positive = np.where(
            has_positive, np.nanmin(np.where(pos >= 0, positive_scores, np.inf), axis=1), np.nan
        )

    proposed = {name: int((np.asarray(c.indices) >= 0).sum()) for name, c in candidates.items()}
    indices, scores, bits, names = merge_candidates(query_embeddings, doc_embeddings, candidates, rescore, keep_order)
    if score_fn is not None:  # a cross-encoder's scores order and filter the candidates from here on
        scores = np.where(indices >= 0, score_fn(indices), np.nan).astype(np.float32)
        order = np.lexsort((indices, np.where(indices >= 0, -np.nan_to_num(scores, nan=np.inf), np.inf)), axis=-1)
        indices, scores, bits = (np.take_along_axis(a, order, 1) for a in (indices, scores, bits))
    valid = indices >= 0
    is_positive = valid & (indices[:, :, None] == pos[:, None, :]).any(axis=2)
    is_excluded = valid & excluded[np.clip(indices, 0, None)] if excluded is not None else np.zeros_like(valid)
    alive = valid & ~is_excluded & (~is_positive if exclude_positives else True)
    removed_by: dict[str, int] = {}
    for reason, docs in (exclude or {}).items():
        other = positive_matrix(docs)
        hit = alive & (indices[:, :, None] == other[:, None, :]).any(axis=2)
        removed_by[reason] = int(hit.sum())
        alive &= ~hit
    if duplicate_cosine is not None:
        hit = alive & (positive_cosine(doc_embeddings, indices, pos) >= duplicate_cosine)
        removed_by["duplicate_cosine"] = int(hit.sum())
        alive &= ~hit
    keep, removed = false_negative_filter(
        scores,
        lowest_positive,
        absolute_margin=params.absolute_margin,
        relative_margin=params.relative_margin,
        max_score=params.max_score,
        min_score=params.min_score,
        alive=alive,
    )
    rank = np.cumsum(keep, axis=1) - 1
    window = keep & (rank >= params.range_min) & (rank < params.range_max)
    labels = np.array(["+".join(n for b, n in enumerate(names) if code >> b & 1) for code in range(1 << len(names))],
                      dtype=object)  # fmt: skip
    sources = labels[bits]

    k = params.num_negatives
    out_idx = np.full((n_queries, k), -1, dtype=np.int64)
    out_scores = np.full((n_queries, k), np.nan, dtype=np.float32)
    out_sources = np.full((n_queries, k), "", dtype=object)
    short = 0
    taken = np.zeros(len(doc_embeddings), dtype=np.int64)  # how many anchors took each document (reuse_bias)
    for q in tqdm(range(n_queries), desc="Sampling negatives", disable=not show_progress_bar):
        pool = np.flatnonzero(window[q])
        prior = reuse_weights(taken[indices[q, pool]], params.reuse_bias) if params.reuse_bias else None
        rng = None if params.sampling_strategy == "top" else np.random.default_rng([params.seed, q])
        chosen = pool[
            sample_negatives(
                scores[q, pool],
                k,
                params.sampling_strategy,
                rng,
                positive_score=lowest_positive[q],
                semi_hard_margin=params.semi_hard_margin,
                simans_a=params.simans_a,
                simans_b=params.simans_b,
                prior=prior,
            )
        ]
        taken[indices[q, chosen]] += 1
        out_idx[q, : len(chosen)] = indices[q, chosen]
        out_scores[q, : len(chosen)] = scores[q, chosen]
        out_sources[q, : len(chosen)] = sources[q, chosen]
        short += len(chosen) < k
    report = {
        "queries": n_queries,
        "proposed": proposed,
        "candidates": int(valid.sum()),
        "removed": {"positive": int(is_positive.sum()) if exclude_positives else 0,
                    "excluded": int(is_excluded.sum()), **removed_by, **removed},
        "survivors": int(keep.sum()),
        "in_window": int(window.sum()),
        "negatives": int((out_idx >= 0).sum()),
        "short_queries": int(short),
    }
    return MinedNegatives(out_idx, out_scores, out_sources, lowest_positive.astype(np.float32), report)

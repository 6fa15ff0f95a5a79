"""Retrieval metrics through sentence-transformers' ``InformationRetrievalEvaluator``, for dense models (with the
embedding cache) and for any ranking (BM25), so every number in negmine is computed the same way.

The keys are ``ndcg@10``, ``mrr@10``, ``recall@10``, ``recall@100``, ``map@100`` and ``n_queries``.
"""

from __future__ import annotations

import functools

from negmine.data.retrieval import RetrievalData
from negmine.errors import NegmineError

METRIC_KEYS = ("ndcg@10", "mrr@10", "recall@10", "recall@100", "map@100")
MAX_K = 100


@functools.cache
def _per_query_evaluator_class():
    """``InformationRetrievalEvaluator`` that also keeps each query's nDCG@10 of its last call
    (``last_per_query``: query id -> value, computed with the evaluator's own ``compute_dcg_at_k``), for paired
    statistics over queries."""
    from sentence_transformers.evaluation import InformationRetrievalEvaluator

    class PerQueryInformationRetrievalEvaluator(InformationRetrievalEvaluator):
        last_per_query: dict[str, float] | None = None

        def compute_metrics(self, queries_result_list):
            per_query = {}
            for query_id, hits in zip(self.queries_ids, queries_result_list, strict=True):
                relevant = self.relevant_docs[query_id]
                top = sorted(hits, key=lambda x: (-x["score"], x["corpus_id"]))[:10]  # the parent's order
                found = [1 if hit["corpus_id"] in relevant else 0 for hit in top]
                per_query[query_id] = self.compute_dcg_at_k(found, 10) / self.compute_dcg_at_k([1] * len(relevant), 10)
            self.last_per_query = per_query
            return super().compute_metrics(queries_result_list)

    return PerQueryInformationRetrievalEvaluator


@functools.cache
def _memory_evaluator_class():
    """``InformationRetrievalEvaluator`` whose corpus goes through an :class:`negmine.encode.EmbeddingMemory`."""
    import torch

    from negmine.encode import Encoder

    class MemoryInformationRetrievalEvaluator(_per_query_evaluator_class()):
        memory = None

        def embed_inputs(self, model, sentences, encode_fn_name=None, prompt_name=None, prompt=None, **kwargs):
            if encode_fn_name != "document" or prompt_name or prompt or self.truncate_dim:
                return super().embed_inputs(model, sentences, encode_fn_name, prompt_name, prompt, **kwargs)
            encoder = Encoder(model, batch_size=self.batch_size, show_progress_bar=self.show_progress_bar,
                              use_cache=False, memory=self.memory)  # fmt: skip
            return torch.from_numpy(encoder.encode(list(sentences), role="document")).to(model.device)

    return MemoryInformationRetrievalEvaluator


def make_evaluator(data: RetrievalData, name: str = "", batch_size: int = 64, show_progress_bar: bool = False,
                   memory=None):  # fmt: skip
    """An ``InformationRetrievalEvaluator`` for ``data`` that reports exactly the metrics of :data:`METRIC_KEYS`.

    Args:
        data: the split to evaluate on; queries without a relevant document are skipped.
        name: the evaluator's name (a prefix of its metric names during training).
        batch_size: query encoding batch size.
        show_progress_bar: progress bars.
        memory: an :class:`negmine.encode.EmbeddingMemory` that the corpus vectors go through, to share them with a
            hard-negative refresh that sees the same weights (the trainer evaluates at the end of an epoch, the
            refresh runs at the start of the next).

    Returns:
        The evaluator, with cosine similarity as its score function.

    Example:
        >>> evaluator = make_evaluator(load_retrieval("scifact", "validation"), name="validation")  # doctest: +SKIP
        >>> trainer = SentenceTransformerTrainer(..., evaluator=evaluator)  # doctest: +SKIP
    """
    from sentence_transformers.util import cos_sim

    relevant = data.relevant_docs()
    if not relevant:
        raise NegmineError(f"split '{data.split}' of '{data.name}' has no relevance judgements to evaluate against")
    ids = list(data.corpus)
    evaluator_class = _per_query_evaluator_class() if memory is None else _memory_evaluator_class()
    evaluator = evaluator_class(
        queries={qid: text for qid, text in data.queries.items() if qid in relevant},
        corpus=dict(zip(ids, data.document_texts(ids), strict=True)),
        relevant_docs=relevant,
        mrr_at_k=[10],
        ndcg_at_k=[10],
        accuracy_at_k=[10],
        precision_recall_at_k=[10, 100],
        map_at_k=[100],
        batch_size=batch_size,
        show_progress_bar=show_progress_bar,
        name=name,
        write_csv=False,
        score_functions={"cosine": cos_sim},
        main_score_function="cosine",
    )
    if memory is not None:
        evaluator.memory = memory
    return evaluator


def _pick(scores: dict, n_queries: int) -> dict[str, float]:
    """The evaluator's nested ``{metric@k: {k: value}}`` as negmine's flat keys."""
    flat = {f"{name.split('@')[0]}@{k}": float(v) for name, values in scores.items() for k, v in values.items()}
    return {**{key: flat[key] for key in METRIC_KEYS}, "n_queries": n_queries}


def evaluate_rankings(data: RetrievalData, rankings: dict[str, list[tuple[str, float]]]) -> dict[str, float]:
    """Metrics of given rankings (query id -> [(document id, score), ...]), e.g. from BM25.

    Args:
        data: the split, for its relevance judgements.
        rankings: for each judged query, its retrieved documents with scores (any order: sorted by score).

    Returns:
        ``{ndcg@10, mrr@10, recall@10, recall@100, map@100, n_queries}``.

    Example:
        >>> evaluate_rankings(data, {"q1": [("d1", 2.0), ("d7", 1.0)]})["ndcg@10"]  # doctest: +SKIP
        1.0
    """
    evaluator = make_evaluator(data)
    results = [[{"corpus_id": d, "score": float(s)} for d, s in rankings.get(q, [])] for q in evaluator.queries_ids]
    return _pick(evaluator.compute_metrics(results), len(evaluator.queries_ids))


def evaluate_model(model, data: RetrievalData, encoder=None, batch_size: int = 64,
                   per_query: dict | None = None) -> dict[str, float]:  # fmt: skip
    """Metrics of a dense model; the corpus goes through ``encoder`` (and its cache) when one is given.

    Args:
        model: a ``SentenceTransformer``.
        data: the split.
        encoder: an :class:`negmine.encode.Encoder` around the same model, to reuse cached corpus embeddings.
        batch_size: query encoding batch size.
        per_query: a dict that receives each query's nDCG@10 (query id -> value), for paired tests over queries.

    Returns:
        ``{ndcg@10, mrr@10, recall@10, recall@100, map@100, n_queries}``.

    Example:
        >>> evaluate_model(load_model("all-MiniLM-L6-v2"), load_retrieval("scifact", "validation"))  # doctest: +SKIP
    """
    import torch

    evaluator = make_evaluator(data, batch_size=batch_size)
    corpus_embeddings = None
    if encoder is not None:
        vectors = encoder.encode(evaluator.corpus, role="document")
        corpus_embeddings = torch.from_numpy(vectors).to(model.device)
    scores = evaluator.compute_all_metrics(model, corpus_embeddings=corpus_embeddings)
    if per_query is not None:
        per_query.update(evaluator.last_per_query or {})
    return _pick(scores["cosine"], len(evaluator.queries_ids))


def evaluate_bm25(data: RetrievalData, **bm25_options) -> dict[str, float]:
    """Metrics of BM25 (bm25s, English stop words, Snowball stemmer, title + text) on a split.

    Example:
        >>> evaluate_bm25(load_retrieval("scifact", "validation"))["ndcg@10"]  # doctest: +SKIP
    """
    from negmine.search.bm25 import BM25Searcher

    ids = list(data.corpus)
    searcher = BM25Searcher(data.document_texts(ids), **bm25_options)
    query_ids = list(data.relevant_docs())
    scores, indices = searcher.search([data.queries[q] for q in query_ids], k=MAX_K)
    rankings = {
        q: [(ids[j], float(s)) for j, s in zip(row_idx, row_scores, strict=True) if s > 0]
        for q, row_idx, row_scores in zip(query_ids, indices.tolist(), scores.tolist(), strict=True)
    }
    return evaluate_rankings(data, rankings)

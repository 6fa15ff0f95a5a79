"""Metrics: nDCG@10 and the rest against hand-computed values, dense evaluation with and without the cache, BM25."""

from __future__ import annotations

import math

import pytest

from negmine.data import RetrievalData, load_retrieval
from negmine.encode import EmbeddingMemory, Encoder
from negmine.errors import NegmineError
from negmine.evaluation import METRIC_KEYS, evaluate_bm25, evaluate_model, evaluate_rankings, make_evaluator


def three_query_example():
    corpus = {f"d{i}": {"title": "", "text": f"doc {i}"} for i in range(1, 13)}
    queries = {"q1": "one", "q2": "two", "q3": "three"}
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}, "q3": {"d3": 1, "d4": 1}}
    rankings = {
        "q1": [("d1", 0.9), ("d5", 0.8), ("d6", 0.7)],  # relevant at rank 1
        "q2": [("d7", 0.9), ("d8", 0.8), ("d2", 0.7)],  # relevant at rank 3
        # d3 at rank 2; d4 at rank 12, outside the top 10 but inside the top 100
        "q3": [("d5", 1.0), ("d3", 0.95)] + [(f"d{i}", 0.9 - i / 100) for i in (6, 7, 8, 9, 10, 11, 12, 1)] + [
            ("d2", 0.5), ("d4", 0.4)],
    }  # fmt: skip
    return RetrievalData(corpus, queries, qrels, "toy", "test"), rankings


def test_metrics_match_hand_computation():
    data, rankings = three_query_example()
    metrics = evaluate_rankings(data, rankings)
    ndcg_q3 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert metrics["ndcg@10"] == pytest.approx((1 + 0.5 + ndcg_q3) / 3)  # 1/log2(4) = 0.5 for rank 3
    assert metrics["ndcg@10"] == pytest.approx(0.62895, abs=1e-5)
    assert metrics["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)
    assert metrics["recall@10"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert metrics["recall@100"] == pytest.approx(1.0)
    assert metrics["map@100"] == pytest.approx((1 + 1 / 3 + (1 / 2 + 2 / 12) / 2) / 3)
    assert metrics["n_queries"] == 3
    assert list(metrics) == [*METRIC_KEYS, "n_queries"]


def test_per_query_ndcg_is_hand_computed_and_averages_to_the_metric():
    """Each query's nDCG@10 (kept for paired tests over queries) by hand, and their mean is the reported one."""
    data, rankings = three_query_example()
    evaluator = make_evaluator(data)
    results = [[{"corpus_id": d, "score": s} for d, s in rankings[q]] for q in evaluator.queries_ids]
    mean = evaluator.compute_metrics(results)["ndcg@k"][10]
    ndcg_q3 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert evaluator.last_per_query == pytest.approx({"q1": 1.0, "q2": 0.5, "q3": ndcg_q3})
    assert sum(evaluator.last_per_query.values()) / 3 == pytest.approx(mean)


def test_queries_without_relevant_docs_are_skipped_and_empty_splits_refused():
    data, rankings = three_query_example()
    data.queries["q4"] = "no judgements"
    assert evaluate_rankings(data, rankings)["n_queries"] == 3
    empty = RetrievalData(data.corpus, {"q": "x"}, {}, "toy", "test")
    with pytest.raises(NegmineError, match="no relevance judgements"):
        evaluate_rankings(empty, {})


def test_dense_evaluation_with_cache_equals_without(tiny_model, scifact_dir, tmp_path):
    data = load_retrieval(scifact_dir, "train", validation_fraction=0)
    plain = evaluate_model(tiny_model, data)
    encoder = Encoder(tiny_model, cache_dir=tmp_path, show_progress_bar=False)
    cold = evaluate_model(tiny_model, data, encoder=encoder)
    warm = evaluate_model(tiny_model, data, encoder=encoder)
    assert encoder.last_encoded == 0
    for key in METRIC_KEYS:
        assert cold[key] == pytest.approx(plain[key], abs=1e-6)
        assert warm[key] == cold[key]
    assert cold["n_queries"] == 10


def test_evaluator_leaves_its_corpus_vectors_in_the_memory(tiny_model, scifact_dir):
    data = load_retrieval(scifact_dir, "train", validation_fraction=0)
    memory = EmbeddingMemory()
    evaluator = make_evaluator(data, name="validation", memory=memory)
    shared = evaluator(tiny_model)
    plain = make_evaluator(data, name="validation")(tiny_model)
    assert shared.keys() == plain.keys()
    for key, value in plain.items():
        assert shared[key] == pytest.approx(value, abs=1e-6)
    encoder = Encoder(tiny_model, use_cache=False, memory=memory, show_progress_bar=False)
    encoder.encode(data.document_texts(), role="document")
    assert encoder.last_encoded == 0


def test_bm25_finds_the_lexical_matches(beir_dir):
    from negmine.data import load_beir

    metrics = evaluate_bm25(load_beir(beir_dir, "train"))
    assert metrics["ndcg@10"] == pytest.approx(1.0)  # every tiny query shares words with its document
    assert metrics["n_queries"] == 4

"""The static miner: no mined negative is a known positive, no duplicates, the window and filters mean what they
mean in sentence-transformers (same negatives as ``mine_hard_negatives`` in top mode), and a seed fixes the output."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negmine.mining.static import MiningParams, mine_negatives
from negmine.search.faiss import FaissSearcher
from negmine.search.results import SearchResults


def unit(rows):
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def embedded():
    rng = np.random.default_rng(0)
    docs = unit(rng.standard_normal((300, 16)))
    queries = unit(docs[:40] + 0.3 * rng.standard_normal((40, 16)))
    return docs, queries


POSITIVE_LISTS = st.lists(st.lists(st.integers(0, 299), min_size=1, max_size=4, unique=True), min_size=40, max_size=40)


@given(positives=POSITIVE_LISTS, strategy=st.sampled_from(["top", "random", "semi-hard", "simans"]))
@settings(max_examples=25, deadline=None)
def test_no_negative_is_a_known_positive_or_a_duplicate(embedded, positives, strategy):
    docs, queries = embedded
    params = MiningParams(range_min=2, range_max=30, relative_margin=None, num_negatives=5, sampling_strategy=strategy,
                          semi_hard_margin=0.5)  # fmt: skip
    found = FaissSearcher(docs, use_gpu=False).search(queries, params.range_max + 4)
    mined = mine_negatives(queries, docs, positives, {"dense": found}, params)
    for row, known in zip(mined.indices, positives, strict=True):
        chosen = [d for d in row.tolist() if d >= 0]
        assert not set(chosen) & set(known)
        assert len(chosen) == len(set(chosen))


def test_window_filters_and_report(embedded):
    docs, queries = embedded
    positives = [[i] for i in range(40)]
    found = FaissSearcher(docs, use_gpu=False).search(queries, 21)
    params = MiningParams(range_min=3, range_max=20, relative_margin=0.05, num_negatives=4)
    mined = mine_negatives(queries, docs, positives, {"dense": found}, params)
    for q in range(40):
        ranked = [d for d in found.indices[q].tolist() if d != q]
        p = mined.positive_scores[q]
        survivors = [d for d in ranked if queries[q] @ docs[d] <= p - abs(p) * 0.05 + 1e-6]
        expected = survivors[3:7]
        assert mined.indices[q].tolist() == expected + [-1] * (4 - len(expected))
    report = mined.report
    assert report["candidates"] == report["proposed"]["dense"] == 40 * 21
    assert report["removed"]["positive"] == sum(q in found.indices[q] for q in range(40))
    assert mined.report["short_queries"] == sum(
        len(r) < 4 for r in [[d for d in row if d >= 0] for row in mined.indices.tolist()]
    )


def test_lexical_union_tags_sources_and_rescoring(embedded):
    docs, queries = embedded
    positives = [[i] for i in range(40)]
    params = MiningParams(range_min=0, range_max=10, relative_margin=None, num_negatives=6)
    dense = FaissSearcher(docs, use_gpu=False).search(queries, 11)
    rng = np.random.default_rng(1)
    lexical = SearchResults(np.zeros((40, 11), np.float32), rng.integers(0, 300, size=(40, 11)))
    mined = mine_negatives(queries, docs, positives, {"dense": dense, "lexical": lexical}, params, rescore=["lexical"])
    sources = set(mined.sources.ravel().tolist())
    assert sources <= {"dense", "lexical", "dense+lexical"} and "dense" in sources
    valid = mined.indices >= 0
    expected = np.einsum("qd,qkd->qk", queries, docs[np.clip(mined.indices, 0, None)])
    np.testing.assert_allclose(mined.scores[valid], expected[valid], atol=1e-5)  # rescored: dense similarity


def test_excluded_documents_are_never_negatives(embedded):
    docs, queries = embedded
    excluded = np.zeros(300, dtype=bool)
    excluded[::2] = True
    found = FaissSearcher(docs, use_gpu=False).search(queries, 40)
    params = MiningParams(range_min=0, range_max=39, relative_margin=None)
    mined = mine_negatives(queries, docs, [[i] for i in range(40)], {"dense": found}, params, excluded=excluded)
    assert not excluded[mined.indices[mined.indices >= 0]].any()
    assert mined.report["removed"]["excluded"] > 0


def test_seed_fixes_random_sampling(embedded):
    docs, queries = embedded
    found = FaissSearcher(docs, use_gpu=False).search(queries, 51)
    runs = [
        mine_negatives(
            queries,
            docs,
            [[i] for i in range(40)],
            {"dense": found},
            MiningParams(range_max=50, sampling_strategy="random", seed=seed),
        ).indices  # fmt: skip
        for seed in (1, 1, 2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert (runs[0] != runs[2]).any()


def test_params_validate_the_window():
    with pytest.raises(ValueError, match="range_min"):
        MiningParams(range_min=10, range_max=10)
    with pytest.raises(ValueError, match="num_negatives"):
        MiningParams(range_min=0, range_max=2, num_negatives=3)
    with pytest.raises(ValueError, match="extra"):
        MiningParams(range_mx=3)


def test_same_negatives_as_sentence_transformers_in_top_mode():
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    from negmine.toydata import synthetic_retrieval

    data = synthetic_retrieval(n_docs=400, n_queries=30, dim=32, vocab_size=300, seed=0)
    st_pairs = mine_hard_negatives(
        Dataset.from_dict({"anchor": data.queries, "positive": [data.documents[p[0]] for p in data.positives]}),
        data.model, corpus=data.documents, range_min=2, range_max=20, relative_margin=0.05, num_negatives=3,
        sampling_strategy="top", output_format="n-tuple", use_faiss=True, verbose=False,
    )  # fmt: skip
    docs = data.model.encode_document(data.documents, normalize_embeddings=True)
    queries = data.model.encode_query(data.queries, normalize_embeddings=True)
    found = FaissSearcher(docs, use_gpu=False).search(queries, 21)
    params = MiningParams(range_min=2, range_max=20, relative_margin=0.05, num_negatives=3)
    mined = mine_negatives(queries, docs, data.positives, {"dense": found}, params)
    by_anchor = {row["anchor"]: [row[f"negative_{i}"] for i in (1, 2, 3)] for row in st_pairs}
    ours = {q: [data.documents[d] for d in row] for q, row in zip(data.queries, mined.indices.tolist(), strict=True)}
    assert ours == by_anchor


def test_union_is_ranked_by_dense_score_so_range_min_skips_the_same_head(embedded):
    docs, queries = embedded
    positives = [[i] for i in range(40)]
    dense = FaissSearcher(docs, use_gpu=False).search(queries, 31)
    # a "lexical" searcher that proposes the dense head again, plus other documents
    rng = np.random.default_rng(2)
    proposed = np.concatenate([dense.indices[:, :5], rng.integers(0, 300, (40, 26))], axis=1)
    lexical = SearchResults(np.zeros((40, 31), np.float32), proposed)
    params = MiningParams(range_min=5, range_max=30, relative_margin=None, num_negatives=3)
    only_dense = mine_negatives(queries, docs, positives, {"dense": dense}, params)
    union = mine_negatives(queries, docs, positives, {"dense": dense, "lexical": lexical}, params, rescore=["lexical"])
    for q in range(40):
        head = [d for d in dense.indices[q].tolist() if d != q][:5]
        assert not set(union.indices[q].tolist()) & set(head)  # the skipped head does not come back via lexical
        # union negatives score at most the dense window's best
        assert union.scores[q, 0] <= only_dense.scores[q, 0] + 1e-6 or np.isnan(only_dense.scores[q, 0])
    assert union.report["proposed"] == {"dense": 40 * 31, "lexical": 40 * 31}
    assert union.report["candidates"] < 40 * 62  # duplicates merged


def test_reuse_bias_moves_diversity_not_hardness(embedded):
    """Experiment C's control: the same band sampled with a reuse bias gives fewer (bias > 0) or more (bias < 0)
    distinct negatives, while their mean score stays close to the unbiased draw's; no negative is a positive."""
    docs, queries = embedded
    found = FaissSearcher(docs, use_gpu=False).search(queries, 61)
    mined = {
        bias: mine_negatives(queries, docs, [[i] for i in range(40)], {"dense": found},
                             MiningParams(range_min=0, range_max=60, relative_margin=None, num_negatives=2,
                                          sampling_strategy="random", reuse_bias=bias, seed=3))
        for bias in (-8.0, 0.0, 8.0)
    }  # fmt: skip
    distinct = {bias: len(np.unique(m.indices[m.indices >= 0])) for bias, m in mined.items()}
    assert distinct[8.0] < distinct[0.0] <= distinct[-8.0] and distinct[8.0] < 0.7 * distinct[-8.0]
    for m in mined.values():
        assert not (m.indices == np.arange(40)[:, None]).any()
        assert abs(np.nanmean(m.scores) - np.nanmean(mined[0.0].scores)) < 0.1
    with pytest.raises(ValueError, match="reuse_bias needs sampling_strategy: random"):
        MiningParams(reuse_bias=1.0)

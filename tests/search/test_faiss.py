"""FAISS search against brute force: exact equals numpy, approximate indexes keep most of the true top-k."""

from __future__ import annotations

import numpy as np
import pytest

from negmine.errors import NegmineError
from negmine.search.faiss import FaissSearcher


def clustered(n_docs=4000, n_queries=200, dim=32, clusters=40, seed=0):
    """Seeded data with structure (as real embeddings have): points around cluster centres, unit length."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    docs = centres[rng.integers(clusters, size=n_docs)] + 0.3 * rng.standard_normal((n_docs, dim))
    queries = docs[rng.integers(n_docs, size=n_queries)] + 0.1 * rng.standard_normal((n_queries, dim))
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return docs.astype(np.float32), queries.astype(np.float32)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def test_exact_search_equals_brute_force():
    docs, queries = clustered()
    scores, indices = FaissSearcher(docs, use_gpu=False, batch_size=37).search(queries, k=10)
    brute = queries @ docs.T
    expected = np.argsort(-brute, axis=1, kind="stable")[:, :10]
    np.testing.assert_allclose(scores, np.take_along_axis(brute, expected, 1), atol=1e-5)
    assert recall(indices, expected) == 1.0
    assert np.all(np.diff(scores, axis=1) <= 1e-6)


@pytest.mark.parametrize(
    ("factory", "options", "minimum"),
    [("IVF32,Flat", {"nprobe": 8}, 0.9), ("HNSW32,Flat", {"ef_search": 64}, 0.9), ("IVF32,PQ16", {"nprobe": 8}, 0.5)],
)
def test_approximate_indexes_recall_the_exact_top_k(factory, options, minimum, capsys):
    docs, queries = clustered()
    _, truth = FaissSearcher(docs, use_gpu=False).search(queries, k=10)
    _, found = FaissSearcher(docs, factory, use_gpu=False, seed=0, **options).search(queries, k=10)
    value = recall(found, truth)
    with capsys.disabled():
        print(f"\n  recall@10 of {factory} {options} against exact search: {value:.3f}")
    assert value >= minimum


def test_ivf_is_deterministic_for_a_seed():
    docs, queries = clustered(n_docs=2000)
    first = FaissSearcher(docs, "IVF16,Flat", nprobe=2, use_gpu=False, seed=3).search(queries, 5)
    second = FaissSearcher(docs, "IVF16,Flat", nprobe=2, use_gpu=False, seed=3).search(queries, 5)
    np.testing.assert_array_equal(first.indices, second.indices)


def test_k_is_capped_and_errors_are_clear():
    docs, queries = clustered(n_docs=20, n_queries=3)
    assert FaissSearcher(docs, use_gpu=False).search(queries, k=50).indices.shape == (3, 20)
    with pytest.raises(NegmineError, match="not a valid FAISS factory string"):
        FaissSearcher(docs, "NoSuchIndex", use_gpu=False)
    with pytest.raises(NegmineError, match="nprobe does not apply"):
        FaissSearcher(docs, "HNSW8,Flat", nprobe=4, use_gpu=False)


def test_use_gpu_without_gpu_is_an_error():
    from negmine.search.faiss import gpu_count

    if gpu_count():
        pytest.skip("a GPU is present")
    docs, _ = clustered(n_docs=20, n_queries=1)
    with pytest.raises(NegmineError, match="sees no GPU"):
        FaissSearcher(docs, use_gpu=True)


@pytest.mark.skipif("not __import__('negmine.search.faiss', fromlist=['gpu_count']).gpu_count()")
def test_gpu_gives_the_cpu_results():
    docs, queries = clustered(n_docs=20000, n_queries=500, dim=64)
    cpu = FaissSearcher(docs, use_gpu=False).search(queries, k=100)
    gpu = FaissSearcher(docs, use_gpu=True).search(queries, k=100)
    np.testing.assert_allclose(gpu.scores, cpu.scores, atol=1e-4)
    assert recall(gpu.indices, cpu.indices) > 0.999  # ties aside

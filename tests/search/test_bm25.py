"""BM25 search returns (scores, indices), best first, with stemming and stop words."""

from __future__ import annotations

import numpy as np

from negmine.search import BM25Searcher

DOCS = ["Aspirin reduces heart attacks", "Evening caffeine delays sleep", "Bed nets prevent malaria deaths"]


def test_search_shapes_and_order():
    scores, indices = BM25Searcher(DOCS).search(["sleeping after caffeine", "the malaria"], k=2)
    assert indices.shape == scores.shape == (2, 2)
    assert indices[:, 0].tolist() == [1, 2]  # "sleeping" matches "sleep" through the stemmer
    assert np.all(np.diff(scores, axis=1) <= 0)


def test_k_is_capped_at_corpus_size():
    results = BM25Searcher(DOCS).search(["aspirin"], k=10)
    assert results.indices.shape == (1, 3)

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


def test_building_an_index_keeps_the_callers_bm25s_log_level():
    """bm25s sets its logger to DEBUG when first imported; the CLI's quiet level must survive it (a user of
    build-pairs saw 'DEBUG bm25s: Building index from IDs objects')."""
    import subprocess
    import sys

    code = ("import logging; logging.getLogger('bm25s').setLevel(logging.WARNING); "
            "from negmine.search.bm25 import BM25Searcher; BM25Searcher(['a cat', 'a dog']); "
            "print(logging.getLogger('bm25s').level)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split()[-1] == "30"

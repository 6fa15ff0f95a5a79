"""BEIR folders: splits keep only their own queries; relevance 0 is judged but not relevant."""

from __future__ import annotations

import pytest

from negmine.data import load_beir
from negmine.errors import DataError


def test_train_split(beir_dir):
    data = load_beir(beir_dir, "train")
    assert set(data.queries) == {"q1", "q2", "q3", "q4"}
    assert data.qrels["q3"] == {"git-1": 1, "git-2": 0}
    assert data.relevant_docs()["q3"] == {"git-1"}
    assert data.counts() == {"documents": 8, "queries": 4, "judged_queries": 4, "qrels": 5}


def test_missing_split_lists_the_available_ones(beir_dir):
    with pytest.raises(DataError, match=r"dev\.tsv: file not found \(splits here: test, train\)"):
        load_beir(beir_dir, "dev")

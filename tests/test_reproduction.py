"""Slow: the scores in benchmarks/expected.yaml, on the real SciFact ($NEGMINE_DATA) and the packaged base model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from negmine.data import load_retrieval
from negmine.evaluation import evaluate_bm25, evaluate_model

EXPECTED = yaml.safe_load((Path(__file__).parents[1] / "benchmarks" / "expected.yaml").read_text())
pytestmark = pytest.mark.slow


@pytest.fixture
def scifact_validation(monkeypatch):
    root = os.environ.get("NEGMINE_REAL_DATA") or str(Path(__file__).parents[2] / "shared" / "datasets")
    if not (Path(root) / "scifact" / "corpus.jsonl").is_file():
        pytest.skip("SciFact is not available (set NEGMINE_REAL_DATA to the folder that holds scifact/)")
    return load_retrieval("scifact", "validation", data_dir=root)


@pytest.mark.parametrize("system", ["bm25", "all-MiniLM-L6-v2"])
def test_expected_scores(system, scifact_validation):
    if system == "bm25":
        metrics = evaluate_bm25(scifact_validation)
    else:
        from negmine.encode import Encoder
        from negmine.models import load_model

        model = load_model(system)
        cache = os.environ.get("NEGMINE_REAL_CACHE")  # reuse a warm cache; the default points into tmp_path
        metrics = evaluate_model(model, scifact_validation, encoder=Encoder(model, cache_dir=cache) if cache else None)
    expected = EXPECTED["scifact"]["validation"][system]
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, abs=EXPECTED["tolerance"])

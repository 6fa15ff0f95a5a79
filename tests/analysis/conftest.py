"""A pairs folder built once from the tiny SciFact with the tiny model, for the analysis and audit tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def pairs_dir(tmp_path_factory, tiny_model_path):
    from pathlib import Path

    from negmine.mining.static import MiningParams
    from negmine.pairs import PairsConfig, build_pairs

    scifact = Path(__file__).parents[1] / "resources" / "scifact_tiny"
    out = tmp_path_factory.mktemp("pairs") / "pairs"
    config = PairsConfig(dataset=str(scifact), model=str(tiny_model_path), validation_fraction=0,
                         mining=MiningParams(range_min=0, range_max=6, relative_margin=None, num_negatives=2),
                         output_format="n-tuple", cache_dir=str(out.parent / "cache"))  # fmt: skip
    build_pairs(config, out, show_progress_bar=False)
    return out

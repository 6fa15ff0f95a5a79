"""recipes/pairs.yaml on a user's pair file: mined, trained and evaluated on a validation split carved by anchor."""

from __future__ import annotations

import json
from pathlib import Path

from negmine.training.recipe import load_recipe
from negmine.training.run import train

RECIPE = Path(__file__).parents[2] / "recipes" / "pairs.yaml"


def test_the_pairs_recipe_trains_on_a_csv_with_one_override_per_choice(pairs_data, pairs_model_path, tmp_path):
    recipe = load_recipe(RECIPE, [
        ("data.dataset", str(pairs_data / "qa.csv")), ("data.anchor_column", "question"),
        ("data.positive_column", "answer"), ("data.corpus", str(pairs_data / "corpus.txt")),
        ("data.validation_fraction", 0.25), ("evaluation.splits", ["validation"]),
        ("model.name", str(pairs_model_path)), ("pairs.mining.range_min", 0), ("pairs.mining.range_max", 10),
        ("pairs.cache_dir", str(tmp_path / "cache")), ("training.num_train_epochs", 1),
        ("training.per_device_train_batch_size", 4), ("output_dir", str(tmp_path / "run")),
    ])  # fmt: skip
    metrics = train(recipe, show_progress_bar=False)
    assert metrics["validation"]["n_queries"] == 6  # ceil(0.25 x 23) anchors, none of them trained on
    manifest = json.loads((tmp_path / "run" / "pairs" / "manifest.json").read_text())
    assert manifest["counts"]["split_queries"] == 17
    assert manifest["parameters"]["anchor_column"] == "question"
    assert (tmp_path / "run" / "model" / "modules.json").is_file()

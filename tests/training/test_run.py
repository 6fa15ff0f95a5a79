"""negmine train on the tiny SciFact: the output folder, metrics, loss components in the log, and a run killed
mid-training (SIGKILL) that resumes from its last checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import yaml
from click.testing import CliRunner
from sentence_transformers import SentenceTransformer

from negmine.cli.main import cli


def recipe_file(tmp_path, scifact_dir, model_path, **training):
    recipe = {
        "model": {"name": str(model_path), "max_seq_length": 64},
        "data": {"dataset": str(scifact_dir), "validation_fraction": 0.3, "seed": 1},
        "pairs": {
            "mining": {"range_min": 0, "range_max": 6, "relative_margin": None, "num_negatives": 2},
            "output_format": "n-tuple",
            "cache_dir": str(tmp_path / "cache"),
        },  # fmt: skip
        "loss": {"type": "combined"},
        "training": {"num_train_epochs": 2, "per_device_train_batch_size": 4, "logging_steps": 1, **training},
        "evaluation": {"splits": ["validation", "dev"]},
        "output_dir": str(tmp_path / "run"),
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_train_writes_model_metrics_log_and_card(tmp_path, scifact_dir, tiny_model_path):
    path = recipe_file(tmp_path, scifact_dir, tiny_model_path)
    result = CliRunner().invoke(cli, ["train", str(path)])
    assert result.exit_code == 0, result.output
    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["splits"]) == {"validation", "dev"}
    assert metrics["splits"]["validation"]["n_queries"] == 3
    log = json.loads((run / "train_log.json").read_text())
    assert any("mnrl" in entry and "contrastive" in entry and "cosine" in entry for entry in log)
    assert any("eval_validation_cosine_ndcg@10" in entry for entry in log)
    model = SentenceTransformer(str(run / "model"), device="cpu")
    assert model.encode(["aspirin"]).shape == (1, 32)
    card = (run / "model" / "README.md").read_text()
    assert "Trained with negmine" in card and "negatives by source" in card
    assert yaml.safe_load((run / "recipe.yaml").read_text())["loss"]["weights"] == {
        "mnrl": 0.6, "contrastive": 0.3, "cosine": 0.1}  # fmt: skip
    again = CliRunner().invoke(cli, ["train", str(path)])
    assert again.exit_code == 1 and "already holds a trained model" in again.output


def test_killed_run_resumes_from_its_last_checkpoint(tmp_path, scifact_dir, tiny_model_path, monkeypatch):
    path = recipe_file(tmp_path, scifact_dir, tiny_model_path, save_strategy="steps", save_steps=1,
                       eval_strategy="steps", eval_steps=1, num_train_epochs=3)  # fmt: skip
    killer = textwrap.dedent(f"""
        import os, signal
        import sentence_transformers
        from transformers import TrainerCallback
        from negmine.cli.main import cli

        class Kill(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):
                if state.global_step == 2:
                    os.kill(os.getpid(), signal.SIGKILL)

        original = sentence_transformers.SentenceTransformerTrainer.__init__
        def patched(self, *a, **k):
            original(self, *a, **k)
            self.add_callback(Kill())
        sentence_transformers.SentenceTransformerTrainer.__init__ = patched
        cli(["train", {str(path)!r}])
    """)
    proc = subprocess.run([sys.executable, "-c", killer], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert (tmp_path / "run" / "checkpoints" / "checkpoint-2").is_dir()
    assert not (tmp_path / "run" / "model").exists()
    import sentence_transformers
    from transformers import TrainerCallback

    trained_steps = []

    class Record(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            trained_steps.append(state.global_step)

    original = sentence_transformers.SentenceTransformerTrainer.__init__

    def patched(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.add_callback(Record())

    monkeypatch.setattr(sentence_transformers.SentenceTransformerTrainer, "__init__", patched)
    result = CliRunner().invoke(cli, ["train", str(path)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["resumed_from"].endswith("checkpoint-2")
    assert trained_steps and min(trained_steps) == 3  # steps 1 and 2 were not trained again
    log = json.loads((tmp_path / "run" / "train_log.json").read_text())
    steps = [entry["step"] for entry in log if "loss" in entry]
    assert steps == sorted(set(steps)) and steps[0] == 1  # the log continues the killed run's history


def test_make_loss_masks_false_negatives_when_asked(tmp_path, scifact_dir, tiny_model_path):
    from negmine.losses import CombinedLoss
    from negmine.models import load_model
    from negmine.training.recipe import load_recipe
    from negmine.training.run import make_loss

    path = recipe_file(tmp_path, scifact_dir, tiny_model_path)
    model = load_model(str(tiny_model_path))
    overrides = [("loss.type", "mnrl"), ("loss.false_negative_margin", 0.05), ("loss.guide", str(tiny_model_path))]
    loss = make_loss(load_recipe(path, overrides), model)
    assert isinstance(loss, CombinedLoss) and loss.weights == {"mnrl": 1.0}
    assert loss.false_negative_margin == 0.05 and loss.guide is not None
    assert not isinstance(make_loss(load_recipe(path, [("loss.type", "mnrl")]), model), CombinedLoss)


def test_dynamic_recipe_refreshes_each_epoch_and_logs_the_temperature(tmp_path, scifact_dir, tiny_model_path):
    path = recipe_file(tmp_path, scifact_dir, tiny_model_path)
    tree = yaml.safe_load(path.read_text())
    tree["refresh"] = {"every_epochs": 1, "query_fraction": 0.5, "candidate_pool": 4,
                       "random_rate": {"kind": "linear", "r0": 0.8, "step": 0.4},
                       "curriculum": [{"epoch": 0, "range_min": 2, "range_max": 6},
                                      {"epoch": 1, "range_min": 0, "range_max": 3}]}  # fmt: skip
    tree["temperature"] = {"every_steps": 1, "entropy_low": 0.2, "entropy_high": 0.4}
    tree["evaluation"] = {"splits": ["validation"]}
    path.write_text(yaml.safe_dump(tree))
    result = CliRunner().invoke(cli, ["train", str(path)])
    assert result.exit_code == 0, result.output
    run = tmp_path / "run"
    dynamics = json.loads((run / "dynamics.json").read_text())
    assert [(e["epoch"], e["range_min"], e["random_rate"]) for e in dynamics["refresh"]] == [(0.0, 2, 0.8),
                                                                                          (1.0, 0, 0.4)]  # fmt: skip
    assert (
        dynamics["refresh"][1]["overlap"] is not None
        and dynamics["refresh"][1]["queries"] < dynamics["refresh"][0]["queries"]
    )
    # The refresh read the pool's vectors from what the evaluation at the end of epoch 1 encoded with its weights.
    assert dynamics["refresh"][0]["documents_reused"] == 0
    assert dynamics["refresh"][1]["documents_reused"] == dynamics["refresh"][1]["documents"] > 0
    assert len(dynamics["temperature"]) >= 2
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0 < metrics["refresh_share"] < 1 and metrics["refresh_seconds"] >= 0


def test_refresh_needs_inline_pairs(tmp_path, scifact_dir, tiny_model_path):
    path = recipe_file(tmp_path, scifact_dir, tiny_model_path)
    tree = yaml.safe_load(path.read_text())
    tree["pairs"] = {"path": str(tmp_path)}
    tree["refresh"] = {}
    path.write_text(yaml.safe_dump(tree))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1 and "refresh: re-mining needs inline pairs options" in result.output


def test_cached_mnrl_is_sentence_transformers_gradcache_and_trains(tmp_path, scifact_dir, tiny_model_path):
    from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss

    from negmine.errors import NegmineError
    from negmine.models import load_model
    from negmine.training.recipe import load_recipe
    from negmine.training.run import make_loss

    path = recipe_file(tmp_path, scifact_dir, tiny_model_path, num_train_epochs=1)
    cached = [("loss.type", "cached-mnrl"), ("loss.mini_batch_size", 2)]
    loss = make_loss(load_recipe(path, cached), load_model(str(tiny_model_path)))
    assert isinstance(loss, CachedMultipleNegativesRankingLoss) and loss.mini_batch_size == 2
    with pytest.raises(NegmineError, match="cached-mnrl is plain MNRL"):
        load_recipe(path, [*cached, ("loss.false_negative_margin", 0.1)])
    result = CliRunner().invoke(cli, ["train", str(path), "--loss.type", "cached-mnrl", "--loss.mini_batch_size", "2"])
    assert result.exit_code == 0, result.output
    assert any("loss" in entry for entry in json.loads((tmp_path / "run" / "train_log.json").read_text()))


def test_inference_length_applies_to_the_final_evaluation_and_saved_model_not_to_training(
        tmp_path, scifact_dir, tiny_model_path):  # fmt: skip
    from negmine.evaluation import evaluate_model
    from negmine.training.recipe import load_recipe
    from negmine.training.run import load_split

    path = recipe_file(
        tmp_path, scifact_dir, tiny_model_path, num_train_epochs=1, eval_strategy="no", load_best_model_at_end=False
    )
    recipe = yaml.safe_load(path.read_text())
    recipe["model"]["inference_max_seq_length"] = 8  # shorter than the tiny corpus's texts: the scores must move
    recipe["evaluation"]["splits"] = ["validation"]
    path.write_text(yaml.safe_dump(recipe))
    result = CliRunner().invoke(cli, ["train", str(path)])
    assert result.exit_code == 0, result.output
    run = tmp_path / "run"
    assert json.loads((run / "pairs" / "manifest.json").read_text())["model"]["max_seq_length"] == 64  # mined at 64
    model = SentenceTransformer(str(run / "model"), device="cpu")
    assert model.max_seq_length == 8
    split = load_split(load_recipe(path), "validation")
    reported = json.loads((run / "metrics.json").read_text())["splits"]["validation"]
    assert reported == pytest.approx(evaluate_model(model, split))
    model.max_seq_length = 64
    assert evaluate_model(model, split) != pytest.approx(reported)  # the length was the one evaluated


def test_a_recipe_refresh_mines_with_build_pairs_exclusions(tmp_path, pairs_data, pairs_model_path, scifact_dir,
                                                              tiny_model_path):  # fmt: skip
    """The refresh a recipe makes takes its pairs section's searchers and build-pairs' exclusions: on pair data the
    corpus copy of a positive (case and spacing aside) is shut for its anchor and no noise mask applies; on SciFact
    the noise mask does."""
    from negmine.training.recipe import Recipe
    from negmine.training.run import refresh_callback

    tree = yaml.safe_load(recipe_file(tmp_path, scifact_dir, pairs_model_path).read_text())
    tree["data"] = {"dataset": str(pairs_data / "qa.csv"), "corpus": str(pairs_data / "corpus.txt"),
                    "validation_fraction": 0.0}  # fmt: skip
    tree["evaluation"] = {"splits": []}
    tree["pairs"]["searchers"] = ["dense", "lexical"]
    tree["refresh"] = {"every_epochs": 1}
    refresh = refresh_callback(Recipe.model_validate(tree))
    assert refresh.searchers == ["dense", "lexical"] and refresh.excluded is None
    copy = next(i for i, text in enumerate(refresh.documents) if "in one   expression" in text)
    anchor = refresh.queries.index("How do I build a list in one expression in Python?")
    assert copy in refresh.exclude["near_duplicate"][anchor]
    tree = yaml.safe_load(recipe_file(tmp_path, scifact_dir, tiny_model_path).read_text())
    tree["refresh"] = {"every_epochs": 1}
    refresh = refresh_callback(Recipe.model_validate(tree))
    assert refresh.searchers == ["dense", "lexical"] and refresh.excluded is not None


def test_a_refresh_without_a_pairs_section_starts_where_build_pairs_would(tmp_path, pairs_data, scifact_dir,
                                                                          tiny_model_path):  # fmt: skip
    from negmine.training.recipe import Recipe
    from negmine.training.run import refresh_callback

    starts = {}
    for name, data in [("pairs", {"dataset": str(pairs_data / "qa.csv"), "validation_fraction": 0.0}),
                       ("scifact", {"dataset": str(scifact_dir), "validation_fraction": 0.3})]:  # fmt: skip
        tree = yaml.safe_load(recipe_file(tmp_path, scifact_dir, tiny_model_path).read_text())
        tree.update(data=data, refresh={"every_epochs": 1}, evaluation={"splits": []})
        del tree["pairs"]
        starts[name] = refresh_callback(Recipe.model_validate(tree)).params.range_min
    assert starts == {"pairs": 0, "scifact": 10}

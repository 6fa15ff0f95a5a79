"""Recipes: every shipped recipe validates; mistakes name the file and the key path; overrides apply."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from negmine.cli.main import cli
from negmine.errors import NegmineError
from negmine.training.recipe import load_recipe, parse_overrides

RECIPES = sorted((Path(__file__).parents[2] / "recipes").glob("*.yaml"))


@pytest.mark.parametrize("path", RECIPES, ids=[p.name for p in RECIPES])
def test_every_shipped_recipe_validates_and_opens_with_its_command(path):
    recipe = load_recipe(path)
    assert path.read_text().splitlines()[0] == f"# negmine train recipes/{path.name}"
    assert recipe.output_dir == f"runs/{path.stem}"


def test_shipped_recipes_exist():
    assert {p.name for p in RECIPES} >= {"scifact-inbatch.yaml", "scifact-static.yaml", "scifact-mnrl-static.yaml",
                                         "scifact-dynamic.yaml", "scifact-balltree-decay.yaml",
                                         "scifact-balltree-random.yaml", "scifact-balltree-norandom.yaml",
                                         "scifact-curriculum.yaml", "scifact-release.yaml"}  # fmt: skip


def write(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "output_dir: x\nloss:\n  weights:\n    mnrl: -1\n",
            "field 'loss.weights.mnrl': Input should be greater than",
        ),
        ("output_dir: x\npairs:\n  mining:\n    range_mx: 3\n", "field 'pairs.mining.range_mx': Extra inputs"),
        ("output_dir: x\nmodle: {}\n", "field 'modle': Extra inputs are not permitted"),
        ("output_dir: x\ntraining:\n  num_epochs: 3\n", "'num_epochs' is not an argument of SentenceTransformer"),
        ("output_dir: x\ntraining:\n  learning_rate: fast\n", "'learning_rate': Input should be a valid number"),
        ("output_dir: x\npairs:\n  dataset: nfcorpus\n", "pairs.dataset: set it once, in the data section"),
        ("output_dir: x\nloss:\n  weights: {mnrl: 0}\n", "at least one weight must be above 0"),
        ("output_dir: x\nrefresh: {exclude_shared_positives: true}\n", "only the balltree searcher takes claims"),
        ("output_dir: [x\n", "r.yaml:2: invalid YAML"),
        ("output_dir: x\ntraining:\n  num_train_epochs: -2\n", "'num_train_epochs' must be > 0 (got -2"),
        ("output_dir: x\ntraining:\n  per_device_train_batch_size: 0\n", "'per_device_train_batch_size' must be > 0"),
        ("output_dir: x\ntraining:\n  learning_rate: -1.0e-5\n", "'learning_rate' must be > 0"),
        ("output_dir: x\nrefresh: {}\npairs: {synthetic: {reverse: 1}}\n", "does not regenerate synthetic"),
        ("output_dir: x\npairs: {synthetic: {perturb: 1, augmenters: [{name: X}]}}\n", "unknown nlpaug augmenter"),
        ("output_dir: x\nloss: {mixing: {negatives: 0}}\n", "negatives or anchor_negatives must be above 0"),
        ("loss: {}\n", "missing field 'output_dir'"),
    ],
)
def test_mistakes_name_file_and_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(NegmineError) as error:
        load_recipe(path)
    assert str(error.value).startswith(str(path)) and message in str(error.value)


def test_overrides_and_pairs_config(tmp_path):
    path = RECIPES[0].parent / "scifact-static.yaml"
    recipe = load_recipe(path, parse_overrides(["--loss.weights.mnrl", "0.5", "--pairs.mining.num_negatives=5",
                                                "--data.validation_fraction", "0.3"]))  # fmt: skip
    assert recipe.loss.weights["mnrl"] == 0.5
    config = recipe.pairs_config()
    assert config.mining.num_negatives == 5 and config.validation_fraction == 0.3 and config.dataset == "scifact"


def test_yaml_11_booleans_stay_strings(tmp_path):
    # PyYAML reads `no` as False, which the Trainer rejects as an eval_strategy; recipes read YAML 1.2 booleans.
    text = "output_dir: x\ntraining: {eval_strategy: no, save_strategy: 'no', load_best_model_at_end: false}\n"
    path = write(tmp_path, text)
    arguments = load_recipe(path).training.arguments()
    assert arguments["eval_strategy"] == "no" and arguments["save_strategy"] == "no"
    assert arguments["load_best_model_at_end"] is False
    recipe = load_recipe(path, parse_overrides(["--training.eval_strategy", "epoch", "--training.bf16", "True"]))
    assert recipe.training.arguments()["eval_strategy"] == "epoch" and recipe.training.arguments()["bf16"] is True
    assert parse_overrides(["--training.save_strategy=off"]) == [("training.save_strategy", "off")]


@pytest.mark.parametrize(
    ("raw", "value"), [("1e-4", 1e-4), ("-2E+3", -2000.0), ("5.0e-5", 5e-5), ("3", 3), ("1e", "1e")]
)
def test_yaml_12_floats_need_no_dot(raw, value):
    # PyYAML reads 1e-4 as a string, and the optimizer then fails deep inside the Trainer.
    ((key, parsed),) = parse_overrides(["--training.learning_rate", raw])
    assert parsed == value and type(parsed) is type(value)


def test_validate_command(tmp_path):
    bad = write(tmp_path, "output_dir: x\nloss: {type: triplet}\n")
    result = CliRunner().invoke(cli, ["validate", *map(str, RECIPES), str(bad)])
    assert result.exit_code == 1
    assert all(f"ok {p}" in result.output for p in RECIPES)
    assert f"invalid {bad}: field 'loss.type'" in result.output
    ok = CliRunner().invoke(cli, ["validate", str(RECIPES[0]), "--loss.scale", "10"])
    assert ok.exit_code == 0


def test_pairs_are_mined_with_the_trained_model_unless_told_otherwise(tmp_path):
    path = write(tmp_path, "model: {name: some/model, max_seq_length: 128}\npairs: {}\noutput_dir: x\n")
    config = load_recipe(path).pairs_config()
    assert (config.model, config.max_seq_length) == ("some/model", 128)
    path = write(tmp_path, "model: {name: some/model}\npairs: {model: other/miner}\noutput_dir: x\n")
    assert load_recipe(path).pairs_config().model == "other/miner"


def test_a_recipe_on_pair_data_mines_from_build_pairs_window_start_unless_told(tmp_path):
    """The pairs section is read before the data section is known: its window start must follow the data as
    build-pairs' does (rank 0 for pair data, 10 for SciFact), and a given start wins."""
    data = Path(__file__).parents[1] / "resources" / "pairs_tiny" / "qa.csv"
    head = f"data: {{dataset: {data}}}\nevaluation: {{splits: []}}\noutput_dir: x\n"
    start = {pairs: load_recipe(write(tmp_path, head + f"pairs: {pairs}\n")).pairs_config().mining.range_min
             for pairs in ("{}", "{mining: {num_negatives: 2}}", "{mining: {range_min: 3}}")}  # fmt: skip
    assert start == {"{}": 0, "{mining: {num_negatives: 2}}": 0, "{mining: {range_min: 3}}": 3}
    assert load_recipe(write(tmp_path, "pairs: {}\noutput_dir: x\n")).pairs_config().mining.range_min == 10


@pytest.mark.parametrize("declared", [float, int])
def test_a_warmup_share_reaches_the_trainer_on_transformers_4_and_5(declared, monkeypatch):
    """transformers 5 reads ``warmup_steps: 0.1`` as a share of the steps; transformers 4 (the ``onnx`` extra's)
    declares ``warmup_steps`` an int and takes the share as ``warmup_ratio``."""
    from negmine.training import recipe as module

    types = {**module._argument_types(), "warmup_steps": declared}
    monkeypatch.setattr(module, "_argument_types", lambda: types)
    arguments = load_recipe(RECIPES[0].parent / "scifact-static.yaml").training.arguments()
    if declared is float:
        assert arguments["warmup_steps"] == 0.1 and "warmup_ratio" not in arguments
    else:
        assert arguments["warmup_ratio"] == 0.1 and "warmup_steps" not in arguments
    steps = load_recipe(RECIPES[0].parent / "scifact-static.yaml", parse_overrides(["--training.warmup_steps", "5"]))
    assert steps.training.arguments()["warmup_steps"] == 5  # a count stays a count

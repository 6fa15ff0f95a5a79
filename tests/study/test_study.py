"""negmine study end to end on the tiny SciFact: two strategies x two seeds trained, analysed and reported; a
second call trains nothing; a bad study file is one line."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from negmine.cli.main import cli


def study_files(tmp_path, tiny_model_path, tiny_recipe, **changes):
    recipe = tiny_recipe({"eval_strategy": "no", "save_strategy": "no", "load_best_model_at_end": False})
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(recipe))
    study = {"name": "tiny", "seeds": [1, 2], "baseline": "window", "reference": str(tiny_model_path),
             "bootstrap": 200,
             "budget": {"training.num_train_epochs": 1},
             "strategies": [{"name": "window", "recipe": "base.yaml"},
                            {"name": "random", "recipe": "base.yaml",
                             "set": {"pairs.mining.sampling_strategy": "random"}}], **changes}  # fmt: skip
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    return tmp_path / "study.yaml"


def test_tiny_study_end_to_end_and_resumed(tmp_path, tiny_model_path, tiny_recipe):
    path = study_files(tmp_path, tiny_model_path, tiny_recipe, geometry=True, geometry_against="window")
    out = tmp_path / "study"
    result = CliRunner().invoke(cli, ["study", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["random-seed1", "random-seed2", "window-seed1",
                                                                "window-seed2"]  # fmt: skip
    document = json.loads((out / "report" / "study.json").read_text())
    assert len(document["runs"]) == 4 and len(document["trained_now"]) == 4
    stats = document["statistics"]
    assert stats["runs_analysed"] == 4
    # the mining seed is the recipe's (42) for both strategies: each strategy's two seeds trained on the same
    # negatives, so the statistics across runs see two independent units, not four
    assert stats["units"] == 2 and sorted(len(r) for r in stats["unit_runs"].values()) == [2, 2]
    assert all(c["n"] <= 2 for c in stats["correlations"])
    assert stats["curvature"]["hardness"]["testable"] is False and not stats["interaction_fit"]["testable"]
    assert "not testable with this design" in (out / "report" / "report.md").read_text()
    assert stats["paired"][0]["family"] <= 1 and "p_holm" in stats["paired"][0]
    assert [p["strategy"] for p in stats["paired"]] == ["random"] and stats["paired"][0]["seeds"] == 2
    assert {c["metric"] for c in stats["correlations"]} >= {"hardness.margin.mean", "diversity.vendi"}
    text = (out / "report" / "report.md").read_text()
    assert "Against window, seed by seed" in text and "Correlations of the negatives' metrics" in text
    assert (out / "report" / "report.html").read_text().count("data:image/png;base64,") >= 2
    # the strategies' runs differ where they should: random sampling is easier than the top of the window
    margins = {r["set"]: r["hardness.margin.mean"] for r in document["records"] if r["source"] == "all"}
    assert margins["random-seed1"] > margins["window-seed1"]
    # the strategies' table carries the achieved hardness (the mean of their runs' margins): an ablation's control
    summary = {s["strategy"]: s for s in stats["summary"]}
    assert abs(summary["random"]["hardness"] - (margins["random-seed1"] + margins["random-seed2"]) / 2) < 1e-9
    # experiment D's geometry: one row a run and one for the untrained reference; a model's CKA with itself is 1
    geometry = {g["run"]: g for g in stats["geometry"]}
    assert len(geometry) == 5 and geometry[str(tiny_model_path)]["geometry.cka_reference"] == 1.0
    assert abs(geometry["window-seed2"]["geometry.cka_window"] - 1.0) < 1e-9
    assert geometry["random-seed2"]["geometry.cka_window"] < 1.0 - 1e-9  # tiny models barely move: 1 - 1e-7
    assert all(g["geometry.uniformity"] < 0 and g["geometry.alignment"] >= 0 for g in geometry.values())
    assert "## Geometry of the trained models (experiment D)" in text

    # per-query scores: kept by training, paired over queries, and resampled in the correlations' bootstrap
    over = stats["paired"][0]["over_queries"]
    assert over["seeds"] == 2 and over["queries"] >= 2
    assert all(c["resampled"] == "runs and queries" for c in stats["correlations"] if c["spearman"] is not None)
    # a run trained before they were kept gets them back from its model, the same values
    metrics_file = out / "runs" / "window-seed1" / "metrics.json"
    kept = json.loads(metrics_file.read_text())
    metrics_file.write_text(json.dumps({k: v for k, v in kept.items() if k != "per_query_ndcg@10"}))

    again = CliRunner().invoke(cli, ["study", str(path), "--out", str(out)])
    assert again.exit_code == 0, again.output
    restored = json.loads(metrics_file.read_text())["per_query_ndcg@10"]["validation"]
    assert restored == pytest.approx(kept["per_query_ndcg@10"]["validation"], abs=1e-6)
    second = json.loads((out / "report" / "study.json").read_text())
    assert second["trained_now"] == [] and second["runs"] == document["runs"]
    assert second["statistics"]["correlations"] == stats["correlations"]

    # shipped with its data (no models), the report recomputes from the copy; a printed number that is not what the
    # data give, or a run's per-query scores that changed, is named
    from negmine.study.tables import recheck, ship

    shipped = ship(out, tmp_path / "docs" / "tiny")
    assert sorted(p.name for p in (shipped / "runs").iterdir()) == sorted(r["run"] for r in second["runs"])
    assert not list(shipped.rglob("model")) and not (shipped / "report.html").exists()
    assert recheck(shipped) == []
    report = shipped / "report.md"
    original = report.read_text()
    mean = f"{stats['summary'][0]['mean']:.4f}"
    report.write_text(original.replace(mean, f"{float(mean) + 0.01:.4f}", 1))
    assert any("report.md line" in p for p in recheck(shipped))
    report.write_text(original)
    kept_file = shipped / "runs" / "random-seed1" / "metrics.json"
    scores = json.loads(kept_file.read_text())
    values = scores["per_query_ndcg@10"]["validation"]
    scores["per_query_ndcg@10"]["validation"] = {q: 1.0 - v for q, v in values.items()}
    kept_file.write_text(json.dumps(scores))
    assert any(p.startswith("statistics.paired[0].over_queries") for p in recheck(shipped))


def test_bad_study_files_are_one_line(tmp_path, tiny_model_path, tiny_recipe):
    cases = [
        ({"baseline": "nope"}, "baseline 'nope' is not a strategy"),
        ({"baseline": None, "strategies": [{"name": "a", "recipe": "base.yaml"},
                                           {"name": "a", "recipe": "base.yaml"}]},
         "strategy names must be unique"),
        ({"baseline": None, "strategies": [{"name": "a", "recipe": "base.yaml"},
                                           {"name": "b", "recipe": "base.yaml",
                                            "set": {"training.num_train_epochs": -1}}]},
         "strategy 'b': "),
        ({"epochs": 3}, "epochs"),
        ({"comparisons": [["random", "nope"]]}, "comparisons: 'nope' is not a strategy"),
        ({"geometry_against": "nope"}, "geometry_against: 'nope' is not a strategy"),
    ]  # fmt: skip
    for changes, message in cases:
        path = study_files(tmp_path, tiny_model_path, tiny_recipe, **changes)
        result = CliRunner().invoke(cli, ["study", str(path), "--out", str(tmp_path / "out")])
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output, result.output
        assert not (tmp_path / "out").exists()


def test_seeds_option_trains_one_seed_of_every_strategy_first(tmp_path, tiny_model_path, tiny_recipe):
    path = study_files(tmp_path, tiny_model_path, tiny_recipe)
    out = tmp_path / "study"
    result = CliRunner().invoke(cli, ["study", str(path), "--out", str(out), "--seeds", "2"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["random-seed2", "window-seed2"]
    for bad, message in (("7", "[7] not among"), ("1;2", "expected seeds separated by commas")):
        result = CliRunner().invoke(cli, ["study", str(path), "--out", str(out), "--seeds", bad])
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_strategies_option_trains_only_the_named_strategies(tmp_path, tiny_model_path, tiny_recipe):
    path = study_files(tmp_path, tiny_model_path, tiny_recipe)
    out = tmp_path / "study"
    result = CliRunner().invoke(cli, ["study", str(path), "--out", str(out), "--seeds", "1", "--strategies", "window"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["window-seed1"]
    result = CliRunner().invoke(cli, ["study", str(path), "--out", str(out), "--strategies", "window,nope"])
    assert result.exit_code == 1 and "['nope'] not among" in result.output and "Traceback" not in result.output


def test_the_shipped_study_is_valid():
    from pathlib import Path

    from negmine.study.spec import load_study

    spec = load_study(Path(__file__).parents[2] / "studies" / "scifact.yaml")
    assert len(spec.strategies) >= 8 and spec.baseline == "static" and len(spec.seeds) >= 3
    for name in ("scifact-ablation", "scifact-recheck"):
        assert len(load_study(Path(__file__).parents[2] / "studies" / f"{name}.yaml").strategies) >= 4
    recheck = load_study(Path(__file__).parents[2] / "studies" / "scifact-recheck.yaml")
    assert len(recheck.seeds) >= 5 and ("dynamic-2ep", "static-2ep") in recheck.comparisons


def test_comparisons_besides_the_baseline_are_paired_by_seed():
    """Each named pair is compared seed by seed (only the seeds both have), next to the baseline's comparisons."""
    from negmine.study.runner import study_statistics
    from negmine.study.spec import StudySpec

    spec = StudySpec(strategies=[{"name": n, "recipe": "r.yaml"} for n in "abc"], baseline="a",
                     comparisons=[("c", "b")], metrics=[], bootstrap=100)  # fmt: skip
    scores = {"a": [0.70, 0.71, 0.72], "b": [0.60, 0.62, 0.61], "c": [0.65, 0.66, None]}
    runs = [{"strategy": n, "seed": i + 1, "run": f"{n}{i}", "ndcg@10": v}
            for n, values in scores.items() for i, v in enumerate(values) if v is not None]  # fmt: skip
    paired = study_statistics(spec, runs, [])["paired"]
    assert [(p["strategy"], p["baseline"]) for p in paired] == [("b", "a"), ("c", "a"), ("c", "b")]
    c_b = paired[2]
    assert c_b["seeds"] == 2 and abs(c_b["mean_diff"] - (0.05 + 0.04) / 2) < 1e-9


def test_violins_take_one_run_a_strategy_its_lowest_seed():
    from negmine.study.report import first_seeds

    scores = {"static-seed2": 2, "static-seed1": 1, "random-seed3": 3, "plain": 0}
    assert first_seeds(scores) == {"plain": 0, "random-seed3": 3, "static-seed1": 1}


@pytest.mark.parametrize("name", ["scifact", "scifact-ablation", "scifact-recheck", "release-levers",
                                  "scifact-release-budget"])
def test_every_shipped_strategy_gives_a_valid_recipe(name):
    """Each strategy's recipe with the study's budget and its own overrides validates (a mistyped key fails here,
    not hours into a grid)."""
    from pathlib import Path

    from negmine.study.spec import load_study
    from negmine.training.recipe import load_recipe

    spec = load_study(Path(__file__).parents[2] / "studies" / f"{name}.yaml")
    for strategy in spec.strategies:
        recipe = load_recipe(strategy.recipe, [*spec.budget.items(), *strategy.set.items(), ("training.seed", 1)])
        assert recipe.training.arguments()["seed"] == 1


def test_reuse_adopts_a_finished_run_of_the_same_recipe_and_trains_the_rest(tmp_path, tiny_model_path, tiny_recipe):
    """--reuse: a (strategy, seed) whose resolved recipe matches a finished run of another study is that run (the
    same metrics, no training, wall.json says where from); a strategy that differs is trained."""
    first = study_files(tmp_path, tiny_model_path, tiny_recipe, seeds=[1])
    done = tmp_path / "first"
    result = CliRunner().invoke(cli, ["study", str(first), "--out", str(done)])
    assert result.exit_code == 0, result.output
    second = tmp_path / "second.yaml"
    second.write_text(yaml.safe_dump({**yaml.safe_load(first.read_text()), "baseline": "same", "strategies": [
        {"name": "same", "recipe": "base.yaml", "set": {"output_dir": "elsewhere"}},  # other name and folder: adopted
        {"name": "other", "recipe": "base.yaml", "set": {"training.learning_rate": 1.0e-4}}]}))  # fmt: skip
    out = tmp_path / "second"
    result = CliRunner().invoke(cli, ["study", str(second), "--out", str(out), "--reuse", str(done)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "report" / "study.json").read_text())["trained_now"] == ["other-seed1"]
    adopted = out / "runs" / "same-seed1"
    source = done / "runs" / "window-seed1"
    assert json.loads((adopted / "metrics.json").read_text())["splits"] == \
        json.loads((source / "metrics.json").read_text())["splits"]  # fmt: skip
    assert json.loads((adopted / "wall.json").read_text())["reused_from"] == str(source)
    assert "reused_from" not in json.loads((source / "wall.json").read_text())  # the source is untouched
    assert not (adopted / "checkpoints").exists() and not list((out / "runs").glob("*.adopting"))


def test_a_finished_run_of_a_changed_strategy_is_an_error_not_stale_figures(tmp_path, tiny_model_path, tiny_recipe):
    """A strategy edited after its run finished (here a longer inference length) must not report the old run's
    metrics as its own: one line naming the folder and the key; the run is left as it was."""
    path = study_files(tmp_path, tiny_model_path, tiny_recipe, seeds=[1])
    out = tmp_path / "study"
    result = CliRunner().invoke(cli, ["study", str(path), "--out", str(out), "--strategies", "window"])
    assert result.exit_code == 0, result.output
    before = (out / "runs" / "window-seed1" / "metrics.json").read_text()
    study = yaml.safe_load(path.read_text())
    study["strategies"][0]["set"] = {"model.inference_max_seq_length": 16}
    path.write_text(yaml.safe_dump(study))
    result = CliRunner().invoke(cli, ["study", str(path), "--out", str(out), "--strategies", "window"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "window-seed1: a finished run of another recipe (model.inference_max_seq_length differ)" in result.output
    assert (out / "runs" / "window-seed1" / "metrics.json").read_text() == before


def test_recipe_changes_names_the_differing_keys(tmp_path):
    from negmine.study.runner import recipe_changes
    from negmine.training.recipe import Recipe

    recipe = Recipe.model_validate({"output_dir": "a", "training": {"learning_rate": 1e-4}})
    written = {"output_dir": "b", "model": {"inference_max_seq_length": 256}, "training": {"learning_rate": 1e-4}}
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(written))
    assert recipe_changes(recipe, tmp_path) == ["model.inference_max_seq_length"]
    assert recipe_changes(Recipe.model_validate({**recipe.model_dump(), "model": {"inference_max_seq_length": 256}}),
                          tmp_path) == []  # fmt: skip
    assert recipe_changes(recipe, tmp_path / "nothing") is None


def test_mining_seed_training_gives_each_seed_its_own_negatives(tmp_path, tiny_model_path, tiny_recipe):
    """mining_seed: training sets pairs.mining.seed to the training seed for a recipe that mines, and leaves a
    recipe without mined negatives as it is; fixed keeps the recipe's own mining seed."""
    from negmine.study.runner import strategy_recipe
    from negmine.study.spec import load_study

    path = study_files(tmp_path, tiny_model_path, tiny_recipe, mining_seed="training")
    spec = load_study(path)
    assert [strategy_recipe(spec, spec.strategies[1], seed).pairs.mining.seed for seed in (1, 2)] == [1, 2]
    fixed = load_study(study_files(tmp_path, tiny_model_path, tiny_recipe))
    assert strategy_recipe(fixed, fixed.strategies[1], 2).pairs.mining.seed == 42
    plain = spec.model_copy(update={"budget": {"pairs": None}})
    assert strategy_recipe(plain, spec.strategies[0], 3).pairs is None

"""The command line: eval writes exactly the promised keys, refuses to overwrite, and user mistakes end in one
line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from negmine import __version__
from negmine.cli.main import cli
from negmine.evaluation import METRIC_KEYS


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_env_reports_versions_and_devices():
    result = run("env", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["packages"]["sentence-transformers"]
    assert report["torch_device"] in ("cpu", "cuda")
    assert "faiss" in report


def test_eval_bm25_writes_the_metric_keys(beir_dir, tmp_path):
    out = tmp_path / "bm25.json"
    result = run("eval", "--model", "bm25", "--dataset", beir_dir, "--split", "train", "--validation-fraction", 0,
                 "--output", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert set(metrics) == {*METRIC_KEYS, "n_queries"}
    assert metrics["n_queries"] == 4
    assert "| bm25 | train |" in result.output


def test_eval_dense_model_on_validation(tiny_model_path, scifact_dir, tmp_path):
    out = tmp_path / "dense.json"
    args = [
        "eval",
        "--model",
        tiny_model_path,
        "--dataset",
        scifact_dir,
        "--validation-fraction",
        0.3,
        "--output",
        out,
    ]
    assert run(*args).exit_code == 0
    assert json.loads(out.read_text())["n_queries"] == 3
    again = run(*args)
    assert again.exit_code == 1 and "already exists (pass --overwrite" in again.output
    assert run(*args, "--overwrite").exit_code == 0


def test_bad_input_is_one_line_without_traceback(scifact_dir, tmp_path):
    folder = tmp_path / "scifact"
    shutil.copytree(scifact_dir, folder)
    with (folder / "claims_train.jsonl").open("a") as out:
        out.write('{"id": 99, "claim": "no cited docs field", "evidence": {"101": "oops"}}\n')
    result = run("eval", "--model", "bm25", "--dataset", folder, "--output", tmp_path / "m.json")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Error: ") and "claims_train.jsonl:11: field 'evidence.101'" in lines[-1]
    assert isinstance(result.exception, SystemExit)  # handled, not an escaped exception
    assert not (tmp_path / "m.json").exists()


def test_real_process_prints_one_line_on_stderr(beir_dir, tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "beir"
    shutil.copytree(beir_dir, folder)
    (folder / "corpus.jsonl").write_text('{"_id": "a", "title": "t"}\n')
    proc = subprocess.run([sys.executable, "-m", "negmine", "eval", "--model", "bm25", "--dataset", str(folder),
                           "--split", "test"], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == f"Error: {folder / 'corpus.jsonl'}:1: missing field 'text'"
    assert "Traceback" not in proc.stderr


def test_missing_dataset_is_one_line(tmp_path):
    result = run("eval", "--model", "bm25", "--data-dir", tmp_path)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.count("\n") == 1 and "put corpus.jsonl and claims_train.jsonl" in result.output


def test_held_out_split_absent(scifact_dir, tmp_path):
    folder = tmp_path / "scifact"
    shutil.copytree(scifact_dir, folder)
    (folder / "claims_dev.jsonl").unlink()
    result = run("eval", "--model", "bm25", "--dataset", folder, "--split", "test")
    assert result.exit_code == 1 and "held out" in result.output


def test_build_pairs_command(scifact_dir, tiny_model_path, tmp_path):
    out = tmp_path / "pairs"
    args = ["build-pairs", scifact_dir, "--out", out, "--model", tiny_model_path, "--range-min", 0, "--range-max", 6,
            "--relative-margin", "none", "--num-negatives", 2, "--validation-fraction", 0.2]  # fmt: skip
    result = run(*args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["mining"]["relative_margin"] is None
    assert manifest["counts"]["split_queries"] == 8  # two of the ten claims carved out for validation
    assert "triplet rows from 8 anchors" in result.output
    again = run(*args)
    assert again.exit_code == 1 and "already exists" in again.output


def test_build_pairs_bad_option_is_one_line(scifact_dir, tmp_path):
    result = run("build-pairs", scifact_dir, "--out", tmp_path / "p", "--range-min", 50, "--range-max", 10)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.strip() == "Error: field 'mining': range_min (50) must be smaller than range_max (10)"
    assert not (tmp_path / "p").exists()


def test_build_pairs_takes_a_config_and_dotted_overrides_like_train(scifact_dir, tiny_model_path, tmp_path):
    """One override syntax: a YAML of PairsConfig keys, named flags over it, dotted keys over both."""
    config = tmp_path / "pairs.yaml"
    config.write_text("mining: {range_min: 0, range_max: 6, relative_margin: null}\nnum_negatives_ignored: 1\n")
    result = run("build-pairs", scifact_dir, "--out", tmp_path / "bad", "--config", config, "--model", tiny_model_path)
    assert result.exit_code == 1 and "num_negatives_ignored" in result.output  # a typo is an error, not ignored
    config.write_text("mining: {range_min: 0, range_max: 6, relative_margin: null}\noutput_format: n-tuple\n")
    result = run("build-pairs", scifact_dir, "--out", tmp_path / "p", "--config", config, "--model", tiny_model_path,
                 "--num-negatives", 2, "--mining.range_max", 5, "--validation-fraction", 0.2)  # fmt: skip
    assert result.exit_code == 0, result.output
    parameters = json.loads((tmp_path / "p" / "manifest.json").read_text())["parameters"]
    assert parameters["mining"]["range_min"] == 0 and parameters["mining"]["range_max"] == 5  # file, then dotted
    assert parameters["mining"]["num_negatives"] == 2 and parameters["output_format"] == "n-tuple"


def test_build_pairs_options_take_their_defaults_from_pairs_config():
    """The help shows PairsConfig's and MiningParams' defaults; there is no second copy to drift."""
    from negmine.cli.build_pairs import build_pairs_command
    from negmine.mining.static import MiningParams
    from negmine.pairs.build import PairsConfig

    options = {p.name: p for p in build_pairs_command.params}
    for name, field in {**PairsConfig.model_fields, **MiningParams.model_fields}.items():
        if name in ("dataset", "mining", "synthetic", "seed") or field.default_factory is not None:
            continue
        assert options[name].default == field.default, name

"""build-pairs with synthetic negatives, on the tiny SciFact and the tiny BEIR folder: no synthetic negative is a
known positive text, sources name the generator and rule, rows keep their width, the manifest and README report
counts and examples, and the command line refuses bad specs before writing anything."""

from __future__ import annotations

import json

import pytest

from negmine.augment.spec import SyntheticConfig
from negmine.mining.static import MiningParams
from negmine.pairs import PairsConfig, build_pairs

pytest.importorskip("nlpaug")
pytest.importorskip("lemminflect")

ONE = MiningParams(range_min=0, range_max=6, relative_margin=None, num_negatives=1)
ALL = SyntheticConfig(perturb=1, swap=1, reverse=1)


def build(folder, tiny_model_path, tmp_path, split="train", **changes):
    config = PairsConfig(dataset=str(folder), split=split, model=str(tiny_model_path), validation_fraction=0,
                         mining=ONE, cache_dir=str(tmp_path / "cache"), synthetic=ALL, **changes)  # fmt: skip
    return build_pairs(config, tmp_path / "out")


@pytest.mark.parametrize("fixture", ["scifact_dir", "beir_dir"])
def test_no_synthetic_negative_is_a_known_positive(fixture, tiny_model_path, tmp_path, request):
    folder = request.getfixturevalue(fixture)
    dataset, manifest = build(folder, tiny_model_path, tmp_path, output_format="n-tuple")
    frame = dataset.to_pandas()
    positives = set(frame["positive"]) | set(frame["anchor"])
    synthetic = [text for row in frame.itertuples() for text, source in
                 zip([row.negative_1, row.negative_2, row.negative_3, row.negative_4], row.negative_sources,
                     strict=True) if source.split(":")[0] in ("perturb", "swap", "reverse")]  # fmt: skip
    assert synthetic and not set(synthetic) & positives
    sources = {s for row in frame["negative_sources"] for s in row}
    assert {"perturb:RandomWordAug-swap", "swap:hard_negative"} <= sources
    assert any(s.startswith("reverse:") for s in sources)
    assert manifest["counts"]["rows_dropped_too_few_negatives"] == 0 or fixture == "beir_dir"
    report = manifest["synthetic"]
    assert set(report) == {"perturb", "swap", "reverse", "seconds"}
    assert report["reverse"]["anchors_with_output"] <= report["reverse"]["anchors"]
    assert 0 < len(report["swap"]["examples"]) <= 5 and "source_overlap_mean" in report["swap"]
    assert "negation_only_share" in report["reverse"]
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "## Synthetic negatives" in readme and "### Examples: reverse" in readme


def test_triplets_name_synthetic_ids_and_have_nan_scores(scifact_dir, tiny_model_path, tmp_path):
    dataset, _ = build(scifact_dir, tiny_model_path, tmp_path)
    frame = dataset.to_pandas()
    synthetic = frame[frame["negative_id"].str.startswith("synthetic:")]
    assert len(synthetic) > 0 and synthetic["negative_score"].isna().all()
    expected = "synthetic:" + synthetic["query_id"] + ":" + synthetic["negative_source"]
    assert (synthetic["negative_id"] == expected).all()


def test_same_seed_same_pairs(scifact_dir, tiny_model_path, tmp_path):
    first, _ = build(scifact_dir, tiny_model_path, tmp_path / "a")
    second, _ = build(scifact_dir, tiny_model_path, tmp_path / "b")
    assert first.to_pandas().equals(second.to_pandas())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--synthetic", "perturb:1,paraphrase:1"], "Error: --synthetic: unknown generator 'paraphrase'"),
        (["--synthetic", "perturb=1"], "Error: --synthetic: unknown generator 'perturb=1'"),
        (["--synthetic", "perturb:1", "--augmenter", "FancyAug"], "Error: --augmenter: field 'augmenters.0.name'"),
        (["--synthetic", "perturb:1", "--augmenter", "RandomWordAug:aug_p=1.5"], "aug_p is a probability in [0, 1]"),
        (["--augmenter", "RandomWordAug"], "Error: --augmenter: augmenters are for perturb"),
    ],
)
def test_bad_synthetic_options_are_one_line(scifact_dir, tmp_path, args, message):
    from click.testing import CliRunner

    from negmine.cli.main import cli

    result = CliRunner().invoke(cli, ["build-pairs", str(scifact_dir), "--out", str(tmp_path / "p"), *args])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.count("\n") == 1 and message in result.output
    assert not (tmp_path / "p").exists()


def test_command_line_writes_the_synthetic_report(scifact_dir, tiny_model_path, tmp_path):
    from click.testing import CliRunner

    from negmine.cli.main import cli

    out = tmp_path / "p"
    result = CliRunner().invoke(cli, ["build-pairs", str(scifact_dir), "--out", str(out), "--model",
                                      str(tiny_model_path), "--range-min", "0", "--range-max", "6",
                                      "--relative-margin", "none", "--synthetic", "reverse:1,perturb:1",
                                      "--augmenter", "RandomCharAug:action=swap,aug_char_p=0.3",
                                      "--validation-fraction", "0"])  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["synthetic"]["augmenters"] == [
        {"name": "RandomCharAug", "params": {"action": "swap", "aug_char_p": 0.3}}]  # fmt: skip
    assert "perturb:RandomCharAug-swap" in manifest["counts"]["negatives_by_source"]

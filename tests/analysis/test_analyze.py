"""negmine analyze on the tiny SciFact: records per source with the documented keys, a report whose images a
browser renders, runs with their checkpoints, and one clear line (and nothing written) for each bad input."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from negmine.analysis.negatives import load_negative_set
from negmine.cli.main import cli


def analyze(*args):
    return CliRunner().invoke(cli, ["analyze", *map(str, args)])


def test_pairs_folder_gives_one_record_per_source_and_a_report(pairs_dir, tiny_model_path, tmp_path):
    out = tmp_path / "report"
    result = analyze(pairs_dir, "--out", out, "--reference", tiny_model_path, "--clusters", 3, "--no-umap")
    assert result.exit_code == 0, result.output
    records = json.loads((out / "metrics.json").read_text())
    nset = load_negative_set(pairs_dir)
    assert [r["source"] for r in records] == ["all", *nset.sources()]
    everything = records[0]
    assert everything["negatives"] == len(nset.negatives) == sum(r["negatives"] for r in records[1:])
    for key in ("hardness.margin.mean", "hardness.rank.median", "hardness.infonce_share.mean", "diversity.vendi",
                "diversity.cluster_entropy", "gap.frechet_corpus", "gap.mmd_corpus", "gap.score_wasserstein",
                "false_negatives.sister", "false_negatives.inversion", "framework.score_gap_hardness.mean",
                "framework.coverage", "framework.score_kl"):  # fmt: skip
        assert key in everything, key
    assert 1 <= everything["diversity.vendi"] <= everything["negatives"]
    assert 0 <= everything["false_negatives.inversion"] <= 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["records"] == len(records) and manifest["inputs"]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 1 and "violins.png" in (out / "report.md").read_text()
    # the same inputs and seed give the same numbers
    again = analyze(pairs_dir, "--out", tmp_path / "again", "--reference", tiny_model_path, "--clusters", 3,
                    "--no-umap")  # fmt: skip
    assert again.exit_code == 0
    assert json.loads((tmp_path / "again" / "metrics.json").read_text()) == records


def test_margins_match_scores_computed_by_hand(pairs_dir, tiny_model_path, tmp_path):
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "report"
    assert analyze(pairs_dir, "--out", out, "--reference", tiny_model_path, "--clusters", 3,
                   "--no-umap").exit_code == 0  # fmt: skip
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    frame = pd.read_parquet(pairs_dir / "pairs.parquet")
    margins = []
    for row in frame.to_dict("records"):
        q = model.encode_query([row["anchor"]], normalize_embeddings=True)[0]
        p, n1, n2 = model.encode_document([row["positive"], row["negative_1"], row["negative_2"]],
                                          normalize_embeddings=True)  # fmt: skip
        margins += [q @ p - q @ n1, q @ p - q @ n2]
    record = json.loads((out / "metrics.json").read_text())[0]
    assert record["hardness.margin.mean"] == pytest.approx(float(np.mean(margins)), abs=1e-4)


def test_umap_map_is_drawn(pairs_dir, tiny_model_path, tmp_path):
    pytest.importorskip("umap")
    out = tmp_path / "report"
    result = analyze(pairs_dir, "--out", out, "--reference", tiny_model_path, "--clusters", 3)
    assert result.exit_code == 0, result.output
    assert (out / "map.png").stat().st_size > 10_000


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_report_renders_its_images_in_a_headless_browser(pairs_dir, tiny_model_path, tmp_path):
    out = tmp_path / "report"
    assert analyze(pairs_dir, "--out", out, "--reference", tiny_model_path, "--clusters", 3,
                   "--no-umap").exit_code == 0  # fmt: skip
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                          "--dump-dom", (out / "report.html").as_uri()], capture_output=True, text=True,
                         timeout=120).stdout  # fmt: skip
    assert 'data-images="1"' in dom and 'data-images-loaded="1"' in dom


def test_run_folder_adds_trained_checkpoint_and_refresh_records(tmp_path, tiny_model_path, tiny_recipe):
    import yaml

    recipe = tiny_recipe({"save_strategy": "epoch", "save_total_limit": 3}, refresh={"every_epochs": 1},
                         output_dir=str(tmp_path / "runs" / "tiny-seed1"))  # fmt: skip
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    trained = CliRunner().invoke(cli, ["train", str(tmp_path / "recipe.yaml")])
    assert trained.exit_code == 0, trained.output
    out = tmp_path / "report"
    result = analyze(tmp_path / "runs", "--out", out, "--reference", tiny_model_path, "--clusters", 3,
                     "--no-umap")  # fmt: skip
    assert result.exit_code == 0, result.output
    records = [r for r in json.loads((out / "metrics.json").read_text()) if r["source"] == "all"]
    encoders = [r["encoder"] for r in records]
    assert encoders[:2] == ["reference", "trained"] and any(e.startswith("checkpoint-") for e in encoders)
    assert all(r["recipe"] == "tiny" and r["seed"] == 1 and "validation.ndcg@10" in r for r in records)
    checkpoint = next(r for r in records if r["encoder"].startswith("checkpoint-"))
    assert 0 <= checkpoint["checkpoint.validation.ndcg@10"] <= 1 and "geometry.cka_reference" in checkpoint
    assert {"evolution.png", "hardness_diversity.png"} <= {p.name for p in out.iterdir()}
    refreshes = json.loads((out / "dynamics.json").read_text())
    assert [e["set"] for e in refreshes] == ["tiny-seed1", "tiny-seed1"] and all("score_gap" in e for e in refreshes)


def test_bad_inputs_are_one_line_and_write_nothing(pairs_dir, tiny_model_path, tmp_path):
    out = tmp_path / "report"
    stray = tmp_path / "stray"
    stray.mkdir()
    result = analyze(stray, "--out", out, "--reference", tiny_model_path)
    assert result.exit_code == 1 and "neither a pairs folder" in result.output and not out.exists()

    run = tmp_path / "run"
    run.mkdir()
    (run / "recipe.yaml").write_text("model: {name: x}\n")
    (run / "metrics.json").write_text("{}\n")
    result = analyze(run, "--out", out, "--reference", tiny_model_path)
    assert result.exit_code == 1 and "a run without its pairs" in result.output and not out.exists()

    empty = tmp_path / "empty"
    shutil.copytree(pairs_dir, empty)
    frame = pd.read_parquet(empty / "pairs.parquet").iloc[:0]
    frame.to_parquet(empty / "pairs.parquet")
    result = analyze(empty, "--out", out, "--reference", tiny_model_path)
    assert result.exit_code == 1 and "no negatives in these pairs" in result.output and not out.exists()

    out.mkdir()
    result = analyze(pairs_dir, "--out", out, "--reference", tiny_model_path)
    assert result.exit_code == 1 and "already exists (pass --overwrite" in result.output
    assert "Traceback" not in result.output


def test_a_model_of_another_dimension_than_the_cached_vectors_is_one_line(pairs_dir, tiny_model_path, tmp_path):
    from negmine.encode import Encoder
    from negmine.errors import NegmineError
    from negmine.models import load_model

    model = load_model(str(tiny_model_path))
    encoder = Encoder(model, cache_dir=tmp_path / "cache", show_progress_bar=False)
    folder = encoder.cache_folder("document")
    Encoder._write_shard(folder, np.array([b"0" * 64], dtype="S64"), np.zeros((1, 7), dtype=np.float32))
    with pytest.raises(NegmineError, match="cached 7-dimensional vectors, but the model gives 32"):
        encoder.encode(["aspirin"], role="document")


def test_a_judge_adds_its_false_negative_share(pairs_dir, tiny_model_path, tmp_path):
    out = tmp_path / "report"
    result = analyze(pairs_dir, "--out", out, "--reference", tiny_model_path, "--judge", tiny_model_path,
                     "--clusters", 3, "--no-umap")  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads((out / "metrics.json").read_text())[0]
    # the judge is the reference model itself, so it flags exactly what the inversion estimate flags
    assert record["false_negatives.judge"] == pytest.approx(record["false_negatives.inversion"])


def test_a_cross_encoder_judge_is_recognised_and_scores_pairs(tmp_path, tiny_model_path):
    from sentence_transformers import CrossEncoder
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from negmine.analysis.false_negatives import judge_scores, load_judge

    hf = tiny_model_path.parent / "hf"
    config = BertConfig(vocab_size=len((hf / "vocab.txt").read_text().splitlines()), hidden_size=32,
                        num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, num_labels=1)  # fmt: skip
    folder = tmp_path / "cross"
    BertForSequenceClassification(config).save_pretrained(folder)
    BertTokenizerFast(vocab_file=str(hf / "vocab.txt")).save_pretrained(folder)
    judge = load_judge(str(folder))
    assert isinstance(judge, CrossEncoder)
    scores = judge_scores(judge, ["aspirin lowers risk", "aspirin lowers risk"], ["aspirin", "aspirin"])
    assert scores.shape == (2,) and scores[0] == pytest.approx(scores[1])


@pytest.mark.parametrize("fixture", ["scifact_dir", "beir_dir"])
def test_synthetic_negatives_are_measured_but_never_counted_as_corpus_documents(fixture, tiny_model_path, tmp_path,
                                                                                 request):  # fmt: skip
    pytest.importorskip("nlpaug")
    pytest.importorskip("lemminflect")
    from negmine.augment.spec import SyntheticConfig
    from negmine.mining.static import MiningParams
    from negmine.pairs import PairsConfig, build_pairs

    config = PairsConfig(dataset=str(request.getfixturevalue(fixture)), model=str(tiny_model_path),
                         validation_fraction=0, output_format="n-tuple", cache_dir=str(tmp_path / "cache"),
                         mining=MiningParams(range_min=0, range_max=6, relative_margin=None, num_negatives=1),
                         synthetic=SyntheticConfig(perturb=1, swap=1, reverse=1))  # fmt: skip
    build_pairs(config, tmp_path / "pairs", show_progress_bar=False)
    out = tmp_path / "report"
    result = analyze(tmp_path / "pairs", "--out", out, "--reference", tiny_model_path, "--clusters", 2, "--no-umap")
    assert result.exit_code == 0, result.output
    records = {r["source"]: r for r in json.loads((out / "metrics.json").read_text())}
    generated = [s for s in records if s.split(":")[0] in ("perturb", "swap", "reverse")]
    assert generated
    for source in generated:
        assert records[source]["corpus_negatives"] == 0 and records[source]["false_negatives.sister"] is None
        assert records[source]["diversity.duplicate_rate"] is None
    assert records["all"]["corpus_negatives"] == records["all"]["negatives"] - sum(
        records[s]["negatives"] for s in generated)  # fmt: skip


def test_a_further_model_measures_the_same_pairs(pairs_dir, tiny_model_path, tmp_path):
    out = tmp_path / "report"
    result = analyze(pairs_dir, "--out", out, "--reference", tiny_model_path, "--model", tiny_model_path,
                     "--clusters", 3, "--no-umap")  # fmt: skip
    assert result.exit_code == 0, result.output
    records = [r for r in json.loads((out / "metrics.json").read_text()) if r["source"] == "all"]
    assert [r["encoder"] for r in records] == ["reference", "model"]
    # the same weights give the same measures
    assert records[0]["hardness.margin.mean"] == pytest.approx(records[1]["hardness.margin.mean"])


def test_labels_of_nearby_points_are_moved_apart():
    from negmine.analysis.plots import pyplot, spread_labels, strategy_of

    plt = pyplot()
    fig, ax = plt.subplots()
    ax.scatter([0, 0.01, 0.02, 1], [0, 0.01, 0, 1])
    labels = [ax.annotate(f"strategy-{i}", (x, y), xytext=(5, 4), textcoords="offset points")
              for i, (x, y) in enumerate([(0, 0), (0.01, 0.01), (0.02, 0), (1, 1)])]  # fmt: skip
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    before = [label.get_window_extent(renderer) for label in labels]
    assert before[0].overlaps(before[1])  # the test can fail: these labels start on top of each other
    spread_labels(ax, labels)
    after = [label.get_window_extent(renderer) for label in labels]
    assert not any(a.overlaps(b) for i, a in enumerate(after) for b in after[:i])
    plt.close(fig)
    assert strategy_of("semi-hard-seed3") == "semi-hard" and strategy_of("seedless") == "seedless"


def test_evolution_plot_needs_two_steps(tmp_path):
    """Runs that mined once (a 1-epoch study: every refresh record at step 0) have nothing that evolves: no plot;
    a refresh history over two steps is drawn."""
    from negmine.analysis.plots import evolution

    once = [{"set": f"dynamic-seed{i}", "source": "all", "encoder": "reference", "negatives_at": "refresh-00",
             "step": 0, "hardness.margin.mean": 0.2} for i in (1, 2)]  # fmt: skip
    gaps = [{"set": "dynamic-seed1", "step": 0, "score_gap": 0.1}]
    assert evolution(once, gaps, tmp_path / "none.png") is None and not (tmp_path / "none.png").exists()
    twice = once + [{**once[0], "negatives_at": "refresh-01", "step": 23}]
    assert evolution(twice, gaps + [{"set": "dynamic-seed1", "step": 23, "score_gap": 0.05}],
                     tmp_path / "two.png").is_file()  # fmt: skip


def test_evolution_legend_has_one_entry_a_strategy(tmp_path, monkeypatch):
    """A study's seeds share a colour and a legend entry: 3 seeds of 2 strategies give 2 entries, not 6."""
    from negmine.analysis import plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, rect=None: figures.append(fig) or path)
    records = [{"set": f"{name}-seed{seed}", "source": "all", "encoder": "reference", "negatives_at": f"refresh-0{i}",
                "step": step, "hardness.margin.mean": 0.2 + i / 10}
               for name in ("dynamic", "nosisters") for seed in (1, 2, 3)
               for i, step in enumerate((0, 23))]  # fmt: skip
    plots.evolution(records, [], tmp_path / "evolution.png")
    texts = [t.get_text() for t in figures[0].legends[0].get_texts()]
    assert texts == ["dynamic (negatives at each refresh, reference encoder, 3 runs)",
                     "nosisters (negatives at each refresh, reference encoder, 3 runs)"]  # fmt: skip
    colours = {line.get_color() for line in figures[0].axes[0].get_lines()}
    assert len(colours) == 2


def test_evolution_keeps_the_refresh_gap_off_the_margin_axis_and_draws_no_empty_panel(tmp_path, monkeypatch):
    """The training model's refresh score gap is another quantity than the reference encoder's margin: its own
    panel. Without checkpoints there is no nDCG panel, rather than an empty one."""
    from negmine.analysis import plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, rect=None: figures.append(fig) or path)
    records = [{"set": "dynamic-seed1", "source": "all", "encoder": "reference", "negatives_at": f"refresh-0{i}",
                "step": step, "hardness.margin.mean": 0.2 + i / 10, "diversity.vendi": 90.0,
                "gap.score_wasserstein": 0.1} for i, step in enumerate((0, 23))]  # fmt: skip
    gaps = [{"set": "dynamic-seed1", "step": step, "score_gap": gap} for step, gap in ((0, 0.1), (23, 0.05))]
    plots.evolution(records, gaps, tmp_path / "evolution.png")
    titles = [ax.get_title() for ax in figures[0].axes]
    assert titles == ["mean margin s(q,p) - s(q,n)", "Vendi score", "Wasserstein(pos, neg scores)",
                      "refresh score gap, training model"]  # fmt: skip
    margin, gap = figures[0].axes[0], figures[0].axes[3]
    assert [list(line.get_ydata()) for line in margin.get_lines()] == [pytest.approx([0.2, 0.3])]
    assert [list(line.get_ydata()) for line in gap.get_lines()] == [pytest.approx([0.1, 0.05])]


def test_hardness_diversity_labels_avoid_the_dots_and_noise_is_not_a_gradient(tmp_path, monkeypatch):
    """Seeds that share negatives are one dot; no label covers a dot; a quality spread inside the seed noise gets
    a colour scale of at least four seed sds, and a far outlier is grey instead of stretching the scale."""
    from negmine.analysis import plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, rect=None, layout=True: figures.append(fig) or path)
    spots = {"a": (0.10, 90.0, 0.660), "b": (0.11, 90.5, 0.662), "c": (0.30, 95.0, 0.664), "d": (0.31, 95.2, 0.661),
             "e": (0.20, 92.0, 0.663), "reverse": (-0.1, 110.0, 0.57)}  # fmt: skip
    records = [{"set": f"{name}-seed{seed}", "source": "all", "encoder": "reference", "hardness.margin.mean": h,
                "diversity.vendi": v, "validation.ndcg@10": q + 0.004 * (seed - 2)}
               for name, (h, v, q) in spots.items() for seed in (1, 2, 3)]  # fmt: skip
    plots.hardness_diversity(records, tmp_path / "hd.png")
    fig = figures[0]
    ax = fig.axes[0]
    dots = ax.collections[0]
    assert len(dots.get_offsets()) == len(spots)  # one dot a set of negatives, not one a run
    low, high = dots.norm.vmin, dots.norm.vmax
    assert high - low >= 4 * 0.004 - 1e-9 and low > 0.6  # the seed sd is 0.004; reverse (0.57) is not in the span
    renderer = fig.canvas.get_renderer()
    centres = ax.transData.transform(dots.get_offsets())
    from matplotlib.text import Text

    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]  # the texts, not their leader lines
    assert not any(b.x0 <= x <= b.x1 and b.y0 <= y <= b.y1 for b in boxes for x, y in centres)
    assert "reverse" in fig.axes[1].get_ylabel()


def test_the_summary_leaves_out_and_names_metrics_that_are_zero_everywhere():
    from negmine.analysis.report import summary_rows

    records = [{"set": "a", "encoder": "reference", "hardness.margin.mean": 0.2, "false_negatives.sister": 0.0},
               {"set": "b", "encoder": "reference", "hardness.margin.mean": 0.0, "false_negatives.sister": 0}]
    rows, columns, zero = summary_rows(records)
    assert "margin" in columns and "FN sister" not in columns and zero == ["FN sister"]
    assert rows[1]["margin"] == 0.0  # a zero in a column that is not all zero stays


def test_hardness_diversity_colours_every_run_it_draws(tmp_path, monkeypatch):
    """Seeds with their own negatives are one dot each: a run below every strategy's mean is inside the colour
    span (coloured, not grey as if it were a far outlier)."""
    from negmine.analysis import plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, rect=None, layout=True: figures.append(fig) or path)
    quality = {"a": [0.70, 0.76, 0.77], "b": [0.74, 0.75, 0.76], "c": [0.745, 0.75, 0.755]}
    records = [{"set": f"{name}-seed{seed}", "source": "all", "encoder": "reference",
                "hardness.margin.mean": 0.1 * k + 0.01 * seed, "diversity.vendi": 90.0 + seed,
                "validation.ndcg@10": q} for k, (name, qs) in enumerate(quality.items())
               for seed, q in enumerate(qs, start=1)]  # fmt: skip
    plots.hardness_diversity(records, tmp_path / "hd.png")
    dots = figures[0].axes[0].collections[0]
    assert len(dots.get_offsets()) == 9
    assert dots.norm.vmin <= 0.70 and dots.norm.vmax >= 0.77  # the lowest and highest runs are coloured
    assert "grey" not in figures[0].axes[1].get_ylabel()

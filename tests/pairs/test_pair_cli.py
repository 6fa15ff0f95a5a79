"""``negmine build-pairs`` on a user's own pairs: a CSV, a JSONL file and a saved Dataset, as a new user types them;
the FlagEmbedding and Tevatron exports read back with the target's field names; bad files exit with one line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from datasets import Dataset, load_from_disk

from negmine.cli.main import cli
from negmine.data.pairs import read_pairs

WINDOW = ["--range-min", "0", "--range-max", "10"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_a_csv_a_jsonl_and_a_saved_dataset_each_build_pairs(pairs_data, pairs_model_path, tmp_path):
    Dataset.from_json(str(pairs_data / "qa.jsonl")).save_to_disk(str(tmp_path / "saved"))
    for name, source in (("csv", pairs_data / "qa.csv"), ("jsonl", pairs_data / "qa.jsonl"),
                         ("saved", tmp_path / "saved")):
        out = tmp_path / f"pairs-{name}"
        result = run("build-pairs", source, "--anchor-column", "question", "--positive-column", "answer",
                     "--out", out, "--model", pairs_model_path, *WINDOW, "--cache-dir", tmp_path / "cache")
        assert result.exit_code == 0, result.output
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["data"]["scifact_habits"] is False and manifest["data"]["noise_filter"] is False
        assert manifest["counts"]["split_queries"] == 23  # no validation carve on pair data
        dataset = load_from_disk(str(out / "dataset"))
        positives = {}
        for row in Dataset.from_json(str(pairs_data / "qa.jsonl")):
            positives.setdefault(row["question"], set()).add(row["answer"])
        assert len(dataset) > 0
        for row in dataset:
            assert row["negative"] not in positives[row["anchor"]]  # no negative is a known positive
            assert row["negative"] != row["anchor"]


def test_pair_data_mines_from_rank_0_unless_told_while_scifact_keeps_rank_10(pairs_data, pairs_model_path,
                                                                             scifact_dir, tmp_path):
    """Pair data's window starts at rank 0 (its measured default); a --range-min given on the command line or in a
    --config file wins; SciFact and BEIR keep MiningParams' 10."""
    from negmine.pairs.build import PairsConfig

    (tmp_path / "pairs.yaml").write_text("mining:\n  range_min: 4\n")
    starts = {}
    options = {"default": [], "option": ["--range-min", "2"], "config": ["--config", tmp_path / "pairs.yaml"]}
    for name, extra in options.items():  # --range-max 10 alone is a valid window for pair data
        out = tmp_path / f"pairs-{name}"
        result = run("build-pairs", pairs_data / "qa.csv", "--anchor-column", "question", "--positive-column",
                     "answer", "--out", out, "--model", pairs_model_path, "--range-max", "10", *extra,
                     "--cache-dir", tmp_path / "cache")  # fmt: skip
        assert result.exit_code == 0, result.output
        starts[name] = json.loads((out / "manifest.json").read_text())["parameters"]["mining"]["range_min"]
    assert starts == {"default": 0, "option": 2, "config": 4}
    assert PairsConfig(dataset=str(scifact_dir)).mining.range_min == 10
    assert PairsConfig(dataset="scifact").mining.range_min == 10


def test_a_csv_mined_with_texts_and_vectors_on_disk_gives_the_in_memory_folder(pairs_data, pairs_model_path,
                                                                                tmp_path, monkeypatch):
    """``--vectors-on-disk`` on pair data keeps the texts on disk too and writes the rows in chunks (two anchors a
    chunk here): with every IVF cell probed and the candidates re-scored, the folder holds the in-memory rows."""
    pytest.importorskip("faiss")
    import negmine.pairs.build

    monkeypatch.setattr(negmine.pairs.build, "ROW_CHUNK", 2)
    common = [pairs_data / "qa.csv", "--corpus", pairs_data / "corpus.txt", "--model", pairs_model_path, *WINDOW,
              "--output-format", "n-tuple", "--num-negatives", "2", "--export", "flagembedding",
              "--cache-dir", tmp_path / "cache"]
    assert run("build-pairs", *common, "--out", tmp_path / "memory").exit_code == 0
    result = run("build-pairs", *common, "--out", tmp_path / "disk", "--vectors-on-disk", "--index-factory",
                 "IVF2,SQ8", "--nprobe", "2", "--refine", "8")
    assert result.exit_code == 0, result.output
    memory, disk = (load_from_disk(str(tmp_path / name / "dataset")) for name in ("memory", "disk"))
    for column in ("anchor", "positive", "negative_1", "negative_2", "negative_ids", "negative_sources"):
        assert list(disk[column]) == list(memory[column])
    assert [json.loads(line)["neg"] for line in (tmp_path / "disk" / "flagembedding.jsonl").read_text().splitlines()
            ] == [json.loads(line)["neg"] for line in (tmp_path / "memory" / "flagembedding.jsonl").read_text(
            ).splitlines()]  # fmt: skip
    manifest = json.loads((tmp_path / "disk" / "manifest.json").read_text())
    assert manifest["data"]["texts_on_disk"] is True and manifest["counts"]["rows"] == len(memory)
    assert sorted(p.name for p in (tmp_path / "disk").iterdir()) == [
        "README.md", "dataset", "flagembedding.jsonl", "manifest.json", "pairs.parquet", "timings.json"]
    assert list((tmp_path / "cache" / "texts").iterdir()) == []


def test_exports_read_back_with_the_targets_field_names(pairs_data, pairs_model_path, tmp_path):
    out = tmp_path / "pairs"
    result = run("build-pairs", pairs_data / "qa.csv", "--out", out, "--model", pairs_model_path, *WINDOW,
                 "--export", "flagembedding", "--export", "tevatron", "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    flag = [json.loads(line) for line in (out / "flagembedding.jsonl").read_text().splitlines()]
    assert set(flag[0]) == {"query", "pos", "neg", "pos_scores", "neg_scores"}
    assert all(len(r["pos"]) == len(r["pos_scores"]) and len(r["neg"]) == len(r["neg_scores"]) for r in flag)
    tevatron = [json.loads(line) for line in (out / "tevatron.jsonl").read_text().splitlines()]
    assert set(tevatron[0]) == {"query_id", "query", "positive_passages", "negative_passages"}
    assert set(tevatron[0]["positive_passages"][0]) == {"docid", "title", "text"}
    negatives = json.loads((out / "manifest.json").read_text())["counts"]["negatives"]
    assert sum(len(r["neg"]) for r in flag) == negatives > 0
    for path in (out / "flagembedding.jsonl", out / "tevatron.jsonl"):  # and negmine reads them back
        data = read_pairs(path)
        assert len(data.queries) == 23 and sum(map(len, data.given_negatives.values())) == negatives


def test_a_flagembedding_file_keeps_its_negatives_marked_given(pairs_data, pairs_model_path, tmp_path):
    out = tmp_path / "pairs"
    result = run("build-pairs", pairs_data / "flag.jsonl", "--corpus", pairs_data / "corpus.txt", "--out", out,
                 "--model", pairs_model_path, *WINDOW, "--output-format", "n-tuple", "--cache-dir", tmp_path / "c")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["negatives_by_source"]["given"] == 3
    first = load_from_disk(str(out / "dataset"))[0]
    assert first["negative_sources"][:2] == ["given", "given"]


@pytest.mark.parametrize("content, message", [
    ("question,answer\nWhy?,Because.\n",
     "Error: {path}: no positive column 'reply' (columns found: question, answer)"),
    ("question,reply\nWhy?,Why?\n", "Error: {path}: line 2, column 'reply': the positive is the anchor's own text"),
])
def test_a_bad_file_exits_with_one_line_and_writes_nothing(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = run("build-pairs", path, "--anchor-column", "question", "--positive-column", "reply",
                 "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == message.format(path=path)
    assert not (tmp_path / "out").exists()


def test_the_audit_loop_closes_on_pair_data(pairs_data, pairs_model_path, tmp_path):
    """build-pairs -> negmine audit -> a decision -> build-pairs --relabel: the document marked relevant becomes a
    positive of its anchor and is never its negative again."""
    import csv

    source = ["build-pairs", pairs_data / "qa.csv", "--corpus", pairs_data / "corpus.txt", "--model",
              pairs_model_path, *WINDOW, "--cache-dir", tmp_path / "cache"]
    assert run(*source, "--out", tmp_path / "pairs").exit_code == 0
    result = run("audit", tmp_path / "pairs", "--out", tmp_path / "audit.csv", "--top", 3, "--reference",
                 pairs_model_path, "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "audit.csv").open()))
    rows[0]["decision"] = "relevant"
    with (tmp_path / "decided.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = run(*source, "--out", tmp_path / "relabelled", "--relabel", tmp_path / "decided.csv")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "relabelled" / "manifest.json").read_text())
    assert manifest["relabel"]["relevant"] == [[rows[0]["query_id"], rows[0]["negative_id"]]]
    relabelled = load_from_disk(str(tmp_path / "relabelled" / "dataset"))
    mine = [r for r in relabelled if r["query_id"] == rows[0]["query_id"]]
    assert rows[0]["negative_id"] in {r["positive_id"] for r in mine}
    assert rows[0]["negative_id"] not in {r["negative_id"] for r in mine}


def test_the_readmes_python_call_mines_what_build_pairs_mines_by_default(pairs_data, pairs_model_path, tmp_path):
    """README: ``mine_hard_negatives(dataset, model, range_max=100, relative_margin=0.05, num_negatives=3,
    output_format="n-tuple", lexical=True)`` is build-pairs' default mining for pair data."""
    from negmine import mine_hard_negatives
    from negmine.models import load_model

    out = tmp_path / "pairs"
    result = run("build-pairs", pairs_data / "qa.csv", "--anchor-column", "question", "--positive-column", "answer",
                 "--out", out, "--model", pairs_model_path, "--output-format", "n-tuple",
                 "--cache-dir", tmp_path / "cache")  # fmt: skip
    assert result.exit_code == 0, result.output
    built = load_from_disk(str(out / "dataset"))
    dataset = Dataset.from_csv(str(pairs_data / "qa.csv")).select_columns(["question", "answer"])
    called = mine_hard_negatives(dataset, load_model(pairs_model_path), range_max=100, relative_margin=0.05,
                                 num_negatives=3, output_format="n-tuple", lexical=True, batch_size=64,
                                 verbose=False).rename_columns({"question": "anchor", "answer": "positive"})
    columns = ["anchor", "positive", "negative_1", "negative_2", "negative_3"]
    assert len(built) > 0
    assert built.select_columns(columns).to_list() == called.select_columns(columns).to_list()

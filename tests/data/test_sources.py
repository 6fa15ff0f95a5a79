"""Where data lives (--data-dir, $NEGMINE_DATA, ./data), SciFact's held-out split names, and the hub fallback."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from negmine.data import data_root, load_retrieval
from negmine.errors import NegmineError


def test_data_root_order(monkeypatch, tmp_path):
    monkeypatch.setenv("NEGMINE_DATA", str(tmp_path / "env"))
    assert data_root(tmp_path / "flag") == tmp_path / "flag"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv("NEGMINE_DATA")
    assert data_root() == Path("data")


def test_name_under_root_from_env(monkeypatch, scifact_dir, tmp_path):
    shutil.copytree(scifact_dir, tmp_path / "scifact")
    monkeypatch.setenv("NEGMINE_DATA", str(tmp_path))
    assert len(load_retrieval("scifact", "train", validation_fraction=0).queries) == 10


def test_dev_and_test_are_the_same_held_out_claims(scifact_dir, tmp_path):
    dev = load_retrieval(scifact_dir, "dev")
    test = load_retrieval(scifact_dir, "test")  # no beir/qrels/test.tsv: falls back to claims_dev.jsonl
    assert dev.qrels == test.qrels == {"20": {"112": 1}, "21": {"102": 1}, "22": {"104": 1}}
    assert test.split == "test"


def test_test_split_prefers_beir_qrels(scifact_dir, tmp_path):
    folder = tmp_path / "scifact"
    shutil.copytree(scifact_dir, folder)
    (folder / "claims_dev.jsonl").unlink()
    (folder / "beir" / "qrels").mkdir(parents=True)
    (folder / "beir" / "corpus.jsonl").write_text('{"_id": "112", "title": "t", "text": "aspirin bleeding"}\n')
    (folder / "beir" / "queries.jsonl").write_text(
        '{"_id": "20", "text": "Aspirin increases the risk of bleeding."}\n'
    )
    (folder / "beir" / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n20\t112\t1\n")
    assert load_retrieval(folder, "test").qrels == {"20": {"112": 1}}
    assert load_retrieval(folder, "dev").split == "dev"  # dev falls back to BEIR's test split


def test_held_out_split_missing_is_one_clear_line(scifact_dir, tmp_path):
    folder = tmp_path / "scifact"
    shutil.copytree(scifact_dir, folder)
    (folder / "claims_dev.jsonl").unlink()
    with pytest.raises(NegmineError, match="held out; put claims_dev.jsonl in"):
        load_retrieval(folder, "dev")


def test_missing_dataset_offline_says_which_files(tmp_path):
    with pytest.raises(NegmineError) as error:
        load_retrieval("scifact", "train", data_dir=tmp_path)
    message = str(error.value)
    assert "\n" not in message
    assert f"put corpus.jsonl and claims_train.jsonl (the SciFact release) in {tmp_path / 'scifact'}/" in message
    assert "offline" in message
    assert not (tmp_path / "scifact").exists()


def test_hub_fallback_writes_beir_layout(monkeypatch, tmp_path, beir_dir):
    """The online path, with the hub replaced by files from the tiny BEIR fixture."""
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    remote = tmp_path / "remote"
    remote.mkdir()
    for name in ("corpus.jsonl", "queries.jsonl"):
        with gzip.open(remote / f"{name}.gz", "wb") as out:
            out.write((beir_dir / name).read_bytes())
    for split in ("train", "test"):
        shutil.copy(beir_dir / "qrels" / f"{split}.tsv", remote / f"{split}.tsv")
    asked = []

    def fake_download(repo_id, filename, repo_type):
        asked.append((repo_id, filename, repo_type))
        return str(remote / filename)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    data = load_retrieval("scifact", "test", data_dir=tmp_path / "root")
    assert ("BeIR/scifact", "corpus.jsonl.gz", "dataset") in asked
    assert ("BeIR/scifact-qrels", "test.tsv", "dataset") in asked
    assert (tmp_path / "root" / "scifact" / "beir" / "qrels" / "train.tsv").is_file()
    assert data.qrels == {"q5": {"bake-1": 1}, "q6": {"sql-2": 1}}


def test_unknown_dataset_names_the_beir_layout(tmp_path):
    with pytest.raises(NegmineError, match=r"dataset 'nfcorpus' not found: put corpus.jsonl, queries.jsonl"):
        load_retrieval("nfcorpus", "train", data_dir=tmp_path)


@pytest.fixture
def with_test_claims(scifact_dir, tmp_path):
    """The tiny release with claims_test.jsonl citing documents (the fixture's own cites none)."""
    folder = tmp_path / "scifact"
    shutil.copytree(scifact_dir, folder)
    (folder / "claims_test.jsonl").write_text(
        '{"id": 30, "claim": "Bed nets prevent malaria in adults.", "cited_doc_ids": [104]}\n'
        '{"id": 31, "claim": "Coffee cures cancer.", "cited_doc_ids": []}\n'
    )
    return folder


def test_extra_training_claims_join_train_after_the_carve(with_test_claims):
    plain = load_retrieval(with_test_claims, "train", validation_fraction=0.3, seed=1)
    extra = load_retrieval(with_test_claims, "train", validation_fraction=0.3, seed=1,
                           extra_training=["scifact_test_claims"])  # fmt: skip
    assert set(extra.queries) - set(plain.queries) == {"30", "31"}
    assert extra.relevant_docs()["30"] == {"104"} and "31" not in extra.relevant_docs()  # no cited doc: no anchor
    assert any(source.endswith("claims_test.jsonl") for source in extra.sources)
    for split in ("validation", "dev"):  # never changed by the extra source
        kwargs = dict(validation_fraction=0.3, seed=1)
        assert load_retrieval(with_test_claims, split, **kwargs).queries == load_retrieval(
            with_test_claims, split, extra_training=["scifact_test_claims"], **kwargs).queries


def test_extra_training_needs_the_file_and_retrieval_labels(with_test_claims, scifact_dir, tmp_path, tiny_model_path):
    from negmine.pairs import PairsConfig, build_pairs

    uncited = '{"id": 31, "claim": "Coffee cures cancer.", "cited_doc_ids": []}\n'
    (with_test_claims / "claims_test.jsonl").write_text(uncited)
    with pytest.raises(NegmineError, match="none of its 1 claims has cited_doc_ids"):  # as in the shared copy
        load_retrieval(with_test_claims, "train", validation_fraction=0, extra_training=["scifact_test_claims"])
    (with_test_claims / "claims_test.jsonl").unlink()
    with pytest.raises(NegmineError, match="needs the SciFact release's claims_test.jsonl"):
        load_retrieval(with_test_claims, "train", validation_fraction=0, extra_training=["scifact_test_claims"])
    with pytest.raises(NegmineError, match="unknown source"):
        load_retrieval(scifact_dir, "train", validation_fraction=0, extra_training=["claims_dev"])
    config = PairsConfig(dataset=str(scifact_dir), model=str(tiny_model_path), task="verification",
                         extra_training=["scifact_test_claims"])  # fmt: skip
    with pytest.raises(NegmineError, match="no SUPPORT / CONTRADICT labels"):
        build_pairs(config, tmp_path / "out")

"""build-pairs on the tiny SciFact: no negative is a cited document, each format has its columns, verification
labels become negatives, outputs are atomic, protected and reproducible."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from datasets import load_from_disk

from negmine.errors import NegmineError
from negmine.mining.static import MiningParams
from negmine.pairs import PairsConfig, build_pairs, training_view
from negmine.pairs.build import streamed_nprobe

OPEN = MiningParams(range_min=0, range_max=6, relative_margin=None, num_negatives=2)


def config(scifact_dir, tiny_model_path, tmp_path, **changes):
    values = dict(dataset=str(scifact_dir), model=str(tiny_model_path), validation_fraction=0, mining=OPEN,
                  cache_dir=str(tmp_path / "cache"))  # fmt: skip
    return PairsConfig(**{**values, **changes})


def cited(scifact_dir):
    from negmine.data import SciFactRelease

    return {str(c.id): {str(d) for d in c.evidence} for c in SciFactRelease.load(scifact_dir).claims["train"].values()}


def test_triplets_never_use_a_cited_document_as_negative(scifact_dir, tiny_model_path, tmp_path):
    dataset, manifest = build_pairs(config(scifact_dir, tiny_model_path, tmp_path), tmp_path / "out")
    known = cited(scifact_dir)
    assert len(dataset) > 0
    for row in dataset:
        assert row["negative_id"] not in known[row["query_id"]]
        assert row["negative_source"] in {"dense", "lexical", "dense+lexical"}
        assert row["negative_id"] not in {"110", "111"}  # retracted / too short: never negatives
    assert manifest["counts"]["anchors"] == 10 and manifest["counts"]["positives"] == 12
    assert manifest["counts"]["noise_documents"] == {"short": 1, "retracted": 1}
    assert manifest["mining"]["removed"]["positive"] > 0
    assert set(manifest["score_stats"]) == {"positive", "negative", "gap"}
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert files == {"dataset", "pairs.parquet", "manifest.json", "timings.json", "README.md"}
    assert load_from_disk(str(tmp_path / "out" / "dataset")).num_rows == len(dataset)
    assert list(training_view(dataset, "triplet").column_names) == ["anchor", "positive", "negative"]


def test_verification_turns_contradict_and_noinfo_into_labelled_negatives(scifact_dir, tiny_model_path, tmp_path):
    dataset, manifest = build_pairs(config(scifact_dir, tiny_model_path, tmp_path, task="verification",
                                           weighting="label"), tmp_path / "out")  # fmt: skip
    frame = dataset.to_pandas()
    assert set(frame["positive_relation"]) == {"SUPPORT"}
    labelled = frame[frame["negative_source"] == "label"]
    assert set(zip(labelled["query_id"], labelled["negative_id"], labelled["negative_relation"], strict=True)) == {
        ("1", "109", "NOINFO")
    }  # claim 1 supports 101 and only cites 109; claim 3 has no SUPPORT doc
    assert manifest["counts"]["skipped_without_positive"] == 4  # claims 3, 5, 6 (CONTRADICT) and 7 (NOINFO)


@pytest.mark.parametrize("output_format", ["n-tuple", "labeled-pair", "labeled-list"])
def test_formats(output_format, scifact_dir, tiny_model_path, tmp_path):
    dataset, _ = build_pairs(config(scifact_dir, tiny_model_path, tmp_path, output_format=output_format),
                             tmp_path / "out")  # fmt: skip
    view = training_view(dataset, output_format)
    if output_format == "n-tuple":
        assert view.column_names == ["anchor", "positive", "negative_1", "negative_2"]
        assert all(len(row["negative_ids"]) == 2 for row in dataset)
    elif output_format == "labeled-pair":
        assert view.column_names == ["anchor", "document", "label"] and set(dataset["label"]) == {0, 1}
    else:
        row = dataset[0]
        assert row["labels"][0] == 1 and len(row["documents"]) == len(row["labels"]) == len(row["sources"])


def test_weights_topic_and_corpus_pairs(scifact_dir, tiny_model_path, tmp_path):
    cfg = config(scifact_dir, tiny_model_path, tmp_path, weighting="label", topic_negatives=1,
                 corpus_pairs=["title", "ict"])  # fmt: skip
    dataset, manifest = build_pairs(cfg, tmp_path / "out")
    frame = dataset.to_pandas()
    claims = frame[frame["pair_type"] == "claim"]
    assert set(claims.loc[claims["positive_relation"] == "NOINFO", "weight"]) == {0.5}
    assert set(claims.loc[claims["positive_relation"] == "SUPPORT", "weight"]) == {1.0}
    assert {"title", "ict"} <= set(frame["pair_type"])
    assert "topic" in manifest["counts"]["negatives_by_source"]
    titles = frame[frame["pair_type"] == "title"]
    assert not any(t.startswith("Vitamin D supplementation and fracture") for t in titles["positive"])  # no title


def test_corpus_pairs_sample_caps_and_repeats(scifact_dir, tiny_model_path, tmp_path):
    def titles(seed):
        cfg = config(scifact_dir, tiny_model_path, tmp_path, corpus_pairs=["title"], corpus_pairs_sample=3, seed=seed)
        frame = build_pairs(cfg, tmp_path / f"out-{seed}-{len(list(tmp_path.iterdir()))}")[0].to_pandas()
        return sorted(set(frame.loc[frame["pair_type"] == "title", "anchor"]))  # a row per negative

    first = titles(0)
    assert len(first) == 3 and first == titles(0)  # capped, and the same draw for the same seed
    everything = config(scifact_dir, tiny_model_path, tmp_path, corpus_pairs=["title"])
    frame = build_pairs(everything, tmp_path / "out-all")[0].to_pandas()
    assert set(first) < set(frame.loc[frame["pair_type"] == "title", "anchor"])


def test_existing_output_needs_overwrite_and_failures_leave_nothing(scifact_dir, tiny_model_path, tmp_path,
                                                                    monkeypatch):  # fmt: skip
    cfg = config(scifact_dir, tiny_model_path, tmp_path)
    build_pairs(cfg, tmp_path / "out")
    with pytest.raises(NegmineError, match="already exists"):
        build_pairs(cfg, tmp_path / "out")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("datasets.Dataset.to_parquet", broken)
    with pytest.raises(RuntimeError):
        build_pairs(cfg, tmp_path / "other")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out"]


def test_same_seed_same_pairs(scifact_dir, tiny_model_path, tmp_path):
    cfg = config(
        scifact_dir, tiny_model_path, tmp_path, mining=OPEN.model_copy(update={"sampling_strategy": "random"})
    )
    build_pairs(cfg, tmp_path / "a")
    build_pairs(cfg, tmp_path / "b")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "pairs.parquet"),
                                  pd.read_parquet(tmp_path / "b" / "pairs.parquet"))  # fmt: skip
    first, second = (json.loads((tmp_path / d / "manifest.json").read_text()) for d in "ab")
    assert first == second


def test_without_faiss_build_pairs_mines_exactly_on_torch_the_same_negatives(scifact_dir, tiny_model_path, tmp_path,
                                                                             monkeypatch):  # fmt: skip
    cfg = config(scifact_dir, tiny_model_path, tmp_path, topic_negatives=1)
    build_pairs(cfg, tmp_path / "faiss")
    monkeypatch.setitem(__import__("sys").modules, "faiss", None)  # a plain install: `import faiss` fails
    build_pairs(cfg, tmp_path / "torch")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "faiss" / "pairs.parquet"),
                                  pd.read_parquet(tmp_path / "torch" / "pairs.parquet"))  # fmt: skip
    searchers = [json.loads((tmp_path / d / "manifest.json").read_text())["searcher"] for d in ("faiss", "torch")]
    assert searchers[0]["dense"].startswith("faiss-cpu") and searchers[1]["dense"] == "torch-cpu exact"
    with pytest.raises(NegmineError, match="needs FAISS"):
        build_pairs(config(scifact_dir, tiny_model_path, tmp_path, index_factory="IVF4,Flat"), tmp_path / "ivf")
    assert not (tmp_path / "ivf").exists()


def test_beir_folder_and_validation_carve(beir_dir, tiny_model_path, tmp_path):
    dataset, manifest = build_pairs(PairsConfig(dataset=str(beir_dir), model=str(tiny_model_path), mining=OPEN,
                                                validation_fraction=0.25, min_words=0,
                                                cache_dir=str(tmp_path / "c")), tmp_path / "out")  # fmt: skip
    assert manifest["counts"]["split_queries"] == 3  # 4 training queries, one carved out for validation
    assert set(dataset["pair_type"]) == {"query"}


def test_vectors_on_disk_mine_what_exact_search_in_memory_mines(scifact_dir, tiny_model_path, tmp_path):
    pytest.importorskip("faiss")
    memory, _ = build_pairs(config(scifact_dir, tiny_model_path, tmp_path), tmp_path / "memory")
    disk, manifest = build_pairs(config(scifact_dir, tiny_model_path, tmp_path, vectors_on_disk=True,
                                        index_factory="IVF2,SQ8", nprobe=2, refine=4), tmp_path / "disk")  # fmt: skip
    # every cell probed and 4x the candidates of a 12-document corpus: the re-scored ranking is the exact one
    for column in ("query_id", "positive_id", "negative_id", "negative_source"):
        assert disk[column] == memory[column]
    np.testing.assert_allclose(disk["negative_score"], memory["negative_score"], atol=1e-5)
    assert manifest["searcher"]["dense"].startswith("faiss-cpu streamed")
    assert manifest["searcher"]["nprobe"] == 2
    assert streamed_nprobe(PairsConfig(vectors_on_disk=True, index_factory="IVF2,SQ8")) == 4
    assert streamed_nprobe(PairsConfig(vectors_on_disk=True, index_factory="IVF2,SQ8", nprobe=1)) == 1
    with pytest.raises(NegmineError, match="Flat would hold every vector"):
        build_pairs(config(scifact_dir, tiny_model_path, tmp_path, vectors_on_disk=True), tmp_path / "flat")


def test_extra_training_claims_become_anchors(scifact_dir, tiny_model_path, tmp_path):
    import shutil

    folder = tmp_path / "scifact"
    shutil.copytree(scifact_dir, folder)
    claim = '{"id": 30, "claim": "Bed nets prevent malaria.", "cited_doc_ids": [104]}\n'
    (folder / "claims_test.jsonl").write_text(claim)
    dataset, manifest = build_pairs(config(folder, tiny_model_path, tmp_path, extra_training=["scifact_test_claims"]),
                                    tmp_path / "out")  # fmt: skip
    rows = dataset.to_pandas()
    assert set(rows[rows["query_id"] == "30"]["positive_id"]) == {"104"}
    assert manifest["counts"]["anchors"] == 11 and str(folder / "claims_test.jsonl") in manifest["inputs"]

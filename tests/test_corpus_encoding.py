"""negmine encode: the corpus into the cache, in one process or on a local Ray cluster; build-pairs then encodes no
document; a rerun encodes only missing shards; Ray's failures are one line."""

from __future__ import annotations

import numpy as np
import pytest

from negmine.corpus_encoding import _encode_on_ray, connect_ray, encode_corpus, load_corpus_texts
from negmine.encode import Encoder, text_keys
from negmine.errors import NegmineError
from negmine.models import load_model
from negmine.search.streamed import ShardedVectors

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance (2 CPUs) for the module: starting one is the slow part."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def cached_vectors(folder) -> dict[bytes, np.ndarray]:
    vectors = ShardedVectors.from_folder(folder)
    keys = np.concatenate([np.load(p / "keys.npy") for p in vectors.paths])
    return dict(zip(keys.tolist(), vectors[np.arange(len(vectors))], strict=True))


def test_ray_fills_the_cache_build_pairs_reads_and_a_rerun_encodes_only_missing_shards(
    local_ray, scifact_dir, tiny_model_path, tmp_path, monkeypatch
):
    # what a killed job leaves: some shards written, and a shard's temporary folder never renamed into place
    texts = load_corpus_texts(str(scifact_dir))
    model = load_model(str(tiny_model_path))
    folder = Encoder(model, cache_dir=tmp_path / "ray").cache_folder("document")
    Encoder(model, cache_dir=tmp_path / "ray", shard_size=4, show_progress_bar=False).encode(texts[:5])
    (folder / "partial.tmp").mkdir()
    (folder / "partial.tmp" / "embeddings.npy").write_bytes(b"half a write")
    report = encode_corpus(str(scifact_dir), model=str(tiny_model_path), cache_dir=tmp_path / "ray", shard_size=3,
                           ray_address="local", workers=2, show_progress_bar=False)  # fmt: skip
    assert report["cached_before"] == 5 and report["encoded"] == len(set(texts)) - 5 and report["shards_written"] == 3
    assert report["engine"].startswith("ray")
    again = encode_corpus(str(scifact_dir), model=str(tiny_model_path), cache_dir=tmp_path / "ray",
                          ray_address="local", show_progress_bar=False)  # fmt: skip
    assert again["encoded"] == 0 and again["engine"] == "none (all cached)"

    local = encode_corpus(str(scifact_dir), model=str(tiny_model_path), cache_dir=tmp_path / "local",
                          show_progress_bar=False)  # fmt: skip
    on_ray, in_process = cached_vectors(report["folder"]), cached_vectors(local["folder"])
    assert set(on_ray) == set(in_process) == set(text_keys(texts).tolist())
    for key, vector in in_process.items():
        np.testing.assert_allclose(on_ray[key], vector, atol=1e-6)

    from negmine.mining.static import MiningParams
    from negmine.pairs import PairsConfig, build_pairs

    roles = []
    original = Encoder._encode
    monkeypatch.setattr(Encoder, "_encode", lambda self, batch, role: roles.append(role) or original(self, batch,
                                                                                                     role))
    mining = MiningParams(range_min=0, range_max=6, relative_margin=None, num_negatives=2)
    config = PairsConfig(dataset=str(scifact_dir), model=str(tiny_model_path), validation_fraction=0,
                         cache_dir=str(tmp_path / "ray"), searchers=["dense"], mining=mining)  # fmt: skip
    build_pairs(config, tmp_path / "pairs", show_progress_bar=False)
    assert "document" not in roles and roles == ["query"]  # every document vector came from the cache


def test_a_worker_that_raises_is_one_line(local_ray, scifact_dir, tiny_model_path, tmp_path):
    texts = load_corpus_texts(str(scifact_dir))
    keys = text_keys(texts)
    with pytest.raises(NegmineError, match="a Ray worker failed: .*other weights on this worker"):
        _encode_on_ray(texts, keys, [np.arange(3)], tmp_path, str(tiny_model_path), 64, 8, "0" * 64, "local", 1,
                       False)  # fmt: skip
    assert not list(tmp_path.glob("*.shard"))


def test_unreachable_address_and_missing_ray_are_one_line(monkeypatch):
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    with pytest.raises(NegmineError, match="no Ray head answers there"):
        connect_ray("127.0.0.1:1")
    with pytest.raises(NegmineError, match="expected local, auto, host:port"):
        connect_ray("nowhere")
    monkeypatch.setitem(__import__("sys").modules, "ray", None)
    with pytest.raises(NegmineError, match=r"negmine\[distributed\]"):
        connect_ray("local")


def test_a_killed_job_leaves_whole_shards_and_a_rerun_encodes_only_the_rest(tiny_model_path, tmp_path):
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    corpus = tmp_path / "beir"
    (corpus / "qrels").mkdir(parents=True)
    with open(corpus / "corpus.jsonl", "w") as out:
        out.writelines(json.dumps({"_id": f"d{i}", "title": "", "text": f"aspirin and bleeding number {i}"}) + "\n"
                       for i in range(900))  # fmt: skip
    (corpus / "queries.jsonl").write_text(json.dumps({"_id": "q0", "text": "aspirin"}) + "\n")
    (corpus / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq0\td0\t1\n")
    command = [sys.executable, "-m", "negmine", "encode", str(corpus), "--model", str(tiny_model_path),
               "--cache-dir", str(tmp_path / "cache"), "--shard-size", "3", "--batch-size", "3"]  # fmt: skip
    job = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while not list((tmp_path / "cache").glob("*/*.shard")) and time.time() < deadline:
        time.sleep(0.01)
    os.killpg(job.pid, signal.SIGKILL)  # kill -9 mid-job
    job.wait()
    folder = next((tmp_path / "cache").iterdir())
    done = len(list(folder.glob("*.shard")))
    assert 0 < done < 300, "the job was killed before its first shard or after its last"
    from negmine.shards import iter_shards

    assert all(len(shard.keys) == 3 for shard in iter_shards(folder))  # whole shards only, every checksum good
    again = encode_corpus(str(corpus), model=str(tiny_model_path), cache_dir=tmp_path / "cache", shard_size=3,
                          show_progress_bar=False)  # fmt: skip
    assert again["cached_before"] == 3 * done and again["encoded"] == 900 - 3 * done
    assert len(list(folder.glob("*.shard"))) == 300


def test_the_local_process_pool_writes_the_single_process_vectors(scifact_dir, tiny_model_path, tmp_path):
    one = encode_corpus(str(scifact_dir), model=str(tiny_model_path), cache_dir=tmp_path / "one", shard_size=5,
                        show_progress_bar=False)  # fmt: skip
    two = encode_corpus(str(scifact_dir), model=str(tiny_model_path), cache_dir=tmp_path / "two", shard_size=5,
                        processes=2, show_progress_bar=False)  # fmt: skip
    assert two["engine"] == "local, 2 processes" and two["encoded"] == one["encoded"] > 0
    a, b = cached_vectors(one["folder"]), cached_vectors(two["folder"])
    assert set(a) == set(b)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], atol=1e-6)

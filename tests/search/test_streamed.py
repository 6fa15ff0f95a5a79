"""The streamed path: rows read back from shards, exact search over blocks, and the compressed index re-scored."""

from __future__ import annotations

import numpy as np
import pytest

from negmine.errors import NegmineError
from negmine.search.streamed import ShardedVectors, StreamedSearcher, build_streamed_index, exact_streamed
from negmine.search.torch_exact import TorchSearcher
from negmine.shards import write_shard

pytest.importorskip("faiss")


def clustered(n, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(2, n // 50), dim))
    vectors = centres[rng.integers(0, len(centres), n)] + 0.3 * rng.standard_normal((n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype("float32")


def as_shards(folder, vectors, rows):
    for start in range(0, len(vectors), rows):
        keys = np.array([f"{i:064d}".encode() for i in range(start, min(start + rows, len(vectors)))], dtype="S64")
        write_shard(folder, keys, vectors[start : start + rows])
    return ShardedVectors.from_folder(folder)


def test_rows_come_back_in_any_shape_and_order(tmp_path):
    vectors = clustered(1000)
    sharded = as_shards(tmp_path, vectors, 128)
    assert len(sharded) == 1000 and sharded.shape == (1000, 16)
    # shard names are hashes, so rows are numbered in name order: map them back through the keys
    rng = np.random.default_rng(1)
    picks = rng.integers(0, 1000, size=(7, 5))
    np.testing.assert_array_equal(sharded[picks].shape, (7, 5, 16))
    order = np.concatenate([np.load(p / "keys.npy") for p in sharded.paths]).astype(int)
    np.testing.assert_array_equal(sharded[picks], vectors[order[picks]])
    with pytest.raises(IndexError):
        sharded[np.array([1000])]


def test_exact_over_blocks_and_the_refined_index_against_exact_search(tmp_path):
    vectors = clustered(3000)
    sharded = as_shards(tmp_path, vectors, 700)
    flat = np.concatenate([b for _, b in sharded.blocks(500)])
    queries = flat[:40] + 0.05
    truth = TorchSearcher(flat, device="cpu").search(queries, 20)
    streamed = exact_streamed(sharded, queries, 20, block_rows=256)
    np.testing.assert_array_equal(streamed.indices, truth.indices)
    index = build_streamed_index(sharded, "IVF16,SQ8", nprobe=16, block_rows=300)  # every cell: exact after refine
    found = StreamedSearcher(sharded, index, refine=4, query_batch=7).search(queries, 20)
    np.testing.assert_array_equal(found.indices, truth.indices)
    np.testing.assert_allclose(found.scores, truth.scores, atol=1e-5)  # re-scored: exact inner products
    narrow = StreamedSearcher(sharded, build_streamed_index(sharded, "IVF16,PQ4x4", nprobe=1), refine=1)
    overlap = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(narrow.search(queries, 20).indices,
                                                                  truth.indices, strict=True)])  # fmt: skip
    assert overlap < 1.0  # a coarse index without refinement does miss neighbours: the test can fail


def test_bad_factory_and_damaged_shards_are_one_line(tmp_path):
    sharded = as_shards(tmp_path, clustered(500), 200)
    with pytest.raises(NegmineError, match="not a valid FAISS factory"):
        build_streamed_index(sharded, "NoSuch,Index")
    path = sharded.paths[0] / "embeddings.npy"
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(NegmineError, match="damaged cache shard"):
        sharded.verify()

"""Search a corpus larger than memory: an approximate FAISS index filled from the embedding cache's shards as a
stream, and exact re-scoring of its candidates from memory-mapped shards.

No step holds all float32 vectors at once: the index is trained on a sample (read row by row from the shards), then
filled shard block by shard block; the index itself keeps compressed codes (``IVF...,SQ8``: one byte a dimension;
``PQ``: fewer). A query's candidates (``refine`` times ``k``) are then re-scored with their exact vectors, read from
the shards for one query block at a time, so the returned scores are exact inner products and the ranking is exact
among the candidates.

References:
    Jégou, Douze and Schmid, "Product quantization for nearest neighbor search", TPAMI 2011 (IVF-ADC with
    re-ranking); Jégou et al., "Searching in one billion vectors: re-rank with source coding", ICASSP 2011.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from negmine.errors import NegmineError
from negmine.search.results import SearchResults
from negmine.shards import read_shard, shard_paths


class ShardedVectors:
    """The rows of a cache folder's shards, in shard-name order, read from memory-mapped files on demand.

    Indexing with an integer array of any shape returns the rows as a float32 array of that shape plus the dimension,
    so the miners' ``docs[indices]`` works on it unchanged.

    Args:
        paths: ``.shard`` folders (see :mod:`negmine.shards`), in the order their rows are numbered.

    Example:
        >>> import tempfile
        >>> from negmine.shards import write_shard
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = write_shard(folder, np.array([b"a" * 64, b"b" * 64], dtype="S64"), np.eye(2, dtype="float32"))
        >>> vectors = ShardedVectors.from_folder(folder)
        >>> len(vectors), vectors[np.array([1])].tolist()
        (2, [[0.0, 1.0]])
    """

    def __init__(self, paths: list[Path]):
        self.paths = [Path(p) for p in paths]
        counts, dims = [], set()
        for path in self.paths:
            if path.suffix == ".npz":
                raise NegmineError(f"{path}: an .npz shard cannot be memory-mapped; encode into a new cache folder")
            meta = json.loads((path / "meta.json").read_text())
            counts.append(meta["count"])
            dims.add(meta["dim"])
        if len(dims) > 1:
            raise NegmineError(f"shards of different dimensions {sorted(dims)}")
        self.dim = dims.pop() if dims else 0
        self.offsets = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])

    @classmethod
    def from_folder(cls, folder: str | Path) -> ShardedVectors:
        """Every shard of ``folder``."""
        return cls(shard_paths(Path(folder)))

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), self.dim

    def verify(self, show_progress_bar: bool = False) -> None:
        """Read every shard once and check its checksums; a damaged one raises :class:`NegmineError`."""
        for path in tqdm(self.paths, desc="verify shards", disable=not show_progress_bar):
            try:
                read_shard(path, mmap=True, verify=True)
            except ValueError as error:
                raise NegmineError(f"damaged cache shard: {error}") from None

    def _mapped(self, shard: int) -> np.ndarray:
        return np.load(self.paths[shard] / "embeddings.npy", mmap_mode="r")

    def blocks(self, rows: int = 65_536) -> Iterator[tuple[int, np.ndarray]]:
        """``(first row, block)`` in order, each block a copy of at most ``rows`` rows (the mapping is let go)."""
        for shard in range(len(self.paths)):
            mapped = self._mapped(shard)
            for start in range(0, len(mapped), rows):
                yield int(self.offsets[shard]) + start, np.array(mapped[start : start + rows], dtype=np.float32)
            del mapped

    def __getitem__(self, indices) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64)
        flat = indices.reshape(-1)
        if flat.size and (flat.min() < 0 or flat.max() >= len(self)):
            raise IndexError(f"row index out of range 0..{len(self) - 1}")
        out = np.empty((flat.size, self.dim), dtype=np.float32)
        order = np.argsort(flat, kind="stable")
        shard_of = np.searchsorted(self.offsets, flat[order], side="right") - 1
        bounds = np.searchsorted(shard_of, np.arange(len(self.paths) + 1))
        for shard in np.unique(shard_of):
            positions = order[bounds[shard] : bounds[shard + 1]]
            mapped = self._mapped(int(shard))  # mapped for this read only: resident pages are let go after
            out[positions] = mapped[flat[positions] - self.offsets[shard]]
            del mapped
        return out.reshape(*indices.shape, self.dim)


class RowView:
    """Chosen rows of :class:`ShardedVectors` in a given order: a corpus's vectors as found in a shared cache folder
    (whose shards may also hold other corpora's texts), numbered as the corpus numbers its documents.

    Args:
        vectors: the cache folder's :class:`ShardedVectors`.
        rows: ``rows[i]`` is the row of ``vectors`` that holds item ``i``.

    Example:
        >>> import tempfile
        >>> from negmine.shards import write_shard
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = write_shard(folder, np.array([b"a" * 64, b"b" * 64], dtype="S64"), np.eye(2, dtype="float32"))
        >>> view = RowView(ShardedVectors.from_folder(folder), np.array([1, 0, 1]))
        >>> len(view), view[np.array([0, 1])].tolist()
        (3, [[0.0, 1.0], [1.0, 0.0]])
    """

    def __init__(self, vectors: ShardedVectors, rows: np.ndarray):
        self.vectors = vectors
        self.rows = np.asarray(rows, dtype=np.int64)
        self.dim = vectors.dim

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), self.dim

    def __getitem__(self, indices) -> np.ndarray:
        return self.vectors[self.rows[np.asarray(indices, dtype=np.int64)]]

    def blocks(self, rows: int = 65_536) -> Iterator[tuple[int, np.ndarray]]:
        """``(first item, block)`` in item order, each block a copy of at most ``rows`` rows."""
        for start in range(0, len(self), rows):
            yield start, self[np.arange(start, min(start + rows, len(self)))]


def build_streamed_index(
    vectors: ShardedVectors | RowView,
    factory: str,
    train_size: int | None = None,
    seed: int = 0,
    nprobe: int | None = None,
    niter: int = 10,
    block_rows: int = 65_536,
    show_progress_bar: bool = False,
):
    """A FAISS index of ``factory`` trained on a sample and filled block by block from ``vectors``.

    Args:
        vectors: the corpus as :class:`ShardedVectors` or :class:`RowView`.
        factory: a FAISS factory string with compressed codes, e.g. ``IVF4096,SQ8`` or ``IVF4096,PQ48x4fs``.
        train_size: sample rows for training (default 64 per IVF cell, at least 10,000).
        seed: sample and k-means seed.
        nprobe: IVF cells visited per query.
        niter: k-means iterations of the IVF training (FAISS's default is 25; 10 measured as good for a coarse
            quantiser whose candidates are re-scored exactly, in less than half the time).
        block_rows: rows added per call.
        show_progress_bar: a progress bar over blocks.

    Returns:
        The filled index (inner-product metric).
    """
    from negmine.search.faiss import import_faiss

    faiss = import_faiss()
    try:
        index = faiss.index_factory(vectors.dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as error:
        raise NegmineError(f"index_factory '{factory}' is not a valid FAISS factory string ({error})") from None
    ivf = faiss.try_extract_index_ivf(index)
    if not index.is_trained:
        if ivf is not None:
            ivf.cp.seed, ivf.cp.niter = seed, niter
        size = min(len(vectors), train_size or max(10_000, 64 * (ivf.nlist if ivf is not None else 256)))
        sample = np.sort(np.random.default_rng(seed).choice(len(vectors), size=size, replace=False))
        index.train(vectors[sample])
    for _, block in tqdm(vectors.blocks(block_rows), total=-(-len(vectors) // block_rows), desc="fill index",
                         disable=not show_progress_bar):  # fmt: skip
        index.add(block)
    if nprobe is not None:
        if ivf is None:
            raise NegmineError(f"nprobe does not apply to index_factory '{factory}'")
        ivf.nprobe = nprobe
    return index


class StreamedSearcher:
    """Approximate candidates from a compressed index, re-scored exactly with vectors read from the shards.

    Args:
        vectors: the corpus as :class:`ShardedVectors`.
        index: a filled index (:func:`build_streamed_index`).
        refine: candidates fetched per wanted neighbour (``refine * k``) before exact re-scoring.
        query_batch: queries whose candidates are re-scored together (bounds the rows read at once).
        show_progress_bar: a progress bar over query blocks.

    Example:
        >>> searcher = StreamedSearcher(vectors, build_streamed_index(vectors, "IVF1024,SQ8"))  # doctest: +SKIP
        >>> scores, indices = searcher.search(queries, k=100)  # doctest: +SKIP
    """

    exact_scores = True  # re-scored: the scores are exact inner products

    def __init__(self, vectors: ShardedVectors | RowView, index, refine: int = 4, query_batch: int = 1024,
                 show_progress_bar: bool = False):  # fmt: skip
        self.vectors, self.index, self.refine = vectors, index, refine
        self.query_batch, self.show_progress_bar = query_batch, show_progress_bar
        self.name = f"faiss-cpu streamed {type(index).__name__} refine={refine}"

    @property
    def n_documents(self) -> int:
        return len(self.vectors)

    def search(self, queries: np.ndarray, k: int) -> SearchResults:
        """The ``k`` best of each query's ``refine * k`` candidates by exact inner product, best first."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, self.n_documents)
        wide = min(self.n_documents, self.refine * k)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        indices = np.full((len(queries), k), -1, dtype=np.int64)
        starts = range(0, len(queries), self.query_batch)
        for start in tqdm(starts, desc="streamed search", disable=not self.show_progress_bar):
            block = queries[start : start + self.query_batch]
            _, candidates = self.index.search(block, wide)
            exact = rescore(block, self.vectors, candidates)
            order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
            scores[start : start + len(block)] = np.take_along_axis(exact, order, axis=1)
            indices[start : start + len(block)] = np.take_along_axis(candidates, order, axis=1)
        indices[~np.isfinite(scores)] = -1
        return SearchResults(scores, indices)


def rescore(queries: np.ndarray, vectors, candidates: np.ndarray, chunk: int = 128) -> np.ndarray:
    """Exact inner products of each query with its candidates (``-inf`` where a candidate is -1); each distinct
    document is read once, and products go ``chunk`` queries at a time to bound memory."""
    valid = candidates >= 0
    unique, inverse = np.unique(np.where(valid, candidates, candidates.max(initial=0)), return_inverse=True)
    rows = vectors[unique] if len(unique) else np.zeros((0, queries.shape[1]), np.float32)
    inverse = inverse.reshape(candidates.shape)
    exact = np.empty(candidates.shape, dtype=np.float32)
    for start in range(0, len(queries), chunk):
        gathered = rows[inverse[start : start + chunk]]  # (chunk, candidates, dim)
        exact[start : start + chunk] = np.matmul(gathered, queries[start : start + chunk, :, None])[:, :, 0]
    exact[~valid] = -np.inf
    return exact


def exact_streamed(vectors: ShardedVectors, queries: np.ndarray, k: int, block_rows: int = 262_144,
                   show_progress_bar: bool = False) -> SearchResults:  # fmt: skip
    """Exact top ``k`` over shards read block by block (the reference the approximate path is measured against)."""
    from negmine.search.torch_exact import TorchSearcher

    k = min(k, len(vectors))
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_indices = np.zeros((len(queries), 0), dtype=np.int64)
    total = -(-len(vectors) // block_rows)
    for first, block in tqdm(vectors.blocks(block_rows), total=total, desc="exact search",
                             disable=not show_progress_bar):  # fmt: skip
        found = TorchSearcher(block, device="cpu").search(queries, k)
        scores = np.concatenate([best_scores, found.scores], axis=1)
        indices = np.concatenate([best_indices, found.indices + first], axis=1)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        best_scores, best_indices = np.take_along_axis(scores, order, 1), np.take_along_axis(indices, order, 1)
    return SearchResults(best_scores, best_indices)

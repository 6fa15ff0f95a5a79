"""Dense search with FAISS: exact inner product by default, IVF / HNSW / PQ through an ``index_factory`` string,
on the GPU when faiss-gpu and CUDA are there.

Exact search calls ``faiss.knn`` (``knn_gpu`` on a GPU) on the embedding matrix itself: no copy of the corpus into
an index, and FAISS's blocked search never holds a queries x corpus matrix. Queries go in chunks, so memory stays
bounded for any number of queries.

References:
    Johnson, Douze and Jégou, "Billion-scale similarity search with GPUs", IEEE Transactions on Big Data 2019;
    Douze et al., "The Faiss library", 2024.
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm.auto import tqdm

from negmine.errors import NegmineError
from negmine.search.results import SearchResults

logger = logging.getLogger(__name__)
GPU_MAX_K = 2048  # FAISS GPU indexes return at most this many neighbours


def import_faiss():
    """``faiss``, or an ImportError naming the extra to install; the first import sets the OpenBLAS kernel for this
    CPU (:func:`negmine.search.blas.choose_openblas_coretype`)."""
    import sys

    if "faiss" not in sys.modules:
        from negmine.search import blas

        blas.chosen.update(blas.choose_openblas_coretype())
    try:
        import faiss
    except ImportError as error:
        raise ImportError("FAISS is missing: pip install 'negmine[cpu]' (or 'negmine[gpu]' with CUDA)") from error
    return faiss


def gpu_count() -> int:
    """Number of GPUs FAISS can use (0 for a CPU build)."""
    faiss = import_faiss()
    return faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0


class FaissSearcher:
    """Inner-product search over normalised embeddings; ``search(queries, k) -> SearchResults(scores, indices)``.

    Args:
        embeddings: the corpus, ``(n, dim)`` float32 (kept by reference, not copied, for exact search).
        index_factory: ``"Flat"`` for exact search, or a FAISS factory string such as ``"IVF1024,Flat"``,
            ``"HNSW32,Flat"`` or ``"IVF1024,PQ32"``.
        nprobe: IVF cells visited per query (IVF indexes).
        ef_search: HNSW search depth (HNSW indexes).
        use_gpu: None picks the GPU when faiss-gpu sees one; True requires it; False stays on the CPU.
        train_size: vectors used to train an index that needs training (default: 64 per IVF cell, at most all).
        seed: seed for the training sample and k-means.
        batch_size: queries per search call (the progress bar advances per call).
        show_progress_bar: progress bars.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> docs = rng.standard_normal((100, 8)).astype("float32")
        >>> docs /= np.linalg.norm(docs, axis=1, keepdims=True)
        >>> scores, indices = FaissSearcher(docs, use_gpu=False).search(docs[:2], k=1)
        >>> indices.ravel().tolist()
        [0, 1]
    """

    def __init__(
        self,
        embeddings: np.ndarray,
        index_factory: str = "Flat",
        nprobe: int | None = None,
        ef_search: int | None = None,
        use_gpu: bool | None = None,
        train_size: int | None = None,
        seed: int = 0,
        batch_size: int = 16384,
        show_progress_bar: bool = False,
    ):
        faiss = import_faiss()
        self.faiss = faiss
        self.embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        self.index_factory = index_factory
        self.batch_size = batch_size
        self.show_progress_bar = show_progress_bar
        gpus = gpu_count()
        if use_gpu and not gpus:
            raise NegmineError("use_gpu=True but FAISS sees no GPU (install faiss-gpu and check CUDA)")
        self.use_gpu = bool(gpus) if use_gpu is None else use_gpu
        self.index = None
        # compressed codes (PQ, SQ ...) give approximate scores; Flat storage gives exact inner products
        self.name = f"faiss-{'gpu' if self.use_gpu else 'cpu'} {index_factory}"
        self.exact_scores = not any(code in index_factory.upper() for code in ("PQ", "SQ", "LSH", "RQ", "LSQ"))
        self._gpu_resources = None
        if self.use_gpu:
            self._gpu_resources = faiss.StandardGpuResources()
        if index_factory.strip().lower() != "flat":
            self.index = self._build(index_factory, nprobe, ef_search, train_size, seed)

    @property
    def n_documents(self) -> int:
        return self.embeddings.shape[0]

    def _build(self, factory: str, nprobe, ef_search, train_size, seed):
        faiss = self.faiss
        dim = self.embeddings.shape[1]
        try:
            index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
        except RuntimeError as error:
            raise NegmineError(f"index_factory '{factory}' is not a valid FAISS factory string ({error})") from None
        if not index.is_trained:
            ivf = faiss.try_extract_index_ivf(index)
            if ivf is not None:
                ivf.cp.seed = seed
            limit = train_size or (64 * ivf.nlist if ivf is not None else self.n_documents)
            rng = np.random.default_rng(seed)
            sample = self.embeddings
            if limit < self.n_documents:
                sample = self.embeddings[np.sort(rng.choice(self.n_documents, size=limit, replace=False))]
            index.train(sample)
        if self.use_gpu and "HNSW" not in factory.upper():
            index = faiss.index_cpu_to_gpu(self._gpu_resources, 0, index)
        index.add(self.embeddings)
        space = faiss.GpuParameterSpace() if self.use_gpu and "HNSW" not in factory.upper() else faiss.ParameterSpace()
        for name, value in (("nprobe", nprobe), ("efSearch", ef_search)):
            if value is not None:
                try:
                    space.set_index_parameter(index, name, value)
                except RuntimeError:
                    raise NegmineError(f"{name} does not apply to index_factory '{factory}'") from None
        return index

    def search(self, queries: np.ndarray, k: int) -> SearchResults:
        """The ``k`` highest inner products for each query, best first; ``k`` is capped at the corpus size."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, self.n_documents)
        if self.use_gpu and k > GPU_MAX_K:
            raise NegmineError(f"FAISS on GPU returns at most {GPU_MAX_K} neighbours, asked for {k}")
        scores = np.empty((len(queries), k), dtype=np.float32)
        indices = np.empty((len(queries), k), dtype=np.int64)
        starts = range(0, len(queries), self.batch_size)
        for start in tqdm(starts, desc="FAISS search", disable=not self.show_progress_bar):
            chunk = queries[start : start + self.batch_size]
            scores[start : start + len(chunk)], indices[start : start + len(chunk)] = self._search_chunk(chunk, k)
        return SearchResults(scores, indices)

    def _search_chunk(self, chunk: np.ndarray, k: int):
        faiss = self.faiss
        if self.index is not None:
            return self.index.search(chunk, k)
        if self.use_gpu:
            return faiss.knn_gpu(self._gpu_resources, chunk, self.embeddings, k, metric=faiss.METRIC_INNER_PRODUCT)
        return faiss.knn(chunk, self.embeddings, k, metric=faiss.METRIC_INNER_PRODUCT)

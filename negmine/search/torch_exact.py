"""Exact inner-product search on torch, on a GPU or the CPU: sentence-transformers' ``semantic_search`` (chunked
matrix products, ``torch.topk`` and a running top ``k``) behind the searchers' ``SearchResults`` interface.

For machines with torch and CUDA but no faiss-gpu (its wheels need a CUDA 12 runtime), and for a plain
``pip install negmine`` without FAISS. Memory is bounded by ``query_batch x chunk_size`` scores whatever the corpus
size. On the CPU torch's matrix product picks its BLAS kernel by itself.

References:
    Johnson, Douze and Jégou, "Billion-scale similarity search with GPUs", IEEE Transactions on Big Data 2019
    (the chunked k-selection merge that exact GPU search uses).
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from negmine.search.results import SearchResults


class TorchSearcher:
    """Exact inner-product search with torch; ``search(queries, k) -> SearchResults(scores, indices)``.

    Args:
        embeddings: the corpus, ``(n, dim)`` float32.
        device: ``cuda``, ``cpu`` or a ``torch.device``; None picks CUDA when torch sees one.
        chunk_size: corpus rows per matrix product; default: a score block of at most 256 MB on the CPU, 2 GB on
            a GPU.
        query_batch: queries per block (default 1,024 on the CPU, 4,096 on a GPU).
        show_progress_bar: a progress bar over query blocks.

    Returns:
        A searcher; ``exact_scores`` is True (the scores are the inner products themselves).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> docs = rng.standard_normal((100, 8)).astype("float32")
        >>> docs /= np.linalg.norm(docs, axis=1, keepdims=True)
        >>> TorchSearcher(docs, device="cpu").search(docs[:2], k=1).indices.ravel().tolist()
        [0, 1]
    """

    exact_scores = True

    def __init__(
        self,
        embeddings: np.ndarray,
        device: str | torch.device | None = None,
        chunk_size: int | None = None,
        query_batch: int | None = None,
        show_progress_bar: bool = False,
    ):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.embeddings = torch.from_numpy(np.ascontiguousarray(embeddings, dtype=np.float32)).to(self.device)
        gpu = self.device.type != "cpu"
        self.query_batch = query_batch or (4096 if gpu else 1024)
        self.chunk_size = chunk_size or (2**31 if gpu else 2**28) // (4 * self.query_batch)
        self.show_progress_bar = show_progress_bar

    @property
    def n_documents(self) -> int:
        return self.embeddings.shape[0]

    @torch.inference_mode()
    def search(self, queries: np.ndarray, k: int) -> SearchResults:
        """The ``k`` highest inner products for each query, best first; ``k`` is capped at the corpus size."""
        from sentence_transformers.util import dot_score, semantic_search

        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, self.n_documents)
        scores = np.empty((len(queries), k), dtype=np.float32)
        indices = np.empty((len(queries), k), dtype=np.int64)
        starts = range(0, len(queries), self.query_batch)
        for start in tqdm(starts, desc=f"torch search ({self.device.type})", disable=not self.show_progress_bar):
            block = torch.from_numpy(queries[start : start + self.query_batch]).to(self.device)
            hits = semantic_search(block, self.embeddings, query_chunk_size=self.query_batch,
                                   corpus_chunk_size=self.chunk_size, top_k=k, score_function=dot_score)  # fmt: skip
            for row, found in enumerate(hits, start=start):
                scores[row] = [hit["score"] for hit in found]
                indices[row] = [hit["corpus_id"] for hit in found]
        return SearchResults(scores, indices)

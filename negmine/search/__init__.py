"""Searchers with one interface, ``search(queries, k) -> SearchResults(scores, indices)`` (dense: FAISS, torch,
streamed IVF; lexical: BM25; euclidean: ExactIndex), and the BallTree negative sampler built on ExactIndex."""

from negmine.search.balltree import BallTreeSampler, ExactIndex
from negmine.search.bm25 import BM25Searcher
from negmine.search.results import SearchResults

__all__ = ["BM25Searcher", "BallTreeSampler", "ExactIndex", "SearchResults"]

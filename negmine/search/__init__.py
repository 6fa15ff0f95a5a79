"""Searchers with one interface: ``search(queries, k) -> SearchResults(scores, indices)``."""

from negmine.search.balltree import BallTreeSearcher, ExactIndex
from negmine.search.bm25 import BM25Searcher
from negmine.search.results import SearchResults

__all__ = ["BM25Searcher", "BallTreeSearcher", "ExactIndex", "SearchResults"]

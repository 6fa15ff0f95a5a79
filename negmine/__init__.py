"""negmine: train sentence-embedding retrievers on better negatives, and show why they are better."""

from __future__ import annotations

__version__ = "0.1.0"

from negmine.data import RetrievalData, SciFactRelease, load_retrieval  # noqa: E402
from negmine.encode import Encoder, model_fingerprint  # noqa: E402
from negmine.errors import DataError, NegmineError  # noqa: E402
from negmine.evaluation import METRIC_KEYS, evaluate_bm25, evaluate_model, evaluate_rankings  # noqa: E402
from negmine.hard_negatives import mine_hard_negatives  # noqa: E402
from negmine.models import load_model, resolve_model  # noqa: E402
from negmine.search import BM25Searcher, SearchResults  # noqa: E402

__all__ = [
    "__version__",
    "BM25Searcher",
    "DataError",
    "Encoder",
    "METRIC_KEYS",
    "NegmineError",
    "RetrievalData",
    "SciFactRelease",
    "SearchResults",
    "evaluate_bm25",
    "evaluate_model",
    "evaluate_rankings",
    "load_model",
    "load_retrieval",
    "mine_hard_negatives",
    "model_fingerprint",
    "resolve_model",
]

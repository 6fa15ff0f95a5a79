"""Lexical search with BM25 through bm25s: English stop words and the Snowball stemmer, on title and text.

References:
    Robertson and Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009;
    Lù, "BM25S: Orders of magnitude faster lexical search via eager sparse scoring", 2024.
"""

from __future__ import annotations

import logging

import numpy as np

from negmine.search.results import SearchResults


class BM25Searcher:
    """A BM25 index over a list of texts; ``search(queries, k)`` returns ``(scores, indices)``.

    Args:
        texts: the documents (for BEIR data, ``RetrievalData.document_texts()``: title and text).
        stopwords: a bm25s stop-word list name (``"en"``) or None.
        stemmer: a Snowball stemmer language for PyStemmer, or None.
        k1, b: the BM25 parameters.
        method: bm25s' scoring variant (``lucene`` by default, as Pyserini).
        show_progress_bar: progress bars while indexing and searching.

    Example:
        >>> searcher = BM25Searcher(["aspirin and heart attacks", "sleep and caffeine"])
        >>> searcher.search(["caffeine at night"], k=1).indices.tolist()
        [[1]]
    """

    def __init__(
        self,
        texts: list[str],
        stopwords: str | None = "en",
        stemmer: str | None = "english",
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
        show_progress_bar: bool = False,
    ):
        level = logging.getLogger("bm25s").level
        import bm25s

        logging.getLogger("bm25s").setLevel(level)  # bm25s sets DEBUG when first imported; keep the caller's level
        self._bm25s = bm25s
        self.stopwords = stopwords
        self.stemmer = None
        if stemmer:
            import Stemmer

            self.stemmer = Stemmer.Stemmer(stemmer)
        self.show_progress_bar = show_progress_bar
        self.n_documents = len(texts)
        tokens = bm25s.tokenize(texts, stopwords=stopwords, stemmer=self.stemmer, show_progress=show_progress_bar)
        self.index = bm25s.BM25(k1=k1, b=b, method=method)
        self.index.index(tokens, show_progress=show_progress_bar)

    def search(self, queries: list[str], k: int) -> SearchResults:
        """The top ``k`` documents of each query (``k`` is capped at the corpus size), best first."""
        k = min(k, self.n_documents)
        if not queries or k == 0:
            return SearchResults(np.zeros((len(queries), k), np.float32), np.zeros((len(queries), k), np.int64))
        tokens = self._bm25s.tokenize(
            queries, stopwords=self.stopwords, stemmer=self.stemmer, show_progress=self.show_progress_bar
        )
        indices, scores = self.index.retrieve(tokens, k=k, show_progress=self.show_progress_bar, n_threads=1)
        return SearchResults(np.asarray(scores, dtype=np.float32), np.asarray(indices, dtype=np.int64))

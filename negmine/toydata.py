"""Seeded toy retrieval data (random word documents) with a known positive near every query, and a
``StaticEmbedding`` model that embeds it: for tests and benchmarks that must not download anything.

Documents are random word sequences; a query keeps most words of its positive document and swaps the rest, so
its positive scores well above the other documents and the false-negative margins keep most candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SyntheticRetrieval:
    """Texts, the positive document of each query, and the model that embeds them."""

    documents: list[str]
    queries: list[str]
    positives: list[list[int]]
    model: object  # a SentenceTransformer with a StaticEmbedding module


def static_model(vocabulary: list[str], dim: int, seed: int):
    """A ``SentenceTransformer`` made of one ``StaticEmbedding`` (mean of random word vectors) over ``vocabulary``.

    Example:
        >>> model = static_model(["aspirin", "sleep"], dim=8, seed=0)
        >>> model.encode(["aspirin sleep"]).shape
        (1, 8)
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, **{word: i + 1 for i, word in enumerate(vocabulary)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    weights = np.random.default_rng(seed).standard_normal((len(vocab), dim)).astype(np.float32)
    weights[0] = 0.0  # unknown words add nothing
    return SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)], device="cpu")


def synthetic_retrieval(
    n_docs: int,
    n_queries: int,
    dim: int = 384,
    vocab_size: int = 30000,
    words: int = 8,
    keep: int = 6,
    topics: int | None = None,
    topic_vocab: int = 40,
    seed: int = 0,
) -> SyntheticRetrieval:
    """Documents of ``words`` words drawn from one topic's vocabulary (so that embeddings cluster, as real ones
    do); each query copies ``keep`` words of a distinct random document (its positive) and draws the rest from
    the same topic.

    Args:
        n_docs, n_queries: sizes.
        dim: embedding dimension of the static model.
        vocab_size: words in the whole vocabulary.
        words: words per document and per query.
        keep: words a query shares with its positive.
        topics: number of topics (default ``max(1, n_docs // 1000)``).
        topic_vocab: words per topic.
        seed: everything is drawn from this seed.

    Returns:
        A :class:`SyntheticRetrieval`.

    Example:
        >>> data = synthetic_retrieval(100, 10, dim=16, vocab_size=500, seed=0)
        >>> len(data.documents), len(data.queries), len(data.positives[0])
        (100, 10, 1)
    """
    rng = np.random.default_rng(seed)
    topics = topics or max(1, n_docs // 1000)
    vocabulary = np.array([f"w{i}" for i in range(vocab_size)])
    topic_words = rng.integers(vocab_size, size=(topics, topic_vocab))
    doc_topic = rng.integers(topics, size=n_docs)
    doc_words = np.take_along_axis(topic_words[doc_topic], rng.integers(topic_vocab, size=(n_docs, words)), axis=1)
    documents = [" ".join(row) + f" d{i}" for i, row in enumerate(vocabulary[doc_words].tolist())]
    targets = rng.choice(n_docs, size=n_queries, replace=False)
    queries = []
    for target in targets:
        kept = rng.choice(doc_words[target], size=keep, replace=False)
        extra = topic_words[doc_topic[target], rng.integers(topic_vocab, size=words - keep)]
        queries.append(" ".join(vocabulary[np.concatenate([kept, extra])].tolist()))
    model = static_model(vocabulary.tolist(), dim, seed)  # the unique "d{i}" tag of each document is [UNK]: zero
    return SyntheticRetrieval(documents, queries, [[int(t)] for t in targets], model)

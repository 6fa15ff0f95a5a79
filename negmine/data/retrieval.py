"""The common form every data source is turned into: BEIR's corpus / queries / qrels dictionaries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field


class Corpus(Mapping):
    """Document id -> ``{"title", "text"}``, kept as parallel lists: a read-only mapping that behaves as the
    dict-of-dicts it replaces, without one small dict a document (about 200 bytes each: 2 GB at 10M documents).

    Example:
        >>> corpus = Corpus()
        >>> corpus.add("d1", "A title", "Some text.")
        >>> corpus["d1"], list(corpus), "d2" in corpus
        ({'title': 'A title', 'text': 'Some text.'}, ['d1'], False)
    """

    __slots__ = ("_ids", "_titles", "_texts", "_index")

    def __init__(self):
        self._ids: list[str] = []
        self._titles: list[str] = []
        self._texts: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, doc_id: str, title: str, text: str) -> None:
        """Append a document (its id must be new)."""
        self._index[doc_id] = len(self._ids)
        self._ids.append(doc_id)
        self._titles.append(title or "")
        self._texts.append(text)

    def __getitem__(self, doc_id: str) -> dict[str, str]:
        i = self._index[doc_id]
        return {"title": self._titles[i], "text": self._texts[i]}

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> list[str]:
        """The document ids in order (the list itself: do not change it)."""
        return self._ids

    def position(self, doc_id: str) -> int:
        """A document's position in :attr:`ids`."""
        return self._index[doc_id]


class DiskCorpus(Mapping):
    """A corpus whose texts stay on disk (:class:`~negmine.data.disk_texts.DiskTexts`), for corpora larger than
    memory: the ids are ``d0, d1, ...`` by position, titles are empty, and nothing is held per document.

    Args:
        texts: the documents' texts in order.

    Example:
        >>> corpus = DiskCorpus(["One.", "Two."])
        >>> corpus["d1"], list(corpus.ids), corpus.position("d1"), "d2" in corpus
        ({'title': '', 'text': 'Two.'}, ['d0', 'd1'], 1, False)
    """

    __slots__ = ("texts",)

    def __init__(self, texts: Sequence[str]):
        self.texts = texts

    def position(self, doc_id: str) -> int:
        """``d<i>`` -> i."""
        if isinstance(doc_id, str) and doc_id[:1] == "d" and doc_id[1:].isdigit():
            i = int(doc_id[1:])
            if i < len(self.texts) and doc_id == f"d{i}":
                return i
        raise KeyError(doc_id)

    def __getitem__(self, doc_id: str) -> dict[str, str]:
        return {"title": "", "text": self.texts[self.position(doc_id)]}

    def __contains__(self, doc_id: object) -> bool:
        try:
            self.position(doc_id)
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return (f"d{i}" for i in range(len(self.texts)))

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def ids(self) -> DocumentIds:
        """The ids, computed on access (no list of millions of strings)."""
        return DocumentIds(len(self.texts))


class DocumentIds(Sequence):
    """``d0 .. d{n-1}`` as a sequence that holds nothing (the ids of a :class:`DiskCorpus`).

    Example:
        >>> ids = DocumentIds(3)
        >>> ids[2], len(ids), list(ids[:2])
        ('d2', 3, ['d0', 'd1'])
    """

    __slots__ = ("count",)

    def __init__(self, count: int):
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [f"d{j}" for j in range(*i.indices(self.count))]
        i = int(i)
        if not -self.count <= i < self.count:
            raise IndexError(i)
        return f"d{i % self.count}"


def document_ids(corpus: Mapping) -> Sequence[str]:
    """A corpus's ids in order, without copying them where the corpus keeps them (:class:`Corpus`,
    :class:`DiskCorpus`); a plain dictionary's keys as a list."""
    ids = getattr(corpus, "ids", None)
    return ids if ids is not None else list(corpus)


def document_position(corpus: Mapping, ids: Sequence[str]):
    """``doc id -> position in ids``: the corpus's own lookup where it has one, else a dictionary built once."""
    position = getattr(corpus, "position", None)
    if isinstance(corpus, DiskCorpus) or (position is not None and ids is getattr(corpus, "ids", None)):
        return position
    return {doc: i for i, doc in enumerate(ids)}.__getitem__


@dataclass(frozen=True)
class RetrievalData:
    """One split of a retrieval data set, in BEIR's shape.

    Args:
        corpus: document id -> ``{"title": str, "text": str}``.
        queries: query id -> query text; only the queries of this split.
        qrels: query id -> {document id -> relevance}; a relevance above 0 means relevant.
        name: the data set's name, for reports.
        split: the split's name (``train``, ``validation``, ``dev``, ``test`` ...).
        sources: the files this split was read from, for manifests.
        given_negatives: query id -> document ids a source gave as negatives (FlagEmbedding's ``neg``, Tevatron's
            ``negative_passages``); kept in the pairs and never mined again.
        read_counts: what the reader dropped or added (duplicate rows, positives added to a separate corpus).

    Example:
        >>> data = RetrievalData({"d1": {"title": "", "text": "x"}}, {"q1": "y"}, {"q1": {"d1": 1}}, "toy", "train")
        >>> data.relevant_docs()
        {'q1': {'d1'}}
    """

    corpus: Mapping[str, dict[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    name: str = ""
    split: str = ""
    sources: tuple[str, ...] = field(default=())
    given_negatives: dict[str, list[str]] = field(default_factory=dict)
    read_counts: dict[str, int] = field(default_factory=dict)

    def relevant_docs(self) -> dict[str, set[str]]:
        """Query id -> the set of its relevant document ids (relevance > 0), for queries that have any."""
        relevant = {qid: {doc for doc, score in docs.items() if score > 0} for qid, docs in self.qrels.items()}
        return {qid: docs for qid, docs in relevant.items() if docs}

    def judged_pairs(self) -> list[tuple[str, str]]:
        """Every relevant (query id, document id) judgement: the queries in their qrels order, each query's documents
        sorted; the rows of plain (anchor, positive) training and of the geometry measures."""
        return [(qid, doc) for qid, docs in self.relevant_docs().items() for doc in sorted(docs)]

    def judged_texts(self) -> tuple[list[str], list[str]]:
        """The query and document texts of :meth:`judged_pairs`, as two aligned lists.

        Example:
            >>> data = RetrievalData({"d1": {"title": "", "text": "A dog."}}, {"q1": "Dogs?"}, {"q1": {"d1": 1}})
            >>> data.judged_texts()
            (['Dogs?'], ['A dog.'])
        """
        pairs = self.judged_pairs()
        doc_ids = sorted({doc for _, doc in pairs})
        texts = dict(zip(doc_ids, self.document_texts(doc_ids), strict=True))
        return [self.queries[qid] for qid, _ in pairs], [texts[doc] for _, doc in pairs]

    def document_texts(self, ids: Iterable[str] | None = None) -> Sequence[str]:
        """Title and text joined by a space (as BEIR's dense models read them), in corpus order or that of ``ids``:
        a list, or a :class:`DiskCorpus`'s own texts (a :class:`~negmine.data.disk_texts.DiskTexts` read from disk,
        untitled) when ``ids`` is None."""
        if ids is None and isinstance(self.corpus, DiskCorpus):
            return self.corpus.texts
        ids = self.corpus.keys() if ids is None else ids
        return [" ".join(part for part in (self.corpus[i]["title"], self.corpus[i]["text"]) if part) for i in ids]

    def subset(self, query_ids: Iterable[str], split: str) -> RetrievalData:
        """The same corpus with only ``query_ids`` (and their qrels), renamed to ``split``."""
        keep = set(query_ids)
        return RetrievalData(
            corpus=self.corpus,
            queries={qid: text for qid, text in self.queries.items() if qid in keep},
            qrels={qid: docs for qid, docs in self.qrels.items() if qid in keep},
            name=self.name,
            split=split,
            sources=self.sources,
            given_negatives={qid: docs for qid, docs in self.given_negatives.items() if qid in keep},
            read_counts=self.read_counts,
        )

    def counts(self) -> dict[str, int]:
        """Sizes for reports: documents, queries, queries with a relevant document, relevance judgements."""
        return {
            "documents": len(self.corpus),
            "queries": len(self.queries),
            "judged_queries": len(self.relevant_docs()),
            "qrels": sum(len(docs) for docs in self.qrels.values()),
        }

"""Any data set in BEIR's folder layout: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``.

References:
    Thakur et al., "BEIR: A Heterogeneous Benchmark for Zero-shot Evaluation of Information Retrieval Models",
    NeurIPS Datasets and Benchmarks 2021.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from negmine.data.jsonl import check_unique, iter_jsonl, utf8_lines
from negmine.data.retrieval import Corpus, RetrievalData
from negmine.errors import DataError

logger = logging.getLogger(__name__)


class BeirDocument(BaseModel):
    """One line of a BEIR ``corpus.jsonl``."""

    model_config = ConfigDict(coerce_numbers_to_str=True)
    id: str = Field(alias="_id")
    title: str = ""
    text: str


class BeirQuery(BaseModel):
    """One line of a BEIR ``queries.jsonl``."""

    model_config = ConfigDict(coerce_numbers_to_str=True)
    id: str = Field(alias="_id")
    text: str


def is_beir_folder(folder: Path) -> bool:
    """Whether ``folder`` looks like a BEIR data set (a corpus, queries and a qrels folder)."""
    return (folder / "corpus.jsonl").is_file() and (folder / "queries.jsonl").is_file() and (folder / "qrels").is_dir()


def read_beir_corpus(path: Path) -> Corpus:
    """Document id -> ``{"title", "text"}`` (a compact :class:`Corpus`); duplicate ids and an empty corpus are
    errors."""
    from array import array

    corpus = Corpus()
    lines = array("q")  # each document's line, for the duplicate message (8 bytes a document)
    for line, doc in iter_jsonl(path, BeirDocument):
        if doc.id in corpus:
            first = lines[list(corpus).index(doc.id)]
            raise DataError(f"{path}:{line}: duplicate id '{doc.id}' (first on line {first})")
        corpus.add(doc.id, doc.title, doc.text)
        lines.append(line)
    if not corpus:
        raise DataError(f"{path}: empty corpus (no documents)")
    return corpus


def read_beir_queries(path: Path) -> dict[str, str]:
    """Query id -> text; duplicate ids are errors."""
    queries: dict[str, str] = {}
    seen: dict[str, int] = {}
    for line, query in iter_jsonl(path, BeirQuery):
        check_unique(path, seen, query.id, line)
        queries[query.id] = query.text
    return queries


def read_qrels(path: Path, corpus: dict, queries: dict) -> dict[str, dict[str, int]]:
    """Read a BEIR qrels TSV (``query-id``, ``corpus-id``, ``score``; the header line is optional).

    Judgements that point at an unknown document or query are left out, counted, and reported as a warning.

    Args:
        path: the TSV file.
        corpus: the documents the judgements may point at.
        queries: the queries the judgements may come from.

    Returns:
        query id -> {document id -> score}.

    Example:
        >>> read_qrels(Path("qrels/test.tsv"), corpus, queries)  # doctest: +SKIP
        {'1': {'31715818': 1}}
    """
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    qrels: dict[str, dict[str, int]] = {}
    unknown_docs = unknown_queries = 0
    numbered = list(utf8_lines(path))  # decoded line by line: a bad byte is an error naming its line
    rows = csv.reader((text for _, text in numbered), delimiter="\t")
    for (line_number, _), row in zip(numbered, rows, strict=False):
        if not row or not "".join(row).strip():
            continue
        if line_number == 1 and row[0].strip().lower() in {"query-id", "query_id", "qid"}:
            continue
        if len(row) != 3:
            raise DataError(f"{path}:{line_number}: expected 3 tab-separated fields (query-id, corpus-id, score)")
        query_id, doc_id, score = (value.strip() for value in row)
        try:
            relevance = int(float(score))
        except ValueError:
            raise DataError(f"{path}:{line_number}: field 'score': not a number ({score!r})") from None
        if query_id not in queries:
            unknown_queries += 1
            continue
        if doc_id not in corpus:
            unknown_docs += 1
            continue
        qrels.setdefault(query_id, {})[doc_id] = relevance
    if unknown_docs or unknown_queries:
        logger.warning(
            "%s: left out %d judgement(s) for unknown documents and %d for unknown queries",
            path,
            unknown_docs,
            unknown_queries,
        )
    return qrels


def load_beir(folder: str | Path, split: str = "test", name: str | None = None) -> RetrievalData:
    """Load one split of a BEIR folder; only the queries judged in that split are kept.

    Args:
        folder: the folder with ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.
        split: the qrels file to read.
        name: the data set's name for reports (default: the folder's name).

    Returns:
        A :class:`RetrievalData`.

    Example:
        >>> data = load_beir("data/scifact/beir", split="train")  # doctest: +SKIP
        >>> len(data.queries)  # doctest: +SKIP
        809
    """
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        available = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
        raise DataError(f"{qrels_path}: file not found (splits here: {', '.join(available) or 'none'})")
    corpus = read_beir_corpus(folder / "corpus.jsonl")
    queries = read_beir_queries(folder / "queries.jsonl")
    qrels = read_qrels(qrels_path, corpus, queries)
    return RetrievalData(
        corpus=corpus,
        queries={qid: queries[qid] for qid in qrels},
        qrels=qrels,
        name=name or folder.name,
        split=split,
        sources=tuple(str(p) for p in (folder / "corpus.jsonl", folder / "queries.jsonl", qrels_path)),
    )

"""Pair data, as sentence-transformers, FlagEmbedding and Tevatron users hold it, read into :class:`RetrievalData`.

Three record shapes, in any container ``datasets`` reads (a ``Dataset``, an ``IterableDataset``, a CSV / TSV /
JSONL / Parquet file, a ``Dataset.save_to_disk`` folder, or a hub name through ``datasets.load_dataset``):

| format | one record |
| --- | --- |
| ``pairs`` (sentence-transformers) | an anchor column and a positive column (a text or a list of texts) |
| ``flagembedding`` | ``{"query": str, "pos": [str], "neg": [str]}``; ``neg`` kept as given negatives |
| ``tevatron`` | ``{"query", "positive_passages": [{"title", "text"}], "negative_passages": [...]}``; negatives kept |

Distinct anchors become queries, distinct positive texts and corpus passages become documents (a text is one
document however often it appears), and every (anchor, positive) pair becomes a judgement. As in
sentence-transformers, the anchor and positive columns are the first two unless named. Repeated rows are kept
once and counted; a positive missing from a separate corpus is added to it and counted. Nothing of SciFact applies:
no validation carve unless asked, no noise filter.

References:
    Reimers and Gurevych, "Sentence-BERT", EMNLP 2019 (sentence-transformers' pair data);
    Xiao et al., "C-Pack: Packaged Resources To Advance General Chinese Embedding", 2023 (FlagEmbedding's format);
    Gao et al., "Tevatron: An Efficient and Flexible Toolkit for Dense Retrieval", 2022.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from negmine.data.retrieval import Corpus, DiskCorpus, RetrievalData
from negmine.errors import DataError

PairFormat = Literal["auto", "pairs", "flagembedding", "tevatron"]
PAIR_FORMATS = ("auto", "pairs", "flagembedding", "tevatron")
FILE_READERS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}


def is_pair_source(source: Any) -> bool:
    """Whether ``source`` is pair data: a ``datasets`` object, a file of a readable kind, or a saved Dataset folder.

    Example:
        >>> is_pair_source("train.csv"), is_pair_source("scifact")
        (True, False)
    """
    if not isinstance(source, str | Path):
        return hasattr(source, "column_names") or hasattr(source, "features")
    path = Path(source)
    if path.suffix.lower() in FILE_READERS:
        return True
    return path.is_dir() and ((path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file())


def load_pair_records(source: Any, split: str = "train"):
    """The ``datasets`` object behind ``source``, and a label for messages (the file, or the dataset's name).

    Args:
        source: a ``Dataset`` / ``IterableDataset``, a ``.csv`` / ``.tsv`` / ``.jsonl`` / ``.json`` / ``.parquet``
            file, a folder written by ``save_to_disk`` (a ``DatasetDict`` gives ``split``), or a hub name
            (``owner/name``, read with ``datasets.load_dataset``).
        split: the split of a ``DatasetDict`` or a hub dataset.

    Returns:
        ``(records, label)``.

    Example:
        >>> records, label = load_pair_records("tests/resources/pairs_tiny/qa.csv")  # doctest: +SKIP
    """
    import datasets

    if not isinstance(source, str | Path):
        return source, getattr(source, "info", None) and source.info.dataset_name or "the dataset"
    path = Path(source)
    kind = FILE_READERS.get(path.suffix.lower())
    if kind is not None:
        if not path.is_file():
            raise DataError(f"{path}: file not found")
        if kind != "parquet":
            _check_utf8(path)
        try:
            if kind == "parquet":
                records = datasets.Dataset.from_parquet(str(path))
            elif kind == "json":
                records = datasets.Dataset.from_json(str(path))
            else:
                sep = "\t" if kind == "tsv" else ","
                with path.open(encoding="utf-8", newline="") as handle:  # every column read as text: "1", "NA"
                    header = next(csv.reader(handle, delimiter=sep), [])
                features = datasets.Features({name: datasets.Value("string") for name in header})
                records = datasets.Dataset.from_csv(str(path), sep=sep, features=features, keep_default_na=False)
        except Exception as error:  # pyarrow and pandas parse errors: one line, the file named
            raise DataError(f"{path}: cannot be read as {kind} ({_first_line(error)})") from None
        return records, str(path)
    if path.is_dir():
        if not is_pair_source(path):
            raise DataError(f"{path}: not a folder written by Dataset.save_to_disk (no dataset_info.json)")
        records = datasets.load_from_disk(str(path))
        if isinstance(records, datasets.DatasetDict):
            if split not in records:
                raise DataError(f"{path}: no split '{split}' (found {', '.join(records)})")
            records = records[split]
        return records, str(path)
    try:  # the real path for a hub name; offline it fails with the hub's own message
        return datasets.load_dataset(str(source), split=split), str(source)
    except Exception as error:
        raise DataError(f"{source}: neither a file nor a folder here, and datasets.load_dataset could not load it "
                        f"({_first_line(error)})") from None  # fmt: skip


def read_pairs(
    source: Any,
    *,
    anchor_column: str | None = None,
    positive_column: str | None = None,
    corpus: Any = None,
    data_format: PairFormat = "auto",
    split: str = "train",
    name: str | None = None,
    texts_on_disk: str | Path | None = None,
) -> RetrievalData:
    """Pair data as :class:`RetrievalData`: distinct anchors -> queries, distinct texts -> documents, pairs -> qrels.

    Args:
        source: see :func:`load_pair_records`.
        anchor_column: the anchor column (default: ``query`` for FlagEmbedding and Tevatron, else the first column).
        positive_column: the positive column (default: ``pos`` / ``positive_passages``, else the second column);
            a cell may hold one text or a list of texts.
        corpus: more passages to mine from: a list of texts, a ``datasets`` column, or a file (``.txt``: a passage
            a line; ``.jsonl`` / ``.csv`` / ``.parquet``: a ``text`` column and an optional ``title``).
        data_format: ``pairs``, ``flagembedding``, ``tevatron`` or ``auto`` (by the columns).
        split: the split of a ``DatasetDict`` or a hub dataset.
        name: the data set's name in reports (default: the file's stem).
        texts_on_disk: a folder: keep the documents' texts in a memory-mapped file there
            (:class:`~negmine.data.retrieval.DiskCorpus`, deleted with the data) instead of in memory, and tell
            texts apart by a 128-bit BLAKE2b digest, so that a corpus larger than memory can be read; the anchors
            and the judgements stay in memory.

    Returns:
        A :class:`RetrievalData` of split ``train``; ``given_negatives`` holds FlagEmbedding's / Tevatron's
        negatives, ``read_counts`` what was dropped or added.

    Raises:
        DataError: one line naming the file, the row and the column: a missing column (with those found), an
            empty text, an anchor equal to its positive, a list holding something other than text, a FlagEmbedding
            ``pos`` written as one string.

    Example:
        >>> from datasets import Dataset
        >>> data = read_pairs(Dataset.from_dict({"q": ["a?", "a?", "b?"], "p": ["x", "y", "x"]}))
        >>> data.queries, data.qrels["q1"], data.counts()["documents"]
        ({'q0': 'a?', 'q1': 'b?'}, {'d0': 1}, 2)
    """
    records, label = load_pair_records(source, split)
    columns = list(records.column_names or []) or list(next(iter(records), {}))  # an IterableDataset without features
    kind = detect_format(columns) if data_format == "auto" else data_format
    anchor_column, positive_column = pair_columns(columns, anchor_column, positive_column, kind, label)
    builder = _Builder(name or (Path(label).stem if Path(label).suffix else Path(label).name), texts_on_disk)
    try:
        _read_records(builder, records, label, corpus, kind, anchor_column, positive_column)
    except BaseException:
        builder.abort()
        raise
    if not builder.queries:
        builder.abort()
        raise DataError(f"{label}: no rows")
    return builder.data(tuple([label] if Path(label).exists() else []))


def _read_records(builder: _Builder, records, label: str, corpus, kind: str, anchor_column: str,
                  positive_column: str) -> None:  # fmt: skip
    """Feed the separate corpus, then every record, to ``builder``, checking each cell."""
    negative_column = {"flagembedding": "neg", "tevatron": "negative_passages"}.get(kind)
    if corpus is not None:
        for text in _corpus_texts(corpus):
            builder.document(text)
        builder.corpus_given = True
    where = _locator(label)
    for row_number, record in enumerate(records):
        at = where(row_number)
        anchor = _text(record.get(anchor_column), at, anchor_column, "anchor")
        positives = _texts(record.get(positive_column), at, positive_column, kind)
        negatives = _texts(record.get(negative_column), at, negative_column, kind, empty_ok=True) if (
            negative_column and negative_column in record) else []  # fmt: skip
        for positive in positives:
            if positive.strip() == anchor.strip():
                raise DataError(f"{at}, column '{positive_column}': the positive is the anchor's own text")
            builder.pair(anchor, positive)
        for negative in negatives:
            builder.given(anchor, negative)


class _Builder:
    """Accumulates queries, documents and judgements, counting duplicates; with ``texts_on_disk`` the documents'
    texts go to a memory-mapped file and are told apart by their digest."""

    def __init__(self, name: str, texts_on_disk: str | Path | None = None):
        self.name = name
        self.corpus = Corpus()
        self.writer = None
        if texts_on_disk is not None:
            from negmine.data.disk_texts import DiskTextsWriter

            self.writer = DiskTextsWriter(texts_on_disk)
        self.doc_of: dict[str | bytes, str] = {}
        self.queries: dict[str, str] = {}
        self.query_of: dict[str, str] = {}
        self.qrels: dict[str, dict[str, int]] = {}
        self.negatives: dict[str, list[str]] = {}
        self.corpus_given = False
        self.counts = {"rows_duplicate": 0, "positives_added_to_corpus": 0, "given_negatives": 0,
                       "given_negatives_that_are_positives": 0}  # fmt: skip

    def key(self, text: str) -> str | bytes:
        """A document's identity: its text, or with texts on disk its 128-bit digest (about 100 bytes a document
        held instead of the text)."""
        if self.writer is None:
            return text
        return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()

    def document(self, text: str, key: str | bytes | None = None) -> str:
        key = self.key(text) if key is None else key
        doc = self.doc_of.get(key)
        if doc is None:
            doc = self.doc_of[key] = f"d{len(self.doc_of)}"
            if self.writer is None:
                self.corpus.add(doc, "", text)
            else:
                self.writer.append(text)
        return doc

    def query(self, text: str) -> str:
        qid = self.query_of.get(text)
        if qid is None:
            qid = self.query_of[text] = f"q{len(self.query_of)}"
            self.queries[qid] = text
        return qid

    def pair(self, anchor: str, positive: str) -> None:
        qid = self.query(anchor)
        key = self.key(positive)
        if self.corpus_given and key not in self.doc_of:
            self.counts["positives_added_to_corpus"] += 1
        doc = self.document(positive, key)
        judged = self.qrels.setdefault(qid, {})
        if doc in judged:
            self.counts["rows_duplicate"] += 1
        judged[doc] = 1

    def given(self, anchor: str, negative: str) -> None:
        qid = self.query(anchor)
        doc = self.document(negative)
        kept = self.negatives.setdefault(qid, [])
        if doc not in kept:
            kept.append(doc)
            self.counts["given_negatives"] += 1

    def abort(self) -> None:
        """Delete the unfinished text file, if any."""
        if self.writer is not None:
            self.writer.abort()

    def data(self, sources: tuple[str, ...]) -> RetrievalData:
        if self.writer is not None:
            self.corpus = DiskCorpus(self.writer.close())
            self.doc_of = {}  # the digests are no longer needed
        negatives = {}
        for qid, docs in self.negatives.items():  # a text given as negative and positive of one anchor stays positive
            clean = [d for d in docs if d not in self.qrels.get(qid, {})]
            self.counts["given_negatives_that_are_positives"] += len(docs) - len(clean)
            if clean:
                negatives[qid] = clean
        return RetrievalData(self.corpus, self.queries, self.qrels, self.name, "train", sources, negatives,
                             dict(self.counts))  # fmt: skip


def detect_format(columns: list[str]) -> str:
    """``flagembedding``, ``tevatron`` or ``pairs``, by the columns.

    Example:
        >>> detect_format(["query", "pos", "neg"]), detect_format(["question", "answer"])
        ('flagembedding', 'pairs')
    """
    if {"query", "pos"} <= set(columns):
        return "flagembedding"
    if {"query", "positive_passages"} <= set(columns):
        return "tevatron"
    return "pairs"


def pair_columns(columns: list[str], anchor: str | None, positive: str | None, kind: str = "pairs",
                 label: str = "the dataset") -> tuple[str, str]:  # fmt: skip
    """The anchor and positive columns: the names given, else the format's (``query`` / ``pos`` /
    ``positive_passages``), else the first two columns as sentence-transformers takes them.

    Raises:
        DataError: a named column that is not there, listing the columns found.

    Example:
        >>> pair_columns(["id", "question", "answer"], "question", None)
        ('question', 'id')
    """
    anchor = anchor or ("query" if kind in ("flagembedding", "tevatron") else None)
    positive = positive or {"flagembedding": "pos", "tevatron": "positive_passages"}.get(kind)
    if anchor is None or positive is None:
        if len(columns) < 2:
            raise DataError(f"{label}: pair data needs an anchor and a positive column, found {columns or 'none'}")
        anchor = anchor or columns[0]
        positive = positive or next(c for c in columns if c != anchor)
    for role, column in (("anchor", anchor), ("positive", positive)):
        if column not in columns:
            raise DataError(f"{label}: no {role} column '{column}' (columns found: {', '.join(columns)})")
    return anchor, positive


def _locator(label: str):
    """Row number -> where it is in the file: a line for text files (CSV's header is line 1), else a row."""
    suffix = Path(label).suffix.lower()
    if suffix in (".csv", ".tsv"):
        return lambda i: f"{label}: line {i + 2}"
    if suffix in (".jsonl", ".json"):
        return lambda i: f"{label}: line {i + 1}"
    return lambda i: f"{label}: row {i + 1}"


def _text(value: Any, at: str, column: str, role: str) -> str:
    if not isinstance(value, str):
        kind = "empty" if value is None else type(value).__name__
        raise DataError(f"{at}, column '{column}': the {role} must be a text, got {kind}")
    if not value.strip():
        raise DataError(f"{at}, column '{column}': empty {role}")
    return value


def _texts(value: Any, at: str, column: str, kind: str, empty_ok: bool = False) -> list[str]:
    """A cell holding one text or a list of texts (Tevatron: a list of ``{title, text}`` passages)."""
    if isinstance(value, str):
        if kind == "flagembedding":  # FlagEmbedding would iterate the string: one negative a character
            raise DataError(f"{at}, column '{column}': a string where FlagEmbedding expects a list of texts "
                            f"(FlagEmbedding would split it into characters); write [\"...\"]")  # fmt: skip
        return [_text(value, at, column, "text")]
    if value is None and empty_ok:
        return []
    if not isinstance(value, list | tuple):
        raise DataError(f"{at}, column '{column}': expected a text or a list of texts, got "
                        f"{'nothing' if value is None else type(value).__name__}")  # fmt: skip
    texts = []
    for i, item in enumerate(value):
        if isinstance(item, dict):  # Tevatron's passages
            title, text = item.get("title") or "", item.get("text")
            item = f"{title} {text}".strip() if isinstance(text, str) and title else text
        if not isinstance(item, str):
            raise DataError(f"{at}, column '{column}': item {i + 1} is {type(item).__name__}, not a text")
        texts.append(_text(item, at, f"{column}[{i + 1}]", "text"))
    if not texts and not empty_ok:
        raise DataError(f"{at}, column '{column}': empty list of positives")
    return texts


def _corpus_texts(corpus: Any) -> Iterable[str]:
    """The passages of a separate corpus: a list, a dataset column, or a file."""
    if not isinstance(corpus, str | Path):
        for i, text in enumerate(corpus):
            yield _text(text, f"corpus: item {i + 1}", "text", "passage")
        return
    path = Path(corpus)
    if path.suffix.lower() == ".txt":
        from negmine.data.jsonl import utf8_lines

        if not path.is_file():
            raise DataError(f"{path}: file not found")
        for _, line in utf8_lines(path):
            if line.strip():
                yield line.rstrip("\n")
        return
    records, label = load_pair_records(path)
    columns = list(records.column_names)
    if "text" not in columns:
        raise DataError(f"{label}: a corpus file needs a 'text' column (columns found: {', '.join(columns)})")
    where = _locator(label)
    for i, record in enumerate(records):
        text = _text(record["text"], where(i), "text", "passage")
        title = record.get("title") or ""
        yield f"{title} {text}".strip() if isinstance(title, str) and title else text


def _check_utf8(path: Path) -> None:
    """A file that is not UTF-8 is named with its line, before ``datasets`` fails on it somewhere inside Arrow."""
    from negmine.data.jsonl import utf8_lines

    for _ in utf8_lines(path):
        pass


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__

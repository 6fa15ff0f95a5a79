"""Turning anchors and their negatives into a ``datasets.Dataset`` in the formats sentence-transformers losses take.

| format | text columns (what a loss reads) | one row per |
| --- | --- | --- |
| ``triplet`` | anchor, positive, negative | (anchor, positive, negative) |
| ``n-tuple`` | anchor, positive, negative_1 .. negative_k | (anchor, positive) with at least k negatives |
| ``labeled-pair`` | anchor, document, label (1 / 0) | (anchor, document) |
| ``labeled-list`` | anchor, documents, labels | anchor |

The other columns say where each example comes from: ids, ``negative_source`` (dense / lexical / label / topic, or
the synthetic generator and rule: ``perturb:RandomWordAug-swap``, ``swap:hard_negative``, ``reverse:direction``),
dense scores (NaN for synthetic texts, which are not encoded), the SciFact relation, a ``weight`` and the
``pair_type`` (claim, query, title, ict).
:func:`training_view` keeps only what a loss reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from negmine.pairs.anchors import Anchor

FORMATS = ("triplet", "n-tuple", "labeled-pair", "labeled-list")


@dataclass
class Negative:
    """One negative of an anchor: a document index, who proposed it, its dense score, its SciFact relation; a
    synthetic negative has no document (``doc`` -1, ``score`` NaN) and carries its ``text``; ``id`` names a negative
    that is not a corpus document (another query: ``claim:<id>``)."""

    doc: int
    source: str
    score: float
    relation: str | None = None
    text: str | None = None
    id: str | None = None

    def shown(self, doc_text: Callable[[int, str], str], pair_type: str) -> str:
        """The text a training row shows for this negative."""
        return self.text if self.text is not None else doc_text(self.doc, pair_type)

    def identifier(self, doc_ids: list[str], query_id: str) -> str:
        """The corpus id, or ``synthetic:<query id>:<source>`` for a generated text."""
        if self.id is not None:
            return self.id
        return doc_ids[self.doc] if self.doc >= 0 else f"synthetic:{query_id}:{self.source}"


def build_rows(
    anchors: list[Anchor],
    negatives: list[list[Negative]],
    positive_scores: list[list[float]],
    doc_ids: list[str],
    doc_text: Callable[[int, str], str],
    output_format: str,
    num_negatives: int,
) -> tuple[dict[str, list], int]:
    """Columns of the pairs dataset, and how many (anchor, positive) rows were dropped for too few negatives.

    Args:
        anchors: the anchors.
        negatives: the negatives of each anchor, in the order they should appear.
        positive_scores: the dense score of each anchor's positives.
        doc_ids: corpus ids in index order.
        doc_text: ``(doc index, pair_type) -> text`` shown for a negative.
        output_format: one of :data:`FORMATS`.
        num_negatives: ``k`` of the ``n-tuple`` format.

    Returns:
        ``(columns, dropped)``.
    """
    if output_format not in FORMATS:
        raise ValueError(f"output_format must be one of {FORMATS}, got {output_format!r}")
    rows: list[dict] = []
    dropped = 0
    for anchor, negs, pos_scores in zip(anchors, negatives, positive_scores, strict=True):
        base = {"query_id": anchor.query_id, "pair_type": anchor.pair_type}
        if output_format == "labeled-list":
            documents = [p.text for p in anchor.positives] + [n.shown(doc_text, anchor.pair_type) for n in negs]
            rows.append(
                {
                    "anchor": anchor.text,
                    "documents": documents,
                    "labels": [1] * len(anchor.positives) + [0] * len(negs),
                    **base,
                    "doc_ids": [doc_ids[p.doc] for p in anchor.positives] + [n.identifier(doc_ids, anchor.query_id)
                                                                               for n in negs],
                    "sources": ["positive"] * len(anchor.positives) + [n.source for n in negs],
                    "scores": list(pos_scores) + [n.score for n in negs],
                    "weights": [p.weight for p in anchor.positives] + [1.0] * len(negs),
                }
            )
            continue
        for positive, pos_score in zip(anchor.positives, pos_scores, strict=True):
            if output_format == "labeled-pair":
                rows.append(_labeled(anchor.text, positive.text, 1, base, doc_ids[positive.doc], "positive",
                                     positive.relation, pos_score, positive.weight))  # fmt: skip
                continue
            common = {
                **base,
                "positive_id": doc_ids[positive.doc],
                "positive_relation": positive.relation or "",
                "positive_score": pos_score,
                "weight": positive.weight,
            }
            if output_format == "triplet":
                for neg in negs:
                    rows.append(
                        {
                            "anchor": anchor.text,
                            "positive": positive.text,
                            "negative": neg.shown(doc_text, anchor.pair_type),
                            **common,
                            "negative_id": neg.identifier(doc_ids, anchor.query_id),
                            "negative_source": neg.source,
                            "negative_relation": neg.relation or "",
                            "negative_score": neg.score,
                        }
                    )
            elif len(negs) < num_negatives:
                dropped += 1
            else:
                chosen = negs[:num_negatives]
                texts = {f"negative_{i + 1}": n.shown(doc_text, anchor.pair_type) for i, n in enumerate(chosen)}
                rows.append(
                    {
                        "anchor": anchor.text,
                        "positive": positive.text,
                        **texts,
                        **common,
                        "negative_ids": [n.identifier(doc_ids, anchor.query_id) for n in chosen],
                        "negative_sources": [n.source for n in chosen],
                        "negative_scores": [n.score for n in chosen],
                    }
                )
        if output_format == "labeled-pair":
            for neg in negs:
                rows.append(_labeled(anchor.text, neg.shown(doc_text, anchor.pair_type), 0, base,
                                     neg.identifier(doc_ids, anchor.query_id),
                                     neg.source, neg.relation, neg.score, 1.0))  # fmt: skip
    names = list(rows[0]) if rows else empty_columns(output_format, num_negatives)
    return {key: [row[key] for row in rows] for key in names}, dropped


def dataset_from_chunks(chunks: Iterable[dict[str, list]], path: str | Path | None, names: list[str]):
    """A ``datasets.Dataset`` from column chunks: in memory when ``path`` is None, else written chunk by chunk to
    an Arrow file at ``path`` (``datasets``' ``ArrowWriter``) and memory-mapped, so rows larger than memory are
    never held at once.

    Args:
        chunks: dictionaries of equally long columns (the rows of some anchors each).
        path: the Arrow file to write, or None.
        names: the columns of a dataset without rows.

    Returns:
        The dataset.

    Example:
        >>> list(dataset_from_chunks([{"a": ["x"]}, {"a": []}, {"a": ["y"]}], None, ["a"])["a"])
        ['x', 'y']
    """
    from datasets import Dataset, concatenate_datasets
    from datasets.arrow_writer import ArrowWriter

    if path is None:
        parts = [Dataset.from_dict(c) for c in chunks if c and len(next(iter(c.values())))]
        if not parts:
            return Dataset.from_dict({name: [] for name in names})
        return parts[0] if len(parts) == 1 else concatenate_datasets(parts)
    writer = None
    for columns in chunks:
        if not columns or not len(next(iter(columns.values()))):
            continue
        if writer is None:
            writer = ArrowWriter(path=str(path))
        writer.write_batch(columns)
    if writer is None:
        return Dataset.from_dict({name: [] for name in names})
    writer.finalize()
    writer.close()
    return Dataset.from_file(str(path))


def empty_columns(output_format: str, num_negatives: int) -> list[str]:
    """The column names of a format, for a dataset without rows (so that its schema is still the right one)."""
    common = ["query_id", "pair_type", "positive_id", "positive_relation", "positive_score", "weight"]
    if output_format == "triplet":
        return ["anchor", "positive", "negative", *common, "negative_id", "negative_source", "negative_relation",
                "negative_score"]  # fmt: skip
    if output_format == "n-tuple":
        negatives = [f"negative_{i + 1}" for i in range(num_negatives)]
        return ["anchor", "positive", *negatives, *common, "negative_ids", "negative_sources", "negative_scores"]
    if output_format == "labeled-pair":
        return ["anchor", "document", "label", "query_id", "pair_type", "doc_id", "source", "relation", "score",
                "weight"]  # fmt: skip
    return ["anchor", "documents", "labels", "query_id", "pair_type", "doc_ids", "sources", "scores", "weights"]


def _labeled(anchor, text, label, base, doc_id, source, relation, score, weight) -> dict:
    return {"anchor": anchor, "document": text, "label": label, **base, "doc_id": doc_id, "source": source,
            "relation": relation or "", "score": score, "weight": weight}  # fmt: skip


def training_columns(column_names: list[str], output_format: str) -> list[str]:
    """The columns a sentence-transformers loss reads, in order, for a pairs dataset of ``output_format``.

    Example:
        >>> training_columns(["anchor", "positive", "negative_1", "negative_2", "query_id"], "n-tuple")
        ['anchor', 'positive', 'negative_1', 'negative_2']
    """
    if output_format == "triplet":
        return ["anchor", "positive", "negative"]
    if output_format == "n-tuple":
        negatives = sorted((c for c in column_names if c.startswith("negative_") and c[9:].isdigit()),
                           key=lambda c: int(c[9:]))  # fmt: skip
        return ["anchor", "positive", *negatives]
    if output_format == "labeled-pair":
        return ["anchor", "document", "label"]
    if output_format == "labeled-list":
        return ["anchor", "documents", "labels"]
    raise ValueError(f"output_format must be one of {FORMATS}, got {output_format!r}")


def training_view(dataset, output_format: str):
    """The pairs dataset with only the columns a loss reads (sentence-transformers treats every other column as
    an input), e.g. ``SentenceTransformerTrainer(train_dataset=training_view(pairs, "triplet"), ...)``."""
    return dataset.select_columns(training_columns(dataset.column_names, output_format))


def sentence_transformers_columns(
    anchors: list[Anchor],
    negatives: list[list[Negative]],
    positive_scores: list[list[float]],
    doc_text: Callable[[int], str],
    output_format: str,
    num_negatives: int,
    anchor_column: str = "anchor",
    positive_column: str = "positive",
    output_scores: bool = False,
) -> dict[str, list]:
    """Columns in exactly the shape ``sentence_transformers.util.mine_hard_negatives`` returns.

    | format | columns (``output_scores``) | one row per |
    | --- | --- | --- |
    | ``triplet`` | anchor, positive, negative (, scores: [pos, neg]) | (anchor, positive, negative) |
    | ``n-tuple`` | anchor, positive, negative_1 .. negative_k (, scores) | (anchor, positive) with k negatives |
    | ``labeled-pair`` | anchor, positive, label (or score) | the anchor's positives, then its negatives |
    | ``labeled-list`` | anchor, positive: [pos, neg...], labels (or scores) | (anchor, positive) with a negative |

    The anchor and positive columns keep the input's names.

    Example:
        >>> from negmine.pairs.anchors import Positive
        >>> a = [Anchor("q", "Why?", [Positive(0, "Because.")])]
        >>> sentence_transformers_columns(a, [[Negative(1, "dense", 0.5)]], [[0.9]], ["Because.", "No."].__getitem__,
        ...                               "triplet", 1, "question", "answer", output_scores=True)
        {'question': ['Why?'], 'answer': ['Because.'], 'negative': ['No.'], 'scores': [[0.9, 0.5]]}
    """
    if output_format not in FORMATS:
        raise ValueError(f"output_format must be one of {FORMATS}, got {output_format!r}")
    k = num_negatives
    names = {"triplet": [anchor_column, positive_column, "negative"],
             "n-tuple": [anchor_column, positive_column, *(f"negative_{i + 1}" for i in range(k))],
             "labeled-pair": [anchor_column, positive_column, "score" if output_scores else "label"],
             "labeled-list": [anchor_column, positive_column, "scores" if output_scores else "labels"]}[output_format]
    if output_scores and output_format in ("triplet", "n-tuple"):
        names.append("scores")
    columns: dict[str, list] = {name: [] for name in names}

    def add(*values) -> None:
        for name, value in zip(names, values, strict=True):
            columns[name].append(value)

    for anchor, negs, pos_scores in zip(anchors, negatives, positive_scores, strict=True):
        shown = [n.text if n.text is not None else doc_text(n.doc) for n in negs]
        if output_format == "labeled-pair":
            for positive, score in zip(anchor.positives, pos_scores, strict=True):
                add(anchor.text, positive.text, float(score) if output_scores else 1)
            for neg, text in zip(negs, shown, strict=True):
                add(anchor.text, text, float(neg.score) if output_scores else 0)
            continue
        for positive, score in zip(anchor.positives, pos_scores, strict=True):
            if output_format == "triplet":
                for neg, text in zip(negs, shown, strict=True):
                    scores = [[float(score), float(neg.score)]] if output_scores else []
                    add(anchor.text, positive.text, text, *scores)
            elif output_format == "n-tuple":
                if len(negs) >= k:
                    scores = [[float(score), *(float(n.score) for n in negs[:k])]] if output_scores else []
                    add(anchor.text, positive.text, *shown[:k], *scores)
            elif negs:  # labeled-list
                add(anchor.text, [positive.text, *shown],
                    [float(score), *(float(n.score) for n in negs)] if output_scores else [1] + [0] * len(negs))
    return columns

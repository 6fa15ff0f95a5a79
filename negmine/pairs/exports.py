"""Rows for other trainers: FlagEmbedding's and Tevatron's JSONL records, one an anchor.

| export | one record |
| --- | --- |
| ``flagembedding`` | ``{"query", "pos", "neg", "pos_scores", "neg_scores"}`` (its distillation reads the scores) |
| ``tevatron`` | ``{"query_id", "query", "positive_passages": [{"docid", "title", "text"}], "negative_passages"}`` |

References:
    Xiao et al., "C-Pack: Packaged Resources To Advance General Chinese Embedding", 2023 (FlagEmbedding);
    Gao et al., "Tevatron: An Efficient and Flexible Toolkit for Dense Retrieval", 2022.
"""

from __future__ import annotations

import json
from pathlib import Path

from negmine.pairs.anchors import Anchor
from negmine.pairs.formats import Negative

EXPORTS = ("flagembedding", "tevatron")
EXPORT_FILES = {"flagembedding": "flagembedding.jsonl", "tevatron": "tevatron.jsonl"}


def export_rows(name: str, anchors: list[Anchor], negatives: list[list[Negative]],
                positive_scores: list[list[float]], doc_texts: list[str],
                doc_ids: list[str]) -> list[dict]:  # fmt: skip
    """One record an anchor in the trainer's own field names.

    Args:
        name: ``flagembedding`` or ``tevatron``.
        anchors: the anchors with their positives.
        negatives: each anchor's negatives.
        positive_scores: each anchor's positives' scores.
        doc_texts: document texts by index (synthetic negatives carry their own text).
        doc_ids: document ids by index (Tevatron's ``docid``).

    Returns:
        A list of JSON-ready dictionaries.

    Example:
        >>> from negmine.pairs.anchors import Positive
        >>> export_rows("flagembedding", [Anchor("q", "Why?", [Positive(0, "Because.")])],
        ...             [[Negative(1, "dense", 0.5)]], [[0.9]], ["Because.", "Who knows."], ["d0", "d1"])
        [{'query': 'Why?', 'pos': ['Because.'], 'neg': ['Who knows.'], 'pos_scores': [0.9], 'neg_scores': [0.5]}]
    """
    if name not in EXPORTS:
        raise ValueError(f"export must be one of {EXPORTS}, got {name!r}")
    records = []
    for anchor, negs, scores in zip(anchors, negatives, positive_scores, strict=True):
        shown = [n.text if n.text is not None else doc_texts[n.doc] for n in negs]
        if name == "flagembedding":
            records.append({"query": anchor.text, "pos": [p.text for p in anchor.positives], "neg": shown,
                            "pos_scores": [_score(s) for s in scores], "neg_scores": [_score(n.score) for n in negs]})
        else:
            records.append({
                "query_id": anchor.query_id,
                "query": anchor.text,
                "positive_passages": [{"docid": doc_ids[p.doc], "title": "", "text": p.text}
                                      for p in anchor.positives],
                "negative_passages": [{"docid": n.identifier(doc_ids, anchor.query_id), "title": "", "text": text}
                                      for n, text in zip(negs, shown, strict=True)],
            })  # fmt: skip
    return records


def _score(value: float) -> float | None:
    """A score rounded for JSON; None for a synthetic text's NaN (JSON has no NaN)."""
    return None if value != value else round(float(value), 6)


def write_jsonl(path: str | Path, records: list[dict]) -> None:
    """One JSON object a line, UTF-8, non-ASCII kept as is."""
    with Path(path).open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")

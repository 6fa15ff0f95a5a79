"""The false-negative audit: the mined negatives most likely to be relevant, as a CSV a person fills in, and the
decisions read back by ``build-pairs --relabel``.

The ranking orders distinct (claim, negative document) pairs by their flags (sister evidence, a judge's verdict,
the reference model scoring the negative at or above the positive) and then by the reference score s(q,n): the
more the model believes a document answers the claim, the likelier a missing judgement. (The relative score
s(q,n) / max s(q,p) is listed too; ranked by it, claims whose own evidence scores low fill the top with documents
that are only "close" to a weak positive.)
Each row carries the claim, the document's title and the two sentences of the document the reference model finds
closest to the claim, so a person can decide without opening the corpus. Generated (synthetic) negatives are not
audited: they are no corpus document.

References:
    Settles, 2009, "Active Learning Literature Survey" (uncertainty sampling: label the ambiguous items first);
    Thakur et al., 2021, "BEIR" (missing judgements in retrieval benchmarks).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from negmine.errors import DataError, NegmineError

COLUMNS = ["rank", "query_id", "claim", "negative_id", "title", "evidence", "negative_source", "relative_score",
           "negative_score", "positive_score", "sister", "judge", "flags", "decision"]  # fmt: skip
DECISIONS = ("relevant", "not_relevant", "skip", "")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")


def split_sentences(text: str) -> list[str]:
    """Sentences of an abstract: split after ., ! or ? before a capital, digit or bracket.

    Example:
        >>> split_sentences("Aspirin helps. It lowers risk by 5%. (n = 3)")
        ['Aspirin helps.', 'It lowers risk by 5%.', '(n = 3)']
    """
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def audit_rows(nset, vectors, data, sisters: dict[str, set[str]], encoder, top: int, judge_flags=None,
               decided: set[tuple[str, str]] = frozenset()) -> list[dict]:  # fmt: skip
    """The ``top`` corpus negatives most likely to be false negatives, as CSV rows.

    Args:
        nset: the :class:`~negmine.analysis.negatives.NegativeSet`.
        vectors: its reference vectors (:func:`~negmine.analysis.measure.encode_set`).
        data: the pairs' retrieval data (titles and texts).
        sisters: the anchors' sister evidence.
        encoder: the reference encoder, for the evidence sentences.
        top: how many rows.
        judge_flags: per distinct negative, 1.0 where a judge scores it at or above the positive (optional).
        decided: (query id, document id) pairs a person already judged not relevant: never flagged again.

    Returns:
        Dicts with :data:`COLUMNS` (``decision`` empty).
    """
    from negmine.analysis.false_negatives import sister_flags
    from negmine.analysis.measure import triplet_scores

    scores = triplet_scores(nset, vectors)
    best_pos = np.full(len(nset.negatives), -np.inf)
    np.maximum.at(best_pos, scores["negative"], scores["pos"])
    neg = np.einsum("ij,ij->i", vectors.anchors[nset.negative_anchor], vectors.negatives)
    anchor_ids = [nset.anchor_ids[a] for a in nset.negative_anchor]
    sister = sister_flags(anchor_ids, nset.negative_ids, sisters)
    judge = judge_flags if judge_flags is not None else np.zeros(len(neg))
    inverted = (neg >= best_pos).astype(np.float64)
    relative = neg / np.where(np.abs(best_pos) > 1e-6, best_pos, np.nan)
    corpus = nset.is_corpus()
    keep = [i for i in range(len(neg)) if corpus[i] and (anchor_ids[i], nset.negative_ids[i]) not in decided
            and nset.negative_ids[i] in data.corpus]  # fmt: skip
    # one row per (claim, document): a document that is a negative of the same claim twice counts once
    seen, order = set(), []
    for i in sorted(keep, key=lambda i: (-sister[i], -judge[i], -inverted[i], -neg[i], -np.nan_to_num(relative[i]))):
        key = (anchor_ids[i], nset.negative_ids[i])
        if key not in seen:
            seen.add(key)
            order.append(i)
    rows = []
    for rank, i in enumerate(order[:top], start=1):
        doc = data.corpus[nset.negative_ids[i]]
        flags = [name for name, on in (("sister", sister[i]), ("judge", judge[i]), ("inversion", inverted[i])) if on]
        rows.append({
            "rank": rank, "query_id": anchor_ids[i], "claim": nset.anchors[nset.negative_anchor[i]],
            "negative_id": nset.negative_ids[i], "title": doc.get("title", ""),
            "evidence": " ... ".join(_evidence(doc.get("text", ""), vectors.anchors[nset.negative_anchor[i]],
                                               encoder)),
            "negative_source": nset.negative_sources[i], "relative_score": round(float(relative[i]), 4),
            "negative_score": round(float(neg[i]), 4), "positive_score": round(float(best_pos[i]), 4),
            "sister": int(sister[i]), "judge": int(judge[i]) if judge_flags is not None else "",
            "flags": "+".join(flags), "decision": "",
        })  # fmt: skip
    return rows


def _evidence(text: str, claim_vector: np.ndarray, encoder, n: int = 2) -> list[str]:
    """The ``n`` sentences of ``text`` closest to the claim, in text order."""
    sentences = split_sentences(text)
    if len(sentences) <= n:
        return sentences
    scores = encoder.encode(sentences, role="document") @ claim_vector
    return [sentences[i] for i in sorted(np.argsort(-scores)[:n])]


def audit_csv(rows: list[dict]) -> str:
    """The rows as CSV text (a header, then one line per row; quoting as a spreadsheet expects)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


@dataclass
class Relabel:
    """Decisions read from a filled-in audit CSV: (query id, document id) pairs."""

    path: str
    relevant: set[tuple[str, str]] = field(default_factory=set)
    not_relevant: set[tuple[str, str]] = field(default_factory=set)
    skipped: int = 0

    def summary(self, fingerprint: str) -> dict:
        """The manifest's record: counts, and the pairs (so a later audit leaves the not-relevant ones out)."""
        return {"file": self.path, "sha256": fingerprint, "relevant": sorted(map(list, self.relevant)),
                "not_relevant": sorted(map(list, self.not_relevant)), "skipped": self.skipped}  # fmt: skip


def read_relabel(path: str | Path, data) -> Relabel:
    """Read a filled-in audit CSV against the data it will relabel.

    Args:
        path: the CSV (its header must hold ``query_id``, ``negative_id`` and ``decision``).
        data: the split being built (its queries and corpus decide what matches).

    Returns:
        A :class:`Relabel`.

    Raises:
        DataError: ``FILE:LINE: field 'decision': ...`` for an unknown decision, a query or document that is not in
            the data, a claim text that differs from the query's, or a pair decided twice differently.

    Example:
        >>> read_relabel("audit.csv", data).relevant  # doctest: +SKIP
        {('13', '4414547')}
    """
    path = Path(path)
    if not path.is_file():
        raise NegmineError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not valid UTF-8 (byte {error.object[error.start]:#04x})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("query_id", "negative_id", "decision") if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"{path}:1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    relabel = Relabel(str(path))
    decisions: dict[tuple[str, str], tuple[str, int]] = {}
    for row in reader:
        line = reader.line_num
        decision = (row.get("decision") or "").strip().lower()
        query, doc = (row.get("query_id") or "").strip(), (row.get("negative_id") or "").strip()
        if decision not in DECISIONS:
            raise DataError(f"{path}:{line}: field 'decision': unknown decision {row['decision']!r} "
                            "(relevant, not_relevant, skip or empty)")  # fmt: skip
        if query not in data.queries:
            raise DataError(f"{path}:{line}: field 'query_id': {query!r} is not a query of {data.name}/{data.split}; "
                            "the row does not match these pairs")  # fmt: skip
        if doc not in data.corpus:
            raise DataError(f"{path}:{line}: field 'negative_id': {doc!r} is not a document of {data.name}")
        claim = (row.get("claim") or "").strip()
        if claim and claim != data.queries[query].strip():
            raise DataError(f"{path}:{line}: field 'claim': differs from query {query}'s text; the row does not "
                            "match these pairs")  # fmt: skip
        if decision in ("", "skip"):
            relabel.skipped += decision == "skip"
            continue
        earlier = decisions.get((query, doc))
        if earlier is not None and earlier[0] != decision:
            raise DataError(f"{path}:{line}: field 'decision': {decision} contradicts line {earlier[1]} "
                            f"({earlier[0]}) for query {query}, document {doc}")  # fmt: skip
        decisions[(query, doc)] = (decision, line)
        (relabel.relevant if decision == "relevant" else relabel.not_relevant).add((query, doc))
    return relabel


def apply_relabel(data, relabel: Relabel):
    """The data with each ``relevant`` decision added to its query's relevance judgements (so it becomes a
    positive, and the miners' known-positive filter keeps it out of the negatives)."""
    from negmine.data import RetrievalData

    qrels = {q: dict(docs) for q, docs in data.qrels.items()}
    for query, doc in relabel.relevant:
        qrels.setdefault(query, {})[doc] = max(1, qrels.get(query, {}).get(doc, 0))
    return RetrievalData(data.corpus, data.queries, qrels, data.name, data.split, data.sources)

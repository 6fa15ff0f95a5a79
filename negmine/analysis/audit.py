"""The false-negative audit: the mined negatives most likely to be relevant, as a CSV a person fills in (its decisions
are read back by ``build-pairs --relabel``, through :mod:`negmine.data.relabel`).

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

import numpy as np

COLUMNS = ["rank", "query_id", "claim", "negative_id", "title", "evidence", "negative_source", "relative_score",
           "negative_score", "positive_score", "sister", "judge", "flags", "decision"]  # fmt: skip
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

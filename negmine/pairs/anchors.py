"""Training anchors: a query text with its positives and its explicitly labelled negatives.

For SciFact the task decides what counts as positive: ``retrieval`` (every cited document, as in BEIR) or
``verification`` (SUPPORT documents are positives; CONTRADICT and NOINFO documents become labelled negatives).
Any BEIR data set gives retrieval anchors from its qrels. Corpus pairs (title -> abstract, and the inverse cloze
task: one sentence -> the rest of its abstract) work for any corpus, with or without labels.

References:
    Wadden et al., "Fact or Fiction: Verifying Scientific Claims", EMNLP 2020;
    Lee, Chang and Toutanova, "Latent Retrieval for Weakly Supervised Open Domain Question Answering", ACL 2019 (ICT).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from negmine.data.retrieval import RetrievalData, document_position
from negmine.data.scifact import CONTRADICT, NOINFO, SUPPORT, SciFactRelease

TASKS = ("retrieval", "verification")
WEIGHTINGS = ("none", "label", "rationale")
LABEL_WEIGHTS = {SUPPORT: 1.0, CONTRADICT: 1.0, NOINFO: 0.5}
GIVEN = "given"  # the relation of a negative the source gave (FlagEmbedding's neg, Tevatron's negative_passages)


class Positive:
    """A positive document of an anchor; ``text`` is what the training pair shows (abstract or rationale).

    Without a ``text``, the text is read from ``texts[doc]`` when asked, so that a corpus kept on disk is not
    copied into the anchors.

    Example:
        >>> Positive(0, "Yes.").text, Positive(1, texts=["a", "b"]).text
        ('Yes.', 'b')
    """

    __slots__ = ("doc", "relation", "weight", "_text", "_texts")

    def __init__(self, doc: int, text: str | None = None, relation: str | None = None, weight: float = 1.0,
                 texts=None):  # fmt: skip
        if text is None and texts is None:
            raise ValueError("a Positive needs its text or the texts to read it from")
        self.doc, self.relation, self.weight, self._text, self._texts = doc, relation, weight, text, texts

    @property
    def text(self) -> str:
        return self._text if self._text is not None else self._texts[self.doc]

    def __eq__(self, other) -> bool:
        return isinstance(other, Positive) and (self.doc, self.text, self.relation, self.weight) == (
            other.doc, other.text, other.relation, other.weight)  # fmt: skip

    def __repr__(self) -> str:
        return f"Positive(doc={self.doc}, text={self.text!r}, relation={self.relation!r}, weight={self.weight})"


@dataclass
class Anchor:
    """One training query: its text, positives, labelled negatives ``(doc, relation)``, and its kind."""

    query_id: str
    text: str
    positives: list[Positive]
    label_negatives: list[tuple[int, str]] = field(default_factory=list)
    pair_type: str = "query"
    excluded: dict[str, list[int]] = field(default_factory=dict)

    @property
    def known_docs(self) -> list[int]:
        """Every document the labels speak of: never a mined negative."""
        return [p.doc for p in self.positives] + [doc for doc, _ in self.label_negatives]


def _weight(weighting: str, relation: str | None, rationale_share: float) -> float:
    if weighting == "label" and relation is not None:
        return LABEL_WEIGHTS[relation]
    if weighting == "rationale":
        return 0.5 + 0.5 * rationale_share
    return 1.0


def claim_anchors(
    data: RetrievalData,
    doc_ids: list[str],
    release: SciFactRelease | None = None,
    task: str = "retrieval",
    weighting: str = "none",
    rationale_passages: bool = False,
    texts=None,
) -> tuple[list[Anchor], dict[str, int]]:
    """Anchors for the queries of ``data`` (the labelled SciFact view when ``release`` is given).

    Args:
        data: the split (its queries and qrels decide which claims are used).
        doc_ids: corpus ids in index order (``list(data.corpus)``).
        release: the SciFact release for labels and rationales; None for a plain BEIR data set.
        task: ``retrieval`` or ``verification`` (needs ``release``).
        weighting: ``none`` (1.0), ``label`` (SUPPORT/CONTRADICT 1.0, NOINFO 0.5) or ``rationale``
            (0.5 + 0.5 x the share of the abstract's sentences that are rationale sentences).
        rationale_passages: show a positive with rationales as its rationale sentences instead of the abstract.
        texts: the documents' texts in ``doc_ids`` order, if already made (default:
            ``data.document_texts(doc_ids)``); a positive shows ``texts[doc]``, read when asked.

    Returns:
        ``(anchors, counts)``; counts say how many queries had no positive for the task and were skipped.

    Example:
        >>> anchors, counts = claim_anchors(data, list(data.corpus), release, task="verification")  # doctest: +SKIP
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if task == "verification" and release is None:
        from negmine.errors import NegmineError

        raise NegmineError("task 'verification' needs the SciFact release (SUPPORT / CONTRADICT labels)")
    position = document_position(data.corpus, doc_ids)
    texts = data.document_texts(doc_ids) if texts is None else texts
    claims = {}
    if release is not None:
        for split_claims in release.claims.values():
            claims.update({str(c.id): c for c in split_claims.values()})
    anchors, skipped = [], 0
    # grouped by query, not RetrievalData.judged_pairs' flat rows: an anchor gathers all its positives (and, for
    # verification, SciFact's CONTRADICT / NOINFO labels and rationales) before mining
    for qid, relevant in data.relevant_docs().items():
        claim = claims.get(qid)
        positives, negatives = [], []
        for doc in sorted(relevant, key=position):
            evidence = claim.evidence.get(int(doc)) if claim is not None and doc.isdigit() else None
            relation = evidence.label if evidence is not None else None
            rationale = sorted({s for r in evidence.rationales for s in r}) if evidence is not None else []
            if task == "verification" and relation != SUPPORT:
                negatives.append((position(doc), relation or NOINFO))
                continue
            sentences = release.corpus[int(doc)].sentences if evidence is not None else ()
            share = len(rationale) / len(sentences) if sentences else 0.0
            text = " ".join(sentences[s] for s in rationale) if rationale_passages and rationale else None
            positives.append(Positive(position(doc), text, relation, _weight(weighting, relation, share), texts))
        if not positives:
            skipped += 1
            continue
        negatives += [(position(doc), GIVEN) for doc in data.given_negatives.get(qid, ())]
        anchors.append(Anchor(qid, data.queries[qid], positives, negatives, pair_type="claim" if claim else "query"))
    return anchors, {"anchors": len(anchors), "skipped_without_positive": skipped}


def normalise_text(text: str) -> str:
    """A text up to case and whitespace, the key of :func:`mark_copies`.

    Example:
        >>> normalise_text("  The  Cat\tsat. ")
        'the cat sat.'
    """
    return " ".join(text.split()).casefold()


def mark_copies(anchors: list[Anchor], doc_texts: list[str], near_duplicates: bool = True) -> dict[str, int]:
    """Record in each anchor the documents that must never be its negatives though no label says so: its own
    text (``anchor_text``; sentence-transformers drops it too) and, with ``near_duplicates``, any other document
    whose text is one of its positives' up to case and whitespace (``near_duplicate``). Without
    ``near_duplicates`` the anchor's text must match exactly, as in sentence-transformers.

    Args:
        anchors: the anchors, changed in place.
        doc_texts: the documents' texts in index order.
        near_duplicates: compare texts up to case and whitespace, and look for copies of the positives.

    Returns:
        How many (anchor, document) exclusions of each kind were recorded.

    Example:
        >>> a = Anchor("q", "Is it?", [Positive(0, "Yes.")])
        >>> mark_copies([a], ["Yes.", "yes. ", "is it?"]), a.excluded
        ({'anchor_text': 1, 'near_duplicate': 1}, {'anchor_text': [2], 'near_duplicate': [1]})
    """
    key = normalise_text if near_duplicates else (lambda text: text)
    wanted = {key(a.text) for a in anchors}
    if near_duplicates:
        wanted |= {key(doc_texts[p.doc]) for a in anchors for p in a.positives}
    where: dict[str, list[int]] = {}  # only the texts some anchor asks about: memory in anchors, not documents
    for i, text in enumerate(doc_texts):
        normalised = key(text)
        if normalised in wanted:
            where.setdefault(normalised, []).append(i)
    counts = {"anchor_text": 0, "near_duplicate": 0}
    for anchor in anchors:
        known = set(anchor.known_docs)
        own = [d for d in where.get(key(anchor.text), ()) if d not in known]
        copies = []
        if near_duplicates:
            copies = sorted({d for p in anchor.positives for d in where.get(key(doc_texts[p.doc]), ())}
                            - known - set(own))  # fmt: skip
        anchor.excluded = {"anchor_text": own, "near_duplicate": copies}
        counts["anchor_text"] += len(own)
        counts["near_duplicate"] += len(copies)
    return counts


def corpus_anchors(data: RetrievalData, doc_ids: list[str], kinds: tuple[str, ...], seed: int,
                   sample: int | None = None) -> list[Anchor]:  # fmt: skip
    """Self-supervised anchors from the corpus: ``title`` (title -> abstract) and ``ict`` (a random sentence ->
    the rest of its abstract; needs at least two sentences). Positives and their negatives are shown without
    titles, so a title is never a shortcut. ``sample`` keeps that many documents, drawn at random with ``seed``
    (in corpus order; all when None), so the corpus adds rows in proportion to the queries rather than 8x them.

    Example:
        >>> [a.pair_type for a in corpus_anchors(data, ids, ("title",), seed=0)][:1]  # doctest: +SKIP
        ['title']
    """
    anchors = []
    rng = np.random.default_rng(seed)
    chosen = range(len(doc_ids))
    if sample is not None and sample < len(doc_ids):
        chosen = sorted(rng.choice(len(doc_ids), size=sample, replace=False).tolist())
    for i in chosen:
        doc = doc_ids[i]
        title, text = data.corpus[doc]["title"], data.corpus[doc]["text"]
        if "title" in kinds and title and text:
            anchors.append(Anchor(f"title:{doc}", title, [Positive(i, text)], pair_type="title"))
        if "ict" in kinds:
            sentences = split_sentences(text)
            if len(sentences) >= 2:
                pick = int(rng.integers(len(sentences)))
                rest = " ".join(s for j, s in enumerate(sentences) if j != pick)
                anchors.append(Anchor(f"ict:{doc}", sentences[pick], [Positive(i, rest)], pair_type="ict"))
    return anchors


def split_sentences(text: str) -> list[str]:
    """A light sentence split on ``. `` / ``? `` / ``! `` boundaries (SciFact abstracts come pre-split)."""
    import re

    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]

"""SciFact in its original release layout, with everything its labels say.

A claim's ``evidence`` maps a cited document to rationale sets (sentence indices and a SUPPORT or CONTRADICT
label); a cited document without evidence is NOINFO for that claim. ``claims_test.jsonl`` is unlabelled and the
labelled ``claims_dev.jsonl`` may be held out; neither is required.

References:
    Wadden et al., "Fact or Fiction: Verifying Scientific Claims", EMNLP 2020.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from negmine.data.jsonl import check_unique, iter_jsonl
from negmine.data.retrieval import RetrievalData
from negmine.errors import DataError

logger = logging.getLogger(__name__)

SUPPORT, CONTRADICT, NOINFO = "SUPPORT", "CONTRADICT", "NOINFO"
CLAIM_FILES = {"train": "claims_train.jsonl", "dev": "claims_dev.jsonl", "test": "claims_test.jsonl"}


class _RationaleRecord(BaseModel):
    sentences: list[int]
    label: Literal["SUPPORT", "CONTRADICT"]


class _ClaimRecord(BaseModel):
    id: int
    claim: str
    evidence: dict[int, list[_RationaleRecord]] | None = None
    cited_doc_ids: list[int] = []


class _AbstractRecord(BaseModel):
    doc_id: int
    title: str
    abstract: list[str]
    structured: bool = False


@dataclass(frozen=True)
class Abstract:
    """One corpus document: a title and its abstract split into sentences."""

    doc_id: int
    title: str
    sentences: tuple[str, ...]
    structured: bool = False

    @property
    def text(self) -> str:
        """The abstract's sentences joined by spaces (BEIR's ``text``)."""
        return " ".join(self.sentences)


@dataclass(frozen=True)
class Evidence:
    """How one cited document bears on one claim: its label and the rationale sentence sets behind it."""

    doc_id: int
    label: str | None  # SUPPORT, CONTRADICT or NOINFO; None where the claim file carries no labels
    rationales: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class Claim:
    """One claim with a relation for each cited document; ``labelled`` is False for files without ``evidence``."""

    id: int
    text: str
    evidence: dict[int, Evidence]
    labelled: bool

    def label(self, doc_id: int) -> str | None:
        """SUPPORT, CONTRADICT or NOINFO for a cited document; None for a document the claim does not cite."""
        found = self.evidence.get(doc_id)
        return found.label if found else None

    def docs_with(self, *labels: str) -> list[int]:
        """The cited documents whose relation is one of ``labels``, in citation order."""
        return [doc for doc, found in self.evidence.items() if found.label in labels]


class SciFactRelease:
    """The original SciFact release in one folder: the corpus and whichever claim files are present.

    Args:
        corpus: doc id -> :class:`Abstract`.
        claims: split (``train``, ``dev``, ``test``) -> claim id -> :class:`Claim`.
        folder: where it was read from.

    Example:
        >>> release = SciFactRelease.load("data/scifact")  # doctest: +SKIP
        >>> claim = release.claims["train"][2]  # doctest: +SKIP
        >>> claim.label(13734012), claim.evidence[13734012].rationales  # doctest: +SKIP
        ('CONTRADICT', ((4,),))
    """

    def __init__(self, corpus: dict[int, Abstract], claims: dict[str, dict[int, Claim]], folder: Path | None = None):
        self.corpus = corpus
        self.claims = claims
        self.folder = folder

    @staticmethod
    def is_release(folder: Path) -> bool:
        """Whether ``folder`` holds a SciFact release (a corpus and the training claims)."""
        return (folder / "corpus.jsonl").is_file() and (folder / CLAIM_FILES["train"]).is_file()

    @classmethod
    def load(cls, folder: str | Path) -> SciFactRelease:
        """Read ``corpus.jsonl`` and every ``claims_{train,dev,test}.jsonl`` present in ``folder``."""
        folder = Path(folder)
        corpus = read_corpus(folder / "corpus.jsonl")
        claims = {
            split: read_claims(folder / file, corpus)
            for split, file in CLAIM_FILES.items()
            if (folder / file).is_file()
        }
        if "train" not in claims:
            raise DataError(f"{folder / CLAIM_FILES['train']}: file not found")
        return cls(corpus, claims, folder)

    def labelled_splits(self) -> list[str]:
        """The splits whose claims carry labels and cited documents."""
        return [split for split, claims in self.claims.items() if any(c.labelled for c in claims.values())]

    def to_retrieval(self, split: str) -> RetrievalData:
        """BEIR's view of a split: every cited document is relevant (score 1), whatever its label."""
        if split not in self.claims:
            raise DataError(f"{self.folder / CLAIM_FILES.get(split, split)}: file not found")
        claims = self.claims[split]
        return RetrievalData(
            corpus={str(doc.doc_id): {"title": doc.title, "text": doc.text} for doc in self.corpus.values()},
            queries={str(claim.id): claim.text for claim in claims.values()},
            qrels={
                str(claim.id): {str(doc): 1 for doc in claim.evidence} for claim in claims.values() if claim.evidence
            },
            name="scifact",
            split=split,
            sources=tuple(str(self.folder / f) for f in ("corpus.jsonl", CLAIM_FILES[split])) if self.folder else (),
        )


def read_corpus(path: Path) -> dict[int, Abstract]:
    """doc id -> :class:`Abstract`; duplicate ids and an empty corpus are errors."""
    corpus: dict[int, Abstract] = {}
    seen: dict[str, int] = {}
    for line, record in iter_jsonl(path, _AbstractRecord):
        check_unique(path, seen, str(record.doc_id), line)
        corpus[record.doc_id] = Abstract(record.doc_id, record.title, tuple(record.abstract), record.structured)
    if not corpus:
        raise DataError(f"{path}: empty corpus (no documents)")
    return corpus


def read_claims(path: Path, corpus: dict[int, Abstract]) -> dict[int, Claim]:
    """claim id -> :class:`Claim`, checked against the corpus.

    Rationale sentence indices outside their abstract, and rationales of one document with different labels, are
    errors naming the line; cited documents missing from the corpus are left out and reported as a warning.
    """
    claims: dict[int, Claim] = {}
    seen: dict[str, int] = {}
    unknown = 0
    for line, record in iter_jsonl(path, _ClaimRecord):
        check_unique(path, seen, str(record.id), line)
        evidence: dict[int, Evidence] = {}
        given = record.evidence or {}
        for doc_id in list(dict.fromkeys([*record.cited_doc_ids, *given])):
            if doc_id not in corpus:
                unknown += 1
                continue
            rationales = given.get(doc_id, [])
            labels = {r.label for r in rationales}
            if len(labels) > 1:
                raise DataError(f"{path}:{line}: field 'evidence.{doc_id}': rationales disagree ({sorted(labels)})")
            n_sentences = len(corpus[doc_id].sentences)
            for r in rationales:
                if any(not 0 <= s < n_sentences for s in r.sentences):
                    raise DataError(
                        f"{path}:{line}: field 'evidence.{doc_id}.sentences': index out of range "
                        f"(the abstract has {n_sentences} sentences)"
                    )
            label = labels.pop() if labels else (NOINFO if record.evidence is not None else None)
            evidence[doc_id] = Evidence(doc_id, label, tuple(tuple(r.sentences) for r in rationales))
        claims[record.id] = Claim(record.id, record.claim, evidence, labelled=record.evidence is not None)
    if unknown:
        logger.warning("%s: left out %d cited document(s) missing from the corpus", path, unknown)
    return claims

"""``swap``: "same words, other topic". The positive's most informative terms that it shares with the anchor are
replaced by informative terms of another document (the anchor's hardest mined negative, or a random one); the rest of
the text stays, so the negative reads like the positive while its subject has moved.

Terms and their informativeness come from scikit-learn's ``TfidfVectorizer`` fitted on the corpus (IDF, English stop
words left out). Each output reports how much of its source it keeps (``source_overlap``: the share of the source's
word tokens left unchanged) and how many anchor terms it still shares (``anchor_overlap``, against
``anchor_overlap_source`` for the positive).

References:
    Sparck Jones, "A statistical interpretation of term specificity and its application in retrieval", 1972 (IDF);
    Jia and Liang, "Adversarial Examples for Evaluating Reading Comprehension Systems", EMNLP 2017 (lexical
    distractors that keep the question's words).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

WORD = re.compile(r"\w+")


@dataclass
class Swapped:
    """One swapped negative: its text, the term mapping, and its overlaps."""

    text: str
    mapping: dict[str, str]
    source_overlap: float
    anchor_overlap: float
    anchor_overlap_source: float


class KeywordSwapper:
    """IDF over a corpus, and the swap of a positive's anchor terms for a donor document's terms.

    Args:
        corpus: the corpus texts the IDF is computed on.
        terms: how many shared terms (highest IDF first) are replaced.

    Returns:
        ``swap(anchor, positive, donor)`` gives a :class:`Swapped` or None (nothing shared, or no donor term).

    Example:
        >>> swapper = KeywordSwapper(["aspirin lowers stroke risk", "statins lower cholesterol", "sleep and memory"])
        >>> positive = "Aspirin lowers stroke risk in adults."
        >>> swapper.swap("Does aspirin prevent stroke?", positive, "sleep and memory").text
        'Memory lowers sleep risk in adults.'
    """

    def __init__(self, corpus: list[str], terms: int = 3, cache_dir: str | Path | None = None):
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(stop_words="english", lowercase=True)
        self.analyzer = vectorizer.build_analyzer()  # needs no fitting
        self.terms = terms
        cached = None
        if cache_dir is not None:  # the IDF of a corpus, like its vectors, is computed once (a fit is seconds)
            digest = hashlib.sha256("\x1e".join(corpus).encode("utf-8")).hexdigest()[:24]
            cached = Path(cache_dir).expanduser() / f"idf-{digest}.json"
            if cached.is_file():
                self.idf = json.loads(cached.read_text())
                return
        vectorizer.fit(corpus)
        self.idf = dict(zip(vectorizer.get_feature_names_out().tolist(), vectorizer.idf_.tolist(), strict=True))
        if cached is not None:
            from negmine.outputs import write_json

            write_json(cached, self.idf, overwrite=True)

    def informative(self, text: str | set[str], exclude: set[str] = frozenset()) -> list[str]:
        """The distinct known alphabetic terms of ``text`` (or of a set of its terms) not in ``exclude``, highest
        IDF first (ties alphabetical); numbers are neither swapped out nor in (changing numbers is ``reverse``'s)."""
        terms = text if isinstance(text, set) else set(self.analyzer(text))
        return sorted((t for t in terms if t in self.idf and t not in exclude and t.isalpha()),
                      key=lambda t: (-self.idf[t], t))  # fmt: skip

    def swap(self, anchor: str, positive: str, donor: str) -> Swapped | None:
        anchor_terms = set(self.analyzer(anchor))
        positive_terms = set(self.analyzer(positive))
        shared = [t for t in self.informative(positive_terms) if t in anchor_terms][: self.terms]
        replacements = self.informative(donor, exclude=anchor_terms | positive_terms)[: len(shared)]
        if not shared or not replacements:
            return None
        mapping = dict(zip(shared, replacements, strict=False))
        pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in mapping) + r")\b", re.IGNORECASE)
        text = pattern.sub(lambda m: _cased(mapping[m.group(0).lower()], m.group(0)), positive)
        source, changed = WORD.findall(positive.lower()), WORD.findall(text.lower())
        kept = sum(a == b for a, b in zip(source, changed, strict=False)) / max(len(source), 1)
        after = set(self.analyzer(text))
        overlaps = _share(anchor_terms, after), _share(anchor_terms, positive_terms)
        return Swapped(text, mapping, round(kept, 4), *overlaps)


def _share(anchor_terms: set[str], terms: set[str]) -> float:
    return round(len(anchor_terms & terms) / len(anchor_terms), 4) if anchor_terms else 0.0


def _cased(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if like[:1].isupper() else word

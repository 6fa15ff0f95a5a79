"""Documents that must never be negatives: too short to mean anything, or retracted."""

from __future__ import annotations

import re

import numpy as np

from negmine.data.retrieval import RetrievalData

# Markers of a retraction notice, not the words alone ("axonal retraction", "patients withdrawn from the study").
RETRACTION_TITLE = re.compile(r"^\W*(retracted|retraction|withdrawn|notice of retraction)\b", re.IGNORECASE)
RETRACTION_TEXT = re.compile(
    r"\b(this (article|paper|manuscript) (has been|was|is) (retracted|withdrawn)|notice of retraction|"
    r"retracted article|retraction notice)\b",
    re.IGNORECASE,
)


def is_retracted(title: str, text: str) -> bool:
    """Whether a document is a retraction notice or marked as retracted.

    Example:
        >>> is_retracted("Retracted: coffee cures cancer", ""), is_retracted("Axons", "axonal retraction was seen")
        (True, False)
    """
    return bool(RETRACTION_TITLE.search(title) or RETRACTION_TEXT.search(text))


def noise_mask(data: RetrievalData, doc_ids: list[str], min_words: int = 10) -> tuple[np.ndarray, dict[str, int]]:
    """A boolean mask over ``doc_ids``: True for abstracts under ``min_words`` words or with a retraction marker.

    Args:
        data: the corpus.
        doc_ids: corpus ids in index order.
        min_words: abstracts (text without title) with fewer words are noise; 0 turns this off.

    Returns:
        ``(mask, counts)`` with counts ``short`` and ``retracted``.

    Example:
        >>> data = RetrievalData({"a": {"title": "Retracted: x", "text": "a b"}}, {}, {})
        >>> noise_mask(data, ["a"])[1]
        {'short': 1, 'retracted': 1}
    """
    short = np.array([len(data.corpus[d]["text"].split()) < min_words for d in doc_ids], dtype=bool)
    retracted = np.array([is_retracted(data.corpus[d]["title"], data.corpus[d]["text"]) for d in doc_ids], dtype=bool)
    return short | retracted, {"short": int(short.sum()), "retracted": int(retracted.sum())}

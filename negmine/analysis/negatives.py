"""A set of negatives read back from a pairs folder, in one shape whatever the pairs' format.

Every format (triplet, n-tuple, labeled-pair, labeled-list) becomes *examples*: an anchor, one positive and the
negatives the loss sets against it (an n-tuple row; the triplet rows of one (anchor, positive); each positive of a
labeled anchor with all its negatives). Hardness is measured on those (anchor, positive, negative) triplets, the
unit a loss sees; diversity and false-negative estimates on the distinct (anchor, negative) pairs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from negmine.errors import NegmineError

SYNTHETIC_PREFIX = "synthetic:"
NOT_CORPUS_PREFIXES = (SYNTHETIC_PREFIX, "claim:")  # generated texts; other claims (a BallTree refresh's negatives)


@dataclass
class NegativeSet:
    """The negatives of one pairs folder.

    Attributes:
        folder: the pairs folder.
        manifest: its manifest.
        anchors / anchor_ids: distinct anchor texts and their query ids.
        positives / positive_ids: distinct positive texts and their document ids.
        negatives / negative_ids / negative_sources / negative_anchor: distinct (anchor, negative) pairs: the text,
            the corpus id (``synthetic:...`` for a generated text), the ``negative_source`` and the anchor index.
        example_anchor / example_positive: each example's anchor and positive index.
        example_negatives: ``(examples, k)`` indices into ``negatives``, -1 where a row has fewer.

    Example:
        >>> nset = load_negative_set("runs/pairs")  # doctest: +SKIP
        >>> len(nset.negatives), nset.sources()  # doctest: +SKIP
        (645, ['dense', 'dense+lexical', 'lexical'])
    """

    folder: Path
    manifest: dict
    anchors: list[str] = field(default_factory=list)
    anchor_ids: list[str] = field(default_factory=list)
    positives: list[str] = field(default_factory=list)
    positive_ids: list[str] = field(default_factory=list)
    negatives: list[str] = field(default_factory=list)
    negative_ids: list[str] = field(default_factory=list)
    negative_sources: list[str] = field(default_factory=list)
    negative_anchor: list[int] = field(default_factory=list)
    example_anchor: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    example_positive: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    example_negatives: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))

    def sources(self) -> list[str]:
        """The distinct ``negative_source`` values, sorted."""
        return sorted(set(self.negative_sources))

    def is_corpus(self) -> np.ndarray:
        """True for negatives that are corpus documents (not generated texts or other claims)."""
        return np.array([not d.startswith(NOT_CORPUS_PREFIXES) for d in self.negative_ids], dtype=bool)

    def triplets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(example, anchor, positive, negative)`` index arrays of every (anchor, positive, negative) triplet."""
        rows, columns = np.nonzero(self.example_negatives >= 0)
        return rows, self.example_anchor[rows], self.example_positive[rows], self.example_negatives[rows, columns]


def is_pairs_folder(folder: Path) -> bool:
    """A folder written by ``negmine build-pairs``."""
    return (folder / "manifest.json").is_file() and (folder / "pairs.parquet").is_file()


def _examples(frame, output_format: str) -> list[tuple]:
    """``(query id, anchor, positive, positive id, [(text, id, source), ...])`` per example."""
    if output_format == "n-tuple":
        width = sum(1 for c in frame.columns if c.startswith("negative_") and c[9:].isdigit())
        return [(r["query_id"], r["anchor"], r["positive"], r["positive_id"],
                 [(r[f"negative_{i + 1}"], r["negative_ids"][i], r["negative_sources"][i]) for i in range(width)])
                for r in frame.to_dict("records")]  # fmt: skip
    if output_format == "triplet":
        grouped: dict[tuple, tuple] = {}
        for r in frame.to_dict("records"):
            key = (r["query_id"], r["anchor"], r["positive_id"])
            entry = grouped.setdefault(key, (r["query_id"], r["anchor"], r["positive"], r["positive_id"], []))
            entry[4].append((r["negative"], r["negative_id"], r["negative_source"]))
        return list(grouped.values())
    if output_format == "labeled-pair":
        records = [(r["query_id"], r["anchor"], r["document"], r["doc_id"], r["source"], r["label"])
                   for r in frame.to_dict("records")]  # fmt: skip
    else:
        records = [(r["query_id"], r["anchor"], d, i, s, lab) for r in frame.to_dict("records")
                   for d, i, s, lab in zip(r["documents"], r["doc_ids"], r["sources"], r["labels"], strict=True)]
    per_anchor: dict[tuple, tuple[list, list]] = {}
    for query, anchor, text, doc, source, label in records:
        positives, negatives = per_anchor.setdefault((query, anchor), ([], []))
        (positives if label == 1 else negatives).append((text, doc) if label == 1 else (text, doc, source))
    return [(q, a, text, doc, negatives) for (q, a), (positives, negatives) in per_anchor.items()
            for text, doc in positives]  # fmt: skip


def load_negative_set(folder: str | Path) -> NegativeSet:
    """Read a pairs folder (``manifest.json`` and ``pairs.parquet``) into a :class:`NegativeSet`.

    Args:
        folder: a folder written by ``negmine build-pairs`` (or a run's ``pairs/``).

    Returns:
        The set.

    Raises:
        NegmineError: not a pairs folder, or no negatives in it.
    """
    import pandas as pd

    folder = Path(folder)
    if not is_pairs_folder(folder):
        raise NegmineError(f"{folder}: not a pairs folder (no manifest.json and pairs.parquet)")
    manifest = json.loads((folder / "manifest.json").read_text())
    output_format = manifest.get("parameters", {}).get("output_format", "triplet")
    examples = _examples(pd.read_parquet(folder / "pairs.parquet"), output_format)
    nset = NegativeSet(folder=folder, manifest=manifest)
    anchor_index: dict[tuple, int] = {}
    positive_index: dict[tuple, int] = {}
    negative_index: dict[tuple, int] = {}
    rows = []
    for query, anchor, positive, positive_id, negatives in examples:
        a = anchor_index.setdefault((query, anchor), len(anchor_index))
        if a == len(nset.anchors):
            nset.anchors.append(anchor)
            nset.anchor_ids.append(str(query))
        p = positive_index.setdefault((positive_id, positive), len(positive_index))
        if p == len(nset.positives):
            nset.positives.append(positive)
            nset.positive_ids.append(str(positive_id))
        columns = []
        for text, doc, source in negatives:
            n = negative_index.setdefault((a, str(doc), text), len(negative_index))
            if n == len(nset.negatives):
                nset.negatives.append(text)
                nset.negative_ids.append(str(doc))
                nset.negative_sources.append(str(source))
                nset.negative_anchor.append(a)
            columns.append(n)
        rows.append((a, p, columns))
    if not nset.negatives:
        raise NegmineError(f"{folder}: no negatives in these pairs (nothing to analyse)")
    width = max(len(c) for _, _, c in rows)
    nset.example_anchor = np.array([a for a, _, _ in rows], dtype=np.int64)
    nset.example_positive = np.array([p for _, p, _ in rows], dtype=np.int64)
    nset.example_negatives = np.array([c + [-1] * (width - len(c)) for _, _, c in rows], dtype=np.int64)
    return nset


def load_pairs_data(manifest: dict, data_dir: str | None = None, folder: Path | None = None,
                    split: str | None = None):
    """The retrieval data a pairs folder was built from (its split), as its manifest names it.

    Args:
        manifest: the pairs manifest.
        data_dir: a data root that replaces the manifest's (the data may have moved).
        folder: the pairs folder, for the error message.
        split: another split of the same data set and carve (default: the pairs' own).

    Returns:
        A :class:`~negmine.data.RetrievalData`.
    """
    from negmine.data import dataset_folder, load_retrieval
    from negmine.data.sources import is_pair_data

    params = manifest.get("parameters") or {}
    if "dataset" not in params:
        raise NegmineError(f"{folder}/manifest.json: no parameters.dataset (not written by negmine build-pairs?)")
    pair_options = {key: params.get(key) for key in ("anchor_column", "positive_column", "corpus")}
    pair_options["data_format"] = params.get("data_format") or "auto"
    pairs = is_pair_data(params["dataset"])
    source = params["dataset"] if pairs else dataset_folder(params["dataset"], data_dir or params.get("data_dir"),
                                                            download=False)  # fmt: skip
    return load_retrieval(source, split or params.get("split", "train"),
                          validation_fraction=params.get("validation_fraction"), seed=params.get("seed", 42),
                          **(pair_options if pairs else {}))  # fmt: skip

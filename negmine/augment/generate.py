"""Synthetic negatives for the anchors of a pairs build, and the report the manifest keeps of them.

Where each generator's output goes (and why), for SciFact and any BEIR data set:

- ``perturb`` and ``swap`` outputs are document-side negatives of the anchor: texts that look like its positive
  but are not it (a perturbed or re-topicked copy). They stand in the ``negative`` columns next to mined ones.
- ``reverse`` outputs are reversed claims. SciFact's retrieval relevance keeps CONTRADICT abstracts (BEIR counts
  every cited document), so a reversed claim's abstract is still relevant to it and a reversed claim can never
  make a retrieval *document* negative of that abstract. It goes next to the claim instead, as a negative of
  the claim itself (symmetric similarity: the claim should be closer to its abstract than to its own reversal),
  which MNRL reads as one more candidate of the row. The probe (:mod:`negmine.augment.probe`) asks the
  verification question separately, on SUPPORT abstracts only.

Synthetic texts are not encoded (their dense score is NaN) and are made only for claim / query anchors, never for
corpus pairs. A text equal to any known positive document of the split, or to the anchor itself, is dropped.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from negmine.augment.perturb import Perturber, stable_seed
from negmine.augment.reverse import negation_only, reverse_claim
from negmine.augment.spec import SyntheticConfig
from negmine.augment.swap import KeywordSwapper
from negmine.pairs.anchors import Anchor
from negmine.pairs.formats import Negative

EXAMPLES = 5


def synthetic_negatives(
    anchors: list[Anchor],
    mined: list[list[Negative]],
    config: SyntheticConfig,
    corpus_texts: list[str],
    seed: int = 42,
    cache_dir: str | None = None,
    show_progress_bar: bool = False,
) -> tuple[list[list[Negative]], dict]:
    """The synthetic negatives of every anchor, and a report (counts, rules, examples, overlaps, time).

    Args:
        anchors: the anchors of the build (only ``claim`` / ``query`` anchors get synthetic negatives).
        mined: each anchor's mined negatives, hardest first (``swap`` takes its donor from them).
        config: what to generate.
        corpus_texts: the corpus in index order (IDF for ``swap``; random donors).
        seed: every draw derives from it and the anchor's id.
        cache_dir: where offline WordNet is assembled, if an augmenter needs it, and swap's corpus IDF is kept
            (default: the embedding cache, ``$NEGMINE_CACHE``).
        show_progress_bar: a progress bar over the anchors.

    Returns:
        ``(negatives, report)``: a list per anchor (empty for corpus anchors), and the report for the manifest.

    Example:
        >>> config = SyntheticConfig(reverse=1)
        >>> negatives, report = synthetic_negatives(anchors, mined, config, texts)  # doctest: +SKIP
        >>> report["reverse"]["anchors_with_output"]  # doctest: +SKIP
        779
    """
    start = time.perf_counter()
    counts = config.counts
    perturber = Perturber(config.augmenters, seed=seed, cache_dir=cache_dir) if "perturb" in counts else None
    swapper = None
    if "swap" in counts:
        from negmine.encode import default_cache_dir

        idf_cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        swapper = KeywordSwapper(corpus_texts, terms=config.swap_terms, cache_dir=idf_cache)
    known = {p.text for a in anchors for p in a.positives}
    stats = {name: _Stats() for name in counts}
    out: list[list[Negative]] = []
    for a, anchor in enumerate(tqdm(anchors, desc="synthetic negatives", disable=not show_progress_bar)):
        if anchor.pair_type not in ("claim", "query") or not counts:
            out.append([])
            continue
        positive = anchor.positives[0].text
        made: list[Negative] = []
        forbidden = {anchor.text}  # with ``known``: texts this anchor's negatives may not be
        for name, n in counts.items():
            if name == "perturb":
                perturbed = perturber.perturb(positive, anchor.query_id, n)
                found = [(text, source, positive, {}) for text, source in perturbed]
            elif name == "swap":
                donor = _donor(mined[a], corpus_texts, anchor, config.swap_donor, seed)
                swapped = swapper.swap(anchor.text, positive, donor)
                found = [] if swapped is None else [(swapped.text, f"swap:{config.swap_donor}", positive, {
                    "mapping": swapped.mapping, "source_overlap": swapped.source_overlap,
                    "anchor_overlap": swapped.anchor_overlap, "anchor_overlap_source": swapped.anchor_overlap_source,
                })]  # fmt: skip
            else:
                found = [(text, source, anchor.text, {"negation_only": negation_only(anchor.text, text)})
                         for text, source in reverse_claim(anchor.text, anchor.query_id, n, seed)]  # fmt: skip
            stats[name].eligible += 1
            kept = 0
            for text, source, origin, extra in found:
                if text in known or text in forbidden:
                    stats[name].dropped_known += 1
                    continue
                forbidden.add(text)
                made.append(Negative(-1, source, math.nan, None, text))
                stats[name].add(anchor, origin, text, source, extra)
                kept += 1
            stats[name].with_output += kept > 0
        out.append(made)
    report = {name: stats[name].report(name) for name in counts}
    report["seconds"] = round(time.perf_counter() - start, 3)
    return out, report


def _donor(mined: list[Negative], corpus_texts: list[str], anchor: Anchor, how: str, seed: int) -> str:
    """The document whose terms replace the positive's: the hardest mined negative, else a seeded random one."""
    if how == "hard_negative":
        for negative in mined:
            if negative.doc >= 0 and negative.source != "label":
                return corpus_texts[negative.doc]
    own = {p.doc for p in anchor.positives}
    rng = np.random.default_rng(stable_seed(seed, anchor.query_id))
    choices = [i for i in rng.permutation(len(corpus_texts))[: len(own) + 1].tolist() if i not in own]
    return corpus_texts[choices[0]]


class _Stats:
    """Counts, rules, examples and overlaps of one generator."""

    def __init__(self):
        self.eligible = self.with_output = self.dropped_known = 0
        self.rules: Counter[str] = Counter()
        self.examples: list[dict] = []
        self.extras: list[dict] = []

    def add(self, anchor: Anchor, origin: str, text: str, source: str, extra: dict) -> None:
        self.rules[source] += 1
        self.extras.append(extra)
        if len(self.examples) < EXAMPLES:
            self.examples.append({"query_id": anchor.query_id, "anchor": anchor.text, "source": source,
                                  "original": origin, "negative": text, **extra})  # fmt: skip

    def report(self, name: str) -> dict:
        report = {"anchors": self.eligible, "anchors_with_output": self.with_output,
                  "negatives": sum(self.rules.values()), "dropped_known_positive": self.dropped_known,
                  "rules": dict(sorted(self.rules.items()))}  # fmt: skip
        if name == "swap" and self.extras:
            for key in ("source_overlap", "anchor_overlap", "anchor_overlap_source"):
                report[f"{key}_mean"] = round(float(np.mean([e[key] for e in self.extras])), 4)
        if name == "reverse" and self.extras:
            report["negation_only_share"] = round(float(np.mean([e["negation_only"] for e in self.extras])), 4)
        report["examples"] = self.examples
        return report

"""Every metric of a set of negatives, with one encoder, as flat records (one per ``negative_source`` and one for
all), ready for a DataFrame.

Keys: ``hardness.*`` (score, margin, relative, rank, inversion, InfoNCE share, SimANS distance),
``diversity.*`` (pairwise and per-anchor distance, Vendi, uniformity, duplicates, cluster entropy),
``gap.*`` (Fréchet and MMD against the corpus and the positives, score-distribution distances),
``false_negatives.*`` (sister evidence, inversion, judge, any) and the design source's measures under their own
names (``framework.*``; docs/analysis.md maps each to its definition).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negmine.analysis import diversity as div
from negmine.analysis import gap
from negmine.analysis.false_negatives import sister_flags
from negmine.analysis.hardness import corpus_rank, feature_distance, infonce_share, score_hardness, summarize
from negmine.analysis.negatives import NegativeSet

ALL = "all"


@dataclass
class SetVectors:
    """One encoder's unit vectors of a set's anchors (query role), positives and negatives (document role)."""

    anchors: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray


@dataclass
class Context:
    """What the metrics need besides the set: the corpus vectors and their k-means, the anchors' sister evidence,
    the loss temperature, SimANS's band, the sample size of pairwise statistics and a seed."""

    corpus: np.ndarray
    clusters: object
    sisters: dict[str, set[str]]
    temperature: float = 0.05
    band: float = -0.05
    limit: int = 2000
    seed: int = 0


def encode_set(nset: NegativeSet, encoder) -> SetVectors:
    """Encode a set's texts with an :class:`~negmine.encode.Encoder` (cached)."""
    return SetVectors(encoder.encode(nset.anchors, role="query"), encoder.encode(nset.positives, role="document"),
                      encoder.encode(nset.negatives, role="document"))  # fmt: skip


def triplet_scores(nset: NegativeSet, vectors: SetVectors) -> dict[str, np.ndarray]:
    """The score arrays every metric starts from: per triplet (example, anchor, negative, s(q,p), s(q,n)) and the
    per-example matrix of negative scores."""
    example, anchor, positive, negative = nset.triplets()
    pos = np.einsum("ij,ij->i", vectors.anchors[anchor], vectors.positives[positive])
    neg = np.einsum("ij,ij->i", vectors.anchors[anchor], vectors.negatives[negative])
    matrix = np.full(nset.example_negatives.shape, np.nan)
    rows, columns = np.nonzero(nset.example_negatives >= 0)
    matrix[rows, columns] = neg
    example_pos = np.einsum("ij,ij->i", vectors.anchors[nset.example_anchor], vectors.positives[nset.example_positive])
    return {"example": example, "anchor": anchor, "positive": positive, "negative": negative, "pos": pos,
            "neg": neg, "matrix": matrix, "example_pos": example_pos}  # fmt: skip


def measure_set(nset: NegativeSet, vectors: SetVectors, context: Context, judge_flags: np.ndarray | None = None,
                label: dict | None = None) -> list[dict]:  # fmt: skip
    """The records of one set with one encoder: one for all its negatives and one per ``negative_source``.

    Args:
        nset: the set.
        vectors: its vectors (:func:`encode_set`).
        context: corpus, clusters, sisters and settings.
        judge_flags: 1.0 per distinct negative a judge scores at or above the anchor's positive (None: no judge).
        label: keys put at the front of every record (set name, encoder, run, checkpoint ...).

    Returns:
        A list of flat dicts.

    Example:
        >>> records = measure_set(nset, encode_set(nset, encoder), context)  # doctest: +SKIP
        >>> records[0]["hardness.margin.mean"]  # doctest: +SKIP
    """
    scores = triplet_scores(nset, vectors)
    shares = infonce_share(scores["example_pos"], scores["matrix"], context.temperature)
    share = shares[np.nonzero(nset.example_negatives >= 0)]
    ranks = corpus_rank(vectors.anchors, scores["anchor"], scores["neg"], context.corpus).astype(np.float64)
    hardness = score_hardness(scores["pos"], scores["neg"], context.band)
    features = feature_distance(vectors.positives[scores["positive"]], vectors.negatives[scores["negative"]])
    # the hardest (largest) score of each distinct negative against its anchor's positives, for false negatives
    best_pos = np.full(len(nset.negatives), -np.inf)
    np.maximum.at(best_pos, scores["negative"], scores["pos"])
    neg_scores = np.einsum("ij,ij->i", vectors.anchors[nset.negative_anchor], vectors.negatives)
    inverted = (neg_scores >= best_pos).astype(np.float64)
    corpus = nset.is_corpus()
    sister = sister_flags([nset.anchor_ids[a] for a in nset.negative_anchor], nset.negative_ids, context.sisters)
    sister = np.where(corpus, sister, 0.0)
    negative_source = np.array(nset.negative_sources, dtype=object)
    triplet_source = negative_source[scores["negative"]]
    records = []
    for source in [ALL, *nset.sources()]:
        t = np.ones(len(triplet_source), bool) if source == ALL else triplet_source == source
        n = np.ones(len(negative_source), bool) if source == ALL else negative_source == source
        record = {**(label or {}), "source": source, "triplets": int(t.sum()), "negatives": int(n.sum()),
                  "anchors": int(len(set(np.asarray(nset.negative_anchor)[n].tolist()))),
                  "corpus_negatives": int((n & corpus).sum())}  # fmt: skip
        for name in ("score", "margin", "relative", "simans_distance"):
            record.update(summarize(hardness[name][t], f"hardness.{name}"))
        record.update(summarize(ranks[t], "hardness.rank"))
        record["hardness.inversion_rate"] = float(hardness["inversion"][t].mean())
        record.update(summarize(share[t], "hardness.infonce_share"))
        record.update(_diversity(vectors.negatives[n], np.asarray(nset.negative_anchor)[n],
                                 [d for d, keep in zip(nset.negative_ids, n & corpus, strict=True) if keep],
                                 [a for a, keep in zip(nset.negative_anchor, n & corpus, strict=True) if keep],
                                 context))  # fmt: skip
        texts = dict(zip(nset.negative_ids, nset.negatives, strict=True))  # a person needs words, not only an id
        record["diversity.most_reused"] = [[doc, count, " ".join(texts[doc].split()[:8]) + " ..."]
                                           for doc, count in record["diversity.most_reused"]]  # fmt: skip
        record.update(_gap(vectors, scores["pos"][t], scores["neg"][t], n, context))
        record["false_negatives.sister"] = float(sister[n & corpus].mean()) if (n & corpus).any() else None
        record["false_negatives.inversion"] = float(inverted[n].mean())
        flags = np.maximum(sister, inverted)
        if judge_flags is not None:
            record["false_negatives.judge"] = float(judge_flags[n].mean())
            flags = np.maximum(flags, judge_flags)
        record["false_negatives.any"] = float(flags[n].mean())
        gaps = np.abs(hardness["margin"][t])
        record.update({"framework.score_gap_hardness.mean": float(hardness["score_gap_hardness"][t].mean()),
                       "framework.score_gap_hardness.std": float(hardness["score_gap_hardness"][t].std()),
                       "framework.gap.mean": float(gaps.mean()), "framework.gap.min": float(gaps.min()),
                       "framework.feature_l2.mean": float(features["l2"][t].mean()),
                       "framework.feature_cosine.mean": float(features["cosine"][t].mean()),
                       "framework.feature_inverse_l2.mean": float(features["inverse_l2"][t].mean())})  # fmt: skip
        records.append(record)
    return records


def _diversity(vectors, groups, doc_ids, doc_anchors, context: Context) -> dict:
    pairwise = div.pairwise_distances(vectors, context.limit, context.seed)
    duplicates = div.duplicate_rate(doc_ids, doc_anchors)
    coverage = div.feature_coverage(vectors)
    return {
        "diversity.pairwise_distance.mean": pairwise.get("mean"),
        "diversity.per_anchor_distance": div.per_anchor_distance(vectors, groups),
        "diversity.vendi": div.vendi_score(vectors),
        "diversity.uniformity": div.uniformity(vectors, limit=context.limit, seed=context.seed),
        "diversity.duplicate_rate": duplicates["rate"],
        "diversity.unique_documents": duplicates["unique"],
        "diversity.most_reused": duplicates["most_reused"],
        "diversity.cluster_entropy": div.cluster_entropy(vectors, context.clusters),
        "diversity.pairwise_sample": pairwise.get("sampled", len(vectors)),
        "framework.pairwise_distance.std": pairwise.get("std"),
        "framework.pairwise_distance.min": pairwise.get("min"),
        "framework.pairwise_distance.max": pairwise.get("max"),
        "framework.feature_variance": coverage["variance"],
        "framework.coverage": coverage["coverage"],
        "framework.effective_dimensions": coverage["effective_dimensions"],
        "framework.value_entropy": div.value_entropy(vectors),
    }


def _gap(vectors: SetVectors, pos_scores, neg_scores, mask, context: Context) -> dict:
    negatives = vectors.negatives[mask]
    corpus = div.sample_rows(context.corpus, 20_000, context.seed)
    scores = gap.score_gap(pos_scores, neg_scores)
    record = {
        "gap.frechet_corpus": gap.frechet_distance(negatives, corpus) if len(negatives) > 1 else None,
        "gap.frechet_positives": gap.frechet_distance(negatives, vectors.positives) if len(negatives) > 1 else None,
        "gap.mmd_corpus": gap.mmd_rbf(negatives, context.corpus, limit=context.limit, seed=context.seed)["mmd2"],
        "gap.mmd_positives": gap.mmd_rbf(negatives, vectors.positives, limit=context.limit,
                                         seed=context.seed)["mmd2"],  # fmt: skip
        "gap.score_wasserstein": scores.get("wasserstein"),
        "gap.score_ks": scores.get("ks"),
        "gap.score_ks_pvalue": scores.get("ks_pvalue"),
        "framework.score_kl": scores.get("kl"),
        "framework.score_mean_gap": scores.get("mean_gap"),
    }
    return record

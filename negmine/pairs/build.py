"""The build-pairs pipeline: data -> anchors -> embeddings (cached) -> candidates -> static mining -> dataset.

``build_pairs`` writes ``OUT/dataset`` (``datasets.Dataset.save_to_disk``), ``OUT/pairs.parquet``,
``OUT/manifest.json`` (parameters, input fingerprints, model fingerprint, package versions, counts, what each
filter removed, score quantiles) and ``OUT/README.md``; everything goes to a temporary folder first and is renamed
into place at the end, so an interrupted run leaves no partial output (the embedding cache makes a rerun cheap).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from negmine.augment.spec import SyntheticConfig
from negmine.backends import Backend
from negmine.errors import NegmineError
from negmine.mining.static import MiningParams, mine_negatives
from negmine.pairs.anchors import Anchor, claim_anchors, corpus_anchors
from negmine.pairs.formats import Negative, build_rows
from negmine.search.results import SearchResults

logger = logging.getLogger(__name__)


class PairsConfig(BaseModel):
    """Everything ``negmine build-pairs`` takes; recipes embed it as their ``pairs`` section.

    Example:
        >>> PairsConfig(dataset="scifact", task="verification").mining.range_max
        100
    """

    model_config = ConfigDict(extra="forbid")

    dataset: str = "scifact"
    split: Literal["train", "validation", "dev", "test"] = "train"
    data_dir: str | None = None
    validation_fraction: float = Field(0.2, ge=0, lt=1, description="Carved out of train; 0 uses every claim.")
    extra_training: list[Literal["scifact_test_claims"]] = Field(
        default_factory=list, description="More training queries, added after the validation carve (see "
        "negmine.data.sources.EXTRA_TRAINING)."
    )
    seed: int = 42
    model: str = "all-MiniLM-L6-v2"
    max_seq_length: int | None = None
    batch_size: int = 64
    backend: Backend = "torch"
    cache_dir: str | None = None
    task: Literal["retrieval", "verification"] = "retrieval"
    searchers: list[Literal["dense", "lexical"]] = Field(default_factory=lambda: ["dense", "lexical"], min_length=1)
    index_factory: str = "Flat"
    searcher: Literal["auto", "faiss", "torch"] = "auto"
    nprobe: int | None = None
    ef_search: int | None = None
    use_gpu: bool | None = None
    vectors_on_disk: bool = Field(False, description="Keep the corpus vectors in the cache's memory-mapped shards and "
                                  "search them with an approximate index_factory filled as a stream (corpora larger "
                                  "than memory); candidates are re-scored exactly.")
    refine: int = Field(2, ge=1, description="With vectors_on_disk: candidates fetched per neighbour wanted.")
    train_size: int | None = Field(None, ge=1, description="With vectors_on_disk: rows the index trains on.")
    mining: MiningParams = Field(default_factory=MiningParams)
    output_format: Literal["triplet", "n-tuple", "labeled-pair", "labeled-list"] = "triplet"
    weighting: Literal["none", "label", "rationale"] = "none"
    rationale_passages: bool = False
    topic_negatives: int = Field(0, ge=0, description="Negatives from documents cited by the nearest other claims.")
    topic_neighbours: int = Field(5, ge=1)
    corpus_pairs: list[Literal["title", "ict"]] = Field(default_factory=list)
    corpus_pairs_sample: int | None = Field(None, ge=1, description="corpus_pairs from at most this many documents, "
                                            "drawn at random with the seed (all documents when unset).")
    noise_filter: bool = True
    min_words: int = Field(10, ge=0)
    synthetic: SyntheticConfig | None = Field(None, description="Generated negatives: perturb, swap, reverse.")
    relabel: str | None = Field(None, description="A filled-in audit CSV (negmine audit): relevant rows become "
                                "positives, not_relevant ones stay negatives and are not flagged again.")


def file_fingerprint(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def score_stats(values: list[float] | np.ndarray) -> dict[str, float]:
    """Count, mean and the 5/25/50/75/95% quantiles of finite values."""
    array = np.asarray(values, dtype=np.float64)
    array = array[np.isfinite(array)]
    if not len(array):
        return {"count": 0}
    quantiles = np.quantile(array, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {"count": int(len(array)), "mean": round(float(array.mean()), 6),
            **{f"q{int(q * 100):02d}": round(float(v), 6) for q, v in zip((0.05, 0.25, 0.5, 0.75, 0.95), quantiles,
                                                                          strict=True)}}  # fmt: skip


def lexical_candidates(texts: list[str], queries: list[str], k: int) -> SearchResults:
    """BM25 candidates; documents with no term in common with the query (score 0) are dropped (index -1)."""
    from negmine.search.bm25 import BM25Searcher

    scores, indices = BM25Searcher(texts).search(queries, k)
    return SearchResults(scores, np.where(scores > 0, indices, -1))


def topic_candidates(anchors: list[Anchor], anchor_embeddings: np.ndarray, neighbours: int) -> SearchResults:
    """Documents cited by the ``neighbours`` nearest other claims (by claim embedding), padded with -1; corpus
    anchors (title, ict) neither get nor give topic candidates."""
    from negmine.search.dense import dense_searcher

    claims = np.array([i for i, a in enumerate(anchors) if a.pair_type in ("claim", "query")], dtype=np.int64)
    rows: list[list[int]] = [[] for _ in anchors]
    if len(claims) > 1:
        vectors = anchor_embeddings[claims]
        _, nearest = dense_searcher(vectors, use_gpu=False).search(vectors, neighbours + 1)
        for a, row in zip(claims.tolist(), claims[nearest].tolist(), strict=True):
            rows[a] = list(dict.fromkeys(doc for b in row if b != a for doc in anchors[b].known_docs))
    width = max((len(r) for r in rows), default=1) or 1
    indices = np.full((len(rows), width), -1, dtype=np.int64)
    for a, docs in enumerate(rows):
        indices[a, : len(docs)] = docs
    return SearchResults(np.zeros(indices.shape, np.float32), indices)


def build_pairs(config: PairsConfig, out: str | Path, overwrite: bool = False, show_progress_bar: bool = True):
    """Build the pairs dataset of ``config`` into ``out`` and return ``(dataset, manifest)``.

    Args:
        config: a :class:`PairsConfig`.
        out: the output folder (must not exist unless ``overwrite``).
        overwrite: replace an existing output folder.
        show_progress_bar: progress bars.

    Returns:
        The ``datasets.Dataset`` and the manifest dictionary.

    Example:
        >>> dataset, manifest = build_pairs(PairsConfig(dataset="scifact"), "runs/pairs")  # doctest: +SKIP
        >>> dataset.column_names[:3]  # doctest: +SKIP
        ['anchor', 'positive', 'negative']
    """
    from datasets import Dataset

    from negmine import __version__
    from negmine.backends import inference_precision
    from negmine.data import SciFactRelease, dataset_folder, load_retrieval
    from negmine.encode import Encoder, model_fingerprint
    from negmine.env import package_versions
    from negmine.models import load_model, resolve_model
    from negmine.outputs import check_writable
    from negmine.pairs.noise import noise_mask
    from negmine.search.blas import blas_report
    from negmine.search.dense import dense_searcher

    out = check_writable(out, overwrite)
    if config.vectors_on_disk:
        _check_on_disk(config)  # before any loading: a Flat index with vectors on disk is a mistake
    if config.synthetic is not None:
        config.synthetic.check_resources()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    folder = dataset_folder(config.dataset, config.data_dir)
    if config.extra_training and config.task == "verification":
        raise NegmineError("extra_training: its claims carry no SUPPORT / CONTRADICT labels; use task retrieval")
    data = load_retrieval(folder, config.split, validation_fraction=config.validation_fraction, seed=config.seed,
                          extra_training=config.extra_training)  # fmt: skip
    relabel = None
    if config.relabel:
        from negmine.analysis.audit import apply_relabel, read_relabel

        if config.task != "retrieval":
            raise NegmineError("--relabel: relabelled documents have no SUPPORT / CONTRADICT label; "
                               "use task retrieval")
        relabel = read_relabel(config.relabel, data)
        data = apply_relabel(data, relabel)
    release = SciFactRelease.load(folder) if SciFactRelease.is_release(folder) else None
    doc_ids = list(data.corpus)
    anchors, anchor_counts = claim_anchors(data, doc_ids, release, config.task, config.weighting,
                                           config.rationale_passages)  # fmt: skip
    anchors += corpus_anchors(data, doc_ids, tuple(config.corpus_pairs), config.seed, config.corpus_pairs_sample)
    timings["load_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    model = load_model(config.model, max_seq_length=config.max_seq_length)
    doc_texts = data.document_texts(doc_ids)
    encoder = Encoder(model, cache_dir=config.cache_dir, batch_size=config.batch_size,
                      show_progress_bar=show_progress_bar, backend=config.backend,
                      calibration_texts=doc_texts[:300])  # fmt: skip
    if config.vectors_on_disk:
        doc_embeddings = encoder.encode_to_disk(doc_texts, role="document")
    else:
        doc_embeddings = encoder.encode(doc_texts, role="document")
    anchor_embeddings = encoder.encode([a.text for a in anchors], role="query")
    timings["encode_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    excluded, noise_counts = noise_mask(data, doc_ids, config.min_words) if config.noise_filter else (None, {})
    params = config.mining
    known = [a.known_docs for a in anchors]
    k = params.range_max + max((len(d) for d in known), default=0)
    candidates: dict[str, SearchResults] = {}
    if "dense" in config.searchers and config.vectors_on_disk:
        from negmine.search.streamed import StreamedSearcher, build_streamed_index

        index = build_streamed_index(doc_embeddings, config.index_factory, train_size=config.train_size,
                                     seed=config.seed, nprobe=config.nprobe, show_progress_bar=show_progress_bar)
        searcher = StreamedSearcher(doc_embeddings, index, refine=config.refine, show_progress_bar=show_progress_bar)
        searcher.name += f" {config.index_factory}"
        candidates["dense"] = searcher.search(anchor_embeddings, k)
    elif "dense" in config.searchers:
        searcher = dense_searcher(doc_embeddings, config.index_factory, config.searcher, use_gpu=config.use_gpu,
                                  nprobe=config.nprobe, ef_search=config.ef_search, seed=config.seed,
                                  show_progress_bar=show_progress_bar)  # fmt: skip
        candidates["dense"] = searcher.search(anchor_embeddings, k)
    if "lexical" in config.searchers:
        candidates["lexical"] = lexical_candidates(doc_texts, [a.text for a in anchors], k)
    rescore = ["lexical"] + (["dense"] if "dense" in candidates and not searcher.exact_scores else [])
    extra = config.synthetic.total if config.synthetic is not None else 0
    # with synthetic negatives, mine as many more as could stand in for one an anchor does not get
    mining_params = params.model_copy(update={"num_negatives": params.num_negatives + extra}) if extra else params
    mined = mine_negatives(anchor_embeddings, doc_embeddings, known, candidates, mining_params, rescore=rescore,
                           excluded=excluded, show_progress_bar=show_progress_bar)  # fmt: skip
    topic = None
    if config.topic_negatives:
        topic_found = topic_candidates(anchors, anchor_embeddings, config.topic_neighbours)
        width = topic_found.indices.shape[1]
        topic_params = params.model_copy(
            update={
                "range_min": 0,
                "range_max": max(width, config.topic_negatives),
                "num_negatives": config.topic_negatives,
                "sampling_strategy": "top",
            }
        )
        topic = mine_negatives(anchor_embeddings, doc_embeddings, known, {"topic": topic_found}, topic_params,
                               rescore=["topic"], excluded=excluded)  # fmt: skip
    timings["mine_s"] = time.perf_counter() - clock

    doc_vector = _row_lookup(doc_embeddings, {d for a in anchors for d in a.known_docs})
    negatives, positive_scores = [], []
    for a, anchor in enumerate(anchors):
        emb = anchor_embeddings[a]
        chosen: dict[int, Negative] = {}
        for doc, relation in anchor.label_negatives:
            chosen.setdefault(doc, Negative(doc, "label", float(emb @ doc_vector(doc)), relation))
        for source in (topic, mined):
            if source is None:
                continue
            for doc, score, name in zip(source.indices[a], source.scores[a], source.sources[a], strict=True):
                if doc >= 0:
                    chosen.setdefault(int(doc), Negative(int(doc), str(name), float(score)))
        negatives.append(list(chosen.values()))
        positive_scores.append([float(emb @ doc_vector(p.doc)) for p in anchor.positives])

    width, synthetic_report = params.num_negatives, None
    if config.synthetic is not None and config.synthetic.total:
        from negmine.augment.generate import synthetic_negatives

        clock = time.perf_counter()
        generated, synthetic_report = synthetic_negatives(anchors, negatives, config.synthetic, doc_texts,
                                                          seed=config.seed, cache_dir=config.cache_dir,
                                                          show_progress_bar=show_progress_bar)  # fmt: skip
        # each anchor: the mined negatives asked for, then the synthetic ones, then as many further mined ones as
        # it lacks synthetic ones (no rule applied), so every row keeps the same number of negatives
        k = params.num_negatives
        negatives = [negs[:k] + more + negs[k : k + extra - len(more)]
                     for negs, more in zip(negatives, generated, strict=True)]  # fmt: skip
        width += extra
        timings["synthetic_s"] = time.perf_counter() - clock

    def doc_text(doc: int, pair_type: str) -> str:
        return data.corpus[doc_ids[doc]]["text"] if pair_type in ("title", "ict") else doc_texts[doc]

    columns, dropped = build_rows(anchors, negatives, positive_scores, doc_ids, doc_text, config.output_format,
                                  width)  # fmt: skip
    dataset = Dataset.from_dict(columns)

    gaps = [min(ps) - n.score for ps, negs in zip(positive_scores, negatives, strict=True) for n in negs]
    sources: dict[str, int] = {}
    for negs in negatives:
        for n in negs:
            sources[n.source] = sources.get(n.source, 0) + 1
    input_files = sorted(set(data.sources) | ({str(folder / "corpus.jsonl")} if release else set()))
    manifest = {
        "negmine_version": __version__,
        "parameters": config.model_dump(mode="json"),
        "inputs": {path: file_fingerprint(path) for path in input_files if Path(path).is_file()},
        "model": {
            "name": config.model,
            "resolved": resolve_model(config.model),
            "fingerprint": model_fingerprint(model),
            "max_seq_length": model.max_seq_length,
            "backend": config.backend,
            "backend_precision": inference_precision(config.backend),
        },  # fmt: skip
        "packages": package_versions(),
        "searcher": {"dense": searcher.name if "dense" in config.searchers else None, **blas_report()},
        "counts": {
            "split_queries": len(data.queries),
            **anchor_counts,
            "corpus_anchors": len(anchors) - anchor_counts["anchors"],
            "documents": len(doc_ids),
            "noise_documents": noise_counts,
            "positives": sum(len(a.positives) for a in anchors),
            "negatives": sum(len(n) for n in negatives),
            "negatives_by_source": dict(sorted(sources.items())),
            "anchors_short_of_negatives": int(sum(len(n) < width for n in negatives)),
            "rows": len(dataset),
            "rows_dropped_too_few_negatives": dropped,
        },
        "mining": mined.report,
        "synthetic": synthetic_report,
        "relabel": relabel.summary(file_fingerprint(config.relabel)) if relabel is not None else None,
        "topic_mining": topic.report if topic is not None else None,
        "score_stats": {
            "positive": score_stats([s for ps in positive_scores for s in ps]),
            "negative": score_stats([n.score for negs in negatives for n in negs]),
            "gap": score_stats(gaps),
        },
    }
    _save(dataset, manifest, timings, out, overwrite)
    return dataset, manifest


def _check_on_disk(config: PairsConfig) -> None:
    """``vectors_on_disk`` needs the cache and an approximate FAISS index whose codes are compressed."""
    from negmine.search.dense import faiss_installed, is_exact

    if "dense" in config.searchers and is_exact(config.index_factory):
        raise NegmineError("vectors_on_disk: index_factory Flat would hold every vector in memory; use a "
                           "compressed one such as IVF4096,SQ8")  # fmt: skip
    if "dense" in config.searchers and (config.searcher == "torch" or not faiss_installed()):
        raise NegmineError("vectors_on_disk searches with FAISS: pip install 'negmine[cpu]' (and searcher auto)")


def _row_lookup(vectors, docs: set[int]):
    """``doc -> vector`` for ``docs``, read in one gather (from memory or from the shards)."""
    chosen = np.array(sorted(docs), dtype=np.int64)
    rows = vectors[chosen] if len(chosen) else np.zeros((0, 0), np.float32)
    where = {int(d): i for i, d in enumerate(chosen)}
    return lambda doc: rows[where[doc]]


def _save(dataset, manifest: dict, timings: dict, out: Path, overwrite: bool) -> None:
    """Write everything into a temporary sibling folder, then swap it into place."""
    from negmine.outputs import atomic_folder
    from negmine.pairs.report import manifest_markdown

    with atomic_folder(out) as tmp:
        dataset.save_to_disk(str(tmp / "dataset"))
        dataset.to_parquet(str(tmp / "pairs.parquet"))
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        (tmp / "timings.json").write_text(json.dumps({k: round(v, 3) for k, v in timings.items()}, indent=2) + "\n")
        (tmp / "README.md").write_text(manifest_markdown(manifest))

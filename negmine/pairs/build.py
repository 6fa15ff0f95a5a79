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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from negmine.augment.spec import SyntheticConfig
from negmine.backends import Backend
from negmine.errors import NegmineError
from negmine.mining.static import MiningParams, mine_negatives, positive_matrix
from negmine.pairs.anchors import Anchor, claim_anchors, corpus_anchors
from negmine.pairs.exports import EXPORT_FILES, export_rows, write_jsonl
from negmine.pairs.formats import Negative, build_rows, empty_columns
from negmine.search.results import SearchResults

logger = logging.getLogger(__name__)
STREAMED_NPROBE = 4  # 0.99 of exact search's negatives at 1M documents (docs/results/scale.md)
ROW_CHUNK = 4096  # anchors whose rows are made and written at once when the corpus is larger than memory
# pair data's window starts at rank 0: on SciFact's training claims written as pairs, ranks 0..100 beat 10..100 by
# +1.44 points over 6 training seeds (docs/results/vs-st-mining.md); SciFact and BEIR keep MiningParams' 10
PAIR_DATA_RANGE_MIN = 0


class PairsConfig(BaseModel):
    """Everything ``negmine build-pairs`` takes; recipes embed it as their ``pairs`` section.

    Example:
        >>> PairsConfig(dataset="scifact", task="verification").mining.range_max
        100
        >>> PairsConfig(dataset="scifact").mining.range_min, PairsConfig(dataset="my_pairs.csv").mining.range_min
        (10, 0)
    """

    model_config = ConfigDict(extra="forbid")

    dataset: str = "scifact"
    split: Literal["train", "validation", "dev", "test"] = Field(
        "train", description="validation is carved from train; dev/test are SciFact's held-out labelled claims.")
    data_dir: str | None = Field(None, description="The data root (default: $NEGMINE_DATA, else ./data).")
    anchor_column: str | None = Field(None, description="Pair data: the anchor column (default: the first).")
    positive_column: str | None = Field(None, description="Pair data: the positive column (default: the second).")
    corpus: str | None = Field(None, description="Pair data: a file of more passages to mine from.")
    data_format: Literal["auto", "pairs", "flagembedding", "tevatron"] = Field(
        "auto", description="Pair data's record shape (auto: by its columns).")
    validation_fraction: float | None = Field(None, ge=0, lt=1, description="Carved out of train by query; 0 uses "
                                              "every query; None: 0.2 for SciFact and BEIR, 0 for pair data.")
    extra_training: list[Literal["scifact_test_claims"]] = Field(
        default_factory=list, description="More training queries, added after the validation carve (see "
        "negmine.data.sources.EXTRA_TRAINING)."
    )
    seed: int = Field(42, description="Seed of the validation carve and of random sampling.")
    model: str = Field("all-MiniLM-L6-v2", description="The model that embeds for dense mining.")
    max_seq_length: int | None = Field(None, description="Tokens the model reads (default: the model's own).")
    batch_size: int = Field(64, ge=1, description="Texts an encoding batch.")
    backend: Backend = Field("torch", description="Encode with torch, ONNX or OpenVINO (int8: quantised; exported "
                             "once, cached; the onnx / openvino extras).")
    cache_dir: str | None = Field(None, description="Embedding cache folder (default: $NEGMINE_CACHE, else "
                                  "~/.cache/negmine).")
    task: Literal["retrieval", "verification"] = Field(
        "retrieval", description="verification: SciFact's CONTRADICT abstracts become labelled negatives.")
    searchers: list[Literal["dense", "lexical"]] = Field(default_factory=lambda: ["dense", "lexical"], min_length=1,
                                                         description="Candidate sources, ranked together.")
    index_factory: str = Field("Flat", description="FAISS factory string (Flat: exact).")
    searcher: Literal["auto", "faiss", "torch"] = Field(
        "auto", description="Dense search: FAISS, or torch's exact search (a GPU without faiss-gpu, or no FAISS).")
    nprobe: int | None = Field(None, description="IVF cells an approximate index visits (default: FAISS's 1; 4 with "
                               "vectors_on_disk).")
    ef_search: int | None = Field(None, description="HNSW search breadth.")
    use_gpu: bool | None = Field(None, description="FAISS on the GPU (default: when available).")
    vectors_on_disk: bool = Field(False, description="Keep the corpus vectors in the cache's memory-mapped shards and "
                                  "search them with an approximate index_factory filled as a stream (corpora larger "
                                  "than memory); candidates are re-scored exactly.")
    refine: int = Field(2, ge=1, description="With vectors_on_disk: candidates fetched per neighbour wanted.")
    train_size: int | None = Field(None, ge=1, description="With vectors_on_disk: rows the index trains on.")
    mining: MiningParams = Field(default_factory=MiningParams)
    output_format: Literal["triplet", "n-tuple", "labeled-pair", "labeled-list"] = Field(
        "triplet", description="sentence-transformers' row shapes.")
    weighting: Literal["none", "label", "rationale"] = Field("none", description="Per-row weights (SciFact).")
    rationale_passages: bool = Field(False, description="Positives with rationales shown as those sentences.")
    topic_negatives: int = Field(0, ge=0, description="Negatives from documents cited by the nearest other claims.")
    topic_neighbours: int = Field(5, ge=1, description="The nearest other claims topic negatives come from.")
    corpus_pairs: list[Literal["title", "ict"]] = Field(default_factory=list, description="Anchors made from the "
                                                        "corpus: title -> abstract, inverse cloze.")
    corpus_pairs_sample: int | None = Field(None, ge=1, description="corpus_pairs from at most this many documents, "
                                            "drawn at random with the seed (all documents when unset).")
    noise_filter: bool | None = Field(None, description="Short and retracted documents are never negatives; None: "
                                      "on for SciFact, off for other data.")
    min_words: int = Field(10, ge=0, description="With the noise filter: shorter documents are never negatives.")
    near_duplicates: bool = Field(True, description="A document whose text is a positive's up to case and "
                                  "whitespace is never a negative (the anchor's own text never is).")
    duplicate_cosine: float | None = Field(None, description="A candidate whose cosine to one of the anchor's "
                                           "positives reaches this is never a negative.")
    export: list[Literal["flagembedding", "tevatron"]] = Field(default_factory=list, description="Also write the "
                                                              "rows as FlagEmbedding or Tevatron JSONL.")
    synthetic: SyntheticConfig | None = Field(None, description="Generated negatives: perturb, swap, reverse.")
    relabel: str | None = Field(None, description="A filled-in audit CSV (negmine audit): relevant rows become "
                                "positives, not_relevant ones stay negatives and are not flagged again.")

    @model_validator(mode="before")
    @classmethod
    def _pair_data_window(cls, values):
        """Pair data's mining window starts at :data:`PAIR_DATA_RANGE_MIN` unless ``mining.range_min`` is given
        (set before the window is checked, so that ``--range-max 10`` alone is a valid window for pair data)."""
        from negmine.data.sources import is_pair_data

        if not isinstance(values, dict) or not is_pair_data(values.get("dataset", "scifact")):
            return values
        mining = values.get("mining")
        if mining is None or isinstance(mining, dict) and "range_min" not in mining:
            return {**values, "mining": {**(mining or {}), "range_min": PAIR_DATA_RANGE_MIN}}
        if isinstance(mining, MiningParams) and "range_min" not in mining.model_fields_set:
            return {**values, "mining": mining.model_copy(update={"range_min": PAIR_DATA_RANGE_MIN})}
        return values


def streamed_nprobe(config: PairsConfig) -> int | None:
    """The IVF cells a query visits with vectors on disk: ``config.nprobe``, else :data:`STREAMED_NPROBE` for an IVF
    index (FAISS's own default is 1; 4 is the setting measured in docs/results/scale.md).

    Example:
        >>> streamed_nprobe(PairsConfig(vectors_on_disk=True, index_factory="IVF64,SQ8"))
        4
    """
    if config.nprobe is not None or "IVF" not in config.index_factory:
        return config.nprobe
    return STREAMED_NPROBE


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


@dataclass
class MinedPairs:
    """What :func:`mine_pairs` found, before it becomes rows: each anchor's negatives and its positives' scores.

    Attributes:
        anchors: the anchors (query text, positives, labelled and given negatives).
        negatives: each anchor's negatives, in the order rows show them (labelled first, then mined).
        positive_scores: the score of each anchor's positives (dense, or the cross-encoder's).
        doc_ids: corpus ids in index order; doc_texts: their texts (a sequence; on disk for a
            :class:`~negmine.data.retrieval.DiskCorpus`).
        width: negatives an anchor should have (``n-tuple`` drops rows with fewer).
        report: the manifest's mining sections (mining, searcher, counts of what was excluded, synthetic, topic).
        timings: seconds spent encoding, mining, generating.
        model: the model that embedded.
    """

    anchors: list[Anchor]
    negatives: list[list[Negative]]
    positive_scores: list[list[float]]
    doc_ids: Sequence[str]
    doc_texts: Sequence[str]
    width: int
    report: dict
    timings: dict
    model: object


def uses_scifact_habits(data) -> bool:
    """Whether a data set is SciFact, whose habits (the validation carve, the short / retracted noise filter) are
    defaults; any other data gets them only when asked.

    Example:
        >>> from negmine.data import RetrievalData
        >>> uses_scifact_habits(RetrievalData({}, {}, {}, name="scifact"))
        True
        >>> uses_scifact_habits(RetrievalData({}, {}, {}, name="faq"))
        False
    """
    return data.name.lower() == "scifact" or any(Path(s).name.startswith("claims_") for s in data.sources)


def mine_pairs(
    config: PairsConfig,
    data,
    *,
    release=None,
    model=None,
    cross_encoder=None,
    prompts: dict[str, str] | None = None,
    exclude_positives: bool = True,
    extra_candidates: int | None = None,
    show_progress_bar: bool = True,
    use_cache: bool = True,
    pool=None,
) -> MinedPairs:
    """The mining core under ``build-pairs``, :func:`negmine.mine_hard_negatives` and recipes: anchors -> embeddings
    (cached) -> candidates (dense, lexical) -> filters -> sampling -> negatives an anchor.

    Args:
        config: a :class:`PairsConfig` (its searchers, window, filters, sampling and extras).
        data: the :class:`~negmine.data.RetrievalData` split to mine for.
        release: the SciFact release, for labels and rationales (None: any other data).
        model: a loaded ``SentenceTransformer`` (default: ``config.model`` loaded).
        cross_encoder: a ``CrossEncoder`` that rescores every candidate and positive (sentence-transformers'
            ``cross_encoder``); its scores order, filter and are reported.
        prompts: role -> prompt string (sentence-transformers' ``query_prompt`` / ``corpus_prompt``).
        exclude_positives: False keeps positives among the candidates (``include_positives``).
        extra_candidates: candidates searched beyond ``range_max`` (default: the most known documents of an anchor);
            sentence-transformers searches ``range_max`` + most positives + 1.
        show_progress_bar: progress bars.
        use_cache: read and write the embedding cache (``config.cache_dir``).
        pool: a sentence-transformers multi-process pool to encode with.

    Returns:
        :class:`MinedPairs`.

    Example:
        >>> mined = mine_pairs(PairsConfig(dataset="faq.csv"), load_retrieval("faq.csv", "train"))  # doctest: +SKIP
    """
    from negmine.backends import inference_precision
    from negmine.data.retrieval import document_ids
    from negmine.encode import Encoder, model_fingerprint
    from negmine.models import load_model, resolve_model
    from negmine.pairs.anchors import GIVEN, mark_copies
    from negmine.pairs.noise import noise_mask
    from negmine.search.blas import blas_report
    from negmine.search.dense import dense_searcher

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    doc_ids = document_ids(data.corpus)  # a DiskCorpus's are computed, not held
    doc_texts = data.document_texts()  # in corpus order; a DiskCorpus's stay on disk
    anchors, anchor_counts = claim_anchors(data, doc_ids, release, config.task, config.weighting,
                                           config.rationale_passages, texts=doc_texts)  # fmt: skip
    anchors += corpus_anchors(data, doc_ids, tuple(config.corpus_pairs), config.seed, config.corpus_pairs_sample)
    copies = mark_copies(anchors, doc_texts, near_duplicates=config.near_duplicates)
    timings["anchors_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    if model is None:
        model = load_model(config.model, max_seq_length=config.max_seq_length)
    encoder = Encoder(model, cache_dir=config.cache_dir, batch_size=config.batch_size,
                      show_progress_bar=show_progress_bar, backend=config.backend,
                      calibration_texts=doc_texts[:300], prompts=prompts, use_cache=use_cache,
                      pool=pool)  # fmt: skip
    if config.vectors_on_disk:
        doc_embeddings = encoder.encode_to_disk(doc_texts, role="document")
    else:
        doc_embeddings = encoder.encode(doc_texts, role="document")
    anchor_embeddings = encoder.encode([a.text for a in anchors], role="query")
    timings["encode_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    noise_filter = uses_scifact_habits(data) if config.noise_filter is None else config.noise_filter
    excluded, noise_counts = noise_mask(data, doc_ids, config.min_words) if noise_filter else (None, {})
    params = config.mining
    known = [a.known_docs for a in anchors]
    if extra_candidates is None:
        extra_candidates = max((len(d) + sum(map(len, a.excluded.values())) for d, a in zip(known, anchors,
                                                                                            strict=True)), default=0)
    k = min(params.range_max + extra_candidates, len(doc_ids))
    candidates: dict[str, SearchResults] = {}
    searcher_name = None
    if "dense" in config.searchers and config.vectors_on_disk:
        from negmine.search.streamed import StreamedSearcher, build_streamed_index

        nprobe = streamed_nprobe(config)
        index = build_streamed_index(doc_embeddings, config.index_factory, train_size=config.train_size,
                                     seed=config.seed, nprobe=nprobe, show_progress_bar=show_progress_bar)
        searcher = StreamedSearcher(doc_embeddings, index, refine=config.refine, show_progress_bar=show_progress_bar)
        searcher.name += f" {config.index_factory}"
        candidates["dense"] = searcher.search(anchor_embeddings, k)
    elif "dense" in config.searchers:
        searcher = dense_searcher(doc_embeddings, config.index_factory, config.searcher, use_gpu=config.use_gpu,
                                  nprobe=config.nprobe, ef_search=config.ef_search, seed=config.seed,
                                  show_progress_bar=show_progress_bar)  # fmt: skip
        candidates["dense"] = searcher.search(anchor_embeddings, k)
    if "dense" in candidates:
        searcher_name = searcher.name
    if "lexical" in config.searchers:
        candidates["lexical"] = lexical_candidates(doc_texts, [a.text for a in anchors], k)
    rescore = ["lexical"] + (["dense"] if "dense" in candidates and not searcher.exact_scores else [])
    extra = config.synthetic.total if config.synthetic is not None else 0
    # with synthetic negatives, mine as many more as could stand in for one an anchor does not get
    mining_params = params.model_copy(update={"num_negatives": params.num_negatives + extra}) if extra else params
    score_fn = cross_encoder_scores(cross_encoder, [a.text for a in anchors], doc_texts, config.batch_size,
                                    show_progress_bar) if cross_encoder is not None else None  # fmt: skip
    exclude = {reason: [a.excluded.get(reason, []) for a in anchors] for reason in ("anchor_text", "near_duplicate")}
    mined = mine_negatives(anchor_embeddings, doc_embeddings, known, candidates, mining_params, rescore=rescore,
                           excluded=excluded, show_progress_bar=show_progress_bar, exclude=exclude,
                           exclude_positives=exclude_positives, score_fn=score_fn,
                           duplicate_cosine=config.duplicate_cosine)  # fmt: skip
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
                               rescore=["topic"], excluded=excluded, exclude=exclude)  # fmt: skip
    timings["mine_s"] = time.perf_counter() - clock

    if score_fn is not None:
        positive_matrix_scores = score_fn(positive_matrix([[p.doc for p in a.positives] for a in anchors]))
        label_scores = score_fn(positive_matrix([[d for d, _ in a.label_negatives] for a in anchors]))
        positive_scores = [row[: len(a.positives)].tolist() for row, a in zip(positive_matrix_scores, anchors,
                                                                               strict=True)]  # fmt: skip
    else:
        doc_vector = _row_lookup(doc_embeddings, {d for a in anchors for d in a.known_docs})
        positive_scores = [[float(anchor_embeddings[i] @ doc_vector(p.doc)) for p in a.positives]
                           for i, a in enumerate(anchors)]  # fmt: skip
    negatives = []
    for a, anchor in enumerate(anchors):
        chosen: dict[int, Negative] = {}
        for j, (doc, relation) in enumerate(anchor.label_negatives):
            if score_fn is not None:
                score = float(label_scores[a, j])
            else:
                score = float(anchor_embeddings[a] @ doc_vector(doc))
            chosen.setdefault(doc, Negative(doc, GIVEN if relation == GIVEN else "label", score,
                                            None if relation == GIVEN else relation))  # fmt: skip
        for source in (topic, mined):
            if source is None:
                continue
            for doc, score, name in zip(source.indices[a], source.scores[a], source.sources[a], strict=True):
                if doc >= 0:
                    chosen.setdefault(int(doc), Negative(int(doc), str(name), float(score)))
        negatives.append(list(chosen.values()))

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

    report = {
        "model": {
            "name": config.model,
            "resolved": resolve_model(config.model) if isinstance(config.model, str) else None,
            "fingerprint": model_fingerprint(model),
            "max_seq_length": model.max_seq_length,
            "backend": config.backend,
            "backend_precision": inference_precision(config.backend),
            "prompts": prompts or None,
        },  # fmt: skip
        "searcher": {"dense": searcher_name, "lexical": "bm25s" if "lexical" in config.searchers else None,
                     "candidates_searched": k, "cross_encoder": model_name(cross_encoder),
                     "nprobe": streamed_nprobe(config) if config.vectors_on_disk else config.nprobe, **blas_report()},
        "anchor_counts": anchor_counts,
        "noise_filter": {"applied": bool(noise_filter), "documents": noise_counts},
        "copies_excluded": copies,
        "mining": mined.report,
        "synthetic": synthetic_report,
        "topic_mining": topic.report if topic is not None else None,
    }
    return MinedPairs(anchors, negatives, positive_scores, doc_ids, doc_texts, width, report, timings, model)


def cross_encoder_scores(cross_encoder, queries: list[str], doc_texts: list[str], batch_size: int,
                         show_progress_bar: bool):  # fmt: skip
    """A ``score_fn`` for :func:`~negmine.mining.static.mine_negatives`: the cross-encoder's score of each (query,
    document) pair of an index matrix (NaN where the index is -1), as sentence-transformers rescores its candidates.

    Example:
        >>> cross = CrossEncoder("cross-encoder/ms-marco-MiniLM-L6-v2")  # doctest: +SKIP
        >>> score = cross_encoder_scores(cross, queries, doc_texts, 32, False)  # doctest: +SKIP
    """

    def score(indices: np.ndarray) -> np.ndarray:
        rows, cols = np.nonzero(indices >= 0)
        out = np.full(indices.shape, np.nan, dtype=np.float32)
        if len(rows):
            pairs = [(queries[r], doc_texts[indices[r, c]]) for r, c in zip(rows.tolist(), cols.tolist(), strict=True)]
            out[rows, cols] = np.asarray(cross_encoder.predict(pairs, batch_size=batch_size,
                                                               show_progress_bar=show_progress_bar),
                                         dtype=np.float32)  # fmt: skip
        return out

    return score


def model_name(model) -> str | None:
    """A loaded model's name for manifests: its base model, else its path, else its class."""
    if model is None:
        return None
    card = getattr(model, "model_card_data", None)
    return getattr(card, "base_model", None) or getattr(model, "name_or_path", None) or type(model).__name__


def load_pairs_data(config: PairsConfig):
    """The split ``config`` asks for, relabelled when it names decisions: ``(data, folder, release, relabel)``;
    folder and release are None for pair data.

    Example:
        >>> data, folder, release, relabel = load_pairs_data(PairsConfig(dataset="scifact"))  # doctest: +SKIP
    """
    from negmine.data import SciFactRelease, dataset_folder, load_retrieval
    from negmine.data.sources import is_pair_data

    if config.extra_training and config.task == "verification":
        raise NegmineError("extra_training: its claims carry no SUPPORT / CONTRADICT labels; use task retrieval")
    pairs = is_pair_data(config.dataset)
    folder = None if pairs else dataset_folder(config.dataset, config.data_dir)
    on_disk = texts_folder(config.cache_dir) if config.vectors_on_disk else None  # pair data's texts: on disk too
    if pairs and config.task == "verification":
        raise NegmineError("task verification needs SciFact's SUPPORT / CONTRADICT labels; pair data has none")
    data = load_retrieval(config.dataset if pairs else folder, config.split, data_dir=config.data_dir,
                          validation_fraction=config.validation_fraction, seed=config.seed,
                          extra_training=config.extra_training, anchor_column=config.anchor_column,
                          positive_column=config.positive_column, corpus=config.corpus,
                          data_format=config.data_format, texts_on_disk=on_disk)  # fmt: skip
    relabel = None
    if config.relabel:
        from negmine.data.relabel import apply_relabel, read_relabel

        if config.task != "retrieval":
            raise NegmineError("--relabel: relabelled documents have no SUPPORT / CONTRADICT label; "
                               "use task retrieval")
        relabel = read_relabel(config.relabel, data)
        data = apply_relabel(data, relabel)
    release = SciFactRelease.load(folder) if folder is not None and SciFactRelease.is_release(folder) else None
    return data, folder, release, relabel


def texts_folder(cache_dir: str | Path | None) -> Path:
    """Where a larger-than-memory corpus's texts are kept while it is mined: ``texts/`` in the embedding cache
    (a disk chosen for its room); each file is deleted when its data is.

    Example:
        >>> texts_folder("cache").as_posix()
        'cache/texts'
    """
    from negmine.encode import default_cache_dir

    return Path(cache_dir) / "texts" if cache_dir is not None else default_cache_dir() / "texts"


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
    from negmine.outputs import check_writable

    check_writable(out, overwrite)
    if config.vectors_on_disk:
        _check_on_disk(config)  # before any loading: a Flat index with vectors on disk is a mistake
    if config.synthetic is not None:
        config.synthetic.check_resources()
    clock = time.perf_counter()
    data, folder, release, relabel = load_pairs_data(config)
    load_s = time.perf_counter() - clock
    mined = mine_pairs(config, data, release=release, show_progress_bar=show_progress_bar)
    relabelled = relabel.summary(file_fingerprint(config.relabel)) if relabel is not None else None
    return save_pairs(config, data, mined, out, overwrite, {"load_s": load_s},
                      extra_inputs=[str(folder / "corpus.jsonl")] if release else [], relabel=relabelled)  # fmt: skip


def save_pairs(config: PairsConfig, data, mined: MinedPairs, out: str | Path, overwrite: bool = False,
               timings: dict | None = None, extra_inputs: list[str] = (), relabel: dict | None = None):
    """Write mined pairs as a pairs folder (what ``build-pairs`` writes, and what ``train``, ``analyze`` and
    ``audit`` read): the dataset, ``pairs.parquet``, the manifest, timings, exports and a README.

    Args:
        config: the :class:`PairsConfig` the pairs were mined with.
        data: the retrieval data they were mined from.
        mined: :func:`mine_pairs`' result.
        out: the folder (replaced atomically; an existing one needs ``overwrite``).
        overwrite: replace an existing folder.
        timings: seconds spent before mining (loading), added to the mining's.
        extra_inputs: files to fingerprint beside the data's own.
        relabel: the relabel summary for the manifest.

    Returns:
        The ``datasets.Dataset`` and the manifest dictionary.

    Example:
        >>> mined = mine_pairs(config, data)  # doctest: +SKIP
        >>> dataset, manifest = save_pairs(config, data, mined, "runs/pairs")  # doctest: +SKIP
    """
    from datasets import Dataset

    from negmine.outputs import atomic_folder, check_writable
    from negmine.pairs.formats import dataset_from_chunks
    from negmine.pairs.report import manifest_markdown

    out = check_writable(out, overwrite)
    anchors, negatives, doc_ids, data_corpus = mined.anchors, mined.negatives, mined.doc_ids, data.corpus
    on_disk = config.vectors_on_disk  # a corpus larger than memory: rows written and read back in chunks
    step = ROW_CHUNK if on_disk else max(1, len(anchors))
    spans = [slice(start, start + step) for start in range(0, len(anchors), step)]

    def doc_text(doc: int, pair_type: str) -> str:
        return data_corpus[doc_ids[doc]]["text"] if pair_type in ("title", "ict") else mined.doc_texts[doc]

    dropped = 0

    def chunks():
        nonlocal dropped
        for span in spans:
            columns, lost = build_rows(anchors[span], negatives[span], mined.positive_scores[span], doc_ids, doc_text,
                                       config.output_format, mined.width)  # fmt: skip
            dropped += lost
            yield columns

    with atomic_folder(out) as tmp:
        rows_file = tmp / "rows.arrow"
        dataset = dataset_from_chunks(chunks(), rows_file if on_disk else None,
                                      empty_columns(config.output_format, mined.width))  # fmt: skip
        manifest = pairs_manifest(config, data, mined, len(dataset), dropped, extra_inputs=list(extra_inputs))
        manifest["relabel"] = relabel
        dataset.save_to_disk(str(tmp / "dataset"))
        dataset.to_parquet(str(tmp / "pairs.parquet"))
        for name in config.export:
            write_jsonl(tmp / EXPORT_FILES[name], (record for span in spans for record in export_rows(
                name, anchors[span], negatives[span], mined.positive_scores[span], mined.doc_texts, doc_ids)))
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        timings = {**(timings or {}), **mined.timings}
        (tmp / "timings.json").write_text(json.dumps({k: round(v, 3) for k, v in timings.items()}, indent=2) + "\n")
        (tmp / "README.md").write_text(manifest_markdown(manifest))
        rows_file.unlink(missing_ok=True)  # the dataset/ folder holds the rows now
    if on_disk:
        dataset = Dataset.load_from_disk(str(out / "dataset"))
    return dataset, manifest


def pairs_manifest(config: PairsConfig, data, mined: MinedPairs, rows: int, dropped: int,
                   extra_inputs: list[str] = ()) -> dict:  # fmt: skip
    """The manifest of a pairs folder: parameters, input fingerprints, model, versions, counts, what each filter
    removed and score quantiles.

    Example:
        >>> manifest = pairs_manifest(config, data, mine_pairs(config, data), rows=10, dropped=0)  # doctest: +SKIP
    """
    from negmine import __version__
    from negmine.data.retrieval import DiskCorpus
    from negmine.env import package_versions

    anchors, negatives, width = mined.anchors, mined.negatives, mined.width
    gaps = [min(ps) - n.score for ps, negs in zip(mined.positive_scores, negatives, strict=True) for n in negs]
    sources: dict[str, int] = {}
    for negs in negatives:
        for n in negs:
            sources[n.source] = sources.get(n.source, 0) + 1
    input_files = sorted(set(data.sources) | set(extra_inputs))
    report = mined.report
    anchor_counts = report["anchor_counts"]
    return {
        "negmine_version": __version__,
        "parameters": config.model_dump(mode="json"),
        "inputs": {path: file_fingerprint(path) for path in input_files if Path(path).is_file()},
        "model": report["model"],
        "packages": package_versions(),
        "searcher": report["searcher"],
        "data": {"name": data.name, "split": data.split, "read": dict(data.read_counts),
                 "scifact_habits": uses_scifact_habits(data), "noise_filter": report["noise_filter"]["applied"],
                 "texts_on_disk": isinstance(data.corpus, DiskCorpus)},
        "counts": {
            "split_queries": len(data.queries),
            **anchor_counts,
            "corpus_anchors": len(anchors) - anchor_counts["anchors"],
            "documents": len(mined.doc_ids),
            "noise_documents": report["noise_filter"]["documents"],
            "copies_excluded": report["copies_excluded"],
            "positives": sum(len(a.positives) for a in anchors),
            "negatives": sum(len(n) for n in negatives),
            "negatives_by_source": dict(sorted(sources.items())),
            "anchors_short_of_negatives": int(sum(len(n) < width for n in negatives)),
            "rows": rows,
            "rows_dropped_too_few_negatives": dropped,
        },
        "mining": report["mining"],
        "synthetic": report["synthetic"],
        "topic_mining": report["topic_mining"],
        "score_stats": {
            "positive": score_stats([s for ps in mined.positive_scores for s in ps]),
            "negative": score_stats([n.score for negs in negatives for n in negs]),
            "gap": score_stats(gaps),
        },
    }


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

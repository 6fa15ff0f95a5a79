"""Hard negatives that move with the model: a ``TrainerCallback`` that re-mines them with the model being trained
and swaps them into the training data in place, without restarting the trainer.

At each refresh it encodes the queries (all, or a random fraction of them, as ANCE does) and the corpus (all of it, or
only a candidate pool: the union of every query's top candidates at the first mining) with the current model, searches
a fresh exact FAISS index (or the two trees of :class:`~negmine.search.balltree.BallTreeSampler`), beside BM25
candidates when the pairs section has the lexical searcher (computed once: they do not depend on the model, and are
rescored by it at each refresh), mines with the static miner's filters (:func:`~negmine.mining.static.mine_negatives`:
the same exclusions as build-pairs, the anchor's own text, copies of its positives and the noise mask where one
applies) in the window of the curriculum stage in force, replaces negatives by random ones at the scheduled rate, and
writes the new rows over the old ones. Each refresh is logged: its time, the score gap between positives and negatives,
the overlap with the negatives it replaced.

References:
    Xiong et al., "Approximate Nearest Neighbor Negative Contrastive Learning for Dense Text Retrieval" (ANCE),
    ICLR 2021; Zhan et al., "Optimizing Dense Retrieval Model Training with Hard Negatives" (STAR/ADORE), SIGIR 2021.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from transformers import TrainerCallback

from negmine import distributed
from negmine.mining.schedules import CurriculumStage, RandomRateSchedule, stage_at
from negmine.mining.static import MiningParams, mine_negatives

logger = logging.getLogger(__name__)


def swap_rows(dataset, new) -> None:
    """Make ``dataset`` hold ``new``'s rows, in place: the trainer's dataloader keeps its reference to ``dataset``.

    Both must have the same columns and length (the trainer planned its steps on that length).
    """
    if dataset.column_names != new.column_names or len(dataset) != len(new):
        raise ValueError(
            f"a refresh must keep columns and length: {dataset.column_names}/{len(dataset)} vs "
            f"{new.column_names}/{len(new)}"
        )
    dataset.__dict__.update(new.__dict__)


class HardNegativeRefresh(TrainerCallback):
    """Re-mine hard negatives with the model being trained, every N epochs or steps, and swap them in.

    Args:
        queries: query texts (the anchors).
        documents: corpus texts, in index order.
        rows: ``(query index, positive document index)`` of each training row; the dataset has one row each.
        params: the static miner's parameters (window, margins, ``num_negatives`` = negative columns).
        every_epochs: refresh at the start of every N-th epoch (None: not by epoch).
        every_steps: refresh every N optimizer steps (None: not by step).
        query_fraction: the share of queries re-mined at each refresh; the others keep their negatives (ANCE).
        candidate_pool: re-encode only the union of each query's top ``candidate_pool`` documents at the first
            mining (None: the whole corpus each time).
        random_rate: a schedule of the probability that a negative is a random document instead of a mined one.
        curriculum: stages that move the window over epochs; a stage's ``num_negatives`` is how many of the
            negative columns hold mined negatives, the rest random ones.
        searcher: ``faiss`` (the static miner's filters over an exact index) or ``balltree`` (one negative a row
            from :class:`~negmine.search.balltree.BallTreeSampler`: the nearest claim or abstract).
        exclude_shared_positives: with the balltree searcher, never take as a claim's negative another claim that
            cites one of its abstracts (a sister claim: the same finding, or its negation, about the same evidence).
        batch_size: encoding batch size.
        seed: seeds the query fractions and random negatives.
        memory: an :class:`~negmine.encode.EmbeddingMemory` shared with the evaluator: a refresh at the start of
            an epoch then reads the corpus vectors that the evaluation at the end of the last one encoded with the
            same weights (logged as ``documents_reused``) instead of encoding the corpus again.
        first_backend: the backend of the first mining (the cached starting model, usually frozen base weights;
            :mod:`negmine.backends`).
        backend: the backend of the later minings, which encode with the model in training: ``torch`` (the model
            itself), or an export of its current weights made at each refresh (into a temporary folder, deleted
            when the weights change) and encoded with; ``auto`` (the default) takes ``openvino`` (f32: the same
            negatives, and faster than torch on a CPU: docs/scale.md has the measurements) where it is installed
            and the model is on the CPU, and torch where it is not, or where the memory already holds the vectors.
        shard_encoding: under DistributedDataParallel, each process encodes a slice of the texts (False: the main
            process encodes them all while the others wait); the main process alone encodes when its memory already
            holds every vector.
        searchers: candidate sources, as build-pairs' ``searchers``: ``dense`` and optionally ``lexical`` (BM25 over
            ``documents``, searched once; its candidates join the candidate pool).
        exclude: per query (index into ``queries``), documents that are never its negatives, by reason
            (``anchor_text``, ``near_duplicate``: :func:`negmine.pairs.anchors.mark_copies`), as in build-pairs.
        excluded: a boolean mask over ``documents`` that are never negatives (the noise filter, where it applies).

    Under DistributedDataParallel (``torchrun`` or ``accelerate launch``) each process encodes a slice of the
    texts and the main process gathers the vectors, searches and mines; every process then takes its negatives,
    and each log entry has every process's checksum of them (``rank_checksums``).

    Attributes:
        history: one dict per mining (the initial one included): epoch, step, seconds, queries re-mined,
            documents encoded (and reused from the memory), random rate, shares of random and of claim negatives,
            window, mean score gap, overlap with the previous negatives.

    Example:
        >>> refresh = HardNegativeRefresh(claims, abstracts, rows, MiningParams(num_negatives=1))  # doctest: +SKIP
        >>> train_dataset = refresh.initial_dataset(model)  # doctest: +SKIP
        >>> trainer = SentenceTransformerTrainer(model=model, train_dataset=train_dataset, loss=loss,  # doctest: +SKIP
        ...                                      callbacks=[refresh])  # doctest: +SKIP
    """

    def __init__(
        self,
        queries: Sequence[str],
        documents: Sequence[str],
        rows: Sequence[tuple[int, int]],
        params: MiningParams | None = None,
        every_epochs: int | None = 1,
        every_steps: int | None = None,
        query_fraction: float = 1.0,
        candidate_pool: int | None = None,
        random_rate: RandomRateSchedule | None = None,
        curriculum: Sequence[CurriculumStage] = (),
        searcher: Literal["faiss", "balltree"] = "faiss",
        exclude_shared_positives: bool = False,
        batch_size: int = 64,
        seed: int = 0,
        memory=None,
        first_backend: str = "torch",
        backend: str = "auto",
        shard_encoding: bool = True,
        snapshot_dir: str | Path | None = None,
        query_ids: Sequence[str] | None = None,
        doc_ids: Sequence[str] | None = None,
        snapshot_manifest: dict | None = None,
        searchers: Sequence[str] = ("dense",),
        exclude: dict[str, Sequence[Sequence[int]]] | None = None,
        excluded: np.ndarray | None = None,
    ):
        if not 0 < query_fraction <= 1:
            raise ValueError(f"query_fraction must be in (0, 1], got {query_fraction}")
        if searcher == "balltree" and params is not None and params.num_negatives != 1:
            raise ValueError("the balltree searcher gives one negative a point: set num_negatives to 1")
        from negmine.backends import check_backend

        if backend != "auto":
            check_backend(backend)
        self.first_backend = first_backend
        self.backend = backend
        self._export: tuple[str, Path] | None = None  # (weights' fingerprint, temporary folder of their export)
        self.shard_encoding = shard_encoding
        self.queries, self.documents = list(queries), list(documents)
        self.rows = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
        self.params = params or MiningParams()
        self.every_epochs, self.every_steps = every_epochs, every_steps
        self.query_fraction = query_fraction
        self.candidate_pool = candidate_pool
        self.random_rate = random_rate
        self.curriculum = list(curriculum)
        self.searcher = searcher
        unknown = set(searchers) - {"dense", "lexical"}
        if unknown or "dense" not in searchers:
            raise ValueError(f"a refresh searches dense candidates, and lexical ones beside; got {list(searchers)}")
        self.searchers = list(searchers)
        self.exclude = {reason: [list(map(int, docs)) for docs in lists] for reason, lists in (exclude or {}).items()}
        self.excluded = None if excluded is None else np.asarray(excluded, dtype=bool)
        self._noise: set[int] | None = None  # the documents ``excluded`` shuts, as a set (made when first needed)
        self._lexical = None  # BM25 candidates of every query over every document, searched at the first mining
        self.exclude_shared_positives = exclude_shared_positives
        self.batch_size = batch_size
        self.memory = memory
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir is not None else None
        self.query_ids = [str(q) for q in (query_ids if query_ids is not None else range(len(queries)))]
        self.doc_ids = [str(d) for d in (doc_ids if doc_ids is not None else range(len(documents)))]
        self.snapshot_manifest = snapshot_manifest or {}
        self.reused = 0  # documents of the current mining whose vectors came from the memory
        self.rng = np.random.default_rng(seed)
        self.positives: list[list[int]] = [[] for _ in self.queries]
        for query, doc in self.rows:
            if doc not in self.positives[query]:
                self.positives[query].append(int(doc))
        self.row_queries = sorted(set(self.rows[:, 0].tolist()))
        self.negatives = np.full((len(self.queries), self.params.num_negatives), -1, dtype=np.int64)
        self.negative_sources = np.full(self.negatives.shape, "", dtype=object)
        self.negative_random = np.zeros(self.negatives.shape, dtype=bool)
        self.pool: np.ndarray | None = None
        self.dataset = None
        self.history: list[dict] = []
        self.last_backend = first_backend  # the backend the last encoding ran on (logged with each mining)

    # -- mining -------------------------------------------------------------------------------------------------
    def _encode(self, model, texts: list[str], role: str) -> np.ndarray:
        from negmine.encode import Encoder

        # The starting model is usually the base model, whose corpus embeddings are cached; a model in training
        # changes at every step, so its vectors are never worth keeping.
        # The memory holds what the end-of-epoch evaluation just encoded with the same weights.
        cache = not self.history
        backend = self.first_backend if cache else self._refresh_backend(model, texts, role)
        self.last_backend = backend
        where = {} if cache or backend == "torch" else {"cache_dir": self._export_folder(model)}
        encoder = Encoder(model, batch_size=self.batch_size, show_progress_bar=False, use_cache=cache,
                          memory=self.memory, backend=backend, calibration_texts=self.documents[:300],
                          **where)  # fmt: skip
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        held = distributed.is_distributed() and distributed.broadcast(
            encoder.in_memory(texts, role) if distributed.is_main() else None
        )
        if distributed.is_distributed() and (held or not self.shard_encoding):
            # the main process alone: it holds every vector already (the evaluation it alone ran just encoded
            # them), or slices were not asked for; the other processes need no vectors, only the main one mines
            if not distributed.is_main():
                return None
            with distributed.all_cores():  # the others wait for the negatives
                vectors = encoder.encode(texts, role=role)
            encoded = encoder.last_encoded
        elif distributed.is_distributed():  # each process encodes its slice, the main one gathers them
            part = texts[distributed.my_slice(len(texts))]
            mine = encoder.encode(part, role=role) if part else None
            found = distributed.gather_all((mine, encoder.last_encoded if part else 0))
            vectors = np.concatenate([v for v, _ in found if v is not None])
            encoded = sum(n for _, n in found)
        else:
            vectors = encoder.encode(texts, role=role)
            encoded = encoder.last_encoded
        if role == "document":
            self.reused = len(texts) - encoded if self.memory is not None and not cache else 0
        return vectors

    def _refresh_backend(self, model, texts: list[str], role: str) -> str:
        """``backend``, with ``auto`` resolved: openvino on the CPU where installed, else torch; torch too when the
        memory holds the torch vectors of these texts already (the evaluation just encoded them)."""
        from negmine.backends import check_backend
        from negmine.encode import Encoder
        from negmine.errors import NegmineError

        if self.backend != "auto":
            return self.backend
        if next(model.parameters()).device.type != "cpu" or Encoder(model, use_cache=False, memory=self.memory,
                                                                     show_progress_bar=False).in_memory(texts, role):
            return "torch"  # fmt: skip
        try:
            check_backend("openvino")
        except NegmineError:
            return "torch"
        return "openvino"

    def _export_folder(self, model) -> Path:
        """A temporary folder for the export of the model's current weights (made by the first encoding of a
        refresh, read by the second); the previous weights' folder is deleted."""
        import shutil
        import tempfile

        from negmine.encode import model_fingerprint

        fingerprint = model_fingerprint(model)
        if self._export is not None and self._export[0] == fingerprint:
            return self._export[1]
        if self._export is not None:
            shutil.rmtree(self._export[1], ignore_errors=True)
        self._export = (fingerprint, Path(tempfile.mkdtemp(prefix="negmine-refresh-export-")))
        return self._export[1]

    def _never(self, query: int) -> set[int]:
        """Documents that are never ``query``'s negative: its positives, its excluded copies, the noise mask."""
        if self._noise is None:
            self._noise = set(np.flatnonzero(self.excluded).tolist()) if self.excluded is not None else set()
        shut = {d for lists in self.exclude.values() for d in lists[query]}
        return {*self.positives[query], *shut, *self._noise}

    def _random_document(self, query: int) -> int:
        never = self._never(query)
        if len(never) >= len(self.documents):
            raise ValueError(f"query {self.query_ids[query]}: every document is excluded, none can be a negative")
        while True:
            doc = int(self.rng.integers(len(self.documents)))
            if doc not in never:
                return doc

    def mine(self, model, epoch: float = 0.0, step: int = 0) -> dict:
        """Re-mine the negatives of (a fraction of) the queries with ``model``; returns this refresh's log entry."""
        training = model.training
        model.eval()  # no dropout while encoding
        try:
            entry = self._mine(model, epoch, step)
        finally:
            model.train(training)
        if distributed.is_distributed():
            entry = self._share_main_state()
        if self.snapshot_dir is not None and distributed.is_main():
            self.save_snapshot(self.snapshot_dir / f"refresh-{len(self.history) - 1:02d}", entry)
        return entry

    def _share_main_state(self) -> dict:
        """Under DistributedDataParallel: every process takes the main process's negatives (and random state, so
        later query fractions agree), and the log entry records each process's checksum of them."""
        names = ("negatives", "negative_sources", "negative_random", "pool")
        state = distributed.broadcast({**{name: getattr(self, name) for name in names},
                                       "rng": self.rng.bit_generator.state,
                                       "entry": self.history[-1] if distributed.is_main() else None})  # fmt: skip
        if not distributed.is_main():
            for name in names:
                setattr(self, name, state[name])
            self.rng.bit_generator.state = state["rng"]
            self.history.append(state["entry"])
        entry = self.history[-1]
        sums = distributed.gather_all(distributed.array_checksum(self.negatives, self.negative_sources,
                                                                 self.negative_random))  # fmt: skip
        entry.update(processes=len(sums), rank_checksums=sums, checksums_equal=len(set(sums)) == 1)
        if not entry["checksums_equal"]:
            raise RuntimeError(f"negatives differ between processes after a refresh: {sums}")
        return entry

    def save_snapshot(self, folder: Path, entry: dict) -> None:
        """Write the current negatives as a pairs folder (``pairs.parquet`` in the n-tuple layout and a
        ``manifest.json``) that ``negmine analyze`` reads like build-pairs' output: what the model trained on after
        this mining. A negative's ``negative_source`` is ``abstract``, ``claim`` (another claim, BallTree) or
        ``random`` (drawn by the random-rate schedule); a claim's id is ``claim:<query id>``."""
        import json

        import pandas as pd

        from negmine.outputs import atomic_folder

        frame = self.rows_of("n-tuple")
        manifest = {**self.snapshot_manifest, "refresh": entry}
        manifest.setdefault("parameters", {})["output_format"] = "n-tuple"
        with atomic_folder(folder) as tmp:
            pd.DataFrame(frame).to_parquet(tmp / "pairs.parquet")
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")

    def _mine(self, model, epoch: float, step: int) -> dict:
        from negmine.search.dense import dense_searcher

        start = time.perf_counter()
        first = not self.history  # the pool, when asked for, is taken from this first mining
        stage = stage_at(self.curriculum, epoch)
        params = self.params
        if stage is not None:
            params = params.model_copy(update={"range_min": stage.range_min, "range_max": stage.range_max})
        mined_columns = min(stage.num_negatives or params.num_negatives, params.num_negatives) if stage else None
        queries = np.asarray(self.row_queries)
        if not first and self.query_fraction < 1:
            size = max(1, round(self.query_fraction * len(queries)))
            queries = np.sort(self.rng.choice(queries, size=size, replace=False))
        docs = np.arange(len(self.documents)) if self.pool is None else self.pool
        all_queries = None
        if self.searcher == "balltree":  # its point tree holds every query
            all_queries = self._encode(model, self.queries, "query")
            query_vectors = all_queries[queries] if all_queries is not None else None
        else:
            query_vectors = self._encode(model, [self.queries[q] for q in queries], "query")
        doc_vectors = self._encode(model, [self.documents[d] for d in docs], "document")
        if not distributed.is_main():  # the main process searches and mines; mine() shares its result
            return None
        local = {int(d): i for i, d in enumerate(docs)}
        positives = [[local[d] for d in self.positives[q] if d in local] for q in queries]
        widest = max((len(p) for p in self.positives), default=0)
        old, old_sources = self.negatives.copy(), self.negative_sources.copy()
        rate = self.random_rate(epoch) if self.random_rate is not None else 0.0

        if self.searcher == "balltree":
            new, sources, random = self._balltree_negatives(
                all_queries, queries, query_vectors, doc_vectors, docs, rate
            )
        else:
            shut = max((len(e[q]) for e in self.exclude.values() for q in queries), default=0)
            k = params.range_max + widest + shut
            if first and self.candidate_pool:  # the pool may reach deeper than the window
                k = max(k, self.candidate_pool)
            candidates = {"dense": dense_searcher(doc_vectors).search(query_vectors, min(len(docs), k))}
            if "lexical" in self.searchers:
                candidates["lexical"] = self._lexical_candidates(queries, docs, k)
            if first and self.candidate_pool:  # later refreshes encode and search only these documents
                top = np.concatenate([c.indices[:, : self.candidate_pool] for c in candidates.values()], axis=1)
                known = np.asarray([d for p in self.positives for d in p], dtype=np.int64)
                self.pool = np.union1d(docs[top[top >= 0]], known)
            exclude = {reason: [[local[d] for d in lists[q] if d in local] for q in queries]
                       for reason, lists in self.exclude.items()}  # fmt: skip
            mined = mine_negatives(query_vectors, doc_vectors, positives, candidates, params,
                                   rescore=["lexical"] if "lexical" in candidates else [],
                                   excluded=None if self.excluded is None else self.excluded[docs],
                                   exclude=exclude or None)  # fmt: skip
            new = np.where(mined.indices >= 0, docs[np.clip(mined.indices, 0, None)], -1)
            sources = np.full(new.shape, "abstract", dtype=object)
            random = np.zeros(new.shape, dtype=bool)
            for row, query in enumerate(queries):
                for column in range(new.shape[1]):
                    hard = mined_columns is None or column < mined_columns
                    if new[row, column] < 0 or not hard or self.rng.random() < rate:
                        new[row, column] = self._random_document(int(query))
                        random[row, column] = True
        self.negatives[queries] = new
        self.negative_sources[queries] = sources
        self.negative_random[queries] = random
        gap = self._score_gap(query_vectors, doc_vectors, queries, docs)
        entry = self._statistics(old, old_sources, queries, epoch, step, rate, params, len(docs), first, gap)
        entry["documents_reused"] = self.reused
        entry["backend"] = self.last_backend
        entry["seconds"] = round(time.perf_counter() - start, 3)
        self.history.append(entry)
        logger.info("negatives refreshed: %s", entry)
        return entry

    def _lexical_candidates(self, queries: np.ndarray, docs: np.ndarray, k: int):
        """BM25 candidates of ``queries`` as indices into ``docs`` (-1 where a candidate is not among them):
        searched once over every document (BM25 does not change with the model), then read at each refresh."""
        from negmine.pairs.build import lexical_candidates
        from negmine.search.results import SearchResults

        if self._lexical is None or self._lexical.indices.shape[1] < min(k, len(self.documents)):
            self._lexical = lexical_candidates(self.documents, self.queries, min(k, len(self.documents)))
        position = np.full(len(self.documents), -1, dtype=np.int64)
        position[docs] = np.arange(len(docs))
        found = self._lexical.indices[queries, :k]
        indices = np.where(found >= 0, position[np.clip(found, 0, None)], -1)
        return SearchResults(self._lexical.scores[queries, :k], indices)

    def _balltree_negatives(self, all_queries, queries, query_vectors, doc_vectors, docs, rate):
        """One negative per query from the two trees (the nearest allowed claim or abstract, or a random one)."""
        from negmine.search.balltree import BallTreeSampler

        local = {int(d): i for i, d in enumerate(docs)}
        # never returned: the positives, and as on the FAISS path the excluded copies and the noise mask
        positives = [[local[d] for d in self._never(q) if d in local] for q in range(len(self.queries))]
        sisters = None
        if self.exclude_shared_positives:
            citing: dict[int, set[int]] = {}
            for query, cited in enumerate(self.positives):
                for doc in cited:
                    citing.setdefault(doc, set()).add(query)
            sisters = [set().union(*(citing[d] for d in cited)) if cited else set() for cited in self.positives]
        searcher = BallTreeSampler(all_queries, doc_vectors, positives, point_positives=sisters,
                                    seed=int(self.rng.integers(2**31)))  # fmt: skip
        found = searcher.sample(zip(queries.tolist(), query_vectors, strict=True), rate)
        new = np.asarray([[index if source == "point" else docs[index]] for source, index in found], dtype=np.int64)
        sources = np.asarray([["claim" if source == "point" else "abstract"] for source, _ in found], dtype=object)
        return new, sources, searcher.last_random[:, None].copy()

    def _statistics(self, old, old_sources, queries, epoch, step, rate, params, n_docs, first, gap) -> dict:
        overlap = None
        if not first:  # the share of each query's new negatives that it already had (claims and abstracts apart)
            before = [set(zip(old[q], old_sources[q], strict=True)) for q in queries]
            after = [set(zip(self.negatives[q], self.negative_sources[q], strict=True)) for q in queries]
            overlap = round(
                float(np.mean([len(a & b) / max(1, len(b)) for a, b in zip(before, after, strict=True)])), 4
            )
        share = float(np.mean(self.negative_random[queries]))
        claims = float(np.mean(self.negative_sources[queries] == "claim"))
        return {"epoch": round(float(epoch), 3), "step": int(step), "queries": len(queries), "documents": n_docs,
                "random_rate": round(rate, 4), "random_share": round(share, 4), "claim_share": round(claims, 4),
                "range_min": params.range_min, "range_max": params.range_max, "score_gap": gap,
                "overlap": overlap}  # fmt: skip

    def _score_gap(self, query_vectors, doc_vectors, queries, docs) -> float | None:
        """Mean over the re-mined queries of (mean positive score - mean negative score), from the vectors this
        mining encoded; abstract negatives only (claims are not in the document vectors, nor are random abstracts
        outside a candidate pool)."""
        local = {int(d): i for i, d in enumerate(docs)}
        gaps = []
        for row, query in enumerate(queries):
            pos = [query_vectors[row] @ doc_vectors[local[d]] for d in self.positives[query] if d in local]
            negatives = zip(self.negatives[query], self.negative_sources[query], strict=True)
            neg = [query_vectors[row] @ doc_vectors[local[int(d)]] for d, source in negatives
                   if source == "abstract" and int(d) in local]  # fmt: skip
            if pos and neg:
                gaps.append(np.mean(pos) - np.mean(neg))
        return round(float(np.mean(gaps)), 4) if gaps else None

    # -- the dataset ---------------------------------------------------------------------------------------------
    def rows_of(self, output_format: str = "n-tuple") -> dict[str, list]:
        """The current negatives as build-pairs' columns (:func:`negmine.pairs.formats.build_rows`), one row per
        (query, positive) pair in ``rows`` order; a claim negative's id is ``claim:<query id>``, a negative drawn by
        the random-rate schedule has source ``random``; scores are NaN (the refresh keeps none)."""
        from negmine.pairs.anchors import Anchor, Positive
        from negmine.pairs.formats import Negative, build_rows

        k = self.negatives.shape[1]
        anchors, negatives = [], []
        grouped: dict[int, list[Positive]] = {}
        for query, doc in self.rows:
            grouped.setdefault(query, []).append(Positive(doc, self.documents[doc]))
        for query, positives in grouped.items():
            anchors.append(Anchor(self.query_ids[query], self.queries[query], positives))
            row = []
            for column in range(k):
                index, source = int(self.negatives[query, column]), self.negative_sources[query, column]
                claim = source == "claim"
                row.append(Negative(-1 if claim else index, "random" if self.negative_random[query, column]
                                    else source, float("nan"), text=self.queries[index] if claim else None,
                                    id=f"claim:{self.query_ids[index]}" if claim else None))  # fmt: skip
            negatives.append(row)
        scores = [[float("nan")] * len(a.positives) for a in anchors]
        columns, _ = build_rows(anchors, negatives, scores, self.doc_ids, lambda doc, _: self.documents[doc],
                                output_format, k)  # fmt: skip
        return columns

    def build_dataset(self):
        """The n-tuple dataset of the current negatives: anchor, positive, negative_1..k, one row per pair."""
        from datasets import Dataset

        from negmine.pairs.formats import training_columns

        columns = self.rows_of("n-tuple")
        return Dataset.from_dict({c: columns[c] for c in training_columns(list(columns), "n-tuple")})

    def initial_dataset(self, model):
        """Mine with the starting model and return the dataset the trainer gets (and this callback refreshes)."""
        self.mine(model, epoch=0.0, step=0)
        self.dataset = self.build_dataset()
        return self.dataset

    def refresh(self, model, epoch: float, step: int, train_dataloader=None) -> dict:
        """Re-mine and write the new rows over the trainer's dataset."""
        entry = self.mine(model, epoch, step)
        target = getattr(train_dataloader, "dataset", None) or self.dataset
        swap_rows(target, self.build_dataset())
        if target is not self.dataset and self.dataset is not None:
            swap_rows(self.dataset, self.build_dataset())
        return entry

    # -- trainer hooks --------------------------------------------------------------------------------------------
    def on_epoch_begin(self, args, state, control, model=None, train_dataloader=None, **kwargs):
        epoch = int(round(state.epoch or 0))
        if self.every_epochs and epoch > 0 and epoch % self.every_epochs == 0 and model is not None:
            self.refresh(model, epoch, state.global_step, train_dataloader)
        return control

    def on_step_end(self, args, state, control, model=None, train_dataloader=None, **kwargs):
        if self.every_steps and state.global_step % self.every_steps == 0 and state.global_step < state.max_steps:
            self.refresh(model, state.epoch or 0.0, state.global_step, train_dataloader)
        return control

    def on_train_end(self, args, state, control, **kwargs):
        if self._export is not None:  # the last refresh's export of weights that have changed since
            import shutil

            shutil.rmtree(self._export[1], ignore_errors=True)
            self._export = None
        return control

"""``negmine analyze`` as a function: measure the negatives of pairs folders and runs with a fixed reference
encoder (and each run's trained model and checkpoints), then write metrics, plots and a report.

The reference encoder (the base model by default) makes numbers from different runs comparable: the same texts
always get the same vectors. A run adds the metrics with its trained model (how hard its negatives still are for
the model that learnt from them), its validation scores, the geometry of its embeddings (alignment, uniformity,
CKA against the reference), its refresh history and, when checkpoints were kept, the metrics and validation nDCG@10
of each checkpoint: the training dynamics.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from negmine.analysis.diversity import corpus_clusters
from negmine.analysis.false_negatives import judge_flags, sister_documents
from negmine.analysis.geometry import model_geometry
from negmine.analysis.measure import Context, SetVectors, encode_set, measure_set, triplet_scores
from negmine.analysis.negatives import NegativeSet, load_negative_set, load_pairs_data
from negmine.analysis.targets import Target, checkpoints
from negmine.errors import NegmineError

logger = logging.getLogger(__name__)


@dataclass
class AnalyzeConfig:
    """The settings of one analysis.

    Attributes:
        reference: the fixed reference encoder.
        model: a further model to measure pairs folders with (runs use their own).
        judge: a bi- or cross-encoder whose verdict is the third false-negative signal.
        temperature: the InfoNCE temperature of the gradient share (a run's recipe's 1 / scale overrides it).
        band: SimANS's b.
        clusters: k of the corpus k-means.
        limit: sample size of pairwise statistics (pairwise distances, uniformity, MMD).
        use_checkpoints: re-measure with each kept checkpoint.
        trained: measure runs with their trained model too.
        umap: draw the map (t-SNE when umap-learn is missing).
        data_dir: a data root replacing the one in the pairs' manifest.
        cache_dir: the embedding cache.
        batch_size: encoding batch size.
        seed: seed of samples, k-means and the map.
        backend: how the (frozen) models encode: torch, onnx, onnx-int8, openvino, openvino-int8.
    """

    reference: str = "all-MiniLM-L6-v2"
    model: str | None = None
    judge: str | None = None
    temperature: float = 0.05
    band: float = -0.05
    clusters: int = 50
    limit: int = 2000
    use_checkpoints: bool = True
    trained: bool = True
    umap: bool = True
    data_dir: str | None = None
    cache_dir: str | None = None
    batch_size: int = 64
    seed: int = 0
    backend: str = "torch"
    show_progress_bar: bool = True


@dataclass
class Analysis:
    """What an analysis produced: the flat records, the score samples of the violins, the map's points, the
    refresh history of dynamic runs, timings and the inputs' fingerprints."""

    records: list[dict] = field(default_factory=list)
    scores: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    maps: dict[str, dict] = field(default_factory=dict)
    dynamics: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)


class _Models:
    """Models and their corpus vectors and k-means, loaded once per name and max sequence length."""

    def __init__(self, config: AnalyzeConfig):
        self.config = config
        self._models: dict[tuple, object] = {}
        self._corpus: dict[tuple, tuple[np.ndarray, object]] = {}

    def encoder(self, name: str, max_seq_length: int | None):
        from negmine.encode import Encoder
        from negmine.models import load_model

        key = (str(name), max_seq_length)
        if key not in self._models:
            self._models[key] = load_model(name, max_seq_length=max_seq_length)
        return Encoder(self._models[key], cache_dir=self.config.cache_dir, batch_size=self.config.batch_size,
                       show_progress_bar=self.config.show_progress_bar, backend=self.config.backend)  # fmt: skip

    def corpus(self, encoder, data) -> tuple[np.ndarray, object]:
        from negmine.encode import model_fingerprint

        key = (model_fingerprint(encoder.model), encoder.model.max_seq_length, data.name, len(data.corpus))
        if key not in self._corpus:
            vectors = encoder.encode(data.document_texts(list(data.corpus)), role="document")
            self._corpus[key] = (vectors, corpus_clusters(vectors, self.config.clusters, self.config.seed))
        return self._corpus[key]


def _check_dimensions(vectors: SetVectors, corpus: np.ndarray, model_name: str) -> None:
    if vectors.negatives.shape[1] != corpus.shape[1]:
        raise NegmineError(f"model {model_name} gives {vectors.negatives.shape[1]}-dimensional vectors but the corpus "
                           f"vectors are {corpus.shape[1]}-dimensional")  # fmt: skip


def analyze(targets: list[Target], config: AnalyzeConfig) -> Analysis:
    """Measure every target.

    Args:
        targets: from :func:`~negmine.analysis.targets.find_targets`.
        config: the settings.

    Returns:
        An :class:`Analysis`.

    Example:
        >>> targets, _ = find_targets(["runs/pairs"])  # doctest: +SKIP
        >>> analysis = analyze(targets, AnalyzeConfig())  # doctest: +SKIP
        >>> analysis.records[0]["hardness.margin.mean"]  # doctest: +SKIP
    """
    models = _Models(config)
    result = Analysis()
    judge = None
    if config.judge:
        from negmine.analysis.false_negatives import load_judge

        judge = load_judge(config.judge)
    for target in targets:
        clock = time.perf_counter()
        nset = load_negative_set(target.pairs)
        result.inputs[str(target.pairs / "pairs.parquet")] = _sha256(target.pairs / "pairs.parquet")
        data = load_pairs_data(nset.manifest, config.data_dir, target.pairs)
        qrels = dict(data.relevant_docs())
        if data.split == "train" and nset.manifest["parameters"].get("validation_fraction"):
            # the claims carved off for validation cite the same abstracts
            qrels.update(load_pairs_data(nset.manifest, config.data_dir, target.pairs, "validation").relevant_docs())
        sisters = sister_documents(qrels)
        max_len = (nset.manifest.get("model") or {}).get("max_seq_length")
        temperature, recipe = config.temperature, None
        if target.run is not None:
            from negmine.config import read_yaml

            # the run's resolved recipe (as written, not re-validated: it repeats what its sections derived)
            recipe = read_yaml((target.run / "recipe.yaml").read_text()) or {}
            temperature = 1.0 / float((recipe.get("loss") or {}).get("scale", 20.0))
            max_len = (recipe.get("model") or {}).get("max_seq_length") or max_len
        band = float(((nset.manifest.get("parameters") or {}).get("mining") or {}).get("simans_b", config.band))
        result.timings[f"{target.name}.load_s"] = time.perf_counter() - clock
        flags = judge_flags(judge, nset) if judge is not None else None
        run_keys = _run_keys(target, recipe)

        encoders = [("reference", config.reference, None)]
        if target.run is not None and config.trained and (target.run / "model" / "modules.json").is_file():
            encoders.append(("trained", str(target.run / "model"), _last_step(target.run)))
        elif target.run is None and config.model:
            encoders.append(("model", config.model, None))
        if target.run is not None and config.use_checkpoints:
            encoders += [(f"checkpoint-{step}", str(folder), step) for step, folder in checkpoints(target.run)]
        reference_vectors = None
        for role, name, step in encoders:
            clock = time.perf_counter()
            encoder = models.encoder(name, max_len)
            vectors = encode_set(nset, encoder)
            corpus, clusters = models.corpus(encoder, data)
            _check_dimensions(vectors, corpus, name)
            result.timings[f"{target.name}.{role}.encode_s"] = time.perf_counter() - clock
            clock = time.perf_counter()
            context = Context(corpus, clusters, sisters, temperature, band, config.limit, config.seed)
            label = {"set": target.name, "kind": "run" if target.run else "pairs", "encoder": role, "model": name,
                     "step": step, "negatives_at": target.pairs.name, **run_keys}  # fmt: skip
            if role == "reference" and target.pairs.name.startswith("refresh-"):
                label["step"] = (nset.manifest.get("refresh") or {}).get("step")
            with threadpool_limits(1, user_api="blas"):  # BLAS threads beside torch's oversubscribe the cores
                records = measure_set(nset, vectors, context, flags, label)
            if target.run is not None and role != "reference":
                records = _with_geometry(records, target, recipe, encoder, models.encoder(config.reference, max_len),
                                         data, config, step)  # fmt: skip
            result.records += records
            result.timings[f"{target.name}.{role}.measure_s"] = time.perf_counter() - clock
            if role == "reference":
                reference_vectors = vectors
                scores = triplet_scores(nset, vectors)
                sources = np.array(nset.negative_sources, dtype=object)[scores["negative"]]
                result.scores[target.name] = {"positive": scores["pos"], "negative": scores["neg"],
                                              "sources": sources}  # fmt: skip
        for folder in target.refreshes:
            # a dynamic run's later minings, measured with the reference encoder: how the negatives moved
            clock = time.perf_counter()
            later = load_negative_set(folder)
            encoder = models.encoder(config.reference, max_len)
            corpus, clusters = models.corpus(encoder, data)
            context = Context(corpus, clusters, sisters, temperature, band, config.limit, config.seed)
            entry = later.manifest.get("refresh") or {}
            label = {"set": target.name, "kind": "run", "encoder": "reference", "model": config.reference,
                     "step": entry.get("step"), "negatives_at": folder.name, **run_keys}  # fmt: skip
            with threadpool_limits(1, user_api="blas"):
                result.records += measure_set(later, encode_set(later, encoder), context, None, label)
            result.timings[f"{target.name}.{folder.name}_s"] = time.perf_counter() - clock
        if config.umap:
            result.maps[target.name] = _map_points(nset, reference_vectors, config.seed)
        if target.run is not None and (target.run / "dynamics.json").is_file():
            history = json.loads((target.run / "dynamics.json").read_text()).get("refresh", [])
            result.dynamics += [{"set": target.name, **{k: v for k, v in e.items() if not isinstance(v, (dict, list))}}
                                for e in history]  # fmt: skip
    return result


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _last_step(run: Path) -> int | None:
    log = run / "train_log.json"
    if not log.is_file():
        return None
    steps = [e.get("step") for e in json.loads(log.read_text()) if isinstance(e, dict) and e.get("step") is not None]
    return max(steps) if steps else None


def _run_keys(target: Target, recipe) -> dict:
    """A run's validation scores and recipe name, flattened: ``validation.ndcg@10`` ..."""
    if target.run is None:
        return {}
    keys = {"recipe": target.run.name.rsplit("-seed", 1)[0]}
    seed = target.run.name.rsplit("-seed", 1)
    keys["seed"] = int(seed[1]) if len(seed) == 2 and seed[1].isdigit() else (recipe.get("training") or {}).get("seed")
    metrics = target.run / "metrics.json"
    if metrics.is_file():
        for split, values in json.loads(metrics.read_text()).get("splits", {}).items():
            if split == "validation":  # the held-out splits stay out of analyses meant for tuning
                keys.update({f"validation.{k}": v for k, v in values.items()})
    return keys


def validation_pairs(recipe: dict, data_dir: str | None = None):
    """A run's validation split and its (claim, relevant document) texts, one pair a qrel, in a fixed order: the
    texts the geometry (alignment, uniformity, CKA) is measured on.

    Args:
        recipe: the run's recipe (its ``data`` section names the dataset and the validation carve).
        data_dir: a data root replacing the recipe's.

    Returns:
        ``(validation, claims, documents)``: the :class:`RetrievalData` and two aligned lists of texts (empty when
        the split has no qrels).

    Example:
        >>> _, claims, docs = validation_pairs({"data": {"dataset": "scifact"}})  # doctest: +SKIP
        >>> len(claims) == len(docs)  # doctest: +SKIP
        True
    """
    from negmine.data import load_retrieval
    from negmine.training.recipe import DataSection

    section = DataSection.model_validate(recipe.get("data") or {})
    options = section.source_options()
    options.update(data_dir=data_dir or options["data_dir"], extra_training=())
    validation = load_retrieval(section.dataset, "validation", **options)
    return (validation, *validation.judged_texts())


def _with_geometry(records, target, recipe, encoder, reference, data, config, step) -> list[dict]:
    """Add the model's alignment and uniformity on the validation split, CKA against the reference and the
    validation nDCG@10 of a checkpoint (from the trainer's log, else measured)."""
    validation, claims, docs = validation_pairs(recipe, config.data_dir)
    if not claims:
        return records
    q = encoder.encode(claims, role="query")
    d = encoder.encode(docs, role="document")
    rq, rd = reference.encode(claims, role="query"), reference.encode(docs, role="document")
    extra = model_geometry(q, d, np.concatenate([rq, rd]), limit=config.limit, seed=config.seed)
    extra.update(_checkpoint_ndcg(target.run, step, encoder, validation, records[0]["encoder"]))
    return [{**r, **extra} for r in records]


def _checkpoint_ndcg(run: Path, step, encoder, validation, role: str) -> dict:
    """A checkpoint's validation nDCG@10: from its trainer state's log when evaluated there, else measured with the
    (cached) corpus vectors. The trained model's is the run's own ``validation.ndcg@10``."""
    if role == "trained":
        return {}
    state = run / "checkpoints" / role / "trainer_state.json"
    if state.is_file():
        for entry in json.loads(state.read_text()).get("log_history", []):
            for key, value in entry.items():
                if entry.get("step") == step and key.startswith("eval_validation") and key.endswith("ndcg@10"):
                    return {"checkpoint.validation.ndcg@10": value}
    from negmine.evaluation import evaluate_model

    return {"checkpoint.validation.ndcg@10": evaluate_model(encoder.model, validation, encoder=encoder)["ndcg@10"]}


def _map_points(nset: NegativeSet, vectors: SetVectors, seed: int, limit: int = 1500) -> dict:
    """The vectors and kinds of at most ``limit`` points of each kind (claims, positives, negatives), seeded."""
    rng = np.random.default_rng(seed)

    def pick(n):
        return np.sort(rng.choice(n, min(n, limit), replace=False))

    a, p, n = pick(len(nset.anchors)), pick(len(nset.positives)), pick(len(nset.negatives))
    points = np.concatenate([vectors.anchors[a], vectors.positives[p], vectors.negatives[n]])
    kinds = ["claim"] * len(a) + ["positive"] * len(p) + [f"negative: {nset.negative_sources[i]}" for i in n]
    return {"vectors": points, "kinds": kinds}

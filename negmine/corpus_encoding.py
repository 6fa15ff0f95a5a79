"""``negmine encode``: a corpus's vectors written into negmine's embedding cache ahead of time, in one process
(or sentence-transformers' multi-process pool) or as a Ray Data job over a cluster, so that ``build-pairs``,
``eval`` and ``analyze`` find every vector there and encode nothing.

The work is planned as shards: the corpus's texts not yet in the cache, ``shard_size`` at a time. Each shard is
encoded and written atomically (:func:`negmine.shards.write_shard`: a temporary folder renamed into place), so a
worker killed mid-shard leaves no shard, and running the job again plans only the shards still missing. On Ray each
shard is one row of a Ray dataset, and ``map_batches`` runs a pool of actors that each load the model once
(``num_gpus=1`` per actor when the cluster has GPUs). The cache folder must be on storage every worker sees.

Reference:
    Moritz et al., "Ray: A Distributed Framework for Emerging AI Applications", OSDI 2018.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from negmine.errors import NegmineError

logger = logging.getLogger(__name__)


def load_corpus_texts(dataset: str, data_dir: str | None = None) -> list[str]:
    """The corpus's texts (title and text joined, as every negmine command encodes them), in corpus order."""
    from negmine.data import dataset_folder, load_retrieval

    folder = dataset_folder(dataset, data_dir)  # a missing data set is its own error, not "no split"
    for split in ("train", "test", "dev"):  # any split carries the whole corpus; train first
        try:
            data = load_retrieval(folder, split, validation_fraction=0)
        except NegmineError:
            continue
        return data.document_texts()
    raise NegmineError(f"{dataset}: no split to read its corpus from (qrels/train.tsv, test.tsv or dev.tsv)")


def plan_shards(keys: np.ndarray, folder: Path, shard_size: int) -> tuple[list[np.ndarray], int]:
    """Groups of text positions (first occurrence of each key) whose vectors the cache folder lacks.

    Args:
        keys: the texts' cache keys (:func:`negmine.encode.text_keys`).
        folder: the cache folder of the model, length, role and prompt.
        shard_size: texts a shard.

    Returns:
        The groups, each at most ``shard_size`` positions in corpus order, and how many distinct texts are cached.
    """
    from negmine.shards import iter_shards

    unique, first = np.unique(keys, return_index=True)
    cached = [shard.keys for shard in iter_shards(folder, mmap=True)]  # a damaged shard is set aside: re-planned
    known = np.isin(unique, np.concatenate(cached)) if cached else np.zeros(len(unique), dtype=bool)
    todo = np.sort(first[~known])
    return [todo[start : start + shard_size] for start in range(0, len(todo), shard_size)], int(known.sum())


class ShardEncoder:
    """A Ray actor (or a plain object): loads the model once, then encodes and writes whole shards.

    Args:
        model: the model name or path (resolved as every negmine command resolves it).
        max_seq_length: the model's maximum sequence length.
        batch_size: texts per forward pass.
        folder: the cache folder to write into.
        fingerprint: the model fingerprint the driver computed; a worker whose model differs (another version of
            the weights on that machine) refuses, rather than write vectors under the wrong key.
    """

    def __init__(self, model: str, max_seq_length: int | None, batch_size: int, folder: str, fingerprint: str):
        from negmine.encode import model_fingerprint
        from negmine.models import load_model

        self.model = load_model(model, max_seq_length=max_seq_length)
        found = model_fingerprint(self.model)
        if found != fingerprint:
            raise RuntimeError(f"model {model} has other weights on this worker (fingerprint {found[:12]}, the "
                               f"driver's {fingerprint[:12]})")  # fmt: skip
        from negmine.encode import Encoder

        self.encoder = Encoder(self.model, batch_size=batch_size, show_progress_bar=False, use_cache=False)
        self.folder = Path(folder)

    def __call__(self, batch: dict) -> dict:
        from negmine.shards import write_shard

        paths, counts = [], []
        for texts, keys in zip(batch["texts"], batch["keys"], strict=True):
            vectors = self.encoder._encode(list(texts), "document")  # the one encoding path every command uses
            paths.append(str(write_shard(self.folder, np.asarray(keys, dtype="S64"), vectors)))
            counts.append(len(texts))
        return {"path": paths, "count": counts}


def encode_corpus(
    dataset: str,
    model: str = "all-MiniLM-L6-v2",
    cache_dir: str | Path | None = None,
    data_dir: str | None = None,
    max_seq_length: int | None = None,
    batch_size: int = 64,
    shard_size: int = 4096,
    processes: int = 1,
    ray_address: str | None = None,
    workers: int = 2,
    show_progress_bar: bool = True,
) -> dict:
    """Encode the corpus of ``dataset`` into the embedding cache; return a report.

    Args:
        dataset: a name under the data root or a folder (SciFact release or BEIR layout).
        model: the model name or path.
        cache_dir: the cache root (default ``$NEGMINE_CACHE`` or ``~/.cache/negmine``).
        data_dir: the data root.
        max_seq_length: the model's maximum sequence length (the recipes use 128).
        batch_size: texts per forward pass.
        shard_size: texts a shard (the unit that survives an interruption and that a worker takes).
        processes: without Ray, local processes (sentence-transformers' multi-process pool) when above 1.
        ray_address: None: no Ray; ``local``: a Ray instance on this machine (or the one already initialised);
            ``auto`` or ``ray://host:port``: an existing cluster.
        workers: Ray actors, one model each.
        show_progress_bar: progress bars.

    Returns:
        ``{"texts", "distinct", "cached_before", "encoded", "shards_written", "folder", "engine", "seconds"}``.

    Example:
        >>> encode_corpus("scifact", max_seq_length=128, ray_address="local", workers=2)  # doctest: +SKIP
        {'texts': 5183, 'distinct': 5183, 'cached_before': 0, 'encoded': 5183, 'shards_written': 2, ...}
    """
    from negmine.encode import Encoder, model_fingerprint, text_keys
    from negmine.models import load_model

    if batch_size < 1 or shard_size < 1 or processes < 1 or workers < 1:
        raise NegmineError("batch_size, shard_size, processes and workers must be at least 1")
    start = time.perf_counter()
    if ray_address is not None:
        connect_ray(ray_address)  # first: a wrong address fails before the corpus and model load
    texts = load_corpus_texts(dataset, data_dir)
    encoder_model = load_model(model, max_seq_length=max_seq_length)
    encoder = Encoder(encoder_model, cache_dir=cache_dir, batch_size=batch_size, shard_size=shard_size,
                      show_progress_bar=False)  # fmt: skip  (the bar is over shards)
    folder = encoder.cache_folder("document")
    keys = text_keys(texts)
    groups, cached = plan_shards(keys, folder, shard_size)
    encoded = sum(len(g) for g in groups)
    report = {"texts": len(texts), "distinct": cached + encoded, "cached_before": cached, "encoded": encoded,
              "shards_written": len(groups), "folder": str(folder)}  # fmt: skip
    if not groups:
        engine = "none (all cached)"
    elif ray_address is not None:
        engine = _encode_on_ray(texts, keys, groups, folder, model, encoder_model.max_seq_length, batch_size,
                                model_fingerprint(encoder_model), ray_address, workers, show_progress_bar)  # fmt: skip
    else:
        engine = _encode_locally(texts, keys, groups, folder, encoder, processes, show_progress_bar)
    return {**report, "engine": engine, "seconds": round(time.perf_counter() - start, 2)}


def _encode_locally(texts, keys, groups, folder: Path, encoder, processes: int, show_progress_bar: bool) -> str:
    import torch
    from tqdm.auto import tqdm

    from negmine.shards import write_shard

    devices = [f"cuda:{i % torch.cuda.device_count()}" if torch.cuda.is_available() else "cpu"
               for i in range(processes)]  # fmt: skip
    pool = encoder.model.start_multi_process_pool(devices) if processes > 1 else None
    try:
        for group in tqdm(groups, desc="shards", disable=not show_progress_bar):
            chunk = [texts[i] for i in group]
            if pool is None:  # the Encoder's own path (and its backend)
                vectors = encoder._encode(chunk, "document")
            else:
                vectors = encoder.model.encode_document(chunk, batch_size=encoder.batch_size, convert_to_numpy=True,
                                                        normalize_embeddings=True, pool=pool,
                                                        show_progress_bar=False)  # fmt: skip
            write_shard(folder, keys[group], np.asarray(vectors, dtype=np.float32))
    finally:
        if pool is not None:
            encoder.model.stop_multi_process_pool(pool)
    return f"local, {processes} process{'es' if processes > 1 else ''}"


def _encode_on_ray(texts, keys, groups, folder: Path, model: str, max_seq_length: int, batch_size: int,
                   fingerprint: str, address: str, workers: int, show_progress_bar: bool) -> str:  # fmt: skip
    ray = connect_ray(address)
    gpus = ray.cluster_resources().get("GPU", 0)
    rows = [{"texts": [texts[i] for i in group], "keys": [bytes(k) for k in keys[group]]} for group in groups]
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
    try:
        written = dataset.map_batches(
            ShardEncoder,
            fn_constructor_kwargs={"model": model, "max_seq_length": max_seq_length, "batch_size": batch_size,
                                   "folder": str(folder), "fingerprint": fingerprint},  # fmt: skip
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=min(workers, len(rows))),
            num_gpus=1 if gpus else 0,
        ).take_all()
    except Exception as error:  # Ray wraps a worker's exception in its own types
        cause = getattr(error, "cause", None) or error
        message = str(cause).strip().splitlines()[-1] if str(cause).strip() else type(cause).__name__
        raise NegmineError(f"a Ray worker failed: {type(cause).__name__}: {message}") from None
    if sum(row["count"] for row in written) != sum(len(g) for g in groups):
        raise NegmineError(f"Ray wrote {len(written)} shards of {len(groups)} planned")
    return f"ray ({address}), {min(workers, len(rows))} workers" + (f", {int(gpus)} GPUs" if gpus else "")


def connect_ray(address: str):
    """The ``ray`` module, connected: the instance already initialised in this process, else ``local`` (a new one
    on this machine), ``auto`` (the cluster this machine belongs to) or a head's ``host:port`` / ``ray://host:port``.

    Raises:
        NegmineError: Ray missing (naming the extra), or no head at the address.
    """
    try:
        import ray
    except ImportError:
        raise NegmineError("--ray needs Ray: pip install 'negmine[distributed]'") from None
    if not ray.is_initialized():
        _check_reachable(address)
        try:
            ray.init(address=None if address == "local" else address, log_to_driver=False,
                     logging_level=logging.WARNING)  # fmt: skip
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise NegmineError(f"--ray {address}: cannot connect ({str(error).strip().splitlines()[0]})") from None
    return ray


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A TCP connection to ``host:port`` (or ``ray://host:port``) before ``ray.init``, which otherwise retries an
    unreachable head for minutes; ``local`` and ``auto`` are left to Ray."""
    import socket

    if address in ("local", "auto"):
        return
    where = address.removeprefix("ray://")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise NegmineError(f"--ray {address}: expected local, auto, host:port or ray://host:port")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise NegmineError(f"--ray {address}: no Ray head answers there ({error.strerror or error})") from None

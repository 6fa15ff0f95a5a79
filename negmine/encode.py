"""One encoder for corpus and queries: normalised embeddings, batches, progress bars, and an on-disk cache.

The cache key is the model's fingerprint (its weights and architecture), the maximum sequence length, the role
(query or document) with its prompt, and each text's hash, so a second run with the same model skips encoding
and a changed model never reads stale vectors. Shards are written atomically as they are encoded, so an
interrupted run resumes where it stopped; a shard damaged on disk fails its checksum and its texts are encoded
again (:mod:`negmine.shards`). An :class:`EmbeddingMemory` keeps the last model state's vectors in memory,
so the evaluator and a hard-negative refresh that see the same weights encode the corpus once between them.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np
import torch

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$NEGMINE_CACHE``, else ``~/.cache/negmine``."""
    return Path(os.environ.get("NEGMINE_CACHE") or Path.home() / ".cache" / "negmine")


def model_fingerprint(model: torch.nn.Module) -> str:
    """A SHA-256 of the model's architecture (its repr) and every weight, so fine-tuned weights get a new key.

    Args:
        model: a ``SentenceTransformer`` (any ``nn.Module`` works).

    Returns:
        A hex digest.

    Example:
        >>> model_fingerprint(model)[:12]  # doctest: +SKIP
        '3f9a0c1d2e4b'
    """
    digest = hashlib.sha256(repr(model).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def text_keys(texts: list[str]) -> np.ndarray:
    """Hex SHA-256 digests of the texts, as a ``(n,)`` array of 64-byte strings."""
    digests = (hashlib.sha256(t.encode("utf-8")).hexdigest().encode() for t in texts)
    return np.fromiter(digests, dtype="S64", count=len(texts))  # no list of 10M bytes objects on the way


def token_counts(model, texts: list[str]) -> np.ndarray:
    """How many tokens the model reads of each text (special tokens counted, cut at its ``max_seq_length``), so
    that a batch of texts of equal counts carries no padding; character counts where the model has no fast
    Hugging Face tokenizer.

    Sorting by characters, as ``SentenceTransformer.encode`` does, pads SciFact's 5,183 abstracts at 256 tokens
    to 1,301,336 tokens in batches of 64, against 1,242,251 read; sorted by these counts, 1,247,634.

    Args:
        model: a ``SentenceTransformer`` (any backend).
        texts: the texts.

    Returns:
        An int64 array of shape ``(len(texts),)``.

    Example:
        >>> token_counts(model, ["a claim", "a much longer abstract about the claim"]).tolist()  # doctest: +SKIP
        [4, 9]
    """
    backend = getattr(getattr(model, "tokenizer", None), "backend_tokenizer", None)
    if backend is None or not texts:
        return np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    from tokenizers import Tokenizer

    counter = Tokenizer.from_str(backend.to_str())  # a copy: the model's own keeps the padding its last call set
    counter.no_padding()
    counter.no_truncation()
    # 64 texts at a time: counting 1,024 or all at once left the heap such that encoding peaked 0.1-0.3 GiB higher
    chunks = (counter.encode_batch_fast(texts[start : start + 64]) for start in range(0, len(texts), 64))
    counts = np.fromiter((len(e) for chunk in chunks for e in chunk), dtype=np.int64, count=len(texts))
    limit = getattr(model, "max_seq_length", None)
    return np.minimum(counts, limit) if limit else counts


def key_prefixes(keys: np.ndarray) -> np.ndarray:
    """The first 16 hex digits of each key as one ``uint64``: an eighth of the memory for matching millions of
    keys (equal prefixes are then checked on the full keys).

    Example:
        >>> key_prefixes(np.array([b"00000000000000ff" + b"0" * 48], dtype="S64")).tolist()
        [255]
    """
    digits = np.ascontiguousarray(keys, dtype="S64").view(np.uint8).reshape(-1, 64)
    shifts = np.arange(15, -1, -1, dtype=np.uint64) * np.uint64(4)
    out = np.empty(len(digits), dtype=np.uint64)
    for start in range(0, len(digits), 1 << 20):  # in blocks: the nibbles of 10M keys would be 1.3 GB
        block = digits[start : start + (1 << 20), :16]
        nibbles = np.where(block >= ord("a"), block - ord("a") + 10, block - ord("0")).astype(np.uint64)
        out[start : start + len(block)] = (nibbles << shifts).sum(axis=1, dtype=np.uint64)
    return out


class EmbeddingMemory:
    """The vectors of the last model state seen, per role, in memory: for models in training, whose weights are
    too short-lived for the disk cache but are often encoded twice (the end-of-epoch evaluation, then a refresh of
    hard negatives at the start of the next epoch, with the same weights).

    The state is the model's fingerprint, maximum sequence length and prompt; a new state replaces the old one.

    Example:
        >>> memory = EmbeddingMemory()
        >>> first = Encoder(model, use_cache=False, memory=memory).encode(texts)  # doctest: +SKIP
        >>> again = Encoder(model, use_cache=False, memory=memory)  # doctest: +SKIP
        >>> _ = again.encode(texts); again.last_encoded  # doctest: +SKIP
        0
    """

    def __init__(self):
        self._states: dict[str, tuple[tuple, dict[bytes, np.ndarray]]] = {}

    def get(self, state: tuple, role: str, keys: list[bytes]) -> np.ndarray | None:
        """All the vectors of ``keys`` for ``state`` and ``role``, or None unless every one is held."""
        held_state, vectors = self._states.get(role, (None, {}))
        if held_state != state or not keys or any(key not in vectors for key in keys):
            return None
        return np.stack([vectors[key] for key in keys])

    def put(self, state: tuple, role: str, keys: list[bytes], vectors: np.ndarray) -> None:
        """Hold ``vectors`` (rows in the order of ``keys``) for ``state`` and ``role``; another state is dropped."""
        held_state, held = self._states.get(role, (None, {}))
        if held_state != state:
            held = {}
        held.update(zip(keys, vectors, strict=True))
        self._states[role] = (state, held)


class Encoder:
    """Encode texts with a sentence-transformers model into L2-normalised float32 vectors, with a disk cache.

    Args:
        model: a ``SentenceTransformer``.
        cache_dir: where the cache lives (default :func:`default_cache_dir`); ``None`` with ``use_cache=False``
            turns it off.
        batch_size: texts per forward pass.
        shard_size: texts per cache shard; a shard is the unit that survives an interruption.
        show_progress_bar: progress bars while encoding.
        use_cache: read and write the cache.
        memory: an :class:`EmbeddingMemory` read before the cache (or encoding) and written after.
        backend: ``torch`` (the model as given), ``onnx``, ``onnx-int8``, ``openvino`` or ``openvino-int8``
            (:mod:`negmine.backends`: for frozen models; exported once, kept in ``cache_dir/exports``). The cache
            keeps each backend's vectors apart.
        calibration_texts: texts ``openvino-int8`` calibrates on (default: the first texts it is asked to encode).
        prompts: role (``query`` / ``document``) -> a prompt string put before each text, instead of the model's own
            prompt for that role (sentence-transformers' ``prompt=``); part of the cache key.
        pool: a multi-process pool (``model.start_multi_process_pool()``) that torch encoding runs on.

    Example:
        >>> encoder = Encoder(load_model("all-MiniLM-L6-v2"), cache_dir="~/.cache/negmine")  # doctest: +SKIP
        >>> docs = encoder.encode(data.document_texts(), role="document")  # doctest: +SKIP
        >>> docs.shape, docs.dtype  # doctest: +SKIP
        ((5183, 384), dtype('float32'))
    """

    def __init__(
        self,
        model,
        cache_dir: str | Path | None = None,
        batch_size: int = 64,
        shard_size: int = 4096,
        show_progress_bar: bool = True,
        use_cache: bool = True,
        memory: EmbeddingMemory | None = None,
        backend: str = "torch",
        calibration_texts: list[str] | None = None,
        prompts: dict[str, str] | None = None,
        pool=None,
    ):
        from negmine.backends import check_backend

        check_backend(backend)
        self.backend = backend
        self.calibration_texts = calibration_texts
        self.prompts = dict(prompts or {})
        self.pool = pool
        self._backend_model = None
        self.model = model
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.batch_size = batch_size
        self.shard_size = shard_size
        self.show_progress_bar = show_progress_bar
        self.use_cache = use_cache
        self.memory = memory
        self.last_encoded = 0  # how many texts the last call had to encode (0 when all came from the cache)

    def cache_folder(self, role: str) -> Path:
        """The cache folder for this model, sequence length, role and prompt."""
        prompt = self._prompt(role) or ""
        prompt_hash = hashlib.sha256(prompt.encode()).hexdigest()[:8]
        name = f"{model_fingerprint(self.model)[:24]}-len{self.model.max_seq_length}-{role}-{prompt_hash}"
        return self.cache_dir / (name if self.backend == "torch" else f"{name}-{self.backend}")

    def _prompt(self, role: str) -> str | None:
        if role in self.prompts:
            return self.prompts[role]
        prompts = getattr(self.model, "prompts", None) or {}
        return prompts.get(role)

    def encode(self, texts: list[str], role: str = "document") -> np.ndarray:
        """Embeddings for ``texts`` in their order, from the cache where present.

        Args:
            texts: the texts.
            role: ``document`` (``model.encode_document``) or ``query`` (``model.encode_query``), which may apply
                different prompts.

        Returns:
            A float32 array of shape ``(len(texts), dim)`` with unit rows.
        """
        if role not in ("document", "query"):
            raise ValueError(f"role must be 'document' or 'query', got {role!r}")
        if self.memory is None:
            return self._encode_cached(texts, role)
        keys = text_keys(texts).tolist()
        state = (model_fingerprint(self.model), self.model.max_seq_length, self._prompt(role), self.backend)
        held = self.memory.get(state, role, keys)
        if held is not None:
            self.last_encoded = 0
            return held
        vectors = self._encode_cached(texts, role)
        self.memory.put(state, role, keys, vectors)
        return vectors

    def encode_to_disk(self, texts: list[str], role: str = "document"):
        """The vectors of ``texts`` left on disk: texts missing from the cache are encoded shard by shard and
        written there, and the result reads rows from the memory-mapped shards on demand, so a corpus larger than
        memory never has all its vectors in memory at once (the streamed search path, :mod:`negmine.search.streamed`).

        Args:
            texts: the texts.
            role: ``document`` or ``query``, as in :meth:`encode`.

        Returns:
            A :class:`~negmine.search.streamed.RowView`: ``view[i]`` is the vector of ``texts[i]``.

        Example:
            >>> view = Encoder(model, cache_dir="cache").encode_to_disk(corpus_texts)  # doctest: +SKIP
            >>> view[np.array([0, 5])].shape  # doctest: +SKIP
            (2, 384)
        """
        from negmine.errors import NegmineError
        from negmine.search.streamed import RowView, ShardedVectors
        from negmine.shards import iter_shards, shard_paths

        if role not in ("document", "query"):
            raise ValueError(f"role must be 'document' or 'query', got {role!r}")
        if not self.use_cache:
            raise NegmineError("vectors on disk need the embedding cache (use_cache=True)")
        folder = self.cache_folder(role)
        keys = text_keys(texts)
        prefixes = key_prefixes(keys)  # matched as uint64: millions of keys in little memory
        cached = [key_prefixes(shard.keys) for shard in iter_shards(folder, mmap=True)]  # checksums verified
        unique, first = np.unique(prefixes, return_index=True)
        todo = np.sort(first[~np.isin(unique, np.concatenate(cached))] if cached else first)
        self.last_encoded = len(todo)
        if len(todo):
            logger.info("encoding %d of %d texts into %s", len(todo), len(texts), folder)
        for start in range(0, len(todo), self.shard_size):
            chosen = todo[start : start + self.shard_size]
            vectors = self._encode([texts[i] for i in chosen], role)
            self._write_shard(folder, keys[chosen], vectors)
        paths = shard_paths(folder)
        if any(path.suffix == ".npz" for path in paths):
            raise NegmineError(f"{folder}: holds older .npz shards that cannot be memory-mapped; "
                               "point --cache-dir at a new folder")  # fmt: skip
        every = np.concatenate([key_prefixes(np.load(path / "keys.npy")) for path in paths]) if paths else prefixes[:0]
        order = np.argsort(every, kind="stable")
        at = np.clip(np.searchsorted(every[order], prefixes), 0, max(len(every) - 1, 0))
        rows = order[at] if len(every) else np.zeros(0, dtype=np.int64)
        del order, at, every
        vectors = ShardedVectors(paths)
        shard_of = np.searchsorted(vectors.offsets, rows, side="right") - 1
        by_shard = np.argsort(shard_of, kind="stable")
        bounds = np.searchsorted(shard_of[by_shard], np.arange(len(paths) + 1))
        for shard, path in enumerate(paths):  # the full keys, shard by shard: a prefix shared by two texts fails here
            mine = by_shard[bounds[shard] : bounds[shard + 1]]
            if len(mine) and not np.array_equal(np.load(path / "keys.npy")[rows[mine] - vectors.offsets[shard]],
                                                keys[mine]):  # fmt: skip
                raise NegmineError(f"{folder}: texts missing from the cache after encoding, or two texts whose keys "
                                   "share 16 hex digits")  # fmt: skip
        return RowView(vectors, rows)

    def in_memory(self, texts: list[str], role: str = "document") -> bool:
        """Whether the :class:`EmbeddingMemory` holds every text's vector for this model state (no encoding)."""
        if self.memory is None or not texts:
            return False
        state = (model_fingerprint(self.model), self.model.max_seq_length, self._prompt(role), self.backend)
        return self.memory.get(state, role, text_keys(texts).tolist()) is not None

    def _encode_cached(self, texts: list[str], role: str) -> np.ndarray:
        if not self.use_cache:
            self.last_encoded = len(texts)
            return self._encode(list(texts), role)
        keys = text_keys(texts).tolist()
        folder = self.cache_folder(role)
        found = self._load_cached(folder, set(keys), self._dimension())
        first_index: dict[bytes, int] = {}
        for i, key in enumerate(keys):
            first_index.setdefault(key, i)
        todo = [key for key in first_index if key not in found]
        self.last_encoded = len(todo)
        if todo:
            logger.info("encoding %d of %d texts (%d cached) in %s", len(todo), len(texts), len(found), folder)
        for start in range(0, len(todo), self.shard_size):
            shard_keys = todo[start : start + self.shard_size]
            vectors = self._encode([texts[first_index[key]] for key in shard_keys], role)
            self._write_shard(folder, np.array(shard_keys, dtype="S64"), vectors)
            found.update(zip(shard_keys, vectors, strict=True))
        if not keys:
            return np.zeros((0, self._dimension() or 0), dtype=np.float32)
        return np.stack([found[key] for key in keys])

    def encoding_model(self, texts: list[str] | None = None):
        """The model that encodes: ``model`` itself on torch, else its export for the backend (made once)."""
        if self.backend == "torch":
            return self.model
        if self._backend_model is None:
            from negmine.backends import backend_model

            self._backend_model = backend_model(self.model, self.backend, self.cache_dir,
                                                model_fingerprint(self.model),
                                                self.calibration_texts or list(texts or []))  # fmt: skip
        return self._backend_model

    def _encode(self, texts: list[str], role: str) -> np.ndarray:
        """Encode in batches of texts of equal token counts (:func:`token_counts`): sentence-transformers sorts by
        characters, which pads each batch to its longest text in tokens; a multi-process pool gets one call."""
        from tqdm.auto import tqdm

        model = self.encoding_model(texts)
        encode = model.encode_query if role == "query" else model.encode_document
        options = {
            **({"prompt": self.prompts[role]} if role in self.prompts else {}),
            "batch_size": self.batch_size,
            "convert_to_numpy": True,
            "normalize_embeddings": True,
        }
        if not texts or (self.pool is not None and self.backend == "torch"):
            pool = {"pool": self.pool} if self.pool is not None and self.backend == "torch" else {}
            vectors = encode(texts, **pool, show_progress_bar=self.show_progress_bar, **options)
            return np.asarray(vectors, dtype=np.float32)
        order = np.argsort(-token_counts(model, texts), kind="stable")  # longest first, as sentence-transformers
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        encoded = [encode([texts[i] for i in batch], show_progress_bar=False, **options)
                   for batch in tqdm(batches, desc="Batches", disable=not self.show_progress_bar)]  # fmt: skip
        vectors = np.empty((len(texts), encoded[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(encoded)
        return vectors

    def _dimension(self) -> int | None:
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return dimension()

    @staticmethod
    def _load_cached(folder: Path, wanted: set[bytes], dimension: int | None = None) -> dict[bytes, np.ndarray]:
        from negmine.errors import NegmineError
        from negmine.shards import iter_shards

        found: dict[bytes, np.ndarray] = {}
        for shard in iter_shards(folder):  # a damaged shard is set aside and its texts encoded again
            keys, vectors = shard.keys, shard.vectors
            if dimension and vectors.ndim == 2 and vectors.shape[1] != dimension:
                raise NegmineError(f"{shard.path}: cached {vectors.shape[1]}-dimensional vectors, but the model gives "
                                   f"{dimension}; delete {folder} or point --cache-dir elsewhere")  # fmt: skip
            for key, vector in zip(keys.tolist(), vectors, strict=True):
                if key in wanted:
                    found[key] = vector
        return found

    @staticmethod
    def _write_shard(folder: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
        from negmine.shards import write_shard

        write_shard(folder, keys, vectors)

"""Embedding-cache shards: a folder ``NAME.shard/`` with ``keys.npy`` (the texts' SHA-256), ``embeddings.npy``
(float32 rows) and ``meta.json`` (count, dimension and CRC-32 checksums of both arrays).

A shard is written into a temporary folder, flushed to disk and renamed into place, so an interrupted write leaves
no shard at all; a shard damaged later (a truncated file, a flipped byte) fails its checksum and is set aside, and its
texts are encoded again, never read as vectors. The arrays are plain ``.npy`` files, so a reader can memory-map them
(``mmap_mode="r"``) and read a few rows of a corpus far larger than memory. Shards of the older single-file format
(``NAME.npz``) are still read.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)
SUFFIX = ".shard"


def checksum(array: np.ndarray, chunk_rows: int = 65_536) -> int:
    """CRC-32 of an array's bytes (read in chunks, so a memory-mapped array is never loaded whole)."""
    value = 0
    flat = array.reshape(len(array), -1) if array.ndim else array.reshape(1, -1)
    for start in range(0, len(flat), chunk_rows):
        value = zlib.crc32(np.ascontiguousarray(flat[start : start + chunk_rows]).tobytes(), value)
    return value


@dataclass
class Shard:
    """One shard: its path, keys ``(n,)`` S64 and vectors ``(n, dim)`` float32 (memory-mapped when asked)."""

    path: Path
    keys: np.ndarray
    vectors: np.ndarray


def write_shard(folder: Path, keys: np.ndarray, vectors: np.ndarray) -> Path:
    """Write one shard atomically into ``folder``; its name is a hash of its keys.

    Args:
        folder: the cache folder of a model, length, role and prompt.
        keys: ``(n,)`` S64 text keys.
        vectors: ``(n, dim)`` float32 rows in the order of ``keys``.

    Returns:
        The shard's path.

    Example:
        >>> import tempfile
        >>> keys = np.array([b"a" * 64, b"b" * 64], dtype="S64")
        >>> path = write_shard(Path(tempfile.mkdtemp()), keys, np.eye(2, dtype="float32"))
        >>> read_shard(path).vectors.tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    keys = np.asarray(keys, dtype="S64")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(keys) != len(vectors):
        raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
    target = folder / f"{hashlib.sha256(keys.tobytes()).hexdigest()[:16]}{SUFFIX}"
    tmp = Path(tempfile.mkdtemp(dir=folder, suffix=".tmp"))
    try:
        meta = {"count": len(keys), "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
                "crc32_keys": checksum(keys), "crc32_embeddings": checksum(vectors)}  # fmt: skip
        for name, array in (("keys.npy", keys), ("embeddings.npy", vectors)):
            with open(tmp / name, "wb") as out:
                np.save(out, array)
                out.flush()
                os.fsync(out.fileno())
        (tmp / "meta.json").write_text(json.dumps(meta) + "\n")
        if target.exists():  # the same keys again (a re-encode after damage): replace
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def read_shard(path: Path, mmap: bool = False, verify: bool = True) -> Shard:
    """Read a shard (``.shard`` folder or legacy ``.npz``).

    Args:
        path: the shard.
        mmap: memory-map the vectors instead of reading them.
        verify: check the CRC-32 checksums (every byte is read once).

    Returns:
        A :class:`Shard`.

    Raises:
        ValueError: the shard is damaged (missing file, wrong size, checksum mismatch).
    """
    if path.suffix == ".npz":
        try:
            with np.load(path) as arrays:
                return Shard(path, arrays["keys"], arrays["embeddings"])
        except Exception as error:  # a damaged zip raises several kinds
            raise ValueError(f"{path}: unreadable ({error})") from None
    try:
        meta = json.loads((path / "meta.json").read_text())
        keys = np.load(path / "keys.npy")
        vectors = np.load(path / "embeddings.npy", mmap_mode="r" if mmap else None)
    except (OSError, ValueError, EOFError) as error:
        raise ValueError(f"{path}: unreadable ({error})") from None
    if len(keys) != meta["count"] or len(vectors) != meta["count"]:
        raise ValueError(f"{path}: {len(keys)} keys and {len(vectors)} vectors, meta.json says {meta['count']}")
    if verify and (checksum(keys) != meta["crc32_keys"] or checksum(vectors) != meta["crc32_embeddings"]):
        raise ValueError(f"{path}: checksum mismatch")
    return Shard(path, keys, vectors)


def shard_paths(folder: Path) -> list[Path]:
    """The shards in ``folder``, legacy ``.npz`` ones included, in name order."""
    if not folder.is_dir():
        return []
    return sorted([*folder.glob(f"*{SUFFIX}"), *folder.glob("*.npz")])


def iter_shards(folder: Path, mmap: bool = False, verify: bool = True) -> Iterator[Shard]:
    """Every readable shard in ``folder``; a damaged one is logged, set aside (``.damaged``) and skipped, so its
    texts count as not cached and are encoded again."""
    for path in shard_paths(folder):
        try:
            yield read_shard(path, mmap=mmap, verify=verify)
        except ValueError as error:
            logger.warning("damaged cache shard, its texts will be encoded again: %s", error)
            set_aside(path)


def set_aside(path: Path) -> None:
    """Rename a damaged shard to ``*.damaged`` (kept for inspection, never read again)."""
    target = path.with_name(path.name + ".damaged")
    if target.exists():
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    os.replace(path, target)

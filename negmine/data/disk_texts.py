"""Texts kept on disk: an Arrow file written as a stream and memory-mapped, read back by position.

A corpus larger than memory cannot be a Python list of strings. :class:`DiskTextsWriter` appends texts to an Arrow
IPC file in record batches (Apache Arrow's columnar format, the one ``datasets`` memory-maps), and
:class:`DiskTexts` maps that file and reads one text, a slice or a list of positions without loading the rest:
the operating system pages in what is read and may drop it again, so the process holds no copy of the corpus.
The file is deleted when the :class:`DiskTexts` that owns it is garbage-collected (or at exit).

References:
    Apache Arrow, "Streaming, Serialization, and IPC" (the IPC file format, memory-mapped reads);
    Lhoest et al., "Datasets: A Community Library for Natural Language Processing", EMNLP 2021 (Arrow-backed,
    memory-mapped tables).
"""

from __future__ import annotations

import os
import tempfile
import weakref
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

BATCH = 8192


class DiskTextsWriter:
    """Appends texts to a new Arrow file under ``folder``; :meth:`close` returns them as :class:`DiskTexts`.

    Args:
        folder: where the file goes (a disk with room for the texts; created if missing).
        batch: texts a record batch (the unit written and later paged in).

    Example:
        >>> import tempfile
        >>> writer = DiskTextsWriter(tempfile.mkdtemp())
        >>> for text in ["a", "bé", "c"]:
        ...     _ = writer.append(text)
        >>> texts = writer.close()
        >>> len(texts), texts[1], texts[1:], texts[[2, 0]]
        (3, 'bé', ['bé', 'c'], ['c', 'a'])
    """

    def __init__(self, folder: str | Path, batch: int = BATCH):
        import pyarrow as pa

        Path(folder).mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="negmine-texts-", suffix=".arrow", dir=folder)
        os.close(handle)
        self.path = Path(name)
        self._schema = pa.schema([("text", pa.large_string())])
        self._sink = pa.OSFile(name, "wb")
        self._writer = pa.ipc.new_file(self._sink, self._schema)
        self._pending: list[str] = []
        self._batch = batch
        self.count = 0

    def append(self, text: str) -> int:
        """Append one text; returns its position."""
        self._pending.append(text)
        if len(self._pending) >= self._batch:
            self._flush()
        self.count += 1
        return self.count - 1

    def _flush(self) -> None:
        import pyarrow as pa

        if self._pending:
            self._writer.write_batch(pa.record_batch([pa.array(self._pending, pa.large_string())], self._schema))
            self._pending = []

    def close(self) -> DiskTexts:
        """Finish the file and map it."""
        self._flush()
        self._writer.close()
        self._sink.close()
        return DiskTexts(self.path, owned=True)

    def abort(self) -> None:
        """Close and delete the unfinished file (after an error)."""
        try:
            self._writer.close()
            self._sink.close()
        finally:
            self.path.unlink(missing_ok=True)


class DiskTexts(Sequence):
    """A read-only sequence of texts memory-mapped from an Arrow file of one ``text`` column.

    ``texts[i]`` is one text, ``texts[a:b]`` and ``texts[[i, j, ...]]`` (or a NumPy index array) lists of texts;
    nothing else is read.

    Args:
        path: the Arrow IPC file (as :class:`DiskTextsWriter` writes it).
        owned: delete the file when this object is garbage-collected.

    Example:
        >>> texts = write_texts(["x", "y"], tempfile.mkdtemp())
        >>> list(texts), "y" in texts
        (['x', 'y'], True)
    """

    def __init__(self, path: str | Path, owned: bool = False):
        import pyarrow as pa

        self.path = Path(path)
        source = pa.memory_map(str(self.path), "r")
        self._column = pa.ipc.open_file(source).read_all().column("text")  # zero-copy views of the mapped file
        self._chunks = self._column.chunks
        self._starts = [0, *np.cumsum([len(c) for c in self._chunks]).tolist()]
        if owned:
            weakref.finalize(self, _remove, str(self.path))

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._column.slice(*_bounds(index, len(self))).to_pylist() if index.step in (None, 1) else [
                self[i] for i in range(*index.indices(len(self)))]  # fmt: skip
        if isinstance(index, int | np.integer):
            i = int(index)
            if i < 0:
                i += len(self)
            if not 0 <= i < len(self):
                raise IndexError(f"text {index} of {len(self)}")
            chunk = bisect_right(self._starts, i) - 1
            return self._chunks[chunk][i - self._starts[chunk]].as_py()
        positions = np.asarray(index, dtype=np.int64)
        if len(positions) and (positions.min() < -len(self) or positions.max() >= len(self)):
            raise IndexError(f"a position outside the {len(self)} texts")
        return self._column.take(np.where(positions < 0, positions + len(self), positions)).to_pylist()

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks:  # a batch at a time: never the whole column as Python strings
            yield from chunk.to_pylist()

    def __repr__(self) -> str:
        return f"DiskTexts({len(self)} texts in {self.path})"


def write_texts(texts: Iterable[str], folder: str | Path, batch: int = BATCH) -> DiskTexts:
    """Write ``texts`` to a new Arrow file under ``folder`` and map it (deleted with the returned object).

    Example:
        >>> write_texts(["a", "b"], tempfile.mkdtemp())[0]
        'a'
    """
    writer = DiskTextsWriter(folder, batch)
    try:
        for text in texts:
            writer.append(text)
    except BaseException:
        writer.abort()
        raise
    return writer.close()


def _bounds(index: slice, length: int) -> tuple[int, int]:
    start, stop, _ = index.indices(length)
    return start, max(0, stop - start)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

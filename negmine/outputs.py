"""Writing results safely: no silent overwrite, no partial files (write to a temporary path, then rename)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from negmine.errors import NegmineError


def check_writable(path: str | Path, overwrite: bool) -> Path:
    """Fail early (before any long work) when ``path`` exists and ``overwrite`` is False."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise NegmineError(f"{path} already exists (pass --overwrite to replace it)")
    return path


@contextmanager
def atomic_folder(out: str | Path) -> Iterator[Path]:
    """A temporary sibling folder to write into; on success it replaces ``out`` (an existing one is removed: check
    ``--overwrite`` first with :func:`check_writable`), on any error it is deleted and ``out`` is left as it was.

    Example:
        >>> with atomic_folder("runs/report") as tmp:  # doctest: +SKIP
        ...     (tmp / "metrics.json").write_text("[]")
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial-"))
    try:
        yield tmp
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(path: str | Path, text: str, overwrite: bool = False) -> Path:
    """Write ``text`` atomically (a temporary file in the same folder, then a rename).

    Args:
        path: the target file; its folder is created.
        text: the content.
        overwrite: replace an existing file.

    Returns:
        The path written.

    Example:
        >>> write_text(tmp_path / "audit.csv", "query_id,decision\\n")  # doctest: +SKIP
    """
    path = check_writable(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def json_default(value):
    """``json.dumps``' ``default``: numpy scalars and arrays as Python numbers and lists, anything else as its text.

    Example:
        >>> import json, numpy as np
        >>> json.dumps({"n": np.int64(3), "v": np.array([0.5])}, default=json_default)
        '{"n": 3, "v": [0.5]}'
    """
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def write_json(path: str | Path, data: object, overwrite: bool = False) -> Path:
    """Write ``data`` as indented JSON atomically.

    Args:
        path: the target file; its folder is created.
        data: anything ``json.dumps`` takes.
        overwrite: replace an existing file.

    Returns:
        The path written.

    Example:
        >>> write_json(tmp_path / "metrics.json", {"ndcg@10": 0.7})  # doctest: +SKIP
    """
    return write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n", overwrite)


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """A Markdown table; floats with 4 decimals, ``None`` (a value that does not exist, e.g. a p-value from one
    seed) as ``-``.

    Example:
        >>> print(markdown_table([{"model": "bm25", "ndcg@10": 0.71234, "p": None}], ["model", "ndcg@10", "p"]))
        | model | ndcg@10 | p |
        | --- | --- | --- |
        | bm25 | 0.7123 | - |
    """

    def cell(value):
        if value is None:
            return "-"
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def emit_benchmark(result: dict, json_path: str | Path | None, vertical: bool = False) -> None:
    """Print a benchmark's result as a Markdown table (one row, or one metric a row when ``vertical``) and write
    it as JSON when ``json_path`` is given (the benchmarks' common ending)."""
    rows = [{"metric": k, "value": v} for k, v in result.items()] if vertical else [result]
    print(markdown_table(rows, list(rows[0])))
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(result, indent=2) + "\n")

"""Reading JSON-lines files record by record, with errors that name the file, the line and the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from negmine.errors import DataError, describe_validation_error

RecordT = TypeVar("RecordT", bound=BaseModel)


def iter_jsonl(path: str | Path, schema: type[RecordT]) -> Iterator[tuple[int, RecordT]]:
    """Yield ``(line_number, record)`` for every non-blank line of a JSON-lines file, validated by ``schema``.

    Args:
        path: the file to read.
        schema: a pydantic model for one line; unknown keys are allowed unless the model forbids them.

    Returns:
        An iterator of 1-based line numbers and validated records.

    Raises:
        DataError: ``FILE:LINE: invalid JSON ...``, ``FILE:LINE: not valid UTF-8 ...``,
            ``FILE:LINE: missing field 'x'`` or ``FILE:LINE: field 'x': ...``; ``FILE: file not found``.

    Example:
        >>> for line, record in iter_jsonl("corpus.jsonl", BeirDocument):  # doctest: +SKIP
        ...     print(line, record.id)  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    for line_number, line in utf8_lines(path):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{path}:{line_number}: invalid JSON ({error.msg}, column {error.colno})") from None
        if not isinstance(raw, dict):
            raise DataError(f"{path}:{line_number}: expected a JSON object, got {type(raw).__name__}")
        try:
            yield line_number, schema.model_validate(raw)
        except ValidationError as error:
            raise DataError(f"{path}:{line_number}: {describe_validation_error(error)}") from None


def utf8_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line_number, text)`` of each line of a text file, decoded as UTF-8 one line at a time, so that a bad byte
    is a :class:`DataError` naming the line (not a ``UnicodeDecodeError`` traceback).

    Example:
        >>> next(utf8_lines(Path("corpus.jsonl")))  # doctest: +SKIP
        (1, '{"_id": "1", ...}\\n')
    """
    with Path(path).open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            try:
                yield line_number, raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataError(f"{path}:{line_number}: not valid UTF-8 (byte 0x{raw[error.start]:02x} at column "
                                f"{error.start + 1})") from None  # fmt: skip


def check_unique(path: Path, seen: dict[str, int], key: str, line_number: int) -> None:
    """Record ``key`` as seen on ``line_number``; raise a DataError naming both lines if it was seen before."""
    first = seen.setdefault(key, line_number)
    if first != line_number:
        raise DataError(f"{path}:{line_number}: duplicate id '{key}' (first on line {first})")

"""Errors meant for the user: the CLI prints their message on one line and exits non-zero, without a traceback."""

from __future__ import annotations


class NegmineError(Exception):
    """A mistake in the user's input or setup, explained in one line."""


class DataError(NegmineError, ValueError):
    """A data file that cannot be read as it is; the message names the file, the line and the field."""


def describe_validation_error(error) -> str:
    """The first problem of a pydantic ``ValidationError`` in one line: ``missing field 'a'``,
    ``field 'a.b': message``, or the message alone for a check of the whole object.

    Example:
        >>> from pydantic import BaseModel, ValidationError
        >>> class Claim(BaseModel):
        ...     id: int
        >>> try:
        ...     Claim()
        ... except ValidationError as error:
        ...     print(describe_validation_error(error))
        missing field 'id'
    """
    first = error.errors()[0]
    # a union's branch shows up in the path as its class name (``pairs.PairsConfig.mining``): leave it out
    parts = [str(p) for p in first["loc"] if not (isinstance(p, str) and p[:1].isupper() and p.isidentifier())]
    field = ".".join(parts)
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        return f"missing field '{field}'"
    return f"field '{field}': {message}" if field else message

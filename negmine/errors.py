"""Errors meant for the user: the CLI prints their message on one line and exits non-zero, without a traceback."""

from __future__ import annotations


class NegmineError(Exception):
    """A mistake in the user's input or setup, explained in one line."""


class DataError(NegmineError, ValueError):
    """A data file that cannot be read as it is; the message names the file, the line and the field."""

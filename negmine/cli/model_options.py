"""Command-line options generated from a pydantic model's fields, so that a setting's name, type, default and help
live once, in the model (``PairsConfig``, ``MiningParams``), and the CLI only reads them.

A field ``range_min: int = Field(10, description=...)`` becomes ``--range-min INTEGER`` with default 10 shown and the
description as help; a ``bool`` becomes ``--flag/--no-flag``; a ``Literal`` a choice; a ``list`` a repeatable option
whose values may also be comma-separated; an optional number also takes ``none``. Only the options a user sets reach
the model (:func:`set_values`), so every default is the model's own.

References:
    weasel / spaCy's config system (one schema, dotted overrides on the command line).
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

import click
from click.core import ParameterSource


class OptionalNumber(click.ParamType):
    """A number of ``kind``, or ``none`` to turn the setting off."""

    name = "number|none"

    def __init__(self, kind: type):
        self.kind = kind

    def convert(self, value, param, ctx):
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            return None
        try:
            return self.kind(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor 'none'", param, ctx)


def _unwrap(annotation) -> tuple[Any, bool]:
    """The annotation without ``None``, and whether ``None`` was allowed."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else annotation), True
    return annotation, False


def option_spec(name: str, field, flag: str | None = None) -> tuple[list[str], dict]:
    """The click option of one pydantic field (see the module docstring), as ``click.option``'s arguments.

    Args:
        name: the field's name (the Python parameter the option fills).
        field: its ``FieldInfo``.
        flag: the option's name without dashes (default: the field's, ``_`` as ``-``).

    Returns:
        ``(declarations, attributes)``.

    Example:
        >>> from negmine.mining.static import MiningParams
        >>> option_spec("range_min", MiningParams.model_fields["range_min"])[0]
        ['--range-min', 'range_min']
    """
    flag = flag or name.replace("_", "-")
    annotation, optional = _unwrap(field.annotation)
    default = None if field.default_factory is not None else field.default
    shown = field.default_factory() if field.default_factory is not None else field.default
    common = {"help": field.description, "show_default": shown not in (None, [], ""), "default": default}
    if annotation is bool:
        return [f"--{flag}/--no-{flag}", name], {**common, "show_default": shown is True}
    if typing.get_origin(annotation) is list:
        (inner,) = typing.get_args(annotation)
        choices = list(typing.get_args(inner)) if typing.get_origin(inner) is Literal else None
        help_text = (field.description or "") + (f" One or more of: {', '.join(choices)}." if choices else "")
        return [f"--{flag}", name], {"multiple": True, "default": None, "metavar": "A[,B...]",
                                     "help": help_text.strip() + (f" [default: {','.join(shown)}]" if shown else "")}
    if typing.get_origin(annotation) is Literal:
        return [f"--{flag}", name], {"type": click.Choice(list(typing.get_args(annotation))), **common}
    if annotation in (int, float):
        kind = OptionalNumber(annotation) if optional and default is not None else annotation
        return [f"--{flag}", name], {"type": kind, **common}
    return [f"--{flag}", name], {"type": str, **common}


def add_model_options(model_cls, skip: tuple[str, ...] = (), rename: dict[str, str] | None = None):
    """A decorator adding :func:`option_spec` of every field of ``model_cls`` but ``skip`` (``rename``: field ->
    flag) to a click command.

    Example:
        >>> @click.command()
        ... @add_model_options(MiningParams, skip=("seed",))  # doctest: +SKIP
        ... def mine(**settings): ...
    """

    def decorate(command):
        for name, field in reversed(list(model_cls.model_fields.items())):
            if name not in skip:
                declarations, attributes = option_spec(name, field, (rename or {}).get(name))
                command = click.option(*declarations, **attributes)(command)
        return command

    return decorate


def set_values(ctx: click.Context, model_cls, skip: tuple[str, ...] = ()) -> dict:
    """The fields of ``model_cls`` the user set on the command line (not left at their default), as model values:
    a list option's values split on commas.

    Example:
        >>> set_values(click.get_current_context(), MiningParams)  # doctest: +SKIP
        {'range_min': 5}
    """
    values = {}
    for name, field in model_cls.model_fields.items():
        if name in skip or ctx.get_parameter_source(name) in (None, ParameterSource.DEFAULT):
            continue
        value = ctx.params[name]
        if typing.get_origin(_unwrap(field.annotation)[0]) is list:
            value = [part.strip() for item in value for part in item.split(",") if part.strip()]
        values[name] = value
    return values

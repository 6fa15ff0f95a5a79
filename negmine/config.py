"""Reading negmine's YAML files (recipes, study files, synthetic specs, target files, override values): one loader,
at the bottom of the package, so that any layer reads YAML without importing ``training``.

The loader is PyYAML's safe loader with YAML 1.2 booleans and floats: only ``true`` and ``false`` are booleans, so
the Trainer's ``eval_strategy: no`` stays the string ``"no"`` instead of YAML 1.1's ``False``, and ``1e-4`` is a
float, not a string.

References:
    YAML 1.2 core schema, https://yaml.org/spec/1.2.2/#103-core-schema
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class RecipeLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans and exponent floats (see the module docstring)."""


RecipeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
RecipeLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))  # fmt: skip
# YAML 1.2 floats need no dot: `learning_rate: 1e-4` is a number, not the string PyYAML makes of it.
RecipeLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
                                   list("-+0123456789"))  # fmt: skip


def read_yaml(text: str) -> Any:
    """YAML text (a file's or one override value) read with :class:`RecipeLoader`.

    Args:
        text: the YAML.

    Returns:
        The parsed value.

    Example:
        >>> read_yaml("{eval_strategy: no, bf16: true, warmup_steps: 0.1, learning_rate: 1e-4}")
        {'eval_strategy': 'no', 'bf16': True, 'warmup_steps': 0.1, 'learning_rate': 0.0001}
    """
    return yaml.load(text, Loader=RecipeLoader)  # a SafeLoader subclass: no arbitrary objects

"""What synthetic negatives to make: the ``--synthetic perturb:1,swap:1,reverse:1`` spec and the recipe's
``pairs.synthetic`` section, validated before any work starts.

Example:
    >>> parse_synthetic_spec("perturb:1,reverse:2")
    {'perturb': 1, 'reverse': 2}
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from negmine.errors import NegmineError

GENERATORS = ("perturb", "swap", "reverse")
CHAR_AUGMENTERS = ("RandomCharAug", "KeyboardAug", "OcrAug")
WORD_AUGMENTERS = ("RandomWordAug", "SpellingAug", "SplitAug")
WORDNET_AUGMENTERS = ("SynonymAug", "AntonymAug")
AUGMENTERS = CHAR_AUGMENTERS + WORD_AUGMENTERS + WORDNET_AUGMENTERS
# Arguments negmine sets itself (tokenisation, models, names) and may not be given.
RESERVED = {"name", "tokenizer", "reverse_tokenizer", "verbose", "model_path", "dict_path", "dict_of_path", "lang",
            "aug_src", "force_reload", "include_detail"}  # fmt: skip


def nlpaug_class(name: str):
    """The nlpaug augmenter class called ``name`` (one of :data:`AUGMENTERS`)."""
    try:
        import nlpaug.augmenter.char as nac
        import nlpaug.augmenter.word as naw
    except ImportError:
        raise NegmineError("perturb needs nlpaug: pip install 'negmine[augment]'") from None
    return getattr(nac if name in CHAR_AUGMENTERS else naw, name)


class AugmenterSpec(BaseModel):
    """One nlpaug augmenter and its keyword arguments, e.g. ``{name: RandomWordAug, params: {action: swap}}``.

    Example:
        >>> AugmenterSpec(name="RandomCharAug", params={"action": "swap", "aug_char_p": 0.2}).source
        'perturb:RandomCharAug-swap'
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in AUGMENTERS:
            raise ValueError(f"unknown nlpaug augmenter '{name}' (choose from {', '.join(AUGMENTERS)})")
        return name

    @field_validator("params")
    @classmethod
    def _params(cls, params: dict[str, Any], info) -> dict[str, Any]:
        name = info.data.get("name")
        if name is None:
            return params
        accepted = set(inspect.signature(nlpaug_class(name).__init__).parameters) - {"self"} - RESERVED
        for key, value in params.items():
            if key not in accepted:
                raise ValueError(f"{name} takes no parameter '{key}' (it takes {', '.join(sorted(accepted))})")
            if key.endswith("_p") and not (isinstance(value, int | float) and 0 <= value <= 1):
                raise ValueError(f"{name}.{key} is a probability in [0, 1], got {value!r}")
            if (key.endswith("_min") or key.endswith("_max")) and not (isinstance(value, int) and value >= 0):
                raise ValueError(f"{name}.{key} is a count >= 0, got {value!r}")
        if name in ("RandomCharAug", "RandomWordAug") and "action" in params:
            actions = {"RandomCharAug": ("insert", "substitute", "swap", "delete"),
                       "RandomWordAug": ("substitute", "swap", "delete", "crop")}[name]  # fmt: skip
            if params["action"] not in actions:
                raise ValueError(f"{name}.action must be one of {', '.join(actions)}, got {params['action']!r}")
        return params

    @property
    def source(self) -> str:
        """The ``negative_source`` of its outputs: ``perturb:NAME`` plus the action, when there is one."""
        action = self.params.get("action")
        return f"perturb:{self.name}" + (f"-{action}" if action else "")

    @property
    def needs_wordnet(self) -> bool:
        return self.name in WORDNET_AUGMENTERS


# built without validation: validating reads nlpaug's signatures, which would import nlpaug (seconds) with negmine
DEFAULT_AUGMENTERS = [AugmenterSpec.model_construct(name="RandomWordAug", params={"action": "swap"})]


class SyntheticConfig(BaseModel):
    """How many synthetic negatives each (anchor, positive) row gets from each generator, and their settings.

    Args:
        perturb: negatives a row from nlpaug perturbations of the positive.
        swap: negatives a row from the positive with its claim terms swapped for another document's.
        reverse: negatives a row from rule-based reversals of the anchor claim.
        augmenters: the nlpaug augmenters ``perturb`` draws from (one a negative, chosen by the seed).
        swap_terms: how many of the terms the positive shares with the anchor (highest IDF first) are swapped.
        swap_donor: ``hard_negative`` (the anchor's hardest mined negative) or ``random`` (any other document).

    Example:
        >>> SyntheticConfig(perturb=1).augmenters[0].source
        'perturb:RandomWordAug-swap'
    """

    model_config = ConfigDict(extra="forbid")
    perturb: int = Field(0, ge=0)
    swap: int = Field(0, ge=0)
    reverse: int = Field(0, ge=0)
    augmenters: list[AugmenterSpec] = Field(default_factory=lambda: list(DEFAULT_AUGMENTERS), min_length=1)
    swap_terms: int = Field(3, ge=1)
    swap_donor: Literal["hard_negative", "random"] = "hard_negative"

    @property
    def counts(self) -> dict[str, int]:
        """Generator -> negatives a row, for the generators asked for."""
        return {name: getattr(self, name) for name in GENERATORS if getattr(self, name)}

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def check_resources(self) -> None:
        """Fail in one line, before any long work, when a generator asked for lacks what it needs (nlpaug,
        lemminflect, WordNet); nothing is downloaded."""
        if self.perturb:
            nlpaug_class(self.augmenters[0].name)
            if any(spec.needs_wordnet for spec in self.augmenters):
                from negmine.augment.wordnet import INSTALL_HINT, _nltk_has_wordnet, wordnet_source

                if wordnet_source() is None and not _nltk_has_wordnet():
                    raise NegmineError(INSTALL_HINT)
        if self.reverse:
            try:
                import lemminflect  # noqa: F401
            except ImportError:
                raise NegmineError("reverse needs lemminflect: pip install 'negmine[augment]'") from None


def parse_synthetic_spec(spec: str, option: str = "--synthetic") -> dict[str, int]:
    """``"perturb:1,swap:1"`` -> ``{"perturb": 1, "swap": 1}``; a bare name means 1.

    Raises:
        NegmineError: an unknown generator, a count that is not a whole number >= 0, or a malformed item; the
            message names the option.

    Example:
        >>> parse_synthetic_spec("swap,reverse:0")
        {'swap': 1, 'reverse': 0}
    """
    counts: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = item.partition(":")
        name = name.strip()
        if name == "mix":
            raise NegmineError(f"{option}: 'mix' is a loss option (loss.mixing in a recipe), not a pairs generator")
        if name not in GENERATORS:
            choices = ", ".join(GENERATORS)
            raise NegmineError(f"{option}: unknown generator '{name}' in '{spec}' (choose from {choices})")
        if count.strip() and not count.strip().isdigit():
            raise NegmineError(f"{option}: '{item}' should be NAME:COUNT with a whole number >= 0, e.g. {name}:1")
        if name in counts:
            raise NegmineError(f"{option}: generator '{name}' given twice in '{spec}'")
        counts[name] = int(count) if count.strip() else 1
    return counts


def parse_augmenter(text: str, option: str = "--augmenter") -> dict[str, Any]:
    """``"RandomCharAug:action=swap,aug_char_p=0.2"`` -> ``{"name": ..., "params": {...}}`` (values read as YAML).

    Example:
        >>> parse_augmenter("RandomWordAug:action=delete,aug_p=0.2")
        {'name': 'RandomWordAug', 'params': {'action': 'delete', 'aug_p': 0.2}}
    """
    from negmine.config import read_yaml

    name, _, rest = text.partition(":")
    params = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise NegmineError(f"{option}: '{item}' in '{text}' should be key=value")
        params[key.strip()] = read_yaml(value.strip())
    return {"name": name.strip(), "params": params}

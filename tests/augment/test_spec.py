"""The --synthetic spec and the augmenter settings: bad input is one clear error naming the option."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from negmine.augment.spec import AugmenterSpec, SyntheticConfig, parse_augmenter, parse_synthetic_spec
from negmine.errors import NegmineError


def test_spec_counts():
    assert parse_synthetic_spec("perturb:1,swap:2, reverse") == {"perturb": 1, "swap": 2, "reverse": 1}
    assert parse_synthetic_spec("") == {}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("paraphrase:1", "--synthetic: unknown generator 'paraphrase'"),
        ("perturb:x", "--synthetic: 'perturb:x' should be NAME:COUNT"),
        ("perturb:-1", "--synthetic: 'perturb:-1' should be NAME:COUNT"),
        ("swap:1,swap:2", "given twice"),
        ("mix:2", "'mix' is a loss option"),
    ],
)
def test_bad_spec(spec, message):
    with pytest.raises(NegmineError, match=message):
        parse_synthetic_spec(spec)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "SynonymsAug"}, "unknown nlpaug augmenter 'SynonymsAug'"),
        ({"name": "RandomCharAug", "params": {"aug_char_p": 1.5}}, r"aug_char_p is a probability in \[0, 1\]"),
        ({"name": "RandomWordAug", "params": {"speed": 2}}, "takes no parameter 'speed'"),
        ({"name": "RandomWordAug", "params": {"action": "shuffle"}}, "action must be one of"),
        ({"name": "SynonymAug", "params": {"model_path": "/x"}}, "takes no parameter 'model_path'"),
    ],
)
def test_bad_augmenter(values, message):
    with pytest.raises(ValidationError, match=message):
        AugmenterSpec(**values)


def test_augmenter_from_the_command_line():
    spec = AugmenterSpec(**parse_augmenter("RandomCharAug:action=delete,aug_char_p=0.2"))
    assert spec.params == {"action": "delete", "aug_char_p": 0.2} and spec.source == "perturb:RandomCharAug-delete"
    with pytest.raises(NegmineError, match="should be key=value"):
        parse_augmenter("RandomCharAug:action")


def test_config_counts_and_total():
    config = SyntheticConfig(perturb=2, reverse=1)
    assert config.counts == {"perturb": 2, "reverse": 1} and config.total == 3

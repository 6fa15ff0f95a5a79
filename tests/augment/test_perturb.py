"""nlpaug perturbations: seeded per text, independent of call order, global random state left as it was."""

from __future__ import annotations

import random

import numpy as np
import pytest

pytest.importorskip("nlpaug")

from negmine.augment.perturb import Perturber  # noqa: E402
from negmine.augment.spec import AugmenterSpec  # noqa: E402

TEXT = "Vitamin D supplementation reduces the risk of hip fractures in older adults living at home."


def perturber(seed=0):
    return Perturber([AugmenterSpec(name="RandomWordAug", params={"action": "swap"}),
                      AugmenterSpec(name="RandomCharAug", params={"action": "delete"})], seed=seed)  # fmt: skip


def test_same_key_same_output_whatever_came_before():
    first = perturber().perturb(TEXT, "q1", 2)
    other = perturber()
    other.perturb("something else entirely, long enough to change things", "q9", 2)
    assert other.perturb(TEXT, "q1", 2) == first
    assert perturber(seed=1).perturb(TEXT, "q1", 2) != first
    assert len(first) == 2 and all(text != TEXT for text, _ in first)
    assert {source for _, source in first} <= {"perturb:RandomWordAug-swap", "perturb:RandomCharAug-delete"}


def test_global_random_state_is_restored():
    random.seed(5)
    np.random.seed(5)
    expected = (random.random(), np.random.random())
    random.seed(5)
    np.random.seed(5)
    perturber().perturb(TEXT, "q1", 1)
    assert (random.random(), np.random.random()) == expected

"""MoCHi mixing: hand-computed scores and loss, where the gradient goes with and without detach, determinism."""

from __future__ import annotations

import math

import pytest
import torch

from negmine.losses import CombinedLoss
from negmine.losses.mixing import mix_hard_negatives


def test_one_hard_candidate_mixes_into_itself():
    anchors = torch.tensor([[1.0, 0.0]])
    candidates = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    excluded = torch.tensor([[True, False, False]])  # the own positive
    mixed = mix_hard_negatives(anchors, candidates, excluded, negatives=3, hardest=1)
    assert torch.allclose(mixed, torch.full((1, 3), 0.6))  # a*n + (1-a)*n = n, the hardest one (score 0.6)


def test_anchor_mixes_lean_towards_the_anchor():
    anchors = torch.tensor([[1.0, 0.0]])
    candidates = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    excluded = torch.tensor([[True, False]])
    generator = torch.Generator().manual_seed(0)
    mixed = mix_hard_negatives(anchors, candidates, excluded, 0, anchor_negatives=50, hardest=1, generator=generator)
    # normalize(b*q + (1-b)*n) with q . n = 0 and b in (0, 0.5): its cosine with q is b / sqrt(b^2 + (1-b)^2)
    assert ((mixed > 0) & (mixed < math.sqrt(0.5) + 1e-6)).all()


def test_rows_short_of_candidates_get_minus_infinity():
    anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    candidates = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    excluded = torch.tensor([[True, True], [True, False]])  # row 0 has nothing to mix
    mixed = mix_hard_negatives(anchors, candidates, excluded, negatives=2, hardest=2)
    assert torch.isinf(mixed[0]).all() and torch.isfinite(mixed[1]).all()


@pytest.mark.parametrize("detach", [True, False])
def test_gradient_through_the_mixed_points(detach):
    anchors = torch.randn(3, 4, requires_grad=True)
    candidates = torch.randn(6, 4, requires_grad=True)
    excluded = torch.eye(3, 6, dtype=torch.bool)
    generator = torch.Generator().manual_seed(1)
    mixed = mix_hard_negatives(anchors, candidates, excluded, 2, 2, hardest=3, detach=detach, generator=generator)
    mixed.sum().backward()
    assert anchors.grad.abs().sum() > 0  # the anchor always learns from q . h
    assert (candidates.grad is None or candidates.grad.abs().sum() == 0) == detach


def test_combined_loss_with_mixing_by_hand(tiny_model):
    # anchor (1, 0); positive (1, 0); hard negative (0.6, 0.8). With N = 1 every mixed point is the hard negative,
    # so MNRL is cross-entropy over (1.0, 0.6, 0.6, 0.6) at scale 1 for s = 2.
    loss = CombinedLoss(tiny_model, weights={"mnrl": 1.0}, scale=1.0, mix_negatives=2, mix_hardest=1)
    anchor, positive, negative = torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.6, 0.8]])
    value = loss.compute_loss_from_embeddings([anchor, positive, negative])["mnrl"].item()
    assert value == pytest.approx(-math.log(math.e / (math.e + 3 * math.exp(0.6))), abs=1e-6)
    plain = CombinedLoss(tiny_model, weights={"mnrl": 1.0}, scale=1.0)
    assert plain.compute_loss_from_embeddings([anchor, positive, negative])["mnrl"].item() < value


def test_mixing_is_seeded(tiny_model):
    embeddings = [torch.randn(4, 8) for _ in range(3)]
    values = [CombinedLoss(tiny_model, mix_negatives=3, mix_anchor_negatives=1, mix_seed=5)
              .compute_loss_from_embeddings(embeddings)["mnrl"].item() for _ in range(2)]  # fmt: skip
    assert values[0] == values[1]
    with pytest.raises(ValueError, match="mix_hardest"):
        CombinedLoss(tiny_model, mix_negatives=1, mix_hardest=0)

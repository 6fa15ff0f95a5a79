"""The temperature controller: dH/dtau = Var(s) / tau^3 against a numerical derivative, and steps that bring the
entropy into its band."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from negmine.losses import CombinedLoss
from negmine.training.temperature import TemperatureController, negative_entropy


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), tau=st.floats(0.02, 1.0), batch=st.integers(2, 8))
def test_slope_is_the_numerical_derivative(seed, tau, batch):
    scores = np.random.default_rng(seed).uniform(-1, 1, size=(batch, batch * 2))
    _, slope = negative_entropy(scores, tau)
    eps = tau * 1e-5
    numeric = (negative_entropy(scores, tau + eps)[0] - negative_entropy(scores, tau - eps)[0]) / (2 * eps)
    assert slope == pytest.approx(numeric, rel=1e-3, abs=1e-6)


def test_steps_bring_the_entropy_into_the_band(tiny_model):
    scores = np.random.default_rng(0).uniform(-0.2, 0.9, size=(16, 48))
    loss = CombinedLoss(tiny_model, scale=200.0, track_scores=True)  # tau 0.005: a few negatives take all weight
    controller = TemperatureController(loss, entropy_low=0.4, entropy_high=0.6, min_scale=1.0, max_scale=1000.0)
    entropies = []
    for step in range(12):
        controller.adjust(scores, step)
        entropies.append(negative_entropy(scores, 1.0 / loss.scale)[0])
    assert controller.history[0]["entropy"] < 0.4
    assert 0.4 - 1e-3 <= entropies[-1] <= 0.6 + 1e-3
    assert loss.scale == loss.mnrl.scale < 200.0
    inside = loss.scale
    controller.adjust(scores, 99)  # inside the band: no change
    assert loss.scale == pytest.approx(inside)


def test_combined_loss_keeps_the_last_scores(tiny_model):
    loss = CombinedLoss(tiny_model, track_scores=True)
    anchors, positives, negatives = torch.eye(3)[:2], torch.eye(3)[:2], torch.eye(3)[[2, 2]]
    loss.compute_loss_from_embeddings([anchors, positives, negatives])
    assert loss.last_scores.shape == (2, 4) and not loss.last_scores.requires_grad
    assert loss.last_scores[0, 0].item() == pytest.approx(1.0)

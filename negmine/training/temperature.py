"""An InfoNCE temperature controller: keeps the entropy of the softmax weights over each anchor's negatives inside
a target band by Newton steps on the temperature, using dH/dtau = Var_w(s) / tau^3.

With weights ``w_i = softmax(s_i / tau)`` over an anchor's negative scores, ``H = log Z - E_w[s] / tau`` and
``dH/dtau = Var_w(s) / tau^3``: a low entropy (a few negatives take all the gradient) asks for a higher temperature,
a high one (every negative weighs the same, the loss is blind to hardness) for a lower one.

References:
    Wang and Liu, "Understanding the Behaviour of Contrastive Loss", CVPR 2021 (temperature as hardness control);
    van den Oord et al., "Representation Learning with Contrastive Predictive Coding", 2018 (InfoNCE).
"""

from __future__ import annotations

import numpy as np
from transformers import TrainerCallback


def negative_entropy(scores: np.ndarray, tau: float) -> tuple[float, float]:
    """Mean entropy of each row's softmax over its negatives, and its derivative in tau, both divided by log(n).

    Args:
        scores: ``(batch, candidates)`` similarities; column ``i`` of row ``i`` is the row's positive (left out).
        tau: the temperature.

    Returns:
        ``(H / log n, dH/dtau / log n)``, averaged over rows.

    Example:
        >>> h, slope = negative_entropy(np.array([[1.0, 0.5, 0.5], [0.2, 1.0, 0.2]]), tau=0.05)
        >>> round(h, 4), slope > 0
        (1.0, False)
    """
    scores = np.asarray(scores, dtype=np.float64)
    batch, candidates = scores.shape
    keep = np.ones_like(scores, dtype=bool)
    keep[np.arange(batch), np.arange(batch)] = False
    negatives = scores[keep].reshape(batch, candidates - 1)
    logits = negatives / tau
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    entropy = -(weights * np.log(np.clip(weights, 1e-300, None))).sum(axis=1)
    mean = (weights * negatives).sum(axis=1, keepdims=True)
    variance = (weights * (negatives - mean) ** 2).sum(axis=1)
    norm = np.log(candidates - 1) if candidates > 2 else 1.0
    return float(entropy.mean() / norm), float((variance / tau**3).mean() / norm)


class TemperatureController(TrainerCallback):
    """Every N steps, move the loss's scale (1 / tau) so the negatives' weight entropy re-enters the band.

    Args:
        loss: a loss with ``scale`` and ``last_scores`` (``CombinedLoss`` with ``track_scores=True``).
        entropy_low: the band's lower edge, as a share of log(number of negatives).
        entropy_high: its upper edge.
        every_steps: how often to adjust.
        min_scale: the smallest scale allowed (the highest temperature).
        max_scale: the largest scale allowed.

    Attributes:
        history: ``{step, entropy, scale}`` at each adjustment (the entropy measured before it).

    Example:
        >>> loss = CombinedLoss(model, track_scores=True)  # doctest: +SKIP
        >>> controller = TemperatureController(loss, entropy_low=0.3, entropy_high=0.7)  # doctest: +SKIP
        >>> trainer = SentenceTransformerTrainer(..., loss=loss, callbacks=[controller])  # doctest: +SKIP
    """

    def __init__(self, loss, entropy_low=0.3, entropy_high=0.7, every_steps=10, min_scale=5.0, max_scale=100.0):
        self.loss = loss
        self.low, self.high = entropy_low, entropy_high
        self.every_steps = every_steps
        self.min_scale, self.max_scale = min_scale, max_scale
        self.history: list[dict] = []

    def adjust(self, scores: np.ndarray, step: int = 0) -> float:
        """One Newton step towards the nearest edge of the band (none inside it); returns the new scale."""
        tau = 1.0 / self.loss.scale
        entropy, slope = negative_entropy(scores, tau)
        target = min(max(entropy, self.low), self.high)
        if target != entropy and slope > 1e-12:
            tau = float(np.clip(tau + (target - entropy) / slope, tau / 2, tau * 2))  # at most a factor 2 a step
        scale = float(np.clip(1.0 / tau, self.min_scale, self.max_scale))
        self.loss.set_scale(scale)
        self.history.append({"step": int(step), "entropy": round(entropy, 4), "scale": round(scale, 4)})
        return scale

    def on_step_end(self, args, state, control, **kwargs):
        scores = getattr(self.loss, "last_scores", None)
        if scores is not None and state.global_step % self.every_steps == 0:
            self.adjust(scores.float().cpu().numpy(), state.global_step)
        return control

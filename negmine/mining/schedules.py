"""Schedules over training epochs: the random-negative rate and the curriculum of the mining window.

A random-rate schedule gives, for an epoch, the probability that a negative is drawn at random instead of mined:
``linear`` ``max(0, r0 - step * epoch)`` (the BallTree bi-encoder design: r0 = 0.8, step = 0.02), ``exponential``
``r0 * (1 - step) ** epoch``, ``cosine`` from r0 to 0 over ``epochs``, and ``constant`` r0 (the controls: 1.0 is
"random", 0.0 "without random"). A curriculum moves the mining window (``range_min``, ``range_max``) and the
number of negatives per positive from easy to hard.

References:
    Bengio et al., "Curriculum Learning", ICML 2009;
    Xiong et al., "Approximate Nearest Neighbor Negative Contrastive Learning for Dense Text Retrieval" (ANCE),
    ICLR 2021 (negatives refreshed from the model being trained).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RandomRateSchedule(BaseModel):
    """The probability of a random negative at a (fractional) epoch.

    Args:
        kind: ``linear``, ``exponential``, ``cosine`` or ``constant``.
        r0: the rate at epoch 0.
        step: the decay per epoch (``linear``: subtracted; ``exponential``: the share lost each epoch).
        epochs: the length of the ``cosine`` schedule (the rate is 0 from then on).

    Returns:
        Calling it with an epoch gives the rate, in [0, 1].

    Example:
        >>> decay = RandomRateSchedule(kind="linear", r0=0.8, step=0.02)
        >>> [round(decay(e), 2) for e in (0, 1, 10, 50)]
        [0.8, 0.78, 0.6, 0.0]
        >>> RandomRateSchedule(kind="constant", r0=1.0)(7)
        1.0
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["linear", "exponential", "cosine", "constant"] = "linear"
    r0: float = Field(0.8, ge=0, le=1)
    step: float = Field(0.02, ge=0, le=1)
    epochs: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _cosine_length(self) -> RandomRateSchedule:
        if self.kind == "cosine" and self.epochs is None:
            raise ValueError("a cosine schedule needs epochs (its length)")
        return self

    def __call__(self, epoch: float) -> float:
        epoch = max(0.0, float(epoch))
        if self.kind == "linear":
            return max(0.0, self.r0 - self.step * epoch)
        if self.kind == "exponential":
            return self.r0 * (1.0 - self.step) ** epoch
        if self.kind == "cosine":
            return self.r0 * (0.5 * (1.0 + math.cos(math.pi * min(epoch, self.epochs) / self.epochs)))
        return self.r0


class CurriculumStage(BaseModel):
    """One stage of a curriculum: from ``epoch`` on, mine in this window with this many negatives per positive."""

    model_config = ConfigDict(extra="forbid")

    epoch: float = Field(ge=0)
    range_min: int = Field(ge=0)
    range_max: int = Field(ge=1)
    num_negatives: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _window(self) -> CurriculumStage:
        if self.range_min >= self.range_max:
            raise ValueError(f"range_min ({self.range_min}) must be smaller than range_max ({self.range_max})")
        return self


def stage_at(stages: list[CurriculumStage], epoch: float) -> CurriculumStage | None:
    """The curriculum stage in force at ``epoch``: the last one that has started (None before the first).

    Example:
        >>> stages = [CurriculumStage(epoch=0, range_min=50, range_max=100),
        ...           CurriculumStage(epoch=1, range_min=20, range_max=50),
        ...           CurriculumStage(epoch=2, range_min=5, range_max=20)]
        >>> [(s.range_min, s.range_max) for s in (stage_at(stages, e) for e in (0, 0.5, 1, 2.5))]
        [(50, 100), (50, 100), (20, 50), (5, 20)]
    """
    started = [s for s in sorted(stages, key=lambda s: s.epoch) if s.epoch <= epoch + 1e-9]
    return started[-1] if started else None

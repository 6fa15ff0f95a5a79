"""Random-rate schedules and curriculum stages: their values by hand, and properties over any parameters."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from negmine.mining.schedules import CurriculumStage, RandomRateSchedule, stage_at


def test_values_by_hand():
    linear = RandomRateSchedule(kind="linear", r0=0.8, step=0.02)
    assert [linear(e) for e in (0, 1, 2, 40, 41)] == pytest.approx([0.8, 0.78, 0.76, 0.0, 0.0])
    exponential = RandomRateSchedule(kind="exponential", r0=0.8, step=0.5)
    assert [exponential(e) for e in (0, 1, 2)] == pytest.approx([0.8, 0.4, 0.2])
    cosine = RandomRateSchedule(kind="cosine", r0=1.0, epochs=4)
    assert [cosine(e) for e in (0, 2, 4, 9)] == pytest.approx([1.0, 0.5, 0.0, 0.0])
    assert RandomRateSchedule(kind="constant", r0=0.0)(3) == 0.0
    assert RandomRateSchedule(kind="constant", r0=1.0)(3) == 1.0


def test_bad_schedules():
    with pytest.raises(ValidationError, match="cosine schedule needs epochs"):
        RandomRateSchedule(kind="cosine")
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        RandomRateSchedule(r0=1.5)
    with pytest.raises(ValidationError, match="range_min"):
        CurriculumStage(epoch=0, range_min=20, range_max=10)


@given(
    kind=st.sampled_from(["linear", "exponential", "cosine", "constant"]),
    r0=st.floats(0, 1),
    step=st.floats(0, 1),
    epochs=st.floats(0.5, 50),
    a=st.floats(0, 100),
    b=st.floats(0, 100),
)
def test_rates_stay_in_range_and_never_rise(kind, r0, step, epochs, a, b):
    schedule = RandomRateSchedule(kind=kind, r0=r0, step=step, epochs=epochs)
    early, late = sorted((a, b))
    assert 0.0 <= schedule(late) <= schedule(early) + 1e-12 <= r0 + 1e-12
    assert math.isclose(schedule(0), r0)


def test_curriculum_stage_at():
    stages = [CurriculumStage(epoch=2, range_min=5, range_max=20, num_negatives=3),
              CurriculumStage(epoch=0, range_min=50, range_max=100)]  # fmt: skip
    assert stage_at(stages, 0).range_min == 50
    assert stage_at(stages, 1.99).range_min == 50
    assert stage_at(stages, 2).num_negatives == 3
    assert stage_at(stages[:1], 1) is None

"""Negative mining: false-negative filters, sampling strategies, the static miner, the refresh callback that
re-mines during training, schedules, and the alias sampler."""

from negmine.mining.alias import AliasSampler, noise_distribution
from negmine.mining.dynamic import HardNegativeRefresh
from negmine.mining.filters import false_negative_filter
from negmine.mining.sampling import SAMPLING_STRATEGIES, sample_negatives, simans_weights
from negmine.mining.schedules import CurriculumStage, RandomRateSchedule, stage_at
from negmine.mining.static import MinedNegatives, MiningParams, mine_negatives

__all__ = [
    "SAMPLING_STRATEGIES",
    "AliasSampler",
    "CurriculumStage",
    "HardNegativeRefresh",
    "RandomRateSchedule",
    "noise_distribution",
    "stage_at",
    "MinedNegatives",
    "MiningParams",
    "false_negative_filter",
    "mine_negatives",
    "sample_negatives",
    "simans_weights",
]

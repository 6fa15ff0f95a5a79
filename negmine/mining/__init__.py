"""Negative mining: false-negative filters, sampling strategies, and the static miner."""

from negmine.mining.filters import false_negative_filter
from negmine.mining.sampling import SAMPLING_STRATEGIES, sample_negatives, simans_weights
from negmine.mining.static import MinedNegatives, MiningParams, mine_negatives

__all__ = [
    "SAMPLING_STRATEGIES",
    "MinedNegatives",
    "MiningParams",
    "false_negative_filter",
    "mine_negatives",
    "sample_negatives",
    "simans_weights",
]

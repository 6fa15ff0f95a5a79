"""Losses as sentence-transformers loss modules; ``LOSSES`` maps a recipe's name to a class."""

from negmine.losses.combined import DEFAULT_WEIGHTS, CombinedLoss

LOSSES = {"combined": CombinedLoss}

__all__ = ["DEFAULT_WEIGHTS", "LOSSES", "CombinedLoss"]

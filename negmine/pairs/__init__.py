"""Training pairs: anchors (claims, queries, corpus pairs), negatives, output formats, the build pipeline."""

from negmine.pairs.anchors import Anchor, Positive, claim_anchors, corpus_anchors
from negmine.pairs.build import PairsConfig, build_pairs
from negmine.pairs.formats import FORMATS, Negative, training_columns, training_view

__all__ = [
    "FORMATS",
    "Anchor",
    "Negative",
    "PairsConfig",
    "Positive",
    "build_pairs",
    "claim_anchors",
    "corpus_anchors",
    "training_columns",
    "training_view",
]

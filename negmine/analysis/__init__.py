"""Measuring negatives: hardness, diversity, validity and false-negative estimates, model geometry, training
dynamics, plots and a report (``negmine analyze``), and the false-negative audit (``negmine audit``).

Plain functions over numpy arrays live in one file a family (hardness, diversity, gap, false_negatives, geometry);
:mod:`negmine.analysis.analyze` applies them to pairs folders and runs.
"""

from __future__ import annotations

from negmine.analysis.diversity import cluster_entropy, duplicate_rate, pairwise_distances, uniformity, vendi_score
from negmine.analysis.false_negatives import sister_documents
from negmine.analysis.gap import frechet_distance, mmd_rbf, score_gap
from negmine.analysis.geometry import alignment, linear_cka
from negmine.analysis.hardness import corpus_rank, infonce_share, score_hardness, summarize

__all__ = ["alignment", "cluster_entropy", "corpus_rank", "duplicate_rate", "frechet_distance", "infonce_share",
           "linear_cka", "mmd_rbf", "pairwise_distances", "score_gap", "score_hardness", "sister_documents",
           "summarize", "uniformity", "vendi_score"]  # fmt: skip

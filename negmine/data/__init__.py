"""Data sources: SciFact's original release, any BEIR folder, the hub fallback, and the validation carve."""

from negmine.data.beir import load_beir
from negmine.data.retrieval import RetrievalData
from negmine.data.scifact import Abstract, Claim, Evidence, SciFactRelease
from negmine.data.sources import data_root, dataset_folder, load_retrieval
from negmine.data.splits import carve_validation

__all__ = [
    "Abstract",
    "Claim",
    "Evidence",
    "RetrievalData",
    "SciFactRelease",
    "carve_validation",
    "data_root",
    "dataset_folder",
    "load_beir",
    "load_retrieval",
]

"""BallTreeEvaluator: top-k accuracy and pair probability by hand, and as a trainer-ready evaluator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from negmine.training.balltree_evaluator import BallTreeEvaluator


def test_metrics_by_hand():
    points = np.array([[1.0, 0.0], [0.0, 1.0]])
    counters = np.array([[1.0, 0.0], [0.6, 0.8], [-1.0, -0.2]])  # no ties in distance
    evaluator = BallTreeEvaluator(["a", "b"], ["c", "d", "e"], [(0, 0), (1, 0)], k=(1, 2, 3), scale=1.0)
    metrics = evaluator.compute(points, counters)
    assert metrics["top1_accuracy"] == 0.5 and metrics["top2_accuracy"] == 1.0 and metrics["top3_accuracy"] == 1.0
    p0 = math.exp(1) / (math.exp(1) + math.exp(0.6) + math.exp(-1.0))
    p1 = math.exp(0) / (math.exp(0) + math.exp(0.8) + math.exp(-0.2))
    assert metrics["pair_probability"] == pytest.approx((p0 + p1) / 2)


def test_called_with_a_model(tiny_model):
    claims = ["vitamin d reduces fracture risk", "aspirin lowers heart attack risk"]
    abstracts = ["vitamin d supplementation reduced hip fracture", "low-dose aspirin reduced first heart attack",
                 "bed nets reduced child deaths from malaria"]  # fmt: skip
    evaluator = BallTreeEvaluator(claims, abstracts, [(0, 0), (1, 1)], k=(1, 3), name="val")
    metrics = evaluator(tiny_model)
    assert set(metrics) == {"val_top1_accuracy", "val_top3_accuracy", "val_pair_probability"}
    assert metrics["val_top3_accuracy"] == 1.0 and 0 < metrics["val_pair_probability"] < 1
    assert evaluator.primary_metric == "val_top3_accuracy"

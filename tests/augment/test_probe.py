"""The probe: items per generator from a split (reversals on SUPPORT abstracts only), TripletEvaluator accuracies
that a model can be scored with, and the accuracy against a hand-computed case."""

from __future__ import annotations

import pytest

pytest.importorskip("nlpaug")

from negmine.augment.probe import probe, probe_evaluator, probe_items  # noqa: E402
from negmine.data import SciFactRelease, load_retrieval  # noqa: E402


def test_items_from_scifact_use_support_abstracts_for_reversals(scifact_dir):
    data = load_retrieval(scifact_dir, "train", validation_fraction=0)
    items = probe_items(data, SciFactRelease.load(scifact_dir))
    assert set(items) == {"perturb", "swap", "reverse"}
    anchors, positives, negatives = items["reverse"]
    texts = dict(zip(data.corpus, data.document_texts(list(data.corpus)), strict=True))
    assert anchors and set(anchors) <= {texts[d] for d in ("101", "102", "104", "107", "108", "109")}  # SUPPORT
    assert "Quitting smoking lowers the risk of lung cancer." in positives
    assert "Quitting smoking raises the risk of lung cancer." in negatives
    perturbed = items["perturb"]
    assert all(p != n for p, n in zip(perturbed[1], perturbed[2], strict=True))


def test_items_from_beir_use_every_relevant_document(beir_dir):
    data = load_retrieval(beir_dir, "test")
    items = probe_items(data, None, generators=("reverse", "swap"))
    assert set(items) <= {"reverse", "swap"} and "reverse" in items


def test_probe_accuracy_by_hand():
    class Fixed:  # a model whose embeddings we choose: the probe is TripletEvaluator's accuracy
        similarity_fn_name = "cosine"
        vectors = {"a": [1.0, 0.0], "p": [0.9, 0.1], "n": [0.0, 1.0], "p2": [0.0, 1.0], "n2": [1.0, 0.0]}

    import numpy as np
    import torch

    def encode(texts, **kwargs):
        return torch.tensor(np.array([Fixed.vectors[t] for t in texts]))

    model = Fixed()
    model.encode = model.encode_query = model.encode_document = encode
    model.model_card_data = type("Card", (), {"set_evaluation_metrics": lambda *a, **k: None})()
    evaluator = probe_evaluator({"swap": (["a", "a"], ["p", "p2"], ["n", "n2"])})
    metrics = evaluator(model)
    assert metrics["probe_swap_cosine_accuracy"] == 0.5  # right on (p, n), wrong on (p2, n2)


def test_probe_runs_on_a_model(tiny_model, scifact_dir):
    data = load_retrieval(scifact_dir, "train", validation_fraction=0)
    result = probe(tiny_model, probe_items(data, SciFactRelease.load(scifact_dir)))
    assert set(result) == {"perturb", "perturb_items", "swap", "swap_items", "reverse", "reverse_items"}
    assert all(0 <= result[name] <= 1 for name in ("perturb", "swap", "reverse"))

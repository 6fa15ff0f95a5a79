"""CombinedLoss: a hand-computed value, and equality with the three sentence-transformers losses computed
separately, gradients included."""

from __future__ import annotations

import math

import pytest
import torch

from negmine.losses import CombinedLoss

ANCHORS = ["vitamin d reduces fracture risk", "aspirin lowers heart attack risk", "bed nets reduce malaria deaths"]
POSITIVES = ["vitamin d supplementation reduced hip fracture", "low-dose aspirin reduced first heart attack",
             "bed nets reduced child deaths from malaria"]  # fmt: skip
NEGATIVES = ["evening caffeine delayed sleep onset", "statin therapy lowered ldl cholesterol",
             "antibiotic treatment reduced gut microbial diversity"]  # fmt: skip


def test_hand_computed_value(tiny_model):
    loss = CombinedLoss(tiny_model, scale=1.0, contrastive_margin=0.5)
    anchor, positive, negative = torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.6, 0.8]])
    parts = loss.compute_loss_from_embeddings([anchor, positive, negative])
    mnrl = math.log(1 + math.exp(0.6 - 1.0))  # cross-entropy over scores (1.0, 0.6)
    contrastive = (0.0 + 0.5 * (0.5 - 0.4) ** 2) / 2  # distances 0 and 1 - 0.6
    cosine = ((1 - 1) ** 2 + (0.6 - 0) ** 2) / 2
    assert parts["mnrl"].item() == pytest.approx(0.6 * mnrl, abs=1e-6)
    assert parts["contrastive"].item() == pytest.approx(0.3 * contrastive, abs=1e-6)
    assert parts["cosine"].item() == pytest.approx(0.1 * cosine, abs=1e-6)


def features(model, texts):
    preprocess = getattr(model, "preprocess", None) or model.tokenize  # ST >= 6 renamed tokenize
    return dict(preprocess(texts))


def grads(model):
    return [p.grad.detach().clone() for p in model.parameters() if p.grad is not None]


def test_equals_the_components_computed_separately(tiny_model):
    from sentence_transformers.sentence_transformer.losses import (
        ContrastiveLoss,
        CosineSimilarityLoss,
        MultipleNegativesRankingLoss,
    )

    model = tiny_model
    model.eval()  # no dropout: both sides see the same network
    combined = CombinedLoss(model)
    parts = combined([features(model, t) for t in (ANCHORS, POSITIVES, NEGATIVES)], None)
    total = sum(parts.values())
    model.zero_grad()
    total.backward()
    combined_grads = grads(model)

    model.zero_grad()
    mnrl = MultipleNegativesRankingLoss(model)([features(model, t) for t in (ANCHORS, POSITIVES, NEGATIVES)], None)
    pair_features = [features(model, ANCHORS * 2), features(model, POSITIVES + NEGATIVES)]
    labels = torch.tensor([1.0] * 3 + [0.0] * 3)
    contrastive = ContrastiveLoss(model)(pair_features, labels)
    cosine = CosineSimilarityLoss(model)(pair_features, labels)
    separate = 0.6 * mnrl + 0.3 * contrastive + 0.1 * cosine
    separate.backward()

    assert set(parts) == {"mnrl", "contrastive", "cosine"}
    assert parts["mnrl"].item() == pytest.approx(0.6 * mnrl.item(), abs=1e-5)
    assert parts["contrastive"].item() == pytest.approx(0.3 * contrastive.item(), abs=1e-5)
    assert parts["cosine"].item() == pytest.approx(0.1 * cosine.item(), abs=1e-5)
    assert total.item() == pytest.approx(separate.item(), abs=1e-5)
    for mine, theirs in zip(combined_grads, grads(model), strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-4)


def test_weights_as_cosine_targets_and_zero_weights(tiny_model):
    loss = CombinedLoss(tiny_model, weights={"mnrl": 0.0, "cosine": 1.0}, weights_as_cosine_targets=True)
    anchor = torch.tensor([[1.0, 0.0]])
    parts = loss.compute_loss_from_embeddings([anchor, anchor.clone()], labels=torch.tensor([0.5]))
    assert set(parts) == {"cosine"}
    assert parts["cosine"].item() == pytest.approx((1.0 - 0.5) ** 2)


def test_bad_weights(tiny_model):
    with pytest.raises(ValueError, match="values >= 0"):
        CombinedLoss(tiny_model, weights={"mnrl": -1.0})
    with pytest.raises(ValueError, match="components"):
        CombinedLoss(tiny_model, weights={"triplet": 1.0})


def test_false_negative_masking_equals_gistembed(tiny_model):
    """With the model as its own guide, the masked MNRL is GISTEmbedLoss without anchor/positive contrasts."""
    from sentence_transformers.sentence_transformer.losses import GISTEmbedLoss

    model = tiny_model
    model.eval()
    batch = [features(model, t) for t in (ANCHORS, POSITIVES, NEGATIVES)]
    ours = CombinedLoss(model, weights={"mnrl": 1.0}, scale=20.0, false_negative_margin=0.01)
    value = ours([dict(f) for f in batch], None)["mnrl"]
    model.zero_grad()
    value.backward()
    our_grads = grads(model)
    gist = GISTEmbedLoss(model, guide=model, temperature=1 / 20.0, margin=0.01, contrast_anchors=False,
                         contrast_positives=False)  # fmt: skip
    expected = gist([dict(f) for f in batch], None)
    model.zero_grad()
    expected.backward()
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)
    for a, b in zip(our_grads, grads(model), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_false_negative_masking_by_hand(tiny_model):
    loss = CombinedLoss(tiny_model, weights={"mnrl": 1.0}, scale=1.0, false_negative_margin=0.1)
    anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    positives = torch.tensor([[0.8, 0.6], [0.0, 1.0]])  # anchor 0 scores its positive 0.8 ...
    negatives = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # ... and its hard negative 1.0: a likely false negative
    masked = loss.compute_loss_from_embeddings([anchors, positives, negatives])["mnrl"]
    # anchor 0 keeps (0.8, 0.0 in-batch, 1.0 masked, 1.0 masked); anchor 1 keeps (1.0, 0.6, 0.0, 0.0)
    row0 = -0.8 + math.log(math.exp(0.8) + math.exp(0.0))
    row1 = -1.0 + math.log(math.exp(1.0) + math.exp(0.6) + 2 * math.exp(0.0))
    assert masked.item() == pytest.approx((row0 + row1) / 2, abs=1e-6)
    unmasked = CombinedLoss(tiny_model, weights={"mnrl": 1.0}, scale=1.0, false_negative_margin=-10.0)  # masks none
    plain = CombinedLoss(tiny_model, weights={"mnrl": 1.0}, scale=1.0)
    embeddings = [anchors, positives, negatives]
    assert unmasked.compute_loss_from_embeddings(embeddings)["mnrl"].item() == pytest.approx(
        plain.compute_loss_from_embeddings(embeddings)["mnrl"].item(), abs=1e-6
    )
    with pytest.raises(ValueError, match="margin_strategy"):
        CombinedLoss(tiny_model, false_negative_margin=0.1, margin_strategy="sometimes")


def test_per_example_negatives_by_hand(tiny_model):
    loss = CombinedLoss(tiny_model, weights={"mnrl": 1.0}, scale=1.0, in_batch_negatives=False)
    anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    positives = torch.tensor([[0.8, 0.6], [0.0, 1.0]])
    negatives = torch.tensor([[0.6, 0.8], [1.0, 0.0]])
    value = loss.compute_loss_from_embeddings([anchors, positives, negatives])["mnrl"]
    row0 = -0.8 + math.log(math.exp(0.8) + math.exp(0.6))  # its positive and its own negative only
    row1 = -1.0 + math.log(math.exp(1.0) + math.exp(0.0))
    assert value.item() == pytest.approx((row0 + row1) / 2, abs=1e-6)
    shared = CombinedLoss(tiny_model, weights={"mnrl": 1.0}, scale=1.0)
    assert shared.compute_loss_from_embeddings([anchors, positives, negatives])["mnrl"].item() > value.item()

"""A weighted combination of MultipleNegativesRankingLoss, ContrastiveLoss and CosineSimilarityLoss that encodes
each text of the batch once.

The three components are sentence-transformers' own loss modules, called through their
``compute_loss_from_embeddings``: the combination adds no loss math of its own. It returns a dictionary of
weighted components, which ``SentenceTransformerTrainer`` sums and logs one by one.

References:
    Henderson et al., "Efficient Natural Language Response Suggestion for Smart Reply", 2017 (MNRL);
    Hadsell, Chopra and LeCun, "Dimensionality Reduction by Learning an Invariant Mapping", CVPR 2006 (contrastive);
    Reimers and Gurevych, "Sentence-BERT", EMNLP 2019 (cosine similarity loss);
    Solatorio, "GISTEmbed: Guided In-sample Selection of Training Negatives", 2024 (false-negative masking);
    Kalantidis et al., "Hard Negative Mixing for Contrastive Learning", NeurIPS 2020 (MoCHi, the mixing option).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

DEFAULT_WEIGHTS = {"mnrl": 0.6, "contrastive": 0.3, "cosine": 0.1}


def _embed(model, sentence_features: Iterable[dict[str, Tensor]]) -> list[Tensor]:
    """Embeddings of every column, in one merged forward pass where sentence-transformers can merge them."""
    try:
        from sentence_transformers.base.losses.merged_forward import embed_columns
    except ImportError:  # older sentence-transformers: one forward per column
        return [model(features)["sentence_embedding"] for features in sentence_features]
    return embed_columns(model, sentence_features)


class CombinedLoss(nn.Module):
    """``w_mnrl * MNRL + w_contrastive * Contrastive + w_cosine * CosineSimilarity`` on (anchor, positive,
    negative_1..k) batches.

    Args:
        model: the ``SentenceTransformer`` being trained.
        weights: component -> weight (``mnrl``, ``contrastive``, ``cosine``); 0 leaves a component out.
        scale: MNRL's scale (1 / temperature).
        contrastive_margin: ContrastiveLoss's margin on the cosine distance.
        weights_as_cosine_targets: when the batch has labels (a ``label`` or ``score`` column, e.g. the pairs'
            ``weight``), use them as the cosine targets of the positives instead of 1.0.
        false_negative_margin: when set, MNRL drops every candidate (in-batch or hard) that the guide scores above
            the anchor's own positive less this margin, as ``GISTEmbedLoss`` does: a likely false negative.
        margin_strategy: ``absolute`` (threshold ``s_pos - margin``) or ``relative`` (``s_pos - |s_pos| * margin``).
        guide: a ``SentenceTransformer`` with the same tokenizer that scores the candidates for the masking; None
            uses the model being trained (its own embeddings, detached: no extra forward pass).
        in_batch_negatives: True (shared negatives): every anchor is scored against every positive and negative in
            the batch; False (per-example): only against its own positive and its own hard negatives.
        track_scores: keep the last batch's anchor-candidate cosine scores (detached) in ``last_scores``, for
            :class:`~negmine.training.temperature.TemperatureController`.
        mix_negatives: MoCHi's ``s``: synthetic negatives a row mixed from two of its hardest candidates
            (:func:`~negmine.losses.mixing.mix_hard_negatives`); 0 turns mixing off.
        mix_anchor_negatives: MoCHi's ``s'``: synthetic negatives mixed from the anchor and a hard candidate.
        mix_hardest: ``N``, the hardest candidates a row mixes from.
        mix_detach: no gradient through the mixed points (MoCHi); False lets it flow into the mixed embeddings.
        mix_seed: seeds the mixing's draws.
        gather_across_devices: under DistributedDataParallel, MNRL scores each process's anchors against the
            positives and negatives of every process (gathered with gradients, as sentence-transformers' own
            ``MultipleNegativesRankingLoss(gather_across_devices=True)`` does), so N processes with batch b see the
            in-batch negatives of one batch N x b; the pair components stay per process. No effect in one process.

    Inputs:
        +----------------------------------------------+--------------------------------+
        | Texts                                        | Labels                         |
        +==============================================+================================+
        | (anchor, positive, negative_1, ..., negative_k) | none, or a weight per example |
        +----------------------------------------------+--------------------------------+

    How the components see the batch: MNRL takes the whole tuple (in-batch negatives plus the hard ones);
    ContrastiveLoss and CosineSimilarityLoss take the pairs (anchor, positive) with label 1 (or the weight) and
    (anchor, negative_i) with label 0.

    Example:
        >>> from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer  # doctest: +SKIP
        >>> loss = CombinedLoss(model, weights={"mnrl": 0.6, "contrastive": 0.3, "cosine": 0.1})  # doctest: +SKIP
        >>> trainer = SentenceTransformerTrainer(model=model, train_dataset=triplets, loss=loss)  # doctest: +SKIP
    """

    def __init__(
        self,
        model,
        weights: dict[str, float] | None = None,
        scale: float = 20.0,
        contrastive_margin: float = 0.5,
        weights_as_cosine_targets: bool = False,
        false_negative_margin: float | None = None,
        margin_strategy: str = "absolute",
        guide=None,
        in_batch_negatives: bool = True,
        track_scores: bool = False,
        mix_negatives: int = 0,
        mix_anchor_negatives: int = 0,
        mix_hardest: int = 8,
        mix_detach: bool = True,
        mix_seed: int = 0,
        gather_across_devices: bool = False,
    ):
        super().__init__()
        from sentence_transformers.sentence_transformer.losses import (
            ContrastiveLoss,
            CosineSimilarityLoss,
            MultipleNegativesRankingLoss,
        )

        self.model = model
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        unknown = set(self.weights) - set(DEFAULT_WEIGHTS)
        if unknown or any(w < 0 for w in self.weights.values()):
            raise ValueError(f"weights take components {sorted(DEFAULT_WEIGHTS)} with values >= 0, got {self.weights}")
        self.scale = scale
        self.contrastive_margin = contrastive_margin
        self.weights_as_cosine_targets = weights_as_cosine_targets
        self.gather_across_devices = gather_across_devices
        self.mnrl = MultipleNegativesRankingLoss(model, scale=scale, gather_across_devices=gather_across_devices)
        self.contrastive = ContrastiveLoss(model, margin=contrastive_margin)
        self.cosine = CosineSimilarityLoss(model)
        if margin_strategy not in ("absolute", "relative"):
            raise ValueError(f"margin_strategy must be 'absolute' or 'relative', got {margin_strategy!r}")
        if guide is not None and guide.tokenizer.get_vocab() != model.tokenizer.get_vocab():
            raise ValueError("the guide model must share the trained model's tokenizer")
        self.false_negative_margin = false_negative_margin
        self.margin_strategy = margin_strategy
        self.guide = guide
        self.in_batch_negatives = in_batch_negatives
        self.track_scores = track_scores
        self.last_scores: Tensor | None = None
        if min(mix_negatives, mix_anchor_negatives) < 0 or mix_hardest < 1:
            raise ValueError("mix_negatives and mix_anchor_negatives must be >= 0 and mix_hardest >= 1")
        self.mix_negatives, self.mix_anchor_negatives = mix_negatives, mix_anchor_negatives
        self.mix_hardest, self.mix_detach, self.mix_seed = mix_hardest, mix_detach, mix_seed
        self._mix_generator = torch.Generator().manual_seed(mix_seed)

    def forward(
        self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None
    ) -> dict[str, Tensor]:
        """The weighted components (the trainer sums and logs them); see :meth:`compute_loss_from_embeddings`."""
        sentence_features = list(sentence_features)
        guide_embeddings = None
        if self.guide is not None and self.false_negative_margin is not None:
            with torch.no_grad():  # shallow copies: the model writes its outputs into the features it is given
                guide_embeddings = _embed(self.guide, [dict(f) for f in sentence_features])
        embeddings = _embed(self.model, sentence_features)
        return self.compute_loss_from_embeddings(embeddings, labels, guide_embeddings)

    def compute_loss_from_embeddings(
        self, embeddings: list[Tensor], labels: Tensor | None = None, guide_embeddings: list[Tensor] | None = None
    ) -> dict[str, Tensor]:
        """Weighted components from the column embeddings ``[anchor, positive, negative_1, ...]`` (and the guide's
        embeddings of the same columns, for the false-negative masking; None: the model's own, detached)."""
        if len(embeddings) < 2:
            raise ValueError(f"CombinedLoss needs (anchor, positive[, negatives...]) columns, got {len(embeddings)}")
        anchor, others = embeddings[0], embeddings[1:]
        if self.track_scores:
            from sentence_transformers.util import cos_sim

            self.last_scores = cos_sim(anchor, torch.cat(others)).detach()
        batch = anchor.size(0)
        device = anchor.device
        pair_anchor = anchor.repeat(len(others), 1)
        pair_other = torch.cat(others, dim=0)
        binary = torch.cat([torch.ones(batch, device=device), torch.zeros(batch * (len(others) - 1), device=device)])
        targets = binary
        if self.weights_as_cosine_targets and labels is not None and labels.numel() == batch:
            targets = torch.cat([labels.float().view(-1).to(device), binary[batch:]])
        components = {
            "mnrl": lambda: (
                self.mnrl.compute_loss_from_embeddings(embeddings, labels)
                if self.false_negative_margin is None and self.in_batch_negatives and not self.mixing
                else self._masked_mnrl(embeddings, guide_embeddings)
            ),
            "contrastive": lambda: self.contrastive.compute_loss_from_embeddings([pair_anchor, pair_other], binary),
            "cosine": lambda: self.cosine.compute_loss_from_embeddings([pair_anchor, pair_other], targets),
        }
        return {name: weight * components[name]() for name, weight in self.weights.items() if weight > 0}

    @property
    def mixing(self) -> bool:
        """Whether MNRL gets MoCHi's synthetic negatives."""
        return bool(self.mix_negatives or self.mix_anchor_negatives)

    def set_scale(self, scale: float) -> None:
        """Change MNRL's scale (1 / temperature) during training."""
        self.scale = scale
        self.mnrl.scale = scale

    def _masked_mnrl(self, embeddings: list[Tensor], guide_embeddings: list[Tensor] | None) -> Tensor:
        """MNRL over (positive, in-batch and hard candidates) with masked candidates set to -inf: the guide's likely
        false negatives (the mask of ``GISTEmbedLoss`` with ``contrast_anchors=contrast_positives=False``, for k
        negatives) and, for per-example negatives, every other row's candidates; with mixing, MoCHi's synthetic
        negatives from the candidates left join the logits. With ``gather_across_devices`` the candidates are every
        process's (column ``c * world_batch + global row``) and this process's rows start at ``rank * batch``."""
        from sentence_transformers.util import all_gather_with_grad, cos_sim

        from negmine.distributed import rank
        from negmine.losses.mixing import mix_hard_negatives

        others, guide = embeddings[1:], None
        if self.false_negative_margin is not None:
            guide = [e.detach() for e in (embeddings if guide_embeddings is None else guide_embeddings)]
        batch = embeddings[0].size(0)
        offset = 0
        if self.gather_across_devices:
            others = [all_gather_with_grad(column) for column in others]
            guide = None if guide is None else guide[:1] + [all_gather_with_grad(column) for column in guide[1:]]
            offset = rank() * batch  # 0 outside DistributedDataParallel
        world_batch = others[0].size(0)
        candidates = torch.cat(others)
        scores = cos_sim(embeddings[0], candidates)
        rows = torch.arange(batch, device=scores.device)
        own_positive = rows + offset
        mask = torch.zeros_like(scores, dtype=torch.bool)
        if guide is not None:
            guided = cos_sim(guide[0], torch.cat(guide[1:]))
            positive = guided[rows, own_positive].view(-1, 1)
            slack = self.false_negative_margin * (positive.abs() if self.margin_strategy == "relative" else 1.0)
            mask = guided > positive - slack
        if not self.in_batch_negatives:  # only the row's own columns: positive g, negatives world_batch * j + g
            own = (torch.arange(scores.size(1), device=scores.device) % world_batch)[None, :] == own_positive[:, None]
            mask = mask | ~own
        mask[rows, own_positive] = False  # never the anchor's own positive
        logits = scores.masked_fill(mask, -torch.inf)
        if self.mixing:
            excluded = mask.clone()
            excluded[rows, own_positive] = True  # the own positive is not a negative to mix
            mixed = mix_hard_negatives(embeddings[0], candidates, excluded, self.mix_negatives,
                                       self.mix_anchor_negatives, self.mix_hardest, self.mix_detach,
                                       self._mix_generator)  # fmt: skip
            logits = torch.cat([logits, mixed], dim=1)
        return nn.functional.cross_entropy(logits * self.scale, own_positive)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "false_negative_margin": self.false_negative_margin,
            "in_batch_negatives": self.in_batch_negatives,
            "gather_across_devices": self.gather_across_devices,
            "margin_strategy": self.margin_strategy,
            "guide": None if self.guide is None else type(self.guide).__name__,
            "weights": self.weights,
            "scale": self.scale,
            "contrastive_margin": self.contrastive_margin,
            "weights_as_cosine_targets": self.weights_as_cosine_targets,
            **({"mix_negatives": self.mix_negatives, "mix_anchor_negatives": self.mix_anchor_negatives,
                "mix_hardest": self.mix_hardest, "mix_detach": self.mix_detach, "mix_seed": self.mix_seed}
               if self.mixing else {}),
        }

    @property
    def citation(self) -> str:
        return self.mnrl.citation

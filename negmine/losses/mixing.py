"""Hard-negative mixing in embedding space (MoCHi): synthetic negatives made from the batch's embeddings, with no
extra forward pass.

For each anchor q, with its N hardest candidates (highest cosine, its own positive and masked candidates left out):
``s`` points ``normalize(a * n_i + (1 - a) * n_j)`` with n_i, n_j drawn from them and a ~ U(0, 1), and ``s'`` points
``normalize(b * q + (1 - b) * n_j)`` with b ~ U(0, 0.5), harder still because they lean towards the anchor. Their
cosine with q joins the MNRL logits as extra negatives.

Gradient: in MoCHi the mixed points are built from a momentum encoder's keys and receive no gradient. Here they
are built from the model's own embeddings, so it is a choice: with ``detach=True`` (the default, as MoCHi) the
gradient reaches the anchor through ``q . h`` but not the candidates (nor the anchor's own share of an ``s'``
point); with ``detach=False`` it flows through the mixing into every embedding mixed.

References:
    Kalantidis et al., "Hard Negative Mixing for Contrastive Learning", NeurIPS 2020.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F


def mix_hard_negatives(
    anchors: Tensor,
    candidates: Tensor,
    excluded: Tensor,
    negatives: int,
    anchor_negatives: int = 0,
    hardest: int = 8,
    detach: bool = True,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Cosine scores of each anchor with its synthetic negatives, shape ``(batch, negatives + anchor_negatives)``.

    Args:
        anchors: ``(batch, dim)`` anchor embeddings.
        candidates: ``(n, dim)`` candidate embeddings (in-batch positives and hard negatives).
        excluded: ``(batch, n)`` True where a candidate may not be mixed for that anchor (its own positive, masked
            false negatives, other rows' candidates with per-example negatives).
        negatives: ``s``, points mixed from two hard candidates.
        anchor_negatives: ``s'``, points mixed from the anchor and one hard candidate.
        hardest: ``N``, how many of the hardest candidates are mixed.
        detach: no gradient through the mixed points' sources (MoCHi's behaviour).
        generator: the random generator for the picks and coefficients (seeded by the caller).

    Returns:
        The scores. Picks are drawn among a row's usable candidates (fewer than N when most are excluded); a row
        with none gets -inf, which the softmax ignores.

    Example:
        >>> anchors = torch.tensor([[1.0, 0.0]]); candidates = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
        >>> excluded = torch.tensor([[True, False]])
        >>> mix_hard_negatives(anchors, candidates, excluded, negatives=1, hardest=1)  # the only hard one: itself
        tensor([[0.6000]])
    """
    a = F.normalize(anchors, dim=-1)
    c = F.normalize(candidates, dim=-1)
    batch = a.size(0)
    depth = max(1, min(hardest, c.size(0)))
    with torch.no_grad():
        scores = (a @ c.T).masked_fill(excluded, -torch.inf)
        top_scores, top = scores.topk(depth, dim=1)
    sources = c[top]  # (batch, N, dim)
    anchor_part = a
    if detach:
        sources, anchor_part = sources.detach(), a.detach()
    device = a.device
    rows = torch.arange(batch, device=device)[:, None]
    usable = torch.isfinite(top_scores).sum(dim=1, keepdim=True).clamp(min=1).cpu()  # sorted: usable slots first

    def pick(width: int) -> Tensor:
        return (torch.rand(batch, width, generator=generator) * usable).long().to(device)

    points, valid = [], []
    if negatives:
        i, j = pick(negatives), pick(negatives)
        alpha = torch.rand(batch, negatives, 1, generator=generator).to(device, a.dtype)
        points.append(F.normalize(alpha * sources[rows, i] + (1 - alpha) * sources[rows, j], dim=-1))
        valid.append(torch.isfinite(top_scores[rows, i]) & torch.isfinite(top_scores[rows, j]))
    if anchor_negatives:
        j = pick(anchor_negatives)
        beta = 0.5 * torch.rand(batch, anchor_negatives, 1, generator=generator).to(device, a.dtype)
        points.append(F.normalize(beta * anchor_part[:, None, :] + (1 - beta) * sources[rows, j], dim=-1))
        valid.append(torch.isfinite(top_scores[rows, j]))
    if not points:
        return a.new_zeros(batch, 0)
    mixed = torch.einsum("bd,bkd->bk", a, torch.cat(points, dim=1))
    return mixed.masked_fill(~torch.cat(valid, dim=1), -torch.inf)

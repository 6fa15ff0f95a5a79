"""``BallTreeEvaluator``: is each point's true counterpart among its k nearest counters, and how much probability
does the model give the true pair; a cheap monitor for training (no ranking metrics over a whole corpus).

References:
    The BallTree bi-encoder design this package follows (top-k accuracy over a tree of the counter side);
    Henderson et al., "Efficient Natural Language Response Suggestion for Smart Reply", 2017 (the softmax over
    candidates that the pair probability reads).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sentence_transformers.evaluation import SentenceEvaluator

from negmine.search.balltree import ExactIndex


class BallTreeEvaluator(SentenceEvaluator):
    """Top-k accuracy and pair probability of (point, counter) pairs, for ``SentenceTransformerTrainer``.

    Args:
        points: texts of one side (e.g. claims).
        counters: texts of the other side (e.g. abstracts).
        pairs: ``(point index, counter index)`` true pairs.
        k: the cut-offs of the top-k accuracy.
        scale: the softmax scale of the pair probability (MNRL's 20 by default).
        name: prefixes the metric names (``eval_NAME_top10_accuracy`` in the trainer's log).
        batch_size: encoding batch size.
        backend: ``balltree`` or ``faiss`` (the same neighbours).

    Returns:
        Calling it with a model gives ``{top{k}_accuracy ..., pair_probability}`` (prefixed by ``name``);
        ``primary_metric`` is the largest k's accuracy.

    Example:
        >>> evaluator = BallTreeEvaluator(claims, abstracts, [(0, 3), (1, 7)], k=(1, 10))  # doctest: +SKIP
        >>> evaluator(model)["top10_accuracy"]  # doctest: +SKIP
        1.0
    """

    def __init__(
        self,
        points: Sequence[str],
        counters: Sequence[str],
        pairs: Sequence[tuple[int, int]],
        k: Sequence[int] = (1, 10),
        scale: float = 20.0,
        name: str = "",
        batch_size: int = 32,
        backend: str = "balltree",
        show_progress_bar: bool = False,
    ):
        super().__init__()
        self.points, self.counters = list(points), list(counters)
        self.pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        self.k = sorted(set(k))
        self.scale = scale
        self.name = name
        self.batch_size = batch_size
        self.backend = backend
        self.show_progress_bar = show_progress_bar
        self.primary_metric = f"top{self.k[-1]}_accuracy"

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        encode = dict(batch_size=self.batch_size, show_progress_bar=self.show_progress_bar, normalize_embeddings=True)
        points = model.encode(self.points, **encode)
        counters = model.encode(self.counters, **encode)
        metrics = self.compute(points, counters)
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def compute(self, points: np.ndarray, counters: np.ndarray) -> dict[str, float]:
        """The metrics from normalised embeddings (no model).

        Example:
            >>> points = np.array([[1.0, 0.0], [0.0, 1.0]]); counters = np.array([[1.0, 0.0], [0.6, 0.8]])
            >>> evaluator = BallTreeEvaluator(["a", "b"], ["c", "d"], [(0, 0), (1, 0)], k=(1, 2))
            >>> metrics = evaluator.compute(points, counters)
            >>> {name: round(value, 4) for name, value in metrics.items()}
            {'top1_accuracy': 0.5, 'top2_accuracy': 1.0, 'pair_probability': 0.4998}
        """
        anchors, truth = points[self.pairs[:, 0]], self.pairs[:, 1]
        found = ExactIndex(counters, self.backend).search(anchors, self.k[-1]).indices
        metrics = {f"top{k}_accuracy": float((found[:, :k] == truth[:, None]).any(axis=1).mean()) for k in self.k}
        logits = self.scale * anchors @ counters.T
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        metrics["pair_probability"] = float(probabilities[np.arange(len(truth)), truth].mean())
        return metrics

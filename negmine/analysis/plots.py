"""The analysis plots (matplotlib, Agg backend): score violins, a UMAP map, evolution curves over checkpoints and
refreshes, and hardness against diversity coloured by nDCG@10.

References:
    McInnes et al., 2018, "UMAP: Uniform Manifold Approximation and Projection"; van der Maaten & Hinton, 2008,
    "Visualizing Data using t-SNE" (the fallback).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError("plots need matplotlib: pip install 'negmine[viz]'") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path, rect: tuple[float, float, float, float] | None = None) -> Path:
    fig.tight_layout(rect=rect)  # rect: the share of the figure the panels may take (room for a figure legend)
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def score_violins(scores: dict[str, dict[str, np.ndarray]], path: Path) -> Path:
    """Positive and negative reference scores side by side, per set and per ``negative_source``.

    Args:
        scores: set name -> ``{"positive": s(q,p), "negative": s(q,n), "sources": source of each negative}``.
        path: the PNG to write.

    Returns:
        ``path``.
    """
    plt = _pyplot()
    groups, labels, colours = [], [], []
    for name, values in scores.items():
        groups.append(values["positive"])
        labels.append(f"{name}\npositives")
        colours.append("tab:green")
        sources = values["sources"]
        for source in sorted(set(sources.tolist())):
            groups.append(values["negative"][sources == source])
            labels.append(f"{name}\nneg: {source}")
            colours.append("tab:red")
    width = max(6.0, 1.1 * len(groups))
    fig, ax = plt.subplots(figsize=(min(width, 24), 4.8))
    parts = ax.violinplot(groups, showmedians=True, widths=0.8)
    for body, colour in zip(parts["bodies"], colours, strict=True):
        body.set_facecolor(colour)
        body.set_alpha(0.5)
    ax.set_xticks(range(1, len(groups) + 1), labels, rotation=30 if len(groups) > 6 else 0, ha="right"
                  if len(groups) > 6 else "center", fontsize=8)  # fmt: skip
    ax.set_ylabel("reference cosine score s(q, ·)")
    ax.set_title("Positive vs negative scores (reference encoder)")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def embedding_map(vectors: np.ndarray, kinds: list[str], path: Path, seed: int = 0, title: str = "") -> Path:
    """A 2-D map (UMAP with ``random_state=seed``, t-SNE when umap-learn is missing) of claims, positives and
    negatives, coloured by kind and source."""
    plt = _pyplot()
    try:
        import umap

        method = "UMAP"
        xy = umap.UMAP(n_neighbors=15, min_dist=0.1, metric="cosine", random_state=seed).fit_transform(vectors)
    except ImportError:
        from sklearn.manifold import TSNE

        method = "t-SNE"
        xy = TSNE(n_components=2, metric="cosine", random_state=seed, init="random").fit_transform(vectors)
    fig, ax = plt.subplots(figsize=(11, 6.5))
    kinds_array = np.array(kinds, dtype=object)
    markers = {"claim": ("x", "black"), "positive": ("o", "tab:green")}
    palette = iter(plt.get_cmap("tab10").colors[1:])
    for kind in ["claim", "positive", *sorted({k for k in kinds if k not in markers})]:
        mask = kinds_array == kind
        if not mask.any():
            continue
        marker, colour = markers.get(kind, (".", next(palette)))
        ax.scatter(xy[mask, 0], xy[mask, 1], s=9, marker=marker, c=[colour], alpha=0.6,
                   label=f"{kind} ({int(mask.sum())})")  # fmt: skip
    ax.set_xlabel(f"{method} 1")
    ax.set_ylabel(f"{method} 2")
    ax.set_title(title or f"{method} map of claims, positives and negatives (reference encoder)")
    ax.legend(fontsize=8, markerscale=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: points stay visible
    return _save(fig, path)


EVOLUTION = [("hardness.margin.mean", "mean margin s(q,p) - s(q,n)"), ("diversity.vendi", "Vendi score"),
             ("gap.score_wasserstein", "Wasserstein(pos, neg scores)"), ("ndcg", "validation nDCG@10")]  # fmt: skip


def evolution(records: list[dict], dynamics: list[dict], path: Path) -> Path | None:
    """Hardness, diversity, gap and validation nDCG@10 of each run's negatives measured with each checkpoint (and
    the trained model), over training steps; a dynamic run's refresh history adds its score gap."""
    plt = _pyplot()
    series: dict[str, dict[int, dict]] = {}
    for r in records:
        if r.get("source") == "all" and r.get("step") is not None and r["encoder"] != "reference":
            by_step = series.setdefault(r["set"], {})
            # the final model and the last checkpoint share a step (and weights): keep the checkpoint's record
            if r["step"] not in by_step or r["encoder"].startswith("checkpoint-"):
                by_step[r["step"]] = r
    series = {name: [rows[s] for s in sorted(rows)] for name, rows in series.items() if len(rows) >= 2}
    if not series and not dynamics and not any(str(r.get("negatives_at", "")).startswith("refresh-01")
                                               for r in records):  # fmt: skip
        return None
    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    for ax, (_, label) in zip(axes, EVOLUTION, strict=True):
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("training step")
    if not series:  # no checkpoints measured: only the refresh history has points
        axes[3].text(0.5, 0.5, "not measured:\nno checkpoints analysed", ha="center", va="center", fontsize=9,
                     transform=axes[3].transAxes, color="0.4")  # fmt: skip
        axes[3].set_xticks([])
        axes[3].set_yticks([])
    for name, rows in series.items():
        steps = [r["step"] for r in rows]
        for ax, (key, _) in zip(axes, EVOLUTION, strict=True):
            if key == "ndcg":
                values = [r.get("checkpoint.validation.ndcg@10", r.get("validation.ndcg@10")) for r in rows]
            else:
                values = [r.get(key) for r in rows]
            ax.plot(steps, [np.nan if v is None else v for v in values], marker="o",
                    label=f"{name} (its starting negatives, each checkpoint)")  # fmt: skip
    moving: dict[str, list[dict]] = {}  # a dynamic run's negatives at each refresh, with the reference encoder
    for r in records:
        if r.get("source") == "all" and r["encoder"] == "reference" and str(r.get("negatives_at", "")).startswith(
                "refresh-") and r.get("step") is not None:  # fmt: skip
            moving.setdefault(r["set"], []).append(r)
    for name, rows in moving.items():
        rows = sorted(rows, key=lambda r: r["step"])
        for ax, (key, _) in zip(axes[:3], EVOLUTION[:3], strict=True):
            ax.plot([r["step"] for r in rows], [r.get(key) for r in rows], linestyle=":", marker="^",
                    label=f"{name} (negatives at each refresh, reference encoder)")  # fmt: skip
    refresh: dict[str, list[dict]] = {}
    for entry in dynamics:
        if entry.get("score_gap") is not None:
            refresh.setdefault(entry["set"], []).append(entry)
    for name, rows in refresh.items():
        axes[0].plot([r["step"] for r in rows], [r["score_gap"] for r in rows], linestyle="--", marker="s",
                     label=f"{name} (refresh score gap, training model)")  # fmt: skip
    for ax in axes:
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()  # below the panels: a legend inside hid the points
    fig.legend(handles, labels, loc="lower center", ncol=min(3, max(1, len(labels))), fontsize=8, frameon=False)
    fig.suptitle("Negatives measured with each checkpoint of the model that trained on them", fontsize=11)
    return _save(fig, path, rect=(0, 0.06 * ((len(labels) + 2) // 3), 1, 1))


def hardness_diversity(records: list[dict], path: Path) -> Path | None:
    """One point per run: the mean margin (reference encoder, lower = harder) against the Vendi score of its
    negatives, coloured by validation nDCG@10."""
    plt = _pyplot()
    points = [r for r in records if r.get("source") == "all" and r["encoder"] == "reference"
              and r.get("validation.ndcg@10") is not None
              and not (str(r.get("negatives_at", "")).startswith("refresh-") and r["negatives_at"] != "refresh-00")]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(7, 5.5))
    x = [r["hardness.margin.mean"] for r in points]
    y = [r["diversity.vendi"] for r in points]
    c = [r["validation.ndcg@10"] for r in points]
    dots = ax.scatter(x, y, c=c, cmap="viridis", s=60, edgecolors="black")
    middle = (min(x) + max(x)) / 2
    for r, xi, yi in zip(points, x, y, strict=True):
        right = xi > middle  # labels of the right half go to the left of their point, so none is clipped
        ax.annotate(r["set"], (xi, yi), fontsize=7, xytext=(-5 if right else 5, 4), textcoords="offset points",
                    ha="right" if right else "left")  # fmt: skip
    ax.margins(0.2)  # room for the labels
    fig.colorbar(dots, ax=ax, label="validation nDCG@10")
    ax.set_xlabel("mean margin s(q,p) - s(q,n), reference encoder (lower = harder)")
    ax.set_ylabel("Vendi score of the negatives (higher = more diverse)")
    ax.set_title("Hardness vs diversity, one point per run")
    ax.grid(alpha=0.3)
    return _save(fig, path)

"""The analysis plots (matplotlib, Agg backend): score violins, a UMAP map, evolution curves over checkpoints and
refreshes, and hardness against diversity coloured by nDCG@10.

References:
    McInnes et al., 2018, "UMAP: Uniform Manifold Approximation and Projection"; van der Maaten & Hinton, 2008,
    "Visualizing Data using t-SNE" (the fallback).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np


def pyplot():
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError("plots need matplotlib: pip install 'negmine[viz]'") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path, rect: tuple[float, float, float, float] | None = None, layout: bool = True) -> Path:
    if layout:  # rect: the share of the figure the panels may take (room for a figure legend)
        fig.tight_layout(rect=rect)
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path


def score_violins(scores: dict[str, dict[str, np.ndarray]], path: Path, columns: int = 4) -> Path:
    """Positive and negative reference scores side by side, one panel per set (small multiples on a shared score
    axis), one violin for the positives and one per ``negative_source``.

    Args:
        scores: set name -> ``{"positive": s(q,p), "negative": s(q,n), "sources": source of each negative}``.
        path: the PNG to write.
        columns: panels a row.

    Returns:
        ``path``.
    """
    plt = pyplot()
    names = list(scores)
    columns = max(1, min(columns, len(names)))
    rows = -(-len(names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.9 * rows), sharey=True, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        values = scores[name]
        sources = values["sources"]
        groups, labels, colours = [values["positive"]], ["positives"], ["tab:green"]
        for source in sorted(set(sources.tolist())):
            groups.append(values["negative"][sources == source])
            labels.append(str(source))
            colours.append("tab:red")
        kept = [(g, label, c) for g, label, c in zip(groups, labels, colours, strict=True) if len(g)]
        parts = ax.violinplot([g for g, _, _ in kept], showmedians=True, widths=0.8)
        for body, (_, _, colour) in zip(parts["bodies"], kept, strict=True):
            body.set_facecolor(colour)
            body.set_alpha(0.5)
        slanted = len(kept) > 3 or max(len(label) for _, label, _ in kept) > 12
        ax.set_xticks(range(1, len(kept) + 1), [label for _, label, _ in kept], fontsize=7,
                      rotation=30 if slanted else 0, ha="right" if slanted else "center")  # fmt: skip
        ax.set_title(name, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("reference cosine s(q, ·)", fontsize=8)
    title = "Positive (green) vs negative (red) scores, reference encoder"
    fig.suptitle(textwrap.fill(title, width=max(20, int(11 * fig.get_figwidth()))), fontsize=10)  # fits one panel
    return save_figure(fig, path)


def embedding_map(vectors: np.ndarray, kinds: list[str], path: Path, seed: int = 0, title: str = "") -> Path:
    """A 2-D map (UMAP with ``random_state=seed``, t-SNE when umap-learn is missing) of claims, positives and
    negatives, coloured by kind and source."""
    plt = pyplot()
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
    return save_figure(fig, path)


EVOLUTION = [("hardness.margin.mean", "mean margin s(q,p) - s(q,n)"), ("diversity.vendi", "Vendi score"),
             ("gap.score_wasserstein", "Wasserstein(pos, neg scores)"), ("ndcg", "validation nDCG@10")]  # fmt: skip


def evolution(records: list[dict], dynamics: list[dict], path: Path) -> Path | None:
    """Hardness, diversity, gap and validation nDCG@10 of each run's negatives measured with each checkpoint (and
    the trained model), over training steps; a dynamic run's refresh history adds its score gap."""
    plt = pyplot()
    series: dict[str, dict[int, dict]] = {}
    for r in records:
        if r.get("source") == "all" and r.get("step") is not None and r["encoder"] != "reference":
            by_step = series.setdefault(r["set"], {})
            # the final model and the last checkpoint share a step (and weights): keep the checkpoint's record
            if r["step"] not in by_step or r["encoder"].startswith("checkpoint-"):
                by_step[r["step"]] = r
    series = {name: [rows[s] for s in sorted(rows)] for name, rows in series.items() if len(rows) >= 2}
    moving: dict[str, list[dict]] = {}  # a dynamic run's negatives at each refresh, with the reference encoder
    for r in records:
        if r.get("source") == "all" and r["encoder"] == "reference" and str(r.get("negatives_at", "")).startswith(
                "refresh-") and r.get("step") is not None:  # fmt: skip
            moving.setdefault(r["set"], []).append(r)
    refresh: dict[str, list[dict]] = {}
    for entry in dynamics:
        if entry.get("score_gap") is not None:
            refresh.setdefault(entry["set"], []).append(entry)
    # a curve needs two steps: a run that mined once (1 epoch, no refresh yet) has nothing that evolves
    moving = {name: sorted(rows, key=lambda r: r["step"]) for name, rows in moving.items()
              if len({r["step"] for r in rows}) >= 2}  # fmt: skip
    refresh = {name: rows for name, rows in refresh.items() if len({r["step"] for r in rows}) >= 2}
    if not series and not moving and not refresh:
        return None
    # one panel a quantity: the checkpoints' nDCG only where checkpoints were measured, and the refresh's score gap
    # (the training model's) on its own axis, never on the reference encoder's margin axis
    panels = [*EVOLUTION[:3], *(EVOLUTION[3:] if series else []),
              *([("score_gap", "refresh score gap, training model")] if refresh else [])]  # fmt: skip
    fig, axes = plt.subplots(1, len(panels), figsize=(4.3 * len(panels), 4), squeeze=False)
    axes = dict(zip((key for key, _ in panels), axes[0], strict=True))
    for (_, label), ax in zip(panels, axes.values(), strict=True):
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("training step")
    # one colour a strategy and one legend entry a (strategy, kind): a study's seeds share both, so 5 seeds of 3
    # strategies give 3 colours and a short legend instead of 15 entries
    names = [*series, *moving, *refresh]
    groups = list(dict.fromkeys(strategy_of(name) for name in names))
    colour = {g: f"C{i % 10}" for i, g in enumerate(groups)}
    runs = {g: len({n for n in names if strategy_of(n) == g}) for g in groups}
    labelled: set[tuple[str, str]] = set()

    def label(name: str, kind: str) -> str:
        group = strategy_of(name)
        if (group, kind) in labelled:
            return "_nolegend_"
        labelled.add((group, kind))
        return f"{group} ({kind}, {runs[group]} runs)" if runs[group] > 1 else f"{name} ({kind})"

    for name, rows in series.items():
        steps = [r["step"] for r in rows]
        text = label(name, "its starting negatives, each checkpoint")
        for key, _ in EVOLUTION:
            if key == "ndcg":
                values = [r.get("checkpoint.validation.ndcg@10", r.get("validation.ndcg@10")) for r in rows]
            else:
                values = [r.get(key) for r in rows]
            axes[key].plot(steps, [np.nan if v is None else v for v in values], marker="o", alpha=0.8,
                           color=colour[strategy_of(name)], label=text)  # fmt: skip
    for name, rows in moving.items():  # hollow markers on top: a series that coincides with another stays visible
        text = label(name, "negatives at each refresh, reference encoder")
        for key, _ in EVOLUTION[:3]:
            axes[key].plot([r["step"] for r in rows], [r.get(key) for r in rows], linestyle=":", marker="^",
                           markerfacecolor="none", markersize=8, color=colour[strategy_of(name)], zorder=3,
                           label=text)  # fmt: skip
    for name, rows in refresh.items():
        axes["score_gap"].plot([r["step"] for r in rows], [r["score_gap"] for r in rows], linestyle="--",
                               marker="s", alpha=0.8, color=colour[strategy_of(name)],
                               label=label(name, "refresh score gap, training model"))  # fmt: skip
    handles, labels = [], []
    for ax in axes.values():
        ax.grid(alpha=0.3)
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            if text not in labels:
                handles.append(handle)
                labels.append(text)
    fig.legend(handles, labels, loc="lower center", ncol=min(3, max(1, len(labels))), fontsize=8, frameon=False)
    fig.suptitle("The negatives over training: measured with each checkpoint, re-mined at each refresh", fontsize=11)
    return save_figure(fig, path, rect=(0, 0.06 * ((len(labels) + 2) // 3), 1, 1))


def strategy_of(run: str) -> str:
    """A study run's strategy: its name less the ``-seedN`` suffix (the name itself otherwise).

    Example:
        >>> strategy_of("balltree-decay-seed12"), strategy_of("static")
        ('balltree-decay', 'static')
    """
    import re

    return re.sub(r"-seed\d+$", "", run)


def spread_labels(ax, labels: list, avoid: list | None = None) -> None:
    """Give each annotation the first of a few nearby offsets (right, left, above, below its point, then further)
    at which it stays inside the axes and overlaps no label placed before it and no point in ``avoid``; one
    that fits nowhere takes the place that overlaps least. Labels stay next to their points, and nearby points'
    labels stay readable.

    Args:
        ax: the axes.
        labels: the annotations, placed in this order.
        avoid: (x, y) data points (the dots) no label may cover.
    """
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    ax.figure.canvas.draw()  # settles the autoscaled limits: transData is stale until a draw
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    offsets = [(5, 4), (-5, 4), (5, -11), (-5, -11), (5, 14), (-5, 14), (5, -21), (-5, -21), (5, 24), (-5, 24),
               (8, 34), (-8, 34), (8, -31), (-8, -31), (12, 46), (-12, 46), (12, -43), (-12, -43)]  # fmt: skip
    radius = (np.sqrt(45) / 2 + 1.5) * ax.figure.dpi / 72  # a dot's half width (s=45 points^2) and its edge, pixels
    dots = [Bbox.from_extents(px - radius, py - radius, px + radius, py + radius)
            for px, py in ax.transData.transform(np.asarray(avoid or [], dtype=float).reshape(-1, 2))]  # fmt: skip
    placed = []
    for label in labels:
        anchor = ax.transData.transform(label.xy)  # its own dot: the label sits beside it, by its offset
        others = [dot for dot in dots if abs(dot.x0 + radius - anchor[0]) + abs(dot.y0 + radius - anchor[1]) > 1]
        best = None  # (overlaps, outside, order): the first free place, else the least crowded one
        for order, (dx, dy) in enumerate(offsets):
            label.set_position((dx, dy))
            label.set_horizontalalignment("left" if dx > 0 else "right")
            box = Text.get_window_extent(label, renderer).expanded(1.03, 1.15)  # the text, not its leader line
            outside = not (frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1)
            score = (sum(box.overlaps(other) for other in [*placed, *others]), outside, order)
            best = min(best, score) if best else score
            if score[:2] == (0, False):
                break
        dx, dy = offsets[best[2]]
        label.set_position((dx, dy))
        label.set_horizontalalignment("left" if dx > 0 else "right")
        placed.append(Text.get_window_extent(label, renderer))


AXIS_LABELS = {"hardness.margin.mean": "mean margin s(q,p) - s(q,n), reference encoder (lower = harder)",
               "hardness.score.mean": "mean negative score s(q,n), reference encoder (higher = harder)",
               "diversity.vendi": "Vendi score of the negatives (higher = more diverse)"}  # fmt: skip


def hardness_diversity(records: list[dict], path: Path, hardness: str = "hardness.margin.mean",
                       diversity: str = "diversity.vendi") -> Path | None:  # fmt: skip
    """One point per independent unit: a hardness measure (default the mean margin, reference encoder) against a
    diversity measure (default the Vendi score) of its negatives, coloured by validation nDCG@10. Seeds that start
    from the same negatives sit on one spot and are one dot, at their mean quality; seeds with their own negatives
    are joined to their strategy's mean. Labels name the strategy and are kept off other labels and dots.

    The colour scale spans the quality of every dot drawn (each run where seeds have their own negatives), widened
    to at least four pooled seed sds, so that differences inside the seed noise look alike; a strategy far below the
    rest (its mean under the lower quartile of the means by more than 3 interquartile ranges) is drawn in grey and
    named on the colour bar instead of stretching it."""
    from matplotlib.colors import Normalize

    plt = pyplot()
    points = [r for r in records if r.get("source") == "all" and r["encoder"] == "reference"
              and r.get("validation.ndcg@10") is not None
              and not (str(r.get("negatives_at", "")).startswith("refresh-") and r["negatives_at"] != "refresh-00")]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(8, 6))
    x = np.array([r[hardness] for r in points])
    y = np.array([r[diversity] for r in points])
    c = np.array([r["validation.ndcg@10"] for r in points])
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(points):
        groups.setdefault(strategy_of(str(r["set"])), []).append(i)
    seeds = max(len(members) for members in groups.values()) > 1
    # seeds that start from the same negatives sit on one spot: one dot there, coloured by their mean quality
    shown = [(x[m].mean(), y[m].mean(), c[m].mean(), len(m)) if np.ptp(x[m]) == np.ptp(y[m]) == 0 else None
             for m in (np.array(members) for members in groups.values())]  # fmt: skip
    runs = [i for members, one in zip(groups.values(), shown, strict=True) if one is None for i in members]
    xs = np.concatenate([x[runs], [one[0] for one in shown if one]])
    ys = np.concatenate([y[runs], [one[1] for one in shown if one]])
    cs = np.concatenate([c[runs], [one[2] for one in shown if one]])
    names = list(groups)
    group_of = {i: name for name, members in groups.items() for i in members}
    drawn = [group_of[i] for i in runs] + [name for name, one in zip(names, shown, strict=True) if one]
    means = np.array([c[members].mean() for members in groups.values()])
    q1, q3 = np.percentile(means, [25, 75])
    floor = q1 - 3 * (q3 - q1) if len(means) >= 4 and q3 > q1 else -np.inf
    outliers = [name for name, m in zip(groups, means, strict=True) if m < floor]
    # the span covers every dot drawn (a single run below its strategy's mean included), outlier strategies aside
    kept = np.array([cs[k] for k, name in enumerate(drawn) if name not in outliers])
    low, high = float(kept.min()), float(kept.max())
    sds = [np.std(c[m], ddof=1) for m in groups.values() if len(m) > 1]
    noise = float(np.sqrt(np.mean(np.square(sds)))) if sds else 0.0
    if high - low < 4 * noise:  # a span inside the seed noise would paint noise as a gradient
        middle = (high + low) / 2
        low, high = middle - 2 * noise, middle + 2 * noise
    cmap = plt.get_cmap("viridis").with_extremes(under="0.7")
    dots = ax.scatter(xs, ys, c=cs, cmap=cmap, norm=Normalize(low, high), s=45, edgecolors="black")
    labels = []
    for name, members in sorted(groups.items(), key=lambda item: -float(y[item[1]].mean())):
        gx, gy = float(x[members].mean()), float(y[members].mean())
        if len(members) > 1 and np.ptp(x[members]) + np.ptp(y[members]) > 0:  # own negatives: joined to the mean
            for m in members:
                ax.plot([gx, x[m]], [gy, y[m]], color="grey", lw=0.6, alpha=0.6, zorder=0)
        text = f"{name} ({len(members)} seeds)" if seeds else str(points[members[0]]["set"])
        labels.append(ax.annotate(text, (gx, gy), fontsize=7, xytext=(5, 4), textcoords="offset points",
                                  arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.5, "shrinkA": 0,
                                              "shrinkB": 4}))  # a leader line: which dot a moved label names
    ax.margins(0.2)  # room for the labels
    bar = fig.colorbar(dots, ax=ax, extend="min" if outliers else "neither")
    noise_text = f"; pooled seed sd {100 * noise:.1f} points" if noise else ""
    bar.set_label(f"validation nDCG@10 (span {100 * (high - low):.1f} points{noise_text})"
                  + (f"\ngrey: {', '.join(outliers)} (far below the rest)" if outliers else ""))  # fmt: skip
    ax.set_xlabel(AXIS_LABELS.get(hardness, hardness))
    ax.set_ylabel(AXIS_LABELS.get(diversity, diversity))
    ax.set_title("Hardness vs diversity: one dot per set of negatives (seeds that share theirs are one dot)",
                 fontsize=10)  # fmt: skip
    ax.grid(alpha=0.3)
    fig.tight_layout()
    spread_labels(ax, labels, avoid=list(zip(xs, ys, strict=True)))
    return save_figure(fig, path, layout=False)  # a new layout would move the dots under labels placed for this one

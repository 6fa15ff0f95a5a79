"""The study's report: ``OUT/report/`` with ``study.json`` (runs, statistics, every analysis record),
``report.md``, a self-contained ``report.html`` and the plots (correlations with their intervals, hardness against
diversity coloured by quality, score violins, training dynamics where there are checkpoints or refreshes)."""

from __future__ import annotations

import json
from pathlib import Path

from negmine.analysis.report import report_html
from negmine.outputs import atomic_folder, json_default, markdown_table
from negmine.study.statistics import ALPHA


def _left_out(entry: dict | None) -> str:
    """The leave-one-strategy-out cell: ``[low, high] (name: rho)``."""
    if not entry or entry.get("low") is None:
        return ""
    return f"[{entry['low']:.2f}, {entry['high']:.2f}] ({entry['most_influential']}: {entry['rho_without']:.2f})"


def correlation_plot(correlations: list[dict], quality: str, path: Path) -> Path | None:
    """Spearman's rho of each metric with quality, with its 95% bootstrap interval, one bar a metric."""
    from negmine.analysis.plots import pyplot, save_figure

    rows = [c for c in correlations if c["spearman"] is not None]
    if not rows:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.5))
    y = range(len(rows))
    rho = [c["spearman"] for c in rows]
    errors = [[r - c["ci_low"] for r, c in zip(rho, rows, strict=True)],
              [c["ci_high"] - r for r, c in zip(rho, rows, strict=True)]]  # fmt: skip
    ax.barh(list(y), rho, xerr=errors, color=["tab:blue" if r > 0 else "tab:red" for r in rho], alpha=0.7,
            capsize=3)  # fmt: skip
    most = max(c["n"] for c in rows)
    ax.set_yticks(list(y), [c["metric"] + ("" if c["n"] == most else f" (n = {c['n']})") for c in rows], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlim(-1.05, 1.05)
    resampled = rows[0].get("resampled", "units")
    ax.set_xlabel(f"Spearman's rho with {quality}\n(95% bootstrap interval, resampling {resampled})")
    ax.set_title(f"Which properties of the negatives go with quality\n({most} independent units: runs that trained "
                 "on the same negatives count once)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)


def first_seeds(scores: dict, order: list[str] | None = None) -> dict:
    """One run a strategy (its lowest seed) for the score violins: the seeds' distributions barely differ, and one
    panel a run of a 16 x 3 grid would be unreadable. Panels follow ``order`` (the study file's strategies, so an
    ordered sweep reads left to right), then the name.

    Example:
        >>> list(first_seeds({"b-seed2": 1, "b-seed1": 2, "a-seed1": 3}, order=["b", "a"]))
        ['b-seed1', 'a-seed1']
    """
    import re

    chosen: dict[str, tuple[int, str]] = {}
    for name in scores:
        found = re.match(r"(.*)-seed(\d+)$", name)
        strategy, seed = (found.group(1), int(found.group(2))) if found else (name, 0)
        if strategy not in chosen or seed < chosen[strategy][0]:
            chosen[strategy] = (seed, name)
    rank = {name: i for i, name in enumerate(order or [])}
    ordered = sorted(chosen.items(), key=lambda item: (rank.get(item[0], len(rank)), item[1][1]))
    return {name: scores[name] for _, (_, name) in ordered}


def _fmt(value, digits: int = 4):
    return "" if value is None else (f"{value:.{digits}f}" if isinstance(value, float) else str(value))


def _over_queries(entry: dict | None) -> str:
    """The paired test over queries as one cell: mean difference, bootstrap interval, randomization p."""
    if not entry or entry.get("mean_diff") is None:
        return ""
    interval = "" if entry["ci"] is None else " [{:+.4f}, {:+.4f}]".format(*entry["ci"])
    p = "" if entry["p_randomization"] is None else f", p {entry['p_randomization']:.3f}"
    return f"{entry['mean_diff']:+.4f}{interval}{p} ({entry['queries']} q)"


def report_markdown(spec, stats: dict, runs: list[dict], plots: list[str], seconds: float, trained: list[str]) -> str:
    """The study's Markdown report."""
    key = spec.quality
    lines = [f"# Study: {spec.name}", "",
             f"{len(spec.strategies)} strategies x {len(spec.seeds)} seeds (seeds {spec.seeds}); {len(runs)} runs "
             f"finished, {len(trained)} trained by this call; budget for every strategy: "
             f"`{json.dumps(spec.budget)}`; quality: {key} on the validation split. Wall time of this call: "
             f"{seconds:.0f} s.", "",
             "## Strategies", "",
             "Quality over seeds; the hardness and diversity columns are the reference encoder's measure of each "
             "strategy's starting negatives (mean over its runs): the achieved values an ablation holds fixed or "
             "moves.", ""]  # fmt: skip
    summary = [{"strategy": s["strategy"], "seeds": s["seeds"], "units": s.get("units", ""),
                f"{key} mean": _fmt(s["mean"]),
                "sd": _fmt(s["sd"]), f"{spec.hardness}": _fmt(s.get("hardness"), 3),
                f"{spec.diversity}": _fmt(s.get("diversity"), 1), "wall s (mean)": _fmt(s["wall_s_mean"], 0)}
               for s in stats["summary"]]  # fmt: skip
    lines += [markdown_table(summary, list(summary[0])), ""]
    if stats["paired"]:
        title = f"Against {spec.baseline}" if spec.baseline and not spec.comparisons else "Paired comparisons"
        family = stats["paired"][0].get("family", len(stats["paired"]))
        count = len(stats["paired"])
        opening = (f"No comparison has two paired seeds yet, so none of the {count} below is tested: their "
                   f"differences are single seeds. Once seeds pair, they are one family: " if not family else
                   f"The {family} comparisons below are one family: ")
        lines += [f"## {title}, seed by seed", "",
                  opening + "each paired t-test's p is Holm-corrected over "
                  "all of them, and a difference is called better or worse only when the corrected p is below "
                  "0.05 (the uncorrected p beside it); otherwise it is inside the noise. The unit is the training "
                  "seed: where a strategy's negatives are the same on every seed (the units column of the table "
                  "above), the test measures training noise for those negatives, not mining noise. The interval is "
                  "the paired t's 95% interval of the mean difference over seeds (uncorrected). The queries column "
                  "averages each query over the shared seeds and tests over queries (bootstrap interval, paired "
                  "randomization p): query-sampling noise, where the seed test measures seed noise.", ""]  # fmt: skip
        paired = [{"strategy": p["strategy"], "against": p["baseline"],
                   "diffs": " ".join(f"{d:+.4f}" for d in p["diffs"]),
                   "mean": _fmt(p["mean_diff"]), "sd": _fmt(p["sd_diff"]),
                   "95% CI": "" if p.get("ci95_diff") is None else "[{:+.4f}, {:+.4f}]".format(*p["ci95_diff"]),
                   "wins": p["wins"],
                   "queries: mean diff [95% CI], p": _over_queries(p.get("over_queries")),
                   "p (paired t)": _fmt(p["p_paired_t"], 3), "p (Holm)": _fmt(p.get("p_holm"), 3),
                   "p (sign)": _fmt(p["p_sign"], 3),
                   "verdict": p["verdict"]} for p in stats["paired"]]  # fmt: skip
        lines += [markdown_table(paired, list(paired[0])), ""]
    units = stats.get("units", stats["runs_analysed"])
    lines += ["## Correlations of the negatives' metrics with quality", "",
              f"{units} independent units from {stats['runs_analysed']} runs with negatives: runs that trained on "
              "the same negatives (the same pairs, whatever their training seed) are one point, at their mean "
              "quality; runs without negatives have no point. Each point is the reference encoder's measure of "
              "the pairs it started from. Spearman and Kendall with their p-values (not corrected: they describe, "
              "they make no verdict), Spearman's 95% percentile bootstrap interval (resampling units, and "
              "queries when every run kept its per-query scores: the `resampled` key in study.json). The last "
              "column recomputes Spearman with each strategy's units left out in turn: its range, and the "
              "strategy whose removal moves it most (rho without it): a correlation one strategy carries shows "
              "there.", ""]  # fmt: skip
    table = [{"metric": c["metric"], "n": c["n"], "Spearman": _fmt(c["spearman"], 3), "p": _fmt(c["spearman_p"], 3),
              "95% CI": "" if c["ci_low"] is None else f"[{c['ci_low']:.2f}, {c['ci_high']:.2f}]",
              "Kendall": _fmt(c["kendall"], 3), "p (Kendall)": _fmt(c["kendall_p"], 3),
              "one strategy left out: range (most influential)": _left_out(c.get("leave_one_strategy_out"))}
             for c in stats["correlations"]]  # fmt: skip
    lines += [markdown_table(table, list(table[0])), ""]
    partial = stats["partial"]
    if partial["hardness_given_diversity"]:
        lines += ["## Partial correlations", "",
                  f"- hardness ({spec.hardness}) with quality, diversity held fixed: "
                  f"{_fmt(partial['hardness_given_diversity']['statistic'], 3)} "
                  f"(p {_fmt(partial['hardness_given_diversity']['pvalue'], 3)})",
                  f"- diversity ({spec.diversity}) with quality, hardness held fixed: "
                  f"{_fmt(partial['diversity_given_hardness']['statistic'], 3)} "
                  f"(p {_fmt(partial['diversity_given_hardness']['pvalue'], 3)})", ""]  # fmt: skip
    lines += curvature_lines(spec, stats.get("curvature") or {})
    fit = stats["interaction_fit"]
    if fit and fit.get("testable", True):
        lines += ["## Interaction fit", "",
                  f"quality = a·H + b·D + c·H·D + d on standardised H ({spec.hardness}) and D ({spec.diversity}), "
                  f"{fit['n']} units, R² {_fmt(fit['r2'], 3)}. The c·H·D term says whether one property's effect "
                  "depends on the other; it cannot show a sweet spot (that is the curvature test above).", ""]
        coef = [{"term": t, "coefficient": _fmt(fit[t]), "95% CI": f"[{fit[t + '_ci'][0]:.4f}, "
                 f"{fit[t + '_ci'][1]:.4f}]"} for t in ("hardness", "diversity", "interaction", "intercept")]
        lines += [markdown_table(coef, list(coef[0])), ""]
    elif fit:
        lines += ["## Interaction fit", "", f"Not testable with this design: {fit['why']}.", ""]
    if stats.get("geometry"):
        from negmine.study.geometry import geometry_summary

        table = geometry_summary(stats["geometry"], spec.quality.removeprefix("validation."))
        lines += ["## Geometry of the trained models (experiment D)", "",
                  "On the validation split's (claim, relevant abstract) pairs: alignment (mean squared distance "
                  "of a claim to its abstract; lower is closer), uniformity (log mean Gaussian potential over all "
                  "pairs of embeddings; near 0 is collapsed, lower is more spread), linear CKA with the reference "
                  "model" + (f" and with {spec.geometry_against}'s model of the same seed" if spec.geometry_against
                             else "") + "; mean ± sd over seeds.", "",
                  markdown_table(table, list(table[0])), ""]  # fmt: skip
    for plot in plots:
        lines += [f"## {plot.removesuffix('.png').replace('_', ' ')}", "", f"![{plot}]({plot})", ""]
    return "\n".join(lines)


def trend_cell(fit: dict) -> str:
    """A sweep's straight line, as the report and the docs print it: slope in nDCG@10 points a standard deviation of
    x, its interval, p."""
    trend = fit.get("trend")
    if not trend:
        return ""
    low, high = trend["slope_ci"]
    return f"{100 * trend['slope']:+.2f} [{100 * low:+.2f}, {100 * high:+.2f}], p {trend['p']:.3f}"


def turning_point(fit: dict) -> str:
    """Where the fitted quadratic turns, and whether that is a maximum (c < 0, a candidate sweet spot) or a minimum
    (c > 0, a dip), inside or outside the range swept."""
    kind = "a maximum" if fit["c"] < 0 else "a minimum"
    return f"{fit['peak']:.3f} ({kind}, {'inside' if fit['peak_inside'] else 'outside'} the range)"


def trend_verdict(fit: dict) -> str:
    """``rises`` / ``falls`` where the line's p is below 0.05, else ``no trend shown``; empty without a line."""
    trend = fit.get("trend")
    if not trend:
        return ""
    if trend["p"] >= ALPHA:
        return "no trend shown"
    return "rises" if trend["slope"] > 0 else "falls"


def curvature_lines(spec, curvature: dict) -> list[str]:
    """The H1 and H3 section: over each ordered sweep (or every unit), the straight line of quality on the property
    (does it rise) and the curvature test of a sweet spot (does it turn), or why the design cannot test it."""
    if not curvature:
        return []
    lines = ["## A trend, a sweet spot? (H1 and H3 over the sweeps)", "",
             "Over the independent units of each sweep (or all units, without one), x standardised. The line: "
             "quality = a + b·x, b in nDCG@10 points a standard deviation of x; b > 0 with p < 0.05 is quality rising "
             "with the property across the sweep (H1's question, for hardness). The curvature test: quality = a + b·x "
             "+ c·x²; a sweet spot needs c < 0 with p < 0.05 and the fitted turning point inside the range swept (a "
             "significant c alone can be a curve that only flattens: Simonsohn 2018). Each is one test a sweep, "
             "outside the paired family; where the study file names a sweep, the tests take that sweep's units "
             "only, a strategy a level.", ""]  # fmt: skip
    rows = []
    for axis, metric in (("hardness", spec.hardness), ("diversity", spec.diversity)):
        fit = curvature.get(axis)
        if not fit:
            continue
        if fit.get("sweep"):
            axis = f"{axis}, the sweep {', '.join(fit['sweep'])}"
        line = {"line: b [95% CI], p": trend_cell(fit), "trend": trend_verdict(fit)}
        if not fit["testable"]:
            rows.append({"property": f"{axis} ({metric})", "units": fit["n"], "levels": fit["levels"], **line,
                         "c [95% CI]": "", "p": "", "turning point": "",
                         "verdict": f"not testable with this design: {fit['why']}"})  # fmt: skip
            continue
        rows.append({"property": f"{axis} ({metric})", "units": fit["n"], "levels": fit["levels"], **line,
                     "c [95% CI]": f"{fit['c']:+.4f} [{fit['c_ci'][0]:+.4f}, {fit['c_ci'][1]:+.4f}]",
                     "p": _fmt(fit["p"], 3),
                     "turning point": "" if fit["peak"] is None else turning_point(fit),
                     "verdict": "a sweet spot" if fit["sweet_spot"] else "no sweet spot shown"})  # fmt: skip
    return [*lines, markdown_table(rows, list(rows[0])), ""] if rows else []


def write_report(spec, out: Path, runs: list[dict], stats: dict, analysis, seconds: float,
                 trained: list[str]) -> Path:  # fmt: skip
    """Write ``OUT/report/`` atomically; returns its path."""
    from negmine.analysis import plots as draw

    folder = out / "report"
    seconds = round(seconds, 1)  # the one value study.json keeps and report.md prints (a recheck reprints it)
    with atomic_folder(folder) as tmp:
        written = []
        for path in (correlation_plot(stats["correlations"], spec.quality, tmp / "correlations.png"),
                     draw.hardness_diversity(analysis.records, tmp / "hardness_diversity.png", spec.hardness,
                                             spec.diversity) if analysis else None,
                     draw.score_violins(first_seeds(analysis.scores, [st.name for st in spec.strategies]),
                                       tmp / "violins.png")
                     if analysis and analysis.scores else None,
                     draw.evolution(analysis.records, analysis.dynamics, tmp / "evolution.png") if analysis
                     else None):  # fmt: skip
            if path is not None:
                written.append(path.name)
        document = {"spec": spec.model_dump(mode="json"), "runs": runs, "statistics": stats, "trained_now": trained,
                    "seconds": seconds, "records": analysis.records if analysis else []}  # fmt: skip
        (tmp / "study.json").write_text(json.dumps(document, indent=1, default=json_default) + "\n")
        text = report_markdown(spec, stats, runs, written, seconds, trained)
        (tmp / "report.md").write_text(text)
        (tmp / "report.html").write_text(report_html(text, tmp, written))
    return folder

"""Running a study: train every (strategy, seed) that has not finished, analyse every run with ``negmine
analyze``, then the statistics and the report. A finished run (its ``metrics.json``) is never trained again, and an
interrupted one resumes from its last checkpoint, so a grid can span sessions.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from negmine.errors import NegmineError
from negmine.study.spec import StudySpec
from negmine.study.statistics import (
    compare_family,
    correlation,
    curvature,
    interaction_fit,
    leave_one_group_out,
    paired_queries,
    partial_spearman,
    unit_points,
)

logger = logging.getLogger(__name__)


def run_folder(out: Path, strategy: str, seed: int) -> Path:
    """Where a (strategy, seed) run lives: ``OUT/runs/STRATEGY-seedSEED``."""
    return out / "runs" / f"{strategy}-seed{seed}"


def finished_twin(recipe, places: list[Path]) -> Path | None:
    """A finished run, in one of the study folders ``places``, whose resolved recipe is ``recipe`` (seed included).

    Training is deterministic given the recipe and its seed (a re-run reproduces a run's nDCG@10 to the last digit),
    so such a run is the run this study would train. The run's ``recipe.yaml`` is read through today's ``Recipe``, so
    keys added since it ran take their defaults, which keep the behaviour the run had; ``output_dir`` (where a run
    goes, not what it trains) is not compared.

    Args:
        recipe: the resolved recipe of the (strategy, seed) to train.
        places: study output folders (their ``runs/*``) to look in.

    Returns:
        The folder of the first finished run with the same recipe, or None.

    Example:
        >>> finished_twin(recipe, [Path("runs/study-scifact-recheck")])  # doctest: +SKIP
        PosixPath('runs/study-scifact-recheck/runs/static-3ep-seed1')
    """
    for place in places:
        for folder in sorted((Path(place) / "runs").glob("*")):
            if (folder / "metrics.json").is_file() and recipe_changes(recipe, folder) == []:
                return folder
    return None


def recipe_changes(recipe, folder: Path) -> list[str] | None:
    """The dotted keys in which the run in ``folder`` (its ``recipe.yaml``) differs from ``recipe``, ``output_dir``
    aside: ``[]`` for the same recipe, None when the folder holds no recipe of today's schema.

    The run's ``recipe.yaml`` is read through today's ``Recipe``, so keys added since it ran take their defaults.

    Args:
        recipe: a resolved :class:`negmine.training.recipe.Recipe`.
        folder: a run folder (``negmine train``'s output).

    Returns:
        Sorted dotted keys, e.g. ``["model.inference_max_seq_length"]``.

    Example:
        >>> recipe_changes(recipe, Path("runs/quality-release/scifact-release-seed1"))  # doctest: +SKIP
        ['model.inference_max_seq_length']
    """
    from negmine.config import read_yaml
    from negmine.training.recipe import DATA_KEYS_IN_PAIRS, Recipe

    if not (folder / "recipe.yaml").is_file():
        return None
    written = read_yaml((folder / "recipe.yaml").read_text())
    if isinstance(written.get("pairs"), dict):  # the keys a run writes there but takes from data
        written["pairs"] = {k: v for k, v in written["pairs"].items() if k not in DATA_KEYS_IN_PAIRS}
    try:
        theirs = Recipe.model_validate(written).model_dump(mode="json", exclude={"output_dir"})
    except ValueError:  # a recipe of an older, incompatible schema
        return None
    return sorted(_differing_keys(recipe.model_dump(mode="json", exclude={"output_dir"}), theirs))


def _differing_keys(ours, theirs, prefix: str = "") -> list[str]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return [key for name in ours.keys() | theirs.keys()
                for key in _differing_keys(ours.get(name), theirs.get(name), f"{prefix}{name}.")]  # fmt: skip
    return [] if ours == theirs else [prefix.rstrip(".")]


def check_finished_run(recipe, folder: Path) -> None:
    """Stop when the finished run in ``folder`` was trained from another recipe than ``recipe``: reading its metrics
    back as this recipe's would report stale figures (a run of an older schema, or none written, is trusted).

    Raises:
        NegmineError: naming the folder and the keys that differ.
    """
    changes = recipe_changes(recipe, folder)
    if changes:
        shown = ", ".join(changes[:4]) + (f" and {len(changes) - 4} more" if len(changes) > 4 else "")
        raise NegmineError(f"{folder}: a finished run of another recipe ({shown} differ); "
                           "remove the folder or choose another output folder")  # fmt: skip


def _link_or_copy(source: str, target: str) -> None:
    """Hard-link a finished run's file (no extra disk); copy where the folders are on different file systems."""
    import os
    import shutil

    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def adopt_run(source: Path, folder: Path) -> None:
    """Make ``folder`` the finished run ``source`` (files hard-linked, checkpoints left out), written to a temporary
    folder first; its ``wall.json`` keeps the source's wall time and says where the run came from."""
    import shutil

    partial = folder.with_name(folder.name + ".adopting")
    shutil.rmtree(partial, ignore_errors=True)
    if folder.exists():  # an interrupted run of our own: the twin replaces it
        shutil.rmtree(folder)
    shutil.copytree(source, partial, copy_function=_link_or_copy, ignore=shutil.ignore_patterns("checkpoints"))
    wall_file = source / "wall.json"
    wall = json.loads(wall_file.read_text()) if wall_file.is_file() else {"wall_s": None}
    (partial / "wall.json").unlink(missing_ok=True)  # a hard link: never write through it
    (partial / "wall.json").write_text(json.dumps({**wall, "reused_from": str(source)}) + "\n")
    partial.rename(folder)


def train_missing(spec: StudySpec, out: Path, show_progress_bar: bool = True,
                  seeds: list[int] | None = None, reuse: list[Path] = (),
                  strategies: list[str] | None = None) -> list[str]:
    """Train the runs that have not finished (of ``seeds`` and ``strategies`` only, when given); returns the names
    trained now.

    A run whose resolved recipe matches a finished run in one of the ``reuse`` study folders is adopted from there
    (:func:`finished_twin`) instead of trained, and is not among the names returned.
    """
    from negmine.training.run import train

    trained = []
    for seed in spec.seeds if seeds is None else seeds:
        for strategy in spec.strategies:
            folder = run_folder(out, strategy.name, seed)
            if strategies is not None and strategy.name not in strategies:
                continue
            recipe = strategy_recipe(spec, strategy, seed)
            if (folder / "metrics.json").is_file():
                check_finished_run(recipe, folder)
                continue
            twin = finished_twin(recipe, list(reuse)) if reuse else None
            if twin is not None:
                logger.info("%s (seed %d): the same recipe finished in %s; adopted, not trained",
                            strategy.name, seed, twin)  # fmt: skip
                adopt_run(twin, folder)
                continue
            logger.info("training %s (seed %d) into %s", strategy.name, seed, folder)
            start = time.perf_counter()
            train(recipe, folder, show_progress_bar=show_progress_bar)
            (folder / "wall.json").write_text(json.dumps({"wall_s": round(time.perf_counter() - start, 1)}) + "\n")
            trained.append(folder.name)
    return trained


def strategy_recipe(spec: StudySpec, strategy, seed: int):
    """The resolved recipe of one (strategy, seed): the strategy's recipe with the budget, its own overrides and the
    training seed; with ``mining_seed: training``, a recipe that mines also mines with that seed.

    Example:
        >>> strategy_recipe(spec, spec.strategies[0], 2).training.seed  # doctest: +SKIP
        2
    """
    from negmine.pairs.build import PairsConfig
    from negmine.training.recipe import load_recipe

    overrides = [*spec.budget.items(), *strategy.set.items(), ("training.seed", seed)]
    recipe = load_recipe(strategy.recipe, overrides)
    if spec.mining_seed == "training" and isinstance(recipe.pairs, PairsConfig):
        recipe = load_recipe(strategy.recipe, [*overrides, ("pairs.mining.seed", seed)])
    return recipe


def negatives_unit(folder: Path) -> str:
    """What a run's negatives are, as a key: runs with the same key trained on identical negatives and are one
    independent unit of any statistic across runs.

    The key is the fingerprint of the pairs the run trained on (its ``pairs/pairs.parquet``, or the folder its
    recipe names). A run that re-mines while it trains (its negatives follow its own model) and a run without mined
    negatives are their own unit (the run's name).

    Example:
        >>> negatives_unit(Path("runs/study/runs/static-seed1"))  # doctest: +SKIP
        'negatives:3f2a...'
    """
    from negmine.config import read_yaml
    from negmine.pairs.build import file_fingerprint

    recipe = read_yaml((folder / "recipe.yaml").read_text()) if (folder / "recipe.yaml").is_file() else {}
    if recipe.get("refresh"):
        return folder.name
    pairs = recipe.get("pairs") or {}
    source = Path(pairs["path"]) if isinstance(pairs, dict) and pairs.get("path") else folder / "pairs"
    parquet = source / "pairs.parquet"
    return f"negatives:{file_fingerprint(parquet)}" if parquet.is_file() else folder.name


def collect_runs(spec: StudySpec, out: Path) -> list[dict]:
    """One row per finished run: strategy, seed, validation metrics, wall time and the unit of its negatives
    (:func:`negatives_unit`)."""
    rows = []
    for strategy in spec.strategies:
        for seed in spec.seeds:
            folder = run_folder(out, strategy.name, seed)
            if not (folder / "metrics.json").is_file():
                continue
            metrics = json.loads((folder / "metrics.json").read_text())["splits"].get("validation", {})
            wall_file = folder / "wall.json"
            wall = json.loads(wall_file.read_text())["wall_s"] if wall_file.is_file() else None
            rows.append({"strategy": strategy.name, "seed": seed, "run": folder.name, **metrics, "wall_s": wall,
                         "negatives": negatives_unit(folder)})  # fmt: skip
    return rows


def per_query_scores(spec: StudySpec, out: Path, runs: list[dict], backfill: bool = True,
                     data_dir: str | None = None) -> dict[str, dict[str, float]]:  # fmt: skip
    """Each finished run's per-query validation nDCG@10 (run name -> {query id -> value}), read from its
    ``metrics.json``; a run trained before negmine kept them is evaluated once more with its model and the values
    are added to its ``metrics.json`` (``backfill``; one corpus encoding a run)."""
    from negmine.analysis.analyze import validation_pairs
    from negmine.config import read_yaml
    from negmine.evaluation import evaluate_model
    from negmine.models import load_model
    from negmine.outputs import write_json

    if spec.quality != "validation.ndcg@10":
        return {}
    scores = {}
    for run in runs:
        folder = out / "runs" / run["run"]
        metrics = json.loads((folder / "metrics.json").read_text())
        kept = (metrics.get("per_query_ndcg@10") or {}).get("validation")
        if kept is None and backfill and (folder / "model").is_dir():
            recipe = read_yaml((folder / "recipe.yaml").read_text())  # as the run wrote it
            logger.info("per-query scores of %s (trained before they were kept)", run["run"])
            kept = {}
            validation = validation_pairs(recipe, data_dir)[0]
            evaluate_model(load_model(str(folder / "model")), validation, per_query=kept)
            metrics.setdefault("per_query_ndcg@10", {})["validation"] = kept
            write_json(folder / "metrics.json", metrics, overwrite=True)
        if kept:
            scores[run["run"]] = kept
    return scores


def sweep_curvature(members: list[str] | None, x: list, y: list, groups: list[str]) -> dict:
    """The curvature test over one ordered sweep's units (a strategy a level), or over every unit without one."""
    if not members:
        return curvature(x, y)
    chosen = [i for i, group in enumerate(groups) if group in members]
    fit = curvature([x[i] for i in chosen], [y[i] for i in chosen], levels_of=[groups[i] for i in chosen])
    return {**fit, "sweep": list(members)}


def study_statistics(spec: StudySpec, runs: list[dict], records: list[dict],
                     per_query: dict[str, dict[str, float]] | None = None) -> dict:  # fmt: skip
    """Strategy means and spreads; the paired comparisons (each strategy with the baseline, and the named pairs) as
    one Holm-corrected family, over seeds and, with ``per_query``, over queries; and, across the independent units
    (runs that trained on the same negatives merged, :func:`negatives_unit`), the correlations of each negative
    metric with quality (bootstrap over units, and queries when every unit has per-query scores), the partial
    correlations of hardness and diversity, the curvature test of a sweet spot in each (H3) and the interaction fit.
    """
    key = spec.quality.removeprefix("validation.")
    summary = []
    for strategy in spec.strategies:
        values = [r[key] for r in runs if r["strategy"] == strategy.name and key in r]
        walls = [r["wall_s"] for r in runs if r["strategy"] == strategy.name and r.get("wall_s") is not None]
        summary.append({"strategy": strategy.name, "seeds": len(values),
                        "units": len({r.get("negatives", r["run"]) for r in runs if r["strategy"] == strategy.name}),
                        "mean": float(np.mean(values)) if values else None,
                        "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None,
                        "wall_s_mean": float(np.mean(walls)) if walls else None})  # fmt: skip
    pairs = [(s.name, spec.baseline) for s in spec.strategies if spec.baseline and s.name != spec.baseline]
    pairs += [tuple(pair) for pair in spec.comparisons if tuple(pair) not in pairs]
    by_seed = {s.name: {r["seed"]: r[key] for r in runs if r["strategy"] == s.name and key in r}
               for s in spec.strategies}
    paired = compare_family(by_seed, pairs)
    per_query = per_query or {}
    for entry in paired:
        queries = {name: {r["seed"]: per_query[r["run"]] for r in runs
                          if r["strategy"] == name and r["run"] in per_query}
                   for name in (entry["strategy"], entry["baseline"])}  # fmt: skip
        entry["over_queries"] = paired_queries(queries[entry["strategy"]], queries[entry["baseline"]],
                                               n_resamples=spec.bootstrap)  # fmt: skip
    # one point per analysed run: its negatives (reference encoder, all sources, the pairs it started from)
    quality = {r["run"]: r[key] for r in runs}
    points = [r for r in records if r["source"] == "all" and r["encoder"] == "reference" and r["set"] in quality
              and not (str(r.get("negatives_at", "")).startswith("refresh-") and r["negatives_at"] != "refresh-00")]
    strategy_of = {r["run"]: r["strategy"] for r in runs}
    for entry in summary:  # the achieved hardness and diversity next to quality: an ablation's controls
        mine = [p for p in points if strategy_of[p["set"]] == entry["strategy"]]
        for name, metric in (("hardness", spec.hardness), ("diversity", spec.diversity)):
            values = [float(p[metric]) for p in mine if p.get(metric) is not None]
            entry[name] = float(np.mean(values)) if values else None
    # the independent units: runs that trained on the same negatives are one point, at their mean quality
    unit_of = {r["run"]: r.get("negatives") or r["run"] for r in runs}
    metrics = list(dict.fromkeys([*spec.metrics, spec.hardness, spec.diversity]))
    units = unit_points([{**p, "quality": quality[p["set"]]} for p in points], unit_of, [*metrics, "quality"])
    y = [u["quality"] for u in units]
    matrix = None  # units x queries (each unit's runs averaged), when every run has per-query scores
    if units and all(run in per_query for u in units for run in u["runs"]):
        shared = sorted(set.intersection(*(set(per_query[run]) for u in units for run in u["runs"])))
        if len(shared) > 1:
            matrix = [np.mean([[per_query[run][q] for q in shared] for run in u["runs"]], axis=0) for u in units]
    correlations = []
    groups = [strategy_of[u["set"]] for u in units]
    for metric in spec.metrics:
        x = [np.nan if u.get(metric) is None else u[metric] for u in units]
        correlations.append({"metric": metric, **correlation(x, y, n_boot=spec.bootstrap, per_query=matrix),
                             "leave_one_strategy_out": leave_one_group_out(x, y, groups)})  # fmt: skip
    correlations.sort(key=lambda c: -abs(c["spearman"]) if c["spearman"] is not None else 0)
    h = [np.nan if u.get(spec.hardness) is None else u[spec.hardness] for u in units]
    d = [np.nan if u.get(spec.diversity) is None else u[spec.diversity] for u in units]
    partial = {"hardness_given_diversity": partial_spearman(h, y, d) if len(units) >= 4 else None,
               "diversity_given_hardness": partial_spearman(d, y, h) if len(units) >= 4 else None}  # fmt: skip
    return {"quality": spec.quality, "hardness": spec.hardness, "diversity": spec.diversity,
            "runs_analysed": len(points), "units": len(units),
            "unit_runs": {u["unit"]: u["runs"] for u in units}, "summary": summary, "paired": paired,
            "correlations": correlations, "partial": partial,
            "curvature": {axis: sweep_curvature(spec.sweeps.get(axis), values, y, groups)
                          for axis, values in (("hardness", h), ("diversity", d))},
            "interaction_fit": interaction_fit(h, d, y, n_boot=spec.bootstrap)}  # fmt: skip

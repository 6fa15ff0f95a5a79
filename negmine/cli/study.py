"""``negmine study``: train a grid of strategies x seeds (resuming), analyse every run, and report which
properties of the negatives go with quality."""

from __future__ import annotations

import time

import click


@click.command("study")
@click.argument("study_file", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="The study folder: runs/ (one per strategy and seed, resumable) and report/.")
@click.option("--no-train", is_flag=True, help="Report on the runs that finished; train nothing.")
@click.option("--seeds", "only_seeds", default=None, metavar="1,2",
              help="Train only these of the study's seeds now (e.g. one seed of every strategy first); the report "
                   "still covers every finished run.")
@click.option("--strategies", "only_strategies", default=None, metavar="NAME,NAME",
              help="Train only these of the study's strategies now (e.g. the lever that looked best, on more seeds); "
                   "the report still covers every finished run.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Data root for the analyses.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="Embedding cache.")
@click.option("--reuse", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Another study's folder: a run whose resolved recipe and seed match one of its finished runs is "
                   "adopted from it (hard links, no checkpoints) instead of trained again. Repeatable.")
def study_command(study_file, out, no_train, only_seeds, only_strategies, data_dir, cache_dir, reuse) -> None:
    """Run the study in STUDY_FILE (e.g. studies/scifact.yaml): every (strategy, seed) that has not finished is
    trained, every run is analysed with negmine analyze's reference encoder, and OUT/report/ gets the correlation
    table, paired comparisons with the baseline, partial correlations, the hardness x diversity fit and the plots."""
    from pathlib import Path

    from negmine.analysis.analyze import AnalyzeConfig, analyze
    from negmine.analysis.targets import find_targets
    from negmine.errors import NegmineError
    from negmine.study.report import write_report
    from negmine.study.runner import collect_runs, per_query_scores, study_statistics, train_missing
    from negmine.study.spec import load_study

    start = time.perf_counter()
    spec = load_study(study_file)
    out = Path(out)
    seeds = spec.seeds
    if only_seeds:
        try:
            seeds = [int(seed) for seed in only_seeds.split(",")]
        except ValueError:
            raise NegmineError(f"--seeds {only_seeds!r}: expected seeds separated by commas, e.g. 1,2") from None
        unknown = sorted(set(seeds) - set(spec.seeds))
        if unknown:
            raise NegmineError(f"--seeds: {unknown} not among {study_file}'s seeds {spec.seeds}")
    names = None
    if only_strategies:
        names = [name.strip() for name in only_strategies.split(",") if name.strip()]
        unknown = [name for name in names if name not in {s.name for s in spec.strategies}]
        if unknown or not names:
            raise NegmineError(f"--strategies: {unknown or only_strategies!r} not among {study_file}'s strategies "
                               f"{[s.name for s in spec.strategies]}")
    trained = [] if no_train else train_missing(spec, out, seeds=seeds, strategies=names,
                                                reuse=[Path(p) for p in reuse])
    runs = collect_runs(spec, out)
    if not runs:
        raise NegmineError(f"{out}: no finished runs to report on")
    analysis = None
    try:
        targets, skipped = find_targets([out / "runs"])
    except NegmineError:  # no run has negatives (in-batch strategies only)
        targets, skipped = [], []
    for note in skipped:
        click.echo(f"no negatives to analyse: {note}", err=True)
    if targets:
        config = AnalyzeConfig(reference=spec.reference, use_checkpoints=spec.checkpoints, trained=spec.trained,
                               umap=False, data_dir=data_dir, cache_dir=cache_dir)  # fmt: skip
        analysis = analyze(targets, config)
    per_query = per_query_scores(spec, out, runs, data_dir=data_dir)
    stats = study_statistics(spec, runs, analysis.records if analysis else [], per_query)
    if spec.geometry:
        from negmine.study.geometry import study_geometry

        stats["geometry"] = study_geometry(spec, out, runs, data_dir=data_dir, cache_dir=cache_dir)
    folder = write_report(spec, out, runs, stats, analysis, time.perf_counter() - start, trained)
    click.echo(f"wrote {folder}/ ({len(runs)} runs, {len(trained)} trained now, "
               f"{time.perf_counter() - start:.0f} s)", err=True)  # fmt: skip

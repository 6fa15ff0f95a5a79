"""``negmine analyze``: hardness, diversity, validity and false-negative estimates of pairs folders and runs, with
plots and a report."""

from __future__ import annotations

import time

import click

from negmine.cli.options import backend_option


@click.command("analyze")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="The report folder to write.")
@click.option("--reference", default="all-MiniLM-L6-v2", show_default=True,
              help="The fixed reference encoder every set is measured with, so numbers compare across runs.")
@click.option("--model", default=None, help="A further model to measure pairs folders with (runs use their own).")
@click.option("--judge", default=None,
              help="A bi-encoder or cross-encoder whose verdict is the third false-negative signal (optional).")
@click.option("--temperature", type=click.FloatRange(min=0, min_open=True), default=0.05, show_default=True,
              help="InfoNCE temperature of the gradient share (a run's recipe's 1 / loss.scale wins).")
@click.option("--clusters", type=click.IntRange(min=2), default=50, show_default=True,
              help="k of the corpus k-means behind the cluster entropy.")
@click.option("--sample", "limit", type=click.IntRange(min=10), default=2000, show_default=True,
              help="Sample size of pairwise statistics (pairwise distance, uniformity, MMD).")
@click.option("--checkpoints/--no-checkpoints", default=True, show_default=True,
              help="Re-measure a run's negatives with each kept checkpoint (training dynamics).")
@click.option("--trained/--no-trained", default=True, show_default=True,
              help="Measure a run's negatives with its trained model too.")
@click.option("--umap/--no-umap", default=True, show_default=True, help="Draw the UMAP map (the slow part).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Data root replacing the one in the pairs' manifest (default: $NEGMINE_DATA, else ./data).")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="Embedding cache.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@backend_option
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of samples, k-means and the map.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out folder.")
def analyze_command(paths, out, reference, model, judge, temperature, clusters, limit, checkpoints, trained, umap,
                    data_dir, cache_dir, batch_size, backend, seed, overwrite) -> None:  # fmt: skip
    """Measure the negatives of PATHS: pairs folders (build-pairs), runs (train) or folders of runs
    (benchmarks/quality.py). Writes metrics.json, report.md, report.html and PNG plots into --out."""
    from pathlib import Path

    from negmine import __version__
    from negmine.analysis.analyze import AnalyzeConfig, analyze
    from negmine.analysis.report import write_analysis
    from negmine.analysis.targets import find_targets
    from negmine.env import package_versions
    from negmine.outputs import check_writable

    start = time.perf_counter()
    out = check_writable(Path(out), overwrite)
    targets, skipped = find_targets(list(paths))
    for note in skipped:
        click.echo(f"skipped {note}", err=True)
    config = AnalyzeConfig(reference=reference, model=model, judge=judge, temperature=temperature,
                           clusters=clusters, limit=limit, use_checkpoints=checkpoints, trained=trained, umap=umap,
                           data_dir=data_dir, cache_dir=cache_dir, batch_size=batch_size, seed=seed,
                           backend=backend)  # fmt: skip
    analysis = analyze(targets, config)
    seconds = time.perf_counter() - start
    manifest = {
        "negmine_version": __version__,
        "parameters": {k: v for k, v in vars(config).items() if k != "show_progress_bar"},
        "targets": [{"name": t.name, "pairs": str(t.pairs), "run": str(t.run) if t.run else None} for t in targets],
        "inputs": analysis.inputs,
        "packages": package_versions(),
        "counts": {"targets": len(targets), "records": len(analysis.records), "skipped": len(skipped)},
    }
    plots = write_analysis(analysis, out, manifest, skipped, time.perf_counter() - start, overwrite, seed)
    click.echo(f"wrote {out}/ (metrics.json, report.md, report.html, {', '.join(plots)}) in {seconds:.1f} s",
               err=True)  # fmt: skip

"""``negmine eval``: retrieval metrics of a model (or BM25) on a split, as JSON and a Markdown table."""

from __future__ import annotations

import time

import click

from negmine.cli.options import backend_option, data_options


@click.command("eval")
@click.option(
    "--model",
    "model_name",
    default="all-MiniLM-L6-v2",
    show_default=True,
    help="A sentence-transformers model (name or folder), or 'bm25' for the lexical baseline.",
)
@data_options
@click.option("--max-seq-length", type=int, default=None, help="Token limit (default: the model's own).")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--device", default=None, help="cpu, cuda, ... (default: what sentence-transformers picks).")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Embedding cache (default: $NEGMINE_CACHE, else ~/.cache/negmine).",
)
@backend_option
@click.option("--no-cache", is_flag=True, help="Encode without reading or writing the embedding cache.")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Write the metrics as JSON here.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --output file.")
def eval_command(model_name, dataset, split, data_dir, validation_fraction, seed, max_seq_length, batch_size, device,
                 cache_dir, backend, no_cache, output, overwrite) -> None:  # fmt: skip
    """Evaluate MODEL on a split: nDCG@10, MRR@10, Recall@10, Recall@100, MAP@100."""
    from negmine.data import load_retrieval
    from negmine.evaluation import METRIC_KEYS, evaluate_bm25, evaluate_model
    from negmine.outputs import check_writable, markdown_table, write_json

    if output:
        check_writable(output, overwrite)
    data = load_retrieval(dataset, split, data_dir=data_dir, validation_fraction=validation_fraction, seed=seed)
    counts = data.counts()
    click.echo(
        f"{data.name}/{split}: {counts['judged_queries']} judged queries, {counts['documents']} documents", err=True
    )
    start = time.perf_counter()
    if model_name.lower() == "bm25":
        metrics = evaluate_bm25(data)
    else:
        from negmine.encode import Encoder
        from negmine.models import load_model

        model = load_model(model_name, max_seq_length=max_seq_length, device=device)
        encoder = Encoder(model, cache_dir=cache_dir, batch_size=batch_size, use_cache=not no_cache, backend=backend,
                          calibration_texts=data.document_texts()[:300])  # fmt: skip
        metrics = evaluate_model(encoder.encoding_model(), data, encoder=encoder, batch_size=batch_size)
    elapsed = time.perf_counter() - start
    click.echo(
        markdown_table(
            [{"model": model_name, "split": split, **metrics}], ["model", "split", *METRIC_KEYS, "n_queries"]
        )
    )
    click.echo(f"({elapsed:.1f} s)", err=True)
    if output:
        write_json(output, metrics, overwrite=overwrite)
        click.echo(f"wrote {output}", err=True)

"""``negmine encode DATASET --model M --cache-dir DIR [--ray ADDRESS]``: a corpus's vectors into the cache."""

from __future__ import annotations

import click


@click.command("encode")
@click.argument("dataset")
@click.option("--model", default="all-MiniLM-L6-v2", show_default=True, help="The model that encodes.")
@click.option("--max-seq-length", type=int, default=None, help="The recipes use 128.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Embedding cache root (default $NEGMINE_CACHE or ~/.cache/negmine); on Ray, storage every worker "
                   "sees.")  # fmt: skip
@click.option("--data-dir", default=None, help="Data root (default $NEGMINE_DATA or ./data).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--shard-size", type=click.IntRange(min=1), default=4096, show_default=True,
              help="Texts a shard: the unit a worker takes and that survives an interruption.")
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Without --ray: local processes (sentence-transformers' multi-process pool).")
@click.option("--ray", "ray_address", default=None, metavar="ADDRESS",
              help="Run as a Ray Data job: local (this machine), auto (the cluster this machine is in) or "
                   "ray://host:port. Needs negmine[distributed].")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="With --ray: actors, one model each (one GPU each when the cluster has GPUs).")
def encode_command(dataset, model, max_seq_length, cache_dir, data_dir, batch_size, shard_size, processes,
                   ray_address, workers) -> None:  # fmt: skip
    """Encode the corpus of DATASET into negmine's embedding cache, so that build-pairs, eval and analyze with the
    same model, length and cache find every vector there. Shards already cached are skipped: a rerun after an
    interruption encodes only what is missing."""
    import json

    from negmine.corpus_encoding import encode_corpus

    report = encode_corpus(dataset, model=model, cache_dir=cache_dir, data_dir=data_dir, max_seq_length=max_seq_length,
                           batch_size=batch_size, shard_size=shard_size, processes=processes,
                           ray_address=ray_address, workers=workers)  # fmt: skip
    click.echo(json.dumps(report, indent=2))

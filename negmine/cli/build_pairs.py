"""``negmine build-pairs DATASET --out DIR``: training pairs with mined negatives, as a datasets.Dataset."""

from __future__ import annotations

import time

import click
from pydantic import ValidationError

from negmine.cli.options import backend_option, data_location_options
from negmine.errors import NegmineError, describe_validation_error


class OptionalFloat(click.ParamType):
    """A float, or ``none`` to turn the option off."""

    name = "float|none"

    def convert(self, value, param, ctx):
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            return None
        try:
            return float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor 'none'", param, ctx)


def _validated(model_cls, values: dict, option: str = ""):
    try:
        return model_cls(**values)
    except ValidationError as error:
        raise NegmineError(f"{option}{': ' if option else ''}{describe_validation_error(error)}") from None


def synthetic_config(spec: str, augmenters: tuple[str, ...], swap_terms: int, swap_donor: str):
    """The :class:`~negmine.augment.spec.SyntheticConfig` of the command line, or None when nothing is asked for."""
    from negmine.augment.spec import SyntheticConfig, parse_augmenter, parse_synthetic_spec

    counts = parse_synthetic_spec(spec)
    if augmenters and not counts.get("perturb"):
        raise NegmineError("--augmenter: augmenters are for perturb; add perturb:N to --synthetic")
    if not counts:
        return None
    values: dict = {**counts, "swap_terms": swap_terms, "swap_donor": swap_donor}
    if augmenters:
        values["augmenters"] = [parse_augmenter(text) for text in augmenters]
    return _validated(SyntheticConfig, values, "--augmenter" if augmenters else "--synthetic")


@click.command("build-pairs")
@click.argument("dataset")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--anchor-column", default=None, help="Pair data: the anchor column (default: the first).")
@click.option("--positive-column", default=None, help="Pair data: the positive column (default: the second); a "
              "cell may hold a list of texts.")
@click.option("--corpus", default=None, type=click.Path(dir_okay=False),
              help="Pair data: more passages to mine from (.txt a passage a line; .jsonl/.csv/.parquet: 'text').")
@click.option("--data-format", type=click.Choice(["auto", "pairs", "flagembedding", "tevatron"]), default="auto",
              show_default=True, help="Pair data's record shape (auto: by its columns).")
@click.option("--split", type=click.Choice(["train", "validation", "dev", "test"]), default="train", show_default=True)
@data_location_options
@click.option("--model", default="all-MiniLM-L6-v2", show_default=True, help="Model that embeds for dense mining.")
@click.option("--max-seq-length", type=int, default=None)
@click.option("--batch-size", type=int, default=64, show_default=True)
@backend_option
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="Embedding cache folder.")
@click.option("--task", type=click.Choice(["retrieval", "verification"]), default="retrieval", show_default=True)
@click.option("--searchers", default="dense,lexical", show_default=True, help="Comma-separated: dense, lexical.")
@click.option("--index-factory", default="Flat", show_default=True, help="FAISS factory string (Flat = exact).")
@click.option("--searcher", type=click.Choice(["auto", "faiss", "torch"]), default="auto", show_default=True,
              help="Dense search: FAISS, or torch's exact search (a GPU without faiss-gpu, or no FAISS at all).")
@click.option("--nprobe", type=int, default=None)
@click.option("--ef-search", type=int, default=None)
@click.option("--gpu/--no-gpu", "use_gpu", default=None, help="FAISS on the GPU (default: when available).")
@click.option("--vectors-on-disk", is_flag=True,
              help="Corpora larger than memory: vectors stay in the cache's memory-mapped shards, an approximate "
                   "--index-factory (e.g. IVF4096,SQ8) is filled as a stream, candidates are re-scored exactly.")
@click.option("--refine", type=int, default=2, show_default=True,
              help="With --vectors-on-disk: candidates fetched per neighbour wanted.")
@click.option("--train-size", type=int, default=None, help="With --vectors-on-disk: rows the index trains on.")
@click.option("--range-min", type=int, default=10, show_default=True)
@click.option("--range-max", type=int, default=100, show_default=True)
@click.option("--absolute-margin", type=float, default=None)
@click.option("--relative-margin", type=OptionalFloat(), default="0.05", show_default=True, help="A number or none.")
@click.option("--max-score", type=float, default=None)
@click.option("--min-score", type=float, default=None)
@click.option("--sampling-strategy", type=click.Choice(["top", "random", "semi-hard", "simans"]), default="top",
              show_default=True)  # fmt: skip
@click.option("--reuse-bias", type=float, default=0.0, show_default=True,
              help="With --sampling-strategy random: a document earlier anchors took t times weighs (1 + t)^bias "
                   "(> 0 fewer distinct negatives, < 0 more, same band).")
@click.option("--num-negatives", type=int, default=3, show_default=True)
@click.option("--output-format", type=click.Choice(["triplet", "n-tuple", "labeled-pair", "labeled-list"]),
              default="triplet", show_default=True)  # fmt: skip
@click.option("--weighting", type=click.Choice(["none", "label", "rationale"]), default="none", show_default=True)
@click.option("--rationale-passages", is_flag=True, help="Positives with rationales shown as those sentences.")
@click.option("--topic-negatives", type=int, default=0, show_default=True)
@click.option("--corpus-pairs", default="", help="Comma-separated: title, ict (off by default).")
@click.option("--corpus-pairs-sample", type=int, default=None,
              help="Corpus pairs from at most this many documents, drawn with --seed (default: every document).")
@click.option("--min-words", type=int, default=10, show_default=True, help="Shorter abstracts are never negatives.")
@click.option("--noise-filter/--no-noise-filter", default=None,
              help="Short and retracted documents are never negatives (default: on for SciFact, off otherwise).")
@click.option("--near-duplicates/--no-near-duplicates", default=True, show_default=True,
              help="A positive's text up to case and whitespace is never a negative.")
@click.option("--duplicate-cosine", type=float, default=None,
              help="A candidate whose cosine to one of the anchor's positives reaches this is never a negative.")
@click.option("--export", "exports", multiple=True, type=click.Choice(["flagembedding", "tevatron"]),
              help="Also write the rows as FlagEmbedding (with pos_scores / neg_scores) or Tevatron JSONL.")
@click.option("--synthetic", "synthetic_spec", default="", metavar="SPEC",
              help="Synthetic negatives a row by generator, e.g. perturb:1,swap:1,reverse:1.")
@click.option("--augmenter", "augmenters", multiple=True, metavar="NAME[:key=value,...]",
              help="An nlpaug augmenter for perturb (repeatable), e.g. RandomCharAug:action=swap,aug_char_p=0.2.")
@click.option("--swap-terms", type=int, default=3, show_default=True, help="Shared terms swap replaces.")
@click.option("--swap-donor", type=click.Choice(["hard_negative", "random"]), default="hard_negative",
              show_default=True)  # fmt: skip
@click.option("--relabel", type=click.Path(dir_okay=False), default=None,
              help="A filled-in audit CSV (negmine audit): relevant rows become positives, never negatives.")
@click.option("--extra-training", "extra_training", multiple=True, type=click.Choice(["scifact_test_claims"]),
              help="More training queries after the validation carve: scifact_test_claims (claims_test.jsonl's 300 "
                   "unlabelled claims and their cited documents; not the held-out dev claims).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out folder.")
def build_pairs_command(dataset, out, split, data_dir, validation_fraction, seed, model, max_seq_length, batch_size,
                        backend, cache_dir, task, searchers, index_factory, searcher, nprobe, ef_search, use_gpu,
                        vectors_on_disk, refine, train_size, range_min, range_max, absolute_margin, relative_margin,
                        max_score, min_score,
                        sampling_strategy, reuse_bias, num_negatives, output_format, weighting, rationale_passages,
                        topic_negatives, corpus_pairs, corpus_pairs_sample, min_words, noise_filter, near_duplicates,
                        duplicate_cosine, exports, synthetic_spec, augmenters,
                        swap_terms, swap_donor, relabel, extra_training, overwrite, anchor_column, positive_column,
                        corpus, data_format) -> None:  # fmt: skip
    """Build training pairs for DATASET: pair data (a CSV / TSV / JSONL / Parquet file, a saved Dataset folder, a
    hub name owner/name; FlagEmbedding and Tevatron records), a name under the data root (scifact) or a BEIR folder."""
    from negmine.mining.static import MiningParams
    from negmine.outputs import check_writable
    from negmine.pairs.build import PairsConfig, build_pairs

    check_writable(out, overwrite)
    synthetic = synthetic_config(synthetic_spec, augmenters, swap_terms, swap_donor)
    mining = _validated(MiningParams, dict(
        range_min=range_min, range_max=range_max, absolute_margin=absolute_margin,
        relative_margin=relative_margin, max_score=max_score, min_score=min_score,
        sampling_strategy=sampling_strategy, reuse_bias=reuse_bias, num_negatives=num_negatives, seed=seed,
    ))  # fmt: skip
    config = _validated(PairsConfig, dict(
        dataset=dataset, split=split, data_dir=data_dir, validation_fraction=validation_fraction, seed=seed,
        model=model, max_seq_length=max_seq_length, batch_size=batch_size, backend=backend, cache_dir=cache_dir,
        task=task,
        searchers=[s.strip() for s in searchers.split(",") if s.strip()], index_factory=index_factory,
        searcher=searcher,
        nprobe=nprobe, ef_search=ef_search, use_gpu=use_gpu, vectors_on_disk=vectors_on_disk, refine=refine,
        train_size=train_size, mining=mining, output_format=output_format,
        weighting=weighting, rationale_passages=rationale_passages, topic_negatives=topic_negatives,
        corpus_pairs=[s.strip() for s in corpus_pairs.split(",") if s.strip()],
        corpus_pairs_sample=corpus_pairs_sample,
        noise_filter=noise_filter, near_duplicates=near_duplicates, duplicate_cosine=duplicate_cosine,
        export=list(exports), anchor_column=anchor_column, positive_column=positive_column, corpus=corpus,
        data_format=data_format,
        min_words=min_words, synthetic=synthetic, relabel=relabel, extra_training=list(extra_training),
    ))  # fmt: skip
    start = time.perf_counter()
    dataset, manifest = build_pairs(config, out, overwrite=overwrite)
    counts = manifest["counts"]
    click.echo(
        f"wrote {out}: {counts['rows']} {output_format} rows from {counts['anchors']} anchors, "
        f"{counts['negatives']} negatives {counts['negatives_by_source']}, "
        f"{manifest['mining']['short_queries']} anchors short of negatives ({time.perf_counter() - start:.1f} s)"
    )

"""``negmine build-pairs DATASET --out DIR``: training pairs with mined negatives, as a datasets.Dataset."""

from __future__ import annotations

import time

import click
from pydantic import ValidationError

from negmine.cli.model_options import add_model_options, set_values
from negmine.errors import NegmineError, describe_validation_error
from negmine.mining.static import MiningParams
from negmine.pairs.build import PairsConfig


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


GENERATED_SKIP = ("dataset", "mining", "synthetic")  # the argument, the nested sections (flattened / by spec)


@click.command("build-pairs", context_settings={"ignore_unknown_options": True})
@click.argument("dataset")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="A YAML file of build-pairs settings (a recipe's pairs section); options and overrides win.")
@add_model_options(PairsConfig, skip=GENERATED_SKIP, rename={"use_gpu": "gpu"})
@add_model_options(MiningParams, skip=("seed",))
@click.option("--synthetic", "synthetic_spec", default="", metavar="SPEC",
              help="Synthetic negatives a row by generator, e.g. perturb:1,swap:1,reverse:1.")
@click.option("--augmenter", "augmenters", multiple=True, metavar="NAME[:key=value,...]",
              help="An nlpaug augmenter for perturb (repeatable), e.g. RandomCharAug:action=swap,aug_char_p=0.2.")
@click.option("--swap-terms", type=int, default=3, show_default=True, help="Shared terms swap replaces.")
@click.option("--swap-donor", type=click.Choice(["hard_negative", "random"]), default="hard_negative",
              show_default=True)  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace an existing --out folder.")
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def build_pairs_command(ctx, dataset, out, config_path, synthetic_spec, augmenters, swap_terms, swap_donor, overwrite,
                        overrides, **_settings) -> None:  # fmt: skip
    """Build training pairs for DATASET: pair data (a CSV / TSV / JSONL / Parquet file, a saved Dataset folder, a
    hub name owner/name; FlagEmbedding and Tevatron records), a name under the data root (scifact) or a BEIR folder.

    Every setting of negmine.pairs.PairsConfig is an option (defaults from it); any key, nested ones included, can also
    be set the way negmine train takes them: --mining.range_min 5, --synthetic.reverse 1."""
    from pathlib import Path

    from negmine.config import read_yaml
    from negmine.outputs import check_writable
    from negmine.pairs.build import build_pairs
    from negmine.training.recipe import parse_overrides, set_dotted

    check_writable(out, overwrite)
    tree = dict(read_yaml(Path(config_path).read_text()) or {}) if config_path else {}
    tree["dataset"] = dataset
    tree.update(set_values(ctx, PairsConfig, skip=GENERATED_SKIP))
    mining = dict(tree.get("mining") or {})
    mining.update(set_values(ctx, MiningParams, skip=("seed",)))
    if "seed" in tree:
        mining.setdefault("seed", tree["seed"])  # one --seed: the carve's and the sampling's, as before
    tree["mining"] = mining
    synthetic = synthetic_config(synthetic_spec, augmenters, swap_terms, swap_donor)
    if synthetic is not None:
        tree["synthetic"] = synthetic.model_dump()
    for key, value in parse_overrides(list(overrides)):
        set_dotted(tree, key, value)
    config = _validated(PairsConfig, tree)
    start = time.perf_counter()
    dataset, manifest = build_pairs(config, out, overwrite=overwrite)
    counts = manifest["counts"]
    click.echo(
        f"wrote {out}: {counts['rows']} {config.output_format} rows from {counts['anchors']} anchors, "
        f"{counts['negatives']} negatives {counts['negatives_by_source']}, "
        f"{manifest['mining']['short_queries']} anchors short of negatives ({time.perf_counter() - start:.1f} s)"
    )

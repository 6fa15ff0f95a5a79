"""The synthetic-negative probe (``negmine.augment.probe``) of the base model and of trained models, on the
validation split: for each generator, the share of held-out items where the model ranks the true text above the
synthetic one (perturbed or swapped abstract; reversed claim).

    python benchmarks/probe.py --recipe recipes/scifact-synthetic-perturb.yaml \\
        --models runs/quality-synthetic/*-seed1 --json results/bench-probe.json

A model folder is a ``negmine train`` output (its ``model/``) or a sentence-transformers folder. ``--recipe`` gives
the data split and the generators' settings (its ``pairs.synthetic``; defaults otherwise).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from quality import probe_setup

from negmine.augment.probe import probe
from negmine.models import load_model
from negmine.outputs import markdown_table
from negmine.training.recipe import load_recipe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--models", nargs="*", default=[])
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    recipe = load_recipe(args.recipe)
    items, config = probe_setup([args.recipe], [])
    rows = []
    for name in ["base", *args.models]:
        path = recipe.model.name if name == "base" else str(Path(name) / "model" if (Path(name) / "model").is_dir()
                                                             else name)  # fmt: skip
        model = load_model(path, max_seq_length=recipe.model.max_seq_length)
        rows.append({"model": Path(name).name, **probe(model, items)})
        print(markdown_table(rows[-1:], list(rows[-1])), flush=True)
    print(markdown_table(rows, list(rows[0])))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        augmenters = [a.model_dump() for a in config.augmenters]
        Path(args.json).write_text(json.dumps({"rows": rows, "augmenters": augmenters}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""The negatives of every shipped recipe, measured side by side: each recipe's pairs are built (or reused, when a
folder with the same parameters exists), then ``negmine analyze`` measures them all with the reference encoder.

    python benchmarks/recipe_negatives.py --pairs-root runs/recipe-pairs --out results/analyze-recipes \\
        --pairs runs/scifact-pairs-default --json results/bench-recipe-negatives.json

Recipes that share a pairs section (scifact-static, -mnrl-static and -synthetic-mix mine the same negatives) are
built once. A recipe with ``refresh`` re-mines during training: its row is the set it starts from. A recipe with no
pairs section (in-batch negatives only) has no row. Prints one row a recipe (all its negatives) and writes the
analysis report to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from negmine.analysis.analyze import AnalyzeConfig, analyze
from negmine.analysis.report import write_analysis
from negmine.analysis.targets import Target
from negmine.outputs import markdown_table
from negmine.pairs.build import build_pairs
from negmine.training.recipe import load_recipe

COLUMNS = ["recipes", "negatives", "hardness.score.mean", "hardness.margin.mean", "hardness.rank.median",
           "hardness.infonce_share.mean", "diversity.vendi", "diversity.pairwise_distance.mean",
           "diversity.duplicate_rate", "diversity.cluster_entropy", "gap.frechet_corpus", "gap.mmd_corpus",
           "gap.score_wasserstein", "false_negatives.sister", "false_negatives.inversion"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="*", default=sorted(str(p) for p in Path("recipes").glob("*.yaml")))
    parser.add_argument("--pairs-root", default="runs/recipe-pairs")
    parser.add_argument("--out", default="results/analyze-recipes")
    parser.add_argument("--json", default=None)
    parser.add_argument("--pairs", nargs="*", default=[], help="Further pairs folders (e.g. build-pairs' defaults).")
    parser.add_argument("--umap", action="store_true")
    args = parser.parse_args()
    groups: dict[str, tuple[object, list[str]]] = {}
    for path in args.recipes:
        config = load_recipe(path).pairs_config()
        if config is None:
            print(f"{Path(path).stem}: no pairs section (in-batch negatives only), no row")
            continue
        key = json.dumps(config.model_dump(mode="json"), sort_keys=True)
        groups.setdefault(key, (config, []))[1].append(Path(path).stem)
    targets = []
    for config, names in groups.values():
        folder = Path(args.pairs_root) / names[0]
        manifest = folder / "manifest.json"
        wanted = config.model_dump(mode="json")
        if not (manifest.is_file() and json.loads(manifest.read_text())["parameters"] == wanted):
            build_pairs(config, folder, overwrite=True)
        targets.append(Target(names[0], folder))
    for folder in args.pairs:
        groups[folder] = (None, [f"{Path(folder).name} (pairs folder)"])
        targets.append(Target(Path(folder).name, Path(folder)))
    start = time.perf_counter()
    analysis = analyze(targets, AnalyzeConfig(umap=args.umap))
    seconds = time.perf_counter() - start
    write_analysis(analysis, Path(args.out), {"recipes": {t.name: names for t, (_, names) in
                                                          zip(targets, groups.values(), strict=True)}},
                   [], seconds, overwrite=True)  # fmt: skip
    names = {t.name: ", ".join(n) for t, (_, n) in zip(targets, groups.values(), strict=True)}
    rows = [{"recipes": names[r["set"]], **{k: r.get(k) for k in COLUMNS[1:]}}
            for r in analysis.records if r["source"] == "all"]  # fmt: skip
    print(markdown_table(rows, COLUMNS))
    print(f"analyze: {seconds:.1f} s for {len(targets)} pairs sets")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"seconds": round(seconds, 1), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()

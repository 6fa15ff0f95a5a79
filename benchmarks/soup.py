"""Weight averaging ("model soup", issue 16) on finished runs, against the runs' own final models, on the validation
split: a checkpoint soup of each run (the uniform mean of its kept checkpoints, e.g. epochs 2 and 3), paired seed by
seed with that run's final model, and one seed soup of every run's final model, against each ingredient.

    python benchmarks/soup.py --runs runs/study-scifact-recheck/runs/static-3ep-seed{1,2,3} \\
        --json results/bench-soup.json

Each run's final score is read from its ``metrics.json`` (``--check`` re-evaluates its final model first, to show the
evaluation here reproduces it). Soups are written under ``--work`` and evaluated with the run's own token limit. The
seed soup is one model: its comparison with its ingredients has no seed spread of its own.

Reference: Wortsman et al., "Model soups", ICML 2022 (the uniform soup).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from negmine.analysis.analyze import validation_pairs
from negmine.config import read_yaml
from negmine.evaluation import evaluate_model
from negmine.models import load_model
from negmine.outputs import markdown_table
from negmine.soup import average_models


def score(model_path: Path, recipe: dict) -> float:
    """Validation nDCG@10 of a model folder at the run's token limit."""
    model = load_model(str(model_path), max_seq_length=(recipe.get("model") or {}).get("max_seq_length"))
    return evaluate_model(model, validation_pairs(recipe)[0])["ndcg@10"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", required=True, help="Finished negmine train folders, one start each.")
    parser.add_argument("--work", default="runs/bench-soup", help="Where the soups are written (replaced).")
    parser.add_argument("--check", action="store_true", help="Re-evaluate each final model first.")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    from negmine.study.statistics import paired_comparison

    work = Path(args.work)
    rows = []
    for run in map(Path, args.runs):
        recipe = read_yaml((run / "recipe.yaml").read_text())
        final = json.loads((run / "metrics.json").read_text())["splits"]["validation"]["ndcg@10"]
        checkpoints = sorted((run / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
        start = time.perf_counter()
        soup = work / f"{run.name}-checkpoints"
        average_models(checkpoints, soup, overwrite=True)
        row = {"run": run.name, "final": final, "checkpoints": " + ".join(p.name for p in checkpoints),
               "checkpoint_soup": score(soup, recipe)}  # fmt: skip
        row["diff"] = row["checkpoint_soup"] - final
        row["soup_s"] = round(time.perf_counter() - start, 1)
        if args.check:
            row["final_reevaluated"] = score(run / "model", recipe)
        rows.append(row)
        print(markdown_table([row], list(row)), flush=True)
    # the study's paired test (one comparison: its own family), each run a pair of soup and final model
    finals = [r["final"] for r in rows]
    c = paired_comparison({i: r["checkpoint_soup"] for i, r in enumerate(rows)}, dict(enumerate(finals)))
    paired = {"runs": c["seeds"], "mean_diff": c["mean_diff"], "sd": c["sd_diff"], "wins": c["wins"],
              "p_paired_t": c["p_paired_t"], "ci95": c["ci95_diff"], "verdict": c["verdict"]}  # fmt: skip
    print(markdown_table([paired], list(paired)))

    recipe = read_yaml((Path(args.runs[0]) / "recipe.yaml").read_text())
    seed_soup = work / "seed-soup"
    average_models([Path(r) / "model" for r in args.runs], seed_soup, overwrite=True)
    seeds = {"ingredients": len(finals), "seed_soup": score(seed_soup, recipe),
             "ingredient_mean": statistics.mean(finals),
             "ingredient_sd": statistics.stdev(finals) if len(finals) > 1 else 0.0, "ingredient_best": max(finals)}
    seeds["vs_mean"] = seeds["seed_soup"] - seeds["ingredient_mean"]
    seeds["vs_best"] = seeds["seed_soup"] - seeds["ingredient_best"]
    print(markdown_table([seeds], list(seeds)))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"checkpoint_soups": rows, "paired": paired, "seed_soup": seeds},
                                              indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()

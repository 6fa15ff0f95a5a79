"""The audit loop's effect: scifact-static trained on its pairs as mined and on the same pairs rebuilt with a person's
decisions (``--pairs.relabel``: the documents marked relevant become positives, never negatives), paired by seed.

For each arm and seed it trains the recipe (per-epoch evaluation off, the final model scored on the validation
split), then measures both arms' pairs with ``negmine analyze`` (the false-negative estimates: sister evidence and
inversions under the reference encoder). Prints a table and writes JSON and Markdown; finished runs are read back
(the runner resumes).

    python benchmarks/relabel.py --decisions docs/audit/scifact-static-top50.csv --seeds 1 2 3 \\
        --work runs/bench-relabel --json docs/results/relabel/bench.json

References:
    Thakur et al., 2021, "BEIR" (missing judgements); FlagEmbedding issue #850 (false negatives among mined ones).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from negmine.outputs import markdown_table

RECIPE = Path(__file__).parents[1] / "recipes" / "scifact-static.yaml"
BUDGET = [("training.eval_strategy", "no"), ("training.load_best_model_at_end", False)]


def train_arm(arm: str, seed: int, decisions: Path, work: Path) -> dict:
    """One run of an arm (``mined`` or ``relabelled``) and seed; read back when finished."""
    from negmine.training.recipe import load_recipe
    from negmine.training.run import train

    output = work / f"{arm}-seed{seed}"
    overrides = [*BUDGET, ("training.seed", seed), ("output_dir", str(output))]
    if arm == "relabelled":
        overrides.append(("pairs.relabel", str(decisions)))
    if not (output / "metrics.json").is_file():
        train(load_recipe(str(RECIPE), overrides), output, show_progress_bar=False)
    metrics = json.loads((output / "metrics.json").read_text())
    return {"ndcg@10": metrics["splits"]["validation"]["ndcg@10"], "train_s": metrics.get("train_seconds")}


def false_negative_estimates(work: Path, seed: int) -> dict:
    """Both arms' pairs (of one seed: the pairs do not depend on it) measured by negmine analyze."""
    from click.testing import CliRunner

    from negmine.cli.main import cli

    out = work / "analyze"
    if not (out / "metrics.json").is_file():
        result = CliRunner().invoke(cli, ["analyze", str(work / f"mined-seed{seed}" / "pairs"),
                                          str(work / f"relabelled-seed{seed}" / "pairs"), "--out", str(out),
                                          "--no-umap"])  # fmt: skip
        if result.exit_code != 0:
            raise SystemExit(result.output)
    records = json.loads((out / "metrics.json").read_text())
    keys = ("false_negatives.sister", "false_negatives.inversion", "hardness.inversion_rate", "negatives")
    return {r["set"]: {k: r.get(k) for k in keys} for r in records
            if r["source"] == "all" and r["encoder"] == "reference"}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=Path, required=True, help="A filled-in audit CSV of scifact-static.")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--work", type=Path, default=Path("runs/bench-relabel"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    from negmine.study.statistics import compare_family

    scores: dict[str, dict[int, float]] = {"mined": {}, "relabelled": {}}
    for seed in args.seeds:  # seed-major: a partial run still pairs the arms on the seeds it finished
        for arm in scores:
            scores[arm][seed] = train_arm(arm, seed, args.decisions, args.work)["ndcg@10"]
            print(f"{arm} seed {seed}: nDCG@10 {scores[arm][seed]:.4f}", flush=True)
    manifest = json.loads((args.work / f"relabelled-seed{args.seeds[0]}" / "pairs" / "manifest.json").read_text())
    estimates = false_negative_estimates(args.work, args.seeds[0])
    (comparison,) = compare_family(scores, [("relabelled", "mined")])
    rows = [{"arm": arm, "nDCG@10 per seed": " ".join(f"{scores[arm][s]:.4f}" for s in args.seeds),
             "mean": round(sum(scores[arm].values()) / len(args.seeds), 4),
             **estimates.get(f"{arm}-seed{args.seeds[0]}/pairs", {})} for arm in scores]
    table = markdown_table(rows, list(rows[0]))
    summary = (f"relabelled - mined: {100 * comparison['mean_diff']:+.2f} points (per seed "
               f"{' '.join(f'{100 * d:+.2f}' for d in comparison['diffs'])}), paired t p {comparison['p_paired_t']}, "
               f"{comparison['verdict']}; decisions applied: {manifest['relabel']['applied']}")
    print(table + "\n\n" + summary)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        command = "python benchmarks/relabel.py " + " ".join(sys.argv[1:] if argv is None else argv)
        args.json.write_text(json.dumps({"command": command, "scores": scores, "comparison": comparison,
                                         "false_negatives": estimates, "relabel": manifest["relabel"]},
                                        indent=2) + "\n")  # fmt: skip
        args.json.with_suffix(".md").write_text(f"`{command}`\n\n{table}\n\n{summary}\n")


if __name__ == "__main__":
    main()

"""Retrieval quality of negmine recipes against the base model, BM25 and the plain sentence-transformers pipeline
(``mine_hard_negatives`` with its documented settings + MultipleNegativesRankingLoss, same epochs and batch size),
on the validation split (and SciFact dev/test where present), with wall times; several seeds give mean and spread.

    nohup python benchmarks/quality.py --recipes recipes/scifact-inbatch.yaml recipes/scifact-static.yaml \\
        recipes/scifact-mnrl-static.yaml --seeds 1 2 3 --json results/bench-quality.json > quality.log 2>&1 &

About 4 to 9 minutes a recipe and seed at the shipped settings (128 tokens, 3 epochs) on a 2-core CPU.
``--probe`` adds the synthetic-negative probe (``negmine.augment.probe``: the share of held-out validation items
where the model ranks the true text above a perturbed / swapped abstract or a reversed claim) for the base model and
every trained one (read back from ``OUTPUT/model``), with the perturb recipe's augmenters when one is given.
``--section.key VALUE`` (``--set KEY VALUE``, the older spelling) overrides every recipe (and the peer's model and
budget) the way ``negmine train`` does; give such a run its own ``--output-dir``, since finished runs are read back
from there (a finished run of another recipe there is a one-line error naming the keys that differ, never read
back). ``--reuse STUDY_DIR`` adopts a
finished run of a ``negmine study`` whose resolved recipe and seed are a system's (``output_dir`` aside) instead of
training it again, as ``negmine study --reuse`` does; its wall time is the one that run recorded.

The release recipe's tuning twin (issue 16: its settings with the validation split carved out), next to
scifact-static and the plain pipeline, reusing the release-levers study's runs:

    python benchmarks/quality.py --recipes recipes/scifact-static.yaml recipes/scifact-release.yaml \\
        --data.validation_fraction 0.2 --evaluation.splits [validation] --training.eval_strategy no \\
        --training.load_best_model_at_end false --seeds 1 2 3 \\
        --baseline scifact-static --reuse runs/study-release-levers --output-dir runs/quality-release \\
        --json results/bench-quality-release.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

from negmine.encode import Encoder
from negmine.errors import NegmineError
from negmine.evaluation import evaluate_bm25, evaluate_model
from negmine.models import load_model
from negmine.outputs import markdown_table
from negmine.study.runner import adopt_run, check_finished_run, finished_twin
from negmine.training.recipe import load_recipe, parse_overrides
from negmine.training.run import load_split, plain_pairs, train


def plain_sentence_transformers(recipe, seed: int, output: Path) -> dict:
    """The peer: ``mine_hard_negatives`` as its documentation shows it, then MNRL with the recipe's budget.

    ``mine_hard_negatives`` writes one triplet per negative (5 per pair); the peer trains for the number of steps
    the recipes take (one row per pair and epoch), so both sides get the same batches of the same size.
    """
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.util import mine_hard_negatives
    from transformers import set_seed

    pairs = plain_pairs(recipe)
    texts = load_split(recipe, "train").document_texts()
    model = load_model(recipe.model.name, max_seq_length=recipe.model.max_seq_length)
    set_seed(seed)  # its random sampling of negatives
    mined = mine_hard_negatives(pairs, model, corpus=texts, range_min=10, range_max=50, max_score=0.8,
                                relative_margin=0.05, num_negatives=5, sampling_strategy="random", batch_size=128,
                                use_faiss=True, cache_folder=str(output.parent / "st-embeddings"))  # fmt: skip
    arguments = recipe.training.arguments()
    # The same budget: as many optimizer steps of the same batch size as a recipe makes from one row per pair.
    steps = math.ceil(len(pairs) / arguments["per_device_train_batch_size"]) * math.ceil(arguments["num_train_epochs"])
    arguments.update(seed=seed, eval_strategy="no", save_strategy="no", load_best_model_at_end=False, max_steps=steps)
    args = SentenceTransformerTrainingArguments(output_dir=str(output), report_to="none", **arguments)
    SentenceTransformerTrainer(model=model, args=args, train_dataset=mined,
                               loss=MultipleNegativesRankingLoss(model)).train()  # fmt: skip
    model.save(str(output / "model"))  # for --probe
    return {split: evaluate_model(model, load_split(recipe, split)) for split in recipe.evaluation.splits}


def probe_setup(recipes: list[str], overrides):
    """Probe items from the validation split of the first recipe, with the synthetic settings of the first recipe
    that perturbs (defaults otherwise); returns ``(items, config)``."""
    from negmine.augment.probe import probe_items
    from negmine.augment.spec import SyntheticConfig
    from negmine.data import SciFactRelease, dataset_folder

    first = load_recipe(recipes[0], overrides)
    found = [p.synthetic for p in (load_recipe(path, overrides).pairs_config() for path in recipes)
             if p is not None and p.synthetic is not None]  # fmt: skip
    config = next((c for c in found if c.perturb), found[0] if found else SyntheticConfig())
    folder = dataset_folder(first.data.dataset, first.data.data_dir)
    release = SciFactRelease.load(folder) if SciFactRelease.is_release(folder) else None
    return probe_items(load_split(first, "validation"), release, config=config, seed=first.data.seed), config


def recorded_wall(output: Path) -> float:
    """The wall time an earlier benchmark run recorded for this system and seed (0 where it recorded none)."""
    path = output / "wall.json"
    return (json.loads(path.read_text()).get("wall_s") or 0.0) if path.is_file() else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[42])
    parser.add_argument("--output-dir", default="runs/quality")
    parser.add_argument("--skip-st", action="store_true", help="Leave out the plain sentence-transformers pipeline.")
    parser.add_argument("--json", default=None)
    parser.add_argument("--probe", action="store_true", help="Add the synthetic-negative probe accuracies.")
    parser.add_argument("--baseline", default=None, help="A system every other is compared with, seed by seed.")
    parser.add_argument("--reuse", action="append", default=[], metavar="STUDY_DIR",
                        help="Adopt a study's finished run of the same recipe and seed, not training it.")  # fmt: skip
    parser.add_argument("--set", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"), dest="overrides",
                        help="The older spelling of a dotted override: --set model.max_seq_length 128 is "
                             "--model.max_seq_length 128.")  # fmt: skip
    args, dotted = parser.parse_known_args()  # any other --section.key VALUE: a recipe override, as negmine train
    unknown = [a for a in dotted if a.startswith("--") and "." not in a.split("=")[0]]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    overrides = parse_overrides([item for key, value in args.overrides for item in (f"--{key}", value)] + dotted)

    recipes = {Path(p).stem: p for p in args.recipes}
    first = load_recipe(args.recipes[0], overrides)
    rows = []
    items = probe_setup(args.recipes, overrides)[0] if args.probe else None

    def probed(model) -> dict:
        from negmine.augment.probe import probe

        if items is None:
            return {}
        return {f"probe_{k}": v for k, v in probe(model, items).items() if not k.endswith("_items")}

    for name in ("base", "bm25"):
        start = time.perf_counter()
        for split in first.evaluation.splits:
            data = load_split(first, split)
            if name == "bm25":
                metrics = evaluate_bm25(data)
            else:
                model = load_model(first.model.name, max_seq_length=first.model.max_seq_length)
                metrics = {**evaluate_model(model, data, encoder=Encoder(model)), **probed(model)}
            rows.append({"system": name, "seed": "-", "split": split, **metrics,
                         "wall_s": round(time.perf_counter() - start, 1)})  # fmt: skip
    systems = [("sentence-transformers", None)] * (not args.skip_st) + list(recipes.items())
    for seed in args.seeds:
        for name, recipe in systems:
            start = time.perf_counter()
            output = Path(args.output_dir) / f"{name}-seed{seed}"
            if recipe is not None and (output / "metrics.json").is_file():  # not another recipe's figures
                check_finished_run(load_recipe(recipe, [*overrides, ("training.seed", seed)]), output)
            if (output / "metrics.json").is_file():  # done in an earlier, interrupted benchmark run
                results = json.loads((output / "metrics.json").read_text())["splits"]
                start -= recorded_wall(output)
            elif recipe is None:
                results = plain_sentence_transformers(first, seed, output)
                output.mkdir(parents=True, exist_ok=True)
                (output / "metrics.json").write_text(json.dumps({"splits": results}, indent=2))
            else:
                resolved = load_recipe(recipe, [*overrides, ("training.seed", seed)])
                twin = finished_twin(resolved, [Path(p) for p in args.reuse]) if args.reuse else None
                if twin is not None:
                    adopt_run(twin, output)
                    results = json.loads((output / "metrics.json").read_text())["splits"]
                    start -= recorded_wall(output)
                else:
                    results = train(resolved, output, show_progress_bar=False)
            wall = round(time.perf_counter() - start, 1)
            earlier = json.loads((output / "wall.json").read_text()) if (output / "wall.json").is_file() else {}
            (output / "wall.json").write_text(json.dumps({**earlier, "wall_s": wall}) + "\n")  # read back on resume
            trained = output / "model"
            extra = probed(load_model(str(trained))) if items is not None and trained.is_dir() else {}
            for split, metrics in results.items():
                rows.append({"system": name, "seed": seed, "split": split, **metrics, **extra, "wall_s": wall})
            print(markdown_table(rows[-len(results) :], list(rows[-1])), flush=True)

    summary = []
    for system in dict.fromkeys(r["system"] for r in rows):
        for split in dict.fromkeys(r["split"] for r in rows):
            picked = [r for r in rows if r["system"] == system and r["split"] == split]
            if not picked:
                continue
            entry = {"system": system, "split": split, "seeds": len(picked)}
            probes = sorted({k for r in picked for k in r if k.startswith("probe_")})
            for key in ("ndcg@10", "recall@100", *probes, "wall_s"):
                values = [r[key] for r in picked if key in r]
                if not values:
                    continue
                entry[f"{key}_mean"] = round(statistics.mean(values), 4)
                entry[f"{key}_sd"] = round(statistics.stdev(values), 4) if len(values) > 1 else 0.0
            summary.append(entry)
    print(markdown_table(summary, list(summary[0])))
    paired = paired_differences(rows, args.baseline) if args.baseline else []
    if paired:
        print(markdown_table(paired, list(paired[0])))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"runs": rows, "summary": summary, "paired": paired}, indent=2) + "\n")


def paired_differences(rows: list[dict], baseline: str, key: str = "ndcg@10") -> list[dict]:
    """Each system against ``baseline`` on the (seed, split) pairs both ran, as one family through the study's
    :func:`negmine.study.statistics.compare_family` (per-seed differences, paired t-test, Holm over the systems
    compared, the verdict read from the Holm p), flattened into one table row: differences, their mean and sd, wins,
    p, the Holm p and the verdict. Fewer than 2 seeds, or differences with no spread, give no p (``None``, JSON
    ``null``: a NaN would make the JSON file unreadable to strict parsers)."""
    from negmine.study.statistics import compare_family

    systems = [s for s in dict.fromkeys(r["system"] for r in rows) if s not in ("base", "bm25")]
    scores = {s: {(r["seed"], r["split"]): r[key] for r in rows if r["system"] == s} for s in systems}
    out = []
    for c in compare_family(scores, [(s, baseline) for s in systems if s != baseline and baseline in scores]):
        p, holm = c["p_paired_t"], c["p_holm"]
        out.append({"system": c["strategy"], "baseline": baseline, "seeds": c["seeds"],
                    "diffs": " ".join(f"{d:+.4f}" for d in c["diffs"]),
                    f"{key}_diff_mean": round(c["mean_diff"], 4),
                    "diff_sd": None if c["sd_diff"] is None else round(c["sd_diff"], 4),
                    "wins": c["wins"], "p_paired_t": None if p is None else round(p, 4),
                    "p_holm": None if holm is None else round(holm, 4), "family": c["family"],
                    "verdict": c["verdict"]})  # fmt: skip
    return out


if __name__ == "__main__":
    try:
        main()
    except NegmineError as error:  # a user's mistake (e.g. a stale run in --output-dir): one line, no traceback
        raise SystemExit(f"Error: {error}") from None

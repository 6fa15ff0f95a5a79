"""``negmine train`` with N CPU (or GPU) processes under torchrun against one process, recipes as shipped, in one run:
training time, the refresh's share, the command's wall time and validation nDCG@10 / Recall@100.

    python benchmarks/ddp_training.py --recipes scifact-static,scifact-dynamic --processes 2 --seed 1 \\
        --json results/bench-ddp-training.json

Every run: per-epoch evaluation off (the final model scored), the recipe's batch size per process, and
``loss.gather_across_devices: true`` for the multi-process runs. Runs already in ``--out`` are read, not trained again.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from negmine.outputs import markdown_table


def train(recipe: str, processes: int, out: Path, seed: int) -> float:
    """Train one run into ``out`` (unless done); returns the command's wall seconds (None when read back)."""
    common = ["--output-dir", str(out), "--overwrite", "--training.eval_strategy", "no",
              "--training.load_best_model_at_end", "false", "--training.seed", str(seed)]  # fmt: skip
    if processes > 1:
        torchrun = str(Path(sys.executable).with_name("torchrun"))
        command = [torchrun, "--nproc_per_node", str(processes), "-m", "negmine", "train", f"recipes/{recipe}.yaml",
                   *common, "--loss.gather_across_devices", "true"]  # fmt: skip
    else:
        command = [sys.executable, "-m", "negmine", "train", f"recipes/{recipe}.yaml", *common]
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    wall = time.perf_counter() - start
    (out / "wall.json").write_text(json.dumps({"wall_s": round(wall, 1)}) + "\n")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", default="scifact-static,scifact-dynamic")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="runs/ddp")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows = []
    for recipe in args.recipes.split(","):
        single = None
        for processes in (1, args.processes):
            out = Path(args.out) / f"{recipe.removeprefix('scifact-')}-{processes}p"
            if not (out / "metrics.json").is_file():
                train(recipe, processes, out, args.seed)
            metrics = json.loads((out / "metrics.json").read_text())
            wall = json.loads((out / "wall.json").read_text())["wall_s"] if (out / "wall.json").is_file() else None
            validation = metrics["splits"]["validation"]
            row = {"recipe": recipe, "processes": metrics.get("processes", processes),
                   "train_s": metrics["train_seconds"], "refresh_s": metrics.get("refresh_seconds"),
                   "refresh_share": metrics.get("refresh_share"), "wall_s": wall,
                   "ndcg@10": round(validation["ndcg@10"], 4),
                   "recall@100": round(validation["recall@100"], 4)}  # fmt: skip
            single = single or row
            row["train_ratio_vs_1"] = round(row["train_s"] / single["train_s"], 3)
            rows.append(row)
    print(markdown_table(rows, list(rows[0])))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()

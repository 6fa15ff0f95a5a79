"""One hard-negative refresh of a dynamic recipe under ``torchrun``: each process encoding a slice of the corpus
(the default) against the main process encoding it alone on every core while the others wait, in the same run.

    torchrun --nproc_per_node 2 benchmarks/ddp_refresh.py --recipe recipes/scifact-dynamic.yaml \\
        --json results/bench-ddp-refresh.json

Each way builds the refresh callback, runs the cached first mining, then times one refresh as training does it
(the model in training: no cache, torch). Reports seconds each way, the ratio, and whether both gave the same
negatives (checksums equal on every process and between the two ways).
"""

from __future__ import annotations

import argparse
import time

from negmine import distributed
from negmine.models import load_model
from negmine.outputs import emit_benchmark
from negmine.training.recipe import load_recipe
from negmine.training.run import refresh_callback


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="recipes/scifact-dynamic.yaml")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    distributed.init_distributed()
    recipe = load_recipe(args.recipe)
    model = load_model(recipe.model.name, max_seq_length=recipe.model.max_seq_length)
    result: dict = {"processes": distributed.world_size()}
    checksums = {}
    for way, shard in (("sliced", True), ("main_alone", False)):
        refresh = refresh_callback(recipe)
        refresh.shard_encoding = shard
        refresh.initial_dataset(model)
        start = time.perf_counter()
        entry = refresh.mine(model, epoch=1.0, step=1)
        result[f"{way}_s"] = round(time.perf_counter() - start, 1)
        checksums[way] = entry.get("rank_checksums", ["-"])
    result["speedup_sliced_vs_main_alone"] = round(result["main_alone_s"] / result["sliced_s"], 3)
    result["same_negatives"] = len({c for way in checksums.values() for c in way}) == 1
    if distributed.is_main():
        emit_benchmark(result, args.json, vertical=True)
    distributed.finish()


if __name__ == "__main__":
    main()

"""Time per training step of CombinedLoss against MultipleNegativesRankingLoss alone, on the same batches; also
MNRL with per-example negatives (no in-batch sharing) and with GISTEmbed-style false-negative masking.

    python benchmarks/loss_step.py --pairs runs/pairs-ntuple --json results/bench-loss-step.json

Each step is a forward and backward pass of the model (no optimizer) on one (anchor, positive, negative_1..k)
batch; the two losses alternate on every batch so that drift affects both. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from datasets import load_from_disk

from negmine.losses import CombinedLoss
from negmine.models import load_model
from negmine.outputs import emit_benchmark
from negmine.pairs.formats import training_view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", required=True, help="An n-tuple (or triplet) folder from negmine build-pairs.")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=6, help="Timed steps per loss (after one warm-up each).")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    manifest = json.loads((Path(args.pairs) / "manifest.json").read_text())
    dataset = training_view(load_from_disk(str(Path(args.pairs) / "dataset")), manifest["parameters"]["output_format"])
    model = load_model(args.model, max_seq_length=args.max_seq_length)
    model.train()
    losses = {
        "mnrl": MultipleNegativesRankingLoss(model),
        "combined": CombinedLoss(model),
        "per_example": CombinedLoss(model, weights={"mnrl": 1.0}, in_batch_negatives=False),
        "masked": CombinedLoss(model, weights={"mnrl": 1.0}, false_negative_margin=0.0),
    }
    times: dict[str, list[float]] = {name: [] for name in losses}
    for step in range(args.steps + 1):
        rows = dataset.select(range(step * args.batch_size, (step + 1) * args.batch_size))
        preprocess = getattr(model, "preprocess", None) or model.tokenize  # ST >= 6 renamed tokenize
        features = [preprocess(rows[column]) for column in dataset.column_names]
        for name in list(losses) if step % 2 == 0 else list(losses)[::-1]:  # alternate the order
            torch.manual_seed(step)
            start = time.perf_counter()
            value = losses[name](features, None)
            total = sum(value.values()) if isinstance(value, dict) else value
            total.backward()
            model.zero_grad(set_to_none=True)
            if step > 0:  # the first batch warms up both
                times[name].append(time.perf_counter() - start)
    result = {
        "model": args.model,
        "max_seq_length": args.max_seq_length,
        "batch_size": args.batch_size,
        "columns": len(dataset.column_names),
        "steps": args.steps,
        **{f"{name}_step_s": round(statistics.mean(values), 3) for name, values in times.items()},
        **{f"{name}_step_sd": round(statistics.stdev(values), 3) for name, values in times.items()},
    }
    for name in losses:
        if name != "mnrl":
            result[f"{name}_over_mnrl"] = round(result[f"{name}_step_s"] / result["mnrl_step_s"], 4)
    emit_benchmark(result, args.json)


if __name__ == "__main__":
    main()

"""What one hard-negative refresh costs on SciFact under each of HardNegativeRefresh's cost-bounding options, against
re-running sentence-transformers' ``mine_hard_negatives`` from scratch (what a plain pipeline would do each epoch).

    OPENBLAS_CORETYPE=SkylakeX python benchmarks/refresh_cost.py --recipe recipes/scifact-dynamic.yaml \\
        --set model.max_seq_length 128 --json results/bench-refresh-cost.json

Every variant first mines with the recipe's starting model (its embeddings cached, as in training), then times one
refresh: the queries and the corpus, or the part an option keeps, re-encoded without the cache, an exact index
rebuilt, the static miner's filters applied. The refresh uses the starting model again, so times, not negatives,
are what this measures. Options: ``query_fraction`` (re-mine a random share of the queries, as ANCE does) and
``candidate_pool`` (re-encode only the union of every query's top K documents at the first mining). The last row
is the refresh as ``negmine train`` runs it when it evaluates each epoch: the evaluation encodes the corpus with the
weights the refresh then sees, and the refresh reads those vectors from the shared ``EmbeddingMemory`` (the
evaluation's own time is reported beside it). Refreshing on a schedule (``every_epochs`` / ``every_steps``)
multiplies the full cost by the number of refreshes and needs no separate timing.

``--backends onnx,openvino,...`` adds one row a backend (``refresh.backend``): the refresh exports the model's
current weights (timed with the refresh: the weights change between refreshes, so each pays its own export) and
encodes with the export; ``negatives_same`` is the share of its mined negatives that the torch refresh (``full``)
also mined, per query, with the same weights (random fills, where a query's window ran short, left out).

    python benchmarks/refresh_cost.py --set model.max_seq_length 128 --backends onnx,onnx-int8,openvino \\
        --variants full --json results/bench-refresh-backends.json

With the starting weights at the refresh too, a candidate pool trivially keeps every negative. ``--refresh-model``
gives the refresh the weights a real one sees (a checkpoint of a training run, e.g. the end of its first epoch):
the first mining still uses the recipe's starting model, so ``negatives_same`` then says what the pool loses.
``--pools 50,100`` adds one ``candidate_pool`` row each, on ``--pool-backend`` (default torch).

    python benchmarks/refresh_cost.py --set model.max_seq_length 128 --skip-peer --variants full \\
        --refresh-model runs/dyn-share/torch/checkpoints/checkpoint-23 --pools 50,100 --pool-backend openvino \\
        --json results/bench-refresh-pools.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from negmine.outputs import markdown_table
from negmine.training.recipe import load_recipe, parse_overrides
from negmine.training.run import load_split, plain_pairs, refresh_callback

sys.path.insert(0, str(Path(__file__).parent))
from encoding import mined_overlap  # noqa: E402

VARIANTS = {  # on torch, as refresh.backend auto would not be where OpenVINO is installed
    "full": {"backend": "torch"},
    "query_fraction 0.5": {"query_fraction": 0.5, "backend": "torch"},
    "candidate_pool 30": {"candidate_pool": 30, "backend": "torch"},
    "candidate_pool 30 + query_fraction 0.5": {"candidate_pool": 30, "query_fraction": 0.5, "backend": "torch"},
    "full, after the epoch's evaluation": {"backend": "torch"},
}


def peer_seconds(recipe, model) -> float:
    """``mine_hard_negatives`` over the same pairs and corpus, embeddings computed afresh (no cache)."""
    from sentence_transformers.util import mine_hard_negatives

    pairs = plain_pairs(recipe)
    texts = load_split(recipe, "train").document_texts()
    params = recipe.pairs_config().mining
    start = time.perf_counter()
    mine_hard_negatives(pairs, model, corpus=texts, range_min=params.range_min, range_max=params.range_max,
                        relative_margin=params.relative_margin, num_negatives=params.num_negatives,
                        sampling_strategy="top", batch_size=64, use_faiss=True, verbose=False)  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="recipes/scifact-dynamic.yaml")
    parser.add_argument("--set", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"), dest="overrides",
                        help="A recipe override, e.g. --set model.max_seq_length 128.")  # fmt: skip
    parser.add_argument("--backends", default="", help="Comma-separated refresh.backend values to add as rows.")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="Comma-separated variants to run (default: all).")  # fmt: skip
    parser.add_argument("--skip-peer", action="store_true", help="Leave out mine_hard_negatives.")
    parser.add_argument("--refresh-model", default=None,
                        help="Weights the refresh encodes with (default: the recipe's starting model).")  # fmt: skip
    parser.add_argument("--pools", default="", help="Comma-separated candidate_pool sizes to add as rows.")
    parser.add_argument("--pool-backend", default="torch", help="refresh.backend of the --pools rows.")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    chosen = [v.strip() for v in args.variants.split(",") if v.strip()]
    if "full" not in chosen:
        chosen.insert(0, "full")  # every ratio is against it
    variants = {name: VARIANTS[name] for name in chosen}
    variants.update({f"backend {b.strip()}": {"backend": b.strip()} for b in args.backends.split(",") if b.strip()})
    variants.update({f"candidate_pool {int(k)} ({args.pool_backend})": {"candidate_pool": int(k),
                     "backend": args.pool_backend} for k in args.pools.split(",") if k.strip()})  # fmt: skip
    overrides = parse_overrides([item for key, value in args.overrides for item in (f"--{key}", value)])

    from negmine.models import load_model

    base = load_recipe(args.recipe, overrides)
    model = load_model(base.model.name, max_seq_length=base.model.max_seq_length)
    later = model  # the weights each refresh sees
    if args.refresh_model:
        later = load_model(args.refresh_model, max_seq_length=base.model.max_seq_length)
    from negmine.encode import EmbeddingMemory
    from negmine.evaluation import make_evaluator

    rows = []
    reference = None
    for name, options in variants.items():
        recipe = load_recipe(args.recipe, [*overrides, *((f"refresh.{k}", v) for k, v in options.items())])
        callback = refresh_callback(recipe)
        callback.initial_dataset(model)
        evaluation = None
        if name.endswith("evaluation"):
            callback.memory = EmbeddingMemory()
            start = time.perf_counter()
            make_evaluator(load_split(recipe, "validation"), memory=callback.memory)(later)
            evaluation = round(time.perf_counter() - start, 3)
        entry = callback.refresh(later, epoch=1.0, step=0)
        # random fills (a query whose window ran short) are not mined, and their draws follow the shared generator
        # of every coin flip before them, so they are left out of the comparison
        mined = np.where(callback.negative_random, -1, callback.negatives)
        reference = mined if reference is None else reference
        rows.append({"variant": name, "queries": entry["queries"], "documents": entry["documents"],
                     "documents_reused": entry["documents_reused"], "refresh_s": entry["seconds"],
                     "evaluation_s": evaluation,
                     "random_share": entry["random_share"],
                     "negatives_same": round(mined_overlap(mined, reference), 4)})  # fmt: skip
        callback.on_train_end(None, None, None)  # drops a backend's temporary export
        print(markdown_table(rows[-1:], list(rows[-1])), flush=True)
    peer = None if args.skip_peer else peer_seconds(base, model)
    if peer is not None:
        rows.append({"variant": "peer: mine_hard_negatives from scratch", "queries": rows[0]["queries"],
                     "documents": rows[0]["documents"], "documents_reused": 0, "refresh_s": round(peer, 3),
                     "evaluation_s": None, "random_share": None, "negatives_same": None})  # fmt: skip
    for row in rows:
        row["over_full"] = round(row["refresh_s"] / rows[0]["refresh_s"], 3)
        row["over_peer"] = round(row["refresh_s"] / peer, 3) if peer else None
    print(markdown_table(rows, list(rows[0])))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        meta = {"recipe": args.recipe, "overrides": overrides, "max_seq_length": base.model.max_seq_length,
                "refresh_model": args.refresh_model}  # fmt: skip
        Path(args.json).write_text(json.dumps({**meta, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()

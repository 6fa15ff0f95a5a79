"""``negmine encode`` on Ray against the single-process path: SciFact's corpus (or any data set) into two fresh
caches, wall time of each, texts per second per worker, and the largest difference between the two caches' vectors.

    python benchmarks/ray_encoding.py --dataset scifact --max-seq-length 128 --workers 2 \\
        --json results/bench-ray-encoding.json

Each path starts from an empty cache; Ray's time includes starting the local Ray instance and loading the model in
every worker (what a user pays), and ``ray_steady_texts_per_s`` is the rate once the workers run (the whole
job's texts over the time after the first shard was written), the figure a projection to a larger corpus uses.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from negmine.corpus_encoding import encode_corpus
from negmine.outputs import emit_benchmark
from negmine.search.streamed import ShardedVectors


def vectors_by_key(folder: str) -> dict[bytes, np.ndarray]:
    vectors = ShardedVectors.from_folder(folder)
    keys = np.concatenate([np.load(path / "keys.npy") for path in vectors.paths])
    return dict(zip(keys.tolist(), vectors[np.arange(len(vectors))], strict=True))


def shard_times(folder: str) -> list[float]:
    return sorted(path.stat().st_mtime for path in Path(folder).glob("*.shard"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="scifact")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--shard-size", type=int, default=256, help="Small enough that every worker gets shards.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="negmine-ray-bench-"))
    common = dict(model=args.model, max_seq_length=args.max_seq_length, batch_size=args.batch_size,
                  shard_size=args.shard_size, show_progress_bar=False)  # fmt: skip
    start = time.time()
    single = encode_corpus(args.dataset, cache_dir=work / "single", **common)
    single_s = time.time() - start
    start = time.time()
    on_ray = encode_corpus(args.dataset, cache_dir=work / "ray", ray_address="local", workers=args.workers, **common)
    ray_s = time.time() - start
    times = shard_times(on_ray["folder"])
    steady = (on_ray["encoded"] - args.shard_size) / (times[-1] - times[0]) if len(times) > 1 else None

    a, b = vectors_by_key(single["folder"]), vectors_by_key(on_ray["folder"])
    if set(a) != set(b):
        raise SystemExit("the two caches hold different texts")
    difference = max(float(np.abs(a[key] - b[key]).max()) for key in a)
    result = {
        "texts": single["encoded"],
        "max_seq_length": args.max_seq_length,
        "single_process_s": single_s,
        "single_texts_per_s": single["encoded"] / single_s,
        "ray_workers": args.workers,
        "ray_s": ray_s,
        "ray_texts_per_s": on_ray["encoded"] / ray_s,
        "ray_steady_texts_per_s": steady,
        "ray_steady_per_worker": steady / args.workers if steady else None,
        "speedup_ray_vs_single": single_s / ray_s,
        "max_abs_difference": difference,
        "identical_within_1e-6": difference <= 1e-6,
    }
    result = {key: round(value, 4) if isinstance(value, float) else value for key, value in result.items()}
    emit_benchmark(result, args.json, vertical=True)
    print(json.dumps({"engine_single": single["engine"], "engine_ray": on_ray["engine"]}))


if __name__ == "__main__":
    main()

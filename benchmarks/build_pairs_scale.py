"""``negmine build-pairs`` on a corpus larger than this machine's memory holds as float32 vectors: the streamed path
(``--vectors-on-disk``: vectors stay in the cache's memory-mapped shards, an IVF-SQ8 index is filled as a stream and
its candidates are re-scored exactly) against the in-memory exact path, each in its own child process.

    python benchmarks/build_pairs_scale.py --docs 1000000 --queries 10000 --json results/bench-bp-1m.json
    python benchmarks/build_pairs_scale.py --docs 10000000 --queries 10000 --skip-exact \
        --json results/bench-bp-10m.json

A seeded synthetic BEIR folder is written first (``corpus.jsonl`` of 12-word texts, ``queries.jsonl``,
``qrels/train.tsv``: one positive a query), and the corpus's and queries' vectors go straight into negmine's
embedding cache under the model's keys (low intrinsic dimension, each query near its positive, as in
``benchmarks/mining.py --streamed``), so nothing is encoded: encoding 10M texts would take this CPU about 5 days,
and the point here is the search and the memory. The write time is reported apart. Dense mining only (BM25 over 10M
texts is a different cost; ``--lexical`` adds it).

Reports, as a table and JSON: each path's wall time (the child's, model loading included), its stage timings
(``timings.json``), its peak resident memory (the child's ``ru_maxrss``), the vectors' size, and, where the exact
path ran, the share of each query's negatives the two paths both chose and the speed ratio.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from mining import embed_latent, latent_model  # noqa: E402

from negmine.outputs import emit_benchmark  # noqa: E402

WORDS = [f"{a}{b}{c}" for a in ("ka", "lo", "mi", "nu", "pe", "ra", "si", "to") for b in "aeiou"
         for c in ("n", "s", "t", "l", "m", "r", "k", "p", "d", "v")]  # fmt: skip


def doc_text(rng, n: int) -> list[str]:
    """``n`` texts of 12 made-up words (more than build-pairs' 10-word noise filter)."""
    picks = rng.integers(0, len(WORDS), size=(n, 12))
    return [" ".join(WORDS[w] for w in row) for row in picks]


def write_corpus(folder: Path, cache: Path, model: str, max_seq_length: int, docs: int, queries: int, seed: int,
                 rows: int = 262_144) -> float:  # fmt: skip
    """The BEIR folder and the cache's shards, block by block (never all vectors in memory). Returns seconds."""
    from negmine.encode import Encoder, text_keys
    from negmine.models import load_model
    from negmine.shards import write_shard

    if (folder / "done").exists():
        return 0.0
    start = time.perf_counter()
    encoder = Encoder(load_model(model, max_seq_length=max_seq_length), cache_dir=cache)
    doc_folder, query_folder = encoder.cache_folder("document"), encoder.cache_folder("query")
    dim = encoder._dimension()
    centres, projection = latent_model(dim, seed)
    positives = np.sort(np.random.default_rng([seed, 1]).choice(docs, size=queries, replace=False))
    query_rows, query_vectors = [], []
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with open(folder / "corpus.jsonl", "w") as corpus:
        for shard, first in enumerate(range(0, docs, rows)):
            rng = np.random.default_rng([seed, shard])
            n = min(rows, docs - first)
            points = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal(
                (n, centres.shape[1]), dtype=np.float32
            )
            vectors = embed_latent(points, projection, rng)
            texts = doc_text(rng, n)
            corpus.writelines(json.dumps({"_id": f"d{first + i}", "title": "", "text": t}) + "\n"
                              for i, t in enumerate(texts))  # fmt: skip
            write_shard(doc_folder, text_keys(texts), vectors)
            mine = positives[(positives >= first) & (positives < first + n)]
            query_rows.extend(mine.tolist())
            noise = rng.standard_normal((len(mine), dim), dtype=np.float32) * (0.3 / math.sqrt(dim))
            near = vectors[mine - first] + noise  # a query near its positive document
            query_vectors.append(near / np.linalg.norm(near, axis=1, keepdims=True))
    texts = [f"query {i} " + " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(6)) for i in range(queries)]
    write_shard(query_folder, text_keys(texts), np.concatenate(query_vectors))
    with open(folder / "queries.jsonl", "w") as out:
        out.writelines(json.dumps({"_id": f"q{i}", "text": t}) + "\n" for i, t in enumerate(texts))
    with open(folder / "qrels" / "train.tsv", "w") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        out.writelines(f"q{i}\td{doc}\t1\n" for i, doc in enumerate(query_rows))
    (folder / "done").write_text("")
    return time.perf_counter() - start


def run_build_pairs(data: Path, out: Path, cache: Path, args, extra: list[str]) -> dict:
    """One ``negmine build-pairs`` in a child process: wall seconds, peak RSS (GiB) and its stage timings."""
    command = [sys.executable, "-m", "negmine", "build-pairs", str(data), "--out", str(out), "--overwrite",
               "--validation-fraction", "0", "--model", args.model, "--max-seq-length", str(args.max_seq_length),
               "--cache-dir", str(cache), "--searchers", "dense,lexical" if args.lexical else "dense",
               "--num-negatives", str(args.num_negatives), "--seed", str(args.seed), *extra]  # fmt: skip
    start = time.perf_counter()
    child = subprocess.Popen(command, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    _, status, usage = os.wait4(child.pid, 0)  # this child's own resource use
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"build-pairs failed: {' '.join(command)}")
    peak = usage.ru_maxrss / 2**20  # KiB -> GiB
    timings = json.loads((out / "timings.json").read_text())
    searcher = json.loads((out / "manifest.json").read_text())["searcher"]["dense"]
    return {"wall_s": wall, "peak_gb": peak, **timings, "searcher": searcher}


def negatives_by_query(out: Path) -> dict[str, set[str]]:
    import pandas as pd

    frame = pd.read_parquet(out / "pairs.parquet", columns=["query_id", "negative_id"])
    return frame.groupby("query_id")["negative_id"].agg(set).to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--num-negatives", type=int, default=3)
    parser.add_argument("--factory", default="IVF{nlist},SQ8")
    parser.add_argument("--nlist", type=int, default=None, help="IVF cells (default: 1024 to 1M docs, 2048 above).")
    parser.add_argument("--nprobe", type=int, default=4)
    parser.add_argument("--refine", type=int, default=2)
    parser.add_argument("--train-size", type=int, default=40_960)
    parser.add_argument("--lexical", action="store_true", help="Mine BM25 candidates too.")
    parser.add_argument("--skip-exact", action="store_true", help="Leave out the in-memory exact path.")
    parser.add_argument("--work-dir", default=None, help="Keep (and reuse) the corpus and cache here.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    work = Path(args.work_dir or tempfile.mkdtemp(prefix="negmine-bp-scale-"))
    data, cache = work / f"beir-{args.docs}", work / "cache"
    result: dict = {"docs": args.docs, "queries": args.queries}
    result["write_corpus_and_vectors_s"] = write_corpus(data, cache, args.model, args.max_seq_length, args.docs,
                                                        args.queries, args.seed)  # fmt: skip
    result["vectors_gb"] = args.docs * 384 * 4 / 2**30
    nlist = args.nlist or (1024 if args.docs <= 1_000_000 else 2048)
    factory = args.factory.format(nlist=nlist)
    result["index"] = f"{factory} nprobe={args.nprobe} refine={args.refine} train={args.train_size}"
    streamed = run_build_pairs(data, work / "out-disk", cache, args, [
        "--vectors-on-disk", "--index-factory", factory, "--nprobe", str(args.nprobe), "--refine", str(args.refine),
        "--train-size", str(args.train_size)])  # fmt: skip
    result.update({f"disk_{k}": v for k, v in streamed.items()})
    if not args.skip_exact:
        exact = run_build_pairs(data, work / "out-memory", cache, args, ["--index-factory", "Flat"])
        result.update({f"memory_{k}": v for k, v in exact.items()})
        result["speedup_disk_vs_memory"] = exact["wall_s"] / streamed["wall_s"]
        disk, memory = negatives_by_query(work / "out-disk"), negatives_by_query(work / "out-memory")
        shared = [len(disk.get(q, set()) & negs) / len(negs) for q, negs in memory.items() if negs]
        result["negative_overlap"] = float(np.mean(shared))
    result = {key: round(value, 4) if isinstance(value, float) else value for key, value in result.items()}
    emit_benchmark(result, args.json, vertical=True)


if __name__ == "__main__":
    main()

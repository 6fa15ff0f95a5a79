"""Static mining at scale: negmine (exact and IVF) against the bare FAISS search and sentence-transformers'
``mine_hard_negatives``, on seeded synthetic data where every query has a known positive near it.

    python benchmarks/mining.py --docs 1000000 --queries 10000 --dim 384 --json results/bench-mining.json

Reports, as a table and JSON: ``faiss_search_s`` (the bare exact search the miner needs, k = range_max +
positives), ``negmine_exact_s`` (index + search + filters + sampling, embeddings given), ``negmine_ivf_s`` and
``ivf_overlap`` (IVF, training included; share of negatives identical to exact mode), ``st_s``, ``st_encode_s``
and ``st_overlap`` (``mine_hard_negatives`` through a StaticEmbedding model; its encoding measured separately on the
same texts; share of its negatives identical to negmine's exact mode in top mode), peak memory of each, the
embedding matrix's size, and the ratios.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import math
import time
from pathlib import Path

import numpy as np

from negmine.mining.static import MiningParams, mine_negatives
from negmine.outputs import emit_benchmark
from negmine.search.faiss import FaissSearcher
from negmine.search.torch_exact import TorchSearcher
from negmine.toydata import synthetic_retrieval


class PeakMemory:
    """Peak resident memory of this process above its level at entry (Linux: VmHWM after resetting it through
    /proc/self/clear_refs, freed heap returned to the OS first, so FAISS's C++ allocations count and reused
    memory does not hide).
    """

    def __enter__(self):
        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        Path("/proc/self/clear_refs").write_text("5")
        self.base = self._status("VmRSS")
        return self

    @staticmethod
    def _status(field: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"{field} not in /proc/self/status")

    def __exit__(self, *exc):
        self.mb = (self._status("VmHWM") - self.base) / 2**20


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Mean share of the negatives in a row of ``a`` that are also in the same row of ``b``."""
    shares = []
    for x, y in zip(a, b, strict=True):
        mine, theirs = set(x[x >= 0].tolist()), set(y[y >= 0].tolist())
        shares.append(len(mine & theirs) / max(1, len(mine)))
    return float(np.mean(shares))


def knn_in_child(docs: np.ndarray, queries: np.ndarray, k: int) -> tuple[float, str]:
    """Seconds of ``faiss.knn`` and the kernel, in a child process that leaves OpenBLAS to its own detection."""
    import json
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        np.save(f"{folder}/docs.npy", docs)
        np.save(f"{folder}/queries.npy", queries)
        code = (
            "import json, sys, time, numpy as np\n"
            "from negmine.search.faiss import import_faiss\n"
            "from negmine.search.blas import openblas_kernel\n"
            "faiss = import_faiss()\n"
            f"d = np.load('{folder}/docs.npy'); q = np.load('{folder}/queries.npy')\n"
            "t = time.perf_counter()\n"
            f"faiss.knn(q, d, {k}, metric=faiss.METRIC_INNER_PRODUCT)\n"
            "print(json.dumps([time.perf_counter() - t, openblas_kernel()]))\n"
        )
        env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_CORETYPE"}
        env["NEGMINE_OPENBLAS_AUTO"] = "0"
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    seconds, kernel = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, kernel


def latent_model(dim: int, seed: int, latent: int = 32, clusters: int = 1024):
    """A low-dimensional mixture (``clusters`` centres in ``latent`` dimensions) and a random projection to ``dim``:
    real embeddings have a low intrinsic dimension, which is what lets an IVF index find neighbours."""
    rng = np.random.default_rng([seed, 999])
    centres = rng.standard_normal((clusters, latent)).astype(np.float32)
    projection = np.linalg.qr(rng.standard_normal((dim, latent)))[0].T.astype(np.float32)  # (latent, dim)
    return centres, projection


def embed_latent(points: np.ndarray, projection: np.ndarray, rng, noise: float = 0.05) -> np.ndarray:
    vectors = points @ projection
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors += rng.standard_normal(vectors.shape, dtype=np.float32) * (noise / math.sqrt(vectors.shape[1]))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def write_synthetic_shards(folder: Path, docs: int, dim: int, seed: int, rows: int = 262_144) -> float:
    """Seeded unit vectors of low intrinsic dimension (:func:`latent_model`) written as embedding-cache shards,
    shard by shard, never all in memory; shards already there with the right count are kept. Returns the seconds
    spent writing."""
    from negmine.shards import shard_paths, write_shard

    existing = len(shard_paths(folder))
    expected = -(-docs // rows)
    if existing == expected:
        return 0.0
    if existing:
        raise SystemExit(f"{folder}: {existing} shards, expected {expected}; use an empty --shard-dir")
    start = time.perf_counter()
    centres, projection = latent_model(dim, seed)
    for shard, first in enumerate(range(0, docs, rows)):
        rng = np.random.default_rng([seed, shard])
        n = min(rows, docs - first)
        points = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal((n, centres.shape[1]),
                                                                                        dtype=np.float32)  # fmt: skip
        keys = np.array([f"{i:064d}".encode() for i in range(first, first + n)], dtype="S64")
        write_shard(folder, keys, embed_latent(points, projection, rng))
    return time.perf_counter() - start


def streamed(args) -> None:
    """The corpus as cache shards on disk: the streamed approximate index with exact re-scoring against exact
    search (in memory at --docs up to --exact-limit; over the shards, on a --sample of queries, above it)."""
    import tempfile

    from negmine.search.streamed import ShardedVectors, StreamedSearcher, build_streamed_index, exact_streamed

    folder = Path(args.shard_dir or tempfile.mkdtemp(prefix="negmine-shards-"))
    result: dict = {"docs": args.docs, "queries": args.queries, "dim": args.dim}
    result["write_shards_s"] = write_synthetic_shards(folder, args.docs, args.dim, args.seed)
    vectors = ShardedVectors.from_folder(folder)
    result["shards"] = len(vectors.paths)
    result["vectors_gb"] = len(vectors) * args.dim * 4 / 2**30
    rng = np.random.default_rng(args.seed + 1)
    positives = np.sort(rng.choice(args.docs, size=args.queries, replace=False))
    queries = vectors[positives] + rng.standard_normal((args.queries, args.dim), dtype=np.float32) * (
        0.3 / math.sqrt(args.dim)
    )  # a query near its positive document
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    known = [[int(p)] for p in positives]
    params = MiningParams(range_min=args.range_min, range_max=args.range_max, relative_margin=args.relative_margin,
                          num_negatives=args.num_negatives, sampling_strategy="top")  # fmt: skip
    k = args.range_max + 1
    nlist = args.nlist or 4096
    factory = args.streamed_factory.format(nlist=nlist)
    result["index"] = f"{factory} nprobe={args.nprobe} refine={args.refine}"

    with PeakMemory() as memory:
        start = time.perf_counter()
        index = build_streamed_index(vectors, factory, train_size=args.train_size, seed=args.seed,
                                     nprobe=args.nprobe, show_progress_bar=True)  # fmt: skip
        result["build_s"] = time.perf_counter() - start
        start = time.perf_counter()
        searcher = StreamedSearcher(vectors, index, refine=args.refine, show_progress_bar=True)
        found = searcher.search(queries, k)
        mined = mine_negatives(queries, vectors, known, {"dense": found}, params)
        result["search_and_mine_s"] = time.perf_counter() - start
    result["streamed_total_s"] = result["build_s"] + result["search_and_mine_s"]
    result["peak_gb"] = memory.mb / 1024
    result["index_gb"] = index.sa_code_size() * index.ntotal / 2**30 if hasattr(index, "sa_code_size") else None
    del index, searcher

    sample = np.sort(rng.choice(args.queries, size=min(args.sample, args.queries), replace=False))
    if args.docs <= args.exact_limit:  # the in-memory exact path, timed on every query
        docs = np.concatenate([block for _, block in vectors.blocks()])
        with PeakMemory() as memory:
            start = time.perf_counter()
            exact_found = FaissSearcher(docs, use_gpu=False).search(queries, k)
            exact = mine_negatives(queries, docs, known, {"dense": exact_found}, params)
            result["exact_s"] = time.perf_counter() - start
        result["exact_peak_gb"] = memory.mb / 1024
        result["speedup_vs_exact"] = result["exact_s"] / result["streamed_total_s"]
        truth, exact_sample = exact_found.indices[sample], exact.indices[sample]
        del docs
    else:  # exact over the shards, block by block, on the sample only
        start = time.perf_counter()
        exact_found = exact_streamed(vectors, queries[sample], k, show_progress_bar=True)
        result["exact_sample_s"] = time.perf_counter() - start
        truth = exact_found.indices
        exact_sample = mine_negatives(queries[sample], vectors, [known[i] for i in sample],
                                      {"dense": exact_found}, params).indices  # fmt: skip
    result["sample_queries"] = len(sample)
    result["neighbour_overlap"] = overlap(found.indices[sample], truth)
    result["negative_overlap"] = overlap(mined.indices[sample], exact_sample)
    result = {key: round(value, 4) if isinstance(value, float) else value for key, value in result.items()}
    emit_benchmark(result, args.json, vertical=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--range-min", type=int, default=10)
    parser.add_argument("--range-max", type=int, default=100)
    parser.add_argument("--relative-margin", type=float, default=0.05)
    parser.add_argument("--num-negatives", type=int, default=3)
    parser.add_argument("--ivf-factory", default="IVF{nlist},SQ8", help="FAISS factory string of the IVF mode.")
    parser.add_argument("--nlist", type=int, default=None, help="IVF cells (default: sqrt(docs)).")
    parser.add_argument("--nprobe", type=int, default=6)
    parser.add_argument("--skip-st", action="store_true", help="Leave out sentence-transformers.")
    parser.add_argument("--skip-blas-default", action="store_true",
                        help="Leave out the exact search under OpenBLAS's own kernel (a child process).")
    parser.add_argument("--topic-vocab", type=int, default=20, help="Words per topic: smaller, tighter clusters.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    streamed_options = parser.add_argument_group("--streamed: the corpus as cache shards, bounded memory")
    streamed_options.add_argument("--streamed", action="store_true",
                                  help="The streamed index with exact re-scoring (seeded vectors as shards).")
    streamed_options.add_argument("--shard-dir", default=None, help="Keep (and reuse) the synthetic shards here.")
    streamed_options.add_argument("--streamed-factory", default="IVF{nlist},SQ8")
    streamed_options.add_argument("--refine", type=int, default=4, help="Candidates re-scored per neighbour wanted.")
    streamed_options.add_argument("--train-size", type=int, default=None)
    streamed_options.add_argument("--sample", type=int, default=1000, help="Queries compared with exact search.")
    streamed_options.add_argument("--exact-limit", type=int, default=2_000_000,
                                  help="Largest corpus whose exact search runs in memory (timed on every query).")
    args = parser.parse_args()
    if args.streamed:
        return streamed(args)

    data = synthetic_retrieval(args.docs, args.queries, dim=args.dim, topic_vocab=args.topic_vocab, seed=args.seed)
    model = data.model
    from threadpoolctl import threadpool_info

    blas = sorted(
        {f"{i.get('version')}:{i.get('architecture')}" for i in threadpool_info() if i["internal_api"] == "openblas"}
    )
    result: dict = {"docs": args.docs, "queries": args.queries, "dim": args.dim, "openblas": " ".join(blas)}

    start = time.perf_counter()
    docs = model.encode_document(data.documents, batch_size=4096, normalize_embeddings=True, convert_to_numpy=True)
    queries = model.encode_query(data.queries, batch_size=4096, normalize_embeddings=True, convert_to_numpy=True)
    result["st_encode_s"] = time.perf_counter() - start
    result["embeddings_mb"] = docs.nbytes / 2**20
    params = MiningParams(range_min=args.range_min, range_max=args.range_max, relative_margin=args.relative_margin,
                          num_negatives=args.num_negatives, sampling_strategy="top")  # fmt: skip
    k = args.range_max + 1  # one positive per query

    from negmine.search.blas import blas_report
    from negmine.search.faiss import import_faiss

    faiss = import_faiss()  # negmine's choice of OpenBLAS kernel happens here
    result["openblas_chosen"] = blas_report()
    start = time.perf_counter()
    faiss.knn(queries, docs, k, metric=faiss.METRIC_INNER_PRODUCT)
    result["faiss_search_s"] = time.perf_counter() - start
    if not args.skip_blas_default:  # the same search under OpenBLAS's own choice of kernel, in a child process
        result["faiss_search_default_kernel_s"], result["default_kernel"] = knn_in_child(docs, queries, k)
        result["auto_kernel_speedup"] = result["faiss_search_default_kernel_s"] / result["faiss_search_s"]

    with PeakMemory() as memory:
        start = time.perf_counter()
        found = TorchSearcher(docs, device="cpu").search(queries, k)
        torch_exact = mine_negatives(queries, docs, data.positives, {"dense": found}, params)
        result["negmine_torch_exact_s"] = time.perf_counter() - start
    result["torch_peak_mb"] = memory.mb

    with PeakMemory() as memory:
        start = time.perf_counter()
        found = FaissSearcher(docs, use_gpu=False).search(queries, k)
        exact = mine_negatives(queries, docs, data.positives, {"dense": found}, params)
        result["negmine_exact_s"] = time.perf_counter() - start
    result["negmine_peak_mb"] = memory.mb
    result["torch_vs_faiss_exact_overlap"] = overlap(torch_exact.indices, exact.indices)
    result["torch_exact_vs_faiss_exact"] = result["negmine_torch_exact_s"] / result["negmine_exact_s"]
    result["exact_short_queries"] = exact.report["short_queries"]

    nlist = args.nlist or max(16, int(math.sqrt(args.docs)))
    factory = args.ivf_factory.format(nlist=nlist)
    with PeakMemory() as memory:
        start = time.perf_counter()
        ivf = FaissSearcher(docs, factory, nprobe=args.nprobe, use_gpu=False, seed=args.seed)
        rescore = [] if ivf.exact_scores else ["dense"]
        approx = mine_negatives(
            queries, docs, data.positives, {"dense": ivf.search(queries, k)}, params, rescore=rescore
        )
        result["negmine_ivf_s"] = time.perf_counter() - start
    del ivf
    result["ivf_peak_mb"] = memory.mb
    result["ivf_index"] = f"{factory} nprobe={args.nprobe}"
    result["ivf_overlap"] = overlap(approx.indices, exact.indices)

    if not args.skip_st:
        from datasets import Dataset
        from sentence_transformers.util import mine_hard_negatives

        pairs = Dataset.from_dict({"anchor": data.queries, "positive": [data.documents[p[0]] for p in data.positives]})
        with PeakMemory() as memory:
            start = time.perf_counter()
            st_pairs = mine_hard_negatives(
                pairs, model, corpus=data.documents, range_min=args.range_min, range_max=args.range_max,
                relative_margin=args.relative_margin, num_negatives=args.num_negatives, sampling_strategy="top",
                output_format="n-tuple", use_faiss=True, batch_size=4096, verbose=False,
            )  # fmt: skip
            result["st_s"] = time.perf_counter() - start
        result["st_peak_mb"] = memory.mb
        doc_index = {text: i for i, text in enumerate(data.documents)}
        by_anchor = {row["anchor"]: [doc_index[row[f"negative_{i + 1}"]] for i in range(args.num_negatives)]
                     for row in st_pairs}  # fmt: skip
        st_indices = np.array([by_anchor.get(q, [-1] * args.num_negatives) for q in data.queries])
        result["st_overlap"] = overlap(exact.indices, st_indices)
        result["st_net_of_encoding_s"] = result["st_s"] - result["st_encode_s"]
        result["exact_vs_st_net"] = result["negmine_exact_s"] / result["st_net_of_encoding_s"]
        result["torch_exact_vs_st_net"] = result["negmine_torch_exact_s"] / result["st_net_of_encoding_s"]

    result["exact_vs_faiss"] = result["negmine_exact_s"] / result["faiss_search_s"]
    result["exact_vs_ivf_speedup"] = result["negmine_exact_s"] / result["negmine_ivf_s"]
    result["peak_vs_embeddings"] = result["negmine_peak_mb"] / result["embeddings_mb"]
    result = {key: round(value, 4) if isinstance(value, float) else value for key, value in result.items()}
    emit_benchmark(result, args.json, vertical=True)


if __name__ == "__main__":
    main()

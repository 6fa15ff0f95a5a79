"""How ``negmine analyze``'s metrics scale: time and peak memory of every metric of one set
(``negmine.analysis.measure.measure_set``) on seeded synthetic vectors with 10k and 100k negatives, and the peer
in the same run: the exact (unsampled) pairwise distance and uniformity next to the sampled ones the report uses.

    python benchmarks/analyze_scale.py --sizes 10000 100000 --json results/bench-analyze-scale.json

The synthetic set: 384-dimensional unit vectors drawn around 200 topic centres, 4 negatives an anchor, one
positive an anchor, a corpus of 50,000 documents; pairwise statistics sampled to ``--sample`` vectors.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from negmine.analysis.diversity import corpus_clusters, pairwise_distances, uniformity
from negmine.analysis.measure import Context, SetVectors, measure_set
from negmine.analysis.negatives import NegativeSet
from negmine.outputs import markdown_table


def synthetic_set(negatives: int, corpus_size: int, dim: int = 384, per_anchor: int = 4, seed: int = 0):
    """A seeded :class:`NegativeSet` with its vectors and a corpus: topic-clustered unit vectors."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, dim))

    def draw(n):
        x = centres[rng.integers(0, len(centres), n)] + 1.5 * rng.normal(size=(n, dim))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    anchors = negatives // per_anchor
    corpus = draw(corpus_size)
    doc_of = rng.integers(0, corpus_size, negatives)
    nset = NegativeSet(folder=Path("synthetic"), manifest={},
                       anchors=[f"q{i}" for i in range(anchors)], anchor_ids=[str(i) for i in range(anchors)],
                       positives=[f"p{i}" for i in range(anchors)], positive_ids=[f"p{i}" for i in range(anchors)],
                       negatives=[f"d{d}" for d in doc_of], negative_ids=[str(d) for d in doc_of],
                       negative_sources=["dense" if i % 2 else "lexical" for i in range(negatives)],
                       negative_anchor=list(np.repeat(np.arange(anchors), per_anchor)),
                       example_anchor=np.arange(anchors), example_positive=np.arange(anchors),
                       example_negatives=np.arange(negatives).reshape(anchors, per_anchor))  # fmt: skip
    vectors = SetVectors(draw(anchors), draw(anchors), corpus[doc_of])
    return nset, vectors, corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--corpus", type=int, default=50_000)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--exact-up-to", type=int, default=20_000, help="Largest size the exact peer runs at.")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        nset, vectors, corpus = synthetic_set(size, args.corpus)
        with threadpool_limits(1, user_api="blas"):
            clusters = corpus_clusters(corpus, 50, 0)
            context = Context(corpus, clusters, {}, limit=args.sample)
            tracemalloc.start()
            start = time.perf_counter()
            records = measure_set(nset, vectors, context)
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            row = {"negatives": size, "anchors": len(nset.anchors), "corpus": args.corpus, "sample": args.sample,
                   "records": len(records), "measure_s": round(seconds, 2), "peak_mib": round(peak, 1),
                   "pairwise_sampled": round(records[0]["diversity.pairwise_distance.mean"], 4),
                   "uniformity_sampled": round(records[0]["diversity.uniformity"], 4)}  # fmt: skip
            if size <= args.exact_up_to:
                start = time.perf_counter()
                exact = pairwise_distances(vectors.negatives, limit=size)["mean"]
                exact_uniformity = uniformity(vectors.negatives, limit=size)
                exact_s = time.perf_counter() - start
                row.update({"pairwise_exact": round(exact, 4), "uniformity_exact": round(exact_uniformity, 4),
                            "exact_pairwise_s": round(exact_s, 2),
                            "exact_vs_sampled_time": round(exact_s / max(seconds, 1e-9), 2)})  # fmt: skip
        rows.append(row)
        print(markdown_table([row], list(row)), flush=True)
    print(markdown_table(rows, list(dict.fromkeys(k for r in rows for k in r))))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""BallTreeSearcher with scikit-learn BallTrees against the same interface backed by an exact FAISS index: time to
build both indexes and to find one negative for every point, at SciFact size and at 100k documents, and whether the
two return the same negatives.

    OPENBLAS_CORETYPE=SkylakeX python benchmarks/balltree.py --scifact --json results/bench-balltree.json

The data are SciFact's own MiniLM embeddings (``--scifact``: its 809 training claims as points, its 5,183 abstracts
as counters, cited abstracts as positives), then seeded unit vectors of the same width (384): 809 points against
5,183 and against 100,000 counters, each point with 1 to 3 random positives. Random high-dimensional vectors are a
BallTree's worst case; real embeddings have a lower intrinsic dimension.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from negmine.outputs import markdown_table
from negmine.search.balltree import BallTreeSearcher


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def scifact_embeddings(model_name: str) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
    """MiniLM embeddings of SciFact's training claims and abstracts (from the embedding cache when warm)."""
    from negmine.data import load_retrieval
    from negmine.encode import Encoder
    from negmine.models import load_model

    data = load_retrieval("scifact", "train", validation_fraction=0)
    encoder = Encoder(load_model(model_name), show_progress_bar=False)
    doc_ids, query_ids = list(data.corpus), list(data.queries)
    index = {d: i for i, d in enumerate(doc_ids)}
    relevant = data.relevant_docs()
    positives = [[index[d] for d in relevant.get(q, ())] for q in query_ids]
    claims = encoder.encode([data.queries[q] for q in query_ids], role="query")
    return claims, encoder.encode(data.document_texts(doc_ids), role="document"), positives


def run(points: np.ndarray, counters: np.ndarray, positives: list[list[int]], seed: int, data: str) -> dict:
    row = {"data": data, "points": len(points), "counters": len(counters), "dim": points.shape[1]}
    found = {}
    for backend in ("faiss", "balltree"):
        start = time.perf_counter()
        searcher = BallTreeSearcher(points, counters, positives, backend=backend, seed=seed)
        row[f"{backend}_build_s"] = round(time.perf_counter() - start, 3)
        start = time.perf_counter()
        found[backend] = searcher.search(enumerate(points), random_rate=0.0)
        row[f"{backend}_search_s"] = round(time.perf_counter() - start, 3)
    row["same_negatives"] = float(np.mean([a == b for a, b in zip(found["faiss"], found["balltree"], strict=True)]))
    total = {b: row[f"{b}_build_s"] + row[f"{b}_search_s"] for b in found}
    row["balltree_over_faiss"] = round(total["balltree"] / max(total["faiss"], 1e-9), 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=809)
    parser.add_argument("--counters", type=int, nargs="+", default=[5183, 100_000])
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scifact", action="store_true", help="Also SciFact's real claim and abstract embeddings.")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows = []
    if args.scifact:
        rows.append(run(*scifact_embeddings(args.model), args.seed, "scifact (MiniLM)"))
    rng = np.random.default_rng(args.seed)
    for n in args.counters:
        positives = [rng.choice(n, size=rng.integers(1, 4), replace=False).tolist() for _ in range(args.points)]
        rows.append(run(unit(rng, args.points, args.dim), unit(rng, n, args.dim), positives, args.seed, "random"))
    print(markdown_table(rows, list(rows[0])))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()

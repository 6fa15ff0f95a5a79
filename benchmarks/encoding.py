"""Encoding the corpus: negmine's cached encoder (cold and warm) against plain ``SentenceTransformer.encode``.

    python benchmarks/encoding.py --dataset scifact --json results/bench-encoding.json

Prints a table and writes JSON; ratios are against sentence-transformers in the same run.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from negmine.data import load_retrieval
from negmine.encode import Encoder
from negmine.models import load_model
from negmine.outputs import emit_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--dataset", default="scifact")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--max-seq-length", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--limit", type=int, default=None, help="Encode only the first N documents.")
    parser.add_argument("--json", default=None, help="Write the results here.")
    args = parser.parse_args()

    data = load_retrieval(args.dataset, "train", data_dir=args.data_dir, validation_fraction=0)
    texts = data.document_texts()[: args.limit]
    model = load_model(args.model, max_seq_length=args.max_seq_length)
    model.encode_document(texts[:32], batch_size=args.batch_size)  # warm-up: thread pools, first allocation

    timings = {}
    start = time.perf_counter()
    peer = model.encode_document(texts, batch_size=args.batch_size, normalize_embeddings=True, show_progress_bar=True)
    timings["sentence_transformers_s"] = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as cache:
        encoder = Encoder(model, cache_dir=cache, batch_size=args.batch_size)
        start = time.perf_counter()
        cold = encoder.encode(texts)
        timings["negmine_cold_s"] = time.perf_counter() - start
        start = time.perf_counter()
        warm = encoder.encode(texts)
        timings["negmine_cached_s"] = time.perf_counter() - start
        warm_encoded = encoder.last_encoded

    result = {
        "model": args.model,
        "max_seq_length": model.max_seq_length,
        "documents": len(texts),
        **{k: round(v, 3) for k, v in timings.items()},
        "cold_ratio": round(timings["negmine_cold_s"] / timings["sentence_transformers_s"], 3),
        "cached_ratio": round(timings["negmine_cached_s"] / timings["sentence_transformers_s"], 4),
        "cached_texts_reencoded": warm_encoded,
        "max_abs_diff_vs_st": float(np.abs(cold - peer).max()),
        "max_abs_diff_cold_vs_cached": float(np.abs(cold - warm).max()),
    }
    emit_benchmark(result, args.json)


if __name__ == "__main__":
    main()

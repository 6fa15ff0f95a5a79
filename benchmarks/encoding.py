"""Encoding the corpus: negmine's cached encoder (cold and warm) against plain ``SentenceTransformer.encode``, and
each inference backend of a frozen model (ONNX / OpenVINO, int8 included) against the torch path, in one run.

    python benchmarks/encoding.py --dataset scifact --json results/bench-encoding.json
    python benchmarks/encoding.py --backends torch,openvino,openvino-int8 --lengths 128,256 \\
        --json results/bench-encoding-backends.json
    python benchmarks/encoding.py --tuning --limit 1024 --json results/bench-encoding-tuning.json

The backend table gives, for each maximum length: texts per second (the export's own one-off time apart), the ratio
to torch, the cosine between each backend's vectors and torch's (min and mean), the share of the negatives
``build-pairs`` mines (its default filters, over SciFact's training claims) that are the same as with torch's
vectors, the share of torch's nearest documents (the miner's top ``range_max + 10``) that the backend's vectors
also retrieve, and the base model's validation nDCG@10 with each backend. Backends run in turn, each twice, the faster
time kept.

``--tuning`` measures the knobs the backends leave to the user, on the first ``--limit`` abstracts at
``--max-seq-length`` (128 by default): torch's intra-op threads (``torch.set_num_threads``, 1 to the core count),
ONNX Runtime's (``SessionOptions.intra_op_num_threads``, on the ``onnx`` export, where installed), and sorting by
length: one ``encode`` call (sentence-transformers sorts the texts by length before batching) against the same texts
sent batch by batch in corpus order (each batch padded to its own longest text).
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


def negmine_against_st(args) -> dict:
    """negmine's cached encoder, cold and warm, against plain ``encode_document``."""
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
    return {
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


def mined_overlap(mined: np.ndarray, reference: np.ndarray) -> float:
    """Mean share of the reference row's mined negatives that the row also has (rows where the reference mined
    none are left out)."""
    shares = [len(set(a[a >= 0].tolist()) & set(b[b >= 0].tolist())) / int((b >= 0).sum())
              for a, b in zip(mined, reference, strict=True) if (b >= 0).any()]  # fmt: skip
    return float(np.mean(shares))


class Precomputed:
    """An encoder for ``evaluate_model`` that hands back vectors already made (the timed encoding) and encodes
    only the texts it was not given."""

    def __init__(self, vectors: dict[str, np.ndarray], encoder: Encoder):
        self.vectors, self.encoder = vectors, encoder

    def encode(self, texts, role: str = "document") -> np.ndarray:
        texts = list(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.encoder.encode(missing, role=role), strict=True))
        return np.stack([self.vectors[t] for t in texts])


def backends_table(args) -> list[dict]:
    """Every backend at every length against torch: speed, agreement of vectors and mined negatives, nDCG@10."""
    import torch

    from negmine.evaluation import evaluate_model
    from negmine.mining.static import MiningParams, mine_negatives
    from negmine.search.dense import dense_searcher

    if args.threads:
        torch.set_num_threads(args.threads)
    train = load_retrieval(args.dataset, "train", data_dir=args.data_dir)
    validation = load_retrieval(args.dataset, "validation", data_dir=args.data_dir)
    doc_ids = list(train.corpus)
    texts = train.document_texts(doc_ids)[: args.limit]
    index = {d: i for i, d in enumerate(doc_ids[: len(texts)])}
    claims = [(q, [index[d] for d in docs if d in index]) for q, docs in train.relevant_docs().items()]
    claim_texts, known = [train.queries[q] for q, _ in claims], [docs for _, docs in claims]
    params = MiningParams()  # build-pairs' defaults: window 10..100, relative margin 0.05, 3 negatives
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for length in args.lengths:
            model = load_model(args.model, max_seq_length=length)
            reference = None
            for backend in args.backends:
                start = time.perf_counter()
                encoder = Encoder(model, cache_dir=cache, batch_size=args.batch_size, use_cache=False,
                                  backend=backend, calibration_texts=texts[:300], show_progress_bar=False)  # fmt: skip
                encoder.encoding_model()  # the export (made once, then loaded from the cache)
                export_s = time.perf_counter() - start
                encoder.encode(texts[:64])  # warm-up
                seconds = []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    docs = encoder.encode(texts)
                    seconds.append(time.perf_counter() - start)
                queries = encoder.encode(claim_texts, role="query")
                found = dense_searcher(docs, use_gpu=False).search(queries, params.range_max + 10)
                mined = mine_negatives(queries, docs, known, {"dense": found}, params).indices
                ndcg = evaluate_model(encoder.encoding_model(), validation,
                                      encoder=Precomputed(dict(zip(texts, docs, strict=True)), encoder))["ndcg@10"]
                row = {"length": length, "backend": backend, "texts_per_s": len(texts) / min(seconds),
                       "encode_s": min(seconds), "export_or_load_s": export_s}  # fmt: skip
                if reference is None:
                    reference = {"docs": docs, "mined": mined, "rate": row["texts_per_s"], "ndcg": ndcg,
                                 "found": found.indices}  # fmt: skip
                cosine = np.sum(docs * reference["docs"], axis=1)
                row.update({"ratio": row["texts_per_s"] / reference["rate"], "cosine_min": float(cosine.min()),
                            "cosine_mean": float(cosine.mean()),
                            "mined_overlap": mined_overlap(mined, reference["mined"]),
                            "neighbour_overlap": mined_overlap(found.indices, reference["found"]), "ndcg@10": ndcg,
                            "ndcg_delta": ndcg - reference["ndcg"]})  # fmt: skip
                rows.append({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
                print(rows[-1], flush=True)
    return rows


def _texts_per_s(encode, texts: list[str], repeats: int) -> float:
    encode(texts[:32])  # warm-up: thread pools, first allocation
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        encode(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def tuning_table(args) -> list[dict]:
    """Threads (torch, ONNX Runtime), sorting by length, ONNX graph optimisation (O1-O3) and OpenVINO's batch size
    and performance hint, each against its default and against torch's default in the same run, with the smallest
    cosine to torch's vectors (every setting here computes in f32)."""
    import os

    import torch

    data = load_retrieval(args.dataset, "train", data_dir=args.data_dir, validation_fraction=0)
    texts = data.document_texts()[: args.limit or 1024]
    model = load_model(args.model, max_seq_length=args.max_seq_length or 128)
    cores = os.cpu_count() or 1
    default_threads = torch.get_num_threads()
    rows = []

    def add(knob: str, setting: str, rate: float, reference: float | None = None, vectors=None) -> None:
        rows.append({"knob": knob, "setting": setting, "texts_per_s": round(rate, 2),
                     "against_default": round(rate / reference, 3) if reference else 1.0,
                     "against_torch": round(rate / sorted_rate, 3),
                     "cosine_min": None if vectors is None else round(float((vectors * truth).sum(1).min()), 6)}
                    )  # fmt: skip
        print(rows[-1], flush=True)

    batch = args.batch_size
    sorted_rate = _texts_per_s(lambda t: model.encode(t, batch_size=batch), texts, args.repeats)
    truth = _encoded(model, texts, batch)
    add("torch threads", f"{default_threads} (default)", sorted_rate)
    for threads in sorted({1, cores} - {default_threads}):
        torch.set_num_threads(threads)
        add("torch threads", str(threads), _texts_per_s(lambda t: model.encode(t, batch_size=batch), texts,
                                                        args.repeats), sorted_rate)  # fmt: skip
    torch.set_num_threads(default_threads)

    def unsorted(t):
        return [model.encode(t[i : i + batch], batch_size=batch) for i in range(0, len(t), batch)]

    add("sorting by length", "sorted (one encode call, the default)", sorted_rate)
    add("sorting by length", "corpus order (batch by batch)", _texts_per_s(unsorted, texts, args.repeats),
        sorted_rate)  # fmt: skip

    try:
        import onnxruntime
        from sentence_transformers import SentenceTransformer
    except ImportError:
        print("onnxruntime is not installed: ONNX Runtime's threads not measured")
        return rows
    with tempfile.TemporaryDirectory() as folder:
        model.save(folder)
        reference = None
        for threads in (0, *sorted({1, cores})):
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            onnx = SentenceTransformer(folder, backend="onnx", local_files_only=True,
                                       model_kwargs={"session_options": options})  # fmt: skip
            onnx.max_seq_length = model.max_seq_length
            rate = _texts_per_s(lambda t, m=onnx: m.encode(t, batch_size=batch), texts, args.repeats)
            add("ONNX Runtime intra-op threads", "0 (default: ONNX Runtime decides)" if threads == 0 else str(threads),
                rate, reference)  # fmt: skip
            reference = reference or rate
        _graph_and_openvino_rows(folder, model, texts, batch, args.repeats, add)
    return rows


def _encoded(model, texts, batch):
    return model.encode(texts, batch_size=batch, normalize_embeddings=True)


def _graph_and_openvino_rows(folder, model, texts, batch, repeats, add) -> None:
    """ONNX graph optimisation levels (``export_optimized_onnx_model``) against the plain ONNX export, and OpenVINO
    in f32 at other batch sizes and under the THROUGHPUT hint against its defaults; rows go through ``add``."""
    from sentence_transformers import SentenceTransformer, export_optimized_onnx_model

    def load(**kwargs):
        loaded = SentenceTransformer(folder, local_files_only=True, **kwargs)
        loaded.max_seq_length = model.max_seq_length
        return loaded

    plain = load(backend="onnx")
    plain.save_pretrained(folder)
    reference = _texts_per_s(lambda t: plain.encode(t, batch_size=batch), texts, repeats)
    add("ONNX graph optimisation", "none (the plain export)", reference, None, _encoded(plain, texts, batch))
    for level in ("O1", "O2", "O3"):
        export_optimized_onnx_model(plain, level, folder)
        tuned = load(backend="onnx", model_kwargs={"file_name": f"onnx/model_{level}.onnx"})
        rate = _texts_per_s(lambda t, m=tuned: m.encode(t, batch_size=batch), texts, repeats)
        add("ONNX graph optimisation", level, rate, reference, _encoded(tuned, texts, batch))
    try:
        import openvino  # noqa: F401
    except ImportError:
        print("openvino is not installed: OpenVINO's batch size and hint not measured")
        return
    f32 = {"INFERENCE_PRECISION_HINT": "f32"}
    vino = load(backend="openvino", model_kwargs={"ov_config": f32})
    reference = _texts_per_s(lambda t: vino.encode(t, batch_size=batch), texts, repeats)
    add("OpenVINO f32 batch size", f"{batch} (default)", reference, None, _encoded(vino, texts, batch))
    for size in sorted({16, 32, 128} - {batch}):
        rate = _texts_per_s(lambda t, size=size: vino.encode(t, batch_size=size), texts, repeats)
        add("OpenVINO f32 batch size", str(size), rate, reference, _encoded(vino, texts, size))
    busy = load(backend="openvino", model_kwargs={"ov_config": {**f32, "PERFORMANCE_HINT": "THROUGHPUT"}})
    rate = _texts_per_s(lambda t: busy.encode(t, batch_size=batch), texts, repeats)
    add("OpenVINO f32 performance hint", "THROUGHPUT (default: LATENCY)", rate, reference,
        _encoded(busy, texts, batch))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--dataset", default="scifact")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--max-seq-length", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--limit", type=int, default=None, help="Encode only the first N documents.")
    parser.add_argument("--backends", default=None,
                        help="Comma-separated backends to compare with torch (the first is the reference), e.g. "
                             "torch,onnx-int8,openvino-int8; without it: negmine against sentence-transformers.")
    parser.add_argument("--lengths", default="128,256", help="Maximum sequence lengths of the backend table.")
    parser.add_argument("--repeats", type=int, default=2, help="Timed encodings per backend; the fastest is kept.")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads for the torch path.")
    parser.add_argument("--tuning", action="store_true",
                        help="Threads (torch, ONNX Runtime), sorting by length, ONNX graph optimisation, OpenVINO's "
                             "batch size and hint instead of the backend table.")
    parser.add_argument("--json", default=None, help="Write the results here.")
    args = parser.parse_args()
    if args.tuning:
        rows = tuning_table(args)
        from negmine.outputs import markdown_table

        print(markdown_table(rows, list(rows[0])))
        if args.json:
            import json
            from pathlib import Path

            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps({"settings": vars(args), "rows": rows}, indent=2) + "\n")
        return
    if not args.backends:
        emit_benchmark(negmine_against_st(args), args.json)
        return
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.lengths = [int(x) for x in args.lengths.split(",")]
    rows = backends_table(args)
    from negmine.outputs import markdown_table

    print(markdown_table(rows, list(rows[0])))
    if args.json:
        import json
        from pathlib import Path

        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        settings = {k: v for k, v in vars(args).items() if k != "json"}
        Path(args.json).write_text(json.dumps({"settings": settings, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Mining pair data whose corpus file is larger than the memory the process may use.

A pair file (anchor, positive) and a separate corpus file (JSONL, a ``text`` a line) of synthetic passages are
mined for 3 negatives an anchor by three arms, each in its own process:

| arm | call | where the corpus is |
| --- | --- | --- |
| ``st`` | ``sentence_transformers.util.mine_hard_negatives(dataset, model, corpus=[...])`` | in memory |
| ``negmine-memory`` | ``negmine.mine_hard_negatives(PAIRS, model, corpus=CORPUS)`` | in memory |
| ``negmine-disk`` | the same call with ``vectors_on_disk=True`` | texts in a memory-mapped Arrow file, vectors in the
  cache's shards, an IVF-SQ8 index in memory, rows written in chunks |

Each child samples its anonymous resident memory (``RssAnon``: what cannot be paged out to its file, unlike the
memory-mapped texts and vectors) and reports the peak. Two measures: (1) the peak of each arm as the corpus grows,
and its slope in MB of memory per MB of corpus file; (2) each arm in a memory cgroup whose limit is below the corpus
file's size (``--cgroup``: a cgroup-v1 memory folder this user may write, e.g.
``/sys/fs/cgroup/memory/...``): the kernel counts every page the process holds there, its page cache included,
and reclaims file pages under the limit but kills a process whose anonymous memory passes it. An arm that holds
the corpus in memory cannot finish; an arm that streams it does. The model is a static-embedding model over the
synthetic vocabulary (built here, offline), so that encoding a million passages takes minutes on a CPU.

    python benchmarks/pairs_beyond_memory.py --work runs/beyond-memory --sizes 250 500 1000 --limit-size 1000 \\
        --cgroup /sys/fs/cgroup/memory/GROUP --json docs/results/beyond-memory/bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ARMS = ("st", "negmine-memory", "negmine-disk")
VOCABULARY = 20000
WORDS = 200  # words a passage: about 1.3 kB of text
ANCHORS = 2000
TOPICS = 500  # each passage draws its words from one topic's Zipf order, so passages cluster as real ones do


def write_data(folder: Path, megabytes: int, seed: int = 0) -> tuple[Path, Path]:
    """A corpus JSONL of about ``megabytes`` MB (passages of one of ``TOPICS`` topics each) and a pair JSONL whose
    anchors are 8 words of their positive (the corpus's first passages)."""
    corpus, pairs = folder / f"corpus-{megabytes}mb.jsonl", folder / f"pairs-{megabytes}mb.jsonl"
    if corpus.is_file() and pairs.is_file():
        return corpus, pairs
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(VOCABULARY)])
    weights = 1.0 / np.arange(1, VOCABULARY + 1)  # Zipf-like word frequencies
    weights /= weights.sum()
    topics = np.argsort(np.random.default_rng(seed + 1).random((TOPICS, VOCABULARY)), axis=1)  # a word order each
    size, written, anchors = megabytes << 20, 0, []
    tmp = corpus.with_suffix(".partial")
    with tmp.open("w") as handle:
        while written < size:
            ranks = rng.choice(VOCABULARY, size=(1000, WORDS), p=weights)
            block = words[topics[rng.integers(TOPICS, size=1000)[:, None], ranks]]
            for row in block:
                line = json.dumps({"text": " ".join(row)}) + "\n"
                handle.write(line)
                written += len(line)
                if len(anchors) < ANCHORS:
                    anchors.append((" ".join(rng.choice(row, 8, replace=False)), " ".join(row)))
    tmp.rename(corpus)
    pairs.write_text("".join(json.dumps({"anchor": a, "positive": p}) + "\n" for a, p in anchors))
    return corpus, pairs


def build_model(folder: Path) -> Path:
    """A static-embedding model (seeded word vectors, mean-pooled, normalised) over the synthetic words."""
    path = folder / "static-model"
    if path.is_dir():
        return path
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, StaticEmbedding
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {word: i for i, word in enumerate(["[UNK]", *(f"w{i}" for i in range(VOCABULARY))])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    weights = np.random.default_rng(0).standard_normal((len(vocab), 64)).astype("float32")
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights), Normalize()],
                                device="cpu")  # fmt: skip
    model.save(str(path))
    return path


def anonymous_mb() -> float:
    """This process's anonymous resident memory (``RssAnon``), in MB."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(arm: str, corpus: Path, pairs: Path, model_path: Path, cache: Path, limit_mb: int | None) -> dict:
    """Run one arm in this process and return its figures (peak anonymous memory, wall time, rows or the error)."""
    peak = [anonymous_mb()]
    done = threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], anonymous_mb())

    threading.Thread(target=sample, daemon=True).start()
    result = {"arm": arm, "limit_mb": limit_mb}
    clock = time.perf_counter()
    try:
        from datasets import Dataset
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(model_path), device="cpu")
        result["baseline_anon_mb"] = round(anonymous_mb(), 1)
        options = dict(num_negatives=3, batch_size=512, verbose=False)
        if arm == "st":
            from sentence_transformers.util import mine_hard_negatives

            with corpus.open() as handle:
                texts = [json.loads(line)["text"] for line in handle]
            mined = mine_hard_negatives(Dataset.from_json(str(pairs)), model, corpus=texts, **options)
        else:
            from negmine import mine_hard_negatives

            mined = mine_hard_negatives(str(pairs), model, corpus=str(corpus), cache_folder=str(cache),
                                        vectors_on_disk=arm == "negmine-disk", **options)  # fmt: skip
        result.update(status="ok", rows=len(mined))
    except BaseException as error:  # MemoryError, or a library's own out-of-memory error
        result.update(status=type(error).__name__, error=str(error).splitlines()[0][:200] if str(error) else "")
    done.set()
    result.update(wall_s=round(time.perf_counter() - clock, 1), peak_anon_mb=round(max(peak[0], anonymous_mb()), 1))
    return result


def run_child(arm: str, corpus: Path, pairs: Path, model_path: Path, work: Path, limit_mb: int | None = None,
              cgroup: Path | None = None) -> dict:  # fmt: skip
    """One arm in a fresh process with fresh caches (embeddings and ``datasets``' Arrow copies), in a memory cgroup
    limited to ``limit_mb`` when given; a child the kernel kills is recorded with its exit code."""
    import shutil

    cache, arrow = work / f"cache-{arm}", work / f"hf-cache-{arm}"
    for folder in (cache, arrow):
        shutil.rmtree(folder, ignore_errors=True)
    command = [sys.executable, __file__, "--child", arm, "--corpus", str(corpus), "--pairs", str(pairs),
               "--model", str(model_path), "--cache", str(cache)] + (["--limit-mb", str(limit_mb)] if limit_mb else [])
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_DATASETS_CACHE": str(arrow)}
    group = None
    if limit_mb:
        group = cgroup / f"negmine-bench-{os.getpid()}-{arm}"
        group.mkdir()
        (group / "memory.limit_in_bytes").write_text(str(limit_mb << 20))
    enter = (lambda: (group / "cgroup.procs").write_text(str(os.getpid()))) if group else None
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, preexec_fn=enter)
        failures = int((group / "memory.failcnt").read_text()) if group else None
    finally:
        if group:
            group.rmdir()
        for folder in (cache, arrow):
            shutil.rmtree(folder, ignore_errors=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if lines:
        return {**json.loads(lines[-1]), "cgroup_failcnt": failures}
    tail = (done.stderr.strip().splitlines() or [""])[-1][:200]
    status = "killed by the kernel (out of memory)" if done.returncode in (-9, 137) else f"exit {done.returncode}"
    return {"arm": arm, "limit_mb": limit_mb, "status": status, "error": tail, "cgroup_failcnt": failures}


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares MB of peak memory per MB of corpus."""
    if len(points) < 2:
        return None
    x, y = np.array(points).T
    return float(np.polyfit(x, y, 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("runs/beyond-memory"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000], help="Corpus sizes in MB.")
    parser.add_argument("--limit-size", type=int, default=None, help="The corpus size (MB) mined under the cap.")
    parser.add_argument("--limit-mb", type=int, default=None, help="The cgroup's memory limit (default: 0.8 x the "
                        "corpus file).")
    parser.add_argument("--cgroup", type=Path, default=None, help="A writable cgroup-v1 memory folder to make the "
                        "limited group in (without it the capped run is skipped).")
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", choices=ARMS, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pairs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.corpus, args.pairs, args.model, args.cache, args.limit_mb)))
        return
    from negmine.outputs import markdown_table

    model_path = build_model(args.work)
    runs = []
    for megabytes in args.sizes:
        corpus, pairs = write_data(args.work, megabytes)
        for arm in args.arms:
            record = {"corpus_mb": round(corpus.stat().st_size / 2**20, 1), "passages": sum(1 for _ in corpus.open()),
                      **run_child(arm, corpus, pairs, model_path, args.work, None)}  # fmt: skip
            print(json.dumps(record), flush=True)
            runs.append(record)
    capped = []
    if args.limit_size and args.cgroup is None:
        print("no --cgroup: the run under a memory limit is skipped")
    if args.limit_size and args.cgroup is not None:
        corpus, pairs = write_data(args.work, args.limit_size)
        corpus_mb = corpus.stat().st_size / 2**20
        limit = args.limit_mb or int(0.8 * corpus_mb)
        for arm in args.arms:
            record = {"corpus_mb": round(corpus_mb, 1),
                      **run_child(arm, corpus, pairs, model_path, args.work, limit, args.cgroup)}
            print(json.dumps(record), flush=True)
            capped.append(record)
    slopes = {arm: slope([(r["corpus_mb"], r["peak_anon_mb"]) for r in runs
                          if r["arm"] == arm and r["status"] == "ok"]) for arm in args.arms}  # fmt: skip
    columns = ["corpus_mb", "passages", "arm", "status", "rows", "peak_anon_mb", "wall_s"]
    print(markdown_table(runs, columns))
    print(markdown_table([{"arm": arm, "MB of memory per MB of corpus": s} for arm, s in slopes.items()],
                         ["arm", "MB of memory per MB of corpus"]))  # fmt: skip
    if capped:
        print(markdown_table(capped, ["corpus_mb", "limit_mb", "arm", "status", "rows", "peak_anon_mb", "wall_s"]))
    if args.json:
        from negmine.env import package_versions

        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"command": " ".join(sys.argv), "runs": runs, "slopes": slopes,
                                         "capped": capped, "anchors": ANCHORS, "words_a_passage": WORDS,
                                         "topics": TOPICS, "packages": package_versions()}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""negmine's mining against sentence-transformers' ``mine_hard_negatives`` on the same pair file, trained the same way.

SciFact's training claims are written as a pair file (claim, cited abstract; the 162 validation claims of the
0.2 / seed 42 carve left out) with the whole corpus as a separate corpus file. Each arm mines pairs from it; each
mined set trains all-MiniLM-L6-v2 with the release recipe's loss and settings (combined loss, lr 1e-4, 3 epochs,
batch 32, trained at 128 tokens and read at 256, n-tuples with 3 negatives), so the mining is the only difference;
every model is scored on the validation claims. Arms:

| arm | what mines |
| --- | --- |
| ``st`` | (a) ``sentence_transformers.util.mine_hard_negatives(num_negatives=3)``, nothing else set (n-tuple rows) |
| ``negmine`` | (a) ``negmine build-pairs PAIRS --corpus CORPUS`` with its defaults (n-tuple rows; ranks 0..100) |
| ``none`` | (c) no mined negatives: (claim, abstract) pairs, in-batch negatives only |
| ``st-window`` | (b) sentence-transformers with negmine's window and margin (ranks 0..100, relative margin 0.05) |
| ``negmine-plain`` | (b) negmine with the same window and margin, extras off (dense only, no near-duplicate filter) |
| ``negmine+lexical`` | (b) that, with BM25 candidates |
| ``negmine+near-duplicates`` | (b) that, with the near-duplicate filter |
| ``drop-in+lexical`` | ``negmine.mine_hard_negatives(num_negatives=3, lexical=True)``: ST's own window, with BM25 |
| ``negmine-from-10`` | negmine's defaults with ``--range-min 10`` (the pair-data default before ranks 0..100) |

Each mining runs in its own process with a fresh embedding cache, so its wall time includes encoding and its peak
memory is its own. Finished mining and training runs are read back from ``--work`` (the runner resumes). An arm
whose rows equal an earlier arm's (the same anchors, positives and negatives, order aside) is not trained again:
training is deterministic for its data and seed, so it takes that arm's runs, and the table says so.

The comparisons are one family, Holm-corrected (:func:`negmine.study.statistics.compare_family`): (a) negmine with
st; (c) negmine and st with none; (b) negmine with st-window (the same window and margin: negmine's extras and core
together), negmine-plain with st-window (the core alone), each extra alone and all of them with negmine-plain;
negmine with negmine-from-10 (the window's start). Two comparisons of the same two mined sets are one test: only the
first is kept; an arm with no finished runs drops out of the comparisons.

    nohup python benchmarks/vs_st_mining.py --work runs/vs-st --arms negmine st none --seeds 1 2 3 \\
        --json results/bench-vs-st-mining.json > vs-st.log 2>&1 &
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from negmine.outputs import markdown_table

RECIPE = Path(__file__).parents[1] / "recipes" / "scifact-release.yaml"
WINDOW = ["--range-min", "0", "--range-max", "100", "--relative-margin", "0.05"]  # negmine's pair-data defaults
ARMS = {
    "st": {"st": {"num_negatives": 3}},
    "negmine": {"negmine": []},
    "none": {},
    "st-window": {"st": {"num_negatives": 3, "range_min": 0, "range_max": 100, "relative_margin": 0.05}},
    "negmine-plain": {"negmine": [*WINDOW, "--searchers", "dense", "--no-near-duplicates"]},
    "negmine+lexical": {"negmine": [*WINDOW, "--searchers", "dense,lexical", "--no-near-duplicates"]},
    "negmine+near-duplicates": {"negmine": [*WINDOW, "--searchers", "dense", "--near-duplicates"]},
    "drop-in+lexical": {"drop-in": {"num_negatives": 3, "lexical": True}},
    "negmine-from-10": {"negmine": ["--range-min", "10"]},
}


def write_inputs(work: Path) -> tuple[Path, Path]:
    """SciFact's training claims (validation carved out) as a pair file, and its corpus as a corpus file."""
    from negmine.data import load_retrieval

    pairs, corpus = work / "scifact-train-pairs.csv", work / "scifact-corpus.jsonl"
    if pairs.is_file() and corpus.is_file():
        return pairs, corpus
    data = load_retrieval("scifact", "train", validation_fraction=0.2, seed=42)
    ids = list(data.corpus)
    texts = dict(zip(ids, data.document_texts(ids), strict=True))
    work.mkdir(parents=True, exist_ok=True)
    with pairs.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["claim", "abstract"])
        for qid, docs in data.relevant_docs().items():
            for doc in sorted(docs):
                writer.writerow([data.queries[qid], texts[doc]])
    with corpus.open("w") as handle:
        for doc in ids:
            handle.write(json.dumps({"text": texts[doc]}) + "\n")
    return pairs, corpus


def mine(arm: str, work: Path, out: Path | None = None) -> None:
    """One arm's mining, in this process (called as a subprocess by :func:`main`): pairs folder and bench.json in
    ``out`` (default ``WORK/pairs-ARM``), with a fresh embedding cache beside it."""
    pairs, corpus = write_inputs(work)
    out = out or work / f"pairs-{arm}"
    cache = out.parent / f"cache-{arm}" if out == work / f"pairs-{arm}" else out / "cache"
    spec = ARMS[arm]
    start = time.perf_counter()
    if "negmine" in spec:
        from negmine.cli.build_pairs import build_pairs_command

        build_pairs_command.main([str(pairs), "--corpus", str(corpus), "--out", str(out), "--output-format",
                                  "n-tuple", "--cache-dir", str(cache), "--overwrite",
                                  *spec["negmine"]], standalone_mode=False)  # fmt: skip
    else:
        from datasets import Dataset
        from sentence_transformers.util import mine_hard_negatives

        from negmine.models import load_model

        options = spec.get("st") or spec["drop-in"]
        if "drop-in" in spec:
            from negmine import mine_hard_negatives
        model = load_model("all-MiniLM-L6-v2")
        texts = [json.loads(line)["text"] for line in corpus.read_text().splitlines()]
        dataset = mine_hard_negatives(Dataset.from_csv(str(pairs)), model, corpus=texts, output_format="n-tuple",
                                      batch_size=64, verbose=True, **options)  # fmt: skip
        # the loss reads anchor, positive, negative_1..k (build-pairs' names); sentence-transformers keeps the file's
        dataset = dataset.rename_columns({"claim": "anchor", "abstract": "positive"})
        dataset.save_to_disk(str(out / "dataset"))
        negatives = sum(1 for c in dataset.column_names if c.startswith("negative_")) * len(dataset)
        miner = "negmine.mine_hard_negatives" if "drop-in" in spec else "sentence-transformers"
        manifest = {"parameters": {"output_format": "n-tuple", "miner": miner, **options},
                    "counts": {"rows": len(dataset), "negatives_by_source": {"dense": negatives}}}  # fmt: skip
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB -> GiB
    (out / "bench.json").write_text(json.dumps({"mining_s": round(seconds, 1), "peak_gib": round(peak, 3)}) + "\n")


def cold_timing(work: Path, repeats: int) -> dict:
    """Each (a) miner's whole wall time from a cold start (fresh process, empty embedding cache: encoding included),
    the two alternated ``repeats`` times so that a change in the machine's load falls on both."""
    import shutil

    times: dict[str, list[float]] = {"st": [], "negmine": []}
    for _ in range(repeats):
        for arm in times:
            out = work / f"cold-{arm}"
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run([sys.executable, __file__, "--work", str(work), "--mine-only", arm, "--mine-out", str(out)],
                           check=True)  # fmt: skip
            times[arm].append(json.loads((out / "bench.json").read_text())["mining_s"])
            shutil.rmtree(out)
    return {arm: {"median_s": round(statistics.median(t), 1), "runs_s": t} for arm, t in times.items()}


def negative_stats(work: Path, arm: str) -> dict:
    """Rows and anchors of an arm's pairs; the share of its negatives that are a positive of the same anchor (another
    row's, up to case and whitespace), and the share that the base model scores at or above the anchor's lowest
    positive (likely false negatives), from the vectors negmine's arm cached (the same model and length)."""
    import numpy as np
    from datasets import load_from_disk

    from negmine.encode import Encoder
    from negmine.models import load_model
    from negmine.pairs.anchors import normalise_text

    dataset = load_from_disk(str(work / f"pairs-{arm}" / "dataset"))
    anchor = "anchor" if "anchor" in dataset.column_names else "claim"
    positive = "positive" if "positive" in dataset.column_names else "abstract"
    negatives = [c for c in dataset.column_names if c.startswith("negative_") and c[9:].isdigit()]
    truth: dict[str, set[str]] = {}
    with (work / "scifact-train-pairs.csv").open() as handle:
        for row in csv.DictReader(handle):
            truth.setdefault(row["claim"], set()).add(row["abstract"])
    rows = dataset.select_columns([anchor, positive, *negatives]).to_list()
    encoder = Encoder(load_model("all-MiniLM-L6-v2"), cache_dir=work / "cache-negmine", show_progress_bar=False)
    queries = sorted(truth)
    query_vectors = dict(zip(queries, encoder.encode(queries, role="query"), strict=True))
    texts = sorted({t for r in rows for t in (r[positive], *(r[c] for c in negatives))} | set().union(*truth.values()))
    doc_vectors = dict(zip(texts, encoder.encode(texts, role="document"), strict=True))
    lowest = {q: min(float(query_vectors[q] @ doc_vectors[p]) for p in ps) for q, ps in truth.items()}
    total = positives = above = 0
    scores = []
    for row in rows:
        normalised = {normalise_text(p) for p in truth[row[anchor]]}
        for column in negatives:
            score = float(query_vectors[row[anchor]] @ doc_vectors[row[column]])
            total += 1
            positives += normalise_text(row[column]) in normalised
            above += score >= lowest[row[anchor]]
            scores.append(score)
    return {"rows": len(dataset), "anchors": len({r[anchor] for r in rows}), "negatives": total,
            "share_positive": round(positives / total, 4) if total else None,
            "share_above_positive": round(above / total, 4) if total else None,
            "negative_score_mean": round(float(np.mean(scores)), 4) if scores else None}  # fmt: skip


def warm_timing(work: Path, repeats: int = 3) -> dict:
    """Each (a) miner's time with the embeddings already computed, alternated ``repeats`` times (medians): the work
    that differs between them (search, filters, BM25, rows, writing), since both encode the same texts with the same
    model and batch size. sentence-transformers' encoders are given negmine's cached vectors."""
    import tempfile

    import numpy as np
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    from negmine.cli.build_pairs import build_pairs_command
    from negmine.encode import Encoder
    from negmine.models import load_model

    pairs, corpus = write_inputs(work)
    texts = [json.loads(line)["text"] for line in corpus.read_text().splitlines()]
    model = load_model("all-MiniLM-L6-v2")
    cache = Encoder(model, cache_dir=work / "cache-negmine", show_progress_bar=False)
    model.encode_document = lambda docs, **_: cache.encode(list(docs), role="document")
    model.encode_query = lambda queries, **_: cache.encode(list(queries), role="query")
    times: dict[str, list[float]] = {"negmine": [], "st": []}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            build_pairs_command.main([str(pairs), "--corpus", str(corpus), "--out", f"{tmp}/out", "--output-format",
                                      "n-tuple", "--cache-dir", str(work / "cache-negmine")],
                                     standalone_mode=False)  # fmt: skip
            times["negmine"].append(time.perf_counter() - start)
        start = time.perf_counter()
        mine_hard_negatives(Dataset.from_csv(str(pairs)), model, corpus=texts, output_format="n-tuple",
                            batch_size=64, verbose=False, **ARMS["st"]["st"])  # fmt: skip
        times["st"].append(time.perf_counter() - start)
    return {arm: {"median_s": round(float(np.median(t)), 2), "runs_s": [round(x, 2) for x in t]}
            for arm, t in times.items()}  # fmt: skip


def timing_rows(cold: dict | None, warm: dict | None) -> list[dict]:
    """The timings as table rows, each with negmine's median over sentence-transformers' (the ratio the target asks
    about: at most 1)."""
    rows = []
    for name, timing in (("cold start, encoding included", cold), ("embeddings computed", warm)):
        if timing:
            st, negmine = timing["st"], timing["negmine"]
            rows.append({"mining": name, "runs": len(st["runs_s"]), "st median (s)": st["median_s"],
                         "negmine median (s)": negmine["median_s"], "st runs (s)": " ".join(map(str, st["runs_s"])),
                         "negmine runs (s)": " ".join(map(str, negmine["runs_s"])),
                         "negmine / st": round(negmine["median_s"] / st["median_s"], 3)})  # fmt: skip
    return rows


COMPARISONS = [("negmine", "st"), ("negmine", "none"), ("st", "none"), ("negmine", "st-window"),
               ("negmine-plain", "st-window"), ("negmine+lexical", "negmine-plain"),
               ("negmine+near-duplicates", "negmine-plain"), ("negmine", "negmine-plain"), ("drop-in+lexical", "st"),
               ("negmine", "negmine-from-10")]  # fmt: skip


def arm_rows(work: Path, arm: str) -> list[tuple]:
    """An arm's rows as sorted (anchor, positive, negatives...) tuples, whatever its column names."""
    from datasets import load_from_disk

    dataset = load_from_disk(str(work / f"pairs-{arm}" / "dataset"))
    anchor = "anchor" if "anchor" in dataset.column_names else "claim"
    positive = "positive" if "positive" in dataset.column_names else "abstract"
    negatives = sorted((c for c in dataset.column_names if c.startswith("negative_") and c[9:].isdigit()),
                       key=lambda c: int(c[9:]))  # fmt: skip
    columns = dataset.select_columns([anchor, positive, *negatives]).to_dict()
    return sorted(zip(*(columns[c] for c in (anchor, positive, *negatives)), strict=True))


def same_negatives(work: Path, arms: list[str]) -> dict[str, str]:
    """arm -> the first arm (in ``arms`` order) whose rows are identical to its own (itself when none is)."""
    first: dict[str, str] = {}
    seen: list[tuple[str, list[tuple]]] = []
    for arm in arms:
        if arm == "none":
            first[arm] = arm
            continue
        rows = arm_rows(work, arm)
        first[arm] = next((other for other, theirs in seen if theirs == rows), arm)
        seen.append((arm, rows))
    return first


def train_arm(arm: str, seed: int, work: Path) -> dict:
    """Train the release recipe's settings on an arm's pairs (or none) for one seed; read back when finished."""
    from negmine.config import read_yaml
    from negmine.training.recipe import Recipe
    from negmine.training.run import train

    output = work / f"train-{arm}-seed{seed}"
    metrics_path = output / "metrics.json"
    if not metrics_path.is_file():
        tree = read_yaml(RECIPE.read_text())
        tree["data"]["validation_fraction"] = 0.2
        tree["evaluation"] = {"splits": ["validation"]}
        tree["training"]["seed"] = seed
        tree["pairs"] = {"path": str(work / f"pairs-{arm}")} if arm != "none" else None
        if arm == "none":
            tree.pop("pairs")
        tree["output_dir"] = str(output)
        train(Recipe.model_validate(tree), show_progress_bar=False)
    metrics = json.loads(metrics_path.read_text())
    return {"ndcg@10": metrics["splits"]["validation"]["ndcg@10"], "train_s": metrics["train_seconds"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("runs/vs-st"))
    parser.add_argument("--arms", nargs="+", default=["negmine", "st", "none"], choices=list(ARMS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--report-only", action="store_true",
                        help="Tabulate the finished runs in --work; train nothing (a run still going is left out).")
    parser.add_argument("--warm-timing", action="store_true",
                        help="Also time both (a) miners with the embeddings computed (3 alternated runs, medians).")
    parser.add_argument("--cold-timing", type=int, default=0, metavar="N",
                        help="Also time both (a) miners from a cold start (empty cache), alternated N times.")
    parser.add_argument("--mine-only", metavar="ARM", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--mine-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.mine_only:
        return mine(args.mine_only, args.work, args.mine_out)
    from negmine.study.statistics import compare_family

    write_inputs(args.work)
    mining = {}
    for arm in args.arms:
        if arm != "none" and not (args.work / f"pairs-{arm}" / "bench.json").is_file():
            subprocess.run([sys.executable, __file__, "--work", str(args.work), "--mine-only", arm], check=True)
        if arm != "none":
            mining[arm] = {**json.loads((args.work / f"pairs-{arm}" / "bench.json").read_text()),
                           **negative_stats(args.work, arm)}  # fmt: skip
    twin = same_negatives(args.work, args.arms)
    for arm, other in twin.items():
        if other != arm:
            print(f"{arm}: the same rows as {other}; its runs are {other}'s", flush=True)
    scores: dict[str, dict[int, float]] = {arm: {} for arm in args.arms}
    times: dict[str, dict[int, float]] = {arm: {} for arm in args.arms}
    for seed in args.seeds:  # seed-major: a partial run still pairs every arm on the seeds it finished
        for arm in args.arms:
            source = twin[arm]
            if args.report_only and not (args.work / f"train-{source}-seed{seed}" / "metrics.json").is_file():
                continue
            result = train_arm(source, seed, args.work)
            scores[arm][seed], times[arm][seed] = result["ndcg@10"], result["train_s"]
            print(f"{arm} seed {seed}: nDCG@10 {result['ndcg@10']:.4f} ({result['train_s']:.0f} s)", flush=True)
    warm = warm_timing(args.work) if args.warm_timing else None
    if warm:
        print(f"mining with the embeddings computed (median of 3): {warm}")
    cold = cold_timing(args.work, args.cold_timing) if args.cold_timing else None
    if cold:
        print(f"mining from a cold start (median of {args.cold_timing}): {cold}")
    rows = []
    # one test a distinct pair of mined sets: an arm whose rows equal another's adds no comparison of its own
    distinct = {}
    for a, b in COMPARISONS:
        if scores.get(a) and scores.get(b) and twin[a] != twin[b]:
            distinct.setdefault(tuple(sorted((twin[a], twin[b]))), (a, b))
    family = compare_family(scores, list(distinct.values()))
    for arm in [a for a in args.arms if scores[a]]:
        values = list(scores[arm].values())
        rows.append({"arm": arm, "seeds": len(values), "nDCG@10 per seed": " ".join(f"{v:.4f}" for v in values),
                     "mean": round(statistics.mean(values), 4),
                     "sd": round(statistics.stdev(values), 4) if len(values) > 1 else None,
                     "same rows as": "" if twin[arm] == arm else twin[arm],
                     **{k: mining.get(arm, {}).get(k) for k in ("mining_s", "peak_gib", "rows", "share_positive",
                                                                 "share_above_positive", "negative_score_mean")},
                     "train_s (mean)": round(statistics.mean(times[arm].values()), 1)})  # fmt: skip
    compared = [{"arm": c["strategy"], "against": c["baseline"], "seeds": c["seeds"],
                 "difference (points)": round(100 * c["mean_diff"], 2),
                 "sd (points)": round(100 * c["sd_diff"], 2) if c["sd_diff"] is not None else None,
                 "ci95 (points)": [round(100 * x, 2) for x in c["ci95_diff"]] if c["ci95_diff"] else None,
                 "wins": f"{c['wins']}/{c['seeds']}", "p (paired t)": c["p_paired_t"], "p (Holm)": c["p_holm"],
                 "verdict": c["verdict"]} for c in family]  # fmt: skip
    table = markdown_table(rows, list(dict.fromkeys(k for row in rows for k in row))) if rows else ""
    if compared:
        table += f"\n\nComparisons, one family of {family[0]['family']} (Holm):\n\n"
        table += markdown_table(compared, list(compared[0]))
    timed = timing_rows(cold, warm)
    if timed:
        table += "\n\nMining time, negmine against sentence-transformers in the same run:\n\n"
        table += markdown_table(timed, list(timed[0]))
    print(table)
    if args.json:  # the data, and the table beside it
        args.json.parent.mkdir(parents=True, exist_ok=True)
        command = "python benchmarks/vs_st_mining.py " + " ".join(sys.argv[1:])
        args.json.write_text(json.dumps({"command": command, "rows": rows, "comparisons": family,
                                         "same_rows_as": twin, "scores": scores, "train_seconds": times,
                                         "mining": mining, "warm_timing": warm,
                                         "cold_timing": cold}, indent=2) + "\n")
        args.json.with_suffix(".md").write_text(f"`{command}`\n\n{table}\n")


if __name__ == "__main__":
    main()

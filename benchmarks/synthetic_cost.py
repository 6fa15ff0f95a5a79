"""What synthetic negatives add to a cached build-pairs run: the same command with and without each generator,
interleaved and repeated, wall time of the whole command (imports included) and build_pairs' own timings.

    python benchmarks/synthetic_cost.py --repeats 3 --json results/bench-synthetic-cost.json

Run it after one cold build (the embedding cache filled); the target is at most 10% more than the plain build.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from negmine.outputs import markdown_table

VARIANTS = {
    "plain": [],
    "reverse": ["--synthetic", "reverse:1"],
    "swap": ["--synthetic", "swap:1"],
    "perturb (RandomWordAug swap)": ["--synthetic", "perturb:1", "--augmenter", "RandomWordAug:action=swap"],
    "perturb (RandomCharAug swap)": ["--synthetic", "perturb:1", "--augmenter", "RandomCharAug:action=swap"],
    "perturb (AntonymAug, WordNet)": ["--synthetic", "perturb:1", "--augmenter", "AntonymAug"],
    "all three (recipe augmenters)": ["--synthetic", "perturb:1,swap:1,reverse:1", "--augmenter", "AntonymAug",
                                      "--augmenter", "RandomWordAug:action=swap"],  # fmt: skip
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="scifact")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="runs/bench-synthetic-cost")
    parser.add_argument("--json", default=None)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), help="A subset (plain always runs).")
    args = parser.parse_args()
    variants = {name: VARIANTS[name] for name in dict.fromkeys(["plain", *args.variants])}
    base = [sys.executable, "-m", "negmine", "build-pairs", args.dataset, "--max-seq-length", "128",
            "--num-negatives", "1", "--output-format", "n-tuple", "--overwrite"]  # fmt: skip
    walls: dict[str, list[float]] = {name: [] for name in variants}
    inside: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, extra in variants.items():
            out = Path(args.out) / name.split()[0]
            start = time.perf_counter()
            subprocess.run([*base, "--out", str(out), *extra], check=True, capture_output=True)
            walls[name].append(time.perf_counter() - start)
            timings = json.loads((out / "timings.json").read_text())
            inside[name].append(sum(timings.values()))
    plain, plain_inside = statistics.median(walls["plain"]), statistics.median(inside["plain"])
    rows = [{"variant": name, "wall_s (median)": round(statistics.median(walls[name]), 2),
             "ratio to plain": round(statistics.median(walls[name]) / plain, 3),
             "build_pairs_s (median)": round(statistics.median(inside[name]), 2),
             "build ratio": round(statistics.median(inside[name]) / plain_inside, 3)}
            for name in variants]  # fmt: skip
    print(markdown_table(rows, list(rows[0])))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"rows": rows, "walls": walls, "inside": inside}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""The audit page's weight: its size and the time headless Chromium takes to show the first pair, for N flagged
pairs, against the CSV sheet of the same rows (the peer a person would otherwise open).

    python benchmarks/audit_page.py --pairs runs/vs-st/pairs-negmine --top 500 --cache-dir runs/vs-st/cache-negmine \\
        --json docs/results/audit-page/bench.json

Needs Chromium (Debian's ``chromium``) and Playwright (the test extra).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from negmine.outputs import markdown_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", required=True, help="A pairs folder (negmine build-pairs).")
    parser.add_argument("--top", type=int, default=500)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    from click.testing import CliRunner
    from playwright.sync_api import sync_playwright

    from negmine.cli.main import cli

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no Chromium: apt-get install chromium")
    out = Path(tempfile.mkdtemp()) / "audit"
    start = time.perf_counter()
    command = ["audit", args.pairs, "--out", str(out), "--top", str(args.top)]
    result = CliRunner().invoke(cli, command + (["--cache-dir", args.cache_dir] if args.cache_dir else []))
    if result.exit_code != 0:
        raise SystemExit(result.output)
    audit_s = time.perf_counter() - start
    rows = sum(1 for _ in (out / "audit.csv").open()) - 1
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(args.loads):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            clock = time.perf_counter()
            page.goto((out / "index.html").as_uri())
            page.wait_for_selector("#decision")  # the first pair is on screen
            times.append(time.perf_counter() - clock)
            page.close()
        browser.close()
    table = [{"what": "index.html (the page)", "pairs": rows, "bytes": (out / "index.html").stat().st_size,
              "first pair shown, median s": round(statistics.median(times), 3),
              "loads, s": " ".join(f"{t:.3f}" for t in times)},
             {"what": "audit.csv (the sheet)", "pairs": rows, "bytes": (out / "audit.csv").stat().st_size,
              "first pair shown, median s": None, "loads, s": ""}]  # fmt: skip
    text = markdown_table(table, list(table[0]))
    text += f"\n\nratio page / sheet bytes: {table[0]['bytes'] / table[1]['bytes']:.1f}; audit command {audit_s:.1f} s"
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        line = "python benchmarks/audit_page.py " + " ".join(sys.argv[1:] if argv is None else argv)
        args.json.write_text(json.dumps({"command": line, "rows": table, "audit_s": round(audit_s, 2)}, indent=2)
                             + "\n")  # fmt: skip
        args.json.with_suffix(".md").write_text(f"`{line}`\n\n{text}\n")


if __name__ == "__main__":
    main()

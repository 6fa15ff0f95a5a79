"""A committed study report's paired comparisons, recomputed from the per-seed differences it prints, under the one
rule of :func:`negmine.study.statistics.compare_family`: the paired t-test's p, Holm over the report's family, the
verdict read from the corrected p.

A report written before the rule (and whose run folders are gone) keeps its tables; this module writes the data they
rest on beside them (``paired.json``: each comparison's differences, p, Holm p and verdict) and rewrites the table's
p, Holm and verdict cells from it, so a reader can check every verdict from a file in the repository.

    python -m negmine.study.tables docs/study/scifact docs/study/ablation     # rewrite
    python -m negmine.study.tables --check docs/study/*/                      # exit 1 where a cell disagrees
    python -m negmine.study.tables --redraw docs/study/scifact                # the hardness-diversity map again

References:
    Holm, 1979, "A Simple Sequentially Rejective Multiple Test Procedure".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from negmine.errors import NegmineError
from negmine.study.statistics import holm, verdict

HEADER = "| strategy | against | diffs |"
OLD_RULE = ("A difference is called better or worse only when every seed agrees and the paired t-test gives p < 0.05; "
            "otherwise it is inside the noise.")
NEW_RULE = ("The {family} comparisons of this table are one family: each paired t-test's p is Holm-corrected over all "
            "of them, and a difference is called better or worse only when the corrected p is below 0.05 (recomputed "
            "from the per-seed differences printed here: paired.json beside this report); otherwise it is inside "
            "the noise.")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def read_paired(report: str) -> tuple[list[str], list[dict]]:
    """The paired table of a report's Markdown: its column names and one dict a row.

    Example:
        >>> text = "| strategy | against | diffs |\\n| --- | --- | --- |\\n| a | b | +0.01 -0.02 |"
        >>> read_paired(text)[1][0]["diffs"]
        '+0.01 -0.02'
    """
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(HEADER)), None)
    return ([], []) if start is None else _table_at(lines, start)


def _table_at(lines: list[str], header: int) -> tuple[list[str], list[dict]]:
    """The Markdown table whose header is ``lines[header]``: its columns and one dict a row."""
    columns = _cells(lines[header])
    rows = []
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(columns, _cells(line), strict=True)))
    return columns, rows


def recompute(rows: list[dict]) -> list[dict]:
    """Each row's paired t p from its printed differences (a one-sample t-test of the differences, which is the
    paired t-test), Holm over the rows (the report's family) and the verdict from the Holm p.

    Example:
        >>> [r["verdict"] for r in recompute([{"strategy": "a", "against": "b", "diffs": "+0.01 +0.012 +0.011"}])]
        ['better']
    """
    from scipy.stats import ttest_1samp

    out = []
    for row in rows:
        diffs = [float(d) for d in row["diffs"].split()]
        spread = len(diffs) > 1 and max(diffs) > min(diffs)
        p = float(ttest_1samp(diffs, 0.0).pvalue) if spread else None
        out.append({"strategy": row["strategy"], "against": row["against"], "diffs": diffs,
                    "mean_diff": sum(diffs) / len(diffs), "p_paired_t": p})  # fmt: skip
    for entry, adjusted in zip(out, holm([e["p_paired_t"] for e in out]), strict=True):
        entry.update(p_holm=adjusted, family=sum(e["p_paired_t"] is not None for e in out),
                     verdict=verdict(adjusted, entry["mean_diff"]))  # fmt: skip
    return out


def _fmt(p: float | None) -> str:
    return "" if p is None else f"{p:.3f}"


def amend(folder: Path, check: bool = False) -> list[str]:
    """Recompute the paired table of ``folder/report.md``; write ``paired.json`` and the table's ``p (paired t)``,
    ``p (Holm)`` and ``verdict`` cells (a ``p (Holm)`` column is added after ``p (paired t)``), or with ``check``
    only list the cells that disagree.

    Returns:
        The disagreements (``strategy vs against: column printed X, recomputed Y``); empty when none or written.
    """
    path = folder / "report.md"
    if not path.is_file():
        raise NegmineError(f"{folder}: no report.md")
    text = path.read_text()
    columns, rows = read_paired(text)
    if not rows:
        return []
    entries = recompute(rows)
    problems = []
    for row, entry in zip(rows, entries, strict=True):
        for column, value in (("p (paired t)", _fmt(entry["p_paired_t"])), ("p (Holm)", _fmt(entry["p_holm"])),
                              ("verdict", entry["verdict"])):  # fmt: skip
            printed = row.get(column)
            if printed is None or printed == value:
                continue
            if column == "p (paired t)" and printed and value and abs(float(printed) - float(value)) <= 0.01:
                continue  # the differences are printed to 4 decimals: p moves in its last digits
            problems.append(f"{entry['strategy']} vs {entry['against']}: {column} printed {printed!r}, "
                            f"recomputed {value!r}")  # fmt: skip
    if check:
        if "p (Holm)" not in columns:
            problems.insert(0, f"{path}: no p (Holm) column")
        if not (folder / "paired.json").is_file():
            problems.insert(0, f"{folder}/paired.json: missing")
        return problems
    if "p (Holm)" not in columns:
        columns.insert(columns.index("p (paired t)") + 1, "p (Holm)")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(HEADER))
    new_rows = []
    for row, entry in zip(rows, entries, strict=True):
        printed = row.get("p (paired t)") or ""
        close = printed and entry["p_paired_t"] is not None and abs(float(printed) - entry["p_paired_t"]) <= 0.01
        row = {**row, "p (paired t)": printed if close else _fmt(entry["p_paired_t"]),
               "p (Holm)": _fmt(entry["p_holm"]), "verdict": entry["verdict"]}  # fmt: skip
        new_rows.append("| " + " | ".join(row.get(c, "") for c in columns) + " |")
    lines[start:start + 2 + len(rows)] = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns), *new_rows]
    amended = "\n".join(lines) + ("\n" if text.endswith("\n") else "")
    path.write_text(amended.replace(OLD_RULE, NEW_RULE.format(family=entries[0]["family"] if entries else 0)))
    family = {"rule": "paired t-test over seeds; Holm over the report's comparisons; verdict from the Holm p < 0.05",
              "source": "the per-seed differences printed in report.md (4 decimals)", "comparisons": entries}
    (folder / "paired.json").write_text(json.dumps(family, indent=1) + "\n")
    return []


def read_table(report: str, section: str) -> list[dict]:
    """The first Markdown table under the heading ``## section`` of a report, one dict a row."""
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == f"## {section}"), None)
    if start is None:
        return []
    header = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("| ")), None)
    return [] if header is None else _table_at(lines, header)[1]


def redraw_map(folder: Path) -> Path | None:
    """``folder/hardness_diversity.png`` drawn again from the report's strategies table: each strategy's hardness and
    diversity columns and its quality mean and sd (its seeds stand in as mean - sd, mean, mean + sd, which keep both),
    for a report whose run records were not kept. Strategies without negatives (empty columns) have no dot."""
    from negmine.analysis.plots import hardness_diversity

    rows = read_table((folder / "report.md").read_text(), "Strategies")
    if not rows:
        return None
    quality = next(c for c in rows[0] if c.endswith(" mean") and "ndcg" in c)
    hardness = next(c for c in rows[0] if c.startswith("hardness."))
    diversity = next(c for c in rows[0] if c.startswith("diversity."))
    records = []
    for row in rows:
        if not row[hardness] or not row[diversity]:
            continue
        mean, sd, seeds = float(row[quality]), float(row["sd"] or 0), int(row["seeds"])
        spread = [mean - sd, mean, mean + sd] if seeds >= 3 else [mean] * seeds
        spread += [mean] * (seeds - len(spread))
        records += [{"set": f"{row['strategy']}-seed{k + 1}", "source": "all", "encoder": "reference",
                     hardness: float(row[hardness]), diversity: float(row[diversity]), "validation.ndcg@10": q}
                    for k, q in enumerate(spread)]  # fmt: skip
    return hardness_diversity(records, folder / "hardness_diversity.png", hardness, diversity)


def main(argv: list[str] | None = None) -> int:
    """``python -m negmine.study.tables [--check | --redraw] FOLDER...``"""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    if "--redraw" in args:
        for folder in (Path(a) for a in args if not a.startswith("--")):
            print(redraw_map(folder))
        return 0
    problems = []
    for folder in (Path(a) for a in args if not a.startswith("--")):
        problems += [f"{folder}: {p}" for p in amend(folder, check=check)]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

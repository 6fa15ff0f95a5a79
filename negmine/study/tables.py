"""A committed study report's paired comparisons, recomputed from the per-seed differences it prints, under the one
rule of :func:`negmine.study.statistics.compare_family`: the paired t-test's p, Holm over the report's family, the
verdict read from the corrected p.

A report written before the rule (and whose run folders are gone) keeps its tables; this module writes the data they
rest on beside them (``paired.json``: each comparison's differences, p, Holm p and verdict) and rewrites the table's
p, Holm and verdict cells from it, so a reader can check every verdict from a file in the repository.

A report that ships its data (``study.json`` and each run's ``runs/RUN/metrics.json`` beside ``report.md``) is checked
whole instead (:func:`recheck`): its statistics are computed again from the runs, the analysis records and the
per-query scores, and its Markdown is written again from them.

    python -m negmine.study.tables docs/study/scifact docs/study/ablation     # rewrite
    python -m negmine.study.tables --check docs/study/*/                      # exit 1 where a cell disagrees
    python -m negmine.study.tables --ship runs/study-NAME docs/study/NAME     # a report and its data, to commit
    python -m negmine.study.tables --cite docs/study/NAME [A:B ...]           # its verdicts, as docs quote them
    python -m negmine.study.tables --levers docs/release.md                   # its lever table, recomputed
    python -m negmine.study.tables --redraw docs/study/scifact                # the hardness-diversity map again

References:
    Holm, 1979, "A Simple Sequentially Rejective Multiple Test Procedure".
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import numpy as np

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


def _differences(stored, fresh, where: str = "statistics", rel: float = 1e-6) -> list[str]:
    """Where two JSON-shaped values differ: numbers beyond a relative tolerance (BLAS order moves the last digits
    between machines), anything else exactly."""
    if isinstance(stored, dict) and isinstance(fresh, dict):
        out = [f"{where}.{k}: only in one" for k in sorted(set(stored) ^ set(fresh), key=str)]
        return out + [d for k in stored if k in fresh for d in _differences(stored[k], fresh[k], f"{where}.{k}", rel)]
    if isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            return [f"{where}: {len(stored)} items, recomputed {len(fresh)}"]
        return [d for i, (a, b) in enumerate(zip(stored, fresh, strict=True))
                for d in _differences(a, b, f"{where}[{i}]", rel)]  # fmt: skip
    numbers = (int, float)
    if isinstance(stored, numbers) and isinstance(fresh, numbers) and not isinstance(stored, bool):
        same = math.isclose(stored, fresh, rel_tol=rel, abs_tol=1e-12) or (math.isnan(stored) and math.isnan(fresh))
        return [] if same else [f"{where}: {stored!r}, recomputed {fresh!r}"]
    return [] if stored == fresh else [f"{where}: {stored!r}, recomputed {fresh!r}"]


def recheck(folder: Path) -> list[str]:
    """A shipped report checked against its own data: the statistics of ``folder/study.json`` computed again from its
    runs, analysis records and the per-query scores in ``folder/runs/RUN/metrics.json``, and ``folder/report.md``
    written again from them.

    Args:
        folder: a study's ``report/`` copied with its data: ``report.md``, ``study.json``, the plots and
            ``runs/RUN/metrics.json`` for every run ``study.json`` lists.

    Returns:
        The disagreements, one line each (a statistic that moved, a run without its metrics, a report line that
        is not what the statistics print); empty when the report is what its data say. The geometry section
        (experiment D) is measured on the trained models, which do not ship: only its printing is checked.

    Example:
        >>> recheck(Path("docs/study/release-budget"))  # doctest: +SKIP
        []
    """
    from negmine.outputs import json_default
    from negmine.study.report import report_markdown
    from negmine.study.runner import per_query_scores, study_statistics
    from negmine.study.spec import StudySpec

    document = json.loads((folder / "study.json").read_text())
    spec = StudySpec.model_validate(document["spec"])
    runs = document["runs"]
    missing = [r["run"] for r in runs if not (folder / "runs" / r["run"] / "metrics.json").is_file()]
    if missing:
        return [f"{folder}/runs/{run}/metrics.json: missing" for run in missing]
    per_query = per_query_scores(spec, folder, runs, backfill=False)
    fresh = json.loads(json.dumps(study_statistics(spec, runs, document["records"], per_query), default=json_default))
    if "geometry" in document["statistics"]:  # measured on the trained models, which do not ship: kept as printed
        fresh["geometry"] = document["statistics"]["geometry"]
    problems = _differences(document["statistics"], fresh)
    plots = sorted(path.name for path in folder.glob("*.png"))
    text = report_markdown(spec, document["statistics"], runs, plots, document["seconds"], document["trained_now"])
    printed = (folder / "report.md").read_text().splitlines()
    written = text.splitlines()
    problems += [f"report.md line {i + 1}: printed {a!r}, the statistics print {b!r}"
                 for i, (a, b) in enumerate(zip(printed, written, strict=False)) if a != b][:5]  # fmt: skip
    if len(printed) != len(written):
        problems.append(f"report.md: {len(printed)} lines, the statistics print {len(written)}")
    return problems


def cite(source: Path, only: list[str] | None = None) -> str:
    """The verdicts behind a committed claim as the Markdown table the docs quote: each paired comparison
    (difference in nDCG@10 points with its per-seed values, the unit and n, p, Holm p over the family, verdict)
    and, for a study, each sweep's line and curvature test. A docs page quotes it under a ``<!-- cite: SOURCE -->``
    line, and :func:`check_citations` holds the quote to this table, so a quoted number is one its data give.

    Args:
        source: a shipped report folder (its ``study.json``), or a benchmark's JSON with ``comparisons`` in the
            same shape (``benchmarks/vs_st_mining.py --json``).
        only: the comparisons to keep, as ``STRATEGY:BASELINE``; None: all of them (and the sweeps' tests).

    Returns:
        The table.

    Example:
        >>> print(cite(Path("docs/results/vs-st-mining/bench.json"), ["st:none"]))  # doctest: +SKIP
        | comparison | difference (points) | unit, n | p | Holm p (family) | verdict |
        | --- | --- | --- | --- | --- | --- |
        | st - none | +3.24 (+4.26 +2.69 +2.77) | training seed, 3 | 0.024 | 0.096 (4) | inside the noise |
    """
    from negmine.study.report import trend_cell, trend_verdict, turning_point

    if source.is_dir():
        document = json.loads((source / "study.json").read_text())
        stats = document["statistics"]
        unit = "seed (mining and training)" if document["spec"].get("mining_seed") == "training" else "training seed"
    else:
        stats, unit = {"paired": json.loads(source.read_text())["comparisons"]}, "training seed"
    if only is not None:
        stats = {"paired": [e for e in stats["paired"] if f"{e['strategy']}:{e['baseline']}" in only]}
    rows = ["| comparison | difference (points) | unit, n | p | Holm p (family) | verdict |", "| --- " * 6 + "|"]
    for entry in stats["paired"]:
        tested = entry["p_paired_t"] is not None
        rows.append(f"| {entry['strategy']} - {entry['baseline']} | {100 * entry['mean_diff']:+.2f} "
                    f"({' '.join(f'{100 * d:+.2f}' for d in entry['diffs'])}) | {unit}, {entry['seeds']} | "
                    f"{_fmt(entry['p_paired_t'])} | "
                    f"{_fmt(entry['p_holm']) + ' (' + str(entry['family']) + ')' if tested else 'not tested'} | "
                    f"{entry['verdict']} |")  # fmt: skip
    for axis, fit in (stats.get("curvature") or {}).items():
        sweep = f" (sweep {', '.join(fit['sweep'])})" if fit.get("sweep") else ""
        units = f"units, {fit['n']} ({fit['levels']} levels)"
        if fit.get("trend"):
            rows.append(f"| line in {axis}{sweep} | b {trend_cell(fit).rsplit(', p ', 1)[0]} a sd | {units} | "
                        f"{_fmt(fit['trend']['p'])} | one test | {trend_verdict(fit)} |")  # fmt: skip
        if not fit["testable"]:
            rows.append(f"| curvature in {axis}{sweep} | | {units} | | | not testable |")
            continue
        peak = "" if fit["peak"] is None else f", turning point {turning_point(fit)}"
        rows.append(f"| curvature in {axis}{sweep} | c {fit['c']:+.4f} [{fit['c_ci'][0]:+.4f}, {fit['c_ci'][1]:+.4f}]"
                    f"{peak} | {units} | {_fmt(fit['p'])} | one test | "
                    f"{'a sweet spot' if fit['sweet_spot'] else 'no sweet spot shown'} |")  # fmt: skip
    return "\n".join(rows)


LEVERS_HEADER = "| lever | setting | minus static, per seed |"


def check_levers(page: Path, results: Path | None = None) -> list[str]:
    """The lever table of ``docs/release.md`` recomputed from the per-seed differences it prints: each row's mean ± sd
    and paired t p, the Holm p over the table's trained levers (the rows with differences and a Holm cell), and each
    of those rows' differences found in the results page's lever table (``docs/results/release-levers.md``).

    Args:
        page: the page with the table (its header starts with :data:`LEVERS_HEADER`).
        results: the results page whose ``minus static, per seed`` column the differences come from; None: not
            cross-checked.

    Returns:
        The cells that disagree, one line each; empty when every printed number is what its differences give.

    Example:
        >>> check_levers(Path("docs/release.md"), Path("docs/results/release-levers.md"))  # doctest: +SKIP
        []
    """
    from scipy.stats import ttest_1samp

    lines = page.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(LEVERS_HEADER)), None)
    if start is None:
        return [f"{page}: no table headed {LEVERS_HEADER!r}"]
    rows = _table_at(lines, start)[1]
    holm_column = next(c for c in rows[0] if c.startswith("p (Holm"))
    measured = [r for r in rows if r["minus static, per seed"] not in ("", "-")]
    diffs = {id(r): [float(d) for d in r["minus static, per seed"].replace(",", " ").split()] for r in measured}
    p_of = {id(r): float(ttest_1samp(diffs[id(r)], 0.0).pvalue) for r in measured}
    family = [r for r in measured if r[holm_column] not in ("", "-")]
    holm_of = dict(zip([id(r) for r in family], holm([p_of[id(r)] for r in family]), strict=True))
    sources = []
    if results is not None:
        result_lines = results.read_text().splitlines()
        at = next(i for i, line in enumerate(result_lines) if "| minus static, per seed |" in line)
        sources = [r["minus static, per seed"].replace(" ", "") for r in _table_at(result_lines, at)[1]]
    problems = []
    for row in measured:
        d, name = diffs[id(row)], f"{row['lever']} ({row['setting']})"
        expected = {"difference": f"{sum(d) / len(d):+.2f} ± {float(np.std(d, ddof=1)):.2f}",
                    "p (paired t)": _p2(p_of[id(row)])}  # fmt: skip
        printed = {"difference": row["difference"].split(" (")[0], "p (paired t)": row["p (paired t)"]}
        if id(row) in holm_of:
            expected[holm_column], printed[holm_column] = _p2(holm_of[id(row)]), row[holm_column]
            if results is not None and row["minus static, per seed"].replace(" ", "") not in sources:
                problems.append(f"{name}: differences {row['minus static, per seed']!r} not in {results}")
        problems += [f"{name}: {column} printed {printed[column]!r}, recomputed {value!r}"
                     for column, value in expected.items() if printed[column] != value]  # fmt: skip
    if str(len(family)) not in holm_column:
        problems.append(f"{page}: the Holm column says {holm_column!r}, the family has {len(family)} levers")
    return problems


def _p2(p: float) -> str:
    """A p-value as the lever table prints it: three decimals under 0.1, else two."""
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


CITE = "<!-- cite: "


def check_citations(page: Path, root: Path) -> list[str]:
    """Every table a docs page quotes under a ``<!-- cite: SOURCE [STRATEGY:BASELINE ...] -->`` line, compared with
    what :func:`cite` computes from SOURCE (a path from ``root``) now.

    Returns:
        One line for each quote that is not the table its source gives (or whose source is missing).

    Example:
        >>> check_citations(Path("docs/study.md"), Path("."))  # doctest: +SKIP
        []
    """
    lines = page.read_text().splitlines()
    problems = []
    for i, line in enumerate(lines):
        if not line.startswith(CITE):
            continue
        source, *only = line[len(CITE):].removesuffix("-->").split()
        if not (root / source).exists():
            problems.append(f"{page}:{i + 1}: {source} is not in the repository")
            continue
        quoted = []
        for following in lines[i + 1:]:
            if not following.startswith("|"):
                break
            quoted.append(following)
        expected = cite(root / source, only or None).splitlines()
        if quoted != expected:
            wrong = next((q for q, e in zip(quoted, expected, strict=False) if q != e), "(rows missing or extra)")
            problems.append(f"{page}:{i + 1}: the table quoted from {source} is not what its data give: {wrong}")
    return problems


NUMBER = r"(?<![\w.])[+-]?\d+\.\d+(?![\w.])"


def check_numbers(text: str, sources: list[str], where: str = "") -> list[str]:
    """Every decimal number in ``text`` (a page's prose and tables about a study) is one of its sources' numbers,
    rounded to the decimals it is printed with (sign aside, so "0.6 points lower" may quote -0.64): a net for a figure
    typed by hand that no report computed.

    Args:
        text: the quoting text.
        sources: texts that hold the computed numbers (a cite() table, a report.md, a results page).
        where: prefixed to each problem line.

    Returns:
        One line for each number no source gives.

    Example:
        >>> check_numbers("rises by 0.69 (p 0.023), then 0.71", ["+0.6931 p 0.0233"])
        ['0.71 is in none of the sources']
    """
    known = [abs(float(x)) for source in sources for x in re.findall(NUMBER, source)]
    problems = []
    for token in dict.fromkeys(re.findall(NUMBER, text)):
        value, decimals = abs(float(token)), len(token.split(".")[1])
        if not any(abs(round(k, decimals) - value) < 10 ** -(decimals + 3) for k in known):
            problems.append(f"{where}{token} is in none of the sources")
    return problems


SHIPPED_RUN_FILES = ("metrics.json", "wall.json")


def ship(out: Path, dest: Path) -> Path:
    """Copy a study's report with the data it was computed from into ``dest`` (for the repository): ``report.md``,
    ``study.json`` and the plots of ``out/report/``, and each listed run's ``metrics.json`` (its per-query scores)
    and ``wall.json`` under ``dest/runs/RUN/``; no model, pairs or checkpoint. ``dest`` is replaced whole, and the
    copy is checked with :func:`recheck` before it replaces anything.

    Args:
        out: the study folder ``negmine study --out`` wrote (``report/`` and ``runs/``).
        dest: where the copy goes, e.g. ``docs/study/release-budget``.

    Returns:
        ``dest``.

    Raises:
        NegmineError: the report is missing, or its copy does not recompute to what it prints.

    Example:
        >>> ship(Path("runs/study-scifact-release-budget"), Path("docs/study/release-budget"))  # doctest: +SKIP
    """
    import shutil

    from negmine.outputs import atomic_folder

    report = out / "report"
    if not (report / "study.json").is_file():
        raise NegmineError(f"{report}/study.json: missing; run negmine study {out} --no-train first")
    runs = json.loads((report / "study.json").read_text())["runs"]
    with atomic_folder(dest) as tmp:
        for path in [report / "report.md", report / "study.json", *sorted(report.glob("*.png"))]:
            shutil.copy2(path, tmp / path.name)
        for run in runs:
            (tmp / "runs" / run["run"]).mkdir(parents=True)
            for name in SHIPPED_RUN_FILES:
                if (out / "runs" / run["run"] / name).is_file():
                    shutil.copy2(out / "runs" / run["run"] / name, tmp / "runs" / run["run"] / name)
        problems = recheck(tmp)
        if problems:
            raise NegmineError(f"{out}: the copied report does not recompute ({len(problems)} problems): "
                               f"{problems[0]}")
    return dest


def main(argv: list[str] | None = None) -> int:
    """``python -m negmine.study.tables [--check | --redraw] FOLDER...`` or ``--ship OUT DEST``"""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    if "--levers" in args:
        problems = [p for a in args if not a.startswith("--")
                    for p in check_levers(Path(a), Path(a).parent / "results" / "release-levers.md")]  # fmt: skip
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    if "--cite" in args:  # --cite SOURCE [STRATEGY:BASELINE ...]: the comment line and the table, to paste
        source, *only = (a for a in args if not a.startswith("--"))
        print(f"{CITE}{' '.join([source, *only])} -->")
        print(cite(Path(source), only or None))
        return 0
    if "--ship" in args:
        out, dest = (Path(a) for a in args if not a.startswith("--"))
        try:
            print(ship(out, dest))
        except NegmineError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    if "--redraw" in args:
        for folder in (Path(a) for a in args if not a.startswith("--")):
            print(redraw_map(folder))
        return 0
    problems = []
    for folder in (Path(a) for a in args if not a.startswith("--")):
        if (folder / "study.json").is_file():  # a report with its data: checked whole, never rewritten
            problems += [f"{folder}: {p}" for p in recheck(folder)]
        else:
            problems += [f"{folder}: {p}" for p in amend(folder, check=check)]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

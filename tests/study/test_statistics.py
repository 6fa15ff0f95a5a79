"""The study's statistics: correlation p-values (exact for few points), Holm over a family, the independent unit,
the curvature test of a sweet spot."""

from __future__ import annotations

import re

import numpy as np
import pytest

from negmine.study.statistics import correlation, curvature


def test_few_runs_get_an_exact_p_value_not_zero():
    # 3 runs in perfect order: 2 of the 3! orderings reach |rho| = 1, so p = 1/3 (spearmanr's t approximation says 0)
    result = correlation([1, 2, 3], [0.1, 0.2, 0.3], n_boot=10)
    assert result["spearman"] == pytest.approx(1.0)
    assert result["spearman_p"] == pytest.approx(1 / 3)
    # 5 runs: 2 of 120 orderings reach |rho| = 1
    assert correlation([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], n_boot=10)["spearman_p"] == pytest.approx(2 / 120)


def test_many_runs_keep_spearmans_own_p_value():
    from scipy.stats import spearmanr

    x, y = list(range(12)), [0, 2, 1, 3, 5, 4, 7, 6, 9, 8, 11, 10]
    assert correlation(x, y, n_boot=10)["spearman_p"] == pytest.approx(spearmanr(x, y)[1])


def test_leaving_one_strategy_out_names_the_strategy_that_carries_a_correlation():
    """Hand-computed: ranks of y (4, 3, 2, 1, 5, 6) against x's 1..6 give rho 1 - 6*20/210 = 0.4286; without c the
    rest is perfectly reversed (-1); without a or b, 0.8. So c carries the correlation, and is named."""
    from scipy.stats import spearmanr

    from negmine.study.statistics import leave_one_group_out

    x, y, groups = [1, 2, 3, 4, 9, 10], [4, 3, 2, 1, 9, 10], ["a", "a", "b", "b", "c", "c"]
    assert abs(spearmanr(x, y)[0] - (1 - 6 * 20 / 210)) < 1e-12
    result = leave_one_group_out(x, y, groups)
    assert result["most_influential"] == "c"
    assert result["rho_without"] == pytest.approx(-1.0) and result["low"] == pytest.approx(-1.0)
    assert result["high"] == pytest.approx(0.8)
    # NaN points drop out; fewer than 3 groups give no range
    assert leave_one_group_out([1, 2, float("nan")], [1, 2, 3], ["a", "b", "c"])["low"] is None


def test_holm_against_hand_computed_values():
    from negmine.study.statistics import holm

    # sorted 0.01, 0.02, 0.04, 0.30 with m = 4: 0.04, 0.06, 0.08, 0.30 (monotone), None not counted
    adjusted = holm([0.04, None, 0.01, 0.30, 0.02])
    assert adjusted[1] is None
    assert adjusted[0] == pytest.approx(0.08) and adjusted[2] == pytest.approx(0.04)
    assert adjusted[3] == pytest.approx(0.30) and adjusted[4] == pytest.approx(0.06)
    assert holm([0.5, 0.4]) == pytest.approx([0.8, 0.8])  # step-down keeps the order: 2 x 0.4, then max(0.8, 0.5)


def test_a_p_that_passes_alone_is_inside_the_noise_among_fifteen():
    """Experiment A's case: one comparison at p 0.026 among 15 is not a finding once corrected; the word follows
    the corrected p, and the uncorrected one stays beside it."""
    from negmine.study.statistics import compare_family

    base = {1: 0.70, 2: 0.71, 3: 0.69}
    scores = {"base": base, "lucky": {s: v + d for (s, v), d in zip(base.items(), [0.010, 0.014, 0.008], strict=True)}}
    for k in range(14):  # nothing there: differences that cancel
        scores[f"s{k}"] = {s: v + (0.01 if s == 1 else -0.01 if s == 2 else 0.0) for s, v in base.items()}
    alone = compare_family({"base": base, "lucky": scores["lucky"]}, [("lucky", "base")])[0]
    assert alone["p_paired_t"] < 0.05 and alone["verdict"] == "better"
    family = compare_family(scores, [(name, "base") for name in scores if name != "base"])
    lucky = next(c for c in family if c["strategy"] == "lucky")
    assert lucky["family"] == 15 and lucky["p_holm"] == pytest.approx(min(1.0, 15 * lucky["p_paired_t"]))
    assert lucky["verdict"] == "inside the noise"


def test_two_seeds_sharing_negatives_count_once():
    from negmine.study.statistics import correlation, unit_points

    points = [{"set": f"{s}-seed{k}", "h": h, "q": q + 0.001 * k}
              for s, h, q in (("a", 0.1, 0.70), ("b", 0.2, 0.69), ("c", 0.3, 0.71)) for k in (1, 2, 3)]
    unit_of = {p["set"]: p["set"].split("-")[0] for p in points}
    units = unit_points(points, unit_of, ["h", "q"])
    assert [u["unit"] for u in units] == ["a", "b", "c"] and units[0]["q"] == pytest.approx(0.702)
    assert correlation([u["h"] for u in units], [u["q"] for u in units], n_boot=100)["n"] == 3


def test_curvature_finds_a_peak_and_refuses_a_saturated_design():
    from negmine.study.statistics import curvature

    x = np.linspace(0, 1, 8)
    noise = np.array([0.002, -0.001, 0.0, 0.001, -0.002, 0.001, 0.0, -0.001])
    peak = curvature(x, 0.7 - 0.2 * (x - 0.5) ** 2 + noise)
    assert peak["testable"] and peak["sweet_spot"] and peak["peak"] == pytest.approx(0.5, abs=0.05)
    rising = curvature(x, 0.6 + 0.1 * x + noise)  # a line: no curvature, no spot
    assert rising["testable"] and not rising["sweet_spot"]
    flattening = curvature(x, 0.7 - 0.2 * (x - 1.2) ** 2 + noise)  # c < 0, turning point outside the range
    assert flattening["c"] < 0 and not flattening["peak_inside"] and not flattening["sweet_spot"]
    saturated = curvature([0.1, 0.2, 0.3, 0.2, 0.1], [0.6, 0.7, 0.6, 0.71, 0.61])  # 3 levels, 2 residual df
    assert not saturated["testable"] and "saturated" in saturated["why"] and "3 distinct levels" in saturated["why"]
    replicated = curvature([0.1, 0.2, 0.3] * 3, [0.6, 0.7, 0.6, 0.61, 0.71, 0.6, 0.6, 0.69, 0.61])  # 3 levels, 6 df
    assert not replicated["testable"] and "3 distinct levels" in replicated["why"]
    assert "saturated" not in replicated["why"]  # replicates leave residual df: the levels are what is short


def test_every_committed_report_agrees_with_its_recomputed_paired_table():
    """Each committed study report agrees with its data: one that ships study.json and its runs' metrics is computed
    again from them and written again, whole; an older one's p, Holm p and verdict cells are what
    negmine.study.tables recomputes from the per-seed differences it prints, with its paired.json beside it."""
    from pathlib import Path

    from negmine.study.tables import amend, recheck

    folders = sorted(p.parent for p in (Path(__file__).parents[2] / "docs" / "study").glob("*/report.md"))
    assert len(folders) >= 4
    for folder in folders:
        assert (recheck(folder) if (folder / "study.json").is_file() else amend(folder, check=True)) == [], folder


def test_recompute_a_paired_table_by_hand():
    from negmine.study.tables import recompute

    rows = [{"strategy": "a", "against": "base", "diffs": "+0.0100 +0.0140 +0.0080"},  # t = 6.04, p = 0.0263
            {"strategy": "b", "against": "base", "diffs": "+0.0100 -0.0100 +0.0000"},  # p = 1
            {"strategy": "c", "against": "base", "diffs": "+0.0172"}]  # one seed: no test, not in the family
    a, b, c = recompute(rows)
    assert a["p_paired_t"] == pytest.approx(0.0263, abs=1e-4) and a["family"] == 2
    assert a["p_holm"] == pytest.approx(2 * a["p_paired_t"])  # 0.0525: below 0.05 alone, not in a family of 2
    assert a["verdict"] == "inside the noise"
    assert b["p_holm"] == pytest.approx(1.0) and c["p_paired_t"] is None and c["verdict"] == "inside the noise"


def test_the_map_is_redrawn_from_a_reports_strategies_table(tmp_path, monkeypatch):
    """One dot a strategy from its table row, at the table's hardness measure, its seeds standing in as mean - sd,
    mean, mean + sd (which keep both)."""
    import shutil
    from pathlib import Path

    from negmine.analysis import plots
    from negmine.study.tables import redraw_map

    seen = {}
    monkeypatch.setattr(plots, "hardness_diversity",
                        lambda records, path, hardness, diversity: seen.update(records=records, hardness=hardness))
    shutil.copy(Path(__file__).parents[2] / "docs" / "study" / "ablation" / "report.md", tmp_path / "report.md")
    redraw_map(tmp_path)
    assert seen["hardness"] == "hardness.score.mean"
    mid = [r["validation.ndcg@10"] for r in seen["records"] if r["set"].startswith("mid-spread-")]
    assert np.mean(mid) == pytest.approx(0.6682) and np.std(mid, ddof=1) == pytest.approx(0.0077)
    assert len(seen["records"]) == 15


def test_curvature_counts_a_sweeps_strategies_as_its_levels():
    """Seeds of one strategy differ a little in x: by value they are 6 levels, as a sweep of strategies they are 2,
    too few for a quadratic."""
    x = [0.30, 0.31, 0.32, 0.40, 0.41, 0.42]
    y = [0.70, 0.71, 0.70, 0.72, 0.73, 0.72]
    assert curvature(x, y)["levels"] == 6
    fit = curvature(x, y, levels_of=["a", "a", "a", "b", "b", "b"])
    assert fit["levels"] == 2 and not fit["testable"] and "trend" not in fit  # 2 levels: a difference, not a trend


def test_the_linear_trend_against_hand_computed_values():
    """H1 across a sweep: y = a + b·x by least squares; x = 1..5, y as below: slope 0.011 a unit of x, standard error
    0.003 (residual SS 0.00027 over 3 df, Sxx 10), t 3.667 on 3 df, p 0.0351; per population sd of x (sqrt 2)
    the slope is 0.01556. A sweep of 3 levels gets its trend even where a quadratic is not testable."""
    from negmine.study.statistics import linear_trend

    fit = linear_trend([1, 2, 3, 4, 5], [0.70, 0.71, 0.73, 0.72, 0.75])
    assert fit["slope"] == pytest.approx(0.011 * np.sqrt(2), rel=1e-9)
    assert fit["p"] == pytest.approx(0.0351, abs=1e-4)
    half = 3.182446 * 0.003 * np.sqrt(2)  # t(0.975, 3) x the standard error, per sd of x
    assert fit["slope_ci"] == pytest.approx([fit["slope"] - half, fit["slope"] + half], rel=1e-5)
    three = curvature([1, 1, 1, 2, 2, 2, 3, 3, 3], [0.70, 0.71, 0.70, 0.72, 0.73, 0.72, 0.74, 0.75, 0.74],
                      levels_of=list("aaabbbccc"))  # fmt: skip
    assert not three["testable"] and three["trend"]["slope"] > 0 and three["trend"]["p"] < 0.001


def test_a_study_sweep_must_name_its_strategies(tmp_path):
    from negmine.study.spec import StudySpec

    base = {"name": "s", "strategies": [{"name": "a", "recipe": "r.yaml"}, {"name": "b", "recipe": "r.yaml"}]}
    assert StudySpec.model_validate({**base, "sweeps": {"hardness": ["a", "b"]}}).sweeps == {"hardness": ["a", "b"]}
    with pytest.raises(ValueError, match="sweeps.hardness: 'c' is not a strategy"):
        StudySpec.model_validate({**base, "sweeps": {"hardness": ["a", "c"]}})


def test_every_quoted_verdict_table_is_what_its_data_give(tmp_path):
    """Each table a page quotes under a ``<!-- cite: SOURCE -->`` line is what negmine.study.tables.cite computes from
    SOURCE (a shipped study.json, a benchmark's JSON), and every shipped report is quoted whole in docs/study.md; a
    quoted number changed by hand is named."""
    from pathlib import Path

    from negmine.study.tables import CITE, check_citations

    root = Path(__file__).parents[2]
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    assert [p for page in pages for p in check_citations(page, root)] == []
    study = (root / "docs" / "study.md").read_text()
    for folder in sorted(p.parent for p in (root / "docs" / "study").glob("*/study.json")):
        assert f"{CITE}{folder.relative_to(root)} -->" in study, folder
    assert CITE in study
    line, size = next((line, match.group(1)) for line in study.splitlines() if line.startswith("| ")
                      and (match := re.search(r" \((\d+)\) \| ", line)))  # a family size: "0.096 (4) |"
    changed = tmp_path / "study.md"
    changed.write_text(study.replace(line, line.replace(f" ({size}) | ", f" ({int(size) + 1}) | ")))
    assert len(check_citations(changed, root)) == 1


def test_the_release_pages_lever_table_is_what_its_per_seed_differences_give(tmp_path):
    """docs/release.md's lever table: every mean ± sd, p and Holm p (over its 11 trained levers) recomputed from the
    per-seed differences it prints, which are the results page's; a changed cell or difference is named."""
    from pathlib import Path

    from negmine.study.tables import check_levers

    root = Path(__file__).parents[2]
    page, results = root / "docs" / "release.md", root / "docs" / "results" / "release-levers.md"
    assert check_levers(page, results) == []
    text = page.read_text()
    (tmp_path / "release.md").write_text(text.replace("| +2.53, +0.96, +2.36 |", "| +2.53, +0.96, +2.46 |"))
    problems = check_levers(tmp_path / "release.md", results)
    assert any("not in" in p for p in problems) and any("difference printed '+1.95 ± 0.86'" in p for p in problems)
    (tmp_path / "release.md").write_text(text.replace("| 0.059 | 0.42 |", "| 0.059 | 0.40 |"))
    assert [p.split(": ", 1)[1] for p in check_levers(tmp_path / "release.md", results)] == [
        "p (Holm, 11 levers) printed '0.40', recomputed '0.42'"]


def test_every_number_in_the_release_budget_reading_comes_from_its_data():
    """The prose and verdict table of docs/study.md's release-budget section quote only numbers that the shipped
    reports, their cite() tables or docs/release.md hold (rounded as printed); a hand-typed figure is named."""
    from pathlib import Path

    from negmine.study.tables import check_numbers, cite

    root = Path(__file__).parents[2]
    study = (root / "docs" / "study.md").read_text()
    section = study[study.index("### At the release budget") :]
    sources = [cite(root / "docs" / "study" / "release-budget"),
               cite(root / "docs" / "results" / "vs-st-mining" / "bench.json", ["negmine:none", "st:none"]),
               (root / "docs" / "study" / "release-budget" / "report.md").read_text(),
               (root / "docs" / "study" / "ablation" / "report.md").read_text(),
               (root / "docs" / "release.md").read_text()]  # fmt: skip
    assert check_numbers(section, sources) == []
    assert check_numbers(section.replace("rho 0.53", "rho 0.93"), sources) == ["0.93 is in none of the sources"]

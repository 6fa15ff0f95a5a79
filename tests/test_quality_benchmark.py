"""benchmarks/quality.py's paired comparison: per-seed differences, spread and p against hand-computed values."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("quality", Path(__file__).parents[1] / "benchmarks" / "quality.py")
quality = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(quality)


def rows(system: str, scores: dict[int, float]) -> list[dict]:
    return [{"system": system, "seed": seed, "split": "validation", "ndcg@10": v} for seed, v in scores.items()]


def test_paired_differences_match_hand_computed_values():
    table = rows("static", {1: 0.70, 2: 0.72, 3: 0.71}) + rows("release", {1: 0.74, 2: 0.75, 3: 0.76})
    table += rows("base", {1: 0.60})  # never compared
    (entry,) = quality.paired_differences(table, "static")
    assert entry["system"] == "release" and entry["seeds"] == 3 and entry["wins"] == 3
    assert entry["diffs"] == "+0.0400 +0.0300 +0.0500"
    assert entry["ndcg@10_diff_mean"] == pytest.approx(0.04)
    assert entry["diff_sd"] == pytest.approx(0.01)
    # paired t on differences 0.04, 0.03, 0.05: t = 0.04 / (0.01 / sqrt 3) = 6.928 on 2 df, two-sided p = 0.0202
    assert entry["p_paired_t"] == pytest.approx(0.0202, abs=1e-4)
    assert entry["verdict"] == "better"  # a family of one: its Holm p is its p, below 0.05
    assert entry["p_holm"] == entry["p_paired_t"] and entry["family"] == 1


def test_one_seed_gives_no_p_and_the_json_stays_strict():
    table = rows("static", {3: 0.7169}) + rows("release", {3: 0.7682})
    (entry,) = quality.paired_differences(table, "static")
    assert entry["p_paired_t"] is None and entry["diff_sd"] is None and entry["wins"] == 1
    text = json.dumps(entry, allow_nan=False)  # a NaN here would raise
    assert json.loads(text)["ndcg@10_diff_mean"] == pytest.approx(0.0513)
    assert "| - |" in quality.markdown_table([entry], list(entry))
    assert not any(isinstance(v, float) and math.isnan(v) for v in entry.values())


def test_equal_differences_give_no_p_instead_of_nan():
    # differences 0.01, 0.01, 0.01 have no spread: scipy's paired t would be NaN (0 / 0); the table says "no p"
    table = rows("static", {1: 0.70, 2: 0.72, 3: 0.71}) + rows("release", {1: 0.71, 2: 0.73, 3: 0.72})
    (entry,) = quality.paired_differences(table, "static")
    assert entry["p_paired_t"] is None and entry["diff_sd"] == pytest.approx(0.0) and entry["wins"] == 3
    assert entry["verdict"] == "inside the noise"  # no p, no claim
    json.dumps(entry, allow_nan=False)

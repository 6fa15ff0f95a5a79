"""The study's correlation p-values: exact for few runs, the t approximation's beyond."""

from __future__ import annotations

import pytest

from negmine.study.statistics import correlation


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

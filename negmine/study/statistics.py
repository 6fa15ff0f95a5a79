"""The study's statistics: rank correlations with p-values and bootstrap intervals, partial rank correlations, the
hardness x diversity interaction fit, and paired comparisons of strategies on the same seeds.

Every function returns a small dict (statistic, p-value, interval), never a bare number, in scipy.stats' manner.

References:
    Efron & Tibshirani, 1993, "An Introduction to the Bootstrap" (percentile intervals); Conover, 1999, "Practical
    Nonparametric Statistics" (the sign test; partial rank correlation from rank residuals).
"""

from __future__ import annotations

import numpy as np


def correlation(x, y, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Spearman and Kendall correlations of ``x`` with ``y``, their p-values, and percentile bootstrap intervals
    of Spearman's rho (resampling the (x, y) pairs).

    Example:
        >>> c = correlation([1, 2, 3, 4, 5], [2, 4, 5, 4, 6])
        >>> round(c["spearman"], 3), round(c["kendall"], 3)
        (0.821, 0.738)
    """
    from scipy.stats import kendalltau, spearmanr

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"n": int(len(x)), "spearman": None, "spearman_p": None, "kendall": None, "kendall_p": None,
                "ci_low": None, "ci_high": None}  # fmt: skip
    rho, rho_p = spearmanr(x, y)
    tau, tau_p = kendalltau(x, y)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        i = rng.integers(0, len(x), len(x))
        if np.ptp(x[i]) > 0 and np.ptp(y[i]) > 0:
            draws.append(spearmanr(x[i], y[i])[0])
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2]) if draws else (np.nan, np.nan)
    return {"n": int(len(x)), "spearman": float(rho), "spearman_p": float(rho_p), "kendall": float(tau),
            "kendall_p": float(tau_p), "ci_low": float(low), "ci_high": float(high)}  # fmt: skip


def partial_spearman(x, y, z) -> dict:
    """Spearman's correlation of ``x`` and ``y`` with ``z`` held fixed: the Pearson correlation of the residuals
    of rank(x) and rank(y) after a linear fit on rank(z); its p-value from the t distribution with n - 3 degrees of
    freedom.

    Example:
        >>> # both rise with z; with z held fixed, what is left of them moves in opposite directions
        >>> round(partial_spearman([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5], [1, 1, 2, 2, 3, 3])["statistic"], 6)
        -1.0
    """
    from scipy.stats import rankdata, t

    rx, ry, rz = (rankdata(np.asarray(v, dtype=np.float64)) for v in (x, y, z))
    design = np.column_stack([np.ones_like(rz), rz])

    def residual(v):
        return v - design @ np.linalg.lstsq(design, v, rcond=None)[0]

    ex, ey = residual(rx), residual(ry)
    n = len(rx)
    if n < 4 or ex.std() < 1e-12 or ey.std() < 1e-12:
        return {"n": n, "statistic": None, "pvalue": None}
    r = float(np.clip(np.corrcoef(ex, ey)[0, 1], -1, 1))
    statistic = r * np.sqrt((n - 3) / max(1 - r * r, 1e-12))
    return {"n": n, "statistic": r, "pvalue": float(2 * t.sf(abs(statistic), n - 3))}


def interaction_fit(hardness, diversity, quality, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Least squares fit of quality = a·H + b·D + c·H·D + d on standardised H and D (so a and b are comparable),
    with R² and percentile bootstrap intervals of each coefficient (resampling runs). An interior optimum (H3)
    needs c of the opposite sign to a or b with an interval that excludes 0.

    Example:
        >>> h, d = np.array([0, 1, 0, 1, 2.0]), np.array([0, 0, 1, 1, 2.0])
        >>> fit = interaction_fit(h, d, 1 + h + 2 * d + 0.5 * h * d, n_boot=10)
        >>> round(fit["r2"], 6)
        1.0
    """
    h, d, q = (np.asarray(v, dtype=np.float64) for v in (hardness, diversity, quality))
    hz, dz = (h - h.mean()) / (h.std() or 1.0), (d - d.mean()) / (d.std() or 1.0)
    design = np.column_stack([hz, dz, hz * dz, np.ones_like(hz)])
    coef = np.linalg.lstsq(design, q, rcond=None)[0]
    fitted = design @ coef
    total = ((q - q.mean()) ** 2).sum()
    r2 = float(1 - ((q - fitted) ** 2).sum() / total) if total > 0 else None
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        i = rng.integers(0, len(q), len(q))
        if np.linalg.matrix_rank(design[i]) == design.shape[1]:
            draws.append(np.linalg.lstsq(design[i], q[i], rcond=None)[0])
    draws = np.array(draws) if draws else np.full((1, 4), np.nan)
    low, high = np.quantile(draws, (1 - level) / 2, axis=0), np.quantile(draws, (1 + level) / 2, axis=0)
    names = ["hardness", "diversity", "interaction", "intercept"]
    return {"n": int(len(q)), "r2": r2, **{f"{n}": float(c) for n, c in zip(names, coef, strict=True)},
            **{f"{n}_ci": [float(lo), float(hi)] for n, lo, hi in zip(names, low, high, strict=True)}}  # fmt: skip


def paired_comparison(system: dict[int, float], baseline: dict[int, float]) -> dict:
    """A strategy against the baseline on the seeds both ran: per-seed differences, their mean and sd, a paired
    t-test with the t 95% interval of the mean difference, a two-sided sign test (with n seeds its smallest p is
    2 / 2**n: 0.0625 at 5 seeds, so it alone never reaches 0.05 below 6 seeds), and the verdict ``better`` /
    ``worse`` (every seed on one side and p < 0.05 by the t-test) or ``inside the noise``.

    Example:
        >>> c = paired_comparison({1: 0.72, 2: 0.725, 3: 0.73}, {1: 0.70, 2: 0.70, 3: 0.70})
        >>> c["wins"], c["verdict"]
        (3, 'better')
    """
    from scipy.stats import binomtest, ttest_rel

    seeds = sorted(set(system) & set(baseline))
    diffs = np.array([system[s] - baseline[s] for s in seeds])
    wins, losses = int((diffs > 0).sum()), int((diffs < 0).sum())
    t_p, ci = None, None
    if len(seeds) > 1 and diffs.std() > 0:
        test = ttest_rel([system[s] for s in seeds], [baseline[s] for s in seeds])
        t_p, ci = float(test.pvalue), [float(x) for x in test.confidence_interval(0.95)]
    sign_p = float(binomtest(wins, wins + losses).pvalue) if wins + losses else None
    verdict = "inside the noise"
    if t_p is not None and t_p < 0.05 and (wins == len(seeds) or losses == len(seeds)):
        verdict = "better" if wins else "worse"
    return {"seeds": len(seeds), "diffs": [round(float(d), 4) for d in diffs],
            "mean_diff": float(diffs.mean()) if len(diffs) else None,
            "sd_diff": float(diffs.std(ddof=1)) if len(diffs) > 1 else None, "ci95_diff": ci,
            "wins": wins, "losses": losses,
            "p_paired_t": t_p, "p_sign": sign_p, "verdict": verdict}  # fmt: skip

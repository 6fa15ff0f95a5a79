"""The study's statistics: rank correlations with p-values and bootstrap intervals, partial rank correlations, the
curvature test of a sweet spot (H3), the hardness x diversity interaction fit, and paired comparisons of strategies on
the same seeds, corrected as one family (Holm).

Every function returns a small dict (statistic, p-value, interval), never a bare number, in scipy.stats' manner.
Statistics across runs take the independent unit: runs that trained on the same negatives are one point
(:func:`unit_points`).

References:
    Efron & Tibshirani, 1993, "An Introduction to the Bootstrap" (percentile intervals); Conover, 1999, "Practical
    Nonparametric Statistics" (the sign test; partial rank correlation from rank residuals); Holm, 1979, "A Simple
    Sequentially Rejective Multiple Test Procedure"; Simonsohn, 2018, "Two Lines: A Valid Alternative to the Invalid
    Testing of U-Shaped Relationships With Quadratic Regressions" (why a quadratic's sign alone is not a peak).
"""

from __future__ import annotations

import numpy as np

ALPHA = 0.05


def holm(pvalues: list[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values of one family of tests (None, a test that could not be made, stays None
    and is not counted in the family). scipy has no Holm (only ``false_discovery_control``'s FDR rules).

    Args:
        pvalues: the family's unadjusted p-values.

    Returns:
        The adjusted p-values, in the same order: the k-th smallest is ``max_{j<=k} min(1, (m - j + 1) p_(j))``.

    Example:
        >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03])]
        [0.03, 0.06, 0.06]
    """
    present = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    adjusted: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (len(present) - rank) * p))
        adjusted[i] = running
    return adjusted


def verdict(p: float | None, mean_diff: float | None) -> str:
    """The one verdict rule: ``better`` / ``worse`` when the (family-corrected) p is below :data:`ALPHA`, by the sign
    of the mean difference; otherwise ``inside the noise``.

    Example:
        >>> verdict(0.01, -0.02), verdict(0.2, 0.05), verdict(None, 0.05)
        ('worse', 'inside the noise', 'inside the noise')
    """
    if p is None or p >= ALPHA or not mean_diff:
        return "inside the noise"
    return "better" if mean_diff > 0 else "worse"


def compare_family(scores: dict[str, dict[int, float]], pairs: list[tuple[str, str]]) -> list[dict]:
    """Every comparison of a study (each strategy with the baseline, and any named pair) as one family: paired over
    the seeds both ran (:func:`paired_comparison`), Holm-adjusted over the family, the verdict read from the adjusted
    p. The family is the comparisons that have a p-value; its size is reported with each.

    Args:
        scores: strategy -> {seed -> quality}.
        pairs: (strategy, baseline) pairs, in report order.

    Returns:
        One dict a pair sharing at least one seed: ``strategy``, ``baseline``, the paired comparison, ``p_holm``,
        ``family`` and ``verdict``.

    Example:
        >>> s = {"a": {1: 0.70, 2: 0.71, 3: 0.70}, "b": {1: 0.72, 2: 0.73, 3: 0.725}, "c": {1: 0.70, 2: 0.72, 3: 0.69}}
        >>> [(c["strategy"], c["verdict"]) for c in compare_family(s, [("b", "a"), ("c", "a")])]
        [('b', 'better'), ('c', 'inside the noise')]
    """
    entries = [{"strategy": mine, "baseline": base, **paired_comparison(scores[mine], scores[base])}
               for mine, base in pairs if set(scores.get(mine, {})) & set(scores.get(base, {}))]  # fmt: skip
    adjusted = holm([e["p_paired_t"] for e in entries])
    family = sum(p is not None for p in adjusted)
    for entry, p in zip(entries, adjusted, strict=True):
        entry.update(p_holm=p, family=family, verdict=verdict(p, entry["mean_diff"]))
    return entries


def unit_points(points: list[dict], unit_of: dict[str, str], keys: list[str]) -> list[dict]:
    """Merge runs that are not independent into one point: the runs with the same unit (the same negatives) become
    their mean on every key.

    Args:
        points: one dict a run, with ``set`` (the run name) and the values.
        unit_of: run name -> unit key (runs that trained on identical negatives share one).
        keys: the values to average (None and NaN are left out of a mean; a key no run has stays None).

    Returns:
        One dict a unit: ``unit``, ``runs`` (the names), ``set`` (the first run's name) and each key's mean.

    Example:
        >>> pts = [{"set": "a-seed1", "q": 0.70}, {"set": "a-seed2", "q": 0.72}, {"set": "b-seed1", "q": 0.60}]
        >>> [(u["unit"], round(u["q"], 2)) for u in unit_points(pts, {"a-seed1": "A", "a-seed2": "A", "b-seed1": "B"},
        ...                                                       ["q"])]
        [('A', 0.71), ('B', 0.6)]
    """
    groups: dict[str, list[dict]] = {}
    for point in points:
        groups.setdefault(unit_of.get(point["set"], point["set"]), []).append(point)
    merged = []
    for unit, members in groups.items():
        entry = {"unit": unit, "runs": [m["set"] for m in members], "set": members[0]["set"]}
        for key in keys:
            values = [float(m[key]) for m in members if m.get(key) is not None and not np.isnan(float(m[key]))]
            entry[key] = float(np.mean(values)) if values else None
        merged.append(entry)
    return merged


def curvature(x, y, min_levels: int = 4, min_residual_df: int = 3, levels_of=None) -> dict:
    """H3 as a curvature test: ``y = a + b·x + c·x²`` by least squares on the independent units, the t-test of c
    (two-sided, n - 3 degrees of freedom), and where the fitted turning point ``-b / 2c`` lies. A sweet spot needs
    c < 0 with p < 0.05 *and* the turning point inside the observed range (Simonsohn 2018: a significant c alone
    can come from a curve that only flattens).

    A design with fewer than ``min_levels`` distinct x values (three means always fit a parabola: a kink or a
    flattening reads as curvature), or fewer than ``min_residual_df`` residual degrees of freedom (a saturated fit,
    whose interval says nothing), is not tested, and ``why`` says which.

    Args:
        x: the swept property (hardness or diversity) a unit.
        y: the quality a unit.
        min_levels: distinct x values needed.
        min_residual_df: n - 3 needed.
        levels_of: each unit's level (its strategy in an ordered sweep, whose seeds' values differ a little); None:
            distinct x values are the levels.

    Returns:
        ``{"testable": False, "n", "levels", "why"}``, or ``{"testable": True, "n", "levels", "c", "c_ci", "p",
        "peak", "peak_inside", "sweet_spot"}`` (c on x standardised, so comparable across properties); either with
        ``"trend"`` (:func:`linear_trend`, H1's question: does quality rise with x across the sweep) where the
        units span 3 levels and leave 3 residual degrees of freedom to a line.

    Example:
        >>> x = np.arange(7.0)
        >>> fit = curvature(x, 1 - (x - 3) ** 2 / 10 + np.array([0, .01, -.01, 0, .01, -.01, 0]))
        >>> fit["sweet_spot"], round(fit["peak"], 1)
        (True, 3.0)
    """
    from scipy.stats import t

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    n = int(len(x))
    if levels_of is None:
        levels = int(len(np.unique(np.round(x, 9))))
    else:
        levels = len({level for level, kept in zip(levels_of, keep, strict=True) if kept})
    trend = {"trend": linear_trend(x, y)} if levels >= 3 and n - 2 >= min_residual_df else {}
    reasons = []
    if levels < min_levels:
        reasons.append(f"{levels} distinct levels (need {min_levels}): a quadratic passes through every level's mean, "
                       "so any bend reads as curvature and a peak cannot be told from a flattening")
    if n - 3 < min_residual_df:
        reasons.append(f"{n - 3} residual degrees of freedom (need {min_residual_df}): the fit would be (nearly) "
                       "saturated")
    if reasons:
        return {"testable": False, "n": n, "levels": levels, "why": "; ".join(reasons), **trend}
    centre, scale = x.mean(), x.std() or 1.0
    z = (x - centre) / scale
    design = np.column_stack([np.ones_like(z), z, z * z])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    sigma2 = float(residual @ residual) / (n - 3)
    se = float(np.sqrt(sigma2 * np.linalg.pinv(design.T @ design)[2, 2]))
    c = float(coef[2])
    p = float(2 * t.sf(abs(c) / se, n - 3)) if se > 0 else (0.0 if c else 1.0)
    half = float(t.ppf(0.975, n - 3) * se)
    peak = float(centre - scale * coef[1] / (2 * c)) if c else None
    inside = peak is not None and x.min() < peak < x.max()
    return {"testable": True, "n": n, "levels": levels, "c": c, "c_ci": [c - half, c + half], "p": p,
            "peak": peak, "peak_inside": bool(inside), "sweet_spot": bool(c < 0 and p < ALPHA and inside),
            **trend}  # fmt: skip


def linear_trend(x, y) -> dict:
    """The straight line ``y = a + b·z`` over the units, ``z`` the standardised x: the slope b (quality per standard
    deviation of x), its 95% interval and two-sided t-test p (n - 2 degrees of freedom). Across an ordered sweep it
    asks H1's question, whether quality rises (or falls) with the property, where the curvature test asks whether
    it turns.

    Args:
        x: the swept property a unit (no NaN).
        y: the quality a unit.

    Returns:
        ``{"slope", "slope_ci", "p", "n"}``.

    Example:
        >>> fit = linear_trend([1, 2, 3, 4, 5], [0.70, 0.71, 0.73, 0.72, 0.75])
        >>> round(fit["slope"], 4), round(fit["p"], 3)
        (0.0156, 0.035)
    """
    from scipy.stats import linregress, t

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    z = (x - x.mean()) / (x.std() or 1.0)
    fit = linregress(z, y)
    half = float(t.ppf(0.975, len(x) - 2) * fit.stderr)
    return {"slope": float(fit.slope), "slope_ci": [float(fit.slope) - half, float(fit.slope) + half],
            "p": float(fit.pvalue), "n": int(len(x))}  # fmt: skip


def correlation(x, y, n_boot: int = 2000, seed: int = 0, level: float = 0.95, per_query=None) -> dict:
    """Spearman and Kendall correlations of ``x`` with ``y``, their p-values (Spearman's exact over every ordering
    below 10 points, where its t approximation fails), and percentile bootstrap intervals
    of Spearman's rho: resampling the (x, y) pairs and, when ``per_query`` is given (one row of per-query scores a
    point, whose mean is ``y``), the queries too, each draw recomputing every point's ``y`` on the drawn queries
    (the two sources of noise in a retrieval study: which units, which queries). Pass independent units
    (:func:`unit_points`): runs that share their negatives are one.

    Example:
        >>> c = correlation([1, 2, 3, 4, 5], [2, 4, 5, 4, 6])
        >>> round(c["spearman"], 3), round(c["kendall"], 3)
        (0.821, 0.738)
    """
    from scipy.stats import kendalltau, spearmanr

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    queries = None if per_query is None else np.asarray(per_query, dtype=np.float64)[keep]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"n": int(len(x)), "spearman": None, "spearman_p": None, "kendall": None, "kendall_p": None,
                "ci_low": None, "ci_high": None}  # fmt: skip
    rho, rho_p = spearmanr(x, y)
    if len(x) < 10:  # the t approximation behind spearmanr's p fails for few runs (n = 3, rho = 1 gives p = 0)
        from scipy.stats import permutation_test

        rho_p = permutation_test((x,), lambda xs: spearmanr(xs, y)[0], permutation_type="pairings",
                                 n_resamples=np.inf).pvalue  # exact: every ordering of at most 9 runs
    tau, tau_p = kendalltau(x, y)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        i = rng.integers(0, len(x), len(x))
        yi = y[i] if queries is None else queries[i][:, rng.integers(0, queries.shape[1], queries.shape[1])].mean(1)
        if np.ptp(x[i]) > 0 and np.ptp(yi) > 0:
            draws.append(spearmanr(x[i], yi)[0])
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2]) if draws else (np.nan, np.nan)
    return {"n": int(len(x)), "spearman": float(rho), "spearman_p": float(rho_p), "kendall": float(tau),
            "kendall_p": float(tau_p), "ci_low": float(low), "ci_high": float(high),
            "resampled": "units" if queries is None else "units and queries"}  # fmt: skip


def leave_one_group_out(x, y, groups) -> dict:
    """Spearman's rho of ``x`` with ``y`` recomputed with each group's points left out (a jackknife over strategies):
    a correlation that one strategy carries (its seeds at one extreme of both axes) shows a wide range and names it.

    Args:
        x, y: one value a point (NaN in ``x`` is left out).
        groups: each point's group (its strategy).

    Returns:
        ``{"low", "high", "most_influential", "rho_without"}``: the smallest and largest rho over the left-out groups,
        the group whose removal moves rho furthest from the full rho, and rho without it (None with fewer than 3
        groups).

    Example:
        >>> r = leave_one_group_out([1, 2, 3, 4, 9, 10], [4, 3, 2, 1, 9, 10], ["a", "a", "b", "b", "c", "c"])
        >>> r["most_influential"], round(r["rho_without"], 3), round(r["high"], 3)  # full rho 0.429: c carries it
        ('c', -1.0, 0.8)
    """
    from scipy.stats import spearmanr

    x, y, groups = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), np.asarray(groups, dtype=object)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y, groups = x[keep], y[keep], groups[keep]
    names = list(dict.fromkeys(groups))
    if len(names) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"low": None, "high": None, "most_influential": None, "rho_without": None}
    full = spearmanr(x, y)[0]
    without = {}
    for name in names:
        rest = groups != name
        if rest.sum() >= 3 and np.ptp(x[rest]) > 0 and np.ptp(y[rest]) > 0:
            without[name] = float(spearmanr(x[rest], y[rest])[0])
    if not without:
        return {"low": None, "high": None, "most_influential": None, "rho_without": None}
    most = max(without, key=lambda name: abs(without[name] - full))
    return {"low": min(without.values()), "high": max(without.values()), "most_influential": str(most),
            "rho_without": without[most]}  # fmt: skip


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
    with R² and percentile bootstrap intervals of each coefficient (resampling the points given: pass independent
    units). The c·H·D term says whether one property's effect depends on the other; it cannot show a sweet spot (that
    is :func:`curvature`). With fewer than 7 points (3 residual degrees of freedom) the fit is nearly saturated and
    is not made: ``{"testable": False, ...}``.

    Example:
        >>> h, d = np.array([0, 1, 0, 1, 2.0, 3, 1]), np.array([0, 0, 1, 1, 2.0, 1, 3])
        >>> fit = interaction_fit(h, d, 1 + h + 2 * d + 0.5 * h * d, n_boot=10)
        >>> round(fit["r2"], 6)
        1.0
    """
    h, d, q = (np.asarray(v, dtype=np.float64) for v in (hardness, diversity, quality))
    keep = ~(np.isnan(h) | np.isnan(d) | np.isnan(q))
    h, d, q = h[keep], d[keep], q[keep]
    if len(q) - 4 < 3:
        return {"testable": False, "n": int(len(q)),
                "why": f"{len(q)} points for 4 coefficients: {len(q) - 4} residual degrees of freedom (need 3)"}
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
    return {"testable": True, "n": int(len(q)), "r2": r2,
            **{f"{n}": float(c) for n, c in zip(names, coef, strict=True)},
            **{f"{n}_ci": [float(lo), float(hi)] for n, lo, hi in zip(names, low, high, strict=True)}}  # fmt: skip


def paired_comparison(system: dict[int, float], baseline: dict[int, float]) -> dict:
    """A strategy against the baseline on the seeds both ran: per-seed differences, their mean and sd, a paired
    t-test with the t 95% interval of the mean difference, a two-sided sign test (with n seeds its smallest p is
    2 / 2**n: 0.0625 at 5 seeds, so it alone never reaches 0.05 below 6 seeds), and the :func:`verdict` of this one
    comparison. Several comparisons are one family: use :func:`compare_family`, whose verdict reads the Holm p.

    The unit is the training seed: where both strategies' negatives are deterministic, every seed trains on the same
    two mined sets, so the test measures training noise for those sets, not mining noise.

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
    mean = float(diffs.mean()) if len(diffs) else None
    return {"seeds": len(seeds), "diffs": [round(float(d), 4) for d in diffs], "mean_diff": mean,
            "sd_diff": float(diffs.std(ddof=1)) if len(diffs) > 1 else None, "ci95_diff": ci,
            "wins": wins, "losses": losses,
            "p_paired_t": t_p, "p_sign": sign_p, "verdict": verdict(t_p, mean)}  # fmt: skip


def paired_queries(system: dict[int, dict[str, float]], baseline: dict[int, dict[str, float]],
                   n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> dict:  # fmt: skip
    """A strategy against a baseline over queries: each query's score averaged over the seeds both ran, the mean
    per-query difference, its percentile bootstrap interval over queries (``scipy.stats.bootstrap``) and the
    two-sided p-value of a paired randomization (sign-flip) test over queries (``scipy.stats.permutation_test``),
    the test Smucker et al. recommend for IR. It measures query-sampling noise with the seeds averaged; the seed
    test (:func:`paired_comparison`) measures seed noise: read both.

    Args:
        system, baseline: seed -> {query id -> nDCG@10}.
        n_resamples: bootstrap and permutation draws.
        seed: their random seed.
        level: the interval's level.

    Returns:
        ``{queries, seeds, mean_diff, ci, p_randomization}`` (None values when no seed or query is shared).

    Example:
        >>> a = {1: {"q1": 1.0, "q2": 0.5, "q3": 1.0}}
        >>> b = {1: {"q1": 0.5, "q2": 0.5, "q3": 0.5}}
        >>> round(paired_queries(a, b)["mean_diff"], 4)
        0.3333

    Reference:
        Smucker, Allan & Carterette, "A Comparison of Statistical Significance Tests for Information Retrieval
        Evaluation", CIKM 2007.
    """
    from scipy.stats import bootstrap, permutation_test

    seeds = sorted(set(system) & set(baseline))
    queries = sorted(set.intersection(*(set(system[s]) & set(baseline[s]) for s in seeds))) if seeds else []
    if len(queries) < 2:
        return {"queries": len(queries), "seeds": len(seeds), "mean_diff": None, "ci": None, "p_randomization": None}
    a = np.array([[system[s][q] for q in queries] for s in seeds]).mean(0)
    b = np.array([[baseline[s][q] for q in queries] for s in seeds]).mean(0)
    diff = a - b
    if np.ptp(diff) == 0:
        return {"queries": len(queries), "seeds": len(seeds), "mean_diff": float(diff.mean()), "ci": None,
                "p_randomization": None}  # fmt: skip
    interval = bootstrap((diff,), np.mean, n_resamples=n_resamples, confidence_level=level, method="percentile",
                         random_state=seed).confidence_interval  # fmt: skip
    test = permutation_test((a, b), lambda u, v: np.mean(u - v), permutation_type="samples",
                            n_resamples=n_resamples, random_state=seed)  # fmt: skip
    return {"queries": len(queries), "seeds": len(seeds), "mean_diff": float(diff.mean()),
            "ci": [float(interval.low), float(interval.high)], "p_randomization": float(test.pvalue)}  # fmt: skip

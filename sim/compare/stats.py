"""Paired statistics of strategies against a baseline.

For a KPI x and replications r = 1..n run with the same seeds, the paired
differences d_r = x_strategy,r - x_baseline,r give the mean difference, its 95%
t-interval, a two-sided paired t-test p-value, and the probability that the
strategy beats the baseline, P(mean difference > 0) under a flat prior (the
t-posterior of the mean). Relative differences divide by the baseline mean,
treated as known. The unpaired (Welch) interval of the same runs shows what
pairing by common random numbers gained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Paired:
    n: int
    base_mean: float
    mean: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    prob_beats: float
    unpaired_halfwidth: float

    @property
    def halfwidth(self) -> float:
        return (self.ci_high - self.ci_low) / 2.0

    @property
    def relative(self) -> tuple[float, float, float]:
        """Difference and its CI relative to the baseline mean (nan when the baseline mean is 0)."""
        b = abs(self.base_mean)
        if b == 0:
            return (np.nan, np.nan, np.nan)
        return self.diff / b, self.ci_low / b, self.ci_high / b


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-interval of a sample (the interval collapses to the mean for n < 2)."""
    x = np.asarray(x, dtype=float)
    m = float(np.mean(x))
    if x.size < 2:
        return m, m, m
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * np.std(x, ddof=1) / np.sqrt(x.size))
    return m, m - half, m + half


def paired(strategy: np.ndarray, baseline: np.ndarray, level: float = 0.95) -> Paired:
    """Paired comparison of two samples aligned by replication."""
    a, b = np.asarray(strategy, dtype=float), np.asarray(baseline, dtype=float)
    d = a - b
    n = d.size
    diff, lo, hi = mean_ci(d, level)
    if n < 2:
        return Paired(n, float(b.mean()), float(a.mean()), diff, lo, hi, np.nan, np.nan, np.nan)
    sd = float(np.std(d, ddof=1))
    se = sd / np.sqrt(n)
    if se == 0:
        p = 1.0 if diff == 0 else 0.0
        prob = 0.5 if diff == 0 else float(diff > 0)
    else:
        t = diff / se
        p = float(2 * stats.t.sf(abs(t), n - 1))
        prob = float(stats.t.cdf(t, n - 1))
    va, vb = np.var(a, ddof=1) / n, np.var(b, ddof=1) / n
    se_u = np.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va**2 / (n - 1) + vb**2 / (n - 1)) if va + vb > 0 else n - 1
    unpaired = float(stats.t.ppf(0.5 + level / 2, dof) * se_u) if se_u > 0 else 0.0
    return Paired(n, float(b.mean()), float(a.mean()), diff, lo, hi, p, prob, unpaired)


def significant_runs(p: np.ndarray, sign: np.ndarray, alpha: float = 0.05) -> list[tuple[int, int, int]]:
    """Maximal runs of consecutive periods with p < alpha and the same sign: (start, end, sign)."""
    out: list[tuple[int, int, int]] = []
    start = None
    for i in range(len(p) + 1):
        ok = i < len(p) and p[i] < alpha and sign[i] != 0
        if ok and start is not None and sign[i] == sign[start]:
            continue
        if start is not None:
            out.append((start, i - 1, int(sign[start])))
            start = None
        if ok:
            start = i
    return out

"""Paired statistics of strategies against a baseline.

For a KPI x and replications r = 1..n run with the same seeds, the paired
differences d_r = x_strategy,r - x_baseline,r give the mean difference, its 95%
t-interval, a two-sided paired t-test p-value, and the probability that the
strategy beats the baseline, P(mean difference > 0) under a flat prior (the
t-posterior of the mean), given from ``MIN_REPLICATIONS_PROB`` replications on.
Relative differences divide by the baseline mean, treated as known. The unpaired
(Welch) interval of the same runs shows what pairing by common random numbers
gained. A strategy's own mean gets a t-interval cut to the values the KPI can
take. Incremental ROI, a ratio of two paired mean differences, gets Fieller's
interval. With one replication there is no interval, p-value or probability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.core.mathutil import t_interval

#: Fewer replications than this: no P(better). Its t-posterior would rest on at most 3 degrees of
#: freedom, where one run moves it from 60% to ">99%"; the difference, its interval and p-value stay.
MIN_REPLICATIONS_PROB = 5

UNBOUNDED = (-math.inf, math.inf)


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


def mean_ci(x: np.ndarray, level: float = 0.95, support: tuple[float, float] = UNBOUNDED) -> tuple[float, float, float]:
    """Mean and t-interval of a sample, cut to ``support``; no interval (NaN) below two values."""
    mean, _, lo, hi = t_interval(x, level, support)
    return mean, lo, hi


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
    if n < MIN_REPLICATIONS_PROB:
        prob = np.nan
    va, vb = np.var(a, ddof=1) / n, np.var(b, ddof=1) / n
    se_u = np.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va**2 / (n - 1) + vb**2 / (n - 1)) if va + vb > 0 else n - 1
    unpaired = float(stats.t.ppf(0.5 + level / 2, dof) * se_u) if se_u > 0 else 0.0
    return Paired(n, float(b.mean()), float(a.mean()), diff, lo, hi, p, prob, unpaired)


@dataclass(frozen=True)
class Ratio:
    """Incremental ROI: mean paired profit difference over mean paired spend difference."""

    n: int
    d_profit: float
    d_spend: float
    value: float  # NaN when the spend difference is about 0
    ci_low: float  # -inf / +inf when the spend difference is not distinguishable from 0
    ci_high: float

    @property
    def defined(self) -> bool:
        return math.isfinite(self.value)

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)


#: A spend difference within this share of the baseline's spend (or 1 CNY) is "about the same spend".
SAME_SPEND = 1e-3


def incremental_ratio(d_profit: np.ndarray, d_spend: np.ndarray, base_spend: float, level: float = 0.95) -> Ratio:
    """Δprofit / Δspend of paired differences, with Fieller's interval for a ratio of means.

    Undefined (NaN) when the mean spend difference is within ``SAME_SPEND`` of the
    baseline's spend; the interval is unbounded when the spend difference's own
    interval reaches 0 (a ratio over something that may be 0 can be anything).
    """
    p, c = np.asarray(d_profit, dtype=float), np.asarray(d_spend, dtype=float)
    n = p.size
    a, b = float(p.mean()), float(c.mean())
    if abs(b) <= max(1.0, SAME_SPEND * abs(base_spend)):
        return Ratio(n, a, b, np.nan, np.nan, np.nan)
    value = a / b
    if n < 2:
        return Ratio(n, a, b, value, np.nan, np.nan)
    t2 = float(stats.t.ppf(0.5 + level / 2, n - 1)) ** 2
    cov = np.cov(p, c, ddof=1) / n
    v11, v12, v22 = float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])
    lead = b * b - t2 * v22
    if lead <= 0:
        return Ratio(n, a, b, value, -math.inf, math.inf)
    mid = a * b - t2 * v12
    root = math.sqrt(max(mid * mid - lead * (a * a - t2 * v11), 0.0))
    return Ratio(n, a, b, value, (mid - root) / lead, (mid + root) / lead)


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

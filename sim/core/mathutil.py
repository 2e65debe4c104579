"""Small numeric helpers shared by the mechanisms and the analyses: log-odds, rounding, intervals."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np


def logit(p: float) -> float:
    """Log-odds of a probability in (0, 1)."""
    return math.log(p / (1.0 - p))


def logistic(x: np.ndarray) -> np.ndarray:
    """Probability from log-odds, in [0, 1], without overflow warnings."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def stochastic_round(x: float, u: float) -> int:
    """Round ``x`` down or up so that the expectation is ``x``."""
    base = math.floor(x)
    return int(base + (u < x - base))


def t_interval(
    values: np.ndarray, conf: float, support: tuple[float, float] = (-math.inf, math.inf)
) -> tuple[float, float, float, float]:
    """Mean, standard deviation and the t confidence interval of the mean (NaN below two values).

    The interval is cut to ``support``, the values the quantity can take (a count's mean
    is never below 0): the true mean lies inside the support, so cutting never removes
    it and the coverage is unchanged.
    """
    from scipy import stats

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (np.nan,) * 4
    mean = float(v.mean())
    if v.size < 2:
        return mean, np.nan, np.nan, np.nan
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + conf / 2, v.size - 1) * sd / np.sqrt(v.size))
    lo, hi = support
    return mean, sd, max(mean - half, lo), min(mean + half, hi)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """ROC AUC of ``scores`` for the boolean ``labels``: the chance that a random positive scores above a random
    negative, ties counting one half (Mann-Whitney U over both counts); None without both classes."""
    y = np.asarray(labels, dtype=bool)
    n_pos = int(np.count_nonzero(y))
    n_neg = y.size - n_pos
    if not n_pos or not n_neg:
        return None
    _, where, counts = np.unique(np.asarray(scores, dtype=np.float64), return_inverse=True, return_counts=True)
    top = np.cumsum(counts)
    rank = top - (counts - 1) / 2.0  # 1-based, ties take the mean of their ranks
    u = float(rank[where.ravel()][y].sum()) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


# AS241 (Wichura, Applied Statistics 37(3), 1988) as Python's ``statistics.NormalDist.inv_cdf`` evaluates
# it: the rational functions' numerator and denominator coefficients, highest power first.
_CENTRAL = (  # |p - 0.5| <= 0.425
    (2509.0809287301226727, 33430.575583588128105, 67265.770927008700853, 45921.953931549871457,
     13731.693765509461125, 1971.5909503065514427, 133.14166789178437745, 3.387132872796366608),
    (5226.495278852854561, 28729.085735721942674, 39307.89580009271061, 21213.794301586595867,
     5394.1960214247511077, 687.1870074920579083, 42.313330701600911252, 1.0),
)  # fmt: skip
_TAIL = (  # beyond, while sqrt(-log(min(p, 1 - p))) <= 5, i.e. p > 1.4e-11
    (7.7454501427834140764e-4, 0.0227238449892691845833, 0.24178072517745061177, 1.27045825245236838258,
     3.64784832476320460504, 5.7694972214606914055, 4.6303378461565452959, 1.42343711074968357734),
    (1.05075007164441684324e-9, 5.475938084995344946e-4, 0.015198666563616457197, 0.14810397642748007459,
     0.68976733498510000455, 1.6763848301838038494, 2.05319162663775882187, 1.0),
)  # fmt: skip
#: Up to this many probabilities, ``normal_quantile`` calls the standard library for each (fewer numpy calls).
SCALAR_UP_TO = 128
_NORMAL = NormalDist()


def normal_quantile(p: np.ndarray) -> np.ndarray:
    """The standard normal inverse CDF of probabilities in (0, 1), in float64, as
    ``statistics.NormalDist().inv_cdf`` gives it for each, without importing scipy (whose ``ndtri``
    differs from it by a few ulp at most).

    Short arrays go to the standard library element by element; longer ones are computed by numpy
    in the standard library's order of operations, so that the results are the same bits (checked on
    every argument the purchase phase can pass) whatever the length.
    """
    p = np.asarray(p, dtype=np.float64)
    if p.size <= SCALAR_UP_TO:
        return _scalar(p.ravel()).reshape(p.shape)
    q = p - 0.5
    z = _ratio(_CENTRAL, 0.180625 - q * q, q)
    tail = np.flatnonzero(np.abs(q) > 0.425)
    if tail.size:
        pt, qt = p[tail], q[tail]
        r = np.sqrt(-np.log(np.where(qt <= 0.0, pt, 1.0 - pt)))
        zt = _ratio(_TAIL, r - 1.6)
        np.negative(zt, out=zt, where=qt < 0.0)
        far = np.flatnonzero(r > 5.0)
        zt[far] = _scalar(pt[far])
        z[tail] = zt
    return z


def _ratio(c: tuple[tuple[float, ...], ...], r: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
    """Numerator (times ``times``) over denominator, each by Horner's rule, in the standard library's order."""
    num, den = (_horner(coefficients, r) for coefficients in c)
    if times is not None:
        num *= times
    num /= den
    return num


def _horner(coefficients: tuple[float, ...], r: np.ndarray) -> np.ndarray:
    y = coefficients[0] * r
    for c in coefficients[1:-1]:
        y += c
        y *= r
    y += coefficients[-1]
    return y


def _scalar(p: np.ndarray) -> np.ndarray:
    return np.fromiter(map(_NORMAL.inv_cdf, p.tolist()), np.float64, p.size)

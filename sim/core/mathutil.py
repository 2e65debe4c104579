"""Small numeric helpers shared by the mechanisms and the analyses: log-odds, rounding, intervals."""

from __future__ import annotations

import math

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

"""Small numeric helpers shared by the mechanisms."""

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

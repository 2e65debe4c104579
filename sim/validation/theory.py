"""Closed-form results the model should reproduce in its limits."""

from __future__ import annotations

import numpy as np


def bass_F(t: np.ndarray, p: float, q: float) -> np.ndarray:
    """Cumulative adoption share of the Bass model at time t (rates per unit of t)."""
    e = np.exp(-(p + q) * t)
    return (1.0 - e) / (1.0 + (q / p) * e)

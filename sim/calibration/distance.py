"""How far a simulated series is from the observed one.

The search minimizes, over the training periods,

    D = sum_k w_k * RMSE_k / |mean(observed_k)|

where RMSE_k is the root mean squared difference between the observed series of
target k and the mean of the simulated replications, and the denominator makes
targets on different scales (people, yuan) comparable. Periods where a target is
not observed (NaN) are left out of that target's terms. MAPE (percent) is reported
beside it; it skips periods whose observed value is 0.
"""

from __future__ import annotations

import math

import numpy as np

from sim.calibration import CalibrationError


def nrmse(observed: np.ndarray, simulated: np.ndarray, scale: float) -> float:
    """Root mean squared error over the observed periods, divided by ``scale``."""
    ok = ~np.isnan(observed)
    if not ok.any():
        return float("nan")
    return float(np.sqrt(np.mean((simulated[ok] - observed[ok]) ** 2)) / scale)


def mape(observed: np.ndarray, simulated: np.ndarray) -> float:
    """Mean absolute percentage error (percent) over periods with a nonzero observed value."""
    ok = ~np.isnan(observed) & (observed != 0)
    if not ok.any():
        return float("nan")
    return float(100.0 * np.mean(np.abs(simulated[ok] - observed[ok]) / np.abs(observed[ok])))


def scale_of(observed: np.ndarray, kpi: str, source: object = None) -> float:
    """The normalizer of a target: |mean| of its observed training values, which must not be 0."""
    where = f"{source}: " if source is not None else ""
    values = observed[~np.isnan(observed)]
    if values.size == 0:
        raise CalibrationError(f"{where}target {kpi} has no observed value in the training window")
    scale = abs(float(values.mean()))
    if scale == 0:
        raise CalibrationError(
            f"{where}target {kpi} is 0 on average in the training window: its normalized error is undefined; "
            "fit a KPI that is not 0 throughout, or move --train-until"
        )
    return scale


def distance(
    observed: dict[str, np.ndarray],
    simulated: dict[str, np.ndarray],
    weights: dict[str, float],
    scales: dict[str, float],
) -> float:
    """Weighted sum of the targets' normalized RMSE (``simulated`` = mean over replications)."""
    return float(math.fsum(w * nrmse(observed[k], simulated[k], scales[k]) for k, w in weights.items()))

"""A plain statistical baseline beside the simulator: BG/NBD (Fader, Hardie & Lee 2005) on the same log.

Fitted with lifetimes' ``BetaGeoFitter`` (an optional extra: ``pip install 'community-sim[clv]'``)
on the training window of a transaction log, in days: per customer, ``frequency`` = days with a
purchase - 1, ``recency`` = days from the first to the last such day, ``T`` = days from the first
purchase to the last training day. It forecasts ``repeat_purchases`` per period:

- training periods: sum over customers of E[X(t)], the expected repeat purchases by age t, between
  the ages at the period's bounds (the in-sample fit);
- holdout periods: the expected repeat purchases conditional on each customer's history
  (``conditional_expected_number_of_purchases_up_to_time``) between the period's bounds.

Customers whose first purchase falls in the holdout are not in the baseline's forecast (it only
knows the customers of the training window); the report says how many there are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.calibration import CalibrationError
from sim.calibration.observed import period_bounds

INSTALL_HINT = "the BG/NBD baseline needs lifetimes: pip install 'community-sim[clv]' (or pip install lifetimes)"


def rfm_at(tx: pd.DataFrame, split: int) -> pd.DataFrame:
    """frequency, recency, T (days) and first day of each customer with a purchase before day ``split``."""
    days = tx.loc[tx["day"] < split, ["customer_id", "day"]].drop_duplicates()
    g = days.groupby("customer_id")["day"]
    first, last, n = g.min(), g.max(), g.size()
    return pd.DataFrame({"frequency": n - 1, "recency": last - first, "T": (split - 1) - first, "first": first}).astype(
        float
    )


def bgnbd_forecast(tx: pd.DataFrame, problem: Any) -> dict[str, Any]:
    """BG/NBD's ``repeat_purchases`` per observed period, its parameters, and the customers it leaves out."""
    try:
        from lifetimes import BetaGeoFitter
    except ImportError:
        raise CalibrationError(INSTALL_HINT) from None
    split = problem.train_until if problem.train_until is not None else int(tx["day"].max()) + 1
    rfm = rfm_at(tx, split)
    if len(rfm) < 10 or rfm["frequency"].sum() == 0:
        raise CalibrationError("the training window holds too few repeat purchases to fit BG/NBD")
    model = None
    for penalty in (0.0, 0.001, 0.01, 0.1):  # lifetimes' advice when the fit does not converge
        try:
            model = BetaGeoFitter(penalizer_coef=penalty).fit(rfm["frequency"], rfm["recency"], rfm["T"])
            break
        except Exception:  # lifetimes' ConvergenceError and numerical failures alike
            continue
    if model is None:
        raise CalibrationError("BG/NBD did not converge on the training window, even with a penalizer")
    obs = problem.observed
    bounds = [period_bounds(int(p), obs.period, obs.start) for p in problem.periods]
    first = rfm["first"].to_numpy()

    def unconditional(day: int) -> float:  # repeat purchases by the end of day - 1, from birth
        age = np.clip(day - 1 - first, 0.0, None)
        return float(np.sum(model.expected_number_of_purchases_up_to_time(age)))

    f, r, t = (rfm[c].to_numpy() for c in ("frequency", "recency", "T"))

    def conditional(day: int) -> float:  # repeat purchases after the training window, up to day - 1
        horizon = max(day - split, 0)
        if horizon == 0:
            return 0.0
        return float(np.sum(model.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, t)))

    values = []
    for (a, b), window in zip(bounds, problem.windows, strict=True):
        if window == "train":
            values.append(unconditional(b) - unconditional(a))
        else:
            values.append(conditional(b) - conditional(max(a, split)))
    late = int((tx.groupby("customer_id")["day"].min() >= split).sum())
    params = {k: float(v) for k, v in model.params_.items()}
    return {"repeat_purchases": np.array(values), "params": params, "customers": len(rfm), "late_customers": late}

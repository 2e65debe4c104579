"""A plain statistical baseline beside the simulator, on the same log and training window.

Two models of lifetimes (an optional extra: ``pip install 'community-sim[clv]'``):

**BG/NBD** (Fader, Hardie & Lee 2005, ``BetaGeoFitter``) for purchases at any time, in days: per
customer, ``frequency`` = days with a purchase - 1, ``recency`` = days from the first to the last
such day, ``T`` = days from the first purchase to the last training day. It forecasts ``repeat_purchases`` per period:

- training periods: sum over customers of E[X(t)], the expected repeat purchases by age t, between
  the ages at the period's bounds (the in-sample fit);
- holdout periods: the expected repeat purchases conditional on each customer's history
  (``conditional_expected_number_of_purchases_up_to_time``) between the period's bounds.

**BG/BB** (Fader, Hardie & Shang 2010, ``BetaGeoBetaBinomFitter``) for discrete opportunities, each
observed period one chance to buy (a yearly donation, a weekly draw): per customer, ``n`` = training
periods after the one of the first purchase, ``frequency`` = those with a purchase, ``recency`` = the
last of them (0 if none). In training periods its line is the expected purchases at each customer's
opportunity t, ``alpha / (alpha + beta) * B(gamma, delta + t) / B(gamma, delta)``; in the holdout the
expectation conditional on each customer's history.

``auto`` chooses BG/BB when the log's purchases are discrete opportunities: weekly or monthly periods
in each of which all purchases fall on one date. Daily periods pass that test whatever the data, so
they keep BG/NBD (the usual reading of a daily log); ask for BG/BB with ``--baseline bgbb``.

Customers whose first purchase falls in the holdout are not in the baseline's forecast (it only
knows the customers of the training window); the report says how many there are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln

from sim.calibration import CalibrationError
from sim.calibration.observed import period_bounds, period_of

INSTALL_HINT = (
    "the BG/NBD and BG/BB baselines need lifetimes: pip install 'community-sim[clv]' (or pip install lifetimes)"
)


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


#: The baselines by name, and what each is called in reports.
MODELS = {"bgnbd": "BG/NBD", "bgbb": "BG/BB"}


def discrete_periods(tx: pd.DataFrame, problem: Any) -> bool:
    """True for weekly or monthly periods in each of which the log's purchases all fall on one date."""
    obs = problem.observed
    if obs.period == "day":
        return False
    period = period_of(tx["day"].to_numpy(), obs.period, obs.start)
    return bool((pd.Series(tx["day"].to_numpy()).groupby(period).nunique() <= 1).all())


def choose_model(tx: pd.DataFrame, problem: Any) -> str:
    """``bgbb`` for discrete opportunities (``discrete_periods``), else ``bgnbd``."""
    return "bgbb" if discrete_periods(tx, problem) else "bgnbd"


def forecast(model: str, tx: pd.DataFrame, problem: Any) -> dict[str, Any]:
    """The baseline ``model`` (``bgnbd`` or ``bgbb``) beside the fit, with its name under ``model``."""
    fc = (bgbb_forecast if model == "bgbb" else bgnbd_forecast)(tx, problem)
    return {**fc, "model": MODELS[model]}


def last_training_period(problem: Any) -> int:
    return int(problem.periods[problem.windows == "train"].max())


def opportunities_at(tx: pd.DataFrame, problem: Any) -> pd.DataFrame:
    """Per customer of the training window, in observed periods counted from the one of the first purchase:
    ``frequency``, ``recency``, ``n_periods`` (opportunities up to the last training period) and ``first``."""
    obs = problem.observed
    last_train = last_training_period(problem)
    p = period_of(tx["day"].to_numpy(), obs.period, obs.start)
    keep = p <= last_train
    seen = pd.DataFrame({"customer_id": tx["customer_id"].to_numpy()[keep], "p": p[keep]}).drop_duplicates()
    g = seen.groupby("customer_id")["p"]
    first, last, n = g.min(), g.max(), g.size()
    return pd.DataFrame({"frequency": n - 1, "recency": last - first, "n_periods": last_train - first, "first": first})


def bgbb_forecast(tx: pd.DataFrame, problem: Any) -> dict[str, Any]:
    """BG/BB's ``repeat_purchases`` per observed period, its parameters, and the customers it leaves out."""
    try:
        from lifetimes import BetaGeoBetaBinomFitter
    except ImportError:
        raise CalibrationError(INSTALL_HINT) from None
    opp = opportunities_at(tx, problem)
    cells = opp.groupby(["frequency", "recency", "n_periods"]).size().rename("weights").reset_index()
    cells = cells[cells["n_periods"] > 0]
    if cells["weights"].sum() < 10 or (cells["frequency"] * cells["weights"]).sum() == 0:
        raise CalibrationError("the training window holds too few repeat purchases to fit BG/BB")
    model = None
    for penalty in (0.0, 0.001, 0.01, 0.1):
        try:
            fitter = BetaGeoBetaBinomFitter(penalizer_coef=penalty)
            model = fitter.fit(cells["frequency"], cells["recency"], cells["n_periods"], weights=cells["weights"])
            break
        except Exception:  # lifetimes' ConvergenceError and numerical failures alike
            continue
    if model is None:
        raise CalibrationError("BG/BB did not converge on the training window, even with a penalizer")
    a, b, g, d = (float(model.params_[k]) for k in ("alpha", "beta", "gamma", "delta"))
    last_train = last_training_period(problem)
    first = opp["first"].to_numpy()
    f, r, n = (opp[c].to_numpy(dtype=float) for c in ("frequency", "recency", "n_periods"))

    def conditional(m: int) -> float:
        return 0.0 if m <= 0 else float(np.sum(model.conditional_expected_number_of_purchases_up_to_time(m, f, r, n)))

    values = []
    for k, window in zip(problem.periods.astype(int), problem.windows, strict=True):
        if window == "train":
            t = k - first
            alive = np.exp(betaln(g, d + t[t >= 1]) - betaln(g, d))
            values.append(a / (a + b) * float(alive.sum()))
        else:
            values.append(conditional(k - last_train) - conditional(k - last_train - 1))
    late = int(tx["customer_id"].nunique() - len(opp))  # first purchase after the training window
    params = {"alpha": a, "beta": b, "gamma": g, "delta": d}
    return {"repeat_purchases": np.array(values), "params": params, "customers": len(opp), "late_customers": late}

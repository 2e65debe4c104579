"""Forecasts with bands, and the holdout scored as customer-lifetime-value models are scored.

The predictive distribution mixes the two uncertainties: each of M parameter sets drawn from
the fit's Gaussian (``uncertainty.Posterior.draws``) is run once with a seed of its own, so the
spread of the M series holds both what the data leave open about the keys and the simulation's
own noise. Per period: the median and the 25/75% and 5/95% quantiles (the 50% and 90% bands).

Holdout scores per target (``holdout_scores``), with the median as the point forecast:
- ``mape_percent``: mean over holdout periods of |forecast - observed| / observed;
- ``cumulative_mape_percent``: the same on the running totals from the holdout's first period
  (the tracking curve CLV papers plot), flows only;
- ``total_error_percent``: (forecast total - observed total) / observed total over the holdout,
  flows only; the signed error of the number a planner would quote;
- ``coverage_50`` / ``coverage_90``: share of holdout periods whose observed value lies in the band.
A baseline's forecast (BG/NBD) gets the same point scores.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.calibration.distance import mape
from sim.calibration.observed import is_flow

QUANTILES = {"pred_p05": 0.05, "pred_p25": 0.25, "pred_median": 0.5, "pred_p75": 0.75, "pred_p95": 0.95}


def bands(runs: np.ndarray) -> dict[str, np.ndarray]:
    """The predictive quantiles per period of ``runs`` (draws x periods)."""
    return {name: np.quantile(runs, q, axis=0) for name, q in QUANTILES.items()}


def point_scores(observed: np.ndarray, forecast: np.ndarray, flow: bool) -> dict[str, float | None]:
    """Per-period MAPE, cumulative MAPE and total error (percent) of ``forecast`` against ``observed``."""
    ok = ~np.isnan(observed)
    o, f = observed[ok], forecast[ok]
    out: dict[str, float | None] = {"mape_percent": _finite(mape(o, f))}
    if flow and o.size:
        out["cumulative_mape_percent"] = _finite(mape(np.cumsum(o), np.cumsum(f)))
        total = float(o.sum())
        out["total_error_percent"] = _finite(100.0 * (float(f.sum()) - total) / total) if total else None
        out["observed_total"], out["forecast_total"] = round(total, 6), round(float(f.sum()), 6)
    return out


def holdout_scores(fit: pd.DataFrame) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{kpi: {"simulator": scores, "baseline": scores}}`` on the holdout rows of ``fit.csv``."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for kpi, rows in fit[fit["window"] == "holdout"].groupby("kpi", sort=False):
        o = rows["observed"].to_numpy(dtype=float)
        seen = ~np.isnan(o)
        sim = point_scores(o, rows["pred_median"].to_numpy(dtype=float), is_flow(str(kpi)))
        for name, lo, hi in (("coverage_50", "pred_p25", "pred_p75"), ("coverage_90", "pred_p05", "pred_p95")):
            inside = (rows[lo].to_numpy() <= o) & (o <= rows[hi].to_numpy())
            sim[name] = round(float(inside[seen].mean()), 4) if seen.any() else None
        sim["periods"] = int(seen.sum())
        out[str(kpi)] = {"simulator": sim}
        if "baseline" in rows and rows["baseline"].notna().any():
            out[str(kpi)]["baseline"] = point_scores(o, rows["baseline"].to_numpy(dtype=float), is_flow(str(kpi)))
    return out


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)

"""What a calibration writes: fit.csv, fit.png, metrics.json and calibrated.yaml.

``calibrated.yaml`` is standalone: the fully resolved input scenario with the fitted
values written in, so it keeps working when the calibration directory is moved or
the input file changes (an ``extends:`` path would not). Its header names the
input, the observed file and the fitted values.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.calibration.distance import mape, nrmse
from sim.calibration.forecast import QUANTILES, bands, holdout_scores
from sim.calibration.observed import is_flow, period_bounds
from sim.calibration.params import with_values
from sim.calibration.search import Problem, Trial
from sim.config import fields
from sim.config.loader import scenario_from_mapping, scenario_to_yaml
from sim.plots import fonts

OBSERVED_COLOR, SIM_COLOR, BASELINE_COLOR = "#000000", "#0072B2", "#D55E00"
FIT_COLUMNS = (
    "period",
    "start_day",
    "date",
    "kpi",
    "observed",
    "sim_mean",
    "sim_p05",
    "sim_p95",
    *QUANTILES,
    "baseline",
    "window",
)

_MONEY = ("gmv", "revenue", "gross_margin", "profit", "aov", "points_liability", "incentive_cost_per_buyer")
_SHARES = (
    "active_share",
    "dau_mau",
    "repurchase_rate",
    "monthly_repurchase_rate",
    "referral_conversion",
    "conversion",
    "ugc_share",
    "tier_share",
    "negative_share",
    "at_risk_share",
)


def unit(kpi: str) -> str:
    """The unit of a KPI for axis labels (docs/metrics.md)."""
    if kpi in _MONEY or kpi.startswith(("cost_", "line_", "cum_")):
        return "yuan"
    if kpi in _SHARES or kpi.endswith(("_rate", "_share")):
        return "share 0-1"
    if kpi.endswith("_mean"):
        return "0-1"
    if kpi == "nps":
        return "points"
    ratios = ("roi", "k_factor", "k_factor_referral", "interactions_per_active")
    if kpi in (*ratios, "monthly_growth", "activity_change", "interaction_growth"):
        return "ratio"
    if kpi in ("purchases", "repeat_purchases", "live_purchases", "redemptions"):
        return "purchases"
    if kpi.startswith("new_") or kpi in (
        "members",
        "prospects",
        "churned",
        "churned_total",
        "ever_joined",
        "dau",
        "mau",
        "buyers",
    ):
        return "people"
    return "count"


def axis_label(kpi: str, period: str, stocks: str) -> str:
    """``purchases per week`` for flows; ``members, mean of the week's days`` for the rest."""
    if is_flow(kpi):
        return f"{unit(kpi)} per {period}"
    if period == "day":
        return unit(kpi)
    return f"{unit(kpi)}, {period}ly mean" if stocks == "mean" else f"{unit(kpi)}, end of {period}"


def fit_frame(
    problem: Problem,
    sims: dict[str, np.ndarray],
    predictive: dict[str, np.ndarray] | None = None,
    baseline: np.ndarray | None = None,
) -> pd.DataFrame:
    """Observed vs simulated, one row per target and period: the mean and 5-95% quantiles of the replications
    at the calibrated values, the forecast's median and bands over ``predictive`` runs (default: the replications),
    and the baseline's forecast of ``repeat_purchases`` (empty for other targets or without one)."""
    predictive = sims if predictive is None else predictive
    obs, start, period = problem.observed, problem.observed.start, problem.observed.period
    first = [period_bounds(int(p), period, start)[0] for p in problem.periods]
    frames = []
    for t in problem.targets:
        runs = sims[t.kpi]
        frames.append(
            pd.DataFrame(
                {
                    "period": problem.periods.astype(int),
                    "start_day": first,
                    "date": [(pd.Timestamp(start) + pd.Timedelta(days=d)).date().isoformat() for d in first],
                    "kpi": t.kpi,
                    "observed": obs.table[t.kpi].to_numpy(dtype=float),
                    "sim_mean": runs.mean(axis=0),
                    "sim_p05": np.quantile(runs, 0.05, axis=0),
                    "sim_p95": np.quantile(runs, 0.95, axis=0),
                    **bands(predictive[t.kpi]),
                    "baseline": baseline if baseline is not None and t.kpi == "repeat_purchases" else np.nan,
                    "window": problem.windows,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[list(FIT_COLUMNS)]


def error_metrics(fit: pd.DataFrame) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """MAPE (percent) and RMSE / |mean observed| of each target in each window (normalized within the window)."""
    out: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for kpi, rows in fit.groupby("kpi", sort=False):
        out[str(kpi)] = {}
        for window, part in rows.groupby("window", sort=False):
            o, s = part["observed"].to_numpy(dtype=float), part["sim_mean"].to_numpy(dtype=float)
            seen = o[~np.isnan(o)]
            scale = abs(float(seen.mean())) if seen.size else 0.0
            out[str(kpi)][str(window)] = {
                "mape_percent": _finite(mape(o, s)),
                "nrmse": _finite(nrmse(o, s, scale)) if scale else None,
                "periods": int(seen.size),
            }
    return out


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


def calibrated_yaml(
    problem: Problem,
    values: dict[str, float],
    name: str,
    note: list[str],
    intervals: dict[str, tuple[float, float]] | None = None,
) -> str:
    """The input scenario with the fitted values, standalone, with a header saying where it came from
    (and each value's 90% interval when there is one)."""
    data = with_values(problem.base, problem.params, values)
    data["name"] = name
    data["description"] = calibrated_description(problem, data["days"])
    text = scenario_to_yaml(scenario_from_mapping(data, "calibrated scenario"))
    intervals = intervals or {}

    def where(p) -> str:
        lo_hi = intervals.get(p.path)
        band = f"90% interval {lo_hi[0]:.4g} to {lo_hi[1]:.4g}; " if lo_hi else ""
        return f"({band}searched {p.low:g} to {p.high:g})"

    fitted = [f"#   {p.path}: {fields.fmt_number(values[p.path])}  {where(p)}" for p in problem.params]
    header = ["# Calibrated scenario written by `community-sim calibrate`.", *(f"# {line}" for line in note)]
    header += [
        "# Fitted values:",
        *fitted,
        "# Standalone: every key is written out; it does not read the input file.",
        "",
    ]
    return "\n".join(header) + text


def calibrated_description(problem: Problem, days: int) -> str:
    """calibrated.yaml's description: the input's may state other days (``--set days``) or a fitted key's old
    value, so it says what was fitted to what and the days the file runs."""
    source = problem.observed.path.name if problem.observed.path is not None else "observed data"
    keys = ", ".join(p.path for p in problem.params)
    return f"The {problem.base['name']} scenario with {keys} calibrated against {source}, for {days:,} days."


def plot_fit(
    fit: pd.DataFrame, problem: Problem, path: Path, title: str, bands_from: str = "", baseline_name: str = "BG/NBD"
) -> None:
    """One panel per target: observed points, the forecast's median with its 50% and 90% bands, the baseline
    when there is one, the train/holdout split, and the scores of each window."""
    obs = problem.observed
    targets = problem.targets
    fonts.use()
    fig = Figure(figsize=(9.0, 1.6 + 2.8 * len(targets)), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(targets), 1, sharex=True, squeeze=False)[:, 0]
    errors, scores = error_metrics(fit), holdout_scores(fit)
    handles: dict[str, Any] = {}
    for ax, t in zip(axes, targets, strict=True):
        rows = fit[fit["kpi"] == t.kpi]
        x = [_middle(int(p), obs.period, obs.start) for p in rows["period"]]
        handles["90% band"] = ax.fill_between(x, rows["pred_p05"], rows["pred_p95"], color=SIM_COLOR, alpha=0.15, lw=0)
        handles["50% band"] = ax.fill_between(x, rows["pred_p25"], rows["pred_p75"], color=SIM_COLOR, alpha=0.3, lw=0)
        (handles["simulated median"],) = ax.plot(x, rows["pred_median"], color=SIM_COLOR, lw=2)
        if rows["baseline"].notna().any():
            (handles["baseline"],) = ax.plot(x, rows["baseline"], color=BASELINE_COLOR, lw=1.6, ls="--")
        (handles["observed"],) = ax.plot(x, rows["observed"], color=OBSERVED_COLOR, marker="o", ms=3.5, lw=0.8)
        ax.set_ylabel(axis_label(t.kpi, obs.period, obs.stocks))
        ax.yaxis.set_major_formatter(FuncFormatter(_num))
        text = _mape_text({w: e for w, e in errors.get(t.kpi, {}).items() if w == "train"})
        held = scores.get(t.kpi, {}).get("simulator", {})
        if held.get("mape_percent") is not None:  # the forecast's median, as the holdout is scored
            text += f", holdout MAPE {held['mape_percent']:.1f}% (forecast median)"
        if held.get("coverage_90") is not None:
            text += f", 90% band holds {held['coverage_90']:.0%} of it"
        ax.set_title(f"{t.kpi} (weight {t.weight:g})\n{text}", loc="left", fontsize=10)
        ax.grid(alpha=0.3)
        if problem.train_until is not None and (problem.windows == "holdout").any():
            split = pd.Timestamp(obs.start) + pd.Timedelta(days=problem.train_until)
            ax.axvline(split, color="#555555", ls="--", lw=1)
            for label, ha in (("\u2190 training  ", "right"), ("  holdout \u2192", "left")):
                ax.text(split, 0.97, label, transform=ax.get_xaxis_transform(), va="top", ha=ha, fontsize=8)
    keys = [k for k in ("observed", "simulated median", "50% band", "90% band", "baseline") if k in handles]
    labels = [f"{baseline_name} baseline" if k == "baseline" else k for k in keys]
    fig.legend(
        [handles[k] for k in keys], labels, loc="outside lower center", ncol=len(labels), fontsize=9, frameon=False
    )
    locator = AutoDateLocator()
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))
    where = f"middle of each {obs.period}" if obs.period != "day" else "day"
    label = f"date ({where}; run day 0 = {obs.start.isoformat()})"
    axes[-1].set_xlabel(f"{label}\nbands: {bands_from}" if bands_from else label)
    fig.suptitle(title, fontsize=11)
    fig.savefig(path)


def _middle(p: int, period: str, start: Any) -> pd.Timestamp:
    first, end = period_bounds(p, period, start)
    return pd.Timestamp(start) + pd.Timedelta(days=first + (end - 1 - first) / 2)


def _mape_text(errors: dict[str, dict[str, Any]]) -> str:
    parts = []
    for window, label in (("train", "training"), ("holdout", "holdout")):
        value = errors.get(window, {}).get("mape_percent")
        if window in errors:
            shown = f"{value:.1f}% (replications' mean)" if value is not None else "n/a"
            parts.append(f"{label} MAPE {shown}")
    return ", ".join(parts)


def _num(x: float, _pos: int | None = None) -> str:
    if abs(x) < 1e-12:
        return "0"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.3f}".rstrip("0").rstrip(".")


def metrics_json(problem: Problem, trials: list[Trial], best: Trial, fit: pd.DataFrame, meta: dict[str, Any]) -> str:
    """metrics.json: errors per target and window, best parameters, every trial, the seeds."""
    doc = {
        **meta,
        "period": problem.observed.period,
        "observed_rows": problem.observed.granularity,
        "stocks": problem.observed.stocks,
        "train_until": problem.train_until,
        "simulated_days": problem.observed.horizon,
        "targets": [{"kpi": t.kpi, "weight": t.weight} for t in problem.targets],
        "fit": [
            {"path": p.path, "low": p.low, "high": p.high, "integer": p.integer, "log": p.log} for p in problem.params
        ],
        "best": {"trial": best.number, "params": best.values, "distance_train": _finite(best.distance)},
        "distance": distances(fit, problem),
        "errors": error_metrics(fit),
        "errors_of": "sim_mean: the mean of the replications at the calibrated values (fit.csv sim_mean)",
        "holdout_of": "pred_median: the forecast's median (fit.csv pred_median), as fit.png and the console report it",
        "replications": len(problem.seeds),
        "seeds": problem.seeds,
        "trials": [
            {"number": t.number, "params": t.values, "distance": _finite(t.distance), "pruned": t.pruned}
            for t in trials
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def distances(fit: pd.DataFrame, problem: Problem) -> dict[str, float | None]:
    """The search's distance at the calibrated values (``fit``'s replications' mean) in each window there is:
    metrics.json ``distance``, and the console's distance at the values written to calibrated.yaml."""
    return {w: _finite(_window_distance(fit, problem, w)) for w in ("train", "holdout") if (problem.windows == w).any()}


def _window_distance(fit: pd.DataFrame, problem: Problem, window: str) -> float:
    """The search's distance (normalized by the training means) evaluated on ``window``."""
    total = 0.0
    for t in problem.targets:
        rows = fit[(fit["kpi"] == t.kpi) & (fit["window"] == window)]
        o, s = rows["observed"].to_numpy(dtype=float), rows["sim_mean"].to_numpy(dtype=float)
        total += t.weight * nrmse(o, s, problem.scales[t.kpi])
    return total

"""Figures of an optimization: the front with intervals, convergence, and lever importance.

Drawn with the run plots' building blocks (``sim.plots.base``): own Agg canvas,
legends above the axes, thousands separators.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from sim.compare.stats import mean_ci
from sim.experiment.kpis import column_support
from sim.optimize.resolve import Resolved
from sim.optimize.results import COST, OBJECTIVE, PROFIT, objective_name, sense
from sim.plots.base import _fixed_margins, _legend_above, _new_figure, _num, _save, _title

FEASIBLE, INFEASIBLE, BEST, VERIFIED = "#1f77b4", "#bbbbbb", "#d62728", "#2ca02c"


def _ci(values: np.ndarray, column: str) -> tuple[float, float, float]:
    """Mean and the distances to its 95% interval's ends, cut to the values the KPI can take."""
    support = column_support(column) if "." in column else (-np.inf, np.inf)
    mean, lo, hi = mean_ci(np.asarray(values, dtype=float), support=support)
    return mean, (mean - lo) if np.isfinite(lo) else 0.0, (hi - mean) if np.isfinite(hi) else 0.0


def _interval_table(runs: pd.DataFrame, column: str, key: str = "trial") -> pd.DataFrame:
    ok = runs[runs["status"] == "ok"]
    rows = [(k, *_ci(g[column].to_numpy(), column)) for k, g in ok.groupby(key)]
    return pd.DataFrame(rows, columns=[key, "mean", "minus", "plus"]).set_index(key)


def x_column(resolved: Resolved, runs: pd.DataFrame) -> str:
    """The candidates plot's x axis: the second objective, else the first constraint's KPI, else the spend (a
    day's measured spend, or the run's), else the profit: never the first objective again."""
    if len(resolved.objective_columns) > 1:
        return resolved.objective_columns[1]
    if resolved.constraint_columns:
        return resolved.constraint_columns[0]
    ycol = resolved.objective_columns[0]
    for col in ("spend_per_day", COST, PROFIT):
        if col != ycol and col in runs and runs[col].notna().any():
            return col
    return ycol


def pareto_plot(
    resolved: Resolved,
    table: pd.DataFrame,
    runs: pd.DataFrame,
    front: pd.DataFrame,
    verified: pd.DataFrame,
    path: Path,
) -> Path:
    """Objective 1 against objective 2 (one objective: against the first constraint's KPI, or the spend)."""
    fig, (ax,) = _new_figure(figsize=(9.0, 5.6))
    ycol = resolved.objective_columns[0]
    xcol = x_column(resolved, runs)
    ran = table[table["status"] == "ok"]
    y, x = _interval_table(runs, ycol), _interval_table(runs, xcol)
    for subset, color, label in (
        (ran[~ran["feasible"]], INFEASIBLE, "trial breaking a constraint"),
        (ran[ran["feasible"]], FEASIBLE, "feasible trial"),
        (front, BEST, "verified candidates, in the search"),
    ):
        keys = [k for k in subset["trial"] if k in y.index and k in x.index]
        if not keys:
            continue
        ax.errorbar(
            x.loc[keys, "mean"],
            y.loc[keys, "mean"],
            xerr=[x.loc[keys, "minus"], x.loc[keys, "plus"]] if xcol != ycol else None,
            yerr=[y.loc[keys, "minus"], y.loc[keys, "plus"]],
            fmt="o",
            ms=4 if color != BEST else 6,
            color=color,
            ecolor=color,
            elinewidth=0.8,
            alpha=0.9,
            label=label,
        )
    if len(verified):
        vy, vx = _interval_table(verified, ycol, "point"), _interval_table(verified, xcol, "point")
        ax.errorbar(
            vx["mean"],
            vy["mean"],
            xerr=[vx["minus"], vx["plus"]] if xcol != ycol else None,
            yerr=[vy["minus"], vy["plus"]],
            fmt="D",
            ms=6,
            color=VERIFIED,
            mfc="white",
            elinewidth=1.2,
            label="the same and the base, on fresh seeds",
        )
        if -1 in vy.index:
            ax.annotate(
                "base",
                (vx.loc[-1, "mean"], vy.loc[-1, "mean"]),
                xytext=(-8, 0),
                textcoords="offset points",
                ha="right",
                va="center",
                color=VERIFIED,
            )
    for c, col in zip(resolved.spec.constraints, resolved.constraint_columns, strict=True):
        if col == xcol:
            for bound in (c.min, c.max):
                if bound is not None:
                    ax.axvline(bound, color="#444444", linestyle="--", linewidth=1, label=f"constraint {bound:g}")
    ax.set_xlabel(f"{xcol} (mean, 95% CI)")
    ax.set_ylabel(f"{ycol} (mean, 95% CI)")
    ax.xaxis.set_major_formatter(FuncFormatter(_num))
    legend = _legend_above(ax, ncols=2)
    rows = -(-len(legend.get_texts()) // 2)
    lines = _title(fig, f"{resolved.spec.name}: candidates", "each point a trial, bars its 95% interval")
    _fixed_margins(fig, 1.1, 0.3, 0.7, 0.55 + 0.2 * rows + 0.25 * (lines - 1))
    return _save(fig, path)


def convergence_plot(resolved: Resolved, table: pd.DataFrame, path: Path) -> Path:
    """Each trial's first objective and the best feasible value so far, by trial number."""
    fig, (ax,) = _new_figure()
    col = OBJECTIVE + objective_name(resolved, 0)
    ran = table[table["status"] == "ok"].sort_values("trial")
    s = sense(resolved, 0)
    if (~ran["feasible"]).any():  # an empty series would still put its label in the legend
        ax.plot(
            ran.loc[~ran["feasible"], "trial"],
            ran.loc[~ran["feasible"], col],
            "o",
            color=INFEASIBLE,
            ms=4,
            label="trial breaking a constraint",
        )
    ax.plot(
        ran.loc[ran["feasible"], "trial"],
        ran.loc[ran["feasible"], col],
        "o",
        color=FEASIBLE,
        ms=4,
        label="feasible trial",
    )
    feasible = ran[col].where(ran["feasible"])
    best = ((feasible * s).cummax() * s).ffill()  # the best so far, carried over trials that break a constraint
    if best.notna().any():
        x = [*ran["trial"], ran["trial"].max() + 0.5]
        ax.step(x, [*best, best.iloc[-1]], where="post", color=BEST, linewidth=1.8, label="best feasible so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective_name(resolved, 0))
    _legend_above(ax, ncols=3)
    skipped = int((table["status"] == "over_budget").sum())
    note = f"{skipped} trial(s) over the committed budget, not run, not shown" if skipped else ""
    lines = _title(fig, f"{resolved.spec.name}: convergence", note)
    _fixed_margins(fig, 1.1, 0.3, 0.7, 0.75 + 0.25 * (lines - 1))
    return _save(fig, path)


def importance_plot(resolved: Resolved, importance: pd.DataFrame, path: Path) -> Path:
    """fANOVA importance of each lever for each objective (share of the explained variance)."""
    fig, (ax,) = _new_figure(figsize=(9.0, 1.6 + 0.45 * max(1, len(importance))))
    cols = list(importance.columns)
    height = 0.8 / max(1, len(cols))
    ypos = np.arange(len(importance))
    for j, col in enumerate(cols):
        ax.barh(ypos + j * height, importance[col], height=height, label=col)
    ax.set_yticks(ypos + height * (len(cols) - 1) / 2, importance.index)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("importance (fANOVA share of variance)")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    _legend_above(ax, ncols=min(2, len(cols)))
    label_width = max(len(str(i)) for i in importance.index) * 0.075 + 0.3
    lines = _title(fig, f"{resolved.spec.name}: which levers matter", "")
    _fixed_margins(fig, label_width, 0.3, 0.6, 0.75 + 0.25 * (lines - 1))
    return _save(fig, path)

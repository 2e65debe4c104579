"""The waterfall figure of one KPI: A's mean, each group's Shapley value, B's mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from sim.compare.fmt import number
from sim.compare.plots import _figure, _save

UP, DOWN, LEVEL = "#0072B2", "#E69F00", "#7f7f7f"  # raises, lowers: no good or bad meant


def _ticks(ax) -> FuncFormatter:
    """Tick labels with thousands separators and as many decimals as the tick step needs (a level of 13.3
    with ticks every 0.25 reads 13.00, 13.25, 13.50, not 12, 13, 13, 14)."""

    def label(x: float, _pos: object) -> str:
        locs = ax.xaxis.get_majorticklocs()
        step = float(np.min(np.diff(locs))) if len(locs) > 1 else 1.0
        decimals = next((d for d in range(7) if abs(round(step, d) - step) <= 1e-9 * max(1.0, step)), 6)
        return f"{x + 0.0:,.{decimals}f}"

    return FuncFormatter(label)


def plot_waterfall(rows: pd.DataFrame, a: str, b: str, label: str, unit: str, path: Path) -> Path:
    """Horizontal waterfall, top to bottom: A, the groups (largest first), B; 95% CI whiskers on each step.

    A and B are marked as levels, not bars from zero, so that small changes on a large level stay visible.
    Each value is written beside its bar, on the side with more room, so no label leaves the axes.
    """
    total = rows[rows["kind"] == "total"].iloc[0]
    groups = rows[rows["kind"] == "group"]
    groups = groups.reindex(groups["contribution"].abs().sort_values(ascending=False).index)
    names = [f"A: {a}", *groups["name"], f"B: {b}"]
    fig = _figure((9, 1.6 + 0.45 * len(names)))
    ax = fig.add_subplot()
    y = np.arange(len(names))[::-1]
    ax.plot([total.a_mean], [y[0]], marker="D", color=LEVEL, ms=9)
    level = total.a_mean
    labels = [(y[0], total.a_mean, total.a_mean, f"{number(total.a_mean)} {unit}".strip())]
    for yi, g in zip(y[1:-1], groups.itertuples(), strict=True):
        ax.barh(yi, g.contribution, left=level, color=UP if g.contribution >= 0 else DOWN, height=0.6)
        end = level + g.contribution
        low, high = min(level, end), max(level, end)
        if np.isfinite(g.ci_low):
            ax.errorbar(end, yi, xerr=[[g.contribution - g.ci_low], [g.ci_high - g.contribution]],
                        color="#222222", capsize=3, lw=1)  # fmt: skip
            low, high = min(low, level + g.ci_low), max(high, level + g.ci_high)
        ax.plot([level, level], [yi + 0.3, yi + 0.7], color="#444444", lw=0.8)
        labels.append((yi, low, high, f"{'+' if g.contribution > 0 else ''}{number(g.contribution)}"))
        level = end
    ax.plot([total.b_mean], [y[-1]], marker="D", color=LEVEL, ms=9)
    ax.plot([level, level], [y[-1] + 0.3, y[-1] + 0.7], color="#444444", lw=0.8)
    labels.append((y[-1], total.b_mean, total.b_mean, f"{number(total.b_mean)} {unit}".strip()))
    ax.set_yticks(y, names)
    ax.use_sticky_edges = False  # bars stick to their base, which would keep the margin off A's level
    ax.margins(x=0.18)
    ax.xaxis.set_major_formatter(_ticks(ax))
    left, right = ax.get_xlim()
    if left < 0 < right:
        ax.axvline(0, color="#555555", lw=0.8)
    for yi, low, high, text in labels:
        if right - high >= low - left:  # more room on the right
            ax.annotate(text, (high, yi), xytext=(7, 0), textcoords="offset points", va="center", fontsize=9)
        else:
            ax.annotate(text, (low, yi), xytext=(-7, 0), textcoords="offset points", va="center", ha="right",
                        fontsize=9)  # fmt: skip
    ax.set_xlim(left, right)
    ax.set_xlabel(f"{label} ({unit})" if unit else label)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"Why {label} differs: each group's Shapley share of B - A (95% CI), same seeds")
    handles = [Patch(color=UP, label=f"raises {label}"), Patch(color=DOWN, label=f"lowers {label}")]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    return _save(fig, path)

"""stage_flow.png: everyone in the market by lifecycle stage, day by day, as stacked areas.

Prospects (unaware, aware, considering), members (new, active, loyal, advocate,
dormant) and the churned: the bands add up to the market on every day, stacked
from the top in lifecycle order, so people flow downward as they move on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.plots import markers as pm
from sim.plots.base import _count_locator, _day_axis, _save

#: (column, legend label, colour), in lifecycle order: drawn top to bottom.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("prospect_unaware", "prospect: unaware", "#e3e3e3"),
    ("prospect_aware", "prospect: aware", "#c6dbef"),
    ("prospect_considering", "prospect: considering", "#6baed6"),
    ("stage_new", "member: new", "#c7e9c0"),
    ("stage_active", "member: active", "#41ab5d"),
    ("stage_loyal", "member: loyal", "#006d2c"),
    ("stage_advocate", "member: advocate", "#E69F00"),
    ("stage_dormant", "member: dormant", "#d4b9da"),
    ("churned_total", "churned", "#636363"),
)


def plot_stage_flow(ts: pd.DataFrame, title: str, path: Path, markers: list[dict] | None = None) -> Path:
    """Stacked areas of every stage over the run; the line marks where prospects end and members begin."""
    marks = pm.prepare(markers, len(ts))
    fig, strip, (ax,) = pm.time_figure(1, None, marks)
    days = ts.index.to_numpy()
    shown = [(col, label, color) for col, label, color in STAGES if col in ts and ts[col].any()]
    bottom_up = shown[::-1]  # the last stage lies on the axis
    values = [ts[col].to_numpy(dtype=float) for col, _, _ in bottom_up]
    colors = [color for _, _, color in bottom_up]
    if len(ts) == 1:  # an area needs two days: stack bars instead
        base = 0.0
        for v, color in zip(values, colors, strict=True):
            ax.bar(days, v, bottom=base, width=0.5, color=color, linewidth=0)
            base = base + v
    elif values:
        ax.stackplot(days, *values, colors=colors, linewidth=0)
    joined = sum((ts[c].to_numpy(dtype=float) for c, _, _ in shown if not c.startswith("prospect_")), np.zeros(len(ts)))
    line = "prospects above, members and churned below"
    if len(ts) == 1:
        ax.hlines(joined, days - 0.25, days + 0.25, color="black", linewidth=1.2)
    else:
        ax.plot(days, joined, color="black", linewidth=1.2)
    total = float(sum(ts[c].iloc[0] for c, _, _ in shown)) if shown else 0.0
    ax.set_ylim(0, max(total, 1.0))
    ax.yaxis.set_major_locator(_count_locator())
    ax.set_ylabel("people in the market")
    _day_axis(ax, len(ts))
    # the line first: with three columns, prospects then fill the first, members the next two
    handles = [Line2D([], [], color="black", linewidth=1.2), *(Patch(color=color) for _, _, color in shown)]
    texts = [line, *(label for _, label, _ in shown)]
    mh, mt = pm.legend_entries(marks)
    pm.bottom_legend(fig, handles + mh, texts + mt)
    pm.draw(strip, [ax], marks)
    pm.finish(fig, strip, [ax], "Lifecycle stages of the market", title)
    return _save(fig, path)

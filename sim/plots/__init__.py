"""PNG plots of a single run: growth by join source, activity, money, funnel, cohort retention, operations,
lifecycle stages of the market.

Figures are built as ``matplotlib.figure.Figure`` objects on an Agg canvas, never
through pyplot, so no global state leaks between runs, threads or processes. The
time-axis figures mark the run's dated events (``sim.plots.markers``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from sim.plots import markers as pm
from sim.plots.base import (
    DPI,
    FIGSIZE,
    _count_locator,
    _day_axis,
    _fixed_margins,
    _legend_above,
    _marks,
    _new_figure,
    _num,
    _save,
    _title,
)
from sim.plots.operations import plot_operations
from sim.plots.sources import SOURCE_COLORS, SOURCE_NAMES, source_color, source_name
from sim.plots.stages import plot_stage_flow

__all__ = [
    "DPI",
    "FIGSIZE",
    "SOURCE_COLORS",
    "SOURCE_NAMES",
    "plot_cohort_retention",
    "plot_dau",
    "plot_funnel",
    "plot_gmv_profit",
    "plot_members_by_source",
    "plot_operations",
    "plot_stage_flow",
    "source_color",
    "source_name",
    "write_run_plots",
]

GMV_COLOR, PROFIT_COLOR, LOSS_COLOR = "#0072B2", "#009E73", "#D55E00"

FUNNEL_STAGES = (
    ("market", "market"),
    ("joined", "ever joined"),
    ("buyer", "buyers"),
    ("repeat_buyer", "repeat buyers"),
    ("advocate", "advocates"),
)


def _sources(ts: pd.DataFrame) -> list[str]:
    """Join sources with a ``new_<source>`` column, core sources first."""
    extra = [c[4:] for c in ts.columns if c.startswith("new_") and c != "new_members" and c[4:] not in SOURCE_COLORS]
    return [s for s in SOURCE_COLORS if f"new_{s}" in ts] + extra


def _marker_legend(fig, strip, axes: list, marks: pm.Marks | None) -> None:
    """Without markers the panel legend sits above ``top``; with them it joins the marker legend
    below the axes, so that the marker strip stays right above the panels."""
    if marks is None:
        _legend_above(axes[0])
        return
    pm.draw(strip, axes, marks)
    handles, texts = axes[0].get_legend_handles_labels()
    mh, mt = pm.legend_entries(marks)
    pm.bottom_legend(fig, handles + mh, texts + mt)


def plot_members_by_source(ts: pd.DataFrame, title: str, path: Path, markers: list[dict] | None = None) -> Path:
    """Stacked cumulative joins by source under the current-members line; the gap is churn."""
    marks = pm.prepare(markers, len(ts))
    fig, strip, (ax,) = pm.time_figure(1, None, marks)
    days = ts.index.to_numpy()
    shown = [(s, ts[f"new_{s}"].cumsum().to_numpy()) for s in _sources(ts) if ts[f"new_{s}"].sum() > 0]
    colors = [source_color(s, i) for i, (s, _) in enumerate(shown)]
    labels = [f"{source_name(s)}, cumulative joins" for s, _ in shown]
    if len(ts) == 1:  # an area needs two days: stack bars instead
        bottom = 0
        for (_, c), color, label in zip(shown, colors, labels, strict=True):
            ax.bar(days, c, bottom=bottom, width=0.5, color=color, alpha=0.85, label=label)
            bottom = bottom + c
    elif shown:
        ax.stackplot(days, *[c for _, c in shown], colors=colors, labels=labels, alpha=0.85, linewidth=0)
    members_label = "members now (joined minus churned)"
    ax.plot(days, ts["members"], color="black", linewidth=2.2, label=members_label, **_marks(len(ts)))
    handles, names = ax.get_legend_handles_labels()
    # Members line first, then the sources from the top of the stack down; below the axes, off the data.
    order = [names.index(name) for name in [members_label, *reversed(labels)]]
    mh, mt = pm.legend_entries(marks)
    pm.bottom_legend(fig, [handles[i] for i in order] + mh, [names[i] for i in order] + mt)
    pm.draw(strip, [ax], marks)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(_count_locator())
    ax.set_ylabel("members")
    _day_axis(ax, len(ts))
    pm.finish(fig, strip, [ax], "Members by join source", title)
    return _save(fig, path)


def plot_dau(ts: pd.DataFrame, title: str, path: Path, markers: list[dict] | None = None) -> Path:
    """Daily active members over MAU, and their ratio (stickiness) in a second panel."""
    marks = pm.prepare(markers, len(ts))
    fig, strip, (top, bottom) = pm.time_figure(2, [3, 2], marks)
    days = ts.index.to_numpy()
    mark = _marks(len(ts))
    top.plot(
        days, ts["mau"], color="#56B4E9", linewidth=1.5, linestyle="--", label="MAU (visited in last 30 days)", **mark
    )
    top.plot(days, ts["dau"], color="#0072B2", linewidth=1.5, label="DAU (visited today)", **mark)
    top.set_ylim(bottom=0)
    top.yaxis.set_major_locator(_count_locator())
    top.set_ylabel("members")
    bottom.plot(days, ts["dau_mau"], color="#D55E00", linewidth=1.5, label="DAU/MAU", **mark)
    bottom.set_ylim(0, max(0.05, float(ts["dau_mau"].max()) * 1.15))
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    bottom.set_ylabel("DAU/MAU")
    top.tick_params(labelbottom=False)
    _day_axis(bottom, len(ts))
    _marker_legend(fig, strip, [top, bottom], marks)
    pm.finish(fig, strip, [top, bottom], "Daily active members and stickiness", title)
    return _save(fig, path)


def plot_gmv_profit(ts: pd.DataFrame, title: str, path: Path, markers: list[dict] | None = None) -> Path:
    """Daily GMV and profit (raw faint, 7-day trailing mean bold) and cumulative profit."""
    marks = pm.prepare(markers, len(ts))
    fig, strip, (top, bottom) = pm.time_figure(2, [3, 2], marks)
    days = ts.index.to_numpy()
    mark = _marks(len(ts))
    top.axhline(0, color="black", linewidth=0.8, zorder=1)
    for col, color, name in (("gmv", GMV_COLOR, "GMV"), ("profit", LOSS_COLOR, "profit")):
        top.plot(days, ts[col], color=color, linewidth=0.8, alpha=0.3)
        top.plot(
            days,
            ts[col].rolling(7, min_periods=1).mean(),
            color=color,
            linewidth=2,
            label=f"{name}, 7-day trailing mean (faint: daily)",
            **mark,
        )
    if not ts["gmv"].any():
        top.text(
            0.01, 0.55, "no purchases in this run (GMV is 0)", transform=top.transAxes, fontsize=9, color=GMV_COLOR
        )
    top.set_ylabel("CNY per day")
    cum = ts["cum_profit"].to_numpy(dtype=float)
    bottom.plot(days, cum, color="black", linewidth=1.5, **mark)
    bottom.fill_between(days, cum, 0, where=cum >= 0, color=PROFIT_COLOR, alpha=0.3, interpolate=True, linewidth=0)
    bottom.fill_between(days, cum, 0, where=cum < 0, color=LOSS_COLOR, alpha=0.3, interpolate=True, linewidth=0)
    bottom.axhline(0, color="black", linewidth=0.8)
    negative = np.flatnonzero(cum < 0)
    if negative.size and negative[-1] + 1 < len(cum):
        be = int(days[negative[-1] + 1])
        bottom.axvline(be, color="#555555", linestyle=":", linewidth=1)
        bottom.annotate(
            f"break-even day {be:,}",
            (be, 0),
            xytext=(-6, 6),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="#333333",
        )
    # Limits on round ticks, so that both the deepest loss and the final profit have a tick beyond them.
    locator = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10])
    bottom.yaxis.set_major_locator(locator)
    if cum.size and np.ptp(cum) > 0:
        ticks = locator.tick_values(min(cum.min(), 0.0), max(cum.max(), 0.0))
        bottom.set_ylim(ticks[0], ticks[-1])
    bottom.set_ylabel("cumulative\nprofit (CNY)")
    top.tick_params(labelbottom=False)
    _day_axis(bottom, len(ts))
    _marker_legend(fig, strip, [top, bottom], marks)
    pm.finish(fig, strip, [top, bottom], "GMV and profit", title)
    return _save(fig, path)


def plot_funnel(funnel: dict[str, int], title: str, path: Path) -> Path:
    """Horizontal lifecycle funnel with counts and the share kept from the previous stage."""
    fig, (ax,) = _new_figure()
    stages = [(k, name) for k, name in FUNNEL_STAGES if k in funnel]
    counts = [int(funnel[k]) for k, _ in stages]
    y = np.arange(len(stages))
    colors = ListedColormap(["#08306b", "#2171b5", "#4292c6", "#6baed6", "#9ecae1"])(np.linspace(0, 1, len(stages)))
    ax.barh(y, counts, color=colors, height=0.65)
    ax.set_yticks(y, [name for _, name in stages], fontsize=10)
    ax.invert_yaxis()
    top = max(max(counts, default=0), 1)
    ax.set_xlim(0, top * 1.42)  # room on the right for the labels of the widest bar
    for i, c in enumerate(counts):
        text = f"{c:,}"
        if i > 0:
            prev = counts[i - 1]
            text += f"  ({c / prev:.1%} of {stages[i - 1][1]})" if prev else f"  (no {stages[i - 1][1]})"
        ax.text(c + top * 0.01, i, text, va="center", fontsize=9)
    ax.grid(False, axis="y")
    ax.xaxis.set_major_formatter(FuncFormatter(_num))
    ax.set_xticks([t for t in _count_locator().tick_values(0, top) if 0 <= t <= top])  # no ticks past the market
    ax.spines["bottom"].set_bounds(0, top)
    ax.set_xlabel("people at the end of the run")
    ax.text(
        0.0,
        -0.16,
        "Each stage is a subset of the one above: members ever joined, buyers bought at least once, "
        "repeat buyers at least twice,\nadvocates are repeat buyers who brought in at least one referred member.",
        transform=ax.transAxes,
        fontsize=8,
        color="#555555",
        va="top",
    )
    lines = _title(fig, "Lifecycle funnel", title)
    _fixed_margins(fig, left=1.15, right=0.2, bottom=0.95, top=0.15 + 0.22 * lines)  # stage names, two-line note
    return _save(fig, path)


def plot_cohort_retention(cohorts: pd.DataFrame, title: str, path: Path) -> Path:
    """One retention curve per monthly join cohort, coloured early (dark) to late (light)."""
    fig, (ax,) = _new_figure()
    table = cohorts.to_numpy(dtype=float) if cohorts.size else np.empty((0, 0))
    rows = [i for i in range(table.shape[0]) if np.isfinite(table[i]).any()]
    cmap = ListedColormap(colormaps["viridis"](np.linspace(0.0, 0.85, max(len(table), 1))))
    for i in rows:
        ok = np.isfinite(table[i])
        k = np.flatnonzero(ok)
        dots = k.size == 1 or table.shape[1] <= 15  # dots only where they do not clutter
        ax.plot(
            k,
            table[i, ok],
            color=cmap(i),
            linewidth=1.6 if len(rows) <= 15 else 1.1,
            marker="o" if dots else None,
            markersize=3.5 if k.size > 1 else 6,
            label=f"cohort {i} (joined days {30 * i:,}–{30 * i + 29:,})",
        )
    if len(rows) > 6:
        norm = BoundaryNorm(np.arange(len(table) + 1) - 0.5, cmap.N)
        cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.01)
        cbar.set_label("cohort: month joined (0 = days 0–29)")
        cbar.set_ticks(np.arange(len(table))[:: max(1, len(table) // 12)])
    legend_in = 0.0  # height of the legend above the axes, inches
    if rows and len(rows) <= 6:
        _legend_above(ax, ncols=3)
        legend_in = 0.2 * -(-len(rows) // 3) + 0.08
    if not rows or table.shape[1] < 2:
        note = (
            "Run shorter than 30 days: no cohort has been observed a full month yet."
            if rows
            else "No cohort data: nobody has joined."
        )
        ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", fontsize=10, color="#555555")
    ax.set_ylim(0, 1.03)
    ax.set_xlim(-0.3, max(table.shape[1] - 1, 1) + 0.3)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("months since joining (30-day periods)")
    ax.set_ylabel("share still a member")
    lines = _title(fig, "Retention by monthly join cohort", title)
    # percent ticks and a one-line axis label; the colour bar and its labels take their share of the axes' slot
    _fixed_margins(fig, left=0.75, right=0.15, bottom=0.55, top=0.15 + 0.22 * lines + legend_in)
    return _save(fig, path)


def write_run_plots(
    ts: pd.DataFrame,
    funnel: dict[str, int],
    cohorts: pd.DataFrame,
    out_dir: Path,
    title: str,
    *,
    markers: list[dict] | None = None,
    negative_threshold: float | None = None,
) -> list[Path]:
    """Write the seven PNGs of one run into ``out_dir`` (created if missing) and return their paths.

    ``markers`` are the run's dated events (``CommunityModel.markers``: dicts with ``day``,
    ``kind`` and ``label``), marked on every time-axis figure. ``negative_threshold`` is the
    scenario's ``health.max_negative_share`` (its default when None), drawn in operations.png.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [
        plot_members_by_source(ts, title, out / "members_by_source.png", markers),
        plot_dau(ts, title, out / "dau.png", markers),
        plot_gmv_profit(ts, title, out / "gmv_profit.png", markers),
        plot_funnel(funnel, title, out / "funnel.png"),
        plot_cohort_retention(cohorts, title, out / "cohort_retention.png"),
        plot_operations(ts, title, out / "operations.png", markers, negative_threshold),
        plot_stage_flow(ts, title, out / "stage_flow.png", markers),
    ]

"""The dashboard's KPI charts: day on x, units on y, events and rule firings as dated lines.

Each function takes the model's time series and markers and returns a
``matplotlib.figure.Figure`` on its own Agg canvas (no pyplot state). Legends sit
between the title and the axes, never on the data.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from sim.plots import GMV_COLOR, LOSS_COLOR, SOURCE_COLORS, fonts, source_name  # as in the run plots

FIGSIZE = (6.0, 4.6)
DPI = 100
MARKER_COLORS = {
    "crisis": "#D55E00",
    "promotion": "#009E73",
    "competitor": "#CC79A7",
    "rule": "#555555",
    "setting": "#0072B2",
}
MAX_MARKER_LABELS = 6
#: Margins as figure fractions: the title's line on top, then the axes (lowered by a legend's rows).
LEFT, RIGHT, BOTTOM, TOP = 0.12, 0.97, 0.11, 0.92
LEGEND_FS = 8


def _num(x: float, _pos: int | None = None) -> str:
    if abs(x) >= 1000:
        return f"{x / 1000:,.1f}k".replace(".0k", "k")
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}".rstrip("0").rstrip(".")


def _figure(title: str, ylabel: str) -> tuple[Figure, object]:
    """A figure with fixed margins (a layout engine would cost more than the drawing, every day)."""
    fonts.use()
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    fig.subplots_adjust(left=LEFT, right=RIGHT, top=TOP, bottom=BOTTOM)
    fig.text(LEFT, 0.985, title, fontsize=11, ha="left", va="top")  # a figure text: the legend goes under it
    ax.set_ylabel(ylabel, fontsize=9)
    ax.set_xlabel("day", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.yaxis.set_major_formatter(FuncFormatter(_num))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    return fig, ax


def _legend(fig: Figure, ax, handles: list | None = None, labels: list[str] | None = None) -> None:
    """The legend in rows between the title and the axes, which move down to make room."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    units = max(fonts.width_units(label) for label in labels)
    entry = units * 0.55 * LEGEND_FS / 72 + 0.45  # inches: text, handle and gap
    ncols = max(1, min(len(labels), int((RIGHT - LEFT) * FIGSIZE[0] // entry)))
    order = _row_major(len(labels), ncols)
    legend = ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=ncols,
        fontsize=LEGEND_FS,
        frameon=False,
        borderaxespad=0.2,
        handlelength=1.8,
        columnspacing=1.2,
    )
    height = legend.get_window_extent(fig.canvas.get_renderer()).height / fig.bbox.height
    fig.subplots_adjust(top=TOP - height)


def _row_major(n: int, ncols: int) -> list[int]:
    """The order to give matplotlib (which fills a legend column by column) so that rows read in order."""
    rows, extra = divmod(n, ncols)
    sizes = [rows + 1] * extra + [rows] * (ncols - extra)
    return [i * ncols + j for j, size in enumerate(sizes) for i in range(size)]


def _finish(ax, ts: pd.DataFrame, markers: list[dict]) -> None:
    """Day axis over at least 30 days, the markers, and a hint before the first day."""
    last = max(30, len(ts))
    ax.set_xlim(0, last)
    if ts.empty:
        ax.text(0.5, 0.5, "press Step or ▶ to simulate", transform=ax.transAxes, ha="center", color="#777777")
        ax.set_ylim(0, 1)
    mark_events(ax, markers, span=last)


def thin_markers(markers: list[dict], gap: int = 3) -> list[dict]:
    """Markers without repeats of the same label within ``gap`` days (a rule firing daily shows once)."""
    last: dict[tuple[str, str], int] = {}
    kept = []
    for m in markers:
        key = (m["kind"], m["label"])
        if key not in last or m["day"] - last[key] > gap:
            kept.append(m)
        last[key] = m["day"]
    return kept


def mark_events(ax, markers: list[dict], span: float = 30.0) -> None:
    """Dotted vertical lines at markers' days; labels at the top, skipped where they would overlap."""
    labelled = -span
    count = 0
    for m in thin_markers(markers):
        color = MARKER_COLORS.get(m["kind"], "#555555")
        ax.axvline(m["day"], color=color, linestyle=":", linewidth=1.1, zorder=1)
        if count < MAX_MARKER_LABELS and m["day"] - labelled >= span * 0.06:
            ax.annotate(
                f"{m['kind']}: {m['label']}",
                (m["day"], 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -3),
                textcoords="offset points",
                rotation=90,
                va="top",
                fontsize=7,
                color=color,
                zorder=5,
                bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.0},  # readable over data
            )
            labelled, count = m["day"], count + 1


def members_figure(ts: pd.DataFrame, markers: list[dict]) -> Figure:
    """Cumulative joins by source, stacked, under the current members."""
    fig, ax = _figure("Members by join source (cumulative joins)", "people")
    if not ts.empty:
        days = ts.index.to_numpy()
        sources = [s for s in SOURCE_COLORS if f"new_{s}" in ts and ts[f"new_{s}"].sum() > 0]
        stacks = [ts[f"new_{s}"].cumsum().to_numpy() for s in sources]
        colors = [SOURCE_COLORS[s] for s in sources]
        if stacks:
            ax.stackplot(days, *stacks, colors=colors, labels=[source_name(s) for s in sources], alpha=0.8, lw=0)
        ax.plot(days, ts["members"], color="black", linewidth=2, label="members now")
        ax.set_ylim(bottom=0)
        handles, labels = ax.get_legend_handles_labels()
        _legend(fig, ax, handles[::-1], labels[::-1])  # members now, then the stack from the top
    _finish(ax, ts, markers)
    return fig


def dau_figure(ts: pd.DataFrame, markers: list[dict]) -> Figure:
    """Daily and monthly active members."""
    fig, ax = _figure("Daily active members", "members")
    if not ts.empty:
        days = ts.index.to_numpy()
        ax.plot(days, ts["mau"], color="#56B4E9", linestyle="--", linewidth=1.5, label="MAU (last 30 days)")
        ax.plot(days, ts["dau"], color="#0072B2", linewidth=1.8, label="DAU (today)")
        ax.set_ylim(bottom=0)
        _legend(fig, ax)
    _finish(ax, ts, markers)
    return fig


def money_figure(ts: pd.DataFrame, markers: list[dict]) -> Figure:
    """Daily GMV and profit: 7-day means bold over the faint daily values."""
    fig, ax = _figure("GMV and profit", "CNY per day")
    if not ts.empty:
        days = ts.index.to_numpy()
        ax.axhline(0, color="black", linewidth=0.8)
        for col, color, name in (("gmv", GMV_COLOR, "GMV"), ("profit", LOSS_COLOR, "profit")):
            ax.plot(days, ts[col], color=color, linewidth=0.8, alpha=0.3)
            ax.plot(
                days, ts[col].rolling(7, min_periods=1).mean(), color=color, linewidth=2, label=f"{name}, 7-day mean"
            )
        _legend(fig, ax)
    _finish(ax, ts, markers)
    return fig


def satisfaction_figure(ts: pd.DataFrame, markers: list[dict]) -> Figure:
    """Mean satisfaction of members, 0 to 1."""
    fig, ax = _figure("Satisfaction", "mean of members (0 to 1)")
    if not ts.empty:
        values = ts["satisfaction_mean"]
        ax.plot(ts.index.to_numpy(), values, color="#009E73", linewidth=1.8, label="satisfaction")
        lo, hi = max(0.0, float(values.min()) - 0.05), min(1.0, float(values.max()) + 0.05)
        pad = max(0.0, 0.2 - (hi - lo)) / 2  # at least 0.2 tall, so noise does not look like a trend
        ax.set_ylim(max(0.0, lo - pad), min(1.0, hi + pad))
    _finish(ax, ts, markers)
    return fig


def sentiment_figure(ts: pd.DataFrame, markers: list[dict]) -> Figure:
    """Shares of members with negative sentiment and at churn risk."""
    fig, ax = _figure("Negative sentiment and churn risk", "share of members")
    if not ts.empty:
        days = ts.index.to_numpy()
        ax.plot(days, ts["negative_share"], color="#D55E00", linewidth=1.8, label="negative sentiment")
        ax.plot(days, ts["at_risk_share"], color="#CC79A7", linestyle="--", linewidth=1.5, label="at churn risk")
        top = float(max(ts["negative_share"].max(), ts["at_risk_share"].max()))
        ax.set_ylim(0, max(0.05, top * 1.2))
        _legend(fig, ax)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _finish(ax, ts, markers)
    return fig


def kfactor_figure(ts: pd.DataFrame, markers: list[dict]) -> Figure:
    """K-factor (``k_factor``): referral and group-buy joins per member over the trailing 30 days."""
    fig, ax = _figure("K-factor (referral and group-buy joins per member, 30 days)", "joins per member")
    if not ts.empty:
        ax.plot(ts.index.to_numpy(), ts["k_factor"], color="#E69F00", linewidth=1.8, label="K-factor")
        ax.set_ylim(0, max(0.02, float(ts["k_factor"].max()) * 1.2))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"{x:.3g}"))
    _finish(ax, ts, markers)
    return fig


#: The KPI charts in page order.
CHARTS = (members_figure, dau_figure, money_figure, satisfaction_figure, sentiment_figure, kfactor_figure)

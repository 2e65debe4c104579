"""Comparison figures: one colour per strategy in every figure, 90% bands over replications.

Legends sit outside the axes (the strategies' at the foot of the figure), so they never cover data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator

from sim.compare.ensemble import Ensemble
from sim.compare.stats import paired
from sim.core.ledger import CATEGORIES
from sim.plots import fonts

PALETTE = ("#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")
MARKER_STYLE = {
    "crisis": ("#D55E00", "-"),
    "promotion": ("#009E73", "--"),
    "competitor": ("#CC79A7", "-."),
    "rule": ("#999999", ":"),
}
THOUSANDS = FuncFormatter(lambda x, _: f"{x:,.0f}" if abs(x) >= 10 else f"{x:.2g}")
TRAJECTORIES = (
    ("members", "members", 1),
    ("dau", "DAU (people)", 7),
    ("gmv", "GMV (CNY per day)", 7),
    ("cum_profit", "cumulative profit (CNY)", 1),
    ("churned", "churned (people per day)", 7),
    ("satisfaction_mean", "mean satisfaction (0-1)", 1),
)


def colours(ens: Ensemble) -> dict[str, str]:
    return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(ens.strategies)}


def _figure(size: tuple[float, float]) -> Figure:
    """A figure on its own Agg canvas, laid out by constrained layout (which also makes room for
    legends placed outside the axes), with the Chinese font available."""
    fonts.use()
    fig = Figure(figsize=size, dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _strategy_legend(fig: Figure, ax) -> None:
    """The strategies' legend at the foot of the figure, below every axes, in as many columns as fit."""
    handles, labels = ax.get_legend_handles_labels()
    entry_in = [fonts.width_units(label) * 0.55 * 10 / 72 + 0.9 for label in labels]  # text, handle and gap
    ncols = next((n for n in range(len(labels), 1, -1) if _columns_width(entry_in, n) <= fig.get_figwidth() - 0.3), 1)
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False)


def _columns_width(widths: list[float], ncols: int) -> float:
    """Width of a legend of entries ``widths`` in ``ncols`` columns, filled column by column as matplotlib does."""
    rows, extra = divmod(len(widths), ncols)
    sizes = [rows + 1] * extra + [rows] * (ncols - extra)
    starts = [sum(sizes[:i]) for i in range(ncols)]
    return sum(max(widths[a : a + n]) for a, n in zip(starts, sizes, strict=True) if n)


def strategy_ticks(ax, x, names) -> None:
    """Strategy names under bars, slanted 20 degrees and ending at their bar, so long names (Chinese ones
    too) do not overprint one another."""
    ax.set_xticks(x, names, rotation=20, ha="right")


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, metadata={"Software": None})
    return path


def _smooth(x: np.ndarray, k: int) -> np.ndarray:
    """Trailing k-day mean of every row (shorter at the start)."""
    if k <= 1:
        return x
    counts = np.minimum(np.arange(1, x.shape[1] + 1), k)
    return np.vstack([np.convolve(row, np.ones(k))[: row.size] / counts for row in x])


def _markers(ax, ens: Ensemble) -> None:
    seen = {}
    for rec in ens.runs.values():
        for m in rec.markers:
            if m["kind"] != "rule":
                seen.setdefault((m["day"], m["kind"]), m["label"])
    for (day, kind), _label in seen.items():
        colour, style = MARKER_STYLE.get(kind, ("#999999", ":"))
        ax.axvline(day, color=colour, ls=style, lw=0.9, alpha=0.7, zorder=1)


def plot_trajectories(ens: Ensemble, path: Path) -> Path:
    """Small multiples of KPIs over days: mean and 5-95% band over replications."""
    col = colours(ens)
    fig = _figure((12, 7.5))
    axes = fig.subplots(2, 3, sharex=True)
    for ax, (kpi, label, k) in zip(axes.flat, TRAJECTORIES, strict=True):
        for s in ens.strategies:
            x = _smooth(ens.series(s, kpi).astype(float), k)
            days = np.arange(x.shape[1])
            lo, hi = np.percentile(x, [5, 95], axis=0)
            ax.fill_between(days, lo, hi, color=col[s], alpha=0.15, lw=0)
            ax.plot(days, x.mean(axis=0), color=col[s], lw=1.6, label=s)
        _markers(ax, ens)
        ax.set_title(label + (f", {k}-day mean" if k > 1 else ""), fontsize=10)
        ax.yaxis.set_major_formatter(THOUSANDS)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("day")
    _strategy_legend(fig, axes.flat[0])
    fig.suptitle(f"KPI trajectories: mean and 90% band over {len(ens.seeds)} replications", fontsize=12)
    return _save(fig, path)


def plot_funnel(ens: Ensemble, path: Path) -> Path:
    """Lifecycle funnel per strategy: market -> ever joined -> buyer -> repeat buyer -> advocate."""
    stages = ("market", "joined", "buyer", "repeat_buyer", "advocate")
    names = ("market", "ever joined", "buyer", "repeat buyer", "advocate")
    col = colours(ens)
    fig = _figure((11, 5))
    ax = fig.add_subplot()
    width = 0.8 / len(ens.strategies)
    smallest = np.inf
    for i, s in enumerate(ens.strategies):
        means = [np.mean([rec.summary["funnel"][st] for rec in ens.of(s)]) for st in stages]
        smallest = min([smallest, *(m for m in means if m > 0)])
        ax.bar(
            np.arange(len(stages)) + (i - (len(ens.strategies) - 1) / 2) * width, means, width, color=col[s], label=s
        )
    ax.set_xticks(np.arange(len(stages)), names)
    ax.set_yscale("log")
    # Ticks at 1, 2 and 5 of every decade, the axis starting on one, so small stages have a tick near them.
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_minor_locator(LogLocator(subs=np.arange(1.0, 10.0)))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
    if np.isfinite(smallest):
        ax.set_ylim(bottom=step_below(smallest))
    ax.set_ylabel("people (log scale, mean over replications)")
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.set_title("Lifecycle funnel at the end of the run")
    _strategy_legend(fig, ax)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def step_below(x: float) -> float:
    """The largest 1, 2 or 5 times a power of ten below ``x`` (> 0): where a log axis starts."""
    decade = 10.0 ** np.floor(np.log10(x))
    for step in (5.0, 2.0, 1.0):
        if step * decade < x:
            return step * decade
    return decade / 2


def plot_retention(ens: Ensemble, path: Path) -> Path:
    """Cohort retention: share still a member k months after joining, averaged over cohorts and replications."""
    col = colours(ens)
    fig = _figure((9, 5))
    ax = fig.add_subplot()
    for s in ens.strategies:
        tables = [rec.cohorts.to_numpy(dtype=float) for rec in ens.of(s)]
        width = min(t.shape[1] for t in tables)
        stack = np.vstack([t[:, :width] for t in tables])  # every cohort of every replication
        seen = np.isfinite(stack)
        ok = seen.any(axis=0)
        curve = np.where(seen, stack, 0.0).sum(axis=0)[ok] / seen.sum(axis=0)[ok]
        ax.plot(np.arange(width)[ok], curve, "o-", color=col[s], ms=3, label=s)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("months since joining")
    ax.set_ylabel("share still a member")
    ax.set_title("Cohort retention (mean over monthly cohorts and replications)")
    _strategy_legend(fig, ax)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_costs(ens: Ensemble, path: Path) -> Path:
    """Costs by category (stacked) and profit, per strategy, over the whole run."""
    cat_colours = dict(zip(CATEGORIES, ("#0072B2", "#56B4E9", "#009E73", "#E69F00", "#CC79A7", "#999999"), strict=True))
    fig = _figure((10, 5))
    ax = fig.add_subplot()
    x = np.arange(len(ens.strategies))
    bottom = np.zeros(len(x))
    for c in CATEGORIES:
        vals = np.array(
            [np.mean([rec.summary["final"].get(f"cost_{c}", 0.0) for rec in ens.of(s)]) for s in ens.strategies]
        )
        if vals.any():
            ax.bar(x, vals, 0.5, bottom=bottom, color=cat_colours[c], label=f"cost: {c}")
            bottom += vals
    profit = [np.mean([rec.summary["final"]["cum_profit"] for rec in ens.of(s)]) for s in ens.strategies]
    ax.plot(x, profit, "D", color="#000000", ms=8, label="profit (gross margin - costs)")
    ax.axhline(0, color="#555555", lw=0.8)
    ax.margins(y=0.08)
    strategy_ticks(ax, x, ens.strategies)
    ax.set_ylabel("CNY over the run (mean over replications)")
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.set_title("Costs by category and profit")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_growth_sources(ens: Ensemble, path: Path) -> Path:
    """K-factor over days (``k_factor``: referral and group-buy joins), and joins by source over the run (people
    who joined, not current members)."""
    from sim.mechanisms.registry import JOIN_SOURCES
    from sim.plots import source_color, source_name

    col = colours(ens)
    fig = _figure((12, 5.2))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    for s in ens.strategies:
        k = ens.series(s, "k_factor")
        left.plot(np.arange(k.shape[1]), k.mean(axis=0), color=col[s], label=s)
    left.set_xlabel("day")
    left.set_ylabel("invited joins per member per 30 days")
    left.set_title("K-factor: referral and group-buy joins")
    left.grid(alpha=0.3)
    _strategy_legend(fig, left)
    x = np.arange(len(ens.strategies))
    bottom = np.zeros(len(x))
    for i, src in enumerate(JOIN_SOURCES):
        if src == "initial":
            continue
        col_name = f"new_{src}"  # absent from runs written before the source existed: none joined that way
        vals = np.array(
            [np.mean([rec.timeseries.get(col_name, pd.Series(0.0)).sum() for rec in ens.of(s)]) for s in ens.strategies]
        )
        if vals.any():
            right.bar(x, vals, 0.55, bottom=bottom, color=source_color(src, i), label=source_name(src))
            bottom += vals
    strategy_ticks(right, x, ens.strategies)
    right.set_ylabel("joins over the run (people)")
    right.yaxis.set_major_formatter(THOUSANDS)
    right.set_title("Joins by source (initial members excluded)")
    handles, labels = right.get_legend_handles_labels()  # top of the stack first, as the bars read
    right.legend(handles[::-1], labels[::-1], frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    right.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_difference(ens: Ensemble, baseline: str, kpi: str, label: str, path: Path) -> Path:
    """Paired difference to the baseline over days, mean and 95% CI: when does a strategy pull ahead?"""
    col = colours(ens)
    fig = _figure((10, 5.2))
    ax = fig.add_subplot()
    base = ens.series(baseline, kpi)
    for s in ens.strategies:
        if s == baseline:
            continue
        x = ens.series(s, kpi)
        stats = [paired(x[:, d], base[:, d]) for d in range(x.shape[1])]
        days = np.arange(x.shape[1])
        ax.fill_between(days, [p.ci_low for p in stats], [p.ci_high for p in stats], color=col[s], alpha=0.18, lw=0)
        ax.plot(days, [p.diff for p in stats], color=col[s], label=f"{s} - {baseline}")
    _markers(ax, ens)
    ax.axhline(0, color="#555555", lw=0.8)
    ax.set_xlabel("day")
    ax.set_ylabel(f"difference in {label}")
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.set_title(f"Paired difference to {baseline} in {label} (95% CI, common random numbers)")
    _strategy_legend(fig, ax)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def write_comparison_plots(ens: Ensemble, baseline: str, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [
        plot_trajectories(ens, out / "trajectories.png"),
        plot_difference(ens, baseline, "cum_profit", "cumulative profit (CNY)", out / "profit_difference.png"),
        plot_funnel(ens, out / "funnel.png"),
        plot_retention(ens, out / "retention.png"),
        plot_costs(ens, out / "costs_profit.png"),
        plot_growth_sources(ens, out / "growth_sources.png"),
    ]

"""The test's figures: power by duration (a panel per unit, a line per treated share), and spillover
bias by duration (colour tells the unit, line style the share). Legends sit below the axes, so they
never cover a line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.abtest.analysis import POWER_TARGET
from sim.abtest.design import METRICS, UNITS, Design
from sim.compare.plots import _figure
from sim.plots.base import _suptitle

COLOURS = {"member": "#D55E00", "cluster": "#0072B2"}
STYLES = ("-", "--", ":", "-.")
SHARE_COLOURS = ("#009E73", "#CC79A7", "#E69F00", "#56B4E9")


def _lines(ax, rows: pd.DataFrame, design: Design, column: str, scale: float = 1.0) -> None:
    for unit in UNITS:
        for i, share in enumerate(design.shares):
            r = rows[(rows.unit == unit) & (rows.share == share)].sort_values("days")
            ax.plot(
                r.days / 7,
                r[column] * scale,
                color=COLOURS[unit],
                linestyle=STYLES[i % len(STYLES)],
                marker="o",
                markersize=3,
                label=f"{unit} randomization, {share:.0%} treated",
            )


def _finish(fig, ax, design: Design) -> None:
    ax.set_xlabel("test duration (weeks)")
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlim(0, design.days / 7 + 0.2)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False, fontsize=9)


def plot_power(tab: pd.DataFrame, design: Design, title: str, path: Path) -> Path:
    """Power (share of replications where the test finds the effect at alpha) against duration, one panel
    per unit, one line per treated share (hollow marks on filled ones, so equal curves both show)."""
    rows = tab[tab.metric == design.metric]
    fig = _figure((9.0, 5.0))
    axes = fig.subplots(1, len(UNITS), sharey=True)
    for ax, unit in zip(axes, UNITS, strict=True):
        for i, share in enumerate(design.shares):
            r = rows[(rows.unit == unit) & (rows.share == share)].sort_values("days")
            hollow = i % 2 == 1
            ax.plot(
                r.days / 7,
                r.power * 100,
                color=SHARE_COLOURS[i % len(SHARE_COLOURS)],
                linestyle=STYLES[i % len(STYLES)],
                marker="s" if hollow else "o",
                markersize=7 if hollow else 4,
                markerfacecolor="none" if hollow else None,
                label=f"{share:.0%} treated",
            )
        ax.axhline(POWER_TARGET * 100, color="#555555", linewidth=0.9, linestyle="--")
        ax.annotate(  # below the line at the right, where the curves that reach it are above
            f"{POWER_TARGET:.0%} power",
            (design.days / 7, POWER_TARGET * 100),
            xytext=(0, -12),
            textcoords="offset points",
            ha="right",
        )
        ax.set_ylim(-2, 104)  # a 0% or 100% point shows whole
        ax.set_title(f"{unit} randomization", fontsize=10)
        ax.set_xlabel("test duration (weeks)")
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_xlim(0, design.days / 7 + 0.2)
    axes[0].set_ylabel(f"power at alpha {design.alpha:g} (% of runs)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False, fontsize=9)
    _suptitle(fig, f"Power of the test on {METRICS[design.metric][0]}", title)
    fig.savefig(path, metadata={"Software": None})
    return path


def plot_bias(tab: pd.DataFrame, design: Design, title: str, path: Path) -> Path:
    """Spillover bias (the test's estimate minus the effect of rolling out to everyone) as a share of that
    effect, with a band of two standard errors and the acceptable bound shaded."""
    rows = tab[tab.metric == design.metric]
    fig = _figure((8.0, 5.2))
    ax = fig.subplots()
    ax.axhspan(-design.max_bias * 100, design.max_bias * 100, color="#e8f3e8", zorder=0)
    ax.axhline(0, color="#555555", linewidth=0.9)
    _lines(ax, rows, design, "relative_bias", 100)
    for unit in UNITS:
        for share in design.shares:
            r = rows[(rows.unit == unit) & (rows.share == share)].sort_values("days")
            band = 2 * r.bias_se / r.true_effect.abs().replace(0, np.nan) * 100
            mid = r.relative_bias * 100
            ax.fill_between(r.days / 7, mid - band, mid + band, color=COLOURS[unit], alpha=0.08, linewidth=0)
    ax.set_ylabel("bias (% of the rollout's effect)")
    _suptitle(fig, f"Spillover bias on {METRICS[design.metric][0]} (shaded: within ±{design.max_bias:.0%})", title)
    _finish(fig, ax, design)
    fig.savefig(path, metadata={"Software": None})
    return path

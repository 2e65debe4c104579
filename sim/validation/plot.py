"""The validation figure: every case's distance from its target, in tolerances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.plots import fonts

PASS, FAIL = "#009E73", "#D55E00"


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _target(r) -> str:
    if r.compare == "at_least":
        return f"target at least {_fmt(r.target - r.tolerance)}"
    kind = {"ratio": ", ratio to baseline", "difference": ", difference to baseline"}.get(r.compare, "")
    return f"target {_fmt(r.target)} ± {_fmt(r.tolerance)}{kind}"


#: Distances beyond this many tolerances are drawn at the edge, marked "beyond".
CLIP = 6.0


def scale(r) -> float:
    """The unit of a case's distance from its target: its tolerance, or 5% of the target when that is 0."""
    return r.tolerance if r.tolerance > 0 else max(abs(r.target) * 0.05, 1e-9)


def pass_region(r) -> tuple[float, float]:
    """Where a case passes, in tolerances from its target: within one tolerance of it, or for a one-sided
    case (``at_least``) from target - tolerance up to the right edge."""
    if r.compare == "at_least":
        return -r.tolerance / scale(r), CLIP + 0.3
    return -1.0, 1.0


def plot_validation(table: pd.DataFrame, path: Path) -> Path:
    """One row per case: simulated mean and 95% CI against the region where the case passes (shaded),
    and its provenance.

    A two-sided case passes within one tolerance of its target; a one-sided case (``at_least``)
    anywhere from target - tolerance up, so its shading runs to the right edge.
    """
    n = len(table)
    fonts.use()
    fig = Figure(figsize=(10, 0.42 * n + 1.9), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    tol = np.array([scale(r) for r in table.itertuples()])
    z = (table["simulated_mean"] - table["target"]) / tol
    lo = (table["ci_low"] - table["target"]) / tol
    hi = (table["ci_high"] - table["target"]) / tol
    y = np.arange(n)[::-1]
    clip = CLIP
    for yi, r in zip(y, table.itertuples(), strict=True):
        left, right = pass_region(r)
        ax.fill_betweenx([yi - 0.42, yi + 0.42], left, right, color="#DDDDDD", lw=0, zorder=0)
    ax.fill_between([], [], color="#DDDDDD", label="pass region (at least: from the bound up)")
    ax.axvline(0, color="#777777", lw=0.8)
    for yi, zi, low, high, ok in zip(y, z, lo, hi, table["passed"], strict=True):
        colour = PASS if ok else FAIL
        ax.plot([max(low, -clip), min(high, clip)], [yi, yi], color=colour, lw=2)
        ax.plot(np.clip(zi, -clip, clip), yi, "o", color=colour, ms=6, zorder=3)
        if abs(zi) > clip:
            ax.annotate(
                "beyond",
                (np.sign(zi) * clip, yi),
                xytext=(-4 * np.sign(zi), 6),
                textcoords="offset points",
                ha="right" if zi > 0 else "left",
                fontsize=7,
                color=colour,
            )
    labels = [
        f"{r.id}  {r.metric.replace('_', ' ')}: {_fmt(r.simulated_mean)} ({_target(r)}) [{r.provenance}]"
        for r in table.itertuples()
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(-clip - 0.3, clip + 0.3)
    ax.set_xlabel("distance from target, in tolerances\n(simulated mean and 95% CI over replications)")
    passed = int(table["passed"].sum())
    fig.suptitle(f"Validation: {passed} of {n} cases pass", fontsize=11)
    ax.set_title(
        "[emerges] no key was set with the target in view   [calibrated] keys were chosen to reach it   "
        "[input] the target is a parameter's value",
        fontsize=8,
        loc="right",
    )
    ax.plot([], [], "o-", color=PASS, label="passes")
    ax.plot([], [], "o-", color=FAIL, label="fails")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)  # off the rows
    ax.grid(axis="x", alpha=0.3)
    fig.savefig(path, metadata={"Software": None})
    return path

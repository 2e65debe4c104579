"""The validation figure: every case's distance from its target, in tolerances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

PASS, FAIL = "#009E73", "#D55E00"


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _target(r) -> str:
    if r.compare == "at_least":
        return f"target at least {_fmt(r.target)}"
    kind = {"ratio": ", ratio to baseline", "difference": ", difference to baseline"}.get(r.compare, "")
    return f"target {_fmt(r.target)} ± {_fmt(r.tolerance)}{kind}"


def plot_validation(table: pd.DataFrame, path: Path) -> Path:
    """One row per case: simulated mean and 95% CI against the target band (shaded = pass), and its provenance."""
    n = len(table)
    fig = Figure(figsize=(10, 0.42 * n + 1.6), dpi=110)
    ax = fig.add_subplot()
    tol = table["tolerance"].where(table["tolerance"] > 0, np.maximum(np.abs(table["target"]) * 0.05, 1e-9))
    z = (table["simulated_mean"] - table["target"]) / tol
    lo = (table["ci_low"] - table["target"]) / tol
    hi = (table["ci_high"] - table["target"]) / tol
    y = np.arange(n)[::-1]
    ax.axvspan(-1, 1, color="#DDDDDD", zorder=0, label="within tolerance")
    ax.axvline(0, color="#777777", lw=0.8)
    clip = 6.0
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
    ax.legend(loc="lower right", fontsize=8, frameon=True)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    return path

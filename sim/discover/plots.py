"""Figures of scenario discovery: the peeling trajectory, the box over the runs, the CART tree."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.patches import Rectangle

from sim.compare.plots import PALETTE, THOUSANDS, _figure, _save
from sim.discover.boxes import trajectory_frame
from sim.discover.prim import Step, initial_box
from sim.discover.target import Question, gains, losses

CASE, OTHER, BOX = "#D55E00", "#bbbbbb", "#0072B2"


def plot_trajectory(trajectory: list[Step], chosen: int, pasted: int, path: Path, simple: Step | None = None) -> Path:
    """Coverage against density of every box on the trajectory, coloured by the factors it restricts;
    ``simple`` (the chosen box with its significant limits only) as a star."""
    frame = trajectory_frame(trajectory, pasted)
    fig = _figure((8, 6))
    ax = fig.add_subplot()
    ax.plot(frame.coverage, frame.density, color="#999999", lw=0.8, zorder=2)
    for k, part in frame.groupby("restricted"):
        for phase, marker in (("peel", "o"), ("paste", "s")):
            sel = part[part.phase == phase]
            if len(sel):
                word = "factor" if k == 1 else "factors"
                label = f"{k} {word} restricted" + (" (pasted)" if phase == "paste" else "")
                ax.scatter(sel.coverage, sel.density, color=PALETTE[int(k) % len(PALETTE)], marker=marker, s=28,
                           zorder=3, label=label)  # fmt: skip
    c = frame.iloc[chosen]
    ax.scatter([c.coverage], [c.density], s=170, facecolors="none", edgecolors="#222222", lw=1.6, zorder=4)
    text = f"chosen box (step {chosen}): coverage {c.coverage:.0%}, density {c.density:.0%}"
    right = c.coverage > 0.5  # the note goes towards the middle, inside the axes
    ax.annotate(text, (c.coverage, c.density), xytext=(-14 if right else 14, -4), textcoords="offset points",
                ha="right" if right else "left", va="top", fontsize=9, color="#222222")  # fmt: skip
    if simple is not None:
        ax.scatter([simple.coverage], [simple.density], marker="*", s=180, color="#222222", zorder=5,
                   label="chosen box, significant limits only")  # fmt: skip
    ax.set_xlabel("coverage (share of all cases inside the box)")
    ax.set_ylabel("density (share of runs in the box that are cases)")
    ax.set_xlim(-0.02, 1.05)
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", ncols=3, frameon=False)
    ax.set_title("PRIM peeling trajectory: each point is a box, all runs at the bottom right")
    return _save(fig, path)


def _rectangle(ax, step: Step, i: int, j: int) -> None:
    lo, hi = step.box.lower, step.box.upper
    ax.add_patch(Rectangle((lo[i], lo[j]), hi[i] - lo[i], hi[j] - lo[j], fill=False, ec=BOX, lw=2, zorder=4))


def plot_box(q: Question, step: Step, path: Path, note: str = "") -> Path:
    """The runs over each pair of restricted factors, cases highlighted, with the box's limits drawn
    (``note`` goes into the box's legend entry, e.g. "no limit significant")."""
    init = initial_box(q.x)
    dims = list(np.flatnonzero(step.box.restricted(init)))[:4] or [0]
    if len(dims) == 1:
        dims.append(-1)  # the KPI itself on the vertical axis
    pairs = list(itertools.combinations(dims, 2))
    cols = min(len(pairs), 3)
    rows = int(np.ceil(len(pairs) / cols))
    fig = _figure((max(8.0, 4.6 * cols + 0.4), 4.2 * rows + (1.4 if cols < 3 else 0.9)))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (i, j) in zip(axes, pairs, strict=False):
        ys = q.values if j == -1 else q.x[:, j]
        ax.scatter(q.x[~q.cases, i], ys[~q.cases], s=12, color=OTHER, label="other runs", zorder=2)
        ax.scatter(q.x[q.cases, i], ys[q.cases], s=14, color=CASE, label=q.rule, zorder=3)
        if j == -1:
            ax.axvspan(step.box.lower[i], step.box.upper[i], color=BOX, alpha=0.12, label="box", zorder=1)
            ax.axhline(q.threshold, color="#555555", lw=0.8, ls="--")
            ax.set_ylabel(q.kpi.removeprefix("final."))
            ax.yaxis.set_major_formatter(THOUSANDS)
        else:
            _rectangle(ax, step, i, j)
            ax.set_ylabel(q.factors[j])
        ax.set_xlabel(q.factors[i])
        ax.grid(alpha=0.3)
    for ax in axes[len(pairs) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(Rectangle((0, 0), 1, 1, fill=False, ec=BOX, lw=2))
    labels.append(f"box{f' ({note})' if note else ''}: density {step.density:.0%}, coverage {step.coverage:.0%}")
    fig.legend(handles, labels, loc="outside lower center", ncols=3 if cols == 3 else 2, frameon=False)
    said = losses(q.kpi, q.values) or gains(q.kpi, q.values)
    fig.suptitle(f"{q.strategy}: where the runs with {q.rule} lie" + (f"\n{said[0].upper()}{said[1:]}" if said else ""))
    return _save(fig, path)


def plot_tree(tree: Any, q: Question, path: Path) -> Path:
    """The CART tree: each node's split, runs and share of cases."""
    from sklearn.tree import plot_tree

    depth = tree.get_depth()
    fig = _figure((max(8, 3.2 * 2**depth / 2), 1.9 * (depth + 1) + 0.6))
    ax = fig.add_subplot()
    plot_tree(tree, feature_names=q.factors, class_names=["other", "case"], filled=True, impurity=False,
              proportion=True, rounded=True, fontsize=8, precision=4, ax=ax)  # fmt: skip
    ax.set_title(f"CART: {q.strategy}, case = {q.rule}; value = shares (other, case)")
    return _save(fig, path)

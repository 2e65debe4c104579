"""Boxes as a table (boxes.csv, trajectory.csv) and as plain sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.compare.fmt import number
from sim.discover.prim import Step, initial_box
from sim.discover.target import Question, gains, losses


def box_rows(q: Question, step: Step, name: str, method: str, qp: np.ndarray | None = None) -> list[dict]:
    """One row per factor of a box: its limits, whether restricted, and the limits' quasi-p values."""
    init = initial_box(q.x)
    restricted = step.box.restricted(init)
    rows = []
    for j, factor in enumerate(q.factors):
        rows.append({
            "box": name, "method": method, "factor": factor, "lower": step.box.lower[j], "upper": step.box.upper[j],
            "restricted": bool(restricted[j]),
            "qp_lower": np.nan if qp is None else qp[j, 0], "qp_upper": np.nan if qp is None else qp[j, 1],
            "coverage": step.coverage, "density": step.density, "mass": step.mass, "runs": step.n, "cases": step.k,
        })  # fmt: skip
    return rows


def trajectory_frame(trajectory: list[Step], pasted: int = 0) -> pd.DataFrame:
    """The peeling (and pasting) trajectory: one row per box."""
    n = len(trajectory)
    return pd.DataFrame({
        "step": range(n), "phase": ["peel"] * (n - pasted) + ["paste"] * pasted,
        "coverage": [s.coverage for s in trajectory], "density": [s.density for s in trajectory],
        "mass": [s.mass for s in trajectory], "runs": [s.n for s in trajectory], "cases": [s.k for s in trajectory],
        "restricted": [s.restricted for s in trajectory],
    })  # fmt: skip


def conditions(q: Question, step: Step) -> list[str]:
    """``referral.base_acceptance is below 0.18`` for each restricted factor."""
    init = initial_box(q.x)
    out = []
    for j, factor in enumerate(q.factors):
        low, high = step.box.lower[j] > init.lower[j], step.box.upper[j] < init.upper[j]
        if low and high:
            out.append(f"{factor} is between {number(step.box.lower[j])} and {number(step.box.upper[j])}")
        elif low:
            out.append(f"{factor} is above {number(step.box.lower[j])}")
        elif high:
            out.append(f"{factor} is below {number(step.box.upper[j])}")
    return out


def _what(q: Question) -> tuple[str, str]:
    """What a case is, as a verb phrase and as a noun: ("loses money", "its losses")."""
    label = q.kpi.removeprefix("final.")
    if label == "profit" and q.rule.endswith("below 0"):
        return "loses money", "its losses"
    if q.rule.startswith(f"{label} in the worst"):
        return f"is {q.rule.replace(label + ' in the', 'among its')} by {label}", "its worst runs"
    return f"has {q.rule}", f"its runs with {q.rule}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def loss_sentence(q: Question) -> str:
    """When more than half of the runs lose money, that first: ``Every one of the 120 runs loses money (-79,670
    to -59,682 CNY): the boxes below find where it loses the most.``; when every run makes money, that: ``Every
    one of the 120 runs makes money (+78,578 to +93,882 CNY): the boxes below find where it makes the least.``;
    empty otherwise."""
    lost = losses(q.kpi, q.values)
    said = lost or gains(q.kpi, q.values)
    if not said:
        return ""
    label = q.kpi.removeprefix("final.")
    if q.rule.startswith(f"{label} in the worst"):
        where = "where it loses the most" if lost else "where it makes the least"
    elif q.rule.startswith(f"{label} below ") and q.threshold <= 0 and lost:
        where = f"where it loses more than {number(-q.threshold)} CNY"
    elif q.rule.startswith(f"{label} below ") and q.threshold > 0 and not lost:
        where = f"where it makes less than {number(q.threshold)} CNY"
    else:
        where = f"where it has {q.rule}"
    return f"{said[0].upper()}{said[1:]}: the boxes below find {where}."


def no_finding_sentence(q: Question, alpha: float = 0.05) -> str:
    """The sentence when no limit of the peeled box is significant: no range is stated as a finding."""
    verb, _ = _what(q)
    return (
        f"No factor range is significantly associated with the runs where {q.strategy} {verb}: no limit of "
        f"the box PRIM peeled has a quasi-p value below {alpha:g}, so each may be chance ({int(q.cases.sum())} "
        f"such runs of {len(q.cases)}; more runs may show a range)."
    )


def box_sentence(q: Question, step: Step, label: str = "") -> str:
    """``referral_push loses money in 83% of runs where ...; those runs are 91% of its losses.``"""
    verb, noun = _what(q)
    conds = conditions(q, step)
    if not conds:
        share = f"{q.cases.mean():.0%}"
        return f"{q.strategy} {verb} in {share} of all {len(q.cases)} runs; no factor range narrows that down."
    base = q.cases.mean()
    return (
        f"{label}{q.strategy} {verb} in {step.density:.0%} of runs where {_join(conds)}; those runs are "
        f"{step.coverage:.0%} of {noun} ({step.k} of {int(q.cases.sum())}; across all {len(q.cases)} runs the "
        f"rate is {base:.0%})."
    )


def significance_sentence(q: Question, qp: np.ndarray, peeled: Step, alpha: float = 0.05) -> str:
    """Which limits of the peeled box are significant by their quasi-p value, and what the others add."""
    strong, weak = [], []
    for j, factor in enumerate(q.factors):
        for side, word in ((0, "lower"), (1, "upper")):
            p = qp[j, side]
            if np.isfinite(p):
                (strong if p < alpha else weak).append(f"the {word} limit on {factor} (quasi-p {p:.2g})")
    parts = []
    if strong:
        parts.append(f"Significant at {alpha:g}: {_join(strong)}.")
    if weak and not strong:
        parts.append(
            f"Not significant at {alpha:g}: {_join(weak)}; the box they make (density {peeled.density:.0%}, "
            f"coverage {peeled.coverage:.0%}) is not a finding."
        )
    elif weak:
        parts.append(
            f"Left out as not significant: {_join(weak)}; with them the box has density {peeled.density:.0%} "
            f"and coverage {peeled.coverage:.0%}."
        )
    return " ".join(parts)

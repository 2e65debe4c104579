"""Verification: the best candidates and the base scenario re-run on fresh seeds, compared pair by pair.

The search picks the best of many noisy estimates, so its best looks better
than it is (the winner's curse). Here every candidate and the base scenario run
on replication seeds and uncertainty samples the search never used (shared by
all of them: common random numbers), and ``sim.compare.stats.paired`` gives each
KPI's difference to the base with its 95% interval. The shrinkage from the
search's estimate to the verified one is the winner's curse, measured.

Every candidate's profit and spend are verified whatever the goal. With an ROI goal
the candidates are ranked as ``compare`` ranks by ROI: front by front on (profit,
spend), the base included, by ROI within a front, so no candidate comes above one
with at least its profit and at most its spend; one the base beats on both (a higher
ROI bought by spending more on a loss) is not recommended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.compare.ranking import dominated_by, pareto_fronts
from sim.compare.stats import paired
from sim.experiment.runs import RunPlan
from sim.optimize import evaluate as ev
from sim.optimize import robust
from sim.optimize.resolve import Resolved
from sim.optimize.results import COST, LEVER, PROFIT, ROI

#: Key of the base scenario among the verified candidates.
BASE = -1


@dataclass
class Verification:
    runs: pd.DataFrame  # point (trial number, or BASE), replication, seed, KPI columns, spend
    table: pd.DataFrame  # one row per (trial, KPI column): base mean, mean, paired difference and interval
    holds: dict[int, bool]  # trial -> every constraint met on the fresh seeds (means)
    seeds: list[int]
    order: list[int] = field(default_factory=list)  # the verified trials, best first
    beaten: dict[int, list[int]] = field(default_factory=dict)  # trial -> points (BASE too) with >= profit, <= spend
    same: dict[int, list[int]] = field(default_factory=dict)  # trial -> trials with its results in every replication
    roi_goal: bool = False  # the first objective is ROI: a candidate the base beats on both is not recommended

    def recommended(self, trial: int) -> bool:
        """Every constraint held on the fresh seeds and, with an ROI goal, the base does not make more profit
        for less spend."""
        return bool(self.holds.get(trial)) and not (self.roi_goal and BASE in self.beaten.get(trial, []))

    def mean(self, trial: int, column: str, base: bool = False) -> float:
        """The verified mean of a KPI column for a trial (``base``: the base scenario's, paired with it)."""
        rows = self.table[(self.table["trial"] == trial) & (self.table["kpi"] == column)]
        return float(rows["base_mean" if base else "mean"].iloc[0]) if len(rows) else float("nan")


def roi_order(
    profit: dict[int, float], spend: dict[int, float], roi: dict[int, float], trials: list[int]
) -> tuple[list[int], dict[int, list[int]]]:
    """``trials`` ranked front by front on (profit, spend) among all the points given (the base too), by ROI
    within a front; and for each trial the points with at least its profit and at most its spend."""
    beaten = dominated_by(profit, spend)  # type: ignore[arg-type]
    front = pareto_fronts(beaten)
    score = {t: roi[t] if np.isfinite(roi[t]) else -np.inf for t in trials}
    order = sorted(trials, key=lambda t: (front[t], -score[t]))
    return order, {t: list(beaten[t]) for t in trials}


def verify(resolved: Resolved, executor: Any, picked: pd.DataFrame, run: Callable = ev.run_trials) -> Verification:
    """Run ``picked`` (rows of the trials table) and the base on fresh seeds; pair them by replication."""
    seeds, samples = resolved.verification()
    plan = resolved.plan()
    base_plan = RunPlan(
        {"": resolved.base},
        tuple(resolved.uncertain_setters),
        plan.kpis,
        plan.series_every,
        plan.series_kpis,
        plan.overrides,
    )
    chosen = {int(r["trial"]): tuple(r[LEVER + k] for k in resolved.levers) for _, r in picked.iterrows()}
    chosen = {k: tuple(v.item() if isinstance(v, np.generic) else v for v in vals) for k, vals in chosen.items()}
    base_rows = ev.evaluate(executor, base_plan, ev.tasks_for({BASE: ()}, seeds, samples), run)
    rows = ev.evaluate(executor, plan, ev.tasks_for(chosen, seeds, samples), run)
    runs = pd.concat([base_rows, rows], ignore_index=True)
    columns = [c for c in resolved.kpis if c in runs] + ([ev.SPEND] if ev.SPEND in runs else [])
    base = base_rows.set_index("replication")
    out, holds = [], {}
    same = same_results(rows, list(chosen), columns)
    for trial in chosen:
        mine = rows[rows["point"] == trial].set_index("replication")
        for col in columns:
            p = paired(mine[col].to_numpy(float), base.loc[mine.index, col].to_numpy(float))
            rel, rel_lo, rel_hi = p.relative
            out.append(
                dict(
                    trial=trial,
                    kpi=col,
                    base_mean=p.base_mean,
                    mean=p.mean,
                    diff=p.diff,
                    ci_low=p.ci_low,
                    ci_high=p.ci_high,
                    rel=rel,
                    rel_low=rel_lo,
                    rel_high=rel_hi,
                    p_value=p.p_value,
                    n=p.n,
                    failed=int((mine["status"] != "ok").sum()),
                    same_results_as="; ".join(map(str, same[trial])),
                )
            )
        means = {c: float(mine[c].mean()) for c in resolved.kpis}
        spend = float(mine[ev.SPEND].mean()) if ev.SPEND in mine else None
        budget = resolved.spec.budget
        committed = 0.0 if budget and budget.per_day else None  # the committed spend was checked before the search
        values = robust.constraint_values(
            means, resolved.spec.constraints, resolved.constraint_columns, budget, committed, spend
        )
        holds[trial] = bool((mine["status"] == "ok").all()) and all(v <= 0 for v in values)
    ver = Verification(runs, pd.DataFrame(out), holds, seeds, list(chosen), same=same)
    ok = runs[runs["status"] == "ok"]
    profit = _means(ok, PROFIT)
    spend = _means(ok, COST)
    if profit and spend:
        ver.beaten = dominated_by(profit, spend)  # type: ignore[arg-type]
        ver.beaten = {t: list(ver.beaten[t]) for t in chosen}
    if resolved.objective_columns[0] == ROI and profit and spend:
        ver.roi_goal = True
        roi = {t: ver.mean(t, ROI) * (1 if resolved.spec.objectives[0].direction == "maximize" else -1) for t in chosen}
        ver.order, ver.beaten = roi_order(profit, spend, {**roi, BASE: np.nan}, list(chosen))
    return ver


def same_results(rows: pd.DataFrame, trials: list[int], columns: list[str]) -> dict[int, list[int]]:
    """For each trial, the others with the same value of every KPI column in every replication (a lever that
    makes no difference between their settings): ``compare``'s ``same_results_as``."""
    reps = {
        t: rows[rows["point"] == t].sort_values("replication")[["status", *columns]].to_numpy(dtype=object)
        for t in trials
    }
    return {
        t: [
            o
            for o in trials
            if o != t and reps[t].shape == reps[o].shape and pd.DataFrame(reps[t]).equals(pd.DataFrame(reps[o]))
        ]
        for t in trials
    }


def _means(runs: pd.DataFrame, column: str) -> dict[int, float]:
    """Each point's mean of ``column`` over its replications that ran ({} when the column is missing)."""
    if column not in runs or not len(runs):
        return {}
    return {int(k): float(v) for k, v in runs.groupby("point")[column].mean().items()}

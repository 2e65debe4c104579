"""Verification: the best candidates and the base scenario re-run on fresh seeds, compared pair by pair.

The search picks the best of many noisy estimates, so its best looks better
than it is (the winner's curse). Here every candidate and the base scenario run
on replication seeds and uncertainty samples the search never used (shared by
all of them: common random numbers), and ``sim.compare.stats.paired`` gives each
KPI's difference to the base with its 95% interval. The shrinkage from the
search's estimate to the verified one is the winner's curse, measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.compare.stats import paired
from sim.experiment.runs import RunPlan, run_chunk
from sim.optimize import evaluate as ev
from sim.optimize import robust
from sim.optimize.resolve import Resolved
from sim.optimize.results import LEVER

#: Key of the base scenario among the verified candidates.
BASE = -1


@dataclass
class Verification:
    runs: pd.DataFrame  # point (trial number, or BASE), replication, seed, KPI columns, spend
    table: pd.DataFrame  # one row per (trial, KPI column): base mean, mean, paired difference and interval
    holds: dict[int, bool]  # trial -> every constraint met on the fresh seeds (means)
    seeds: list[int]


def verify(resolved: Resolved, executor: Any, picked: pd.DataFrame, run: Callable = run_chunk) -> Verification:
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
    columns = [*resolved.kpis] + ([ev.SPEND] if ev.SPEND in runs else [])
    base = base_rows.set_index("replication")
    out, holds = [], {}
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
    return Verification(runs, pd.DataFrame(out), holds, seeds)

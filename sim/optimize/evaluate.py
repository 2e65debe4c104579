"""Run candidates on the sweep's executors: one task per (candidate, replication), results in a fixed order.

A candidate is a lever setting. Replication r runs with seed ``seeds[r]`` and
uncertainty sample ``samples[r]`` whatever the candidate, so candidates are
compared on the same draws. Each task is its own chunk (the best balance over
workers); rows are sorted by (candidate, replication), so the result never
depends on which worker finished first.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from sim.config.errors import ScenarioWarning
from sim.experiment.runs import RunPlan, Task, run_chunk

#: Column of a run's measured daily spend on the budget's ledger lines.
SPEND = "spend_per_day"

Evaluator = Callable[[RunPlan, Sequence[Task]], tuple[pd.DataFrame, pd.DataFrame | None]]


def run_trials(plan: RunPlan, tasks: Sequence[Task]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``run_chunk`` without the scenario loader's warnings: resolving the optimization gave each one once, at
    the lever it comes from (``resolve.warn_trial_settings``), so the runs in the workers print none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return run_chunk(plan, tasks)


def tasks_for(
    candidates: Mapping[int, tuple[Any, ...]], seeds: Sequence[int], samples: Sequence[tuple[Any, ...]]
) -> list[Task]:
    """Every (candidate, replication) task; ``candidates`` maps a key (the trial number) to its lever values."""
    return [
        Task(key, r, seed, tuple(values) + tuple(samples[r]))
        for key, values in candidates.items()
        for r, seed in enumerate(seeds)
    ]


def evaluate(
    executor: Any,
    plan: RunPlan,
    tasks: Sequence[Task],
    run: Evaluator = run_trials,
) -> pd.DataFrame:
    """Run ``tasks`` on ``executor``; one row per task (point = candidate key), sorted by (point, replication).

    With ledger lines in the plan's series, ``spend_per_day`` is their total over the run divided by its days.
    """
    if not tasks:
        return pd.DataFrame()
    frames, series = [], []
    for _, (rows, daily) in executor.map(run, plan, [[t] for t in tasks]):
        frames.append(rows)
        if daily is not None:
            series.append(daily)
    out = pd.concat(frames, ignore_index=True).sort_values(["point", "replication"], kind="stable")
    if plan.series_kpis:
        spend = pd.Series(dtype="float64")
        if series:
            daily = pd.concat(series, ignore_index=True)
            daily["total"] = daily[list(plan.series_kpis)].sum(axis=1)
            grouped = daily.groupby(["point", "replication"])["total"]
            spend = grouped.sum() / grouped.count()
        keys = pd.MultiIndex.from_frame(out[["point", "replication"]])
        out[SPEND] = spend.reindex(keys).to_numpy(dtype="float64") if len(spend) else float("nan")
    return out.reset_index(drop=True)

"""Run two to six strategies with the same replication seeds and collect what the comparison needs.

Replication r of every strategy uses the same seed (common random numbers), so
differences between strategies are paired: the luck of replication r is shared.
Runs go through the sweep executors (local processes or Dask) and come back as
small, picklable records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.batch.executors import run_in_order
from sim.batch.seeds import replication_seeds
from sim.config.schema import Scenario


@dataclass
class RunRecord:
    """One strategy's run under one replication seed."""

    strategy: str
    replication: int
    seed: int
    timeseries: pd.DataFrame
    summary: dict
    cohorts: pd.DataFrame
    markers: list[dict] = field(default_factory=list)


@dataclass
class Ensemble:
    """Every run of a comparison, by strategy (in the order given) and replication."""

    strategies: list[str]
    seeds: list[int]
    runs: dict[tuple[str, int], RunRecord]
    scenarios: dict[str, dict] = field(default_factory=dict)

    @property
    def days(self) -> int:
        """Days every run covers (compare refuses runs of different lengths)."""
        return len(next(iter(self.runs.values())).timeseries)

    def of(self, strategy: str) -> list[RunRecord]:
        return [self.runs[(strategy, r)] for r in range(len(self.seeds)) if (strategy, r) in self.runs]

    def series(self, strategy: str, kpi: str) -> np.ndarray:
        """replications x days array of one KPI."""
        return np.vstack([rec.timeseries[kpi].to_numpy() for rec in self.of(strategy)])


def _run(plan: Sequence[dict], task: tuple[int, int, int]) -> RunRecord:
    """Worker: run strategy ``task[0]`` with replication ``task[1]``'s seed ``task[2]``."""
    from sim.run.runner import simulate
    from sim.run.summary import cohort_retention

    index, replication, seed = task
    scenario = Scenario.model_validate({**plan[index], "seed": seed})
    result = simulate(scenario, record_events=False)
    return RunRecord(
        scenario.name,
        replication,
        seed,
        result.timeseries,
        result.summary,
        cohort_retention(result.model.pop, len(result.timeseries)),
        list(result.model.markers),
    )


def run_ensemble(
    scenarios: Sequence[Scenario],
    replications: int,
    master_seed: int,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    labels: Sequence[str] | None = None,
) -> Ensemble:
    """Run every scenario ``replications`` times with the same spawned seeds.

    Strategies are called ``labels`` (default: the scenario names), which must be distinct.
    """
    names = list(labels) if labels is not None else [s.name for s in scenarios]
    if len(set(names)) != len(names) or len(names) != len(scenarios):
        raise ValueError(f"strategies need distinct names, one per scenario, got {names}")
    seeds = replication_seeds(master_seed, replications)
    plan = [s.model_dump(mode="json") for s in scenarios]
    tasks = [(i, r, seed) for r, seed in enumerate(seeds) for i in range(len(scenarios))]
    runs: dict[tuple[str, int], RunRecord] = {}
    records = run_in_order(_run, plan, tasks, executor, workers, scheduler, progress)
    for (i, _, _), rec in zip(tasks, records, strict=True):
        rec.strategy = names[i]
        runs[(rec.strategy, rec.replication)] = rec
    return Ensemble(names, seeds, runs, {n: s.model_dump(mode="json") for n, s in zip(names, scenarios, strict=True)})

"""The worker side of a sweep: turn a task (design point, replication, seed) into one result row.

Runs on local worker processes or Dask workers alike, so it takes plain picklable
data and touches no global state. A run that raises becomes a ``failed`` row
with its error and seed; it never stops the chunk.
"""

from __future__ import annotations

import copy
import math
import time
import traceback
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.errors import ScenarioError
from sim.config.loader import apply_overrides, scenario_from_mapping, with_operating_model
from sim.config.schema import Scenario
from sim.experiment import paths
from sim.experiment.kpis import extract

#: The scenario key whose factor levels are operating-model presets (sim/config/presets/).
PRESET_KEY = "operating_model"
#: Result columns before the KPIs, in order.
RUN_COLUMNS = ("point", "replication", "seed", "status", "error", "wall_seconds")


@dataclass(frozen=True)
class Setter:
    """How one factor's value enters the scenario data."""

    name: str
    tokens: tuple[paths.Token, ...] | None  # None: the ``scenario`` factor (picks the base)
    renormalize: tuple[paths.Token, ...] | None = None

    @property
    def preset(self) -> bool:
        """The ``operating_model`` factor lays its preset over the base rather than setting one key."""
        return self.tokens == (PRESET_KEY,)


@dataclass(frozen=True)
class RunPlan:
    """Everything a worker needs besides the tasks; small and sent with each chunk."""

    bases: dict[str, dict]  # label ("" for a single base) -> resolved scenario data
    setters: tuple[Setter, ...]
    kpis: tuple[str, ...]
    series_every: int | None = None
    series_kpis: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()  # the experiment's ``set``, laid again over an operating-model preset


@dataclass(frozen=True)
class Task:
    """One run: a design point's factor values (in setter order), a replication and its seed."""

    point: int
    replication: int
    seed: int
    values: tuple[Any, ...]


def build_scenario(plan: RunPlan, task: Task) -> Scenario:
    """The base scenario with the point's factor values set, renormalized and validated, with the run's seed."""
    label = next((v for s, v in zip(plan.setters, task.values, strict=True) if s.tokens is None), "")
    data = copy.deepcopy(plan.bases[label])
    for setter, value in zip(plan.setters, task.values, strict=True):
        if setter.preset:  # base < preset < the experiment's set < the other factors
            data = apply_overrides(with_operating_model(data, str(value)), plan.overrides)
    tables: dict[tuple, set] = defaultdict(set)
    for setter, value in zip(plan.setters, task.values, strict=True):
        if setter.tokens is not None and not setter.preset:
            paths.set_value(data, setter.tokens, value.item() if isinstance(value, np.generic) else value)
            if setter.renormalize is not None:
                tables[setter.renormalize].add(setter.tokens[-1])
    for table, fixed in tables.items():
        renormalize(paths.get_value(data, table), fixed, ".".join(map(str, table)))
    data["seed"] = int(task.seed)
    return scenario_from_mapping(data, source=f"design point {task.point}")


def renormalize(shares: dict[str, float], fixed: set[str], name: str) -> None:
    """Rescale the entries of ``shares`` not in ``fixed`` so that all of them sum to 1 again."""
    taken = math.fsum(shares[k] for k in fixed)
    others = [k for k in shares if k not in fixed]
    rest = math.fsum(shares[k] for k in others)
    if taken > 1 + 1e-9:
        raise ValueError(f"the varied shares of {name} sum to {taken:.6g} > 1: nothing is left for the others")
    if rest <= 0:
        if abs(taken - 1) > 1e-9:
            raise ValueError(f"cannot renormalize {name}: its other entries are all zero")
        return
    scale = (1.0 - taken) / rest
    for k in others:
        shares[k] *= scale


def run_chunk(plan: RunPlan, tasks: Sequence[Task]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run ``tasks`` one after another; return their result rows and (optionally) downsampled series."""
    from sim.run.runner import simulate

    rows, series = [], []
    for task in tasks:
        start = time.perf_counter()
        row: dict[str, Any] = {"point": task.point, "replication": task.replication, "seed": task.seed}
        try:
            result = simulate(build_scenario(plan, task), record_events=False)
            row.update(status="ok", error=None, **extract(result.summary, plan.kpis))
            if plan.series_every:
                series.append(_series(result.timeseries, task, plan))
        except Exception as exc:  # noqa: BLE001 - a failed run is a result, not a crash
            row.update(status="failed", error=describe(exc), **{k: math.nan for k in plan.kpis})
        row["wall_seconds"] = time.perf_counter() - start
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*RUN_COLUMNS, *plan.kpis])
    return frame, (pd.concat(series, ignore_index=True) if series else None)


def describe(exc: BaseException) -> str:
    """One line for the error column: the message, and where it was raised unless it is a scenario problem."""
    if isinstance(exc, ScenarioError):
        return str(exc).replace("\n", "; ")
    text = f"{type(exc).__name__}: {exc}".replace("\n", "; ")
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" (at {Path(last.filename).name}:{last.lineno} in {last.name})"
    return text


def _series(ts: pd.DataFrame, task: Task, plan: RunPlan) -> pd.DataFrame:
    keep = sorted(set(range(0, len(ts), plan.series_every or 1)) | {len(ts) - 1})
    out = ts.iloc[keep][list(plan.series_kpis)].astype("float64").reset_index()
    out.insert(0, "replication", np.int64(task.replication))
    out.insert(0, "point", np.int64(task.point))
    return out

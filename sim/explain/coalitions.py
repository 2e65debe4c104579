"""Run every coalition scenario with the same replication seeds and keep what the attribution needs.

Each coalition is run once per replication; one run gives every KPI and every
component (gross margin, each ledger line, joins by source, churn), so all of them
are attributed from the same runs. Replication r of every coalition uses the same
seed (common random numbers), so a group that changes nothing the members do
leaves every behavioural number exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydantic import ValidationError

from sim.compare.ensemble import RunRecord, run_ensemble
from sim.config.schema import Scenario
from sim.experiment.kpis import extract
from sim.explain.changes import Group, coalition_scenario
from sim.mechanisms.registry import JOIN_SOURCES, LINES
from sim.observe.metrics import KIND


class CoalitionError(ValueError):
    """A mix of A's and B's values is not a valid scenario (keys that must change together were split)."""


def components() -> list[str]:
    """What each group's contribution is broken down into: margin and ledger lines (profit = margin - lines),
    joins by source and churn (members at the end = joins - churned)."""
    return ["margin", *(f"line:{line}" for line in LINES), *(f"joins:{src}" for src in JOIN_SOURCES), "churned"]


def run_value(ts, column: str) -> float:
    """``run.<kpi>``: a time-series KPI over the run, its total (flows) or its last day's value (stocks)."""
    name = column.split(".", 1)[1]
    return float(ts[name].sum() if KIND[name] == "flow" else ts[name].iloc[-1])


def run_metrics(rec: RunRecord, kpis: list[str]) -> list[float]:
    """The KPI columns of one run, then its components (``components()`` order)."""
    final = rec.summary["final"]
    ts = rec.timeseries
    summary = extract(rec.summary, [k for k in kpis if not k.startswith("run.")])
    values = [run_value(ts, k) if k.startswith("run.") else summary[k] for k in kpis]
    values.append(float(final["gross_margin"]))
    values += [float(ts[f"line_{line}"].sum()) if f"line_{line}" in ts else 0.0 for line in LINES]
    values += [float(final.get(f"new_{src}", 0.0)) for src in JOIN_SOURCES]
    values.append(float(final["churned"]))
    return values


@dataclass(frozen=True)
class Evaluated:
    """Per coalition mask, an array replications x (KPIs + components)."""

    values: dict[int, np.ndarray]
    seeds: list[int]
    metrics: list[str]


def build_scenarios(a: dict, b: dict, groups: list[Group], masks: list[int]) -> list[Scenario]:
    """The validated scenario of each coalition; ``CoalitionError`` names the groups of one that is invalid."""
    out = []
    for mask in masks:
        try:
            out.append(Scenario.model_validate(coalition_scenario(a, b, groups, mask)))
        except ValidationError as exc:
            changed = [g.name for i, g in enumerate(groups) if mask & (1 << i)] or ["none"]
            reason = exc.errors()[0]
            where = ".".join(str(p) for p in reason.get("loc", ()))
            raise CoalitionError(
                f"the mix with B's values for {', '.join(changed)} and A's for the rest is not a valid scenario "
                f"({where}: {reason.get('msg')}); put the keys that must change together in one group "
                "(--group NAME=key,key)"
            ) from None
    return out


def evaluate(
    a: dict,
    b: dict,
    groups: list[Group],
    masks: list[int],
    kpis: list[str],
    replications: int,
    seed: int,
    run: Callable[..., object] | None = None,
    **executor: object,
) -> Evaluated:
    """Run coalitions ``masks`` ``replications`` times each (same seeds) on the sweep executors.

    ``run`` replaces ``run_ensemble`` (``sim.compare.cli.simulate_ensemble`` adds a progress bar);
    ``executor`` holds its executor, workers and scheduler arguments.
    """
    scenarios = build_scenarios(a, b, groups, masks)
    labels = [f"coalition {mask}" for mask in masks]
    if run is None:
        ens = run_ensemble(scenarios, replications, seed, labels=labels, **executor)
    else:
        ens = run(scenarios, labels, replications, seed, **executor)
    values = {
        mask: np.array([run_metrics(rec, kpis) for rec in ens.of(label)], dtype=float)
        for mask, label in zip(masks, labels, strict=True)
    }
    return Evaluated(values, list(ens.seeds), [*kpis, *components()])

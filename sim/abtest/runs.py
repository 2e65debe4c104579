"""One replication of the test: the community with no one treated, with everyone treated, and
under each A/B design of the grid, all with the same seed (common random numbers).

The test's members are those of the community on its first day (after ``warmup`` days); each
run records their outcomes at every checkpoint. Runs go through the sweep executors (local
processes or Dask) and come back as small, picklable records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.abtest import assign
from sim.abtest.design import UNITS, Design
from sim.batch.executors import run_in_order
from sim.batch.seeds import replication_seeds
from sim.config.schema import Scenario
from sim.core.population import MEMBER
from sim.core.treatment import Treatment

#: outcomes[checkpoint day][metric] -> one value per test member
Outcomes = dict[int, dict[str, np.ndarray]]


@dataclass
class Replication:
    """What the analysis needs of one replication."""

    replication: int
    seed: int
    clusters: np.ndarray  # network community of each test member
    worlds: dict[str, Outcomes]  # "none", "all", and "unit/share" for each A/B design
    arms: dict[str, np.ndarray] = field(default_factory=dict)  # "unit/share" -> treated flag of each test member
    ties_within: float = 0.0  # share of friendships inside one network community


def world_name(unit: str, share: float) -> str:
    return f"{unit}/{share:g}"


def outcomes(pop, cohort: np.ndarray, start: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The test members' outcomes since the test began (``start``: their counters then)."""
    return {
        "joins": (pop.invites_accepted[cohort] - start["joins"]).astype(np.float64),
        "purchases": (pop.purchases[cohort] - start["purchases"]).astype(np.float64),
        "spend": pop.spend[cohort] - start["spend"],
        "churned": (pop.status[cohort] != MEMBER).astype(np.float64),
    }


def simulate(
    scenario: Scenario, seed: int, design: Design, treatment: Callable[[object], Treatment | None]
) -> tuple[np.ndarray, Outcomes, object]:
    """Run ``scenario``; ``treatment(model)`` gives the test's arms once the model is built.
    Returns the test members, their outcomes at every checkpoint, and the model."""
    from sim.model import CommunityModel

    model = CommunityModel(scenario, seed=seed, record_events=False)
    model.treatment = treatment(model)
    cohort = np.flatnonzero(model.pop.status == MEMBER)
    start = outcomes(model.pop, cohort, {k: 0 for k in ("joins", "purchases", "spend")})
    found: Outcomes = {}
    points = {design.warmup + d: d for d in design.checkpoints}

    def look(done: int) -> None:
        nonlocal cohort, start
        if done == design.warmup:  # the test begins: its members are today's members
            cohort = np.flatnonzero(model.pop.status == MEMBER)
            start = outcomes(model.pop, cohort, {k: 0 for k in ("joins", "purchases", "spend")})
        if done in points:
            found[points[done]] = outcomes(model.pop, cohort, start)

    look(0)
    model.run(design.warmup + design.days, progress=look)
    return cohort, found, model


def run_replication(plan: dict, task: tuple[int, int]) -> Replication:
    """Worker: every run of replication ``task[0]`` with seed ``task[1]``."""
    replication, seed = task
    design: Design = plan["design"]
    base = Scenario.model_validate({**plan["base"], "seed": seed})
    treated = Scenario.model_validate({**plan["treated"], "seed": seed})

    cohort, none, model = simulate(base, seed, design, lambda m: None)
    units = {"member": np.arange(model.pop.n), "cluster": assign.communities(model.network, seed)}
    rep = Replication(replication, seed, units["cluster"][cohort], {"none": none})
    rep.ties_within = assign.ties_within(model.network, units["cluster"])
    everyone = np.ones(model.pop.n, dtype=bool)
    _, rep.worlds["all"], _ = simulate(base, seed, design, lambda m: Treatment(everyone, treated, design.warmup))
    for u, unit in enumerate(UNITS):
        for s, share in enumerate(design.shares):
            flags = assign.treated(units[unit], share, assign.arm_rng(seed, u, s))
            members, found, _ = simulate(base, seed, design, lambda m, f=flags: Treatment(f, treated, design.warmup))
            name = world_name(unit, share)
            rep.worlds[name], rep.arms[name] = found, flags[members]
    return rep


def run_replications(
    base: Scenario,
    treated: Scenario,
    design: Design,
    replications: int,
    master_seed: int,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Replication]:
    """Every replication, in order, with seeds spawned from ``master_seed`` as ``compare`` does."""
    plan = {"base": base.model_dump(mode="json"), "treated": treated.model_dump(mode="json"), "design": design}
    tasks = list(enumerate(replication_seeds(master_seed, replications)))
    return run_in_order(run_replication, plan, tasks, executor, workers, scheduler, progress)

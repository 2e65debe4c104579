"""Helpers for the optimization tests: a synthetic evaluator with a known optimum, and files that use it.

The synthetic evaluator has the worker function's signature (``run_chunk(plan, tasks)``),
so it runs through the same search, budget, constraint, storage and verification code.
With x = acquisition.paid.daily_budget, y = referral.reward_inviter and u = the sampled
referral.base_acceptance:

    final.profit      = -(x - 600)^2 / 1000 - 0.2 (y - 10)^2 + 100 u - 10
    retention.day_180 = 0.5 + 0.01 y                       (>= 0.70 needs y >= 20)
    budget (per_day)  = x + 10 y <= 750                    (at y = 20: x <= 550)

so the constrained optimum is x = 550, y = 20, where the mean profit is -32.5 + 100 E[u]:
both the KPI constraint and the budget bind there. Every run's profit (final.cum_profit) is final.profit
and its spend (final.cost_total) is 100 + x + 10 y.

``synthetic_roi`` is a losing business whose ROI rises with the paid budget x while its profit falls:

    final.cost_total = 1000 + 100 x,  final.cum_profit = -500 - 40 x + 100 u,  final.roi = profit / cost

so every x above the base's 200 has a higher ROI than the base, less profit and more spend.
"""

from __future__ import annotations

import os
import signal
import textwrap
from pathlib import Path

import pandas as pd

from sim.experiment.runs import RUN_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
OPTIMUM = {"acquisition.paid.daily_budget": 550.0, "referral.reward_inviter": 20.0}

SYNTHETIC = """\
set: {days: 200}
levers:
  acquisition.paid.daily_budget: {range: [0, 1000], step: 10}
  referral.reward_inviter: {range: [0, 40], step: 1}
budget:
  limit: 750
  per_day: {acquisition.paid.daily_budget: 1, referral.reward_inviter: 10}
uncertainties:
  referral.base_acceptance: {dist: uniform, low: 0.1, high: 0.4}
objectives:
  - {kpi: final.profit, direction: maximize}
constraints:
  - {kpi: retention.day_180, min: 0.70}
replications: 3
seed: 11
search: {batch: 4, startup: 10}
verify: {top: 2, replications: 4}
"""


def write_spec(folder: Path, body: str = SYNTHETIC, name: str = "opt.yaml", scenario: Path = SMOKE) -> Path:
    path = folder / name
    path.write_text(f"scenario: {scenario}\n" + textwrap.dedent(body), encoding="utf-8")
    return path


def ok_row(task, **kpis) -> dict:
    """A successful run's row of the synthetic evaluators: the task's identity and the given KPI values."""
    return {
        "point": task.point,
        "replication": task.replication,
        "seed": task.seed,
        "status": "ok",
        "error": None,
        "wall_seconds": 0.0,
        **kpis,
    }


def synthetic(plan, tasks):
    """The known-optimum evaluator; SIGKILLs its own process after ``OPT_KILL_AFTER`` tasks when that is set."""
    rows = []
    for task in tasks:
        if os.environ.get("OPT_KILL_AFTER"):
            counter = Path(os.environ["OPT_KILL_COUNTER"])
            n = int(counter.read_text()) + 1 if counter.exists() else 1
            counter.write_text(str(n))
            if n > int(os.environ["OPT_KILL_AFTER"]):
                os.kill(os.getpid(), signal.SIGKILL)
        given = {s.name: float(v) for s, v in zip(plan.setters, task.values, strict=True)}
        base = plan.bases[""]  # the base scenario (verification's baseline) sets no levers
        x = given.get("acquisition.paid.daily_budget", base["acquisition"]["paid"]["daily_budget"])
        y = given.get("referral.reward_inviter", base["referral"]["reward_inviter"])
        u = given["referral.base_acceptance"]
        profit = -((x - 600) ** 2) / 1000 - 0.2 * (y - 10) ** 2 + 100 * u - 10
        rows.append(
            ok_row(
                task,
                **{
                    "final.profit": profit,
                    "final.cum_profit": profit,
                    "final.cost_total": 100 + x + 10 * y,
                    "retention.day_180": 0.5 + 0.01 * y,
                },
            )
        )
    return pd.DataFrame(rows, columns=[*RUN_COLUMNS, *plan.kpis]), None


def search_synthetic(spec: str | Path, out: str | Path, trials: int):
    """The search alone (no verification or outputs) into ``out``, on the synthetic evaluator; the SIGKILL
    test's child process runs it too."""
    from sim.batch.executors import SerialExecutor
    from sim.optimize.resolve import resolve_optimization
    from sim.optimize.run import prepare
    from sim.optimize.search import open_study, run_search

    resolved = resolve_optimization(spec)
    prepare(Path(out), resume=False)
    study = open_study(resolved, Path(out))
    return run_search(resolved, study, SerialExecutor(), trials, run=synthetic)


SYNTHETIC_ROI = """\
set: {days: 60}
levers:
  acquisition.paid.daily_budget: {range: [0, 1000], step: 10}
  content.posts_per_day: {range: [1, 3], step: 1}
uncertainties:
  referral.base_acceptance: {dist: uniform, low: 0.1, high: 0.4}
objectives:
  - {kpi: final.roi, direction: maximize}
replications: 2
seed: 5
search: {batch: 4, startup: 8}
verify: {top: 2, replications: 4}
"""


def synthetic_roi(plan, tasks):
    """ROI that rises with the paid budget while the profit falls (see the module docstring)."""
    rows = []
    for task in tasks:
        given = {s.name: float(v) for s, v in zip(plan.setters, task.values, strict=True)}
        x = given.get("acquisition.paid.daily_budget", plan.bases[""]["acquisition"]["paid"]["daily_budget"])
        u = given["referral.base_acceptance"]
        cost, profit = 1000 + 100 * x, -500 - 40 * x + 100 * u
        rows.append(ok_row(task, **{"final.cum_profit": profit, "final.cost_total": cost, "final.roi": profit / cost}))
    return pd.DataFrame(rows, columns=[*RUN_COLUMNS, *plan.kpis]), None

"""The Python API for notebooks: load a scenario, simulate it, compare strategies, as DataFrames.

    import sim.api as cs

    scenario = cs.load("scenarios/baseline.yaml", {"market.size": 20000}, days=180)
    run = cs.simulate(scenario, seed=7)
    run.timeseries["members"].plot()
    cmp = cs.compare(["scenarios/baseline.yaml", "scenarios/points_program.yaml"], replications=4)
    cmp.table

Each function calls what the command line calls (the loader, the runner, the
comparison), so overrides are checked with the same messages (``ScenarioError``),
a seed gives the same numbers as ``community-sim run --seed``, and ``Run.save``
writes the same run directory. See docs/api.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.compare.cli import CompareError, check_horizons, choose_baseline, file_labels, parse_objective
from sim.compare.ensemble import Ensemble, run_ensemble
from sim.compare.loading import unique
from sim.compare.ranking import ranking
from sim.compare.table import KPIS, comparison_table, summary_sentences, value
from sim.config.errors import ScenarioError
from sim.config.loader import load_scenario, revise_scenario
from sim.config.schema import Scenario
from sim.run import runner
from sim.run.atomic import default_run_dir, release

__all__ = [
    "CompareError",
    "Comparison",
    "Run",
    "Scenario",
    "ScenarioError",
    "compare",
    "load",
    "replicate",
    "simulate",
]

#: The master seed of replication seeds when none is given (``community-sim compare``'s default).
COMPARE_SEED = 20261122

Overrides = Mapping[str, Any] | Sequence[str] | None


def override_strings(overrides: Overrides) -> list[str]:
    """``{"market.size": 5000}`` (or ``["market.size=5000"]``) as the ``--set key=value`` texts the CLI passes."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        return [overrides]
    if not isinstance(overrides, Mapping):
        return [str(o) for o in overrides]
    return [f"{key}={_yaml_text(v)}" for key, v in overrides.items()]


def _yaml_text(value: Any) -> str:
    """A value written so that the loader's YAML parsing gives it back (``"hybrid"`` stays a bare word)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        try:
            if yaml.safe_load(value) == value and "\n" not in value:
                return value
        except yaml.YAMLError:
            pass
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str)


def load(
    path: str | Path | Scenario,
    overrides: Overrides = None,
    *,
    days: int | None = None,
    seed: int | None = None,
) -> Scenario:
    """A validated scenario from a YAML file (or a scenario already loaded), with overrides.

    ``overrides`` maps key paths to values, ``{"market.size": 20000, "content.mix.review": 0.3}``,
    as ``--set`` does; ``days`` and ``seed`` win as ``--days`` and ``--seed`` do. Raises
    ``ScenarioError`` with the command line's message (file, line, key) on bad input.
    """
    texts = override_strings(overrides)
    if isinstance(path, Scenario):
        return revise_scenario(path, texts, days=days, seed=seed)
    return load_scenario(path, texts, days=days, seed=seed)


@dataclass
class Run:
    """One simulated run in memory: its KPIs by day, events, summary and scenario."""

    scenario: Scenario
    timeseries: pd.DataFrame
    events: pd.DataFrame
    summary: dict
    seconds: float
    started: str
    result: runner.RunResult = field(repr=False)

    @property
    def final(self) -> pd.Series:
        """The whole-run KPIs of ``summary["final"]`` as a Series (flows summed, stocks on the last day)."""
        return pd.Series(self.summary["final"], name=self.scenario.name)

    def save(self, directory: str | Path | None = None, results: str | Path = "results") -> Path:
        """Write the run directory ``community-sim run`` writes (atomically) and return its path.

        ``directory`` must be new or empty; by default ``results/<scenario>/<UTC time>-s<seed>``.
        """
        started = self.started
        if directory is not None:
            out = Path(directory)
            runner.save_run(self.scenario, self.result, out, started)
            return out
        out = default_run_dir(Path(results), self.scenario)
        try:
            runner.save_run(self.scenario, self.result, out, started)
        finally:
            release(out)
        return out

    def __repr__(self) -> str:
        days, members = len(self.timeseries), self.summary["final"]["members"]
        return f"Run({self.scenario.name!r}, seed={self.scenario.seed}, days={days}, members={members:,.0f})"


def simulate(
    scenario: Scenario | str | Path,
    *,
    seed: int | None = None,
    days: int | None = None,
    overrides: Overrides = None,
) -> Run:
    """Run one scenario (or the YAML file at a path) in memory and return the ``Run``.

    ``seed``/``days``/``overrides`` change the scenario first, as in ``load``. The summary
    holds the incentive counterfactual when incentives run, as ``summary.json`` does.
    """
    if not isinstance(scenario, Scenario) or seed is not None or days is not None or overrides:
        scenario = load(scenario, overrides, days=days, seed=seed)
    started = runner.now_utc()
    result = runner.simulate(scenario)
    runner.add_incentive_effect(scenario, result)
    events = result.model.events.frame() if result.model.events.enabled else _no_events()
    return Run(scenario, result.timeseries, events, result.summary, result.seconds, started, result)


def _no_events() -> pd.DataFrame:
    return pd.DataFrame(columns=["day", "person", "kind", "source", "amount", "net", "counterpart", "label"])


@dataclass
class Comparison:
    """Paired replications of 2 to 6 strategies and what ``community-sim compare`` reports from them."""

    table: pd.DataFrame  # comparison.csv: per strategy and KPI, mean and CI, paired difference to the baseline
    ranking: pd.DataFrame  # ranking.csv: strategies by the objective, constraint breakers last
    sentences: list[str]  # the plain-language summary, one per strategy against the baseline
    baseline: str
    ensemble: Ensemble = field(repr=False)

    @property
    def runs(self) -> pd.DataFrame:
        """One row per strategy and replication: its seed and the compared KPIs (``comparison.csv``'s ``kpi``)."""
        return _runs_frame(self.ensemble)

    def kpi(self, key: str = "final.cum_profit") -> pd.DataFrame:
        """One KPI's rows of the table: mean, CI and the paired difference of each strategy."""
        return self.table[self.table["kpi"] == key].set_index("strategy")


def _runs_frame(ens: Ensemble) -> pd.DataFrame:
    rows = [
        {"strategy": s, "replication": rec.replication, "seed": rec.seed, **{k: value(rec, k) for k, *_ in KPIS}}
        for s in ens.strategies
        for rec in ens.of(s)
    ]
    return pd.DataFrame(rows)


def _strategies(items: Sequence[Scenario | str | Path], texts: list[str], days: int | None) -> tuple[list, list]:
    """Scenarios and their strategy names, loaded and named as the compare command does."""
    scenarios = [load(s, texts, days=days) for s in items]
    paths = [Path(s) if not isinstance(s, Scenario) else Path(s.name) for s in items]
    check_horizons(paths, scenarios)
    if all(not isinstance(s, Scenario) for s in items):
        return scenarios, file_labels(paths, scenarios)
    return scenarios, unique([s.name for s in scenarios])


def compare(
    strategies: Sequence[Scenario | str | Path],
    *,
    replications: int = 10,
    days: int | None = None,
    objective: str = "profit",
    constraints: Sequence[str] = (),
    baseline: str | None = None,
    seed: int = COMPARE_SEED,
    overrides: Overrides = None,
    workers: int | None = None,
    executor: str = "local",
) -> Comparison:
    """Run 2 to 6 strategies with the same replication seeds and build the comparison table.

    Arguments mean what the ``compare`` options mean (``overrides`` is ``--set``, applied to
    every strategy). Raises ``CompareError`` or ``ScenarioError`` with the command's messages.
    """
    if not 2 <= len(strategies) <= 6:
        raise CompareError(f"compare takes 2 to 6 strategies, got {len(strategies)}")
    if replications < 1:
        raise CompareError(f"replications must be at least 1, got {replications}")
    names = ("objective", "constraints")
    parse_objective(objective, list(constraints), None, names)  # a typo is reported before the files are read
    scenarios, labels = _strategies(strategies, override_strings(overrides), days)
    goal = parse_objective(objective, list(constraints), scenarios[0].days, names)
    stems = {Path(s).stem: label for s, label in zip(strategies, labels, strict=True) if not isinstance(s, Scenario)}
    base = choose_baseline(baseline, labels, stems)
    ens = run_ensemble(scenarios, replications, seed, executor, workers, None, labels=labels)
    n_days = len(next(iter(ens.runs.values())).timeseries)
    return Comparison(
        comparison_table(ens, base), ranking(ens, base, goal), summary_sentences(ens, base, goal, n_days), base, ens
    )


def replicate(
    scenario: Scenario | str | Path,
    replications: int = 10,
    *,
    seed: int = COMPARE_SEED,
    days: int | None = None,
    overrides: Overrides = None,
    workers: int | None = None,
    executor: str = "local",
) -> pd.DataFrame:
    """Run one scenario with ``replications`` spawned seeds; one row per replication, the compared KPIs."""
    sc = load(scenario, overrides, days=days)
    ens = run_ensemble([sc], replications, seed, executor, workers, None)
    return _runs_frame(ens).drop(columns="strategy")

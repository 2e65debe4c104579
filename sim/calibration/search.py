"""The calibration problem and its optuna (TPE) search.

Every trial runs the same R replication seeds (common random numbers: two trials
differ by their parameters, not by luck), aggregates each run like the observed
series and scores the mean over replications with ``distance.distance`` on the
training periods. The seeds come from ``SeedSequence(seed).spawn(R)`` and the
sampler's seed from the same master seed, so the same inputs give the same result.

Pruning (early stopping of hopeless trials) works on the replications: with ``prune``, every
trial of a batch first runs the first common seed only; its one-run distance is reported to
optuna's ``MedianPruner``, and a trial worse than the median of the completed trials' one-run
distances skips its other replications. The decisions are taken in the main process in trial
order, after the whole batch's first runs, so they never depend on the executor or the workers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd

from sim.batch.executors import SerialExecutor
from sim.calibration import CalibrationError
from sim.calibration.distance import distance, scale_of
from sim.calibration.observed import Observed, period_bounds
from sim.calibration.params import FitParam, Target, with_values
from sim.config.loader import scenario_from_mapping
from sim.config.schema import Scenario
from sim.model import CommunityModel

MAX_SEED = 2**63 - 1
#: Completed trials before pruning starts (optuna's default): a median of fewer says little.
PRUNE_STARTUP = 5
_SAMPLER_WORD = 0xCA11_B4A7  # separates the sampler's seed from the replications'


def sampler_seed(master: int) -> int:
    """Seed of the TPE sampler, drawn from its own stream of the master seed."""
    return int(np.random.SeedSequence([master, _SAMPLER_WORD]).generate_state(1, np.uint32)[0])


@dataclass
class Problem:
    """What to fit (``params``), to what (``observed``, ``targets``), and how runs are made."""

    base: dict[str, Any]  # the resolved input scenario as plain data
    params: list[FitParam]
    targets: list[Target]
    observed: Observed
    seeds: list[int]
    train_until: int | None = None
    executor: Any = field(default=None, repr=False)  # sim.batch.executors: where replications run (serial if None)
    windows: np.ndarray = field(init=False)  # "train" / "holdout" per observed period
    scales: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        ends = np.array([period_bounds(int(p), self.observed.period, self.observed.start)[1] for p in self.periods])
        split = self.train_until
        self.windows = np.array(["train" if split is None or end <= split else "holdout" for end in ends])
        if not (self.windows == "train").any():
            first = period_bounds(int(self.periods[0]), self.observed.period, self.observed.start)[1]
            raise CalibrationError(
                f"--train-until {split} leaves no whole observed {self.observed.period} to train on; "
                f"the first one ends on day {first - 1}"
            )
        self.scales = {
            t.kpi: scale_of(self.observed_values(t.kpi, "train"), t.kpi, self.observed.path) for t in self.targets
        }
        self.train_horizon = int(ends[self.windows == "train"].max())
        self._trial_base = self._runnable(self.base)

    @property
    def periods(self) -> np.ndarray:
        return self.observed.table.index.to_numpy()

    def observed_values(self, kpi: str, window: str | None = None) -> np.ndarray:
        values = self.observed.table[kpi].to_numpy(dtype=float)
        return values if window is None else values[self.windows == window]

    def _runnable(self, data: dict[str, Any]) -> dict[str, Any]:
        """Trial runs: long enough for every observed period, no files, no plots."""
        data = dict(data)
        data["days"] = max(int(data["days"]), self.observed.horizon)
        data["output"] = {**data.get("output", {}), "events": False, "plots": False}
        if data["days"] > 3650:
            raise CalibrationError(f"the observed series needs {data['days']} simulated days; at most 3650 can be run")
        return data

    def scenario(self, values: dict[str, float], seed: int | None = None) -> Scenario:
        """The input scenario with ``values`` set (and ``seed``, when given) as runnable for a trial."""
        data = with_values(self._trial_base, self.params, values)
        if seed is not None:
            data["seed"] = seed
        return scenario_from_mapping(data, "calibration trial")

    def simulate(self, values: dict[str, float]) -> dict[str, np.ndarray]:
        """Each target's aggregated series per replication: ``{kpi: array (R, periods)}``.

        The replications run on ``executor`` (the batch layer shared with sweeps, compare and
        validate); results are put back in seed order, so any executor gives the same numbers.
        """
        return self.simulate_many([values])[0]

    def simulate_many(
        self, points: list[dict[str, float]], seeds: list[list[int]] | None = None, window: str | None = None
    ) -> list[dict[str, np.ndarray]]:
        """``simulate`` at several parameter points in one batch on ``executor`` (all their runs in parallel);
        ``seeds[i]`` are point i's replication seeds (default: the common ``seeds``).

        ``window="train"`` runs only until the training periods end (the model is causal, so their values
        are the same as in a full run; the holdout periods come back empty): what the search and the
        uncertainty, which score the training periods only, need, in about the training share of the time."""
        seeds = seeds if seeds is not None else [self.seeds] * len(points)
        chunks = [(values, seed) for values, point_seeds in zip(points, seeds, strict=True) for seed in point_seeds]
        horizon = self.train_horizon if window == "train" else self.observed.horizon
        plan = (self._trial_base, self.params, horizon, list(self.observed.table))
        daily: list[pd.DataFrame | None] = [None] * len(chunks)
        for i, ts in (self.executor or SerialExecutor()).map(run_point, plan, chunks):
            daily[i] = ts
        out, at = [], 0
        for point_seeds in seeds:
            runs = [self.observed.align(ts) for ts in daily[at : at + len(point_seeds)]]
            at += len(point_seeds)
            out.append({t.kpi: np.stack([r[t.kpi].to_numpy(dtype=float) for r in runs]) for t in self.targets})
        return out

    def score(self, sims: dict[str, np.ndarray], window: str = "train") -> float:
        """The distance of the replication means to the observed series in ``window``."""
        keep = self.windows == window
        obs = {t.kpi: self.observed_values(t.kpi)[keep] for t in self.targets}
        mean = {k: v.mean(axis=0)[keep] for k, v in sims.items()}
        return distance(obs, mean, {t.kpi: t.weight for t in self.targets}, self.scales)

    def distance(self, values: dict[str, float]) -> float:
        """Training distance at ``values`` (the objective of the search)."""
        return self.score(self.simulate(values))

    def start_values(self) -> dict[str, float] | None:
        """The input scenario's own values of the fitted keys, if every one lies in its range."""
        out = {}
        for p in self.params:
            node: Any = self.base
            for part in p.path.replace("[", ".").replace("]", "").split("."):
                node = node[int(part)] if isinstance(node, list) else (node or {}).get(part)
            if not isinstance(node, int | float) or not p.low <= node <= p.high:
                return None
            out[p.path] = node
        return out


@dataclass
class Trial:
    number: int
    values: dict[str, float]
    distance: float  # of the mean over the replications run (one run when pruned)
    sims: dict[str, np.ndarray] | None = field(default=None, repr=False)  # the runs, for the profile afterwards
    pruned: bool = False  # stopped after the first replication: never the best


def run_point(plan: tuple[dict[str, Any], list[FitParam], int, list[str]], chunk: tuple[dict, int]) -> pd.DataFrame:
    """One run of a batch: the trial base with the chunk's values and seed (a batch-layer task)."""
    base, params, horizon, kpis = plan
    values, seed = chunk
    return run_replication((with_values(base, params, values), horizon, kpis), seed)


def run_replication(plan: tuple[dict[str, Any], int, list[str]], seed: int) -> pd.DataFrame:
    """One replication of a trial: the scenario data with ``seed``, run for the observed horizon; the KPIs
    the observed series has (a batch-layer task: module level, so process workers can run it)."""
    data, horizon, kpis = plan
    model = CommunityModel(scenario_from_mapping({**data, "seed": seed}, "calibration trial"), record_events=False)
    model.run(days=horizon)
    return model.timeseries()[kpis]


def suggest(trial: optuna.Trial, p: FitParam) -> float:
    if p.integer:
        return trial.suggest_int(p.path, int(p.low), int(p.high), log=p.log)
    return trial.suggest_float(p.path, p.low, p.high, log=p.log)


def search(
    problem: Problem,
    trials: int,
    seed: int,
    on_trial: Callable[[Trial, Trial], None] | None = None,
    batch: int = 1,
    number_from: int = 0,
    prune: bool = False,
) -> list[Trial]:
    """Run ``trials`` TPE trials (the first at the input scenario's values when in range); returns all trials.

    ``batch`` trials are asked of the sampler at a time and their runs go to the executor together
    (parallel trials); the result depends on ``batch``, never on the number of workers.
    ``on_trial(trial, best)`` is called after each, e.g. to advance a progress bar; trials are
    numbered from ``number_from`` (so the trials of several searches have distinct numbers).
    ``prune`` stops hopeless trials after their first replication (see the module's docstring).
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=sampler_seed(seed), multivariate=True)
        pruner = optuna.pruners.MedianPruner(n_startup_trials=PRUNE_STARTUP) if prune else optuna.pruners.NopPruner()
        study = optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner)
        start = problem.start_values()
        if start is not None:
            study.enqueue_trial(start)
        done: list[Trial] = []
        while len(done) < trials:
            asked = [study.ask() for _ in range(min(batch, trials - len(done)))]
            points = [{p.path: suggest(t, p) for p in problem.params} for t in asked]
            for t, values, (sims, pruned) in zip(asked, points, evaluate(problem, asked, points, prune), strict=True):
                d = problem.score(sims)
                if pruned:
                    study.tell(t, state=optuna.trial.TrialState.PRUNED)
                else:
                    study.tell(t, d)
                done.append(Trial(number_from + t.number, values, d, sims, pruned))
                if on_trial is not None:
                    on_trial(done[-1], best(done))
    return done


def evaluate(
    problem: Problem, asked: list[optuna.Trial], points: list[dict[str, float]], prune: bool
) -> list[tuple[dict[str, np.ndarray], bool]]:
    """Each point's runs and whether its trial was pruned (after the first replication; see the module)."""
    if not prune or len(problem.seeds) < 2:
        return [(sims, False) for sims in problem.simulate_many(points, window="train")]
    first = problem.simulate_many(points, [problem.seeds[:1]] * len(points), window="train")
    stop = []
    for t, sims in zip(asked, first, strict=True):
        t.report(problem.score(sims), step=0)  # completed trials report it too: the median is taken over them
        stop.append(bool(t.should_prune()))
    go = [i for i, s in enumerate(stop) if not s]
    rest = problem.simulate_many([points[i] for i in go], [problem.seeds[1:]] * len(go), window="train")
    out = list(zip(first, stop, strict=True))
    for i, more in zip(go, rest, strict=True):
        out[i] = ({kpi: np.vstack([first[i][kpi], runs]) for kpi, runs in more.items()}, False)
    return out


def best(trials: list[Trial]) -> Trial:
    """The completed trial with the smallest distance (the earliest on ties); pruned trials never count."""
    return min((t for t in trials if not t.pruned), key=lambda t: (t.distance, t.number))

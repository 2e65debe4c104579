"""Early stopping of hopeless calibration trials (``calibrate --prune``) and training-window runs.

A trial first runs the first common seed; optuna's MedianPruner stops it there when its one-run
distance is worse than the median of the completed trials'. The formula stand-in makes the distance
known; the cohort runs check that the decisions do not depend on the number of workers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.executors import make_executor
from sim.calibration.observed import load_observed
from sim.calibration.params import FitParam, parse_fit, parse_targets
from sim.calibration.search import PRUNE_STARTUP, Problem, best, search
from sim.config.loader import load_scenario
from sim.run.runner import simulate

ROOT = Path(__file__).resolve().parents[1]
T = np.arange(12, dtype=float)


class Cliff:
    """A stand-in for ``search.Problem``: the series is flat at ``level`` (observed 10) plus unit noise, and
    jumps to 1000 above ``level = 20``: the upper part of the range is hopeless."""

    params = [FitParam("level", 0.0, 40.0, False, False)]

    def __init__(self, reps: int = 3):
        self.seeds = list(range(reps))
        self.calls: list[int] = []  # runs asked for per call: the pruned trials skip their later replications

    def start_values(self):
        return None

    def simulate_many(self, points, seeds=None, window=None):
        seeds = seeds if seeds is not None else [self.seeds] * len(points)
        self.calls.append(sum(len(s) for s in seeds))
        out = []
        for values, point_seeds in zip(points, seeds, strict=True):
            level = values["level"] if values["level"] <= 20 else 1000.0
            runs = [level + np.random.default_rng(s).normal(0, 1, T.size) for s in point_seeds]
            out.append({"y": np.vstack(runs)})
        return out

    def score(self, sims):
        return float(np.sqrt(np.mean((sims["y"].mean(axis=0) - 10.0) ** 2)))


def test_a_hopeless_region_is_pruned_after_one_replication_and_never_chosen():
    problem = Cliff()
    trials = search(problem, 24, seed=5, batch=3, prune=True)
    pruned = [t for t in trials if t.pruned]
    assert len(pruned) > 0
    assert all(t.sims["y"].shape[0] == 1 for t in pruned)  # one replication run, the others skipped
    assert all(t.sims["y"].shape[0] == 3 for t in trials if not t.pruned)
    assert sum(problem.calls) == 3 * len(trials) - 2 * len(pruned)
    assert not any(t.pruned for t in trials[:PRUNE_STARTUP])  # the median needs completed trials first
    top = best(trials)
    assert not top.pruned and top.values["level"] <= 20
    # a pruned trial is never the best, even when its one-run distance is the smallest of all
    trials[-1].pruned, trials[-1].distance = True, -1.0
    assert best(trials) is top


def test_without_pruning_every_trial_runs_every_replication():
    problem = Cliff()
    trials = search(problem, 12, seed=5, batch=3, prune=False)
    assert not any(t.pruned for t in trials) and sum(problem.calls) == 3 * 12


def cohort_problem(tmp_path: Path, executor=None) -> Problem:
    """A closed cohort of 300 over 4 weeks (3 training), fitted on weekly purchases over a wide range."""
    small = ["market.size=600", "acquisition.initial_members=300", "days=28"]
    cohort = ROOT / "scenarios" / "cohort_only.yaml"
    csv = tmp_path / "weekly.csv"
    if not csv.exists():
        ts = simulate(load_scenario(cohort, [*small, "purchase.base_prob=0.04"]), record_events=False).timeseries
        ts[["purchases"]].reset_index().to_csv(csv, index=False)
    scenario = load_scenario(cohort, small)
    base = scenario.model_dump(mode="json")
    obs = load_observed(csv, scenario.start_date, "week", kpis=["purchases"])
    params = [parse_fit("purchase.base_prob=0.002:0.9:log", base)]
    problem = Problem(base, params, parse_targets(["purchases"]), obs, [11, 12], train_until=21)
    problem.executor = executor
    return problem


def test_pruning_gives_the_same_trials_on_one_and_two_workers(tmp_path):
    serial = search(cohort_problem(tmp_path), 9, seed=3, batch=3, prune=True)
    with make_executor("local", 2) as ex:
        parallel = search(cohort_problem(tmp_path, ex), 9, seed=3, batch=3, prune=True)
    assert sum(t.pruned for t in serial) > 0  # a range of 0.002-0.9 around 0.04 is mostly hopeless
    assert [(t.values, t.distance, t.pruned) for t in serial] == [(t.values, t.distance, t.pruned) for t in parallel]


def test_training_window_runs_stop_early_with_the_same_training_values(tmp_path):
    problem = cohort_problem(tmp_path)
    assert problem.train_horizon == 21 and problem.observed.horizon == 28
    values = {"purchase.base_prob": 0.04}
    full = problem.simulate_many([values])[0]["purchases"]
    short = problem.simulate_many([values], window="train")[0]["purchases"]
    assert np.array_equal(full[:, :3], short[:, :3]) and np.isnan(short[:, 3]).all()
    assert pd.notna(full).all()

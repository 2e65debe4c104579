"""Run the scenarios a suite needs, with paired seeds, and score every case.

Each scenario runs once per replication seed; a case with a baseline compares the
two runs of the same seed (common random numbers) and summarizes the per-seed
values with a t-based 95% interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.batch.executors import run_in_order
from sim.batch.seeds import replication_seeds
from sim.validation.suite import ROOT, Suite


def suite_seeds(suite: Suite) -> list[int]:
    """One seed per replication, spawned from the suite's master seed (as a sweep's are)."""
    return replication_seeds(suite.seed, suite.replications)


def _score(overrides: tuple[str, ...], job: tuple[str, int, tuple[str, ...]]) -> dict[str, float]:
    """Worker: run one scenario with one seed and compute the metrics it is used for."""
    scenario, seed, metrics = job
    from sim.config.errors import ScenarioWarning
    from sim.config.loader import load_scenario
    from sim.run.runner import simulate
    from sim.validation.metrics import METRICS

    with warnings.catch_warnings():  # the command printed them when it loaded each scenario
        warnings.simplefilter("ignore", ScenarioWarning)
        s = load_scenario(ROOT / "scenarios" / f"{scenario}.yaml", ["output.events=false", *overrides], seed=seed)
    result = simulate(s, record_events=False)
    return {m: METRICS[m][1](result) for m in metrics}


def run_suite(
    suite: Suite, workers: int = 2, overrides: tuple[str, ...] = (), progress: Callable[[int, int], None] | None = None
) -> pd.DataFrame:
    """Score every case; one row per case (see ``COLUMNS``)."""
    seeds = suite_seeds(suite)
    needs: dict[str, set[str]] = {}
    for c in suite.cases:
        for name in filter(None, (c.scenario, c.baseline)):
            needs.setdefault(name, set()).add(c.metric)
    jobs = [(name, seed, tuple(sorted(m))) for name, m in sorted(needs.items()) for seed in seeds]
    # the sweep's executors: workers on one core each, ending with this process however it ends
    scores = run_in_order(_score, tuple(overrides), jobs, "local" if workers > 1 else "serial", workers, None, progress)
    values = {(name, seed): scored for (name, seed, _), scored in zip(jobs, scores, strict=True)}
    return pd.DataFrame([_case_row(c, seeds, values) for c in suite.cases], columns=COLUMNS)


COLUMNS = [
    "id",
    "claim",
    "metric",
    "scenario",
    "baseline",
    "compare",
    "target",
    "tolerance",
    "simulated_mean",
    "ci_low",
    "ci_high",
    "replications",
    "passed",
    "provenance",
    "provenance_note",
]


def _case_row(case, seeds: list[int], values: dict) -> dict:
    x = np.array([values[(case.scenario, s)][case.metric] for s in seeds], dtype=float)
    if case.baseline is not None:
        b = np.array([values[(case.baseline, s)][case.metric] for s in seeds], dtype=float)
        x = x / b if case.compare == "ratio" else x - b if case.compare == "difference" else x
    mean = float(np.mean(x))
    half = float(stats.t.ppf(0.975, len(x) - 1) * np.std(x, ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0
    passed = (
        mean >= case.target - case.tolerance
        if case.compare == "at_least"
        else abs(mean - case.target) <= case.tolerance
    )
    return {
        "id": case.id,
        "claim": case.claim,
        "metric": case.metric,
        "scenario": case.scenario,
        "baseline": case.baseline or "",
        "compare": case.compare,
        "target": case.target,
        "tolerance": case.tolerance,
        "simulated_mean": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "replications": len(x),
        "passed": bool(passed) and bool(np.isfinite(mean)),
        "provenance": case.provenance,
        "provenance_note": case.provenance_note,
    }


def write_report(table: pd.DataFrame, out: Path) -> list[Path]:
    """validation.csv and validation.png in ``out`` (an atomic directory supplied by the caller)."""
    from sim.validation.plot import plot_validation

    out.mkdir(parents=True, exist_ok=True)
    csv = out / "validation.csv"
    table.to_csv(csv, index=False, float_format="%.6g", lineterminator="\n")
    return [csv, plot_validation(table, out / "validation.png")]

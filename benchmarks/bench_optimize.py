"""Optimization throughput: trials per minute, and the search's own overhead against the runs.

    python benchmarks/bench_optimize.py [--people 20000] [--days 365] [--replications 4]
                                        [--trials 8] [--workers 1 2] [--batch 4]

Runs experiments/budget_split_optimize.yaml at the given market size and length
(the shipped file is 20,000 people x 365 days x 4 replications) for ``--trials``
trials, once per worker count, each into a fresh directory with the local
executor, and times the search only (no verification, no outputs):

- ``trials_per_minute``: trials that ran (over the committed budget ones are not
  run and not counted) per minute of the search's wall time;
- ``overhead_pct``: the search's wall time outside the executor (asking the
  sampler, storing each trial in SQLite, telling) over the search's wall time;
- ``run_seconds``: mean wall seconds of one simulation run, as its worker clocked it.

One JSON line per worker count. On a shared machine, give ``uptime``'s load with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's sim, wherever the package is installed from
EXAMPLE = ROOT / "experiments" / "budget_split_optimize.yaml"


def one(people: int, days: int, replications: int, trials: int, workers: int, batch: int) -> dict:
    from sim.batch.executors import make_executor
    from sim.optimize.resolve import resolve_optimization
    from sim.optimize.results import runs_table
    from sim.optimize.run import prepare
    from sim.optimize.search import open_study, run_search

    overrides = [
        f"set.market.size={people}",
        f"set.acquisition.initial_members={max(10, people // 50)}",
        f"set.days={days}",
        f"replications={replications}",
        f"search.batch={batch}",
    ]
    if days <= 180:
        overrides.append("constraints=[{kpi: retention.day_30, min: 0.7}]")
    resolved = resolve_optimization(EXAMPLE, overrides)
    folder = Path(tempfile.mkdtemp(prefix="bench-optimize-"))
    try:
        out = folder / "out"
        prepare(out, resume=False)
        study = open_study(resolved, out)
        with make_executor("local", workers) as ex:
            outcome = run_search(resolved, study, ex, trials)
        runs = runs_table(resolved, study)
        ran = runs[runs["status"] == "ok"]
        trials_ran = int(ran["trial"].nunique())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    total = outcome.seconds_total
    return {
        "people": people,
        "days": days,
        "replications": replications,
        "workers": workers,
        "batch": batch,
        "trials": trials,
        "trials_ran": trials_ran,
        "search_seconds": round(total, 2),
        "trials_per_minute": round(60 * trials_ran / total, 3) if total else None,
        "overhead_pct": round(100 * (total - outcome.seconds_runs) / total, 2) if total else None,
        "run_seconds": round(float(ran["wall_seconds"].mean()), 3) if len(ran) else None,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--replications", type=int, default=4)
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch", type=int, default=4)
    args = ap.parse_args()
    for workers in args.workers:
        start = time.perf_counter()
        row = one(args.people, args.days, args.replications, args.trials, workers, args.batch)
        row["wall_seconds"] = round(time.perf_counter() - start, 2)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

"""Measure the sweep machinery: its overhead per run, and throughput on 1 and 2 local workers and on Dask.

    python benchmarks/bench_sweep.py --people 10000 --days 365 --runs 8

* overhead: a serial sweep (design point -> scenario validation -> run -> KPI
  extraction -> chunk files -> consolidated table) against the same runs called
  directly with ``simulate``; the best of ``--repeat`` rounds of each. Also the
  sweep's CPU time outside its ``simulate`` calls, clocked inside the sweep
  (``outside_simulate_*``), which the load on a shared machine disturbs far less than
  the difference of the two totals.
* throughput: runs per second on a warm pool of 1 and of 2 local worker
  processes (one chunk of one run at a time; the best of ``--repeat`` alternating
  rounds), and on a Dask LocalCluster of 2 workers; ``end_to_end`` includes
  starting the workers and writing the store. Each local round also gives the
  workers' median CPU seconds per run (which other jobs on a shared machine inflate
  less than the wall time) and their threads after a run: all of them, and those that
  had used more than 0.1 s of CPU (Linux).

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.batch.executors import DaskExecutor, LocalExecutor  # noqa: E402
from sim.experiment.resolve import resolve_experiment  # noqa: E402
from sim.experiment.runs import build_scenario, run_chunk  # noqa: E402
from sim.experiment.sweep import run_sweep  # noqa: E402
from sim.run import runner  # noqa: E402
from sim.run.runner import simulate  # noqa: E402


def experiment(folder: Path, people: int, days: int, runs: int) -> Path:
    """Baseline scaled to ``people`` (as benchmarks/bench_run.py does), two reward levels x runs/2 replications."""
    f = people / 100_000
    text = f"""\
scenario: {ROOT / "scenarios" / "baseline.yaml"}
set:
  days: {days}
  market.size: {people}
  acquisition.initial_members: {max(1, round(1000 * f))}
  acquisition.paid.daily_budget: {1000 * f}
  koc.initial_count: {min(20, max(1, round(1000 * f)))}
factors:
  referral.reward_inviter: [0, 20]
replications: {max(1, runs // 2)}
seed: 1
kpis: [members, gmv, profit]
"""
    path = folder / "bench.yaml"
    path.write_text(text)
    return path


def overhead(resolved, folder: Path, repeat: int) -> dict:
    """Serial sweep against direct ``simulate`` calls, in wall time and in this process's CPU time.

    CPU time is the robust figure on a shared machine: other processes do not inflate it.
    """
    tasks = resolved.tasks()
    scenarios = [build_scenario(resolved.plan(), t) for t in tasks]
    bare: list[tuple[float, float]] = []
    swept: list[tuple[float, float]] = []
    simulate(scenarios[0], record_events=False)  # warm caches and lazy imports before timing anything

    def direct() -> None:
        for s in scenarios:
            simulate(s, record_events=False)

    inside: list[float] = []  # CPU seconds of each sweep outside its simulate calls
    in_simulate = [0.0]

    def clocked(*args, **kwargs):
        start = time.process_time()
        try:
            return simulate(*args, **kwargs)
        finally:
            in_simulate[0] += time.process_time() - start

    for i in range(repeat):  # alternate the order, so neither side always runs first
        for which in ("bare", "swept") if i % 2 == 0 else ("swept", "bare"):
            w, c = time.perf_counter(), time.process_time()
            if which == "bare":
                direct()
            else:
                in_simulate[0] = 0.0
                runner.simulate = clocked  # run_chunk looks simulate up in sim.run.runner at each call
                try:
                    run_sweep(resolved, folder / f"serial-{i}", executor="serial")
                finally:
                    runner.simulate = simulate
            (bare if which == "bare" else swept).append((time.perf_counter() - w, time.process_time() - c))
            if which == "swept":
                inside.append(swept[-1][1] - in_simulate[0])
    bw, bc = (min(x[k] for x in bare) for k in (0, 1))
    sw, sc = (min(x[k] for x in swept) for k in (0, 1))
    n = len(tasks)
    return {
        "runs": n,
        "run_seconds": round(bw / n, 4),
        "run_cpu_seconds": round(bc / n, 4),
        "overhead_ms_per_run_wall": round(1000 * (sw - bw) / n, 2),
        "overhead_pct_wall": round(100 * (sw - bw) / bw, 2),
        "overhead_ms_per_run_cpu": round(1000 * (sc - bc) / n, 2),
        "overhead_pct_cpu": round(100 * (sc - bc) / bc, 2),
        # the same overhead clocked inside each sweep (its CPU time outside simulate): no difference of
        # two separately timed totals, so the load's swings between them do not enter
        "outside_simulate_ms_per_run_cpu": round(1000 * min(inside) / n, 2),
        "outside_simulate_pct_cpu": round(100 * min(inside) / bc, 2),
    }


def threads() -> tuple[int, int] | None:
    """This process's threads: all of them, and those that have used more than 0.1 s of CPU (Linux only)."""
    try:
        ids = os.listdir("/proc/self/task")
        ticks = []
        for t in ids:
            with open(f"/proc/self/task/{t}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))  # utime + stime
    except (OSError, ValueError, IndexError):
        return None
    return len(ids), sum(t > 0.1 for t in ticks)


def timed_chunk(plan, tasks):
    """``run_chunk`` in a worker, with the CPU seconds it took there and the worker's threads after it."""
    cpu = time.process_time()
    result = run_chunk(plan, tasks)
    return result, time.process_time() - cpu, threads()


def throughput(make, resolved) -> dict:
    plan, tasks = resolved.plan(), resolved.tasks()
    warm = tasks[:1]
    t0 = time.perf_counter()
    with make() as ex:
        list(ex.map(run_chunk, plan, [warm] * ex.workers))  # start and warm every worker
        t1 = time.perf_counter()
        timed = isinstance(ex, LocalExecutor)  # Dask's workers need not find this script's functions
        results = [
            r if timed else (r, None, None)
            for _, r in ex.map(timed_chunk if timed else run_chunk, plan, [[t] for t in tasks])
        ]
        t2 = time.perf_counter()
    rows = [rows for (rows, _), _, _ in results]
    assert sum(len(r) for r in rows) == len(tasks) and all((r["status"] == "ok").all() for r in rows)
    return {
        "workers": ex.workers,
        "runs_per_s": round(len(tasks) / (t2 - t1), 3),
        "mean_run_seconds_in_worker": round(sum(r["wall_seconds"].sum() for r in rows) / len(tasks), 3),
        **(
            {
                "median_cpu_seconds_per_run": round(statistics.median(cpu for _, cpu, _ in results), 3),
                "worker_threads_all_busy": sorted({tuple(t) for _, _, t in results if t is not None}),
            }
            if timed
            else {}
        ),
        "startup_and_warmup_s": round(t1 - t0, 2),
        "load": os.getloadavg()[0],
    }


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        resolved = resolve_experiment(experiment(folder, args.people, args.days, args.runs))
        out = {"people": args.people, "days": args.days, "overhead": overhead(resolved, folder, args.repeat)}
        one = two = {"runs_per_s": 0.0}
        for _ in range(args.repeat):  # alternate 1 and 2 workers and keep the best of each (shared machines)
            one = max(one, throughput(lambda: LocalExecutor(1), resolved), key=lambda r: r["runs_per_s"])
            two = max(two, throughput(lambda: LocalExecutor(2), resolved), key=lambda r: r["runs_per_s"])
        out["local"] = {"1": one, "2": two, "speedup_2_vs_1": round(two["runs_per_s"] / one["runs_per_s"], 2)}
        best = min(_timed(lambda i=i: run_sweep(resolved, folder / f"end-to-end-{i}", workers=2)) for i in range(2))
        out["local"]["end_to_end_2_workers_runs_per_s"] = round(resolved.n_runs / best, 3)
        if not args.no_dask:
            try:
                dask = max(
                    (throughput(lambda: DaskExecutor(2), resolved) for _ in range(2)), key=lambda r: r["runs_per_s"]
                )
                out["dask_local_cluster"] = {**dask, "vs_local_2": round(dask["runs_per_s"] / two["runs_per_s"], 2)}
            except Exception as exc:  # noqa: BLE001 - report, do not fail the other figures
                out["dask_local_cluster"] = f"unavailable: {exc}"
    print(json.dumps(out))


if __name__ == "__main__":
    main()

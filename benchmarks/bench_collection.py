"""Data collection overhead: a run with the per-day KPIs against the same run without them.

    python benchmarks/bench_collection.py [--sizes 10000 100000 1000000] [--days 365 365 60] [--repeat 3]

Per-day collection is three steps at the end of ``CommunityModel.step``: the KPI
row (sim/observe/metrics.py), the health KPIs and alerts (sim/observe/health.py) and Mesa's
``DataCollector.collect``. Two measures:
- ``share_pct``: wall time inside the three steps over the run's wall time, clocked
  in the same run (benchmarks/bench_run.py ``PhaseClock``; wall, because large
  markets put work on a second core): precise, the headline;
- ``ab_overhead_pct``: (with - without) / with in wall time, where "without" replaces the three
  with no-ops on the model instance: the direct comparison, but at a few percent
  it is within the run-to-run noise of a shared machine.
Adaptive rules read the KPIs, so all runs switch rules off; nothing else in the
simulation reads them, and the benchmark checks that every run ends in the same
population state. Medians of ``--repeat`` alternating pairs. The scenario is
benchmarks/million_members.yaml (everything on, everyone a member) scaled to each
size. One JSON line per size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
from dataclasses import fields
from pathlib import Path

from bench_run import ROOT, PhaseClock, clocks, scaled_overrides, since

from sim.config.loader import load_scenario
from sim.model import CommunityModel


def state_hash(model: CommunityModel) -> str:
    h = hashlib.sha256()
    for f in fields(model.pop):
        h.update(getattr(model.pop, f.name).tobytes())
    return h.hexdigest()[:16]


def one_run(scenario, days: int, collect: bool) -> tuple[float, float, str, float]:
    """Wall and CPU seconds of the run, the final state's hash and the wall seconds spent collecting."""
    model = CommunityModel(scenario, record_events=False)
    clock = PhaseClock()
    if not collect:
        model.kpis.row = lambda m, accounts: {}
        model.health.row = lambda m, kpis: {}
        model.datacollector.collect = lambda m: None
    with clock.installed(model):
        start = clocks()
        model.run(days)
        wall, cpu = since(start)
    collecting = sum(v for k, v in clock.seconds.items() if k.startswith("collect:")) if collect else 0.0
    return wall, cpu, state_hash(model), collecting


def main() -> None:
    from sim.engine.process import prepare_process

    prepare_process()  # as the command line does: freed memory kept for reuse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "benchmarks" / "million_members.yaml")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--days", type=int, nargs="+", default=[365, 365, 60], help="Days at each size.")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if len(args.days) != len(args.sizes):
        ap.error("give one --days value per size")

    for people, days in zip(args.sizes, args.days, strict=True):
        overrides = [*scaled_overrides(args.scenario, people), "rules.enabled=false"]
        scenario = load_scenario(args.scenario, overrides)
        with_, without = [], []
        for _ in range(args.repeat):
            with_.append(one_run(scenario, days, collect=True))
            without.append(one_run(scenario, days, collect=False))
        if {r[2] for r in with_ + without} != {with_[0][2]}:
            raise SystemExit("skipping collection changed the simulation: the comparison is invalid")
        w = [statistics.median(r[i] for r in with_) for i in (0, 1)]
        wo = [statistics.median(r[i] for r in without) for i in (0, 1)]
        share = statistics.median(r[3] / r[0] for r in with_)
        print(
            json.dumps(
                {
                    "scenario": scenario.name,
                    "people": people,
                    "days": days,
                    "share_pct": round(100 * share, 1),
                    "ms_per_day_collecting": round(1e3 * statistics.median(r[3] for r in with_) / days, 3),
                    "ab_overhead_pct": round(100 * (w[0] - wo[0]) / w[0], 1),
                    "with_cpu_seconds": round(w[1], 3),
                    "without_cpu_seconds": round(wo[1], 3),
                    "with_seconds": round(w[0], 3),
                    "without_seconds": round(wo[0], 3),
                    "repeats": args.repeat,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()

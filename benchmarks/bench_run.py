"""Time one run of a scenario at a given market size and report speed and memory.

    python benchmarks/bench_run.py --people 100000 --days 365 [--scenario FILE]

The market size is set to ``--people``; initial members, the paid budget and the
KOC count are scaled in proportion so the community's per-capita dynamics match
the scenario's. ``seconds`` is wall time (setup + run), ``cpu_seconds`` the
process's CPU time over the same span: on a busy machine the CPU time is the
better estimate of what a quiet one would take. The last line printed is one
JSON object. The other benchmarks import the helpers below.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager, nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim.model  # noqa: E402
from sim.config.loader import load_scenario  # noqa: E402
from sim.model import CommunityModel  # noqa: E402


def scaled_overrides(path: Path, people: int) -> list[str]:
    base = load_scenario(path)
    f = people / base.market.size
    return [
        f"market.size={people}",
        f"acquisition.initial_members={max(1, round(base.acquisition.initial_members * f))}",
        f"acquisition.paid.daily_budget={base.acquisition.paid.daily_budget * f}",
        f"koc.initial_count={min(base.koc.initial_count, max(1, round(base.acquisition.initial_members * f)))}",
    ]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def clocks() -> tuple[float, float]:
    """Wall and CPU clocks, in seconds."""
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    """Wall and CPU seconds since ``start = clocks()``."""
    w, c = clocks()
    return w - start[0], c - start[1]


class PhaseClock:
    """Wall seconds spent in each phase of the day and in each collection step, while installed.

    Wall time on the main thread, not CPU time: some phases hand half their arithmetic to a
    second thread, and the day's random numbers are drawn ahead on it, so the process's CPU
    time would count the other core's work too. A phase's wall time is what it adds to the run.
    """

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def timed(self, name: str, fn):
        def run(*args, **kwargs):
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            self.seconds[name] += time.perf_counter() - start
            return out

        return run

    @contextmanager
    def installed(self, model: CommunityModel):
        phases = list(sim.model.PHASES)
        sim.model.PHASES[:] = [self.timed(p.__name__, p) for p in phases]
        model.kpis.row = self.timed("collect: kpis", model.kpis.row)
        model.health.row = self.timed("collect: health", model.health.row)
        model.datacollector.collect = self.timed("collect: datacollector", model.datacollector.collect)
        try:
            yield
        finally:
            sim.model.PHASES[:] = phases

    def ms_per_day(self, run_wall: float, days: int) -> dict[str, float]:
        """Wall milliseconds a day by phase, largest first, and the rest of the step."""
        out = {k: round(1e3 * v / days, 2) for k, v in sorted(self.seconds.items(), key=lambda kv: -kv[1]) if v > 0}
        out["other"] = round(1e3 * (run_wall - sum(self.seconds.values())) / days, 2)
        return out


def bench(
    path: Path,
    people: int,
    days: int | None = None,
    seed: int = 42,
    record_events: bool = True,
    phases: bool = False,
) -> tuple[dict, CommunityModel]:
    """One timed run of ``path`` scaled to ``people``: the figures and the finished model.

    ``days`` may be fewer than the scenario's (its calendar events stay where they are).
    """
    scenario = load_scenario(path, scaled_overrides(path, people), seed=seed)
    days = scenario.days if days is None else days
    start = clocks()
    model = CommunityModel(scenario, record_events=record_events)
    setup_w, setup_c = since(start)
    clock = PhaseClock()
    with clock.installed(model) if phases else nullcontext():
        start = clocks()
        model.run(days)
        run_w, run_c = since(start)
    ts = model.timeseries()
    member_days = float(ts["members"].sum())
    total_w, total_c = setup_w + run_w, setup_c + run_c
    return {
        "scenario": scenario.name,
        "people": people,
        "days": days,
        "seconds": round(total_w, 3),
        "setup_seconds": round(setup_w, 3),
        "run_seconds": round(run_w, 3),
        "cpu_seconds": round(total_c, 3),
        "setup_cpu_seconds": round(setup_c, 3),
        "run_cpu_seconds": round(run_c, 3),
        "final_members": int(ts["members"].iloc[-1]),
        "mean_members": round(member_days / days),
        "member_days_per_s": round(member_days / total_w),
        "member_days_per_cpu_s": round(member_days / total_c),
        "person_days_per_s": round(people * days / total_w),
        "peak_rss_mb": peak_rss_mb(),
        **({"ms_per_day_by_phase": clock.ms_per_day(run_w, days)} if phases else {}),
    }, model


def median_record(records: list[dict]) -> dict:
    """Field by field median of repeated measurements (numbers), the first record's value otherwise."""
    out = {}
    for key, value in records[0].items():
        nums = [r[key] for r in records if isinstance(r.get(key), int | float) and not isinstance(r.get(key), bool)]
        out[key] = (
            round(statistics.median(nums), 4) if len(nums) == len(records) and isinstance(value, int | float) else value
        )
    out["repeats"] = len(records)
    return out


def run_json(args: list[str]) -> dict:
    """Run a Python script in a fresh process (its own peak memory) and parse its last line as JSON."""
    res = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    from sim.engine.process import prepare_process

    prepare_process()  # as the command line does: freed memory kept for reuse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.yaml")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-events", action="store_true", help="Do not keep the event log in memory.")
    ap.add_argument("--phases", action="store_true", help="Also report wall ms a day by phase (ms_per_day_by_phase).")
    args = ap.parse_args()
    record, _ = bench(
        args.scenario, args.people, args.days, args.seed, record_events=not args.no_events, phases=args.phases
    )
    print(json.dumps(record))


if __name__ == "__main__":
    main()

"""Time one run of a scenario at a given market size and report speed and memory.

    python benchmarks/bench_run.py --people 100000 --days 365 [--scenario FILE]

The market size is set to ``--people``; initial members, the paid budget and the
KOC count are scaled in proportion so the community's per-capita dynamics match
the scenario's. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.yaml")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-events", action="store_true", help="Do not keep the event log in memory.")
    args = ap.parse_args()

    scenario = load_scenario(
        args.scenario, scaled_overrides(args.scenario, args.people), days=args.days, seed=args.seed
    )
    t0 = time.perf_counter()
    model = CommunityModel(scenario, record_events=not args.no_events)
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    ts = model.timeseries()
    member_days = float(ts["members"].sum())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "scenario": scenario.name,
                "people": args.people,
                "days": args.days,
                "seconds": round(t2 - t0, 3),
                "setup_seconds": round(t1 - t0, 3),
                "run_seconds": round(t2 - t1, 3),
                "final_members": int(ts["members"].iloc[-1]),
                "member_days_per_s": round(member_days / (t2 - t0)),
                "person_days_per_s": round(args.people * args.days / (t2 - t0)),
                "peak_rss_mb": round(rss_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()

"""The engine against plain Mesa (or mesa-frames) on the same core rules, side by side in one process.

    python benchmarks/bench_reference.py [--sizes 10000 100000] [--days 90 30] [--repeat 3]
    python benchmarks/bench_reference.py --against frames --sizes 100000 1000000 --days 30 30 \
        --member-shares 1.0 [--polars-threads 1]

Both models run benchmarks/core_rules.yaml scaled to each size: the engine (numpy
columns, vectorized phases) and benchmarks/reference_mesa.py (one
``RefMember.step()`` per agent, ``AgentSet.shuffle_do``). Two member shares at the
start: 20% (the scenario as tested, prospects joining by referral) and 100%
(everyone a member, as in the 1M benchmark); the engine draws one number per
person and mechanism whatever their status, plain Mesa skips prospects in a
Python ``if``, so the engine's advantage per member-day grows with the share.
Plain Mesa at 100,000 people takes minutes a year, so the larger size runs fewer
days (both models the same days) and the comparison is per member-day:
member-days simulated per second of stepping (setup excluded; reported
separately, and in ``with_setup``). tests/test_reference_model.py shows the
two agree on the KPIs. Medians of ``--repeat`` runs; one JSON line per size and
model, then one with the ratios (of the medians, and pair by pair in ``pairs``).

``--against frames`` runs benchmarks/reference_frames.py instead, the core day
written the mesa-frames way (polars DataFrame, vectorized expressions), if
mesa-frames is installed (``pip install --no-deps mesa-frames && pip install polars``);
tests/test_reference_frames.py shows it agrees too. Polars runs its queries on a
thread pool: ``--polars-threads 1`` sets ``POLARS_MAX_THREADS`` before polars is
imported (the CPU-fair figure), without it polars takes its default, one thread
per core (the wall figure); the pool size is printed in the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

from bench_run import ROOT, clocks, peak_rss_mb, scaled_overrides, since

from sim.config.loader import load_scenario
from sim.model import CommunityModel

SCENARIO = ROOT / "benchmarks" / "core_rules.yaml"


def measure(make, days: int) -> dict:
    """Set up with ``make()``, step ``days`` days; wall and CPU seconds and member-days."""
    start = clocks()
    model = make()
    setup_w, setup_c = since(start)
    start = clocks()
    model.run(days)
    run_w, run_c = since(start)
    ts = model.timeseries()
    member_days = float(ts["members"].sum())
    return {
        "setup_seconds": setup_w,
        "setup_cpu_seconds": setup_c,
        "run_seconds": run_w,
        "run_cpu_seconds": run_c,
        "ms_per_day": 1000 * run_w / days,
        "cpu_ms_per_day": 1000 * run_c / days,
        "member_days": member_days,
        "member_days_per_s": member_days / run_w,
        "member_days_per_cpu_s": member_days / run_c,
        "final_members": int(ts["members"].iloc[-1]),
        "purchases": int(ts["purchases"].sum()),
        "referral_joins": int(ts["referrals_accepted"].sum()),
    }


def median(runs: list[dict]) -> dict:
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}


def reference_model(against: str, polars_threads: int | None):
    """The reference model class: plain Mesa, or mesa-frames (imported only when asked, and when installed)."""
    if against == "plain_mesa":
        from reference_mesa import RefModel

        return RefModel
    if polars_threads:
        os.environ["POLARS_MAX_THREADS"] = str(polars_threads)  # read once, when polars is imported
    try:
        from reference_frames import FramesModel
    except ImportError as exc:  # optional: say how to install it, no traceback
        print(f"bench_reference.py: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return FramesModel


def pool_size(against: str) -> int | None:
    """Threads of the polars pool (mesa-frames only)."""
    if against != "frames":
        return None
    import polars

    return polars.thread_pool_size()


def main() -> None:
    from sim.engine.process import prepare_process

    prepare_process()  # as the command line does: freed memory kept for reuse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--days", type=int, nargs="+", default=[90, 30], help="Days at each size (both models).")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--member-shares", type=float, nargs="+", default=[0.2, 1.0], help="Members at the start / people.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--against", choices=["plain_mesa", "frames"], default="plain_mesa", help="The reference model.")
    ap.add_argument("--polars-threads", type=int, help="POLARS_MAX_THREADS for --against frames (default: polars').")
    args = ap.parse_args()
    if len(args.days) != len(args.sizes):
        ap.error("give one --days value per size")
    Reference = reference_model(args.against, args.polars_threads)  # noqa: N806 (a class)

    ratios = {}
    for share in args.member_shares:
        for people, days in zip(args.sizes, args.days, strict=True):
            scaled = [o for o in scaled_overrides(SCENARIO, people) if not o.startswith("acquisition.initial_members=")]
            overrides = [*scaled, f"acquisition.initial_members={round(share * people)}"]  # each key once
            scenario = load_scenario(SCENARIO, overrides, seed=args.seed)
            engine, reference = [], []
            for _ in range(args.repeat):  # alternate, so both see the same machine load
                engine.append(measure(lambda s=scenario: CommunityModel(s, record_events=False), days))
                reference.append(measure(lambda s=scenario: Reference(s), days))
            e, r = median(engine), median(reference)
            for name, rec in (("engine", e), (args.against, r)):
                print(json.dumps({"model": name, "people": people, "member_share": share, "days": days, **rec}))
            ratios[f"{people}@{share:g}"] = {
                "people": people,
                "member_share": share,
                "days": days,
                "wall": round(e["member_days_per_s"] / r["member_days_per_s"], 1),
                "cpu": round(e["member_days_per_cpu_s"] / r["member_days_per_cpu_s"], 1),
                "with_setup_wall": round(
                    (e["member_days"] / (e["setup_seconds"] + e["run_seconds"]))
                    / (r["member_days"] / (r["setup_seconds"] + r["run_seconds"])),
                    1,
                ),
                "pairs": [
                    {
                        "wall": round(b["run_seconds"] / a["run_seconds"], 2),
                        "cpu": round(b["run_cpu_seconds"] / a["run_cpu_seconds"], 2),
                    }
                    for a, b in zip(engine, reference, strict=True)
                ],
            }
            print(json.dumps({"ratio": ratios[f"{people}@{share:g}"]}), flush=True)
    print(
        json.dumps(
            {
                "benchmark": f"engine_vs_{args.against}",
                "speedup": ratios,
                "polars_threads": pool_size(args.against),
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()

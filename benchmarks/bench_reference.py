"""The engine against plain Mesa on the same core rules, side by side in one process.

    python benchmarks/bench_reference.py [--sizes 10000 100000] [--days 90 30] [--repeat 3]

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
model, then one with the ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics

from bench_run import ROOT, clocks, peak_rss_mb, scaled_overrides, since
from reference_mesa import RefModel

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
        "member_days": member_days,
        "member_days_per_s": member_days / run_w,
        "member_days_per_cpu_s": member_days / run_c,
        "final_members": int(ts["members"].iloc[-1]),
        "purchases": int(ts["purchases"].sum()),
        "referral_joins": int(ts["referrals_accepted"].sum()),
    }


def median(runs: list[dict]) -> dict:
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}


def main() -> None:
    from sim.engine.process import prepare_process

    prepare_process()  # as the command line does: freed memory kept for reuse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--days", type=int, nargs="+", default=[90, 30], help="Days at each size (both models).")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--member-shares", type=float, nargs="+", default=[0.2, 1.0], help="Members at the start / people.")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if len(args.days) != len(args.sizes):
        ap.error("give one --days value per size")

    ratios = {}
    for share in args.member_shares:
        for people, days in zip(args.sizes, args.days, strict=True):
            overrides = [*scaled_overrides(SCENARIO, people), f"acquisition.initial_members={round(share * people)}"]
            scenario = load_scenario(SCENARIO, overrides, seed=args.seed)
            engine, reference = [], []
            for _ in range(args.repeat):  # alternate, so both see the same machine load
                engine.append(measure(lambda s=scenario: CommunityModel(s, record_events=False), days))
                reference.append(measure(lambda s=scenario: RefModel(s), days))
            e, r = median(engine), median(reference)
            for name, rec in (("engine", e), ("plain_mesa", r)):
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
            }
            print(json.dumps({"ratio": ratios[f"{people}@{share:g}"]}), flush=True)
    print(json.dumps({"benchmark": "engine_vs_plain_mesa", "speedup": ratios, "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main()

"""Scaling: time per simulated day against the market size N, from 10^4 to 10^6 people.

    python benchmarks/bench_scale.py [--days 30] [--repeat 3] [--scenario benchmarks/million_members.yaml]

Each size runs in a fresh process (benchmarks/bench_run.py, so each has its own
peak memory), ``--repeat`` times; the time per day is the median run time after
setup divided by the days. A straight line t = a + b N is fitted (R^2) and a
log-log line (the exponent: 1 is linear). Wall and CPU time are both reported;
on a busy machine CPU time is the steadier. The default scenario makes everyone a
member, so N is also the number of members. One JSON line per size, then the fit.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bench_run import ROOT, median_record, run_json

SIZES = (10_000, 30_000, 100_000, 300_000, 1_000_000)


def fit(n: np.ndarray, t: np.ndarray) -> dict:
    """Least-squares line t = a + b n with its R^2, and the slope of log t on log n."""
    b, a = np.polyfit(n, t, 1)
    r2 = 1.0 - np.sum((t - (a + b * n)) ** 2) / np.sum((t - t.mean()) ** 2)
    exponent = np.polyfit(np.log(n), np.log(t), 1)[0]
    return {
        "ms_per_day_fixed": round(1e3 * a, 3),
        "us_per_day_per_1000_people": round(1e6 * b * 1000, 2),
        "r2": round(float(r2), 4),
        "loglog_exponent": round(float(exponent), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "benchmarks" / "million_members.yaml")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = ap.parse_args()

    rows = []
    for n in args.sizes:
        cmd = [str(ROOT / "benchmarks" / "bench_run.py"), "--people", str(n), "--days", str(args.days)]
        runs = [run_json([*cmd, "--scenario", str(args.scenario)]) for _ in range(args.repeat)]
        rec = median_record(runs)
        row = {
            "people": n,
            "mean_members": rec["mean_members"],
            "days": args.days,
            "ms_per_day": round(1e3 * rec["run_seconds"] / args.days, 2),
            "cpu_ms_per_day": round(1e3 * rec["run_cpu_seconds"] / args.days, 2),
            "setup_seconds": rec["setup_seconds"],
            "setup_cpu_seconds": rec["setup_cpu_seconds"],
            "peak_rss_mb": rec["peak_rss_mb"],
            "repeats": args.repeat,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    n = np.array([r["people"] for r in rows], dtype=float)
    summary = {
        "scenario": args.scenario.stem,
        "days": args.days,
        "wall": fit(n, np.array([r["ms_per_day"] for r in rows]) / 1e3),
        "cpu": fit(n, np.array([r["cpu_ms_per_day"] for r in rows]) / 1e3),
        "sizes": [int(x) for x in n],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

"""Two settings of the engine's options, alternated day by day in one process (they change no number).

    python benchmarks/bench_engine_options.py --people 1000000 --days 40 --option block_rows --a 0 --b 131072

Engine options (``sim.engine.options.EngineOptions``) are speed choices only, so one
model can switch between two of them from one day to the next and its results stay
the same (``tests/test_dense_rows.py``). Alternating the two settings in one process
(A B B A A B B A ...) puts both under the same load, the same member count and the
same events, which separate processes on a shared machine do not. After two days of
warm-up, each day's CPU time (both threads) and wall time are recorded under its
setting; the last line printed is one JSON object with the mean and median of each
and the ratio B / A of the means.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from dataclasses import replace
from pathlib import Path

from bench_run import ROOT, clocks, scaled_overrides, since

from sim.config.loader import load_scenario
from sim.model import CommunityModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=40)
    ap.add_argument("--scenario", type=Path, default=ROOT / "benchmarks" / "million_members.yaml")
    ap.add_argument("--option", default="block_rows", help="an EngineOptions field")
    ap.add_argument("--a", type=int, default=0, help="the option's value for A")
    ap.add_argument("--b", type=int, default=131_072, help="the option's value for B")
    args = ap.parse_args()
    model = CommunityModel(load_scenario(args.scenario, scaled_overrides(args.scenario, args.people)))
    settings = {key: replace(model.engine, **{args.option: getattr(args, key)}) for key in ("a", "b")}
    model.run(2)
    days: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    for d in range(args.days):
        key = "ab"[(d + d // 2) % 2]  # A B B A A B B A ...
        model.engine = settings[key]
        start = clocks()
        model.step()
        wall, cpu = since(start)
        days[key].append((cpu, wall))
    out: dict[str, object] = {"people": args.people, "days": args.days, "option": args.option, "a": args.a, "b": args.b}
    for key, rows in days.items():
        for i, clock in enumerate(("cpu", "wall")):
            values = [r[i] for r in rows]
            out[f"{key}_{clock}_ms_mean"] = round(1000 * statistics.fmean(values), 1)
            out[f"{key}_{clock}_ms_median"] = round(1000 * statistics.median(values), 1)
    for clock in ("cpu", "wall"):
        out[f"b_over_a_{clock}"] = round(out[f"b_{clock}_ms_mean"] / out[f"a_{clock}_ms_mean"], 3)
    out["final_members"] = model.n_members
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Every strategy lever low vs high on a small market: which behavioural KPIs move, and by how much.

``python -m sim.experiment.levers`` prints the table (markdown) of docs/model.md
("Strategy levers"); ``--people``, ``--days`` and ``--seeds`` change the market.
Each lever runs low and high with the same seeds (common random numbers: a draw
is keyed by seed, stream, day and person), its program switched on
(``Lever.context``). A KPI *moves* when its relative change has the same sign in
every seed and is at least ``MIN_MOVE`` in each: with common random numbers a
lever that changes nothing gives exactly zero, and a change that is only the
noise of diverging paths rarely keeps one sign across seeds at that size.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sim.config.levers import BEHAVIOURAL_KPIS, FLOW_KPIS, LEVERS, Lever, nested
from sim.config.schema import Scenario
from sim.model import CommunityModel

MIN_MOVE = 0.02  # relative change a KPI must reach in every seed
SEEDS = (1, 2)


def market(people: int = 3000, days: int = 150) -> dict[str, Any]:
    """The small market every lever is tried on: 10% initial members, a paid budget in proportion, 10 KOCs."""
    return {
        "name": "levers",
        "days": days,
        "market": {"size": people},
        "acquisition": {"initial_members": people // 10, "paid": {"daily_budget": people / 15}},
        "koc": {"initial_count": 10},
        "output": {"events": False, "plots": False, "incentive_counterfactual": False},
    }


def merge(base: dict, changes: dict) -> dict:
    out = dict(base)
    for k, v in changes.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def scenario(lever: Lever, value: Any, seed: int, base: dict) -> Scenario:
    data = merge(merge(base, lever.context), {"seed": seed})
    if value is not None:  # None: the default
        data = merge(data, nested(lever.key, value))
    return Scenario.model_validate(data)


def kpis(s: Scenario) -> dict[str, float]:
    """Run totals of the behavioural flows, last-day values of the stocks, and the total cost.

    A run is a function of its scenario (seed included), so a scenario met again (two levers
    whose low or high end is the default under the same program) reuses the first run's KPIs.
    """
    key = s.model_dump_json()
    if key not in _RUNS:
        if len(_RUNS) >= 512:
            _RUNS.clear()
        _RUNS[key] = _run(s)
    return dict(_RUNS[key])


_RUNS: dict[str, dict[str, float]] = {}  # scenario (as JSON) -> its KPIs


def _run(s: Scenario) -> dict[str, float]:
    model = CommunityModel(s)
    model.run()
    ts = model.timeseries()
    out = {k: float(ts[k].sum()) if k in FLOW_KPIS else float(ts[k].iloc[-1]) for k in BEHAVIOURAL_KPIS}
    out["cost_total"] = float(ts["cost_total"].sum())
    return out


@dataclass
class Result:
    lever: Lever
    changes: dict[str, list[float]]  # KPI -> relative change high vs low, per seed
    behaviour_identical: bool
    cost_change: float

    def moved(self) -> dict[str, float]:
        """KPIs that moved (same sign in every seed, at least MIN_MOVE each) -> mean relative change."""
        out = {}
        for k, rel in self.changes.items():
            same_sign = all(r > 0 for r in rel) or all(r < 0 for r in rel)
            if same_sign and min(abs(r) for r in rel) >= MIN_MOVE:
                out[k] = sum(rel) / len(rel)
        return dict(sorted(out.items(), key=lambda kv: -abs(kv[1])))


def relative(high: float, low: float) -> float:
    if low == high:
        return 0.0
    return (high - low) / abs(low) if low else float("inf") if high > low else float("-inf")


def measure(lever: Lever, seeds: Sequence[int] = SEEDS, base: dict | None = None) -> Result:
    base = market() if base is None else base
    changes: dict[str, list[float]] = {k: [] for k in BEHAVIOURAL_KPIS}
    identical, cost = True, 0.0
    for seed in seeds:
        lo, hi = (kpis(scenario(lever, v, seed, base)) for v in (lever.low, lever.high))
        for k in BEHAVIOURAL_KPIS:
            changes[k].append(relative(hi[k], lo[k]))
            identical &= hi[k] == lo[k]
        cost += relative(hi["cost_total"], lo["cost_total"]) / len(seeds)
    return Result(lever, changes, identical, cost)


def fmt(value: Any) -> str:
    if value is None:
        return "default"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        return "promotional 0.5" if "promotional" in value else "{...}"
    return str(value)


def row(r: Result, top: int = 3) -> str:
    lv = r.lever
    if lv.cost_only:
        moved = "identical (cost only)" if r.behaviour_identical else "CHANGED: " + describe(r.moved(), top)
    else:
        moved = describe(r.moved(), top) or ("identical" if r.behaviour_identical else "noise only")
    return f"| `{lv.key}` | {fmt(lv.low)} -> {fmt(lv.high)} | {moved} | {r.cost_change:+.0%} |"


def describe(moved: dict[str, float], top: int) -> str:
    return ", ".join(f"{k} from 0" if math.isinf(v) else f"{k} {v:+.1%}" for k, v in list(moved.items())[:top])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=3000)
    ap.add_argument("--days", type=int, default=150)
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    ap.add_argument("--only", nargs="*", help="lever keys to run, separated by spaces or commas (default: all)")
    args = ap.parse_args(argv)
    only = [key for item in args.only or () for key in item.split(",") if key]
    known = {lever.key for lever in LEVERS}
    if unknown := [key for key in only if key not in known]:
        ap.error(f"--only: no lever {', '.join(unknown)}; the levers are: {', '.join(sorted(known))}")
    base = market(args.people, args.days)
    print(f"{args.people:,} people, {args.days} days, seeds {args.seeds}; KPI moved: relative change high vs low")
    print()
    print("| lever | low -> high | behavioural KPIs moved (mean relative change) | total cost |")
    print("|---|---|---|---|")
    for lever in LEVERS:
        if only and lever.key not in only:
            continue
        print(row(measure(lever, args.seeds, base)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The crisis-response lever: GMV and negative sentiment against the response delay.

Runs scenarios/crisis_response.yaml (rules off, so only the scheduled response acts)
with response delays of 0, 1, 3, 7 and 14 days and without a response (quality 0),
on the same seeds, and prints mean GMV (relative to a one-day delay), the peak
negative share and the mean negative share over the days anyone is negative.

    python benchmarks/response_delay.py --size 20000 --seeds 1 2 3
"""

from __future__ import annotations

import argparse

import numpy as np

from sim.config.loader import load_scenario
from sim.run.runner import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000, help="market size")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    rows = {}
    for delay in (0, 1, 3, 7, 14, None):
        sets = [f"market.size={args.size}", "output.events=false", "rules.enabled=false"]
        sets.append(f"sentiment.response_delay_days={delay}" if delay is not None else "sentiment.response_quality=0")
        gmv, peak, mean = [], [], []
        for seed in args.seeds:
            scenario = load_scenario("scenarios/crisis_response.yaml", sets, seed=seed)
            ts = simulate(scenario, record_events=False).timeseries
            share = ts["negative_share"]
            gmv.append(ts["gmv"].sum())
            peak.append(share.max())
            mean.append(share[share > 0].mean())
        rows[delay] = (np.mean(gmv), np.mean(peak), np.mean(mean))
    one_day = rows[1][0]
    for delay, (gmv, peak, mean) in rows.items():
        label = f"{delay} days" if delay is not None else "no response"
        print(
            f"{label:>12}: GMV {gmv:,.0f} ({gmv / one_day - 1:+.2%} against 1 day), peak negative share {peak:.3f}, "
            f"mean negative share while any {mean:.3f}"
        )


if __name__ == "__main__":
    main()

"""The operating-model presets side by side: the table of docs/model.md (Operating-model presets).

Runs baseline and the five preset scenarios with seeds 1 to 3 (100,000 people, a
year) and prints, as a Markdown table, the mean of: members on the last day,
180-day retention, repurchase rate on the last day, DAU / members from day 90,
MAU / members over the last 30 days, dormant share on the last day, referral joins,
operating cost (operators + content + KOCs) and cumulative profit.

    python benchmarks/preset_table.py [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse

import numpy as np

from sim.config.loader import load_scenario
from sim.run.runner import simulate

SCENARIOS = ("baseline", "centralized", "decentralized", "hybrid_koc", "private_domain", "platform")
ROWS = (
    ("members on day 365", "{:,.0f}"),
    ("180-day retention", "{:.3f}"),
    ("repurchase rate, last day", "{:.3f}"),
    ("DAU / members, days 90 on", "{:.3f}"),
    ("MAU / members, last 30 days", "{:.2f}"),
    ("dormant share, last day", "{:.2f}"),
    ("referral joins", "{:,.0f}"),
    ("operating cost, yuan", "{:,.0f}"),
    ("cumulative profit, yuan", "{:,.0f}"),
)


def measure(name: str, seed: int) -> list[float]:
    result = simulate(load_scenario(f"scenarios/{name}.yaml", ["output.events=false"], seed=seed), record_events=False)
    ts = result.timeseries
    last = ts.iloc[-30:]
    return [
        ts["members"].iloc[-1],
        result.summary["retention"].get("day_180", np.nan),
        ts["repurchase_rate"].iloc[-1],
        (ts["dau"] / ts["members"]).iloc[90:].mean(),
        (last["mau"] / last["members"]).mean(),
        ts["dormant_share"].iloc[-1],
        ts["new_referral"].sum(),
        (ts["cost_operators"] + ts["cost_content"] + ts["cost_koc"]).sum(),
        ts["cum_profit"].iloc[-1],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    means = {name: np.mean([measure(name, s) for s in args.seeds], axis=0) for name in SCENARIOS}
    print("| | " + " | ".join(SCENARIOS) + " |")
    print("|---" * (len(SCENARIOS) + 1) + "|")
    for i, (label, fmt) in enumerate(ROWS):
        print(f"| {label} | " + " | ".join(fmt.format(means[n][i]) for n in SCENARIOS) + " |")


if __name__ == "__main__":
    main()

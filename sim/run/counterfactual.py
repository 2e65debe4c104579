"""What the incentives buy: the run against the same seed with every incentive off.

Because both runs share their random numbers wherever behaviour agrees (common
random numbers), the difference is the incentives' effect with little noise:
incremental buyers, members and GMV, the cost per incremental buyer and the
incentive ROI = (profit with - profit without) / incentive cost.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from sim.config.schema import Scenario
from sim.mechanisms.registry import LINES

if TYPE_CHECKING:
    from sim.run.runner import RunResult


def has_incentives(scenario: Scenario) -> bool:
    r = scenario.referral
    return (
        scenario.incentives.any_enabled() or r.reward_inviter > 0 or r.reward_invitee > 0 or r.second_level_reward > 0
    )


def without_incentives(scenario: Scenario) -> Scenario:
    """The same scenario with every incentive program off and no referral rewards."""
    data = scenario.model_dump(mode="json")
    for program in data["incentives"].values():
        program["enabled"] = False
    data["referral"].update(reward_inviter=0.0, reward_invitee=0.0, second_level_reward=0.0)
    data["output"].update(plots=False, events=False)
    return Scenario.model_validate(data)


#: Incentive lines the counterfactual switches off (standing prices and calendar promotions stay on in both runs).
PROGRAM_LINES = tuple(
    line
    for line, cat in LINES.items()
    if cat == "incentives" and line not in ("price_discounts", "promotion_discounts")
)


def incentive_costs(ts: pd.DataFrame) -> dict[str, float]:
    """Total cost of each incentive program's line over the run."""
    return {line: float(ts[f"line_{line}"].sum()) for line in PROGRAM_LINES}


def compare(with_: RunResult, without: RunResult) -> dict:
    """The ``incentives`` block of summary.json."""
    a, b = with_.summary, without.summary
    cost = math.fsum(incentive_costs(with_.timeseries).values())
    extra_buyers = a["funnel"]["buyer"] - b["funnel"]["buyer"]
    d_profit = a["final"]["cum_profit"] - b["final"]["cum_profit"]
    ts = with_.timeseries
    liab = float(ts["points_liability"].iloc[-1])
    return {
        "cost_total": cost,
        "cost_by_line": incentive_costs(ts),
        "incremental_buyers": int(extra_buyers),
        "incremental_joined": int(a["funnel"]["joined"] - b["funnel"]["joined"]),
        "incremental_gmv": float(a["final"]["gmv"] - b["final"]["gmv"]),
        "incremental_profit": float(d_profit),
        "cost_per_incremental_buyer": cost / extra_buyers if extra_buyers > 0 else None,
        "roi": d_profit / cost if cost > 0 else None,
        # points still outstanding are a future cost: count them as spent for a conservative ROI
        "roi_with_liability": (d_profit - liab) / (cost + liab) if cost + liab > 0 else None,
        "points_redemption_rate": float(ts["points_redemption_rate"].iloc[-1]),
        "coupon_redemption_rate": float(ts["coupon_redemption_rate"].iloc[-1]),
        "group_success_rate": float(ts["group_success_rate"].iloc[-1]),
        "points_liability_end": float(ts["points_liability"].iloc[-1]),
        "baseline": "same scenario and seed with every incentive off and no referral rewards",
    }

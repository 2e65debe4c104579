"""What the incentives buy: the run against the same seed with every incentive off.

Because both runs share their random numbers wherever behaviour agrees (common
random numbers), the difference is the incentives' effect with little noise:
incremental buyers, members and GMV, the cost per incremental buyer and the
incentive ROI = (profit with - profit without) / incentive cost. ``verdict`` says in words
whether the programs pay for themselves and ``effect_rows`` lays out the numbers, for the
console summary of ``community-sim run`` and report.html.
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


#: How the incentive result is obtained, in the words the console and report.html print under it.
METHOD = (
    "The run without them: the same scenario and seed with every incentive program off and no referral rewards "
    "(the standing discount and calendar promotions stay on). The two runs share their random numbers wherever "
    "behaviour agrees (common random numbers), so the difference is the programs' effect with little noise; it is "
    "still one seed's, and another seed gives somewhat different numbers."
)


def outcome(profit: float, *, would: bool = False) -> str:
    """A run's profit in words: earned (the headline adds "profit"), lost or broke even; ``would``: after
    "would have" (the run without the programs)."""
    if round(profit) > 0:
        return f"earned {profit:,.0f} CNY" + ("" if would else " profit")
    if round(profit) < 0:
        return f"lost {-profit:,.0f} CNY"
    return "broken even" if would else "broke even"


def _roi_words(roi: float | None) -> str:
    """The incentive ROI and what it means per CNY spent (the programs' profit before their own cost)."""
    if roi is None:
        return "no incentive cost over the run, so no ROI"
    back = 1 + roi
    if back >= 0:
        return f"ROI {roi:.2f}: each CNY spent on them brings back {back:.2f} CNY"
    return f"ROI {roi:.2f}: each CNY spent on them is lost, and {-back:.2f} CNY more"


def points_owed(block: dict) -> float:
    """The points members still hold at the end, in CNY: a cost to come that the run without the programs does
    not carry (0 without points)."""
    return float(block.get("points_liability_end") or 0.0)


def counted_gain(block: dict) -> float:
    """The programs' incremental profit with the points still owed counted as spent: what the verdict judges."""
    return float(block["incremental_profit"]) - points_owed(block)


def verdict(block: dict, profit: float) -> str:
    """In plain words: whether the incentive programs pay for themselves against the same run without them,
    and what that means for the run's ``profit`` (the headline's). ``block`` is summary.json's ``incentives``."""
    gain = float(block["incremental_profit"])
    without = profit - gain  # the counterfactual run's profit
    otherwise = f"Without them the run would have {outcome(without, would=True)}"
    owed = points_owed(block)
    if round(owed) > 0:
        return _verdict_with_points(gain, owed, _roi_words(block["roi_with_liability"]), otherwise)
    roi = _roi_words(block["roi"])
    if round(gain) > 0:
        first = f"The incentive programs pay for themselves: they add {gain:,.0f} CNY of profit"
        if round(profit) > 0:
            second = (
                f"{otherwise} instead." if round(without) > 0 else f"{otherwise}: the profit above is because of them."
            )
        else:
            second = f"{otherwise}: they make the loss above smaller."
    elif round(gain) < 0:
        first = f"The incentive programs do not pay for themselves: they lose {-gain:,.0f} CNY"
        if round(profit) > 0:
            second = f"{otherwise}: the profit above is despite them, not because of them."
        elif round(without) < 0:
            second = f"Without them the run would have lost only {-without:,.0f} CNY: they add to the loss above."
        else:
            second = f"{otherwise}: the loss above is because of them."
    else:
        first = "The incentive programs break even"
        second = f"{otherwise} as well."
    return f"{first} against the same run without them ({roi}). {second}"


def _verdict_with_points(gain: float, owed: float, roi: str, otherwise: str) -> str:
    """The verdict when members still hold points worth ``owed`` CNY: a cost to come that the run without the
    programs does not carry, so the programs pay for themselves only if they gain more than it."""
    net = gain - owed
    if round(net) > 0:
        return (
            f"The incentive programs pay for themselves: they add {gain:,.0f} CNY of profit against the same run "
            f"without them, {net:,.0f} CNY with the {owed:,.0f} CNY of points still outstanding counted as spent "
            f"({roi}). {otherwise} instead."
        )
    if round(gain) < 0:
        return (
            f"The incentive programs do not pay for themselves: they lose {-gain:,.0f} CNY so far, and "
            f"{owed:,.0f} CNY of points are still outstanding; counted as spent, they lose {-net:,.0f} CNY against "
            f"the same run without them ({roi}). {otherwise}."
        )
    return (
        f"The incentive programs do not pay for themselves once their points are counted: they add {gain:,.0f} "
        f"CNY of profit so far, but {owed:,.0f} CNY of points are still outstanding, and counted as spent they "
        f"lose {-net:,.0f} CNY against the same run without them ({roi}). {otherwise}."
    )


def effect_rows(block: dict, profit: float) -> list[tuple[str, str, str, str]]:
    """The incentive result as (label, value, note, tone) rows, for the console's table and report.html's cards;
    tone is "good", "bad" or ""."""
    gain, cost = float(block["incremental_profit"]), float(block["cost_total"])
    net = counted_gain(block)
    tone = "good" if round(net) > 0 else "bad" if round(net) < 0 else ""
    lines = sorted(((v, k) for k, v in block["cost_by_line"].items() if round(v) > 0), reverse=True)
    spent = ", ".join(f"{k.replace('_', ' ')} {v:,.0f}" for v, k in lines[:2]) or "nothing spent"
    per_buyer = block["cost_per_incremental_buyer"]
    rows = [
        ("incremental profit", f"{gain:+,.0f} CNY", "net of what they cost", tone),
        (
            "incentive ROI",
            "–" if block["roi"] is None else f"{block['roi']:.2f}",
            "incremental profit / incentive cost",
            tone,
        ),
        ("incentive cost", f"{cost:,.0f} CNY", spent, ""),
        ("incremental GMV", f"{block['incremental_gmv']:+,.0f} CNY", "list value", ""),
        (
            "incremental buyers",
            f"{block['incremental_buyers']:+,d}",
            "no extra buyers" if per_buyer is None else f"{per_buyer:,.0f} CNY of cost per buyer",
            "",
        ),
        ("incremental joins", f"{block['incremental_joined']:+,d}", "people who ever joined", ""),
        ("profit without them", f"{profit - gain:,.0f} CNY", "the same run, programs off", ""),
    ]
    liability = points_owed(block)
    if round(liability) > 0 and block.get("roi_with_liability") is not None:
        note = f"the {liability:,.0f} CNY of points outstanding counted as spent"
        rows.insert(2, ("ROI with points liability", f"{block['roi_with_liability']:.2f}", note, ""))
    return rows

"""The strategy levers: the scenario keys a strategist sets, in one place.

For each lever: a low and a high value to compare, the program it belongs to
(``context``: the keys that switch that program on, so the lever has something to
act on), and the behavioural KPIs expected to move. A lever whose only effect is
a cost line is ``cost_only``, with the reason; its schema field says the same.

``sim.experiment.levers`` runs every lever low vs high on a small market with
paired seeds and tabulates what moved (``python -m sim.experiment.levers``);
``tests/test_levers.py`` fails when a lever moves no behavioural KPI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Behavioural KPIs (people doing things, never a cost or a price): run totals of these (flows, and the
#: negative share as member-share days) ...
FLOW_KPIS: tuple[str, ...] = (
    "new_members",
    "churned",
    "visits",
    "interactions",
    "ugc_posts",
    "purchases",
    "gmv",
    "invitations",
    "referrals_accepted",
    "koc_posts",
    "unanswered",
    "coupons_redeemed",
    "redemptions",
    "negative_share",
)
#: ... and last-day values of these.
STOCK_KPIS: tuple[str, ...] = ("members", "koc_count", "engagement_mean", "satisfaction_mean")
BEHAVIOURAL_KPIS: tuple[str, ...] = FLOW_KPIS + STOCK_KPIS


@dataclass(frozen=True)
class Lever:
    """One strategy key, the values to compare, and what it should move."""

    key: str  # dotted scenario key
    low: Any
    high: Any
    expects: tuple[str, ...] = ()  # behavioural KPIs expected to move (any direction)
    context: dict[str, Any] = field(default_factory=dict)  # nested scenario keys that switch its program on
    cost_only: str = ""  # the reason, for a key whose only effect is a cost line


POINTS = {"incentives": {"points": {"enabled": True}}}
COUPONS = {"incentives": {"coupons": {"enabled": True}}}
BADGES = {"incentives": {"badges": {"enabled": True}}}
CRISIS = {"events": [{"kind": "crisis", "day": 20, "severity": 1.0, "duration": 60}]}  # long enough to respond to
RICH_POINTS = {"incentives": {"points": {"enabled": True, "redeem_min": 300.0}}}  # balances worth keeping
FIXED_TEAM = {"operators": {"headcount": 2, "members_per_operator": None}}
PROMO_MIX = {
    "educational": 0.1,
    "review": 0.1,
    "entertainment": 0.1,
    "interactive": 0.1,
    "promotional": 0.5,
    "livestream": 0.1,
}

LEVERS: tuple[Lever, ...] = (
    # content
    Lever(
        "content.posts_per_day",
        2,
        12,
        ("visits", "interactions", "purchases"),
        {"content": {"full_plan_members": None}},  # the whole plan, not a share sized to a small community
    ),
    Lever("content.quality", 0.4, 0.9, ("purchases", "invitations", "satisfaction_mean")),
    Lever("content.mix", None, PROMO_MIX, ("gmv", "interactions", "visits")),
    Lever("content.personalization", 0.0, 1.0, ("purchases", "visits")),
    Lever("content.peak_share", 0.0, 0.8, ("visits", "purchases"), {"content": {"full_plan_members": None}}),
    Lever("content.ugc_dwell_bonus", 0.0, 2.0, ("engagement_mean", "visits", "ugc_posts")),
    Lever("content.themed_columns.enabled", False, True, ("interactions", "visits")),
    Lever(
        "content.cost_per_post",
        40.0,
        160.0,
        cost_only="the price of producing a post; volume and quality are posts_per_day and quality",
    ),
    Lever(
        "content.themed_columns.cost_per_day",
        50.0,
        300.0,
        context={"content": {"themed_columns": {"enabled": True}}},
        cost_only="the editorial cost of columns whose effect is interaction_multiplier and appeal_bonus",
    ),
    # acquisition
    Lever("acquisition.paid.daily_budget", 100.0, 600.0, ("new_members", "members")),
    Lever("acquisition.winback_prob", 0.0, 0.05, ("new_members", "members")),
    # referral
    Lever("referral.reward_inviter", 0.0, 30.0, ("invitations", "referrals_accepted")),
    Lever("referral.reward_invitee", 0.0, 30.0, ("referrals_accepted", "churned")),
    Lever(
        "referral.second_level_reward",
        0.0,
        30.0,
        ("invitations", "referrals_accepted"),
        {"referral": {"reward_inviter": 10.0}},
    ),
    Lever("referral.reward_cap", 0, 50, ("invitations", "referrals_accepted"), {"referral": {"reward_inviter": 30.0}}),
    # KOCs
    Lever("koc.initial_count", 0, 30, ("koc_posts", "purchases")),
    Lever("koc.commission_rate", 0.0, 0.1, ("koc_posts", "koc_count", "purchases")),
    Lever("koc.sample_cost_per_month", 0.0, 300.0, ("purchases", "gmv", "engagement_mean")),
    Lever("koc.incubation.enabled", False, True, ("koc_count", "koc_posts")),
    Lever(
        "koc.cost_per_day",
        5.0,
        50.0,
        cost_only="fixed account support; what KOCs do is bought by commission_rate and sample_cost_per_month",
    ),
    # operators
    Lever(
        "operators.headcount",
        1,
        4,
        ("purchases", "visits"),  # a fixed team of 1 posts 4 of the 12 planned posts
        {"operators": {"members_per_operator": None}, "content": {"full_plan_members": None, "posts_per_day": 12}},
    ),
    Lever(
        "operators.members_per_operator",
        5000.0,
        300.0,
        ("unanswered", "satisfaction_mean"),
        {"engagement": {"question_prob": 0.3}},  # a support-heavy community: questions exceed a small team
    ),
    Lever("operators.outreach.enabled", False, True, ("purchases", "visits"), FIXED_TEAM),
    Lever(
        "operators.daily_salary",
        300.0,
        900.0,
        cost_only="the team's pay; its capacity is posts_capacity and replies_capacity",
    ),
    Lever("livestream.enabled", False, True, ("purchases", "gmv")),
    Lever(
        "livestream.host_cost",
        1000.0,
        6000.0,
        context={"livestream": {"enabled": True}},
        cost_only="the cost of a show whose pull is attend_prob and conversion_lift",
    ),
    Lever("sentiment.response_delay_days", 0, 30, ("negative_share", "churned"), CRISIS),
    Lever(
        "sentiment.response_cost",
        500.0,
        5000.0,
        context=CRISIS,
        cost_only="the daily cost of a response whose effect is response_delay_days and response_quality",
    ),
    # pricing
    Lever("purchase.discount", 0.0, 0.1, ("purchases",)),
    # points
    Lever("incentives.points.enabled", False, True, ("redemptions", "churned", "purchases")),
    Lever("incentives.points.per_yuan", 0.5, 5.0, ("redemptions", "purchases"), POINTS),
    Lever("incentives.points.redeem_min", 3000.0, 300.0, ("redemptions", "purchases"), POINTS),
    Lever("incentives.points.expiry_days", 365, 30, ("purchases", "churned", "redemptions"), RICH_POINTS),
    # tiers, coupons, group buys
    Lever("incentives.tiers.enabled", False, True, ("churned", "visits", "purchases")),
    Lever("incentives.coupons.enabled", False, True, ("purchases", "coupons_redeemed")),
    Lever("incentives.coupons.value", 5.0, 30.0, ("purchases", "coupons_redeemed"), COUPONS),
    Lever("incentives.coupons.every_days", 28, 7, ("purchases", "coupons_redeemed"), COUPONS),
    Lever("incentives.coupons.dependence_rate", 0.0, 0.5, ("purchases", "gmv", "visits"), COUPONS),
    Lever("incentives.group_buy.enabled", False, True, ("purchases", "new_members")),
    # engagement rewards
    Lever("incentives.checkin.enabled", False, True, ("visits",), POINTS),
    Lever("incentives.flash_sale.enabled", False, True, ("purchases", "visits")),
    Lever("incentives.lottery.enabled", False, True, ("visits",)),
    Lever(
        "incentives.lottery.prize_value",
        20.0,
        200.0,
        ("visits", "interactions"),
        {"incentives": {"lottery": {"enabled": True}}},
    ),
    Lever("incentives.birthday.enabled", False, True, ("satisfaction_mean", "purchases")),
    Lever(
        "incentives.birthday.gift_cost",
        5.0,
        50.0,
        ("satisfaction_mean", "churned", "purchases"),
        {"incentives": {"birthday": {"enabled": True}}},
    ),
    Lever("incentives.badges.enabled", False, True, ("churned", "ugc_posts")),
    Lever(
        "incentives.badges.cost_per_badge",
        1.0,
        20.0,
        context=BADGES,
        cost_only="the cost of awarding a badge; its effect is churn_weight and ugc_multiplier",
    ),
)


def by_key() -> dict[str, Lever]:
    return {lever.key: lever for lever in LEVERS}


def nested(key: str, value: Any) -> dict[str, Any]:
    """``a.b.c``, v -> ``{"a": {"b": {"c": v}}}``."""
    out: dict[str, Any] = {}
    node = out
    *heads, last = key.split(".")
    for head in heads:
        node = node.setdefault(head, {})
    node[last] = value
    return out

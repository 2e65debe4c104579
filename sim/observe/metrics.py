"""Daily KPIs: what operators watch, computed from the population and the day.

Definitions (formula, window, unit) are in docs/metrics.md; ``KPI_NAMES`` fixes
the column order of the time series.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from sim.core.ledger import CATEGORIES
from sim.core.population import MEMBER
from sim.mechanisms.incentives import points
from sim.mechanisms.registry import JOIN_SOURCES, KPIS, LINES
from sim.observe.health import HEALTH_COLUMNS

if TYPE_CHECKING:
    from sim.model import CommunityModel

COMMUNITY = (
    "members",
    "prospects",
    "churned_total",
    "new_members",
    *(f"new_{s}" for s in JOIN_SOURCES),
    "churned",
    "net_growth",
    "dau",
    "active_share",
    "mau",
    "dau_mau",
    "visits",
    "interactions",
    "interactions_per_active",
    "questions",
    "unanswered",
    "ugc_posts",
    "pgc_posts",
    "koc_posts",
    "koc_count",
)
COMMERCE = (
    "purchases",
    "buyers",
    "gmv",
    "revenue",
    "aov",
    "gross_margin",
    "repurchase_rate",
    "monthly_repurchase_rate",
    "invitations",
    "referrals_accepted",
    "referral_conversion",
    "k_factor",
    "satisfaction_mean",
    "nps",
    "engagement_mean",
    "fatigue_mean",
)
INCENTIVES = (
    "points_liability",
    "points_earned",
    "points_redeemed",
    "points_expired",
    "points_redemption_rate",
    "redemptions",
    "coupons_issued",
    "coupons_redeemed",
    "coupon_redemption_rate",
    "groups_opened",
    "groups_succeeded",
    "group_success_rate",
    "checkins",
    "badges_awarded",
    "tier_share",
    "incentive_cost_per_buyer",
)
OPERATIONS = (
    "conversion",
    "dwell_minutes",
    "ugc_share",
    "live_viewers",
    "replay_viewers",
    "live_purchases",
    "outreach_contacts",
    "incidents",
    "unhandled_incidents",
    "response_hours",
    "kocs_promoted",
    "operators",
)
MONEY = (
    *(f"cost_{c}" for c in CATEGORIES),
    *(f"line_{line}" for line in LINES),
    "cost_total",
    "profit",
    "cum_gmv",
    "cum_cost",
    "cum_profit",
    "roi",
)
MECHANISMS = tuple(kpi.name for kpi in KPIS)  # the mechanisms' own KPIs (sim.mechanisms.registry)
KPI_NAMES: tuple[str, ...] = (
    COMMUNITY + COMMERCE + INCENTIVES + OPERATIONS + MECHANISMS + MONEY + HEALTH_COLUMNS + ("rule_firings",)
)


class KPITracker:
    """Computes one row of KPIs a day; keeps the running windows and totals it needs."""

    def __init__(self) -> None:
        self.referral_joins_30: deque[int] = deque(maxlen=30)
        self.members_30: deque[int] = deque(maxlen=30)
        self.prev_month_buyers: np.ndarray | None = None
        self.monthly_repurchase = 0.0
        self.totals = dict.fromkeys(
            (
                "points_earned",
                "points_redeemed",
                "coupons_issued",
                "coupons_redeemed",
                "groups_opened",
                "groups_succeeded",
            ),
            0.0,
        )

    def row(self, model: CommunityModel, accounts: dict[str, float]) -> dict[str, float]:
        row = self._community(model)
        row.update(self._commerce(model, row["members"]))
        row.update(self._incentives(model, row["members"], accounts))
        row.update(self._operations(model))
        row.update({kpi.name: kpi.value(model) for kpi in KPIS})
        row.update(accounts)
        return row

    def _community(self, model: CommunityModel) -> dict[str, float]:
        pop, day = model.pop, model.day
        mi = model.member_index()
        m = int(mi.size)
        joins = {s: day.joins.get(s, 0) for s in JOIN_SOURCES}
        new = sum(joins.values())
        visitors = int(day.visitors.size)
        active = int(np.count_nonzero(pop.status[day.visitors] == MEMBER))  # visitors who are still members tonight
        mau = model.count_members(pop.last_visit, lambda last: last > day.day - 30)
        return {
            "members": m,
            "prospects": int(pop.n - m - model.n_churned),
            "churned_total": model.n_churned,
            "new_members": new,
            **{f"new_{s}": joins[s] for s in JOIN_SOURCES},
            "churned": day.churned,
            "net_growth": new - day.churned,
            "dau": visitors,
            "active_share": active / m if m else 0.0,
            "mau": mau,
            "dau_mau": active / mau if mau else 0.0,
            "visits": visitors,
            "interactions": day.interactions,
            "interactions_per_active": day.interactions / visitors if visitors else 0.0,
            "questions": day.questions,
            "unanswered": day.unanswered,
            "ugc_posts": day.ugc_posts,
            "pgc_posts": int(day.pgc_counts.sum()),
            "koc_posts": day.koc_posts,
            "koc_count": model.count_members(pop.is_koc, lambda koc: koc),
        }

    def _commerce(self, model: CommunityModel, m: int) -> dict[str, float]:
        pop, day = model.pop, model.day
        mi = model.member_index()
        sat = pop.satisfaction[mi]  # gathered for the mean, so it is the same whichever way the day ran
        buyers = model.count_members(pop.purchases, lambda buys: buys >= 1)
        repeat = model.count_members(pop.purchases, lambda buys: buys >= 2)
        self.referral_joins_30.append(day.accepted)
        self.members_30.append(m)
        mean_members = sum(self.members_30) / len(self.members_30)  # exact for counts; np.mean converts first
        return {
            "purchases": day.purchases,
            "buyers": day.purchases,  # one purchase per person per day
            "gmv": day.gmv,
            "revenue": day.revenue,
            "aov": day.gmv / day.purchases if day.purchases else 0.0,
            "gross_margin": day.gross_margin,
            "repurchase_rate": repeat / buyers if buyers else 0.0,
            "monthly_repurchase_rate": self._monthly_repurchase(model),
            "invitations": day.invitations,
            "referrals_accepted": day.accepted,
            "referral_conversion": day.accepted / day.invitations if day.invitations else 0.0,
            "k_factor": sum(self.referral_joins_30) / mean_members if mean_members else 0.0,
            "satisfaction_mean": float(sat.mean()) if m else 0.0,
            "nps": 100.0 * (np.count_nonzero(sat >= 0.8) - np.count_nonzero(sat < 0.6)) / m if m else 0.0,
            "engagement_mean": float(pop.engagement[mi].mean()) if m else 0.0,
            "fatigue_mean": float(pop.fatigue[mi].mean()) if m else 0.0,
        }

    def _operations(self, model: CommunityModel) -> dict[str, float]:
        day = model.day
        visits = day.visitors.size
        live = day.live_viewers
        return {
            "conversion": day.purchases / visits if visits else 0.0,
            "dwell_minutes": day.dwell_minutes,
            "ugc_share": day.ugc_share,
            "live_viewers": int(live.size),
            "replay_viewers": int(day.replay_viewers.size),
            "live_purchases": int(np.isin(day.buyers_today, live, assume_unique=True).sum()) if live.size else 0,
            "outreach_contacts": day.outreach,
            "incidents": day.incidents,
            "unhandled_incidents": day.unhandled_incidents,
            "response_hours": day.response_hours,
            "kocs_promoted": day.kocs_promoted,
            "operators": model.policy.headcount,
        }

    def _monthly_repurchase(self, model: CommunityModel) -> float:
        """Share of the previous 30-day period's buyers who bought again in the period just ended.

        Updated on the last day of every 30-day period; the value holds until the next.
        """
        day = model.day.day
        if (day + 1) % 30:
            return self.monthly_repurchase
        bought = model.pop.last_purchase > day - 30
        prev = self.prev_month_buyers
        if prev is not None and prev.any():
            # last_purchase only remembers the latest purchase, so "bought in both periods" is
            # "bought in this period" among last period's buyers
            self.monthly_repurchase = float(np.count_nonzero(bought & prev) / np.count_nonzero(prev))
        self.prev_month_buyers = bought
        return self.monthly_repurchase

    def _incentives(self, model: CommunityModel, m: int, accounts: dict[str, float]) -> dict[str, float]:
        day, t = model.day, self.totals
        for key in t:
            t[key] += getattr(day, key)
        tiered = model.count_members(model.pop.tier, lambda tier: tier > 0)
        return {
            "points_liability": points.liability(model),
            "points_earned": day.points_earned,
            "points_redeemed": day.points_redeemed,
            "points_expired": day.points_expired,
            "points_redemption_rate": t["points_redeemed"] / t["points_earned"] if t["points_earned"] else 0.0,
            "redemptions": day.redemptions,
            "coupons_issued": day.coupons_issued,
            "coupons_redeemed": day.coupons_redeemed,
            "coupon_redemption_rate": t["coupons_redeemed"] / t["coupons_issued"] if t["coupons_issued"] else 0.0,
            "groups_opened": day.groups_opened,
            "groups_succeeded": day.groups_succeeded,
            "group_success_rate": t["groups_succeeded"] / t["groups_opened"] if t["groups_opened"] else 0.0,
            "checkins": day.checkins,
            "badges_awarded": day.badges_awarded,
            "tier_share": tiered / m if m else 0.0,
            "incentive_cost_per_buyer": accounts["cost_incentives"] / day.purchases if day.purchases else 0.0,
        }

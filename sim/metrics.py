"""Daily KPIs: what operators watch, computed from the population and the day.

Definitions (formula, window, unit) are in docs/metrics.md; ``KPI_NAMES`` fixes
the column order of the time series.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from sim.ledger import CATEGORIES
from sim.population import JOIN_SOURCES

if TYPE_CHECKING:
    from sim.model import CommunityModel

CORE_SOURCES = ("initial", "paid", "organic", "referral", "winback")

KPI_NAMES: tuple[str, ...] = (
    "members",
    "prospects",
    "churned_total",
    "new_members",
    *(f"new_{s}" for s in CORE_SOURCES),
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
    "purchases",
    "buyers",
    "gmv",
    "aov",
    "gross_margin",
    "repurchase_rate",
    "invitations",
    "referrals_accepted",
    "referral_conversion",
    "k_factor",
    "satisfaction_mean",
    "nps",
    "engagement_mean",
    "fatigue_mean",
    "points_liability",
    "redemptions",
    *(f"cost_{c}" for c in CATEGORIES),
    "cost_total",
    "profit",
    "cum_gmv",
    "cum_cost",
    "cum_profit",
    "roi",
)


class KPITracker:
    """Computes one row of KPIs a day; keeps the 30-day windows it needs."""

    def __init__(self) -> None:
        self.referral_joins_30 = deque(maxlen=30)
        self.members_30 = deque(maxlen=30)
        self.ever_buyers = 0
        self.repeat_buyers = 0

    def row(self, model: CommunityModel, accounts: dict[str, float]) -> dict[str, float]:
        pop, day = model.pop, model.day
        mi = model.member_index()
        m = int(mi.size)
        joins = {s: day.joins.get(s, 0) for s in JOIN_SOURCES}
        new = sum(joins.values())
        visitors = int(day.visitors.size)
        mau = int(np.count_nonzero(pop.last_visit[mi] > day.day - 30))
        sat = pop.satisfaction[mi]
        buys = pop.purchases[mi]
        buyers = int(np.count_nonzero(buys >= 1))
        repeat = int(np.count_nonzero(buys >= 2))
        self.referral_joins_30.append(day.accepted)
        self.members_30.append(m)
        mean_members = float(np.mean(self.members_30)) if self.members_30 else 0.0
        row = {
            "members": m,
            "prospects": int(pop.n - m - model.n_churned),
            "churned_total": model.n_churned,
            "new_members": new,
            **{f"new_{s}": joins.get(s, 0) for s in CORE_SOURCES},
            "churned": day.churned,
            "net_growth": new - day.churned,
            "dau": visitors,
            "active_share": visitors / m if m else 0.0,
            "mau": mau,
            "dau_mau": visitors / mau if mau else 0.0,
            "visits": visitors,
            "interactions": day.interactions,
            "interactions_per_active": day.interactions / visitors if visitors else 0.0,
            "questions": day.questions,
            "unanswered": day.unanswered,
            "ugc_posts": day.ugc_posts,
            "pgc_posts": int(day.pgc_counts.sum()),
            "koc_posts": day.koc_posts,
            "koc_count": int(np.count_nonzero(pop.is_koc[mi])),
            "purchases": day.purchases,
            "buyers": day.purchases,
            "gmv": day.gmv,
            "aov": day.gmv / day.purchases if day.purchases else 0.0,
            "gross_margin": day.gross_margin,
            "repurchase_rate": repeat / buyers if buyers else 0.0,
            "invitations": day.invitations,
            "referrals_accepted": day.accepted,
            "referral_conversion": day.accepted / day.invitations if day.invitations else 0.0,
            "k_factor": sum(self.referral_joins_30) / mean_members if mean_members else 0.0,
            "satisfaction_mean": float(sat.mean()) if m else 0.0,
            "nps": 100.0 * (np.count_nonzero(sat >= 0.8) - np.count_nonzero(sat < 0.6)) / m if m else 0.0,
            "engagement_mean": float(pop.engagement[mi].mean()) if m else 0.0,
            "fatigue_mean": float(pop.fatigue[mi].mean()) if m else 0.0,
            "points_liability": float(pop.points[mi].sum() * model.scenario.points.value_per_point)
            if model.scenario.points.enabled
            else 0.0,
            "redemptions": day.redemptions,
            **accounts,
        }
        return row

"""Daily KPIs: what operators watch, computed from the population and the day.

Definitions (formula, window, unit) are in docs/metrics.md. The KPIs of a
mechanism are declared in its spec; ``KPI_NAMES`` fixes the column order of the
time series: community, commerce, incentives and operations (this module's
KPIs of each group, then the mechanisms'), money, health, rule firings.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from sim.core.ledger import CATEGORIES
from sim.core.population import MEMBER
from sim.mechanisms.registry import INVITED_SOURCES, JOIN_SOURCES, KPIS, LINES
from sim.mechanisms.spec import Kind
from sim.observe.health import HEALTH_COLUMNS

if TYPE_CHECKING:
    from sim.model import CommunityModel

#: Join sources whose joins are given as input (a cohort's schedule), not an outcome: their ``new_*`` KPI is
#: in the time series but not among the summary's headline KPIs.
INPUT_SOURCES: tuple[str, ...] = ("cohort",)

#: The KPIs this module computes itself (the mechanisms' own are in their specs), by column group:
#: (name, kind, headline). Flows count what happened on a day and add up over windows and periods;
#: stocks are read at a window's last day. Headline KPIs are also in summary.json's windows.
CORE: dict[str, tuple[tuple[str, Kind, bool], ...]] = {
    "community": (
        ("members", "stock", True),
        ("prospects", "stock", False),
        ("churned_total", "stock", True),
        ("ever_joined", "stock", True),
        ("new_members", "flow", True),
        *((f"new_{s}", "flow", s not in INPUT_SOURCES) for s in JOIN_SOURCES),
        ("churned", "flow", True),
        ("net_growth", "flow", False),
        ("dau", "stock", True),
        ("active_share", "stock", False),
        ("mau", "stock", True),
        ("dau_mau", "stock", True),
        ("visits", "flow", True),
        ("interactions_per_active", "stock", False),
    ),
    "commerce": (
        ("purchases", "flow", True),
        ("buyers", "flow", False),
        ("gmv", "flow", True),
        ("revenue", "flow", True),
        ("aov", "stock", False),
        ("gross_margin", "flow", True),
        ("repurchase_rate", "stock", True),
        ("monthly_repurchase_rate", "stock", False),
        ("k_factor", "stock", True),
        ("k_factor_referral", "stock", True),
        ("satisfaction_mean", "stock", True),
        ("nps", "stock", True),
        ("engagement_mean", "stock", False),
        ("fatigue_mean", "stock", False),
    ),
    "incentives": (("incentive_cost_per_buyer", "stock", False),),
    "operations": (("conversion", "stock", False),),
    "money": (
        *((f"cost_{c}", "flow", True) for c in CATEGORIES),
        *((f"line_{line}", "flow", False) for line in LINES),
        ("cost_total", "flow", True),
        ("profit", "flow", True),
        ("cum_gmv", "stock", True),
        ("cum_cost", "stock", True),
        ("cum_profit", "stock", True),
        ("roi", "stock", True),
    ),
}
_COLUMNS = [
    *(
        (name, kind, headline)
        for group in ("community", "commerce", "incentives", "operations")
        for name, kind, headline in (*CORE[group], *((k.name, k.kind, k.headline) for k in KPIS if k.group == group))
    ),
    *CORE["money"],
    *((name, "stock", False) for name in HEALTH_COLUMNS),
    ("rule_firings", "flow", False),
]
KPI_NAMES: tuple[str, ...] = tuple(name for name, _, _ in _COLUMNS)
#: Each KPI's kind: "flow" or "stock".
KIND: dict[str, Kind] = {name: kind for name, kind, _ in _COLUMNS}
#: The KPIs of summary.json's windows, flows (summed) and stocks (read on the last day).
HEADLINE_FLOWS: tuple[str, ...] = tuple(name for name, kind, headline in _COLUMNS if headline and kind == "flow")
HEADLINE_STOCKS: tuple[str, ...] = tuple(name for name, kind, headline in _COLUMNS if headline and kind == "stock")
_FLOWS = tuple(k for k in KPIS if k.kind == "flow")
_STOCKS = tuple(k for k in KPIS if k.kind == "stock")

#: KPIs that can be negative: money net of costs, net changes, growth ratios (bounds in docs/metrics.md).
SIGNED: frozenset[str] = frozenset(
    {"profit", "cum_profit", "roi", "net_growth", "monthly_growth", "activity_change", "interaction_growth"}
)
#: KPIs that are shares or 0/1 flags, in [0, 1].
SHARES: frozenset[str] = frozenset(
    {
        "active_share",
        "dau_mau",
        "dormant_share",
        "repurchase_rate",
        "monthly_repurchase_rate",
        "product_quality",
        "satisfaction_mean",
        "engagement_mean",
        "fatigue_mean",
        "referral_conversion",
        "points_redemption_rate",
        "tier_share",
        "coupon_redemption_rate",
        "group_success_rate",
        "conversion",
        "ugc_share",
        "negative_share",
        "at_risk_share",
        *(name for name in HEALTH_COLUMNS if name.startswith("alert_")),
    }
)


def support(name: str) -> tuple[float, float]:
    """The values a KPI can take, so an interval of its mean never leaves them (counts cannot go below 0)."""
    if name in SHARES:
        return (0.0, 1.0)
    if name == "nps":
        return (-100.0, 100.0)
    if name in SIGNED:
        return (-np.inf, np.inf)
    return (0.0, np.inf)


class KPITracker:
    """Computes one row of KPIs a day; keeps the running windows and totals it needs."""

    def __init__(self) -> None:
        self.invited_joins_30: deque[int] = deque(maxlen=30)  # joins by the invitation-driven sources
        self.referral_joins_30: deque[int] = deque(maxlen=30)
        self.members_30: deque[int] = deque(maxlen=30)
        self.prev_month_buyers: np.ndarray | None = None
        self.monthly_repurchase = 0.0
        self.cum: dict[str, float] = {name: 0.0 for name, kind in KIND.items() if kind == "flow"}  # since day 0

    def row(self, model: CommunityModel, accounts: dict[str, float]) -> dict[str, float]:
        """Today's KPIs (the adaptive rules and health columns are added by the model)."""
        row = self._community(model)
        row.update(self._commerce(model, row["members"]))
        day = model.day
        row["incentive_cost_per_buyer"] = accounts["cost_incentives"] / day.purchases if day.purchases else 0.0
        row["conversion"] = self._conversion(model)
        row.update(accounts)
        row.update({kpi.name: kpi.value(model) for kpi in _FLOWS})
        for name in self.cum.keys() & row.keys():
            self.cum[name] += row[name]
        row.update({kpi.name: kpi.value(model) for kpi in _STOCKS})
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
            "ever_joined": m + model.n_churned,  # members and churned: everyone who has joined at least once
            "new_members": new,
            **{f"new_{s}": joins[s] for s in JOIN_SOURCES},
            "churned": day.churned,
            "net_growth": new - day.churned,
            "dau": visitors,
            "active_share": active / m if m else 0.0,
            "mau": mau,
            "dau_mau": active / mau if mau else 0.0,
            "visits": visitors,
            "interactions_per_active": day.interactions / visitors if visitors else 0.0,
        }

    def _commerce(self, model: CommunityModel, m: int) -> dict[str, float]:
        pop, day = model.pop, model.day
        mi = model.member_index()
        sat = pop.satisfaction[mi]  # gathered for the mean, so it is the same whichever way the day ran
        buyers = model.count_members(pop.purchases, lambda buys: buys >= 1)
        repeat = model.count_members(pop.purchases, lambda buys: buys >= 2)
        self.invited_joins_30.append(sum(day.joins.get(s, 0) for s in INVITED_SOURCES))
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
            "k_factor": sum(self.invited_joins_30) / mean_members if mean_members else 0.0,
            "k_factor_referral": sum(self.referral_joins_30) / mean_members if mean_members else 0.0,
            "satisfaction_mean": float(sat.mean()) if m else 0.0,
            "nps": 100.0 * (np.count_nonzero(sat >= 0.8) - np.count_nonzero(sat < 0.6)) / m if m else 0.0,
            "engagement_mean": float(pop.engagement[mi].mean()) if m else 0.0,
            "fatigue_mean": float(pop.fatigue[mi].mean()) if m else 0.0,
        }

    @staticmethod
    def _conversion(model: CommunityModel) -> float:
        """Share of today's visitors who bought today (in the purchase phase or a group buy they joined).

        Counted over visitors, so it is at most 1; group-buy participants who did not visit are not in it.
        """
        day = model.day
        if not day.visitors.size:
            return 0.0
        return int(np.count_nonzero(model.pop.last_purchase[day.visitors] == day.day)) / day.visitors.size

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

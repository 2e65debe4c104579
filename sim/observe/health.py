"""Health KPIs and alerts: the warnings operators watch (DOMAIN health warnings).

Computed at the end of every day from the KPI history:
- monthly_growth: members now / members 30 days ago - 1 (0 in the first 30 days);
- activity_change: mean DAU of the last 7 days / mean DAU of the 7 before - 1;
- interaction_growth: interactions of the last 30 days / the 30 before - 1;
- negative_share: share of members holding negative sentiment;
- at_risk_share: share of members whose churn-risk score (``sim.mechanisms.churn_score``: the predicted
  probability of leaving within 30 days) exceeds ``churn_risk_threshold``.
Alerts are 0/1 columns: weak growth for ``weak_growth_days`` running, an activity
swing beyond ``max_activity_swing``, K below ``min_k_factor``, negative share above
``max_negative_share``, an at-risk share above ``max_at_risk_share``, interaction growth below target.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms import sentiment

if TYPE_CHECKING:
    from sim.model import CommunityModel

ALERTS: tuple[str, ...] = (
    "alert_weak_growth",
    "alert_activity_swing",
    "alert_low_k",
    "alert_negative_sentiment",
    "alert_churn_risk",
    "alert_low_interaction_growth",
)
#: Readable names of the health alerts.
ALERT_NAMES: dict[str, str] = {
    "alert_weak_growth": "weak monthly growth",
    "alert_activity_swing": "activity swing",
    "alert_low_k": "low K-factor",
    "alert_negative_sentiment": "negative sentiment",
    "alert_churn_risk": "many members at churn risk",
    "alert_low_interaction_growth": "low interaction growth",
}


def alert_name(column: str) -> str:
    """The readable name of an alert column (plots, reports)."""
    return ALERT_NAMES.get(column, column.removeprefix("alert_").replace("_", " "))


HEALTH_COLUMNS: tuple[str, ...] = (
    "monthly_growth",
    "activity_change",
    "interaction_growth",
    "negative_share",
    "at_risk_share",
    *ALERTS,
    "alerts_active",
)


class HealthTracker:
    """Keeps the last 60 days of what the health KPIs need."""

    def __init__(self) -> None:
        self.members: deque[int] = deque(maxlen=31)
        self.dau: deque[int] = deque(maxlen=14)
        self.interactions: deque[int] = deque(maxlen=60)
        self.weak_days = 0

    def row(self, model: CommunityModel, kpis: dict[str, float]) -> dict[str, float]:
        from sim.mechanisms.churn_score import score

        cfg = model.scenario.health
        self.members.append(int(kpis["members"]))
        self.dau.append(int(kpis["dau"]))
        self.interactions.append(int(kpis["interactions"]))
        growth = self.members[-1] / self.members[0] - 1.0 if len(self.members) == 31 and self.members[0] else 0.0
        dau = list(self.dau)
        week, before = sum(dau[-7:]) / 7, sum(dau[:7]) / 7  # mean DAU (exact sums; np.mean converts first)
        activity = week / before - 1.0 if len(dau) == 14 and before else 0.0
        inter = list(self.interactions)
        prev = sum(inter[:30])
        interaction_growth = sum(inter[30:]) / prev - 1.0 if len(inter) == 60 and prev else 0.0
        mi = model.member_index()
        scores = model.day.churn_scores
        if scores is None or scores.size != mi.size:  # the scoring phase did not run last (a custom schedule)
            scores = score(model, mi)
        at_risk = float(np.count_nonzero(scores > cfg.churn_risk_threshold) / mi.size) if mi.size else 0.0
        negative = sentiment.negative_share(model)
        self.weak_days = self.weak_days + 1 if len(self.members) == 31 and growth < cfg.min_monthly_growth else 0
        row = {
            "monthly_growth": growth,
            "activity_change": float(activity),
            "interaction_growth": interaction_growth,
            "negative_share": negative,
            "at_risk_share": at_risk,
            "alert_weak_growth": int(self.weak_days >= cfg.weak_growth_days),
            "alert_activity_swing": int(abs(activity) > cfg.max_activity_swing),
            "alert_low_k": int(kpis["k_factor"] < cfg.min_k_factor),
            "alert_negative_sentiment": int(negative > cfg.max_negative_share),
            "alert_churn_risk": int(at_risk > cfg.max_at_risk_share),
            "alert_low_interaction_growth": int(len(inter) == 60 and interaction_growth < cfg.min_interaction_growth),
        }
        row["alerts_active"] = sum(row[a] for a in ALERTS)
        return row

"""Churn: the daily hazard that a member leaves.

  h_i = logistic(logit(h0) + w_s (0.5 - s_i) + w_a d_i / 30 + w_f f_i + w_c c_i - w_p P_i)
with s satisfaction, d days since the last visit, f fatigue, c the share of the
member's contacts who have churned and P the points balance relative to the
redemption minimum (capped at 1), a switching cost when a points program runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mathutil import logistic, logit
from sim.membership import churn

if TYPE_CHECKING:
    from sim.model import CommunityModel


def churn_hazard(model: CommunityModel, mi: np.ndarray) -> np.ndarray:
    """Today's churn probability of members ``mi`` (also a churn-risk score)."""
    pop, s = model.pop, model.scenario
    cfg, pts = s.churn, s.points
    idle = (model.day.day - pop.last_visit[mi]) / 30.0
    churned_share = model.network.contact_share(pop.churned_contacts, model.n_churned, pop.status == 2, mi)
    x = (
        logit(cfg.base_hazard)
        + cfg.dissatisfaction_weight * (0.5 - pop.satisfaction[mi])
        + cfg.inactivity_weight * idle
        + cfg.fatigue_weight * pop.fatigue[mi]
        + cfg.social_weight * churned_share
    )
    if pts.enabled and pts.redeem_min > 0:
        x = x - cfg.points_weight * np.minimum(pop.points[mi] / pts.redeem_min, 1.0)
    return logistic(x)


def churn_phase(model: CommunityModel) -> None:
    """Members whose hazard fires today leave."""
    u = model.streams.uniform("churn", model.pop.n)
    mi = model.member_index()
    leaving = mi[u[mi] < churn_hazard(model, mi)]
    churn(model, leaving)

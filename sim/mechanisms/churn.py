"""Churn: the daily hazard that a member leaves.

  h_i = logistic(logit(h0) + w_s (0.5 - s_i) + w_a d_i / 30 + w_f f_i + w_c c_i + M_i + u_i)
with s satisfaction, d days since the last visit, f fatigue, c the share of the
member's contacts who have churned, M_i the modifiers of incentives (points as
a switching cost, tier status, badges) and u_i the personal propensity fixed at
birth (``churn.hazard_sigma``; none by default). Reward hunters leave on their day
regardless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.mathutil import logistic, logit
from sim.core.membership import churn, referrer_is_member
from sim.core.population import CHURNED
from sim.mechanisms import sentiment
from sim.mechanisms.koc import followers_lose_their_koc
from sim.mechanisms.spec import Mechanism

if TYPE_CHECKING:
    from sim.model import CommunityModel


def churn_hazard(model: CommunityModel, mi: np.ndarray) -> np.ndarray:
    """Today's churn probability of members ``mi`` (hidden from operators, who see ``churn_score``)."""
    return logistic(churn_log_odds(model, mi))


def churn_log_odds(model: CommunityModel, mi: np.ndarray | slice) -> np.ndarray:
    """The log-odds of ``churn_hazard``."""
    pop, cfg = model.pop, model.scenario.churn
    idle = (model.day.day - pop.last_visit[mi]).astype(np.float32)  # days; float32 like the rest of the sum
    own = pop.status == CHURNED if model.network.complete else None  # only the complete graph needs it
    churned_share = model.network.contact_share(pop.churned_contacts, model.n_churned, own, mi)
    x = (
        (logit(cfg.base_hazard) + 0.5 * cfg.dissatisfaction_weight)
        - cfg.dissatisfaction_weight * pop.satisfaction[mi]
        + np.minimum((cfg.inactivity_weight / 30.0) * idle * pop.habit[mi], np.float32(cfg.max_inactivity_log_odds))
        + cfg.fatigue_weight * pop.fatigue[mi]
        + cfg.social_weight * churned_share
        + model.mods.churn[mi]
    )
    if cfg.referral_tie_weight:  # a referred member whose referrer is still in the community is held by the tie
        x -= np.float32(cfg.referral_tie_weight) * referrer_is_member(pop, mi)
    if pop.churn_frailty is not None:  # the personal propensity, drawn at birth when churn.hazard_sigma > 0
        x += pop.churn_frailty[mi]
    return x


def churn_phase(model: CommunityModel) -> None:
    """Members whose hazard fires today leave, and so do reward hunters whose day has come."""
    u = model.streams.uniform("churn", model.pop.n)

    def decide(rows: np.ndarray | slice) -> np.ndarray:
        hunters = model.pop.hunter_leave[rows]
        leave = (u[rows] < logistic(churn_log_odds(model, rows))) | ((hunters >= 0) & (hunters <= model.day.day))
        return model.members_where(rows, leave)[1]

    leaving = np.concatenate(model.split_rows(decide, model.member_rows()))
    followers_lose_their_koc(model, leaving)
    churn(model, leaving)
    sentiment.leave(model, leaving)


SPEC = Mechanism(
    name="churn",
    section="churn",
    phases=(("churn", churn_phase),),
    streams=("churn",),
    uses=("membership", "mods", "streams", "rows", "n_negative", "koc_reach"),
)

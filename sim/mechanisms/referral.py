"""Referrals: visiting members invite a contact; accepted invitations join.

A visitor invites one random contact with probability
  logistic(logit(b) + w_s (s_i - 0.5) + R_g + k r_inviter)
where R_g is the feed's referral effect and r_inviter the inviter's reward. An
invitation to a prospect is accepted with probability
  logistic(logit(a) + k r_invitee).
A prospect invited by several members joins once, credited to the lowest-id inviter.
Each acceptance costs both rewards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mathutil import logistic, logit
from sim.membership import join
from sim.population import PROSPECT

if TYPE_CHECKING:
    from sim.model import CommunityModel


def referral_phase(model: CommunityModel) -> None:
    """Invitations sent today and the joins they bring."""
    pop, day, cfg = model.pop, model.day, model.scenario.referral
    n = pop.n
    u_inv = model.streams.uniform("referral", n)
    u_pick = model.streams.uniform("referral", n)
    u_acc = model.streams.uniform("referral", n)

    v = day.visitors
    v = v[pop.status[v] == 1]
    seg = pop.segment[v]
    x = (
        logit(cfg.base_invite_prob)
        + cfg.satisfaction_weight * (pop.satisfaction[v] - 0.5)
        + day.eff_referral[seg]
        + cfg.reward_sensitivity * cfg.reward_inviter
    )
    inviters = v[u_inv[v] < logistic(x)]
    targets = model.network.random_neighbor(inviters, u_pick[inviters])
    valid = targets >= 0
    inviters, targets = inviters[valid], targets[valid]
    valid = pop.status[targets] == PROSPECT
    inviters, targets = inviters[valid], targets[valid]
    day.invitations += int(targets.size)

    p_acc = logistic(logit(cfg.base_acceptance) + cfg.reward_sensitivity * cfg.reward_invitee)
    ok = u_acc[targets] < p_acc
    inviters, targets = inviters[ok], targets[ok]
    targets, first = np.unique(targets, return_index=True)  # inviters are sorted: first = lowest id
    inviters = inviters[first]
    joined = join(model, targets, "referral", referrer=inviters.astype(np.int32))
    day.accepted += int(joined.size)
    np.add.at(pop.invites_accepted, inviters, 1)
    reward = cfg.reward_inviter + cfg.reward_invitee
    model.ledger.book("referral_rewards", joined.size * reward)
    model.events.add(day.day, "referral", joined, amount=reward, counterpart=inviters)

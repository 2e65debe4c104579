"""Referrals: visiting members invite a contact; accepted invitations join.

A visitor invites one random contact with probability
  logistic(logit(b) + w_s (s_i - 0.5) + R_g + k r_i)
where R_g is the feed's referral effect and r_i the inviter reward the member can
still earn (zero once ``reward_cap`` referrals are rewarded). An invitation to a
prospect is accepted with probability logistic(logit(a) + k r_invitee). A prospect
invited by several members joins once, credited to the lowest-id inviter. Each
acceptance pays the inviter (within the cap), the invitee and, with multi-level
rewards, the inviter's own referrer. A second-level reward R2 also changes who
invites: k w2 R2 (w2 = ``second_level_weight``) is added to the log-odds of a
member with an accepted invitee (their invitees' invitations now pay them), and
again to a referred member whose referrer is still a member (the referrer, who
earns R2 on their invitations, encourages them). When the invitee is paid, a ``hunter_share``
of invitees are reward hunters who leave within ``hunter_days``. An invitation makes
its invitee aware of the community (``sim.mechanisms.awareness``), accepted or not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.mathutil import logistic, logit
from sim.core.membership import join, referrer_is_member
from sim.core.population import MEMBER, PROSPECT
from sim.core.treatment import per_person
from sim.engine.arrays import add_at, f32
from sim.mechanisms.content import feed_rows
from sim.mechanisms.incentives import engagement_rewards, points
from sim.mechanisms.spec import KPI, Column, Mechanism, ratio

if TYPE_CHECKING:
    from sim.model import CommunityModel


def referral_phase(model: CommunityModel) -> None:
    """Invitations sent today and the joins they bring."""
    pop, day, cfg = model.pop, model.day, model.scenario.referral
    if cfg.base_invite_prob == 0:  # referrals off: nobody invites (and no draws are made)
        return
    n = pop.n
    u_inv = model.streams.uniform("referral", n)
    later = model.streams.packed("referral", n)  # contact picked, acceptance, reward hunting

    v = day.visitors
    v = v[pop.status[v] == MEMBER]
    seg = feed_rows(day, model.segments.index[v], v)  # rows of the feed tables
    capped = pop.invites_accepted[v] >= per_person(model, v, lambda s: s.referral.reward_cap)
    by_segment = logit(cfg.base_invite_prob) - 0.5 * cfg.satisfaction_weight + day.eff_referral
    x = np.take(f32(by_segment), seg) + cfg.satisfaction_weight * pop.satisfaction[v]  # float32, as for visits
    r_inviter = per_person(model, v, lambda s: s.referral.reward_inviter)  # an A/B test may treat some only
    if np.any(r_inviter):
        x = np.where(capped, x, x + f32(cfg.reward_sensitivity * r_inviter))
    if cfg.second_level_reward and cfg.second_level_weight:
        x += np.float32(cfg.reward_sensitivity * cfg.second_level_weight * cfg.second_level_reward) * downline_pull(
            model, v
        )
    if model.scenario.koc.referral_lift:
        x += np.float32(model.scenario.koc.referral_lift) * day.koc_reached[v]
    inviters = v[u_inv[v] < logistic(x)]
    targets = model.network.random_neighbor(inviters, later(0, inviters))
    valid = targets >= 0
    inviters, targets = inviters[valid], targets[valid]
    valid = pop.status[targets] == PROSPECT
    inviters, targets = inviters[valid], targets[valid]
    day.invitations += int(targets.size)
    day.invitees = targets  # an invitation makes the invitee aware of the community

    accept = cfg.base_acceptance  # 0: nobody accepts, whatever the reward
    invitee_reward = per_person(model, inviters, lambda s: s.referral.reward_invitee)  # the inviter's offer
    p_acc = logistic(logit(accept) + cfg.reward_sensitivity * invitee_reward) if accept else 0.0
    ok = later(1, targets) < p_acc
    inviters, targets = inviters[ok], targets[ok]
    targets, first = np.unique(targets, return_index=True)  # inviters are sorted: first = lowest id
    inviters = inviters[first]
    joined = join(model, targets, "referral", referrer=inviters.astype(np.int32))
    day.accepted += int(joined.size)
    if cfg.resemblance and joined.size:  # friends resemble each other: the friend comes about as often
        mix = np.float32(cfg.resemblance)
        pop.set_activity(joined, (1 - mix) * pop.activity[joined] + mix * pop.activity[pop.referrer[joined]])
    rewarded = pop.invites_accepted[inviters] < per_person(model, inviters, lambda s: s.referral.reward_cap)
    add_at(pop.invites_accepted, inviters, 1)
    grand = np.count_nonzero(referrer_is_member(pop, inviters))  # second-level rewards to members' referrers
    r_inviter = per_person(model, inviters, lambda s: s.referral.reward_inviter)
    r_invitee = per_person(model, inviters, lambda s: s.referral.reward_invitee)
    cost = total(rewarded, r_inviter) + total(joined, r_invitee) + grand * cfg.second_level_reward
    model.ledger.book("referral_rewards", float(cost))
    reward = r_inviter * rewarded + r_invitee
    model.events.add(day.day, "referral", joined, amount=reward, counterpart=inviters)
    points.earn(model, inviters, points.rate(model, inviters, "per_referral"))
    engagement_rewards.add_reputation(model, inviters, model.scenario.incentives.badges.per_referral)
    if np.any(r_invitee > 0) and cfg.hunter_share > 0:  # only paid invitees hunt rewards
        hunters = joined[(later(2, joined) < cfg.hunter_share) & (r_invitee > 0)]
        stay = 1 + (later(0, hunters) * cfg.hunter_days).astype(np.int32)
        pop.hunter_leave[hunters] = day.day + np.minimum(stay, cfg.hunter_days)


def total(who: np.ndarray, value: float | np.ndarray) -> float:
    """The sum of ``value`` over ``who`` (a mask or a list of people): one scalar for all, or one value each."""
    if np.ndim(value) == 0:
        return (np.count_nonzero(who) if who.dtype == bool else who.size) * value
    return float(np.sum(value * who)) if who.dtype == bool else float(np.sum(value))


def downline_pull(model: CommunityModel, v: np.ndarray) -> np.ndarray:
    """How many ways a second-level reward pulls members ``v`` to invite (0, 1 or 2): they have an accepted
    invitee (whose invitations pay them), and their referrer is still a member (and encourages them)."""
    pop = model.pop
    return (pop.invites_accepted[v] > 0).astype(np.float32) + referrer_is_member(pop, v)


SPEC = Mechanism(
    name="referral",
    section="referral",
    phases=(("referrals", referral_phase),),
    streams=("referral",),
    lines=(("referral_rewards", "incentives"),),
    join_sources=("referral",),
    invited_sources=("referral",),
    kpis=(
        KPI("invitations", "flow", lambda m: m.day.invitations, True, "commerce"),
        KPI("referrals_accepted", "flow", lambda m: m.day.accepted, True, "commerce"),
        KPI("referral_conversion", "stock", lambda m: ratio(m.day.accepted, m.day.invitations), group="commerce"),
    ),
    columns=(
        Column("hunter_leave", np.int32, -1),  # day a reward hunter leaves (-1 not a hunter)
        Column("invites_accepted", np.int32, 0),  # referrals this person brought in
    ),
    uses=("membership", "streams", "segments", "tiers", "treatment"),
    leaves=("invitees",),
    takes=("visitors", "eff_referral", "feed_arm", "koc_reached"),
    targetable=("referral.reward_inviter", "referral.reward_invitee", "referral.reward_cap"),
)

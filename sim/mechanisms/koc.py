"""KOCs (关键意见消费者): posting to their followers, incubation, pay, and their departure.

Followers of a KOC are its contacts. Each day a KOC who is a member posts with
probability ``post_prob``; the members among its contacts are reached: their
appeal rises (``engagement_boost``) and their log-odds of buying
(``purchase_lift``) and of inviting a friend (``referral_lift``) rise that day.
KOCs are paid ``commission_rate`` of the list value of purchases by members they
reached that day, a fixed ``cost_per_day`` and samples worth
``sample_cost_per_month``. KOCs churn at ``churn_multiplier`` times the usual
hazard; when one leaves, its followers lose ``follower_penalty`` satisfaction.

Pay acts on what KOCs do, with diminishing returns. Commission: the response
r_c = 1 - exp(-commission_rate / commission_saturation) adds
``commission_post_weight * r_c`` to the log-odds of posting and takes
``commission_churn_weight * r_c`` from a KOC's log-odds of churning. Samples: the
response r_s = 1 - exp(-sample_cost_per_month / sample_saturation) raises the
quality of KOC posts by ``sample_quality_gain * r_s`` (capped at 1) and their
purchase lift by the share ``sample_lift_gain * r_s``. With no commission and no
samples, r_c = r_s = 0 and nothing changes.

Incubation: every ``every_days`` the operators promote the ``promote`` members
with the highest contribution x influence, contribution being the reputation
earned by posts, interactions and referrals and influence log(1 + contacts),
among members of at least ``min_tenure_days``, up to ``max_kocs`` active KOCs.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.core.mathutil import logistic, logit
from sim.core.population import MEMBER
from sim.mechanisms.spec import KPI, Column, Mechanism

if TYPE_CHECKING:
    from sim.config.schema import KOCConfig
    from sim.model import CommunityModel


def active_kocs(model: CommunityModel) -> np.ndarray:
    """Sorted ids of the KOCs who are members (from the few KOCs, not a gather over every member)."""
    kocs = np.flatnonzero(model.pop.is_koc)
    return kocs[model.pop.status[kocs] == MEMBER]


def commission_response(cfg: KOCConfig) -> float:
    """KOCs' response to their commission, in [0, 1): 1 - exp(-rate / saturation)."""
    return -math.expm1(-cfg.commission_rate / cfg.commission_saturation)


def sample_response(cfg: KOCConfig) -> float:
    """KOCs' response to free samples, in [0, 1): 1 - exp(-yuan a month / saturation)."""
    return -math.expm1(-cfg.sample_cost_per_month / cfg.sample_saturation)


def post_prob(cfg: KOCConfig) -> float:
    """A KOC's daily chance of posting: ``post_prob``, raised by commission on the log-odds scale."""
    r = commission_response(cfg)
    if r == 0 or cfg.commission_post_weight == 0 or cfg.post_prob in (0.0, 1.0):
        return cfg.post_prob
    return float(logistic(np.float64(logit(cfg.post_prob) + cfg.commission_post_weight * r)))


def post_quality(cfg: KOCConfig) -> float:
    """Quality of KOC posts: ``quality``, raised by samples (at most 1)."""
    return min(1.0, cfg.quality + cfg.sample_quality_gain * sample_response(cfg))


def purchase_lift(cfg: KOCConfig) -> float:
    """Log-odds of buying added for a member reached by a KOC post: ``purchase_lift``, raised by samples."""
    return cfg.purchase_lift * (1.0 + cfg.sample_lift_gain * sample_response(cfg))


def koc_phase(model: CommunityModel) -> None:
    """Incubate on schedule, then KOCs post and reach their followers."""
    cfg, day = model.scenario.koc, model.day
    inc = cfg.incubation
    if inc.enabled and day.day > 0 and day.day % inc.every_days == 0:
        incubate(model)
    kocs = active_kocs(model)
    u = model.streams.uniform("koc", kocs.size)
    posting = kocs[u < post_prob(cfg)]
    day.koc_posts = int(posting.size)
    reached = model.koc_reach
    reached[:] = 0
    model.network.count_into(posting, reached, +1)
    day.koc_reached = reached > 0
    model.mods.churn[kocs] += np.log(cfg.churn_multiplier) - cfg.commission_churn_weight * commission_response(cfg)
    model.ledger.book("koc_support", kocs.size * cfg.cost_per_day)
    model.ledger.book("koc_samples", kocs.size * cfg.sample_cost_per_month / 30.0)


def incubate(model: CommunityModel) -> None:
    pop, inc = model.pop, model.scenario.koc.incubation
    room = inc.max_kocs - active_kocs(model).size
    if room <= 0 or inc.promote == 0:
        return
    mi = model.member_index()
    eligible = mi[~pop.is_koc[mi] & (model.day.day - pop.join_day[mi] >= inc.min_tenure_days)]
    if eligible.size == 0:
        return
    score = pop.reputation[eligible] * np.log1p(model.network.degree()[eligible])
    k = min(inc.promote, room, eligible.size)
    order = np.lexsort((eligible, -score))[:k]  # best first, ties by id
    chosen = eligible[order]
    chosen = chosen[score[order] > 0]
    pop.is_koc[chosen] = True
    model.day.kocs_promoted = int(chosen.size)


def koc_commission(model: CommunityModel) -> None:
    """After purchases: commission on what reached members bought today."""
    rate = model.scenario.koc.commission_rate
    day = model.day
    if rate <= 0 or day.buyers_today.size == 0:
        return
    reached = day.koc_reached[day.buyers_today]
    model.ledger.book("koc_commission", rate * float(day.buyers_list[reached].sum()))


def followers_lose_their_koc(model: CommunityModel, leaving: np.ndarray) -> None:
    """Followers of departing KOCs lose satisfaction."""
    kocs = leaving[model.pop.is_koc[leaving]]
    penalty = model.scenario.koc.follower_penalty
    if kocs.size == 0 or penalty <= 0:
        return
    hits = np.zeros(model.pop.n, dtype=np.int32)
    model.network.count_into(kocs, hits, +1)
    sat = model.pop.satisfaction
    hit = hits > 0
    sat[hit] = np.maximum(sat[hit] - penalty * hits[hit], 0.0)


SPEC = Mechanism(
    name="koc",
    section="koc",
    phases=(("staffing", koc_phase), ("after_purchases", koc_commission)),
    streams=("koc",),
    lines=(("koc_support", "koc"), ("koc_commission", "koc"), ("koc_samples", "koc")),
    kpis=(
        KPI("koc_posts", "flow", lambda m: m.day.koc_posts, group="community"),
        KPI("koc_count", "stock", lambda m: m.count_members(m.pop.is_koc, lambda koc: koc), True, "community"),
        KPI("kocs_promoted", "flow", lambda m: m.day.kocs_promoted),
    ),
    columns=(Column("is_koc", np.bool_, False),),
    uses=("scenario", "pop", "day", "mods", "streams", "ledger", "network", "rows", "koc_reach"),
    leaves=("koc_posts", "koc_reached"),
    takes=("buyers_today", "buyers_list"),
)

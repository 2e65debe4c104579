"""KOCs (关键意见消费者): posting to their followers, incubation, pay, and their departure.

Followers of a KOC are its contacts. Each day a KOC who is a member posts with
probability ``post_prob``; the members among its contacts are reached: their
appeal rises (``engagement_boost``) and their log-odds of buying
(``purchase_lift``) and of inviting a friend (``referral_lift``) rise that day.
KOCs are paid ``commission_rate`` of the list value of purchases by members they
reached that day, a fixed ``cost_per_day`` and samples worth
``sample_cost_per_month``. KOCs churn at ``churn_multiplier`` times the usual
hazard; when one leaves, its followers lose ``follower_penalty`` satisfaction.

Incubation: every ``every_days`` the operators promote the ``promote`` members
with the highest contribution x influence, contribution being the reputation
earned by posts, interactions and referrals and influence log(1 + contacts),
among members of at least ``min_tenure_days``, up to ``max_kocs`` active KOCs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.population import MEMBER
from sim.mechanisms.spec import KPI, Column, Mechanism

if TYPE_CHECKING:
    from sim.model import CommunityModel


def active_kocs(model: CommunityModel) -> np.ndarray:
    """Sorted ids of the KOCs who are members (from the few KOCs, not a gather over every member)."""
    kocs = np.flatnonzero(model.pop.is_koc)
    return kocs[model.pop.status[kocs] == MEMBER]


def koc_phase(model: CommunityModel) -> None:
    """Incubate on schedule, then KOCs post and reach their followers."""
    cfg, day = model.scenario.koc, model.day
    inc = cfg.incubation
    if inc.enabled and day.day > 0 and day.day % inc.every_days == 0:
        incubate(model)
    kocs = active_kocs(model)
    u = model.streams.uniform("koc", kocs.size)
    posting = kocs[u < cfg.post_prob]
    day.koc_posts = int(posting.size)
    reached = model.koc_reach
    reached[:] = 0
    model.network.count_into(posting, reached, +1)
    day.koc_reached = reached > 0
    model.mods.churn[kocs] += np.log(cfg.churn_multiplier)
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

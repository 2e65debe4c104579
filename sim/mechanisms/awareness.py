"""Prospects' awareness of the community: unaware -> aware -> considering, and members forwarding posts.

Every prospect is in one stage (column ``awareness``: 0 unaware, 1 aware, 2
considering). Only the aware and the considering join by the organic and paid
channels, at ``aware_weight`` and ``considering_weight`` (``weights``);
invitations (referral, group buy) and store visits reach people directly.

Each evening a prospect exposed to the community that day moves up one stage;
one exposed to nothing falls back one stage with probability ``forgetting``.
A prospect is exposed with probability 1 - exp(-lambda_i), where
  lambda_i = word_of_mouth x (member contacts of i) + content_reach x (brand posts)
           + ad_recall x (paid impressions) / N,
paid impressions being the paid channel's spend x 1000 / cpm and N the market
(on the complete graph every member is a contact); and surely when a member
forwarded a post to them or invited them that day.

Forwarding: a visiting member views s = V0 (1 - exp(-V / V0)) of the V posts in
the feed (V0 = ``content.saturation_posts``), every post alike, and forwards one
to a random contact with probability 1 - exp(-s (B f + U f (1 + u)) / V), where
B and U are the brand and user posts (members' UGC of yesterday and KOC posts of
today), f = ``forwarding.brand_prob`` and u = ``forwarding.ugc_uplift``. The post
forwarded is user content with probability U f (1 + u) / (B f + U f (1 + u)), so a
view of user content is forwarded (1 + u) times as often as a view of a brand post.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.membership import prospects
from sim.core.population import PROSPECT
from sim.mechanisms.spec import KPI, Column, Mechanism, counter

if TYPE_CHECKING:
    from sim.config.acquisition import AwarenessConfig
    from sim.model import CommunityModel

STAGES: tuple[str, ...] = ("unaware", "aware", "considering")
UNAWARE, AWARE, CONSIDERING = 0, 1, 2


def weights(cfg: AwarenessConfig) -> np.ndarray:
    """Join weight of each stage (float32): 0 for the unaware."""
    return np.array([0.0, cfg.aware_weight, cfg.considering_weight], dtype=np.float32)


def stage_of(model: CommunityModel, people: np.ndarray) -> np.ndarray | None:
    """The awareness stage of ``people`` (prospects); None when awareness is off."""
    return model.pop.awareness[people] if model.scenario.awareness.enabled else None


def readiness(cfg: AwarenessConfig, stage_counts: np.ndarray) -> float:
    """Mean join weight of prospects counted by stage (unaware, aware, considering)."""
    total = float(stage_counts.sum())
    return float(stage_counts @ weights(cfg).astype(np.float64)) / total if total else 0.0


def cac_factor(cfg: AwarenessConfig, stage: np.ndarray | None) -> float:
    """How much dearer a paid member is today than in the untouched market: the day-0 readiness over that of
    prospects in ``stage`` (their stages; None when off, factor 1).

    An ad platform charging per conversion prices a member at the cost of the impressions it takes, so
    the CAC falls as prospects become aware and considering, and rises as they forget.
    """
    if stage is None:
        return 1.0
    aware, considering = np.count_nonzero(stage == AWARE), np.count_nonzero(stage == CONSIDERING)
    now = readiness(cfg, np.array([stage.size - aware - considering, aware, considering]))
    start = np.array([1.0 - cfg.initial_aware - cfg.initial_considering, cfg.initial_aware, cfg.initial_considering])
    ref = readiness(cfg, np.maximum(start, 0.0))
    if ref == 0.0:  # nobody could join at the start: price from weight 1
        ref = 1.0
    return ref / now if now > 0 else float("inf")


def awareness_start(model: CommunityModel) -> None:
    """Day 0: the market's initial stages, drawn person by person."""
    cfg = model.scenario.awareness
    if model.day.day != 0 or not cfg.enabled:
        return
    u = model.streams.uniform("awareness_start", model.pop.n)  # its own stream: the daily draw keeps rank 0
    aware = np.float32(cfg.initial_aware + cfg.initial_considering)
    model.pop.awareness[:] = (u < aware).astype(np.int8) + (u < np.float32(cfg.initial_considering))


def forwards(model: CommunityModel, cfg: AwarenessConfig, u: np.ndarray) -> np.ndarray:
    """Today's forwards by visiting members (``u``: the per-person uniforms): counts them and returns the
    contacts they reached."""
    day = model.day
    fwd = cfg.forwarding
    brand = float(day.pgc_counts.sum())
    user = float(model.ugc_yesterday.sum()) + day.koc_posts
    volume = brand + user
    v = day.visitors  # all still members: nobody leaves before the churn stage
    if volume <= 0 or v.size == 0 or fwd.brand_prob <= 0:
        return np.zeros(0, dtype=np.int64)
    v0 = model.scenario.content.saturation_posts
    viewed = v0 * -np.expm1(-volume / v0) / volume  # share of the feed's posts a visit views
    rate_brand = viewed * brand * fwd.brand_prob
    rate_user = viewed * user * fwd.brand_prob * (1.0 + fwd.ugc_uplift)
    day.counts["brand_views"] = v.size * viewed * brand
    day.counts["ugc_views"] = v.size * viewed * user
    senders = v[u[v] < np.float32(-np.expm1(-(rate_brand + rate_user)))]
    rng = model.streams["awareness"]  # the few senders' post and contact, in the order of their ids
    is_user = rng.random(senders.size) < rate_user / (rate_brand + rate_user)
    n_user = int(np.count_nonzero(is_user))
    day.counts["ugc_forwards"] = float(n_user)
    day.counts["brand_forwards"] = float(senders.size - n_user)
    targets = model.network.random_neighbor(senders, rng.random(senders.size))
    return targets[targets >= 0]


def awareness_phase(model: CommunityModel) -> None:
    """Tonight's exposures and forgetting, then the prospects counted by stage."""
    cfg, pop, day = model.scenario.awareness, model.pop, model.day
    cand = prospects(model)
    if not cfg.enabled:
        day.counts["prospect_considering"] = float(cand.size)
        return
    u = model.streams.uniform("awareness", pop.n)  # prospects: exposure and forgetting; visitors: forwarding
    reached = forwards(model, cfg, u)
    impressions = day.paid_spend * 1000.0 / cfg.cpm
    outside = cfg.content_reach * float(day.pgc_counts.sum()) + cfg.ad_recall * impressions / pop.n
    # a prospect is exposed when u < P; if not, forgets when u < P + forgetting (1 - P): given no exposure,
    # (u - P) / (1 - P) is a uniform of its own. P depends only on the number of member contacts: looked up
    if model.network.complete:  # every member is a contact
        chance = exposure(cfg, model.n_members, outside)
    else:
        contacts = pop.member_contacts[cand]
        chance = exposure(cfg, np.arange(int(contacts.max(initial=0)) + 1), outside)
    keep = chance + np.float32(cfg.forgetting) * (np.float32(1.0) - chance)
    if not model.network.complete:
        chance, keep = chance[contacts], keep[contacts]
    mine = u[cand]
    exposed = mine < chance
    forget = (mine < keep) ^ exposed  # exposed implies mine < keep
    direct = np.concatenate([positions(cand, day.invitees), positions(cand, reached)])
    exposed[direct] = True
    forget[direct] = False
    reached = np.unique(reached)
    newly = (pop.status[reached] == PROSPECT) & (pop.awareness[reached] == UNAWARE)
    day.counts["forward_reach"] = float(np.count_nonzero(newly))
    stage = pop.awareness[cand]
    forget &= stage > UNAWARE
    stage += exposed
    np.minimum(stage, CONSIDERING, out=stage)
    stage -= forget
    pop.awareness[cand] = stage
    aware, considering = np.count_nonzero(stage == AWARE), np.count_nonzero(stage == CONSIDERING)
    day.counts["prospect_unaware"] = float(cand.size - aware - considering)
    day.counts["prospect_aware"] = float(aware)
    day.counts["prospect_considering"] = float(considering)


def exposure(cfg: AwarenessConfig, contacts, outside: float) -> np.ndarray:
    """Chance of an exposure today (float32) for a prospect with ``contacts`` member contacts."""
    rate = np.float32(cfg.word_of_mouth) * np.asarray(contacts, dtype=np.float32) + np.float32(outside)
    return -np.expm1(-rate, dtype=np.float32)


def positions(sorted_ids: np.ndarray, people: np.ndarray) -> np.ndarray:
    """Where those of ``people`` who are in ``sorted_ids`` stand in it."""
    at = np.searchsorted(sorted_ids, people)
    found = at < sorted_ids.size
    found[found] = sorted_ids[at[found]] == people[found]
    return at[found]


SPEC = Mechanism(
    name="awareness",
    section="awareness",
    phases=(("joining", awareness_start), ("status", awareness_phase)),
    streams=("awareness", "awareness_start"),
    kpis=(
        *(KPI(f"prospect_{name}", "stock", counter(f"prospect_{name}"), group="community") for name in STAGES),
        KPI("brand_views", "flow", counter("brand_views"), group="community"),
        KPI("ugc_views", "flow", counter("ugc_views"), group="community"),
        KPI("ugc_forwards", "flow", counter("ugc_forwards"), True, "community"),
        KPI("brand_forwards", "flow", counter("brand_forwards"), True, "community"),
        KPI("forward_reach", "flow", counter("forward_reach"), True, "community"),
    ),
    columns=(Column("awareness", np.int8, UNAWARE),),
    uses=("scenario", "pop", "day", "streams", "network", "n_members", "ugc_yesterday"),
    takes=("visitors", "invitees", "paid_spend", "pgc_counts", "koc_posts"),
)

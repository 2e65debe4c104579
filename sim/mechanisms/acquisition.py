"""Joining: initial members, paid acquisition, organic word of mouth (Bass), win-back (a flat daily chance,
or a campaign an adaptive rule orders).

Organic joining follows the Bass model on the network: a prospect joins on a day
with probability 1 - exp(-w_i (p + q * m_i) / 365), where p and q are the annual
innovation and imitation coefficients, m_i the share of the prospect's contacts
who are members and w_i the prospect's join weight by awareness stage (0 while
unaware; ``sim.mechanisms.awareness``). With awareness off, w_i = 1 and on the
complete graph the cumulative adoption follows the classic mean-field Bass curve.

Paid acquisition buys k = budget / CAC members a day (stochastically rounded) at
CAC = cac (N / P)^e (r_0 / r)^f, with P the prospects left, r their mean join
weight today and r_0 that of the market on day 0 (e = saturation_elasticity,
f = funnel_elasticity): members cost more as the market is used up and less as it
becomes aware. The k are drawn among the prospects in proportion to their join
weights. No buying on days when the CAC exceeds ``max_cac``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.mathutil import stochastic_round
from sim.core.membership import join, prospects
from sim.core.population import CHURNED, MEMBER
from sim.mechanisms import awareness
from sim.mechanisms.churn_score import set_history
from sim.mechanisms.engagement import habitual_visit_prob
from sim.mechanisms.spec import KPI, Mechanism, counter

if TYPE_CHECKING:
    from sim.model import CommunityModel


def _pick(candidates: np.ndarray, k: int, keys: np.ndarray) -> np.ndarray:
    """The ``k`` candidates with the smallest per-person random keys (uniform, CRN-friendly)."""
    if k >= candidates.size:
        return candidates
    part = np.argpartition(keys[candidates], k)[:k]
    return np.sort(candidates[part])


def seed_initial_members(model: CommunityModel) -> None:
    """Day 0: a random set of initial members, the best connected of them made KOCs."""
    s = model.scenario
    k = s.acquisition.initial_members
    everyone = np.arange(model.pop.n)
    keys = model.streams.uniform("acquisition", model.pop.n)
    joined = join(model, _pick(everyone, k, keys), "initial")
    backdate_visits(model, joined)
    if s.koc.initial_count and joined.size:
        deg = model.network.degree()[joined]
        order = np.lexsort((joined, -deg))  # highest degree first, ties by id
        model.pop.is_koc[joined[order[: s.koc.initial_count]]] = True


#: How far back an initial member's last visit may lie: the established community's history.
MAX_BACKDATE_DAYS = 180
#: Initial members whose earlier visits are drawn at a time (63 doubles each: 16 MB a block).
HISTORY_BLOCK = 32_768


def backdate_visits(model: CommunityModel, members: np.ndarray) -> None:
    """Initial members last visited some time before day 0, each by their own habit, not all on day 0.

    The community already exists, so the days since a member's last visit follow
    their visit process: geometric with their habitual daily visit probability
    (capped at ``MAX_BACKDATE_DAYS``). Without this every initial member counts as
    active for the first 30 days and MAU drops the day the window rolls past day 0. Their earlier
    visits (the churn-risk score's 64-day visit history) follow the same habit, so the score does
    not read an established member as one who never visits.
    """
    if members.size == 0:
        return
    pop = model.pop
    p = np.clip(habitual_visit_prob(model, members), 1e-6, 1.0 - 1e-9)
    u = model.streams.uniform("acquisition", pop.n)[members].astype(np.float64)
    # failures before the first visit: 0, 1, 2, ... (floor, not ceil - 1: the two differ where the ratio is
    # a whole number, which u = 0, a float32 uniform once in 2^24, makes it: ceil(0) - 1 put the visit on day 1)
    gap = np.floor(np.log1p(-u) / np.log1p(-p))
    last = -np.minimum(gap, MAX_BACKDATE_DAYS).astype(np.int32)
    pop.last_visit[members] = last
    # the 63 days before that visit, as the churn-risk score's visit history sees them: visits by the same habit.
    # Drawn a block of members at a time (the same numbers in the same order as one draw of all of them):
    # 63 doubles per member are 5 GB at 10^7 members, a block is a few MB.
    rng = model.streams["acquisition"]
    for start in range(0, members.size, HISTORY_BLOCK):
        rows = slice(start, start + HISTORY_BLOCK)
        block = members[rows]
        set_history(pop, block, last[rows], rng.random((block.size, 63)) < p[rows, None])


def paid_cac(model: CommunityModel, n_prospects: int, stage: np.ndarray | None) -> float:
    """Cost per acquisition today: rises as the market is used up, falls as prospects (their awareness
    ``stage``, None when off) become aware and considering (``awareness.cac_factor``)."""
    cfg = model.scenario.acquisition.paid
    left = max(n_prospects, 1) / model.pop.n
    cac = cfg.cac * left ** (-cfg.saturation_elasticity)
    if not cfg.funnel_elasticity:
        return cac
    return cac * awareness.cac_factor(model.scenario.awareness, stage) ** cfg.funnel_elasticity


def _pick_by_stage(candidates: np.ndarray, k: int, keys: np.ndarray, stage: np.ndarray, weight) -> np.ndarray:
    """``k`` candidates drawn without replacement with chances in proportion to the ``weight`` of their
    ``stage`` (weight 0 never): the k smallest keys -ln(1 - u) / w (Efraimidis & Spirakis 2006). Within a
    stage the keys are in the order of u, so only each stage's k smallest u can be among them."""
    pools = []
    for code, w in enumerate(weight):
        if w > 0:
            pool = candidates[stage == code]
            pools.append((pool if pool.size <= k else _pick(pool, k, keys), w))
    if not pools:
        return candidates[:0]
    pool = np.concatenate([p for p, _ in pools])
    if k >= pool.size:
        return np.sort(pool)
    w = np.concatenate([np.full(p.size, w, dtype=np.float32) for p, w in pools])
    score = -np.log1p(-keys[pool]) / w
    return np.sort(pool[np.argpartition(score, k)[:k]])


def acquisition_phase(model: CommunityModel) -> None:
    """Paid joins, then organic (Bass) joins, then win-back of churned people."""
    s, pop = model.scenario.acquisition, model.pop
    n = pop.n
    keys = model.streams.uniform("acquisition", n)
    u_org = model.streams.uniform("acquisition", n)
    u_round = float(model.streams["acquisition"].random())  # drawn daily, used or not, to keep streams aligned
    cand = prospects(model)
    stage = awareness.stage_of(model, cand)  # None when awareness is off: everyone joins alike
    weight = awareness.weights(model.scenario.awareness)
    budget = model.policy.paid_budget(model.scenario, model.day.day)
    factor = model.policy.acquisition_factor
    cap = model.scenario.acquisition.paid.max_cac
    cac = paid_cac(model, cand.size, stage) / factor if cand.size else 0.0  # a competitor makes members dearer
    if budget > 0 and cand.size and np.isfinite(cac) and (cap is None or cac <= cap):
        k = stochastic_round(budget / cac, u_round)
        picked = _pick(cand, k, keys) if stage is None else _pick_by_stage(cand, k, keys, stage, weight)
        got = join(model, picked, "paid")
        model.ledger.book("paid_acquisition", got.size * cac)
        model.day.paid_spend = got.size * cac
        if got.size:
            cand = prospects(model)
            stage = awareness.stage_of(model, cand)
    if (s.organic.p > 0 or s.organic.q > 0) and cand.size:
        if stage is not None:  # only the aware and the considering join, at their weights
            w = np.take(weight, stage)
            cand, weight = cand[w > 0], w[w > 0]
        share = model.network.contact_share(pop.member_contacts, model.n_members, pop.status == MEMBER, cand)
        rate = s.organic.p + s.organic.q * share
        if stage is not None:
            rate *= weight
        hazard = 1.0 - np.exp(-factor * rate / 365.0)
        join(model, cand[u_org[cand] < hazard], "organic")
    if s.winback_prob > 0 and model.n_churned:
        gone = np.flatnonzero(pop.status == CHURNED)
        join(model, gone[u_org[gone] < s.winback_prob], "winback")
    if model.policy.winback is not None:
        winback_campaign(model, model.policy.winback)
        model.policy.winback = None


def winback_campaign(model: CommunityModel, action) -> None:
    """Message up to ``reach`` lapsed people: the most recently churned first (within ``max_days_churned``),
    then the most recently dormant members. A churned person rejoins with ``rejoin_prob`` (source winback), a
    dormant member visits today with ``reactivate_prob``; every message costs ``cost_per_contact``."""
    pop, day = model.pop, model.day.day
    u = model.streams.uniform("winback", pop.n)
    gone = np.flatnonzero((pop.status == CHURNED) & (pop.churn_day >= day - action.max_days_churned))
    gone = gone[np.lexsort((gone, -pop.churn_day[gone]))][: action.reach]
    idle_after = model.scenario.lifecycle.dormant_after_days
    members = model.member_index()
    dormant = members[pop.last_visit[members] <= day - idle_after]
    dormant = dormant[np.lexsort((dormant, -pop.last_visit[dormant]))][: action.reach - gone.size]
    join(model, gone[u[gone] < action.rejoin_prob], "winback")
    model.force_visit(dormant[u[dormant] < action.reactivate_prob])
    contacts = gone.size + dormant.size
    model.day.counts["winback_contacts"] = float(contacts)
    model.ledger.book("winback", contacts * action.cost_per_contact)


SPEC = Mechanism(
    name="acquisition",
    section="acquisition",
    phases=(("joining", acquisition_phase),),
    streams=("acquisition", "winback"),
    lines=(("paid_acquisition", "acquisition"), ("winback", "acquisition")),
    join_sources=("initial", "paid", "organic", "winback"),
    kpis=(KPI("winback_contacts", "flow", counter("winback_contacts"), group="operations"),),
    uses=("membership", "streams", "policy", "force_visit", "day", "member_index"),
    leaves=("paid_spend",),
)

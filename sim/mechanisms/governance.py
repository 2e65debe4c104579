"""Governance by operators: moderation of conflict and spam, and private-domain 1:1 outreach.

Moderation: each interaction and UGC post is an incident (conflict, spam) with
probability ``incident_rate``; operators handle up to ``capacity`` each a day.
Every unhandled incident is seen by ``harm_reach`` random visitors, who lose
``harm`` satisfaction and turn negative with probability ``negative_prob``.

Outreach (私域 1:1): operators message up to ``per_operator`` members each a day,
chosen by target (highest churn-risk score, longest since a purchase, or at random),
none twice within ``min_gap_days``. A message adds ``satisfaction``, raises the
log-odds of visiting and buying that day and adds ``fatigue``. An A/B test may give its
treated members another outreach program (``sim.core.treatment``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.treatment import arms
from sim.mechanisms import sentiment
from sim.mechanisms.spec import KPI, Column, Mechanism

if TYPE_CHECKING:
    from sim.model import CommunityModel


def outreach_phase(model: CommunityModel) -> None:
    """Before the day's visits: operators reach members one by one.

    In an A/B test each arm's members are reached by that arm's program, and the team's daily capacity
    is shared among the arms whose program runs, in proportion to their members: with outreach on in the
    treated arm only, the whole team contacts the treated members."""
    pop, day = model.pop, model.day
    programs = [s.operators.outreach for s, _ in arms(model, NOBODY)]
    if not any(cfg.enabled for cfg in programs):
        return
    gap = min(cfg.min_gap_days for cfg in programs if cfg.enabled)
    rows = model.member_rows()
    _, due = model.members_where(rows, pop.last_outreach[rows] <= day.day - gap)
    split = [(s.operators.outreach, people) for s, people in arms(model, due)]
    shares = _capacity_shares(model, [cfg.enabled for cfg, _ in split])
    u, reached = None, 0
    for (cfg, people), share in zip(split, shares, strict=True):
        k = int(model.policy.headcount * cfg.per_operator * share)
        if cfg.min_gap_days > gap:
            people = people[pop.last_outreach[people] <= day.day - cfg.min_gap_days]
        if not cfg.enabled or k <= 0 or people.size == 0:
            continue
        if cfg.target == "churn_risk":
            from sim.mechanisms.churn_score import score

            priority = score(model, people)
        elif cfg.target == "lapsed":
            priority = day.day - np.maximum(pop.last_purchase[people], pop.join_day[people])  # days, int32
        else:
            u = model.streams.uniform("operators", pop.n) if u is None else u  # one draw a day for both arms
            priority = u[people]
        chosen = _first_k(people, priority, k)
        pop.last_outreach[chosen] = day.day
        pop.satisfaction[chosen] = np.minimum(pop.satisfaction[chosen] + cfg.satisfaction, 1.0)
        pop.fatigue[chosen] = np.minimum(pop.fatigue[chosen] + cfg.fatigue, 1.0)
        model.mods.visit[chosen] += cfg.visit_lift
        model.mods.purchase[chosen] += cfg.purchase_lift
        reached += int(chosen.size)
    day.outreach = reached


NOBODY = np.empty(0, dtype=np.int64)


def _capacity_shares(model: CommunityModel, running: list[bool]) -> list[float]:
    """The team's share each arm gets: 1 without a test, else its share of the members of the arms that run."""
    if len(running) == 1:
        return [1.0]
    arm_members = arms(model, model.member_index())
    members = [people.size if run else 0 for run, (_, people) in zip(running, arm_members, strict=True)]
    total = sum(members)
    return [m / total if total else 0.0 for m in members]


def _first_k(people: np.ndarray, priority: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` people of highest priority, ties broken by lower id, highest first.

    ``people`` must be sorted. Same as ``people[np.lexsort((people, -priority))[:k]]``,
    without sorting a million members for a hundred messages: everyone above the k-th
    highest priority, then the lowest ids among those at it.
    """
    if k < people.size:
        kth = _kth_largest(priority, k)
        keep = priority > kth
        keep[np.flatnonzero(priority == kth)[: k - np.count_nonzero(keep)]] = True
        people, priority = people[keep], priority[keep]
    return people[np.lexsort((people, -priority))]


def _kth_largest(values: np.ndarray, k: int):
    """``np.partition(values, n - k)[n - k]``; for integers of a narrow range (days) by counting, ~4x faster."""
    n = values.size
    if values.dtype.kind in "iu":
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * n:
            from_top = np.cumsum(np.bincount(values.astype(np.intp) - low, minlength=high - low + 1)[::-1])
            return values.dtype.type(high - int(np.searchsorted(from_top, k)))
    return np.partition(values, n - k)[n - k]


def moderation_phase(model: CommunityModel) -> None:
    """After the day's visits: incidents, what operators handle, and the harm of the rest."""
    cfg, pop, day = model.scenario.operators.moderation, model.pop, model.day
    rng = model.streams["governance"]
    exposures = day.interactions + day.ugc_posts
    incidents = int(rng.binomial(exposures, cfg.incident_rate)) if exposures else 0
    capacity = int(model.policy.headcount * cfg.capacity)
    unhandled = max(0, incidents - capacity)
    day.incidents, day.unhandled_incidents = incidents, unhandled
    v = day.visitors
    if unhandled == 0 or v.size == 0 or cfg.harm_reach == 0:
        return
    seen = v[rng.integers(0, v.size, unhandled * cfg.harm_reach)]
    np.subtract.at(pop.satisfaction, seen, pop.satisfaction.dtype.type(cfg.harm))  # a Python float takes a slow path
    np.clip(pop.satisfaction, 0.0, 1.0, out=pop.satisfaction)
    turned = np.unique(seen[rng.random(seen.size) < cfg.negative_prob])
    sentiment.turn_negative(model, turned)


SPEC = Mechanism(
    name="governance",
    section="operators",
    phases=(("outreach", outreach_phase), ("moderation", moderation_phase)),
    streams=("operators", "governance"),
    kpis=(
        KPI("outreach_contacts", "flow", lambda m: m.day.outreach),
        KPI("incidents", "flow", lambda m: m.day.incidents),
        KPI("unhandled_incidents", "flow", lambda m: m.day.unhandled_incidents),
    ),
    columns=(
        Column("last_outreach", np.int32, -(10**6)),  # int32, day of the last 1:1 message (-1 never)
    ),
    uses=(
        "scenario",
        "pop",
        "day",
        "mods",
        "streams",
        "policy",
        "network",
        "rows",
        "n_negative",
        "join_codes",
        "n_churned",
        "treatment",
    ),
    takes=("visitors", "interactions", "ugc_posts"),
    targetable=tuple(
        f"operators.outreach.{key}"
        for key in ("enabled", "per_operator", "target", "satisfaction", "purchase_lift", "visit_lift", "fatigue")
        + ("min_gap_days",)
    ),
)

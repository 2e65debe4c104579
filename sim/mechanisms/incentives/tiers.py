"""Membership tiers (会员等级): status from spend or growth value, with benefits.

A member's tier is the highest level whose threshold their growth value reaches
(growth = yuan spent, or with basis ``growth`` also 10 per UGC post and check-in).
Each tier level k lowers the log-odds of churning by ``status_churn_weight * k``
and raises those of visiting by ``status_visit_weight * k`` (both times the
segment's status sensitivity), plus ``exclusive_visit_weight`` where the tier has
exclusive content. A tier's discount applies to every purchase and its points
multiplier to every point earned. A member who has not bought for
``demotion_inactive_days`` drops one level, and their growth value falls to that
level's threshold. Below the top tier, the log-odds of buying rise by
``progress_weight * progress^2``, progress being the share of the way from the
current tier's threshold to the next (a goal gradient toward status).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.arrays import add_at, levels
from sim.mechanisms.spec import KPI, Column, Mechanism

if TYPE_CHECKING:
    from sim.config.schema import Scenario
    from sim.core.daystate import Modifiers
    from sim.model import CommunityModel

GROWTH_PER_ACTION = 10.0


@dataclass(frozen=True)
class TierTables:
    """Per-level lookups (index 0 = no tier) and the daily terms per (segment, level), flattened so one
    lookup by ``segment * n_levels + level`` serves each term (float32)."""

    threshold: np.ndarray  # growth value to reach each level
    discount: np.ndarray  # share off a purchase, per level
    multiplier: np.ndarray  # points multiplier, per level
    exclusive: np.ndarray  # exclusive content, per level
    lower: np.ndarray  # growth value at the current level's threshold
    width: np.ndarray  # ... and the width to the next (inf at the top)
    churn: np.ndarray  # churn log-odds term
    visit: np.ndarray  # visit log-odds term
    purchase: np.ndarray  # purchase log-odds term (the tier's discount)
    start: np.ndarray  # ``lower`` per (segment, level)
    per_width: np.ndarray  # 1 / width (0 at the top and for an empty level)
    gradient: np.ndarray  # weight of the progress toward the next level


def tables(scenario: Scenario, status_sensitivity: np.ndarray, price_sensitivity: np.ndarray) -> TierTables:
    """The tier tables of ``scenario``'s levels and segments."""
    cfg = scenario.incentives.tiers
    levels = cfg.levels
    threshold = np.array([t.threshold for t in levels])
    discount = np.array([0.0] + [t.discount for t in levels])
    exclusive = np.array([False] + [t.exclusive_content for t in levels])
    lower = np.concatenate(([0.0], threshold))
    width = np.concatenate((threshold, [np.inf])) - lower
    level = np.arange(len(levels) + 1, dtype=np.float64)
    status = status_sensitivity.astype(np.float64)[:, None]
    price = price_sensitivity.astype(np.float64)[:, None]
    shape = (status.size, level.size)

    def table(values) -> np.ndarray:
        return np.broadcast_to(values, shape).astype(np.float32).ravel()

    return TierTables(
        threshold=threshold,
        discount=discount,
        multiplier=np.array([1.0] + [t.points_multiplier for t in levels]),
        exclusive=exclusive,
        lower=lower,
        width=width,
        churn=table(cfg.status_churn_weight * level * status),
        visit=table(cfg.status_visit_weight * level * status + cfg.exclusive_visit_weight * exclusive),
        # a tier's discount makes buying more attractive, like any discount (scaled by price sensitivity)
        purchase=table(scenario.purchase.discount_weight * discount * price),
        # progress toward the next level, (growth - its lower threshold) / width: 0 at the top (no next
        # tier) and for an empty level (a first threshold of 0)
        start=table(lower),
        per_width=table(np.divide(1.0, width, out=np.zeros_like(width), where=width > 0)),
        gradient=table(cfg.progress_weight * status),
    )


def add_growth(model: CommunityModel, people: np.ndarray, amount: np.ndarray | float, action: bool = False) -> None:
    """Spend always counts; actions count when the basis is ``growth``."""
    cfg = model.scenario.incentives.tiers
    if not cfg.enabled or (action and cfg.basis != "growth"):
        return
    add_at(model.pop.growth, people, amount)


def modifiers(model: CommunityModel, rows: np.ndarray | slice, acc: Modifiers) -> None:
    cfg = model.scenario.incentives.tiers
    if not cfg.enabled:
        return
    pop = model.pop
    key = model.row_segments(rows) * model.tiers.lower.size + pop.tier[rows]

    def term(table: np.ndarray) -> np.ndarray:
        return np.take(table, key)  # small-table lookups: np.take beats fancy indexing

    acc.churn -= term(model.tiers.churn)
    acc.visit += term(model.tiers.visit)
    progress = pop.growth[rows].astype(np.float32)
    progress -= term(model.tiers.start)
    progress *= term(model.tiers.per_width)
    np.clip(progress, 0.0, 1.0, out=progress)
    progress *= progress
    progress *= term(model.tiers.gradient)
    progress += term(model.tiers.purchase)
    acc.purchase += progress


def update(model: CommunityModel) -> None:
    """Promote to the level the growth value reaches; demote after a long pause in buying."""
    cfg = model.scenario.incentives.tiers
    if not cfg.enabled:
        return
    pop, day = model.pop, model.day.day

    def update_rows(rows: np.ndarray | slice) -> None:
        reached = levels(pop.growth[rows], model.tiers.threshold)
        last = np.maximum(pop.last_purchase[rows], pop.join_day[rows])
        idle = (day - last) >= cfg.demotion_inactive_days
        demote = idle & (reached > 0) & ((day - last) % cfg.demotion_inactive_days == 0)
        reached[demote] -= 1
        model.write_members(pop.tier, rows, reached)
        at, lowered = model.members_where(rows, demote)
        level = reached[at]
        pop.growth[lowered] = np.where(level > 0, model.tiers.threshold[np.maximum(level - 1, 0)], 0.0)

    model.split_rows(update_rows, model.member_rows())


def tier_share(model: CommunityModel) -> float:
    """Share of members holding a tier (KPI ``tier_share``)."""
    members = model.member_index().size
    tiered = model.count_members(model.pop.tier, lambda tier: tier > 0)
    return tiered / members if members else 0.0


SPEC = Mechanism(
    name="tiers",
    section="incentives.tiers",
    phases=(("status", update),),
    modifiers=modifiers,
    lines=(("tier_discounts", "incentives"),),  # booked at checkout (incentives.pricing),
    kpis=(KPI("tier_share", "stock", tier_share, group="incentives"),),
    columns=(
        Column("tier", np.int8, 0),  # 0 = no tier, k = k-th tier level
        Column("growth", np.float64, 0),  # growth value toward tiers
    ),
    uses=("scenario", "pop", "day", "rows", "segments", "tiers"),
)

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

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import CommunityModel

GROWTH_PER_ACTION = 10.0


def tables(model: CommunityModel) -> None:
    """Per-level lookups (index 0 = no tier) kept on the model."""
    levels = model.scenario.incentives.tiers.levels
    model.tier_threshold = np.array([t.threshold for t in levels])
    model.tier_discount = np.array([0.0] + [t.discount for t in levels])
    model.tier_multiplier = np.array([1.0] + [t.points_multiplier for t in levels])
    model.tier_exclusive = np.array([False] + [t.exclusive_content for t in levels])


def add_growth(model: CommunityModel, people: np.ndarray, amount: np.ndarray | float, action: bool = False) -> None:
    """Spend always counts; actions count when the basis is ``growth``."""
    cfg = model.scenario.incentives.tiers
    if not cfg.enabled or (action and cfg.basis != "growth"):
        return
    np.add.at(model.pop.growth, people, amount)


def modifiers(model: CommunityModel, mi: np.ndarray) -> None:
    cfg = model.scenario.incentives.tiers
    if not cfg.enabled:
        return
    pop, mods = model.pop, model.mods
    level = pop.tier[mi].astype(np.float32)
    status = model.status_sensitivity[pop.segment[mi]]
    mods.churn[mi] -= cfg.status_churn_weight * level * status
    mods.visit[mi] += (
        cfg.status_visit_weight * level * status + cfg.exclusive_visit_weight * model.tier_exclusive[pop.tier[mi]]
    )
    lower = np.concatenate(([0.0], model.tier_threshold))[pop.tier[mi]]
    upper = np.concatenate((model.tier_threshold, [np.inf]))[pop.tier[mi]]
    progress = np.clip((pop.growth[mi] - lower) / (upper - lower), 0.0, 1.0)
    mods.purchase[mi] += cfg.progress_weight * progress**2 * status
    # a tier's discount makes buying more attractive, like any discount (scaled by price sensitivity)
    price = model.price_sensitivity[pop.segment[mi]]
    mods.purchase[mi] += model.scenario.purchase.discount_weight * model.tier_discount[pop.tier[mi]] * price


def update(model: CommunityModel) -> None:
    """Promote to the level the growth value reaches; demote after a long pause in buying."""
    cfg = model.scenario.incentives.tiers
    if not cfg.enabled:
        return
    pop, day = model.pop, model.day.day
    mi = model.member_index()
    reached = np.searchsorted(model.tier_threshold, pop.growth[mi], side="right").astype(np.int8)
    last = np.maximum(pop.last_purchase[mi], pop.join_day[mi])
    idle = (day - last) >= cfg.demotion_inactive_days
    demote = idle & (reached > 0) & ((day - last) % cfg.demotion_inactive_days == 0)
    reached[demote] -= 1
    pop.tier[mi] = reached
    lowered = mi[demote]
    pop.growth[lowered] = np.where(reached[demote] > 0, model.tier_threshold[np.maximum(reached[demote] - 1, 0)], 0.0)

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

from sim.mathutil import add_at, levels

if TYPE_CHECKING:
    from sim.daystate import Modifiers
    from sim.model import CommunityModel

GROWTH_PER_ACTION = 10.0


def tables(model: CommunityModel) -> None:
    """Per-level lookups (index 0 = no tier) kept on the model, and the daily log-odds per (segment, level)."""
    cfg = model.scenario.incentives.tiers
    levels = cfg.levels
    model.tier_threshold = np.array([t.threshold for t in levels])
    model.tier_discount = np.array([0.0] + [t.discount for t in levels])
    model.tier_multiplier = np.array([1.0] + [t.points_multiplier for t in levels])
    model.tier_exclusive = np.array([False] + [t.exclusive_content for t in levels])
    # growth value at the current level's threshold and the width to the next (inf at the top)
    model.tier_lower = np.concatenate(([0.0], model.tier_threshold))
    model.tier_width = np.concatenate((model.tier_threshold, [np.inf])) - model.tier_lower
    model.tier_lower32 = model.tier_lower.astype(np.float32)  # for the daily progress, in float32
    # 0 at the top (no next tier) and for an empty level (a first threshold of 0)
    width = model.tier_width
    inverse = np.divide(1.0, width, out=np.zeros_like(width), where=width > 0)
    model.tier_inverse_width = inverse.astype(np.float32)
    # segment x level tables, flattened so one gather by segment * n_levels + level serves each modifier
    level = np.arange(len(levels) + 1, dtype=np.float64)
    status = model.status_sensitivity.astype(np.float64)[:, None]
    price = model.price_sensitivity.astype(np.float64)[:, None]
    model.tier_churn = (cfg.status_churn_weight * level * status).astype(np.float32).ravel()
    model.tier_visit = (
        (cfg.status_visit_weight * level * status + cfg.exclusive_visit_weight * model.tier_exclusive)
        .astype(np.float32)
        .ravel()
    )
    # a tier's discount makes buying more attractive, like any discount (scaled by price sensitivity)
    discount = model.scenario.purchase.discount_weight * model.tier_discount * price
    model.tier_purchase = np.broadcast_to(discount, (status.size, level.size)).astype(np.float32).ravel()


def add_growth(model: CommunityModel, people: np.ndarray, amount: np.ndarray | float, action: bool = False) -> None:
    """Spend always counts; actions count when the basis is ``growth``."""
    cfg = model.scenario.incentives.tiers
    if not cfg.enabled or (action and cfg.basis != "growth"):
        return
    add_at(model.pop.growth, people, amount)


def modifiers(model: CommunityModel, mi: np.ndarray, acc: Modifiers) -> None:
    cfg = model.scenario.incentives.tiers
    if not cfg.enabled:
        return
    pop = model.pop
    tier = pop.tier[mi].astype(np.intp)
    seg = model.member_segments()
    key = seg * model.tier_lower.size + tier
    acc.churn -= model.tier_churn[key]
    acc.visit += model.tier_visit[key]
    progress = (pop.growth[mi].astype(np.float32) - model.tier_lower32[tier]) * model.tier_inverse_width[tier]
    np.clip(progress, 0.0, 1.0, out=progress)
    gradient = np.float32(cfg.progress_weight) * model.status_sensitivity[seg]
    acc.purchase += gradient * progress**2 + model.tier_purchase[key]


def update(model: CommunityModel) -> None:
    """Promote to the level the growth value reaches; demote after a long pause in buying."""
    cfg = model.scenario.incentives.tiers
    if not cfg.enabled:
        return
    pop, day = model.pop, model.day.day
    mi = model.member_index()
    reached = levels(pop.growth[mi], model.tier_threshold)
    last = np.maximum(pop.last_purchase[mi], pop.join_day[mi])
    idle = (day - last) >= cfg.demotion_inactive_days
    demote = idle & (reached > 0) & ((day - last) % cfg.demotion_inactive_days == 0)
    reached[demote] -= 1
    pop.tier[mi] = reached
    lowered = mi[demote]
    pop.growth[lowered] = np.where(reached[demote] > 0, model.tier_threshold[np.maximum(reached[demote] - 1, 0)], 0.0)

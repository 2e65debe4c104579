"""Check-in streaks (打卡) and badges / reputation (勋章, 社区声望).

Check-in: every visit checks in; the streak grows on consecutive days and resets
after a missed day. Each check-in earns ``points_per_checkin`` and every
``streak_bonus_days``-th day of a streak ``streak_bonus_points``. A streak raises
the log-odds of visiting by ``visit_weight * min(streak, streak_cap) / streak_cap``
(habit).

Reputation (contribution) grows with interactions, UGC posts and accepted
referrals, at the badge program's rates, whether or not badges run; a badge is
earned at each threshold (cost ``cost_per_badge``). Each badge lowers the
log-odds of churning by ``churn_weight`` times status sensitivity and raises UGC
posting by ``ugc_multiplier``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.arrays import add_at, levels
from sim.mechanisms.incentives import points, tiers
from sim.mechanisms.spec import KPI, Column, Mechanism

if TYPE_CHECKING:
    from sim.core.daystate import Modifiers
    from sim.model import CommunityModel


def modifiers(model: CommunityModel, rows: np.ndarray | slice, acc: Modifiers) -> None:
    inc, pop = model.scenario.incentives, model.pop
    if inc.checkin.enabled:
        cap = inc.checkin.streak_cap
        alive = pop.last_checkin[rows] >= model.day.day - 1
        habit = np.minimum(pop.streak[rows].astype(np.float32), cap)
        habit *= np.float32(inc.checkin.visit_weight / cap)
        habit *= alive  # zero for a broken streak (a product: np.where on a mask with no pattern is ~10x dearer)
        acc.visit += habit
    if inc.badges.enabled:
        weight = np.float32(inc.badges.churn_weight) * model.segments.status_sensitivity
        acc.churn -= np.take(weight, model.row_segments(rows)) * pop.badges[rows]


def check_in(model: CommunityModel) -> None:
    """Today's visitors check in."""
    cfg, pop, day = model.scenario.incentives.checkin, model.pop, model.day
    if not cfg.enabled:
        return
    v = day.visitors
    consecutive = pop.last_checkin[v] == day.day - 1
    streak = pop.streak[v]
    streak *= consecutive  # a broken streak starts again at 1 (branch-free, unlike np.where)
    streak += 1
    pop.streak[v] = streak
    pop.last_checkin[v] = day.day
    bonus = (streak % cfg.streak_bonus_days == 0) * cfg.streak_bonus_points
    points.earn(model, v, cfg.points_per_checkin + bonus)
    tiers.add_growth(model, v, tiers.GROWTH_PER_ACTION, action=True)
    day.checkins = int(v.size)


def add_reputation(model: CommunityModel, people: np.ndarray, amount: float) -> None:
    """Reputation is kept whether or not badges run: KOC incubation ranks members by it."""
    if people.size and amount:
        add_at(model.pop.reputation, people, amount)


def award_badges(model: CommunityModel) -> None:
    """Badges for reputation thresholds crossed today."""
    cfg, pop = model.scenario.incentives.badges, model.pop
    if not cfg.enabled:
        return

    def award(rows: np.ndarray | slice) -> int:
        earned = levels(pop.reputation[rows], cfg.thresholds)
        badges = pop.badges[rows]
        new = earned - badges
        up = new > 0
        if isinstance(rows, slice):
            up &= model.members_in(rows)
        model.write_members(pop.badges, rows, np.maximum(earned, badges))
        return int(new[up].sum())

    gained = sum(model.split_rows(award, model.member_rows()))
    model.day.badges_awarded += gained
    model.ledger.book("badge_awards", gained * cfg.cost_per_badge)


def ugc_multiplier(model: CommunityModel, people: np.ndarray) -> np.ndarray | float:
    cfg = model.scenario.incentives.badges
    return 1.0 + np.float32(cfg.ugc_multiplier) * model.pop.badges[people] if cfg.enabled else 1.0


SPEC = Mechanism(
    name="engagement_rewards",
    section="incentives",  # checkin and badges
    phases=(("after_visits", check_in), ("status", award_badges)),
    modifiers=modifiers,
    lines=(("badge_awards", "incentives"),),
    kpis=(
        KPI("checkins", "flow", lambda m: m.day.checkins, group="incentives"),
        KPI("badges_awarded", "flow", lambda m: m.day.badges_awarded, group="incentives"),
    ),
    columns=(
        Column("streak", np.int16, 0),  # consecutive check-in days
        Column("last_checkin", np.int32, -1),  # day of the last check-in (-1 never)
        Column("reputation", np.float32, 0),
        Column("badges", np.int8, 0),  # badges earned
    ),
    uses=("scenario", "pop", "day", "ledger", "rows", "segments", "tiers"),
    takes=("visitors",),
)

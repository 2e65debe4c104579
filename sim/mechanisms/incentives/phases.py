"""Where the incentive programs enter the day (see ``sim.model.PHASES``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.daystate import Modifiers
from sim.mechanisms.incentives import calendar, coupons, engagement_rewards, points, tiers

if TYPE_CHECKING:
    from sim.model import CommunityModel


def incentives_before_visits(model: CommunityModel) -> None:
    """Issue coupons, mark sale and draw days, and set today's incentive modifiers."""
    mi = model.member_index()
    coupons.issue(model, mi)
    calendar.schedule(model, mi)
    rows = model.member_rows()
    acc = Modifiers.zeros(model.pop.n if isinstance(rows, slice) else rows.size)  # aligned with rows
    points.modifiers(model, rows, acc)
    tiers.modifiers(model, rows, acc)
    coupons.modifiers(model, rows, acc)
    engagement_rewards.modifiers(model, rows, acc)
    acc.add_to(model.mods, rows, model.member_mask)


def incentives_after_visits(model: CommunityModel) -> None:
    """Check-ins, flash-sale fatigue and the lottery draw among today's visitors."""
    engagement_rewards.check_in(model)
    calendar.after_visits(model)


def incentives_status(model: CommunityModel) -> None:
    """End-of-day status: badges, tiers, points expiry, fading coupon habit."""
    engagement_rewards.award_badges(model)
    tiers.update(model)
    points.expire(model)
    coupons.decay_habit(model)

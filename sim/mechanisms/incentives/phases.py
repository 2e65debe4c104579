"""Where the incentive programs enter the day (see ``sim.model.PHASES``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.daystate import Modifiers
from sim.mechanisms.incentives import calendar, coupons, engagement_rewards, points, tiers

if TYPE_CHECKING:
    from sim.model import CommunityModel


def incentives_before_visits(model: CommunityModel) -> None:
    """Issue coupons, mark sale and draw days, and set today's incentive modifiers."""
    mi = model.member_index()
    coupons.issue(model, mi)
    calendar.schedule(model, mi)
    model.split_rows(lambda rows: _modifiers(model, rows), model.member_rows())


def _modifiers(model: CommunityModel, rows: np.ndarray | slice) -> None:
    """Today's incentive modifiers of ``rows``, summed per decision and added in once."""
    acc = Modifiers.zeros(len(range(model.pop.n)[rows]) if isinstance(rows, slice) else rows.size)  # aligned with rows
    points.modifiers(model, rows, acc)
    tiers.modifiers(model, rows, acc)
    coupons.modifiers(model, rows, acc)
    engagement_rewards.modifiers(model, rows, acc)
    acc.add_to(model.mods, rows, model.members_in)


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

"""What a buyer pays: the list basket less each discount, applied in a fixed order.

Order: standing price discount, holiday promotion, tier discount, coupon, flash sale, then points
cover part or all of the rest. Each step acts on what is still due, so the
discounts can never exceed the basket. Every yuan off is booked on its own
ledger line; GMV is the list value and gross margin is earned on it, so profit
= gross margin - costs, discounts included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.incentives import calendar, coupons, points

if TYPE_CHECKING:
    from sim.model import CommunityModel


def settle(model: CommunityModel, buyers: np.ndarray, list_value: np.ndarray) -> np.ndarray:
    """Book every discount of these purchases and return what each buyer pays."""
    due = list_value.astype(np.float64).copy()
    steps = [
        ("price_discounts", lambda: model.scenario.purchase.discount * due),
        ("promotion_discounts", lambda: model.day.promotion_discount * due),
    ]
    if model.scenario.incentives.tiers.enabled:
        steps.append(("tier_discounts", lambda: model.tiers.discount[model.pop.tier[buyers]] * due))
    steps += [
        ("coupon_discounts", lambda: coupons.redeem(model, buyers, due)),
        ("flash_sale_discounts", lambda: calendar.flash_discount(model, buyers, due)),
        ("points_redemptions", lambda: points.redeem(model, buyers, due)),
    ]
    for line, off in steps:
        amount = np.minimum(off(), due)
        due -= amount
        model.ledger.book(line, float(amount.sum()))
    return due

"""Calendar events other than crises: holiday promotions (618, Double 11) and a competitor's entry.

During a promotion, members' log-odds of visiting rise by ``visit_lift`` and of
buying by ``purchase_lift`` times coupon sensitivity, and every purchase gets the
promotion's discount (ledger line ``promotion_discounts``). From a competitor's
entry on, members' log-odds of churning rise by ``churn_lift`` and paid and
organic joining are multiplied by ``acquisition_factor``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.mechanisms.spec import Mechanism

if TYPE_CHECKING:
    from sim.model import CommunityModel


def calendar_phase(model: CommunityModel) -> None:
    """Start events of today and apply those running."""
    day, mods, policy = model.day, model.mods, model.policy
    mi = model.member_index()
    for e in model.scenario.events:
        if e.kind == "competitor" and e.day == day.day:
            policy.competitor_churn += e.churn_lift
            policy.acquisition_factor *= e.acquisition_factor
            model.log_marker("competitor", e.name)
        elif e.kind == "promotion" and e.day <= day.day < e.day + e.duration:
            if e.day == day.day:
                model.log_marker("promotion", e.name)
            mods.visit[mi] += e.visit_lift
            mods.purchase[mi] += e.purchase_lift * model.segments.coupon_sensitivity[model.member_segments()]
            day.promotion_discount = max(day.promotion_discount, e.discount)
    if policy.competitor_churn:
        mods.churn[mi] += policy.competitor_churn


SPEC = Mechanism(
    name="calendar_events",
    section="events",
    phases=(("calendar", calendar_phase),),
    lines=(("promotion_discounts", "incentives"),),  # booked at checkout (incentives.pricing),
    uses=("scenario", "day", "mods", "policy", "log_marker", "rows", "segments"),
    leaves=("promotion_discount",),
)

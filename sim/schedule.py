"""The order of a day: every phase of ``CommunityModel.step``, first to last.

Phases read and write the population's columns and today's ``DayState``. What
happens before the members' visits (operators, KOCs, the feed, events, joining,
incentive and outreach modifiers, livestream attendance) shapes who visits; what
follows (moderation, purchases, group buys, referrals, status updates, churn)
reacts to the visits. Extension mechanisms insert their phase where it belongs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.mechanisms.acquisition import acquisition_phase
from sim.mechanisms.calendar_events import calendar_phase
from sim.mechanisms.churn import churn_phase
from sim.mechanisms.content import content_phase
from sim.mechanisms.engagement import engagement_phase
from sim.mechanisms.governance import moderation_phase, outreach_phase
from sim.mechanisms.incentives.group_buy import group_buy_phase
from sim.mechanisms.incentives.phases import incentives_after_visits, incentives_before_visits, incentives_status
from sim.mechanisms.koc import koc_commission, koc_phase
from sim.mechanisms.livestream import livestream_phase
from sim.mechanisms.operators import operators_phase
from sim.mechanisms.purchase import purchase_phase
from sim.mechanisms.referral import referral_phase
from sim.mechanisms.sentiment import sentiment_phase

if TYPE_CHECKING:
    from sim.model import CommunityModel

Phase = Callable[["CommunityModel"], None]

PHASES: list[Phase] = [
    operators_phase,
    koc_phase,
    content_phase,
    calendar_phase,
    sentiment_phase,
    acquisition_phase,
    incentives_before_visits,
    outreach_phase,
    livestream_phase,
    engagement_phase,
    moderation_phase,
    incentives_after_visits,
    purchase_phase,
    koc_commission,
    group_buy_phase,
    referral_phase,
    incentives_status,
    churn_phase,
]

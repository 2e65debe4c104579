"""The population as a struct of arrays: one numpy column per state variable.

Every person in the addressable market has a row, whether prospect, member or
churned. Phases of the day read and write whole columns; ``Person`` agents are
thin views onto a row.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from sim.config.base import CONTENT_TYPES

if TYPE_CHECKING:
    from sim.config.schema import Scenario

PROSPECT, MEMBER, CHURNED = 0, 1, 2
STATUS_NAMES = ("prospect", "member", "churned")


@dataclass
class Population:
    """Columns of person state. Index = person id (0 .. n-1)."""

    status: np.ndarray  # int8: PROSPECT / MEMBER / CHURNED
    segment: np.ndarray  # int8
    join_day: np.ndarray  # int32, -1 if never joined
    join_source: np.ndarray  # int8, -1 if never joined
    churn_day: np.ndarray  # int32, -1 if not churned
    referrer: np.ndarray  # int32, -1 if not referred
    engagement: np.ndarray  # float32 in [0, 1]
    satisfaction: np.ndarray  # float32 in [0, 1]
    fatigue: np.ndarray  # float32 in [0, 1]
    last_visit: np.ndarray  # int32, day of last visit (-1 never)
    last_purchase: np.ndarray  # int32, day of last purchase (-1 never)
    first_purchase: np.ndarray  # int32, day of the first purchase (-1 never)
    second_purchase: np.ndarray  # int32, day of the second purchase (-1 never)
    purchases: np.ndarray  # int32, purchases while a member
    spend: np.ndarray  # float64, yuan spent
    points: np.ndarray  # float64, points balance
    invites_accepted: np.ndarray  # int32, referrals this person brought in
    is_koc: np.ndarray  # bool
    member_contacts: np.ndarray  # int32, contacts who are members now
    churned_contacts: np.ndarray  # int32, contacts who have churned
    trait: np.ndarray  # float32 (n, 2) uniforms fixed at birth: starting engagement, satisfaction
    birthday: np.ndarray  # int16, day of the year
    points_last_earn: np.ndarray  # int32, day points were last earned (-1 never)
    last_redeem: np.ndarray  # int32, day of the last points redemption (-1 never)
    tier: np.ndarray  # int8, 0 = no tier, k = k-th tier level
    growth: np.ndarray  # float64, growth value toward tiers
    coupon_value: np.ndarray  # float32, yuan off of the coupon held
    coupon_rate: np.ndarray  # float32, share off of the coupon held
    coupon_min: np.ndarray  # float32, minimum basket of the coupon held
    coupon_expiry: np.ndarray  # int32, last valid day of the coupon held (-1 none)
    coupon_habit: np.ndarray  # float32 in [0, 1], learned waiting for coupons
    streak: np.ndarray  # int16, consecutive check-in days
    last_checkin: np.ndarray  # int32, day of the last check-in (-1 never)
    reputation: np.ndarray  # float32
    badges: np.ndarray  # int8, badges earned
    hunter_leave: np.ndarray  # int32, day a reward hunter leaves (-1 not a hunter)
    negative: np.ndarray  # bool, holds negative sentiment
    negative_contacts: np.ndarray  # int32, contacts who hold negative sentiment
    last_show_seen: np.ndarray  # int32, day of the last livestream seen live or as replay (-1 never)
    last_outreach: np.ndarray  # int32, day of the last 1:1 message (-1 never)

    @property
    def n(self) -> int:
        return int(self.status.size)

    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self))


def interest_matrix(scenario: Scenario) -> np.ndarray:
    """Segment x content-type interest table (float32)."""
    segs = scenario.market.segments
    return np.array([[s.interests.get(t, 0.0) for t in CONTENT_TYPES] for s in segs], dtype=np.float32)


def segment_column(scenario: Scenario, attr: str, dtype=np.float32) -> np.ndarray:
    """One attribute of every segment as an array indexed by segment code."""
    return np.array([getattr(s, attr) for s in scenario.market.segments], dtype=dtype)


def create_population(scenario: Scenario, rng: np.random.Generator) -> Population:
    """Everyone starts a prospect; segments are drawn by their shares."""
    n = scenario.market.size
    shares = np.array([s.share for s in scenario.market.segments])
    segment = rng.choice(len(shares), size=n, p=shares / shares.sum()).astype(np.int8)
    minus = lambda dt: np.full(n, -1, dtype=dt)  # noqa: E731
    return Population(
        status=np.zeros(n, dtype=np.int8),
        segment=segment,
        join_day=minus(np.int32),
        join_source=minus(np.int8),
        churn_day=minus(np.int32),
        referrer=minus(np.int32),
        engagement=np.zeros(n, dtype=np.float32),
        satisfaction=np.zeros(n, dtype=np.float32),
        fatigue=np.zeros(n, dtype=np.float32),
        last_visit=minus(np.int32),
        last_purchase=minus(np.int32),
        first_purchase=minus(np.int32),
        second_purchase=minus(np.int32),
        purchases=np.zeros(n, dtype=np.int32),
        spend=np.zeros(n, dtype=np.float64),
        points=np.zeros(n, dtype=np.float64),
        invites_accepted=np.zeros(n, dtype=np.int32),
        is_koc=np.zeros(n, dtype=bool),
        member_contacts=np.zeros(n, dtype=np.int32),
        churned_contacts=np.zeros(n, dtype=np.int32),
        trait=rng.random((n, 2), dtype=np.float32),
        birthday=rng.integers(0, 365, n).astype(np.int16),
        points_last_earn=minus(np.int32),
        last_redeem=minus(np.int32),
        tier=np.zeros(n, dtype=np.int8),
        growth=np.zeros(n, dtype=np.float64),
        coupon_value=np.zeros(n, dtype=np.float32),
        coupon_rate=np.zeros(n, dtype=np.float32),
        coupon_min=np.zeros(n, dtype=np.float32),
        coupon_expiry=minus(np.int32),
        coupon_habit=np.zeros(n, dtype=np.float32),
        streak=np.zeros(n, dtype=np.int16),
        last_checkin=minus(np.int32),
        reputation=np.zeros(n, dtype=np.float32),
        badges=np.zeros(n, dtype=np.int8),
        hunter_leave=minus(np.int32),
        negative=np.zeros(n, dtype=bool),
        negative_contacts=np.zeros(n, dtype=np.int32),
        last_show_seen=minus(np.int32),
        last_outreach=np.full(n, -(10**6), dtype=np.int32),
    )

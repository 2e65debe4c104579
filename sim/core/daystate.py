"""What happened today: scratch state shared by the phases of one day.

Phases communicate through this object (today's feed, who visited, who was reached
by a KOC) and fill its counters, from which the day's KPIs are computed. It is
reset at the start of every day, so nothing leaks from one day to the next except
through the population columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.config.base import CONTENT_TYPES

N_TYPES = len(CONTENT_TYPES)


@dataclass
class DayState:
    """Today's intermediate results and counters."""

    day: int = 0
    pgc_counts: np.ndarray = field(default_factory=lambda: np.zeros(N_TYPES))
    ugc_counts: np.ndarray = field(default_factory=lambda: np.zeros(N_TYPES))  # posted today, shown tomorrow
    koc_posts: int = 0
    reply_capacity: float = 0.0
    # per segment, computed by the content phase
    appeal: np.ndarray | None = None
    match: np.ndarray | None = None
    eff_engagement: np.ndarray | None = None
    eff_trust: np.ndarray | None = None
    eff_purchase: np.ndarray | None = None
    eff_referral: np.ndarray | None = None
    eff_fatigue: np.ndarray | None = None
    trust_target: np.ndarray | None = None
    # per person, the offset of their arm's rows in the tables above (0 or the number of segments), set only
    # when an A/B test's arms see different feeds (sim.mechanisms.content.feed_rows)
    feed_arm: np.ndarray | None = None
    koc_reached: np.ndarray | None = None  # bool per person
    visitors: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    joins: dict[str, int] = field(default_factory=dict)
    churned: int = 0
    interactions: int = 0
    questions: int = 0
    unanswered: int = 0
    ugc_posts: int = 0
    purchases: int = 0
    gmv: float = 0.0
    gross_margin: float = 0.0
    invitations: int = 0
    invitees: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # prospects invited today
    paid_spend: float = 0.0  # yuan the paid channel spent today (it buys impressions)
    accepted: int = 0
    redemptions: int = 0
    revenue: float = 0.0  # what customers paid, after every discount
    flash_sale: bool = False
    lottery: bool = False
    coupons_issued: int = 0
    coupons_redeemed: int = 0
    groups_opened: int = 0
    groups_succeeded: int = 0
    checkins: int = 0
    badges_awarded: int = 0
    points_earned: float = 0.0
    points_redeemed: float = 0.0
    points_expired: float = 0.0
    promotion_discount: float = 0.0
    ugc_share: float = 0.0  # share of the feed written by members and KOCs
    forced: np.ndarray | None = None  # bool per person: visits today regardless (livestreams)
    live_viewers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    replay_viewers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    outreach: int = 0
    incidents: int = 0
    unhandled_incidents: int = 0
    kocs_promoted: int = 0
    dwell_minutes: float = 0.0
    response_hours: float = 0.0
    rule_firings: int = 0
    buyers_today: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    buyers_list: np.ndarray = field(default_factory=lambda: np.zeros(0))  # list values of buyers_today
    buyers_paid: np.ndarray = field(default_factory=lambda: np.zeros(0))  # what buyers_today paid
    churn_scores: np.ndarray | None = None  # churn-risk scores of tonight's members (member_index order)
    counts: dict[str, float] = field(default_factory=dict)  # mechanisms' own counters, read by their KPIs


@dataclass
class Modifiers:
    """Per-person log-odds added to today's visit, purchase and churn decisions.

    Incentive and operating mechanisms that run before the core phases write
    here; the core phases add them in. Zeroed at the start of every day.
    """

    visit: np.ndarray
    purchase: np.ndarray
    churn: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> Modifiers:
        return cls(*(np.zeros(n, dtype=np.float32) for _ in range(3)))

    def reset(self) -> None:
        for arr in (self.visit, self.purchase, self.churn):
            arr.fill(0.0)

    def add_to(self, mods: Modifiers, rows: np.ndarray | slice, members: Callable[[slice], np.ndarray | bool]) -> None:
        """Add these modifiers, aligned with ``rows`` (member indices, or a slice of the rows), into ``mods``.

        The incentive programs sum their modifiers into contiguous arrays aligned with the rows
        and add them to the per-person ones once: one pass per decision, not one per program.
        On a slice, only the members' entries are added (``members(rows)`` gives the mask).
        """
        for mine, theirs in ((self.visit, mods.visit), (self.purchase, mods.purchase), (self.churn, mods.churn)):
            if not mine.any():  # a contiguous pass, far cheaper than the scatter it saves when no program is on
                continue
            if isinstance(rows, slice) and (mask := members(rows)) is not True:
                mine *= mask  # zero for non-members (a product: where= branches on every element)
            theirs[rows] += mine

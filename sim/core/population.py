"""The population as a struct of arrays: one numpy column per state variable.

Every person in the addressable market has a row, whether prospect, member or
churned. Phases of the day read and write whole columns; ``Person`` agents are
thin views onto a row. The fields below are every mechanism's; a column only
one mechanism uses is declared in its spec (``columns``) and added by
``create_population`` as an attribute of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from sim.config.base import CONTENT_TYPES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sim.config.schema import Scenario
    from sim.core.streams import Streams
    from sim.mechanisms.spec import Column

PROSPECT, MEMBER, CHURNED = 0, 1, 2
FRAILTY_STREAM = "churn_frailty"  # the stream of the personal churn offsets (drawn while building)
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
    invited: np.ndarray  # int32, people who joined through this person's invitation
    engagement: np.ndarray  # float32 in [0, 1]
    satisfaction: np.ndarray  # float32 in [0, 1]
    fatigue: np.ndarray  # float32 in [0, 1]
    last_visit: np.ndarray  # int32, day of last visit (-1 never)
    last_purchase: np.ndarray  # int32, day of last purchase (-1 never)
    first_purchase: np.ndarray  # int32, day of the first purchase (-1 never)
    second_purchase: np.ndarray  # int32, day of the second purchase (-1 never)
    purchases: np.ndarray  # int32, purchases while a member
    posts: np.ndarray  # int32, UGC posts written while a member
    last_post: np.ndarray  # int32, day of the last UGC post (-1 never)
    spend: np.ndarray  # float64, yuan spent
    member_contacts: np.ndarray  # int32, contacts who are members now
    churned_contacts: np.ndarray  # int32, contacts who have churned
    trait: np.ndarray  # float32 (n, 2) uniforms fixed at birth: starting engagement, satisfaction
    activity: np.ndarray  # float32, personal log-odds offset of visiting, fixed at birth (heavy users vs the silent)
    habit: np.ndarray  # float32, exp(activity): how fast a day of absence breaks the person's habit
    creator: np.ndarray  # float32, personal multiplier of the chance to post UGC on a visit (mean 1)
    birthday: np.ndarray  # int16, day of the year
    churn_frailty: np.ndarray | None = None  # float32, personal log-odds offset of churning; None when not drawn

    owned: tuple[str, ...] = ()  # the mechanisms' columns (their specs' ``columns``), set as attributes

    @property
    def n(self) -> int:
        return int(self.status.size)

    def column_names(self) -> tuple[str, ...]:
        """Every column present: the core fields above (those not ``None``), then the mechanisms'."""
        core = (f.name for f in fields(self) if f.name != "owned" and getattr(self, f.name) is not None)
        return (*core, *self.owned)

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self.column_names())

    def set_activity(self, people: np.ndarray, activity: np.ndarray) -> None:
        """Set the personal activity of ``people`` and the habit derived from it (``exp(activity)``)."""
        self.activity[people] = activity
        self.habit[people] = np.exp(activity)


@dataclass(frozen=True)
class SegmentTables:
    """Per-segment tables, indexed by segment code: float32 where they only enter log-odds, float64 where
    they make money; ``index`` is every person's segment as a native int (indexing ~5x faster than int8)."""

    index: np.ndarray  # intp, the segment of every person
    interests: np.ndarray  # segments x content types
    price_sensitivity: np.ndarray
    log_activity: np.ndarray
    basket_mean: np.ndarray
    basket_sigma: np.ndarray
    cycle_days: np.ndarray
    coupon_sensitivity: np.ndarray
    status_sensitivity: np.ndarray


def segment_tables(scenario: Scenario, segment: np.ndarray) -> SegmentTables:
    """The per-segment tables of ``scenario`` and the people's segment codes ``segment``."""
    return SegmentTables(
        index=segment.astype(np.intp),
        interests=interest_matrix(scenario),
        price_sensitivity=segment_column(scenario, "price_sensitivity"),
        log_activity=np.log(segment_column(scenario, "activity", np.float64)),
        basket_mean=segment_column(scenario, "basket_mean", np.float64),
        basket_sigma=segment_column(scenario, "basket_sigma", np.float64),
        cycle_days=segment_column(scenario, "purchase_cycle_days"),
        coupon_sensitivity=segment_column(scenario, "coupon_sensitivity"),
        status_sensitivity=segment_column(scenario, "status_sensitivity"),
    )


def interest_matrix(scenario: Scenario) -> np.ndarray:
    """Segment x content-type interest table (float32)."""
    segs = scenario.market.segments
    return np.array([[s.interests.get(t, 0.0) for t in CONTENT_TYPES] for s in segs], dtype=np.float32)


def segment_column(scenario: Scenario, attr: str, dtype=np.float32) -> np.ndarray:
    """One attribute of every segment as an array indexed by segment code."""
    return np.array([getattr(s, attr) for s in scenario.market.segments], dtype=dtype)


def personal_activity(scenario: Scenario, z: np.ndarray) -> np.ndarray:
    """Each person's log-odds offset of visiting: ``sigma * z``, centred so that the mean odds stay the segment's.

    Visit frequencies in online communities are heavy-tailed (a few heavy users, a silent
    majority: Nielsen 2006's 90-9-1); a log-normal spread of the odds gives that tail. The
    offset is ``sigma * z - sigma**2 / 2``, whose exponential has mean 1, so raising the
    spread moves visits from the many to the few without changing the average odds.
    """
    return _centred_log(scenario.engagement.activity_sigma, z)


def personal_churn_frailty(scenario: Scenario, streams: Streams) -> np.ndarray | None:
    """Each person's log-odds offset of churning, ``sigma * z - sigma**2 / 2`` (odds of mean 1), or ``None``.

    Dropout differs between people (the heterogeneous dropout of BG/NBD, BG/BB and Pareto/NBD):
    the fickle leave early and the loyal remain, so a cohort's survival curve flattens. The normal
    numbers come from a stream of their own (``churn_frailty``), drawn only when the spread
    ``churn.hazard_sigma`` is above 0: with 0 nothing is drawn, no other draw moves and no memory is used.
    """
    sigma = scenario.churn.hazard_sigma
    if sigma <= 0:
        return None
    return _centred_log(sigma, streams[FRAILTY_STREAM].standard_normal(scenario.market.size, dtype=np.float32))


def mean_one_lognormal(sigma: float, z: np.ndarray) -> np.ndarray:
    """``exp(sigma * z - sigma**2 / 2)``: a multiplier with mean 1 whose spread is ``sigma`` (float32)."""
    return np.exp(_centred_log(sigma, z))


def _centred_log(sigma: float, z: np.ndarray) -> np.ndarray:
    """``sigma * z - sigma**2 / 2`` in float32: the log of a log-normal with mean 1."""
    s = np.float32(sigma)
    return z * s - s * s / np.float32(2.0)


def create_population(scenario: Scenario, rng: np.random.Generator, columns: Sequence[Column] = ()) -> Population:
    """Everyone starts a prospect; segments are drawn by their shares; ``columns`` are the mechanisms'."""
    n = scenario.market.size
    shares = np.array([s.share for s in scenario.market.segments])
    segment = rng.choice(len(shares), size=n, p=shares / shares.sum()).astype(np.int8)
    minus = lambda dt: np.full(n, -1, dtype=dt)  # noqa: E731
    pop = Population(
        status=np.zeros(n, dtype=np.int8),
        segment=segment,
        join_day=minus(np.int32),
        join_source=minus(np.int8),
        churn_day=minus(np.int32),
        referrer=minus(np.int32),
        invited=np.zeros(n, dtype=np.int32),
        engagement=np.zeros(n, dtype=np.float32),
        satisfaction=np.zeros(n, dtype=np.float32),
        fatigue=np.zeros(n, dtype=np.float32),
        last_visit=minus(np.int32),
        last_purchase=minus(np.int32),
        first_purchase=minus(np.int32),
        second_purchase=minus(np.int32),
        purchases=np.zeros(n, dtype=np.int32),
        posts=np.zeros(n, dtype=np.int32),
        last_post=minus(np.int32),
        spend=np.zeros(n, dtype=np.float64),
        member_contacts=np.zeros(n, dtype=np.int32),
        churned_contacts=np.zeros(n, dtype=np.int32),
        trait=rng.random((n, 2), dtype=np.float32),
        activity=(activity := personal_activity(scenario, rng.standard_normal(n, dtype=np.float32))),
        habit=np.exp(activity),
        creator=mean_one_lognormal(scenario.engagement.creator_sigma, rng.standard_normal(n, dtype=np.float32)),
        birthday=rng.integers(0, 365, n).astype(np.int16),
    )
    core = {f.name for f in fields(pop)}
    for col in columns:
        if col.name in core or hasattr(pop, col.name):
            raise ValueError(f"population column {col.name!r} is declared twice")
        setattr(pop, col.name, np.full(n, col.fill, dtype=col.dtype))
    pop.owned = tuple(col.name for col in columns)
    return pop

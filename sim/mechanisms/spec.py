"""What a mechanism declares about itself, in one place: ``Mechanism``.

A mechanism's spec names its scenario section, the phases it runs and at which
stage of the day, the modifiers it adds to the day's decisions, its random
streams, its ledger lines, its join sources (and which of them are driven by a
member's invitation), its own KPIs, the population
columns it owns and the model state
its phases may touch (``uses``, enforced by ``sim.mechanisms.scope``) and what it
hands to others within the day (``leaves`` and ``takes``: typed ``DayState`` fields), and the
scenario keys its phases read per person (``targetable``: an A/B test may give them to some
members only, ``sim.core.treatment``). The registry
(``sim.mechanisms.registry``) derives the day's phase order, the ledger's lines,
the join sources, the invitation-driven join sources (``k_factor``), the stream names
and the KPI columns from these specs, so nothing of the kind is listed by hand anywhere
else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np

    from sim.core.daystate import Modifiers
    from sim.model import CommunityModel

Phase = Callable[["CommunityModel"], None]
ModifierFn = Callable[["CommunityModel", "np.ndarray | slice", "Modifiers"], None]

#: The moments of a day, first to last. Phases run by stage; within a stage, in registry order.
STAGES: tuple[str, ...] = (
    "staffing",  # operators plan and post, KOCs post
    "feed",  # today's content mix and its appeal per segment
    "calendar",  # holidays, sales, crises and competitors take effect
    "mood",  # sentiment spreads
    "joining",  # people join
    "offers",  # coupons and calendar offers go out
    "modifiers",  # every program's log-odds on today's visit, purchase and churn, summed in one pass
    "outreach",  # operators contact members; livestream attendance
    "visits",  # members visit, interact and post
    "moderation",  # operators review what was posted
    "after_visits",  # check-ins, flash-sale fatigue, lottery
    "purchases",  # members buy
    "after_purchases",  # commissions, group buys
    "referrals",  # members invite friends
    "status",  # badges, tiers, points expiry, fading habits
    "churn",  # members leave
)

Kind = Literal["flow", "stock"]


@dataclass(frozen=True)
class KPI:
    """A daily KPI a mechanism adds to the time series.

    ``flow`` KPIs count what happened on a day and add up over a window or a
    period (summary windows, observed weeks); ``stock`` KPIs are read at the
    window's last day. ``value`` computes today's value from the model, after the
    day's flows are in ``model.kpis.cum`` (running totals, for cumulative ratios).
    """

    name: str
    kind: Kind
    value: Callable[[CommunityModel], float]
    headline: bool = False  # also in summary.json's windows
    group: Literal["community", "commerce", "incentives", "operations"] = "operations"  # its place among the columns


@dataclass(frozen=True)
class Column:
    """A population column a mechanism adds: one value per person, ``fill`` for everyone at the start."""

    name: str
    dtype: type
    fill: float | int | bool = 0


@dataclass(frozen=True)
class Mechanism:
    """One mechanism of the model and everything it adds to the day and the outputs."""

    name: str
    section: str  # dotted path of the scenario section that configures it ("" for none)
    phases: tuple[tuple[str, Phase], ...] = ()  # (stage, phase) pairs
    modifiers: ModifierFn | None = None  # adds to today's per-person log-odds at the "modifiers" stage
    streams: tuple[str, ...] = ()  # random streams it draws from
    lines: tuple[tuple[str, str], ...] = ()  # (ledger line, cost category)
    join_sources: tuple[str, ...] = ()  # ways of joining it creates
    invited_sources: tuple[str, ...] = ()  # those of its join_sources by which a member's invitation brings someone in
    kpis: tuple[KPI, ...] = ()  # its own daily KPIs
    columns: tuple[Column, ...] = ()  # population columns it owns
    uses: tuple[str, ...] = ()  # model state and services its phases may touch (names or scope.GROUPS)
    leaves: tuple[str, ...] = ()  # DayState fields it fills for other mechanisms' later phases that day
    takes: tuple[str, ...] = ()  # DayState fields it reads that another mechanism leaves
    targetable: tuple[str, ...] = ()  # scenario keys its phases read per person, so an A/B test may treat some only

    def __post_init__(self) -> None:
        for stage, _ in self.phases:
            if stage not in STAGES:
                raise ValueError(f"mechanism {self.name!r}: unknown stage {stage!r}; stages: {STAGES}")
        if stray := [s for s in self.invited_sources if s not in self.join_sources]:
            raise ValueError(
                f"mechanism {self.name!r}: invited sources {stray} are not among its join sources {self.join_sources}"
            )


def counter(name: str) -> Callable[[CommunityModel], float]:
    """A KPI value read from today's counter ``name`` (``DayState.counts``)."""
    return lambda model: model.day.counts.get(name, 0.0)


def ratio(part: float, whole: float) -> float:
    """``part / whole``, 0 when ``whole`` is 0."""
    return part / whole if whole else 0.0


def cumulative(part: str, whole: str) -> Callable[[CommunityModel], float]:
    """A KPI value: the running total of flow ``part`` over that of flow ``whole`` since day 0."""
    return lambda model: ratio(model.kpis.cum[part], model.kpis.cum[whole])

"""The registry: every mechanism of the model, and what is derived from their specs.

``REGISTRY`` lists the mechanisms; adding one is one line here plus its module
(with its ``SPEC``) and its scenario section. Derived, never listed by hand:
- ``PHASES``: the day's phases, by stage (``spec.STAGES``), within a stage in
  registry order, with the "modifiers" stage summing every program's modifiers
  in one pass over the members;
- ``LINES``: ledger line -> cost category, grouped by category in
  ``ledger.CATEGORIES`` order, within a category in registry order;
- ``JOIN_SOURCES``: the ways of joining, in registry order (their codes);
- ``INVITED_SOURCES``: the join sources driven by a member's invitation (a
  referral, a group buy), whose joins ``k_factor`` counts, in registry order;
- ``STREAMS``: every random stream's name;
- ``KPIS``: the mechanisms' own daily KPIs, with flow or stock;
- ``COLUMNS``: the population columns the mechanisms own;
- ``TARGETABLE``: the scenario keys an A/B test may set for its treated arm only
  (``sim.core.treatment``), with the mechanism that reads each per person.

Registry order matters only between phases of one stage; the ``status`` and
``after_visits`` phases touch disjoint state, so their order within the stage
does not change any number.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.core.daystate import DayState, Modifiers
from sim.core.ledger import CATEGORIES
from sim.core.population import FRAILTY_STREAM
from sim.mechanisms import (
    acquisition,
    awareness,
    calendar_events,
    churn,
    churn_score,
    cohort,
    content,
    engagement,
    governance,
    koc,
    lifecycle,
    livestream,
    offline,
    operators,
    purchase,
    referral,
    sentiment,
    surveys,
)
from sim.mechanisms.incentives import calendar, coupons, engagement_rewards, group_buy, points, tiers
from sim.mechanisms.scope import NOT_IN_SPLIT_WORK, Scope, expand
from sim.mechanisms.spec import KPI, STAGES, Column, Mechanism, Phase

if TYPE_CHECKING:
    import numpy as np

    from sim.model import CommunityModel

REGISTRY: tuple[Mechanism, ...] = (
    operators.SPEC,
    koc.SPEC,
    content.SPEC,
    calendar_events.SPEC,
    sentiment.SPEC,
    awareness.SPEC,  # before acquisition: day 0's stages are drawn before anyone joins
    acquisition.SPEC,
    offline.SPEC,
    purchase.SPEC,
    referral.SPEC,
    points.SPEC,
    tiers.SPEC,
    coupons.SPEC,
    group_buy.SPEC,
    calendar.SPEC,
    engagement_rewards.SPEC,
    governance.SPEC,
    surveys.SPEC,
    livestream.SPEC,
    engagement.SPEC,
    churn.SPEC,
    lifecycle.SPEC,  # after churn: counts the members who stay tonight
    churn_score.SPEC,  # after churn: scores and tags them
    cohort.SPEC,  # joining stage, after the other channels; last so the older join sources keep their codes
)

#: Streams the model itself draws from while building (not a mechanism's).
MODEL_STREAMS: tuple[str, ...] = ("mesa", "network", "population", FRAILTY_STREAM)


def scoped(phase: Phase, spec: Mechanism) -> Phase:
    """``phase`` called with the part of the model ``spec`` declares (``Scope``)."""
    allowed = expand(spec.uses)

    def run(model: CommunityModel) -> None:
        phase(Scope(model, allowed, spec.name))

    run.__name__, run.__qualname__, run.__doc__ = phase.__name__, phase.__qualname__, phase.__doc__
    run.__wrapped__ = phase  # type: ignore[attr-defined]
    return run


def modifiers_phase(programs: tuple[Mechanism, ...]) -> Phase:
    """The "modifiers" stage: every program's log-odds of today, summed in one pass over the members."""
    adders = tuple((m.modifiers, expand(m.uses) - set(NOT_IN_SPLIT_WORK), m.name) for m in programs)  # run in halves

    def add_up(model: CommunityModel, rows: np.ndarray | slice) -> None:
        acc = Modifiers.zeros(len(range(model.pop.n)[rows]) if isinstance(rows, slice) else rows.size)  # as rows
        for add, allowed, owner in adders:
            add(Scope(model, allowed, owner), rows, acc)
        acc.add_to(model.mods, rows, model.members_in)

    def modifiers_phase(model: CommunityModel) -> None:
        model.split_rows(lambda rows: add_up(model, rows), model.member_rows())

    return modifiers_phase


@dataclass(frozen=True)
class Derived:
    """What the day and the outputs take from a list of mechanisms."""

    phases: list[Phase]
    lines: dict[str, str]
    join_sources: tuple[str, ...]
    invited_sources: tuple[str, ...]
    streams: tuple[str, ...]
    kpis: tuple[KPI, ...]
    columns: tuple[Column, ...]
    targetable: dict[str, str]


def _check_handoffs(specs: tuple[Mechanism, ...], order: dict[str, int]) -> None:
    """Every field handed over is a DayState field, and each one taken is left by a phase that runs earlier
    in the day: an earlier stage, or the same stage and earlier in the registry."""
    fields = {f.name for f in dataclasses.fields(DayState)}
    runs = {m.name: [(order[stage], i) for stage, _ in m.phases] for i, m in enumerate(specs)}
    leavers = {f: m.name for m in specs for f in m.leaves}
    for m in specs:
        if bad := sorted(set(m.leaves + m.takes) - fields):
            raise ValueError(f"mechanism {m.name!r} hands over {bad}, which are not DayState fields")
        for f in m.takes:
            if f not in leavers:
                raise ValueError(f"mechanism {m.name!r} takes DayState.{f}, which no mechanism leaves")
            leaver = leavers[f]
            if not runs[leaver] or not runs[m.name] or min(runs[leaver]) >= max(runs[m.name]):
                raise ValueError(
                    f"mechanism {m.name!r} takes DayState.{f} before {leaver!r} leaves it: put it at a later "
                    f"stage, or after {leaver!r} in REGISTRY"
                )


def derive(specs: tuple[Mechanism, ...]) -> Derived:
    """Phase order, ledger lines, join sources, streams and KPIs of ``specs``; refuses clashes."""
    for kind, names in (
        ("mechanism", [(m.name, m.name) for m in specs]),
        ("ledger line", [(line, m.name) for m in specs for line, _ in m.lines]),
        ("join source", [(src, m.name) for m in specs for src in m.join_sources]),
        ("KPI", [(kpi.name, m.name) for m in specs for kpi in m.kpis]),
        ("population column", [(col.name, m.name) for m in specs for col in m.columns]),
        ("targetable key", [(key, m.name) for m in specs for key in m.targetable]),
    ):
        seen: dict[str, str] = {}
        for name, owner in names:
            if name in seen:
                raise ValueError(f"{kind} {name!r} is declared by both {seen[name]!r} and {owner!r}")
            seen[name] = owner
    if unknown := {cat for m in specs for _, cat in m.lines} - set(CATEGORIES):
        raise ValueError(f"unknown cost categories {sorted(unknown)}; known: {CATEGORIES}")
    order = {stage: i for i, stage in enumerate(STAGES)}
    _check_handoffs(specs, order)
    staged = [(order[stage], i, scoped(phase, m)) for i, m in enumerate(specs) for stage, phase in m.phases]
    if programs := tuple(m for m in specs if m.modifiers is not None):
        staged.append((order["modifiers"], -1, modifiers_phase(programs)))
    return Derived(
        phases=[phase for _, _, phase in sorted(staged, key=lambda t: t[:2])],
        lines={line: cat for c in CATEGORIES for m in specs for line, cat in m.lines if cat == c},
        join_sources=tuple(src for m in specs for src in m.join_sources),
        invited_sources=tuple(src for m in specs for src in m.invited_sources),
        streams=tuple(dict.fromkeys((*MODEL_STREAMS, *(s for m in specs for s in m.streams)))),
        kpis=tuple(kpi for m in specs for kpi in m.kpis),
        columns=tuple(col for m in specs for col in m.columns),
        targetable={key: m.name for m in specs for key in m.targetable},
    )


_DERIVED = derive(REGISTRY)
PHASES: list[Phase] = _DERIVED.phases
LINES: dict[str, str] = _DERIVED.lines
JOIN_SOURCES: tuple[str, ...] = _DERIVED.join_sources
INVITED_SOURCES: tuple[str, ...] = _DERIVED.invited_sources
STREAMS: tuple[str, ...] = _DERIVED.streams
KPIS: tuple[KPI, ...] = _DERIVED.kpis
COLUMNS: tuple[Column, ...] = _DERIVED.columns
TARGETABLE: dict[str, str] = _DERIVED.targetable

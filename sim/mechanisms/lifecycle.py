"""Lifecycle stages of members, counted at the end of every day.

Every member is in exactly one stage, taken in this order:
- dormant: no visit for ``dormant_after_days`` days (joining counts as a visit);
- new: joined within ``new_for_days`` days (the initial members joined before day 0: never new);
- advocate: someone joined through their invitation (referral or group buy);
- loyal: bought at least twice as a member;
- active: every other member.
The stages are states the operators' actions target (a rule's ``winback_campaign``
messages the dormant and the churned; outreach the lapsed); the counts add up to
the members of the day, and the dormant share is the silent majority operators see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.membership import newcomers
from sim.engine.arrays import code_counts, first_flag
from sim.mechanisms.spec import KPI, Mechanism, counter, ratio

if TYPE_CHECKING:
    from sim.model import CommunityModel

STAGES: tuple[str, ...] = ("new", "active", "loyal", "advocate", "dormant")


#: The stages in the order they are taken (the first that applies).
_PRIORITY: tuple[str, ...] = ("dormant", "new", "advocate", "loyal", "active")
_CODE_OF_RANK = np.array([STAGES.index(name) for name in _PRIORITY], dtype=np.int8)


def stages(model: CommunityModel, mi: np.ndarray | slice) -> np.ndarray:
    """The stage code (index into ``STAGES``) of members ``mi`` (ids, or a slice of the rows) today."""
    pop, cfg, today = model.pop, model.scenario.lifecycle, model.day.day
    applies = {
        "dormant": pop.last_visit[mi] <= today - cfg.dormant_after_days,  # joining counts as a visit
        "new": newcomers(model, mi),
        "advocate": pop.invited[mi] > 0,
        "loyal": pop.purchases[mi] >= 2,
    }
    size = applies["dormant"].size  # read off a flag: no second gather of a column
    return _CODE_OF_RANK.take(first_flag([applies[name] for name in _PRIORITY[:-1]], size))


def lifecycle_phase(model: CommunityModel) -> None:
    """Count tonight's members by stage (after churn: the members who stay)."""
    rows = model.member_rows()
    code = stages(model, rows)  # on whole columns when members are most of the market
    if isinstance(rows, slice) and (members := model.members_in(rows)) is not True:
        code = code[members]
    for name, count in zip(STAGES, code_counts(code, len(STAGES)), strict=True):
        model.day.counts[f"stage_{name}"] = float(count)


def _dormant_share(model: CommunityModel) -> float:
    counts = model.day.counts
    return ratio(counts.get("stage_dormant", 0.0), sum(counts.get(f"stage_{s}", 0.0) for s in STAGES))


SPEC = Mechanism(
    name="lifecycle",
    section="lifecycle",
    phases=(("churn", lifecycle_phase),),
    kpis=(
        *(KPI(f"stage_{name}", "stock", counter(f"stage_{name}"), group="community") for name in STAGES),
        KPI("dormant_share", "stock", _dormant_share, headline=True, group="community"),
    ),
    uses=("scenario", "pop", "day", "rows", "join_codes"),
)

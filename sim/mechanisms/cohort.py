"""A cohort that joins on given days: joins driven by an observed series, as a closed customer cohort is.

On run day i, ``acquisition.cohort.joins[i]`` people are drawn uniformly among the
prospects (the smallest per-person keys of the ``cohort`` stream) and join with
source ``cohort``. With ``first_purchase`` on, joining is the first purchase, as
in transaction data where a customer exists from their first order: each joiner
buys on that day (their segment's basket, settled like any purchase), so their
need to rebuy starts from zero then instead of at its maximum. With an empty list
the mechanism draws nothing and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.core.membership import join, prospects
from sim.mechanisms import purchase
from sim.mechanisms.acquisition import _pick
from sim.mechanisms.spec import Mechanism

if TYPE_CHECKING:
    from sim.model import CommunityModel


def cohort_phase(model: CommunityModel) -> None:
    """Today's scheduled joiners, and their first purchase when joining is one."""
    cfg, today = model.scenario.acquisition.cohort, model.day.day
    if today >= len(cfg.joins) or cfg.joins[today] == 0:
        return
    n = model.pop.n
    keys = model.streams.uniform("cohort", n)
    later = model.streams.packed("cohort", n)  # the first purchase's basket and experienced quality
    joined = join(model, _pick(prospects(model), cfg.joins[today], keys), "cohort")
    if cfg.first_purchase and joined.size:
        purchase.record_purchases(model, joined, purchase.standard_normal(later(0, joined)), later(1, joined))


SPEC = Mechanism(
    name="cohort",
    section="acquisition.cohort",
    phases=(("joining", cohort_phase),),
    streams=("cohort",),
    join_sources=("cohort",),
    uses=(
        "membership",
        "streams",
        "scenario",
        "pop",
        "day",
        "ledger",
        "events",
        "segments",
        "tiers",
        "product",
        "treatment",  # the first purchase earns points at the member's arm's rate
    ),
)

"""The Mesa agents: views of people, whose attributes read and write their row of
the columns, and the brand's operators.

The state lives in numpy columns (``Population``); a ``Person`` holds only its
row index, so ``model.agents``, ``AgentSet.select`` and agent reporters keep
working without slowing the vectorized phases. People act through those phases,
not one by one, so a ``Person`` has no ``step`` of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.core.population import STATUS_NAMES
from sim.engine.mesa_core import mesa as _mesa_core

mesa = _mesa_core()  # Agent, Model and DataCollector; the rest of Mesa loads when first asked for

if TYPE_CHECKING:
    from sim.core.daystate import DayState
    from sim.model import CommunityModel


def _column(name: str, doc: str) -> property:
    def get(self):
        return getattr(self.model.pop, name)[self.row]

    def set_(self, value):
        getattr(self.model.pop, name)[self.row] = value

    return property(get, set_, doc=doc)


class Person(mesa.Agent):
    """A person of the addressable market (prospect, member or churned), as a view on one row."""

    def __init__(self, model, row: int) -> None:
        super().__init__(model)
        self.row = row

    engagement = _column("engagement", "Engagement, 0 to 1.")
    satisfaction = _column("satisfaction", "Satisfaction, 0 to 1.")
    fatigue = _column("fatigue", "Fatigue, 0 to 1.")
    points = _column("points", "Points balance.")
    purchases = _column("purchases", "Purchases made as a member.")
    spend = _column("spend", "Yuan spent.")
    segment_code = _column("segment", "Segment code.")
    is_koc = _column("is_koc", "Whether the person is a KOC.")

    @property
    def status(self) -> str:
        """prospect, member or churned (changed only by the model's transitions)."""
        return STATUS_NAMES[int(self.model.pop.status[self.row])]

    @property
    def segment(self) -> str:
        return self.model.scenario.market.segments[int(self.model.pop.segment[self.row])].name


class Operator(mesa.Agent):
    """One member of the brand's community team."""

    def __init__(self, model: CommunityModel) -> None:
        super().__init__(model)
        cfg = model.scenario.operators
        self.posts_capacity = cfg.posts_capacity
        self.replies_capacity = cfg.replies_capacity
        self.fte = 1.0  # share of a full-time position: a small community's operator works part-time
        self.posts_today = 0.0

    def work(self, remaining: float, day: DayState) -> float:
        """Publish this operator's share of the ``remaining`` content plan and add its replies to ``day``'s
        capacity (both in proportion to its ``fte``); return what is left of the plan."""
        self.posts_today = min(self.posts_capacity * self.fte, remaining)
        day.reply_capacity += self.replies_capacity * self.fte
        return remaining - self.posts_today

"""Surveys (问卷调研) and the product iteration their feedback drives.

On the last day of every period of ``every_days`` days operators close a survey:
each active member (one who visited in the last 30 days) answers with probability
``response_rate``. R answers give an insight I = 1 - exp(-R / response_saturation)
(more answers teach more, with diminishing returns), and the brand plans an
improvement
  step = iteration_gain x I x (quality_ceiling - planned)
where ``planned`` is the quality once every improvement already planned is out, so
the product approaches the ceiling and never passes it. A step starts reaching
buyers ``lag_days`` after its survey and phases in over ``rollout_days`` in equal
daily parts. The product quality q_t is what buyers experience (it pulls their
satisfaction, ``sim.mechanisms.purchase``) and, for members who have bought before,
adds ``purchase.quality_weight x (q_t - purchase.product_quality)`` to the log-odds
of buying. A survey costs ``cost_per_survey`` plus ``cost_per_response`` per answer
on the line ``surveys``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sim.mechanisms.spec import KPI, Mechanism, counter

if TYPE_CHECKING:
    from sim.config.schema import Scenario
    from sim.model import CommunityModel

#: A member is active, and asked, if they visited within this many days (as MAU counts).
ACTIVE_DAYS = 30


@dataclass
class Product:
    """The product's quality: where it started, the improvements planned, and where it is today."""

    start: float
    quality: float
    planned: float
    steps: list[tuple[int, float]] = field(default_factory=list)  # (first day it reaches buyers, size)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Product:
        q = scenario.purchase.product_quality
        return cls(start=q, quality=q, planned=q)

    @property
    def gain(self) -> float:
        """Quality gained since the start (0 without iteration)."""
        return self.quality - self.start

    def plan(self, first_day: int, insight: float, gain: float, ceiling: float) -> float:
        """Plan an improvement of ``gain x insight`` of the gap to ``ceiling``; returns its size."""
        size = max(0.0, gain * insight * (ceiling - self.planned))
        self.planned = min(ceiling, self.planned + size)
        self.steps.append((first_day, size))
        return size

    def roll_out(self, day: int, rollout_days: int) -> None:
        """Today's quality: every planned step in the share of its rollout done by ``day``."""
        done = sum(size * min(1.0, max(0.0, (day - first + 1) / rollout_days)) for first, size in self.steps)
        self.quality = min(self.planned, self.start + done)


def survey_phase(model: CommunityModel) -> None:
    """Close today's survey (if one is due) and plan the improvement; then roll out what is due today."""
    cfg = model.scenario.operators.surveys
    if not cfg.enabled:
        return
    d = model.day.day
    if (d + 1) % cfg.every_days == 0:
        pop = model.pop
        mi = model.member_index()
        active = mi[pop.last_visit[mi] > d - ACTIVE_DAYS]
        u = model.streams.uniform("surveys", pop.n)
        answers = int((u[active] < cfg.response_rate).sum())
        insight = 1.0 - math.exp(-answers / cfg.response_saturation)
        model.product.plan(d + cfg.lag_days, insight, cfg.iteration_gain, cfg.quality_ceiling)
        model.day.counts["survey_responses"] = float(answers)
        model.ledger.book("surveys", cfg.cost_per_survey + answers * cfg.cost_per_response)
    model.product.roll_out(d, cfg.rollout_days)


SPEC = Mechanism(
    name="surveys",
    section="operators.surveys",
    phases=(("after_visits", survey_phase),),
    streams=("surveys",),
    lines=(("surveys", "operators"),),
    kpis=(
        KPI("survey_responses", "flow", counter("survey_responses"), group="operations"),
        KPI("product_quality", "stock", lambda m: m.product.quality, group="commerce"),
    ),
    uses=("scenario", "pop", "day", "streams", "ledger", "rows", "product"),
)

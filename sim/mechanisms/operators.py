"""Operators: brand staff who publish the content plan and answer questions.

Operators are ordinary Mesa agents (there are few of them): each one's ``step``
publishes brand posts up to its capacity and adds its replies to the day's
capacity. Questions beyond the capacity go unanswered (see engagement).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.mathutil import stochastic_round
from sim.mechanisms.spec import Mechanism

if TYPE_CHECKING:
    from sim.model import CommunityModel


class Operator(mesa.Agent):
    """One member of the brand's community team."""

    def __init__(self, model: CommunityModel) -> None:
        super().__init__(model)
        cfg = model.scenario.operators
        self.posts_capacity = cfg.posts_capacity
        self.replies_capacity = cfg.replies_capacity
        self.posts_today = 0.0

    def step(self) -> None:
        """Publish this operator's share of today's remaining content plan."""
        model: CommunityModel = self.model
        self.posts_today = min(self.posts_capacity, model.plan_remaining)
        model.plan_remaining -= self.posts_today
        model.day.reply_capacity += self.replies_capacity


def operators_phase(model: CommunityModel) -> None:
    """Operators act: brand posts by type from the content mix; salaries are booked."""
    cfg, content = model.scenario.operators, model.scenario.content
    rng = model.streams["operators"]
    u = float(rng.random())
    model.plan_remaining = content.posts_per_day
    model.operators.do("step")
    published = content.posts_per_day - model.plan_remaining
    n_posts = stochastic_round(published, u)
    model.day.pgc_counts = rng.multinomial(n_posts, model.policy.mix).astype(float)
    model.ledger.book("operator_salaries", model.policy.headcount * cfg.daily_salary)
    model.ledger.book("content_production", n_posts * content.cost_per_post)
    if content.themed_columns.enabled:
        model.ledger.book("themed_columns", content.themed_columns.cost_per_day)


def hire(model: CommunityModel, count: int) -> None:
    """Add operators (an adaptive rule's action)."""
    for agent in Operator.create_agents(model, count):
        model.operators.add(agent)
    model.policy.headcount += count


SPEC = Mechanism(
    name="operators",
    section="operators",
    phases=(("staffing", operators_phase),),
    streams=("operators",),
    lines=(("operator_salaries", "operators"), ("content_production", "content"), ("themed_columns", "content")),
)

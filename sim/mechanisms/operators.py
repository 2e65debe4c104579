"""Operators: brand staff who publish the content plan and answer questions.

Operators are ordinary Mesa agents (``sim.core.agents.Operator``; there are few of
them): each one's ``step`` publishes brand posts up to its capacity and adds its
replies to the day's capacity. Questions beyond the capacity go unanswered (see
engagement).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.core.mathutil import stochastic_round
from sim.mechanisms.spec import KPI, Mechanism

if TYPE_CHECKING:
    from sim.model import CommunityModel


def operators_phase(model: CommunityModel) -> None:
    """Operators act: brand posts by type from the content mix; salaries are booked."""
    cfg, content = model.scenario.operators, model.scenario.content
    rng = model.streams["operators"]
    u = float(rng.random())
    remaining = content.posts_per_day
    for operator in model.operators:  # in creation order, each publishes what it can of what is left
        remaining = operator.work(remaining, model.day)
    published = content.posts_per_day - remaining
    n_posts = stochastic_round(published, u)
    model.day.pgc_counts = rng.multinomial(n_posts, model.policy.mix).astype(float)
    model.ledger.book("operator_salaries", model.policy.headcount * cfg.daily_salary)
    model.ledger.book("content_production", n_posts * content.cost_per_post)
    if content.themed_columns.enabled:
        model.ledger.book("themed_columns", content.themed_columns.cost_per_day)


def hire(model: CommunityModel, count: int) -> None:
    """Add operators (an adaptive rule's action)."""
    model.add_operators(count)
    model.policy.headcount += count


SPEC = Mechanism(
    name="operators",
    section="operators",
    phases=(("staffing", operators_phase),),
    streams=("operators",),
    lines=(("operator_salaries", "operators"), ("content_production", "content"), ("themed_columns", "content")),
    kpis=(
        KPI("pgc_posts", "flow", lambda m: int(m.day.pgc_counts.sum()), True, "community"),
        KPI("operators", "stock", lambda m: m.policy.headcount),
    ),
    uses=("scenario", "day", "ledger", "streams", "policy", "operators"),
    leaves=("pgc_counts", "reply_capacity"),
)

"""Operators: brand staff who publish the content plan and answer questions.

Operators are ordinary Mesa agents (``sim.core.agents.Operator``; there are few of
them): each one's ``step`` publishes brand posts up to its capacity and adds its
replies to the day's capacity. Questions beyond the capacity go unanswered (see
engagement).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.core.mathutil import stochastic_round
from sim.mechanisms.spec import KPI, Mechanism

if TYPE_CHECKING:
    from sim.config.schema import ContentConfig, OperatorConfig
    from sim.model import CommunityModel


def team_size(cfg: OperatorConfig, floor: float, members: int, plan: float = 0.0) -> float:
    """The team (full-time equivalents) a staffing review sets: enough to look after ``members`` members
    (``members_per_operator`` each) and to publish the content ``plan`` (``posts_capacity`` each), at least
    ``floor``; in steps of ``min_fte`` so that a handful of members does not get a sliver of a person."""
    if cfg.members_per_operator is None:
        return floor
    work = max(members / cfg.members_per_operator, plan / cfg.posts_capacity if cfg.posts_capacity else 0.0)
    return max(floor, math.ceil(work / cfg.min_fte - 1e-9) * cfg.min_fte)


def content_plan(content: ContentConfig, members: int) -> float:
    """Brand posts planned today: ``posts_per_day`` from ``full_plan_members`` members on, in proportion below
    (at least one post, unless the plan is empty)."""
    if content.full_plan_members is None or members >= content.full_plan_members:
        return content.posts_per_day
    return min(content.posts_per_day, max(1.0, content.posts_per_day * members / content.full_plan_members))


def review_staffing(model: CommunityModel) -> None:
    """Every ``staffing_review_days`` days the team is sized to the community (hires act the same day)."""
    if model.day.day % model.scenario.operators.staffing_review_days == 0:
        resize_team(model)


def resize_team(model: CommunityModel) -> None:
    """Size the team to the community and the content plan now (a staffing review, or a changed setting).

    ``ceil(fte)`` operators work, all full-time but the last, who works the remaining fraction.
    """
    cfg, policy = model.scenario.operators, model.policy
    fte = team_size(cfg, policy.floor, model.n_members, content_plan(model.scenario.content, model.n_members))
    agents = math.ceil(fte - 1e-9)
    have = len(model.operators)
    if agents > have:
        model.add_operators(agents - have)
    elif agents < have:
        model.remove_operators(have - agents)
    for i, operator in enumerate(model.operators):
        operator.fte = min(1.0, fte - i)
    policy.headcount = fte


def operators_phase(model: CommunityModel) -> None:
    """Staffing review; operators act: brand posts by type from the content mix; salaries are booked."""
    cfg, content = model.scenario.operators, model.scenario.content
    rng = model.streams["operators"]
    u = float(rng.random())
    review_staffing(model)
    plan = content_plan(content, model.n_members)
    remaining = plan
    for operator in model.operators:  # in creation order, each publishes what it can of what is left
        remaining = operator.work(remaining, model.day)
    published = plan - remaining
    n_posts = stochastic_round(published, u)
    model.day.pgc_counts = rng.multinomial(n_posts, model.policy.mix).astype(float)
    model.ledger.book("operator_salaries", model.policy.headcount * cfg.daily_salary)
    model.ledger.book("content_production", n_posts * content.cost_per_post)
    if content.themed_columns.enabled:
        model.ledger.book("themed_columns", content.themed_columns.cost_per_day)


def hire(model: CommunityModel, count: int) -> None:
    """Add operators (an adaptive rule's action); staffing reviews keep them (they raise the floor)."""
    model.add_operators(count)
    model.policy.headcount += count
    model.policy.floor += count


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
    uses=(
        "scenario",
        "day",
        "ledger",
        "streams",
        "policy",
        "operators",
        "add_operators",
        "remove_operators",
        "n_members",
    ),
    leaves=("pgc_counts", "reply_capacity"),
)

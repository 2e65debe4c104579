"""Visits, interactions, questions, and how engagement, satisfaction and fatigue move.

A member of segment g visits with probability
  logistic(logit(b) + ln(a_g) + w_e e_i + w_a A_i - w_f f_i)
where e is engagement, f fatigue and A the day's appeal (content appeal of the
segment plus a boost when a KOC post reached the member). Visitors then move
engagement toward the day's stimulus by exponential smoothing; members who stay
away lose a little engagement. The stimulus of a visit is
0.2 + the feed's engagement effect + the interaction value if the visitor
interacts + the KOC boost if reached + ``dwell_weight * (D - 1)``, where
D = 1 + ugc_dwell_bonus x (the feed's UGC share) is the visit's dwell relative to a
brand-only feed: longer visits build the habit. Satisfaction follows the feed's trust value, and
questions beyond the operators' reply capacity go unanswered and cost satisfaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config.base import CONTENT_TYPES
from sim.core.mathutil import logistic, logit
from sim.engine.arrays import f32
from sim.mechanisms.content import feed_rows, per_feed_row
from sim.mechanisms.incentives import engagement_rewards, points, tiers
from sim.mechanisms.spec import KPI, Mechanism

if TYPE_CHECKING:
    from sim.model import CommunityModel


def habitual_visit_prob(model: CommunityModel, people: np.ndarray) -> np.ndarray:
    """Daily visit probability of ``people`` on an ordinary day: the visit formula without appeal or fatigue."""
    cfg, pop = model.scenario.engagement, model.pop
    x = (
        logit(cfg.base_visit_prob)
        + model.segments.log_activity[model.segments.index[people]]
        + cfg.engagement_weight * pop.engagement[people]
        + pop.activity[people]
    )
    return logistic(x.astype(np.float64))


def engagement_phase(model: CommunityModel) -> None:
    """Decide who visits today and update their state."""
    pop, day, s = model.pop, model.day, model.scenario
    cfg, sat = s.engagement, s.satisfaction
    n = pop.n
    u_visit = model.streams.uniform("engagement", n)
    later = model.streams.packed("engagement", n)  # visitors' interaction, question and UGC numbers

    koc_boost = f32(model.scenario.koc.engagement_boost)
    # float32 throughout: the arithmetic costs a third of float64's and the uniforms are float32 anyway
    # per row of the feed tables: a segment, or a segment of one arm of an A/B test (content.feed_rows)
    base = f32(
        logit(cfg.base_visit_prob) + per_feed_row(day, model.segments.log_activity) + cfg.appeal_weight * day.appeal
    )

    def visitors(rows: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        x = (
            np.take(base, feed_rows(day, model.row_segments(rows), rows))
            + cfg.engagement_weight * pop.engagement[rows]
            - cfg.fatigue_weight * pop.fatigue[rows]
            + pop.activity[rows]
            + model.mods.visit[rows]
        )
        if koc_boost:
            x += cfg.appeal_weight * koc_boost * day.koc_reached[rows]
        visit = u_visit[rows] < logistic(x)
        if day.forced is not None:
            visit |= day.forced[rows]
        return model.members_where(rows, visit)  # visitors: positions in rows, and ids

    rows = model.member_rows()  # members' indices, or every row when most people are members
    parts = model.split_rows(visitors, rows)
    v = np.concatenate([ids for _, ids in parts])
    at = v if isinstance(rows, slice) else parts[0][0]  # on every row, positions are ids
    vseg = feed_rows(day, model.row_segments(rows)[at], v)
    day.visitors = v

    themed = s.content.themed_columns
    boost = themed.interaction_multiplier if themed.enabled else 1.0
    p_interact = np.minimum(cfg.interaction_prob * boost * day.match, 1.0)  # per segment
    ugc_lift = 1.0 + s.content.ugc_dwell_bonus * day.ugc_share  # dwell relative to a brand-only feed
    base_stimulus = f32(0.2 + day.eff_engagement + cfg.dwell_weight * (ugc_lift - 1.0))

    def engage(vp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether visitors ``vp`` interact, and the stimulus their engagement moves toward."""
        seg = feed_rows(day, model.segments.index[vp], vp)
        interact = later(0, vp) < np.take(p_interact, seg)
        stimulus = np.take(base_stimulus, seg) + f32(cfg.interaction_value) * interact
        if koc_boost:
            stimulus += koc_boost * day.koc_reached[vp]
        return interact, np.clip(stimulus, 0.0, 1.0, out=stimulus)

    parts = model.split_people(engage, v)
    interact = np.concatenate([i for i, _ in parts])
    stimulus = np.concatenate([st for _, st in parts])
    minutes = s.content.base_dwell_minutes * (0.6 + day.appeal) * ugc_lift  # per segment
    day.dwell_minutes = float(np.bincount(vseg, minlength=minutes.size) @ minutes / v.size) if v.size else 0.0
    day.interactions = int(interact.sum())
    eff_fatigue = f32(day.eff_fatigue)

    def smooth(part: np.ndarray | slice) -> None:
        """Engagement and fatigue of the members in ``part``: visitors move toward the stimulus, others decay."""
        mine, pos = model.positions_in(part, at)  # today's visitors among them
        e, f = pop.engagement[part], pop.fatigue[part]  # views when part is a slice: never changed in place
        e_new = e * (1.0 - cfg.inactive_decay)
        e_v = e[pos]
        e_new[pos] = e_v + cfg.learning_rate * (stimulus[mine] - e_v)
        model.write_members(pop.engagement, part, e_new)
        f_new = f * (1.0 - cfg.fatigue_recovery)
        f_new[pos] += np.take(eff_fatigue, vseg[mine])
        model.write_members(pop.fatigue, part, np.clip(f_new, 0.0, 1.0, out=f_new))

    model.split_rows(smooth, rows)

    s_v = pop.satisfaction[v]
    s_v = s_v + sat.content_rate * (np.take(f32(day.trust_target), vseg) - s_v)
    u_ask = later(1, v)
    asked = u_ask < cfg.question_prob
    n_q = int(asked.sum())
    backlog = model.question_backlog
    free = max(0.0, day.reply_capacity - backlog)  # yesterday's open questions are answered first
    answer_share = min(1.0, free / n_q) if n_q else 1.0
    # who is answered: the question's own uniform, rescaled, decides (first come, first served at random)
    answered = asked & (u_ask < cfg.question_prob * answer_share)
    unanswered = asked & ~answered
    s_v += f32(s.operators.answered_bonus) * answered - f32(s.operators.unanswered_penalty) * unanswered
    pop.satisfaction[v] = np.clip(s_v, 0.0, 1.0)
    day.questions, day.unanswered = n_q, int(unanswered.sum())
    model.question_backlog = max(0.0, backlog - day.reply_capacity) + day.unanswered
    queue = backlog + n_q / 2.0  # an average question waits behind half of today's and all of the backlog
    day.response_hours = min(24.0 * queue / day.reply_capacity, 24.0 * 30) if day.reply_capacity else 24.0 * 30

    pop.last_visit[v] = day.day
    p_post = (
        s.content.member_ugc_prob * pop.engagement[v] * pop.creator[v] * engagement_rewards.ugc_multiplier(model, v)
    )
    posts = later(2, v) < p_post
    day.ugc_posts = int(posts.sum())
    posters = v[posts]
    pop.posts[posters] += 1  # visitors are distinct: one post each at most
    pop.last_post[posters] = day.day
    points.earn(model, posters, points.rate(model, posters, "per_post"))
    tiers.add_growth(model, posters, tiers.GROWTH_PER_ACTION, action=True)
    engagement_rewards.add_reputation(model, posters, s.incentives.badges.per_post)
    engagement_rewards.add_reputation(model, v[interact], s.incentives.badges.per_interaction)
    mix = np.array([s.content.ugc_type_mix.get(t, 0.0) for t in CONTENT_TYPES])
    day.ugc_counts = model.streams["content"].multinomial(day.ugc_posts, mix / mix.sum()).astype(float)


SPEC = Mechanism(
    name="engagement",
    section="engagement",
    phases=(("visits", engagement_phase),),
    streams=("engagement", "content"),
    kpis=(
        KPI("interactions", "flow", lambda m: m.day.interactions, True, "community"),
        KPI("questions", "flow", lambda m: m.day.questions, True, "community"),
        KPI("unanswered", "flow", lambda m: m.day.unanswered, True, "community"),
        KPI("ugc_posts", "flow", lambda m: m.day.ugc_posts, True, "community"),
        KPI("dwell_minutes", "stock", lambda m: m.day.dwell_minutes),
        KPI("response_hours", "stock", lambda m: m.day.response_hours),
    ),
    uses=("scenario", "pop", "day", "mods", "streams", "rows", "segments", "tiers", "question_backlog", "treatment"),
    leaves=("visitors", "interactions", "ugc_posts"),
    takes=(
        "appeal",
        "match",
        "eff_engagement",
        "eff_fatigue",
        "trust_target",
        "feed_arm",
        "ugc_share",
        "reply_capacity",
        "koc_reached",
        "forced",
    ),
)

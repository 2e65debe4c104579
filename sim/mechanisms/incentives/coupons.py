"""Coupons (优惠券): issue to a target group on a cadence, redeem at purchase, learn to wait.

Every ``every_days`` the program issues a coupon to a ``reach`` share of the
target group (all members, chosen segments, members whose churn-risk score, the
predicted probability of leaving within 30 days, is at least ``churn_risk_min``,
buyers lapsed ``lapsed_days``, or the members tagged silent or core this morning); a member holds one
coupon at a time, valid ``validity_days``. Holding a valid coupon raises the
log-odds of buying by ``purchase_weight`` times the segment's coupon sensitivity,
times (depth / ``depth_reference``)^``depth_elasticity``, where the depth is the
coupon's yuan off over the segment's mean basket, or its share off: deeper coupons
pull more, with diminishing returns.
Each redemption raises the member's coupon habit h by ``dependence_rate (1 - h)``;
a member without a coupon loses ``dependence_weight * h`` log-odds of buying
(coupon dependence: they wait for the next one) and ``dependence_visit_weight * h``
log-odds of visiting (they stop browsing between issues). Habit fades by ``habit_decay``
a day. Every issue tires its recipients (``fatigue_per_issue``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.treatment import arms
from sim.engine.arrays import f32, select
from sim.mechanisms.spec import KPI, Column, Mechanism, cumulative

if TYPE_CHECKING:
    from sim.config.incentives import CouponsConfig
    from sim.core.daystate import Modifiers
    from sim.model import CommunityModel


def give(model: CommunityModel, people: np.ndarray, value: float, rate: float, min_spend: float, days: int) -> None:
    """Hand ``people`` a coupon (replacing any they hold)."""
    pop = model.pop
    pop.coupon_value[people] = value
    pop.coupon_rate[people] = rate
    pop.coupon_min[people] = min_spend
    pop.coupon_expiry[people] = model.day.day + days - 1
    model.day.coupons_issued += int(people.size)


def _targets(model: CommunityModel, mi: np.ndarray, cfg: CouponsConfig) -> np.ndarray:
    from sim.mechanisms.churn_score import TAGS, score, scored, tags

    pop, day = model.pop, model.day.day
    if cfg.target == "segment":
        codes = [i for i, g in enumerate(model.scenario.market.segments) if g.name in cfg.segments]
        return mi[np.isin(model.segments.index[mi], codes)]
    if cfg.target == "churn_risk":
        return mi[score(model, mi) >= cfg.churn_risk_min]
    if cfg.target == "lapsed":
        return mi[(pop.last_purchase[mi] >= 0) & (day - pop.last_purchase[mi] >= cfg.lapsed_days)]
    if cfg.target in TAGS:
        scores, inputs = scored(model, mi)
        return mi[tags(model, mi, scores, inputs) == TAGS.index(cfg.target)]
    return mi


def issue(model: CommunityModel, mi: np.ndarray) -> None:
    """Issue today's coupons, if today is an issue day (for each arm of an A/B test, by its own program)."""
    u = None
    for scenario, people in arms(model, mi):
        cfg = scenario.incentives.coupons
        if not cfg.enabled or model.day.day % cfg.every_days != 0:
            continue
        u = model.streams.uniform("coupons", model.pop.n) if u is None else u  # one draw a day for both arms
        targets = _targets(model, people, cfg)
        reached = targets[u[targets] < cfg.reach]
        fixed = cfg.kind == "fixed"
        value, rate = (cfg.value, 0.0) if fixed else (0.0, cfg.value)
        give(model, reached, value, rate, cfg.min_spend, cfg.validity_days)
        model.pop.fatigue[reached] = np.minimum(model.pop.fatigue[reached] + cfg.fatigue_per_issue, 1.0)


def issue_phase(model: CommunityModel) -> None:
    """The "offers" stage: today's coupons to the members."""
    issue(model, model.member_index())


def modifiers(model: CommunityModel, rows: np.ndarray | slice, acc: Modifiers) -> None:
    cfg, pop = model.scenario.incentives.coupons, model.pop
    holding = pop.coupon_expiry[rows] >= model.day.day
    if not (cfg.enabled or model.coupon_habits or holding.any()):  # then every term would be zero
        return
    seg = model.row_segments(rows)
    held = np.float32(cfg.purchase_weight) * np.take(model.segments.coupon_sensitivity, seg)
    if cfg.depth_elasticity:
        depth = pop.coupon_value[rows] / np.take(f32(model.segments.basket_mean), seg) + pop.coupon_rate[rows]
        held *= (depth * np.float32(1.0 / cfg.depth_reference)) ** np.float32(cfg.depth_elasticity)
    waiting = np.float32(-cfg.dependence_weight) * pop.coupon_habit[rows]
    acc.purchase += select(holding, held, waiting)
    if cfg.dependence_visit_weight:
        acc.visit -= np.float32(cfg.dependence_visit_weight) * pop.coupon_habit[rows] * ~holding


def redeem(model: CommunityModel, buyers: np.ndarray, due: np.ndarray) -> np.ndarray:
    """Apply valid coupons to baskets at or above their minimum; returns yuan off."""
    pop, cfg = model.pop, model.scenario.incentives.coupons
    off = np.zeros(buyers.size)
    valid = (pop.coupon_expiry[buyers] >= model.day.day) & (due >= pop.coupon_min[buyers])
    if not valid.any():
        return off
    b = buyers[valid]
    off[valid] = np.minimum(pop.coupon_value[b] + pop.coupon_rate[b] * due[valid], due[valid])
    pop.coupon_expiry[b] = -1
    h = pop.coupon_habit[b]
    pop.coupon_habit[b] = h + cfg.dependence_rate * (1.0 - h)
    if cfg.dependence_rate > 0:
        model.coupon_habits = True
    model.day.coupons_redeemed += int(b.size)
    return off


def decay_habit(model: CommunityModel) -> None:
    cfg = model.scenario.incentives.coupons
    # also habit learned from birthday coupons and retention offers; nothing to fade before a first redemption
    if cfg.habit_decay > 0 and model.coupon_habits:
        habit, keep = model.pop.coupon_habit, np.float32(1.0 - cfg.habit_decay)

        def fade(rows: np.ndarray | slice) -> None:
            model.write_members(habit, rows, habit[rows] * keep)

        model.split_rows(fade, model.member_rows())


SPEC = Mechanism(
    name="coupons",
    section="incentives.coupons",
    phases=(("offers", issue_phase), ("status", decay_habit)),
    modifiers=modifiers,
    streams=("coupons",),
    lines=(("coupon_discounts", "incentives"),),  # booked at checkout (incentives.pricing),
    kpis=(
        KPI("coupons_issued", "flow", lambda m: m.day.coupons_issued, group="incentives"),
        KPI("coupons_redeemed", "flow", lambda m: m.day.coupons_redeemed, group="incentives"),
        KPI("coupon_redemption_rate", "stock", cumulative("coupons_redeemed", "coupons_issued"), group="incentives"),
    ),
    columns=(
        Column("coupon_value", np.float32, 0),  # yuan off of the coupon held
        Column("coupon_rate", np.float32, 0),  # share off of the coupon held
        Column("coupon_min", np.float32, 0),  # minimum basket of the coupon held
        Column("coupon_expiry", np.int32, -1),  # last valid day of the coupon held (-1 none)
        Column("coupon_habit", np.float32, 0),  #  in [0, 1], learned waiting for coupons
    ),
    uses=(
        "scenario",
        "pop",
        "day",
        "mods",
        "streams",
        "network",
        "rows",
        "segments",
        "coupon_habits",
        "n_churned",
        "treatment",
        "join_codes",
    ),
    targetable=tuple(
        f"incentives.coupons.{key}"
        for key in ("enabled", "target", "segments", "churn_risk_min", "lapsed_days", "kind", "value")
        + ("min_spend", "validity_days", "every_days", "reach", "fatigue_per_issue")
    ),
)

"""Points (积分): earning, redemption at purchase, expiry, switching cost and goal gradient.

Members earn ``per_yuan`` points per yuan paid (times their tier's multiplier),
``per_post`` per UGC post, ``per_referral`` per accepted referral and check-in
points. At a purchase, a balance at or above ``redeem_min`` is redeemed against
the basket, up to the amount still to pay. A balance expires when nothing was
earned for ``expiry_days``. In the ``expiry_warning_days`` before that, the member is
reminded: the log-odds of visiting rise by ``expiry_visit_weight * progress`` and
of buying by ``expiry_purchase_weight * progress`` (use it or lose it; a purchase
earns points and so keeps the balance). A lapsing balance costs the member
``expiry_satisfaction_loss * progress`` satisfaction (loss aversion). The
outstanding balance is a liability on the ledger (reported, booked as cost only
when redeemed).

An A/B test may give its treated members other earning rates (``per_yuan``,
``per_post``, ``per_referral``) and another ``value_per_point`` (``sim.core.treatment``).

Goal gradient (Kivetz, Urminsky & Zheng 2006): the log-odds of buying rise by
``strength * progress^2`` with progress = balance / redeem_min (capped at 1), and
fall by ``post_reward_drop`` for ``post_reward_days`` after a redemption.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.population import MEMBER
from sim.core.treatment import arms, per_person
from sim.engine.arrays import add_at
from sim.mechanisms.spec import KPI, Column, Mechanism, cumulative

if TYPE_CHECKING:
    from sim.core.daystate import Modifiers
    from sim.model import CommunityModel


def earn(model: CommunityModel, people: np.ndarray, amount: np.ndarray | float) -> None:
    """Credit points to ``people`` (no-op when the program is off)."""
    cfg = model.scenario.incentives.points
    if not cfg.enabled or people.size == 0:
        return
    pop = model.pop
    pts = np.broadcast_to(np.asarray(amount, dtype=np.float64), people.shape)
    if model.scenario.incentives.tiers.enabled:
        pts = pts * model.tiers.multiplier[pop.tier[people]]
    add_at(pop.points, people, pts)
    pop.points_last_earn[people] = model.day.day
    model.day.points_earned += float(pts.sum())


def rate(model: CommunityModel, people: np.ndarray, key: str) -> float | np.ndarray:
    """Points ``people`` earn per action ``key`` (``per_yuan``, ``per_post``, ``per_referral``): one number for
    all, or one each when an A/B test gives its treated arm another rate."""
    return per_person(model, people, lambda s: getattr(s.incentives.points, key))


def redeem(model: CommunityModel, buyers: np.ndarray, due: np.ndarray) -> np.ndarray:
    """Redeem eligible balances against ``due`` (yuan still to pay); returns the yuan covered."""
    cfg, pop, day = model.scenario.incentives.points, model.pop, model.day
    covered = np.zeros(buyers.size)
    value = per_person(model, buyers, lambda s: s.incentives.points.value_per_point)  # an A/B test may treat some
    if not cfg.enabled or np.all(value <= 0):
        return covered
    bal = pop.points[buyers]
    ok = bal >= max(cfg.redeem_min, 1e-9)
    if np.ndim(value):  # one value each: a buyer whose points are worth nothing redeems none
        ok &= value > 0
        covered[ok] = np.minimum(bal[ok] * value[ok], due[ok])
        used = np.divide(covered, value, out=np.zeros(buyers.size), where=ok)
    else:
        covered[ok] = np.minimum(bal[ok] * value, due[ok])
        used = covered / value
    pop.points[buyers] = bal - used
    pop.last_redeem[buyers[ok]] = day.day
    day.redemptions += int(ok.sum())
    day.points_redeemed += float(used.sum())
    return covered


def modifiers(model: CommunityModel, rows: np.ndarray | slice, acc: Modifiers) -> None:
    """Switching cost on churn and, if on, the goal gradient on purchases."""
    s, pop = model.scenario, model.pop
    cfg = s.incentives.points
    if not cfg.enabled or cfg.redeem_min <= 0:
        return
    # capped before dividing: the same numbers, without an overflow for a tiny redeem_min
    progress = (np.minimum(pop.points[rows], cfg.redeem_min) / cfg.redeem_min).astype(np.float32)
    acc.churn -= np.float32(s.churn.points_weight) * progress
    purchase = np.float32(s.purchase.points_weight) * (progress >= 1.0)
    gg = cfg.goal_gradient
    if gg.enabled:
        last = pop.last_redeem[rows]
        recent = (last >= 0) & (model.day.day - last < gg.post_reward_days)
        purchase += np.float32(gg.strength) * progress**2 - np.float32(gg.post_reward_drop) * recent
    if cfg.expiry_warning_days > 0 and (cfg.expiry_visit_weight or cfg.expiry_purchase_weight):
        idle = model.day.day - pop.points_last_earn[rows]
        warned = (pop.points[rows] > 0) & (idle > cfg.expiry_days - cfg.expiry_warning_days)
        if warned.any():
            at_stake = progress * warned
            acc.visit += np.float32(cfg.expiry_visit_weight) * at_stake
            purchase += np.float32(cfg.expiry_purchase_weight) * at_stake
    acc.purchase += purchase


def expire(model: CommunityModel) -> None:
    """Balances with no earning for ``expiry_days`` lapse."""
    cfg, pop = model.scenario.incentives.points, model.pop
    if not cfg.enabled:
        return
    stale = (pop.points > 0) & (model.day.day - pop.points_last_earn > cfg.expiry_days)
    model.day.points_expired += float(pop.points[stale].sum())
    if cfg.expiry_satisfaction_loss > 0 and cfg.redeem_min > 0:
        lost = np.flatnonzero(stale & (pop.status == MEMBER))
        at_stake = np.minimum(pop.points[lost], cfg.redeem_min) / cfg.redeem_min
        sat = pop.satisfaction[lost] - cfg.expiry_satisfaction_loss * at_stake
        pop.satisfaction[lost] = np.maximum(sat, 0.0)
    pop.points[stale] = 0.0


def liability(model: CommunityModel) -> float:
    """Yuan value of all outstanding points."""
    if not model.scenario.incentives.points.enabled:
        return 0.0
    everyone = arms(model, np.arange(model.pop.n))
    if len(everyone) == 1:
        return float(model.pop.points.sum() * model.scenario.incentives.points.value_per_point)
    return float(sum(model.pop.points[people].sum() * s.incentives.points.value_per_point for s, people in everyone))


SPEC = Mechanism(
    name="points",
    section="incentives.points",
    phases=(("status", expire),),
    modifiers=modifiers,
    lines=(("points_redemptions", "incentives"),),  # booked at checkout (incentives.pricing),
    kpis=(
        KPI("points_liability", "stock", liability, True, "incentives"),
        KPI("points_earned", "flow", lambda m: m.day.points_earned, group="incentives"),
        KPI("points_redeemed", "flow", lambda m: m.day.points_redeemed, group="incentives"),
        KPI("points_expired", "flow", lambda m: m.day.points_expired, group="incentives"),
        KPI("points_redemption_rate", "stock", cumulative("points_redeemed", "points_earned"), group="incentives"),
        KPI("redemptions", "flow", lambda m: m.day.redemptions, group="incentives"),
    ),
    columns=(
        Column("points", np.float64, 0),  # points balance
        Column("points_last_earn", np.int32, -1),  # day points were last earned (-1 never)
        Column("last_redeem", np.int32, -1),  # day of the last points redemption (-1 never)
    ),
    uses=("scenario", "pop", "day", "tiers", "treatment"),
    targetable=tuple(f"incentives.points.{key}" for key in ("per_yuan", "per_post", "per_referral", "value_per_point")),
)

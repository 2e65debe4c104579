"""Purchases by today's visitors, basket values, discounts, margin and experience.

A visitor of segment g buys with probability
  logistic(logit(b) + w_n (n_i - 1) + w_s (s_i - 0.5) + P_g + k_i L + w_d d r_g + M_i)
where n_i = 1 - exp(-(days since last purchase) / cycle_g) is the need to rebuy (1
if never bought), s satisfaction, P_g the purchase effect of the feed (its
promotional part scaled by 2 x price sensitivity), k_i whether a KOC post reached
the member (lift L), d the standing discount, r_g the segment's price
sensitivity and M_i the incentive modifiers (coupons, flash sales, points, goal
gradient); a member who has bought before adds w_q (q_t - q_0), the product quality
gained since the start (``sim.mechanisms.surveys``). The list basket is lognormal
with the segment's mean; discounts are settled by ``incentives.pricing``. The
experienced quality (q_t plus noise) pulls satisfaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.mathutil import logistic, logit, normal_quantile
from sim.engine.arrays import f32
from sim.mechanisms import koc, sentiment
from sim.mechanisms.content import feed_rows, per_feed_row
from sim.mechanisms.incentives import points, pricing, tiers
from sim.mechanisms.spec import KPI, Mechanism, counter

if TYPE_CHECKING:
    from sim.model import CommunityModel


def purchase_phase(model: CommunityModel) -> None:
    """Who of today's visitors buys, for how much, and what it does to them."""
    pop, day, s = model.pop, model.day, model.scenario
    cfg = s.purchase
    n = pop.n
    u_buy = model.streams.uniform("purchase", n)
    later = model.streams.packed("purchase", n)  # buyers' basket (turned normal) and quality numbers

    # float32 throughout, as in the visit decision; the per-segment terms are summed once per segment
    by_segment = f32(
        logit(cfg.base_prob)
        - cfg.need_weight
        - 0.5 * cfg.satisfaction_weight
        + day.eff_purchase
        + cfg.discount_weight * cfg.discount * per_feed_row(day, model.segments.price_sensitivity)
    )

    koc_lift = np.float32(koc.purchase_lift(s.koc))
    quality_lift = np.float32(cfg.quality_weight * model.product.gain)

    def buyers(v: np.ndarray) -> np.ndarray:
        seg = model.segments.index[v]
        last = pop.last_purchase[v]
        since = (day.day - last).astype(np.float32)
        need = np.where(last < 0, np.float32(1.0), 1.0 - np.exp(-since / np.take(model.segments.cycle_days, seg)))
        x = (
            np.take(by_segment, feed_rows(day, seg, v))
            + cfg.need_weight * need
            + cfg.satisfaction_weight * pop.satisfaction[v]
            + model.mods.purchase[v]
        )
        if koc_lift:
            x += koc_lift * day.koc_reached[v]
        if quality_lift:  # those who have bought know the product got better
            x += quality_lift * (last >= 0)
        return v[u_buy[v] < logistic(x)]

    b = np.concatenate(model.split_people(buyers, day.visitors))
    day.buyers_today = b
    day.buyers_list, day.buyers_paid = record_purchases(model, b, standard_normal(later(0, b)), later(1, b))


def standard_normal(u: np.ndarray) -> np.ndarray:
    """Standard normal deviates from uniforms on the 2^-21 grid of ``PackedUniforms``, by the inverse CDF.

    Shifting by half a step keeps the argument inside (0, 1), so no infinity ever comes out (|z| < 5.1).
    """
    return normal_quantile(u.astype(np.float64) + 2.0**-22)


def record_purchases(
    model: CommunityModel,
    buyers: np.ndarray,
    z: np.ndarray,
    u_quality: np.ndarray,
    discount: float = 0.0,
    line: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Book purchases of ``buyers`` with basket draws ``z``; returns their list values and what they paid.

    ``discount`` on ``line`` is an extra deal of the channel that caused the
    purchases (group buying), applied before the standard discounts.
    """
    pop, day, cfg = model.pop, model.day, model.scenario.purchase
    seg = pop.segment[buyers]
    sigma = model.segments.basket_sigma[seg]
    list_value = model.segments.basket_mean[seg] * np.exp(sigma * z - 0.5 * sigma**2)
    due = list_value * (1.0 - discount)
    if line is not None:
        model.ledger.book(line, float((list_value - due).sum()))
    paid = pricing.settle(model, buyers, due)
    fee = model.scenario.purchase.platform_fee_rate
    if fee > 0:
        model.ledger.book("platform_fees", fee * float(list_value.sum()))
    day.purchases += int(buyers.size)
    day.gmv += float(list_value.sum())
    day.gross_margin += float((list_value * cfg.gross_margin).sum())
    day.revenue += float(paid.sum())

    noise = cfg.quality_noise * np.sqrt(3.0) * (2.0 * u_quality - 1.0)  # uniform, sd = quality_noise
    experienced = np.clip(model.product.quality - sentiment.quality_penalty(model) + noise, 0.0, 1.0)
    s_b = pop.satisfaction[buyers]
    pop.satisfaction[buyers] = np.clip(s_b + model.scenario.satisfaction.product_rate * (experienced - s_b), 0.0, 1.0)
    pop.last_purchase[buyers] = day.day
    first = pop.purchases[buyers] == 0
    day.counts["repeat_purchases"] = day.counts.get("repeat_purchases", 0.0) + float(buyers.size - first.sum())
    pop.first_purchase[buyers[first]] = day.day
    pop.second_purchase[buyers[pop.purchases[buyers] == 1]] = day.day
    pop.purchases[buyers] += 1
    pop.spend[buyers] += paid
    points.earn(model, buyers, points.rate(model, buyers, "per_yuan") * paid)
    tiers.add_growth(model, buyers, paid)
    model.events.add(day.day, "purchase", buyers, amount=list_value, net=paid)
    return list_value, paid


SPEC = Mechanism(
    name="purchase",
    section="purchase",
    phases=(("purchases", purchase_phase),),
    streams=("purchase",),
    lines=(("price_discounts", "incentives"), ("platform_fees", "platform")),
    uses=(
        "scenario",
        "pop",
        "day",
        "mods",
        "streams",
        "ledger",
        "events",
        "rows",
        "segments",
        "tiers",
        "coupon_habits",
        "product",
        "treatment",
    ),
    kpis=(KPI("repeat_purchases", "flow", counter("repeat_purchases"), group="commerce"),),
    leaves=("buyers_today", "buyers_list", "buyers_paid"),
    takes=("visitors", "eff_purchase", "feed_arm", "koc_reached", "promotion_discount", "flash_sale"),
)

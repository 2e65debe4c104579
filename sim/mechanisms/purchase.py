"""Purchases by today's visitors, basket values, margin and points.

A visitor of segment g buys with probability
  logistic(logit(b) + w_n (n_i - 1) + w_s (s_i - 0.5) + P_g + k_i L + w_d d r_g + w_p [points_i >= min])
where n_i = 1 - exp(-(days since last purchase) / cycle_g) is the need to rebuy (1
if never bought), s satisfaction, P_g the purchase effect of the feed, k_i whether
a KOC post reached the member (lift L), d the standing discount and r_g the
segment's price sensitivity. The list basket is lognormal with the segment's
mean; the customer pays it less the discount. Experienced quality pulls
satisfaction up or down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mathutil import logistic, logit

if TYPE_CHECKING:
    from sim.model import CommunityModel


def purchase_phase(model: CommunityModel) -> None:
    """Who of today's visitors buys, for how much, and what it does to them."""
    pop, day, s = model.pop, model.day, model.scenario
    cfg, pts = s.purchase, s.points
    n = pop.n
    u_buy = model.streams.uniform("purchase", n)
    z_basket = model.streams["purchase"].standard_normal(n, dtype=np.float32)
    u_quality = model.streams.uniform("purchase", n)

    v = day.visitors
    seg = pop.segment[v]
    since = day.day - pop.last_purchase[v]
    need = np.where(pop.last_purchase[v] < 0, 1.0, 1.0 - np.exp(-since / model.cycle_days[seg]))
    x = (
        logit(cfg.base_prob)
        + cfg.need_weight * (need - 1.0)
        + cfg.satisfaction_weight * (pop.satisfaction[v] - 0.5)
        + day.eff_purchase[seg]
        + s.koc.purchase_lift * day.koc_reached[v]
        + cfg.discount_weight * cfg.discount * model.price_sensitivity[seg]
    )
    if pts.enabled:
        x = x + cfg.points_weight * (pop.points[v] >= pts.redeem_min)
    buy = u_buy[v] < logistic(x)
    b, bseg = v[buy], seg[buy]

    sigma = model.basket_sigma[bseg]
    list_value = model.basket_mean[bseg] * np.exp(sigma * z_basket[b] - 0.5 * sigma**2)
    paid = list_value * (1.0 - cfg.discount)
    margin = paid - list_value * (1.0 - cfg.gross_margin)
    day.purchases, day.gmv, day.gross_margin = int(b.size), float(paid.sum()), float(margin.sum())

    noise = cfg.quality_noise * np.sqrt(3.0) * (2.0 * u_quality[b] - 1.0)  # uniform, sd = quality_noise
    experienced = np.clip(cfg.product_quality + noise, 0.0, 1.0)
    s_b = pop.satisfaction[b]
    pop.satisfaction[b] = np.clip(s_b + s.satisfaction.product_rate * (experienced - s_b), 0.0, 1.0)
    pop.last_purchase[b] = day.day
    pop.purchases[b] += 1
    pop.spend[b] += paid
    if pts.enabled:
        _points(model, b, paid)
    model.events.add(day.day, "purchase", b, amount=paid)


def _points(model: CommunityModel, buyers: np.ndarray, paid: np.ndarray) -> None:
    """Redeem balances at or above the minimum on this purchase, then earn on it."""
    pop, pts = model.pop, model.scenario.points
    bal = pop.points[buyers]
    redeem = bal >= max(pts.redeem_min, 1e-12)
    value = np.minimum(bal[redeem] * pts.value_per_point, paid[redeem])
    model.ledger.book("points_redemptions", float(value.sum()))
    model.day.redemptions = int(redeem.sum())
    bal[redeem] = 0.0
    pop.points[buyers] = bal + pts.per_yuan * paid

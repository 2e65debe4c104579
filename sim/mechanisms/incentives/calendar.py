"""Scheduled incentives: flash sales (秒杀), lotteries (抽奖) and birthday benefits (生日福利).

Flash sale days (every ``every_days``) raise the log-odds of visiting by
``visit_weight`` and of buying by ``purchase_weight`` times coupon sensitivity;
the first ``stock`` orders of the day (in random order) get the sale discount,
and every visitor gains ``fatigue``. Lottery days raise visiting by
``visit_weight``; ``prizes`` winners are drawn among the day's visitors, each
prize costs ``prize_value`` and lifts the winner's satisfaction by
``winner_satisfaction``; both effects scale as
(prize_value / prize_reference)^prize_elasticity. On a member's birthday the brand
sends a gift (cost) that lifts satisfaction by ``satisfaction_bonus`` times
(gift_cost / gift_reference)^gift_elasticity, and a coupon.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.incentives import coupons
from sim.mechanisms.spec import Mechanism

if TYPE_CHECKING:
    from sim.config.incentives import BirthdayConfig, LotteryConfig
    from sim.model import CommunityModel


def _is_day(day: int, every: int) -> bool:
    return day % every == every - 1  # the first sale comes after one full period


def schedule(model: CommunityModel, mi: np.ndarray) -> None:
    """Mark today's scheduled events and their pull on visits and purchases."""
    inc, day, mods = model.scenario.incentives, model.day, model.mods
    day.flash_sale = inc.flash_sale.enabled and _is_day(day.day, inc.flash_sale.every_days)
    day.lottery = inc.lottery.enabled and _is_day(day.day, inc.lottery.every_days)
    if day.flash_sale:
        mods.visit[mi] += inc.flash_sale.visit_weight
        mods.purchase[mi] += inc.flash_sale.purchase_weight * model.segments.coupon_sensitivity[model.member_segments()]
    if day.lottery:
        mods.visit[mi] += inc.lottery.visit_weight * prize_factor(inc.lottery)
    bd = inc.birthday
    if bd.enabled:
        celebrating = mi[model.pop.birthday[mi] == day.day % 365]
        model.ledger.book("birthday_gifts", celebrating.size * bd.gift_cost)
        sat = model.pop.satisfaction
        sat[celebrating] = np.minimum(sat[celebrating] + bd.satisfaction_bonus * gift_factor(bd), 1.0)
        if bd.coupon_value > 0:
            coupons.give(model, celebrating, bd.coupon_value, 0.0, 0.0, bd.coupon_days)


def schedule_phase(model: CommunityModel) -> None:
    """The "offers" stage: mark sale and lottery days, birthday gifts and coupons."""
    schedule(model, model.member_index())


def after_visits(model: CommunityModel) -> None:
    """Flash-sale fatigue on visitors and the lottery draw."""
    inc, day, pop = model.scenario.incentives, model.day, model.pop
    v = day.visitors
    if day.flash_sale:
        pop.fatigue[v] = np.minimum(pop.fatigue[v] + inc.flash_sale.fatigue, 1.0)
    if day.lottery and v.size:
        keys = model.streams.uniform("lottery", pop.n)[v]
        k = min(inc.lottery.prizes, v.size)
        winners = v[np.argpartition(keys, k - 1)[:k]] if k else v[:0]
        model.ledger.book("lottery_prizes", winners.size * inc.lottery.prize_value)
        gain = inc.lottery.winner_satisfaction * prize_factor(inc.lottery)
        pop.satisfaction[winners] = np.minimum(pop.satisfaction[winners] + gain, 1.0)


def flash_discount(model: CommunityModel, buyers: np.ndarray, due: np.ndarray) -> np.ndarray:
    """Yuan off for the first ``stock`` flash-sale orders of the day."""
    off = np.zeros(buyers.size)
    cfg = model.scenario.incentives.flash_sale
    if not model.day.flash_sale or buyers.size == 0:
        return off
    keys = model.streams.uniform("flash_sale", model.pop.n)[buyers]
    k = min(cfg.stock, buyers.size)
    lucky = np.argsort(keys, kind="stable")[:k]
    off[lucky] = cfg.discount * due[lucky]
    return off


def prize_factor(cfg: LotteryConfig) -> float:
    """How a prize's value scales the draw's pull and a winner's joy: (value / reference)^elasticity."""
    return (cfg.prize_value / cfg.prize_reference) ** cfg.prize_elasticity


def gift_factor(cfg: BirthdayConfig) -> float:
    """How a gift's cost scales the birthday satisfaction: (cost / reference)^elasticity."""
    return (cfg.gift_cost / cfg.gift_reference) ** cfg.gift_elasticity


SPEC = Mechanism(
    name="incentive_calendar",
    section="incentives",  # flash_sale, lottery and birthday
    phases=(("offers", schedule_phase), ("after_visits", after_visits)),
    streams=("flash_sale", "lottery"),
    lines=(("flash_sale_discounts", "incentives"), ("lottery_prizes", "incentives"), ("birthday_gifts", "incentives")),
    uses=("scenario", "pop", "day", "mods", "streams", "ledger", "rows", "segments"),
    leaves=("flash_sale", "lottery"),
    takes=("visitors",),
)

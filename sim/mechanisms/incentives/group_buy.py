"""Group buying (拼团): a buyer opens a deal that needs ``group_size`` people.

A buyer opens a group with probability ``initiate_prob * 2 * price_sensitivity``
and invites ``invites`` random contacts. Each invited prospect or member (who has
not bought today) joins within the window with probability
1 - (1 - daily_accept_prob)^window_days. The group succeeds if at least
group_size - 1 accept (the first to accept fill it): everyone in it buys at the
group discount and prospects among them join the community with source
``group_buy``. A failed group costs its initiator satisfaction; the initiator's
own purchase stands at the normal price. Groups resolve on the day they open
(the window acts through the acceptance probability), and a person joins at most
one group a day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.membership import join
from sim.core.population import CHURNED, MEMBER
from sim.mechanisms.spec import KPI, Mechanism, cumulative

if TYPE_CHECKING:
    from sim.model import CommunityModel


def group_buy_phase(model: CommunityModel) -> None:
    cfg = model.scenario.incentives.group_buy
    if not cfg.enabled:
        return
    from sim.mechanisms.purchase import record_purchases

    pop, day, rng = model.pop, model.day, model.streams["group_buy"]
    buyers = day.buyers_today
    p_open = np.minimum(cfg.initiate_prob * 2.0 * model.segments.price_sensitivity[pop.segment[buyers]], 1.0)
    initiators = buyers[rng.random(buyers.size) < p_open]
    day.groups_opened = int(initiators.size)
    if initiators.size == 0:
        return
    k = cfg.invites
    inviter = np.repeat(initiators, k)
    target = model.network.random_neighbor(inviter, rng.random(inviter.size))
    p_accept = 1.0 - (1.0 - cfg.daily_accept_prob) ** cfg.window_days
    bought = np.zeros(pop.n, dtype=bool)
    bought[buyers] = True
    ok = (target >= 0) & (rng.random(inviter.size) < p_accept)
    ok &= target != inviter
    ok[ok] &= (pop.status[target[ok]] != CHURNED) & ~bought[target[ok]]
    # one group per person per day: the first group to reach someone keeps them
    slot = np.flatnonzero(ok)
    _, first = np.unique(target[slot], return_index=True)
    slot = np.sort(slot[first])
    group = slot // k  # index of the initiator
    rank = np.arange(slot.size) - np.searchsorted(group, group)  # order of acceptance within a group
    slot, group = slot[rank < cfg.group_size - 1], group[rank < cfg.group_size - 1]
    filled = np.bincount(group, minlength=initiators.size)
    success = filled >= cfg.group_size - 1
    day.groups_succeeded = int(success.sum())
    failed = initiators[~success]
    pop.satisfaction[failed] = np.maximum(pop.satisfaction[failed] - cfg.fail_penalty, 0.0)

    members_in = target[slot[success[group]]]
    joining = pop.status[members_in] != MEMBER  # friends who are members already buy, but do not join
    np.add.at(pop.invited, initiators[group[success[group]]][joining], 1)  # the initiators become advocates
    join(model, members_in, "group_buy")
    winners = initiators[success]
    where = np.searchsorted(day.buyers_today, winners)
    refund = np.minimum(cfg.discount * day.buyers_list[where], day.buyers_paid[where])  # never more than was paid
    model.ledger.book("group_buy_discounts", float(refund.sum()))
    pop.spend[winners] -= refund
    day.revenue -= float(refund.sum())
    z = rng.standard_normal(members_in.size)
    record_purchases(
        model, members_in, z, rng.random(members_in.size), discount=cfg.discount, line="group_buy_discounts"
    )


SPEC = Mechanism(
    name="group_buy",
    section="incentives.group_buy",
    phases=(("after_purchases", group_buy_phase),),
    streams=("group_buy",),
    lines=(("group_buy_discounts", "incentives"),),
    join_sources=("group_buy",),
    invited_sources=("group_buy",),
    kpis=(
        KPI("groups_opened", "flow", lambda m: m.day.groups_opened, group="incentives"),
        KPI("groups_succeeded", "flow", lambda m: m.day.groups_succeeded, group="incentives"),
        KPI("group_success_rate", "stock", cumulative("groups_succeeded", "groups_opened"), group="incentives"),
    ),
    uses=("membership", "streams", "segments", "tiers", "coupon_habits", "product", "treatment"),
    takes=("buyers_today", "buyers_list", "buyers_paid", "promotion_discount", "flash_sale"),
)

"""Offline-to-online (线下导流): the brand's stores invite their visitors into the community.

Each day about ``store_visitors_per_day`` people of the market (stochastically
rounded) visit a store and are invited, for instance by a QR code at checkout.
They are drawn uniformly from the whole market, since store customers need not
be in the community. Each invited visitor who is a prospect joins with
probability ``join_rate`` times the competitor factor (capped at 1); members
are already in, and people who left are won back only by the win-back channel.
Every invitation costs ``cost_per_visitor`` on the ledger line
``offline_traffic``, whether or not the visitor joins. As the market fills up,
fewer invited visitors are prospects, so the channel saturates by itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.mathutil import stochastic_round
from sim.core.membership import join
from sim.core.population import PROSPECT
from sim.mechanisms.spec import KPI, Mechanism, counter

if TYPE_CHECKING:
    from sim.model import CommunityModel


def offline_phase(model: CommunityModel) -> None:
    """Invite today's store visitors; the prospects among them join at the join rate."""
    cfg, pop = model.scenario.acquisition.offline, model.pop
    if cfg.store_visitors_per_day <= 0:
        return
    rng = model.streams["offline"]
    k = min(stochastic_round(cfg.store_visitors_per_day, float(rng.random())), pop.n)
    visitors = np.sort(rng.choice(pop.n, size=k, replace=False))
    rate = min(cfg.join_rate * model.policy.acquisition_factor, 1.0)
    joining = visitors[(rng.random(k) < rate) & (pop.status[visitors] == PROSPECT)]
    join(model, joining, "offline")
    model.day.counts["offline_visitors"] = float(k)
    model.ledger.book("offline_traffic", k * cfg.cost_per_visitor)


SPEC = Mechanism(
    name="offline",
    section="acquisition.offline",
    phases=(("joining", offline_phase),),
    streams=("offline",),
    lines=(("offline_traffic", "acquisition"),),
    join_sources=("offline",),
    kpis=(KPI("offline_visitors", "flow", counter("offline_visitors"), headline=True, group="community"),),
    uses=("membership", "streams", "policy"),
)

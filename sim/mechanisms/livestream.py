"""Livestreams (直播): scheduled shows with high conversion, and replays.

On a show day a ``notify_reach`` share of members is notified; a notified member
attends with probability ``attend_prob * e_i * 2 I_g`` (engagement e, the
segment's livestream interest I, capped at 1). Attending is a visit, and adds
``conversion_lift`` to the log-odds of buying that day. For ``replay_days`` after
a show, members who missed it watch the replay with probability ``replay_prob`` a
day (a visit, with ``replay_lift``). Each show costs ``host_cost``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config.base import CONTENT_TYPES
from sim.mechanisms.spec import KPI, Column, Mechanism

if TYPE_CHECKING:
    from sim.model import CommunityModel

LIVE = CONTENT_TYPES.index("livestream")


def show_today(model: CommunityModel) -> bool:
    cfg, d = model.scenario.livestream, model.day.day
    if not cfg.enabled:
        return False
    if cfg.schedule == "dates":
        return d in cfg.days
    return (model.scenario.start_date.toordinal() + d + 6) % 7 == cfg.weekday  # date.weekday(): Monday = 0


def livestream_phase(model: CommunityModel) -> None:
    """Who watches today's show or a replay, before the day's visits."""
    cfg, pop, day = model.scenario.livestream, model.pop, model.day
    if not cfg.enabled:
        return
    mi = model.member_index()
    if show_today(model):
        model.last_show = day.day
        model.ledger.book("livestream_hosts", cfg.host_cost)
        u = model.streams.uniform("livestream", pop.n)
        w = model.streams.uniform("livestream", pop.n)
        p = np.minimum(
            cfg.attend_prob * pop.engagement[mi] * 2.0 * model.segments.interests[model.member_segments(), LIVE], 1.0
        )
        attend = mi[(u[mi] < cfg.notify_reach) & (w[mi] < p)]
        pop.last_show_seen[attend] = day.day
        model.force_visit(attend)
        model.mods.purchase[attend] += cfg.conversion_lift
        day.live_viewers = attend
    elif model.last_show >= 0 and day.day - model.last_show <= cfg.replay_days:
        u = model.streams.uniform("livestream", pop.n)
        missed = mi[pop.last_show_seen[mi] < model.last_show]
        watch = missed[u[missed] < cfg.replay_prob]
        pop.last_show_seen[watch] = model.last_show
        model.force_visit(watch)
        model.mods.purchase[watch] += cfg.replay_lift
        day.replay_viewers = watch


def live_purchases(model: CommunityModel) -> int:
    """Purchase-phase buyers among today's live viewers (KPI ``live_purchases``)."""
    live = model.day.live_viewers
    return int(np.isin(model.day.buyers_today, live, assume_unique=True).sum()) if live.size else 0


SPEC = Mechanism(
    name="livestream",
    section="livestream",
    phases=(("outreach", livestream_phase),),
    streams=("livestream",),
    lines=(("livestream_hosts", "content"),),
    kpis=(
        KPI("live_viewers", "flow", lambda m: int(m.day.live_viewers.size)),
        KPI("replay_viewers", "flow", lambda m: int(m.day.replay_viewers.size)),
        KPI("live_purchases", "flow", live_purchases),
    ),
    columns=(
        Column("last_show_seen", np.int32, -1),  # day of the last livestream seen live or as replay (-1 never)
    ),
    uses=("scenario", "pop", "day", "mods", "streams", "ledger", "rows", "segments", "last_show", "force_visit"),
    leaves=("forced", "live_viewers"),
)

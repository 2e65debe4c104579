"""Today's feed and what it does to each segment.

The feed is the brand posts published today (PGC), the members' UGC posted
yesterday and the KOC posts of today. For content type t let c_t be its posts and
V the feed size. The exposure of type t is x_t = (c_t / V) (1 - exp(-V / V0)):
the mix, scaled by how full the feed is (V0 = ``saturation_posts``). A member of
segment g weighs each type by their interest I_gt, so an effect e (engagement,
trust, purchase, referral) acts as E_g = sum_t x_t I_gt e_t. Fatigue is not
weighted by interest: promotion tires everyone who sees it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config.base import CONTENT_TYPES

if TYPE_CHECKING:
    from sim.model import CommunityModel

EFFECTS = ("engagement", "trust", "purchase", "referral", "fatigue")
PROMO = CONTENT_TYPES.index("promotional")


def effect_table(model: CommunityModel) -> dict[str, np.ndarray]:
    """Per-type effect vectors from the scenario (computed once)."""
    eff = model.scenario.content.effects
    return {e: np.array([getattr(eff[t], e) for t in CONTENT_TYPES]) for e in EFFECTS}


def koc_phase(model: CommunityModel) -> None:
    """KOCs who are members post today; their contacts who are members are reached."""
    pop, cfg = model.pop, model.scenario.koc
    kocs = np.flatnonzero(pop.is_koc & (pop.status == 1))
    u = model.streams.uniform("koc", kocs.size)
    posting = kocs[u < cfg.post_prob]
    model.day.koc_posts = int(posting.size)
    reached = model.koc_reach
    reached[:] = 0
    model.network.count_into(posting, reached, +1)
    model.day.koc_reached = reached > 0
    model.ledger.book("koc_support", kocs.size * cfg.cost_per_day)


def content_phase(model: CommunityModel) -> None:
    """Exposure by type and its per-segment effects for today."""
    day, cfg = model.day, model.scenario.content
    counts = day.pgc_counts + model.ugc_yesterday
    koc_q = model.scenario.koc.quality
    volume = counts.sum() + day.koc_posts
    quality_sum = day.pgc_counts.sum() * cfg.quality + model.ugc_yesterday.sum() * cfg.ugc_quality
    quality_sum += day.koc_posts * koc_q
    quality = quality_sum / volume if volume > 0 else 0.0
    # KOC posts count as reviews in the mix
    counts = counts.copy()
    counts[CONTENT_TYPES.index("review")] += day.koc_posts
    fullness = 1.0 - np.exp(-volume / cfg.saturation_posts)
    x = counts / volume * fullness if volume > 0 else np.zeros_like(counts)
    interest = model.interests  # segments x types
    weighted = interest * x  # segments x types
    price = model.price_sensitivity[:, None]
    promo_scale = np.ones_like(weighted)
    promo_scale[:, PROMO] = 2.0 * price[:, 0]  # promotion moves bargain hunters most
    eff = model.effects
    day.match = (interest * (counts / volume if volume > 0 else 0.0)).sum(axis=1)
    day.appeal = quality * day.match * fullness
    day.eff_engagement = weighted @ eff["engagement"]
    day.eff_trust = weighted @ eff["trust"]
    day.eff_purchase = (weighted * promo_scale) @ eff["purchase"]
    day.eff_referral = weighted @ eff["referral"]
    day.eff_fatigue = np.full(interest.shape[0], x @ eff["fatigue"])
    day.trust_target = np.clip(0.3 + 0.5 * quality + day.eff_trust, 0.0, 1.0)

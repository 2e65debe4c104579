"""Today's feed and what it does to each segment.

The feed is the brand posts published today (PGC), the members' UGC posted
yesterday and the KOC posts of today (counted as reviews). For content type t let
c_t be its posts, m_t = c_t / V the mix and V the feed size. Peak-hour brand
posts reach further: the effective size is V' = V + P h (r - 1) with P the brand
posts, h their peak share and r the peak reach multiplier. The feed's fullness is
F = 1 - exp(-V' / V0) (V0 = ``saturation_posts``).

Personalization pi in [0, 1] tilts what a member of segment g sees toward their
interests I_gt: s_gt = (1 - pi) m_t + pi m_t I_gt / sum_u m_u I_gu, and the
exposure is x_gt = F s_gt. An effect e (engagement, trust, purchase, referral)
acts as E_g = sum_t x_gt I_gt e_t; the promotional part of the purchase effect is
scaled by 2 x price sensitivity. Fatigue is not weighted by interest: promotion
tires everyone who sees it. Appeal is A_g = q M_g F (+ the themed-column bonus),
with q the feed's mean quality and M_g = sum_t s_gt I_gt the interest match.
Beyond what the tilt does through exposure, matched recommendations convert:
personalization adds ``pi * personalization_purchase_lift`` to the log-odds of buying.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config.base import CONTENT_TYPES
from sim.mechanisms import koc
from sim.mechanisms.spec import KPI, Mechanism

if TYPE_CHECKING:
    from sim.model import CommunityModel

EFFECTS = ("engagement", "trust", "purchase", "referral", "fatigue")
PROMO = CONTENT_TYPES.index("promotional")
REVIEW = CONTENT_TYPES.index("review")


def effect_table(model: CommunityModel) -> dict[str, np.ndarray]:
    """Per-type effect vectors from the scenario (computed once)."""
    eff = model.scenario.content.effects
    return {e: np.array([getattr(eff[t], e) for t in CONTENT_TYPES]) for e in EFFECTS}


def content_phase(model: CommunityModel) -> None:
    """Exposure by type and its per-segment effects for today."""
    day, cfg = model.day, model.scenario.content
    ugc = model.ugc_yesterday
    counts = day.pgc_counts + ugc
    counts[REVIEW] += day.koc_posts
    volume = counts.sum()
    interest = model.segments.interests  # segments x types
    if volume <= 0:
        _empty_feed(model, interest.shape[0])
        return
    pgc = day.pgc_counts.sum()
    koc_quality = koc.post_quality(model.scenario.koc)  # raised by samples
    quality = (pgc * cfg.quality + ugc.sum() * cfg.ugc_quality + day.koc_posts * koc_quality) / volume
    reach = volume + pgc * cfg.peak_share * (cfg.peak_reach_multiplier - 1.0)
    fullness = 1.0 - np.exp(-reach / cfg.saturation_posts)
    mix = counts / volume
    tilted = mix * interest
    tilted /= np.maximum(tilted.sum(axis=1, keepdims=True), 1e-12)
    seen = (1.0 - cfg.personalization) * mix + cfg.personalization * tilted  # segments x types
    weighted = interest * seen * fullness
    promo_scale = np.ones_like(weighted)
    promo_scale[:, PROMO] = 2.0 * model.segments.price_sensitivity  # promotion moves bargain hunters most
    eff = model.effects
    day.match = (interest * seen).sum(axis=1)
    themed = cfg.themed_columns.appeal_bonus if cfg.themed_columns.enabled else 0.0
    day.appeal = quality * day.match * fullness + themed
    day.eff_engagement = weighted @ eff["engagement"]
    day.eff_trust = weighted @ eff["trust"]
    day.eff_purchase = (weighted * promo_scale) @ eff[
        "purchase"
    ] + cfg.personalization_purchase_lift * cfg.personalization
    day.eff_referral = weighted @ eff["referral"]
    day.eff_fatigue = np.full(interest.shape[0], fullness * mix @ eff["fatigue"])
    day.trust_target = np.clip(0.3 + 0.5 * quality + day.eff_trust, 0.0, 1.0)
    day.ugc_share = float((ugc.sum() + day.koc_posts) / volume)


def _empty_feed(model: CommunityModel, n_segments: int) -> None:
    day = model.day
    zero = np.zeros(n_segments)
    day.match = day.appeal = day.eff_engagement = day.eff_trust = zero
    day.eff_purchase = day.eff_referral = day.eff_fatigue = zero
    day.trust_target = np.full(n_segments, 0.3)
    day.ugc_share = 0.0


SPEC = Mechanism(
    name="content",
    section="content",
    phases=(("feed", content_phase),),
    kpis=(KPI("ugc_share", "stock", lambda m: m.day.ugc_share),),
    uses=("scenario", "day", "segments", "effects", "ugc_yesterday"),
    leaves=(
        "appeal",
        "match",
        "eff_engagement",
        "eff_trust",
        "eff_purchase",
        "eff_referral",
        "eff_fatigue",
        "trust_target",
        "ugc_share",
    ),
    takes=("pgc_counts", "koc_posts"),
)

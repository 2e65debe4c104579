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

An A/B test may give its treated arm another personalization or peak reach (``LEVERS``): the
tables then hold a block of segments per arm, and ``feed_rows`` gives each person's row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config.base import CONTENT_TYPES
from sim.core.treatment import arm_values
from sim.mechanisms import koc
from sim.mechanisms.spec import KPI, Mechanism

if TYPE_CHECKING:
    from sim.core.daystate import DayState
    from sim.model import CommunityModel

EFFECTS = ("engagement", "trust", "purchase", "referral", "fatigue")
PROMO = CONTENT_TYPES.index("promotional")
REVIEW = CONTENT_TYPES.index("review")


def effect_table(model: CommunityModel) -> dict[str, np.ndarray]:
    """Per-type effect vectors from the scenario (computed once)."""
    eff = model.scenario.content.effects
    return {e: np.array([getattr(eff[t], e) for t in CONTENT_TYPES]) for e in EFFECTS}


#: The feed's keys an A/B test may give its treated arm only: personalization and the reach of brand posts
#: (their exposure). Every other key of the content plan is the community's, one value for all.
LEVERS = ("personalization", "peak_share", "peak_reach_multiplier")


#: The day's per-segment tables of the feed (``DayState`` fields), one row per segment (per arm's segment).
FEED_TABLES = (
    "match",
    "appeal",
    "eff_engagement",
    "eff_trust",
    "eff_purchase",
    "eff_referral",
    "eff_fatigue",
    "trust_target",
)


def _levers(scenario) -> tuple[float, ...]:
    return tuple(getattr(scenario.content, key) for key in LEVERS)


def content_phase(model: CommunityModel) -> None:
    """Exposure by type and its per-segment effects for today.

    When an A/B test's arms differ in ``LEVERS``, the tables hold the control arm's segments, then
    the treated arm's, and ``day.feed_arm`` shifts a treated person's row by the number of segments
    (``feed_rows``); otherwise one row per segment, as without a test.
    """
    day = model.day
    ugc = model.ugc_yesterday
    counts = day.pgc_counts + ugc
    counts[REVIEW] += day.koc_posts
    volume = counts.sum()
    interest = model.segments.interests  # segments x types
    if volume <= 0:
        _empty_feed(model, interest.shape[0])
        return
    values, treated = arm_values(model, _levers)
    tables = [_feed_tables(model, counts, volume, *v) for v in values]
    for name in FEED_TABLES:
        setattr(day, name, tables[0][name] if len(tables) == 1 else np.concatenate([t[name] for t in tables]))
    if treated is not None:
        day.feed_arm = np.where(treated, interest.shape[0], 0)
    day.ugc_share = float((ugc.sum() + day.koc_posts) / volume)


def _feed_tables(
    model: CommunityModel,
    counts: np.ndarray,
    volume: float,
    personalization: float,
    peak_share: float,
    peak_reach_multiplier: float,
) -> dict[str, np.ndarray]:
    """The per-segment tables of a feed of ``counts`` posts seen with these ``LEVERS`` values."""
    day, cfg = model.day, model.scenario.content
    ugc = model.ugc_yesterday
    interest = model.segments.interests  # segments x types
    pgc = day.pgc_counts.sum()
    koc_quality = koc.post_quality(model.scenario.koc)  # raised by samples
    quality = (pgc * cfg.quality + ugc.sum() * cfg.ugc_quality + day.koc_posts * koc_quality) / volume
    reach = volume + pgc * peak_share * (peak_reach_multiplier - 1.0)
    fullness = 1.0 - np.exp(-reach / cfg.saturation_posts)
    mix = counts / volume
    tilted = mix * interest
    tilted /= np.maximum(tilted.sum(axis=1, keepdims=True), 1e-12)
    seen = (1.0 - personalization) * mix + personalization * tilted  # segments x types
    weighted = interest * seen * fullness
    promo_scale = np.ones_like(weighted)
    promo_scale[:, PROMO] = 2.0 * model.segments.price_sensitivity  # promotion moves bargain hunters most
    eff = model.effects
    match = (interest * seen).sum(axis=1)
    themed = cfg.themed_columns.appeal_bonus if cfg.themed_columns.enabled else 0.0
    eff_trust = weighted @ eff["trust"]
    return {
        "match": match,
        "appeal": quality * match * fullness + themed,
        "eff_engagement": weighted @ eff["engagement"],
        "eff_trust": eff_trust,
        "eff_purchase": (weighted * promo_scale) @ eff["purchase"]
        + cfg.personalization_purchase_lift * personalization,
        "eff_referral": weighted @ eff["referral"],
        "eff_fatigue": np.full(interest.shape[0], fullness * mix @ eff["fatigue"]),
        "trust_target": np.clip(0.3 + 0.5 * quality + eff_trust, 0.0, 1.0),
    }


def feed_rows(day: DayState, segments: np.ndarray, people: np.ndarray | slice) -> np.ndarray:
    """The rows of today's feed tables for ``people`` of segment codes ``segments``: the segments themselves,
    shifted into the treated arm's block for its members when an A/B test's arms see different feeds."""
    return segments if day.feed_arm is None else segments + day.feed_arm[people]


def per_feed_row(day: DayState, table: np.ndarray) -> np.ndarray:
    """A per-segment ``table`` laid out as today's feed tables (repeated for each arm's block)."""
    return table if day.feed_arm is None else np.tile(table, 2)


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
    uses=("scenario", "day", "segments", "effects", "ugc_yesterday", "treatment"),
    leaves=(*FEED_TABLES, "ugc_share", "feed_arm"),
    takes=("pgc_counts", "koc_posts"),
    targetable=tuple(f"content.{key}" for key in LEVERS),
)

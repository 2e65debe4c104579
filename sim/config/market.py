"""Scenario sections of the market: the network, the segments, and the market as a whole."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator

from sim.config.base import CONTENT_TYPES, Section


def type_table(values: dict[str, float], what: str) -> dict[str, float]:
    """Reject content types that do not exist."""
    unknown = sorted(set(values) - set(CONTENT_TYPES))
    if unknown:
        raise ValueError(f"unknown content type(s) {unknown} in {what}; known: {list(CONTENT_TYPES)}")
    return values


class NetworkConfig(Section):
    """The social network among people in the addressable market."""

    kind: Literal["random", "small_world", "scale_free", "complete"] = Field(
        "scale_free",
        description="Generator: random (Erdős–Rényi), small_world (Watts–Strogatz), "
        "scale_free (power-law degrees with triadic closure, Holme–Kim-like) or complete (mean field).",
    )
    mean_degree: float = Field(
        10.0, ge=1.0, le=500.0, description="Mean number of contacts per person (ignored by complete)."
    )
    rewire_prob: float = Field(
        0.1, ge=0.0, le=1.0, description="small_world: probability that a lattice edge is rewired."
    )
    degree_exponent: float = Field(
        2.5, gt=2.0, le=4.0, description="scale_free: exponent of the power-law degree distribution."
    )
    clustering: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="scale_free: probability that a person closes a triangle between two of their contacts.",
    )


class Segment(Section):
    """A group of people with their own activity, tastes, price sensitivity and basket."""

    name: str = Field(description="Segment name, unique within the scenario.", min_length=1)
    share: float = Field(ge=0.0, le=1.0, description="Share of the market in this segment; shares sum to 1.")
    activity: float = Field(1.0, gt=0.0, le=10.0, description="Multiplier on the odds of visiting on a given day.")
    price_sensitivity: float = Field(
        0.5, ge=0.0, le=1.0, description="How strongly promotions and discounts move purchases (0 = not at all)."
    )
    basket_mean: float = Field(120.0, gt=0.0, le=1e6, description="Mean basket value in yuan (lognormal).")
    basket_sigma: float = Field(0.5, ge=0.0, le=3.0, description="Log-scale standard deviation of the basket value.")
    purchase_cycle_days: float = Field(
        30.0, gt=0.0, le=3650.0, description="Days for the need to rebuy to grow to 63% after a purchase."
    )
    coupon_sensitivity: float = Field(
        1.0, ge=0.0, le=10.0, description="Multiplier on the effect of coupons and flash sales (bargain hunters: high)."
    )
    status_sensitivity: float = Field(
        1.0, ge=0.0, le=10.0, description="Multiplier on the effect of tiers and badges (enthusiasts: high)."
    )
    interests: dict[str, float] = Field(
        default_factory=lambda: {t: 0.5 for t in CONTENT_TYPES},
        description="Interest in each content type, 0 to 1; missing types count as 0.",
    )

    @field_validator("interests")
    @classmethod
    def _check_interests(cls, v: dict[str, float]) -> dict[str, float]:
        type_table(v, "interests")
        bad = {k: x for k, x in v.items() if not 0.0 <= x <= 1.0}
        if bad:
            raise ValueError(f"interests must be between 0 and 1, got {bad}")
        return v


def _default_segments() -> list[Segment]:
    return [
        Segment(
            name="newcomer",
            coupon_sensitivity=1.0,
            status_sensitivity=0.8,
            share=0.45,
            activity=0.8,
            price_sensitivity=0.5,
            basket_mean=100.0,
            purchase_cycle_days=45.0,
            interests={
                "educational": 0.8,
                "review": 0.6,
                "entertainment": 0.5,
                "interactive": 0.4,
                "promotional": 0.4,
                "livestream": 0.4,
            },
        ),
        Segment(
            name="enthusiast",
            coupon_sensitivity=0.6,
            status_sensitivity=1.8,
            share=0.2,
            activity=1.6,
            price_sensitivity=0.3,
            basket_mean=160.0,
            purchase_cycle_days=25.0,
            interests={
                "educational": 0.6,
                "review": 0.8,
                "entertainment": 0.7,
                "interactive": 0.9,
                "promotional": 0.3,
                "livestream": 0.7,
            },
        ),
        Segment(
            name="expert",
            coupon_sensitivity=0.5,
            status_sensitivity=1.5,
            share=0.1,
            activity=1.3,
            price_sensitivity=0.2,
            basket_mean=220.0,
            purchase_cycle_days=30.0,
            interests={
                "educational": 0.9,
                "review": 0.9,
                "entertainment": 0.3,
                "interactive": 0.6,
                "promotional": 0.2,
                "livestream": 0.4,
            },
        ),
        Segment(
            name="bargain_hunter",
            coupon_sensitivity=2.0,
            status_sensitivity=0.5,
            share=0.25,
            activity=1.0,
            price_sensitivity=0.9,
            basket_mean=80.0,
            purchase_cycle_days=35.0,
            interests={
                "educational": 0.3,
                "review": 0.5,
                "entertainment": 0.5,
                "interactive": 0.4,
                "promotional": 0.9,
                "livestream": 0.8,
            },
        ),
    ]


class MarketConfig(Section):
    """The addressable market: who could join, and how they are connected."""

    size: int = Field(100_000, ge=10, le=50_000_000, description="Number of people in the addressable market.")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="Social network generator.")
    segments: list[Segment] = Field(
        default_factory=_default_segments, min_length=1, description="Segments of the market."
    )

    @field_validator("segments")
    @classmethod
    def _check_segments(cls, v: list[Segment]) -> list[Segment]:
        names = [s.name for s in v]
        if len(set(names)) != len(names):
            raise ValueError(f"segment names must be unique, got {names}")
        total = math.fsum(s.share for s in v)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"segment shares must sum to 1, they sum to {total:.6g}")
        return v

"""Scenario sections of joining: initial members, paid and organic acquisition, win-back and store visitors."""

from __future__ import annotations

from pydantic import Field

from sim.config.base import Section


class PaidAcquisition(Section):
    """Paid acquisition: a daily budget buys members at a cost per acquisition."""

    daily_budget: float = Field(1000.0, ge=0.0, le=1e9, description="Yuan spent on paid acquisition per day.")
    cac: float = Field(
        40.0, gt=0.0, le=1e6, description="Cost per acquired member (yuan) while the market is untouched."
    )
    max_cac: float | None = Field(
        100.0,
        gt=0.0,
        le=1e7,
        description="The channel stops buying on days when the saturated CAC exceeds this (yuan): a buyer does not pay "
        "more for a member than a member is worth. Null: buy at any CAC.",
    )
    saturation_elasticity: float = Field(
        0.5,
        ge=0.0,
        le=5.0,
        description="CAC grows as (market / prospects left) to this power: the last prospects are dearest.",
    )


class OrganicAcquisition(Section):
    """Organic word of mouth as in the Bass model, on the social network."""

    p: float = Field(
        0.03,
        ge=0.0,
        le=50.0,
        description="Bass innovation coefficient per year (Sultan, Farley & Lehmann 1990 mean: 0.03).",
    )
    q: float = Field(
        0.38,
        ge=0.0,
        le=100.0,
        description="Bass imitation coefficient per year, times the share of a person's contacts "
        "who are members (mean: 0.38).",
    )


class OfflineTraffic(Section):
    """Offline-to-online (线下导流): store visitors invited into the community at checkout."""

    store_visitors_per_day: float = Field(
        0.0,
        ge=0.0,
        le=1e7,
        description="People from the market invited in the brand's stores each day (QR code, staff invitation); "
        "0 turns the channel off. A strategy lever: set it from your stores' daily traffic.",
    )
    join_rate: float = Field(
        0.08,
        ge=0.0,
        le=1.0,
        description="Share of invited store visitors who are not yet members and join. Assumption (operators report "
        "roughly 5-15% for QR-code adds at checkout); calibrate it to your stores.",
    )
    cost_per_visitor: float = Field(
        1.0,
        ge=0.0,
        le=1e4,
        description="Yuan per invited store visitor (printed material, staff incentive per invitation), "
        "booked on the ledger line offline_traffic whether or not the visitor joins.",
    )


class AcquisitionConfig(Section):
    """How people join: initial members, paid, organic, win-back and store visitors."""

    initial_members: int = Field(
        1000, ge=0, le=50_000_000, description="Members on day 0, drawn at random from the market."
    )
    paid: PaidAcquisition = Field(default_factory=PaidAcquisition, description="Paid acquisition.")
    organic: OrganicAcquisition = Field(default_factory=OrganicAcquisition, description="Organic word of mouth (Bass).")
    winback_prob: float = Field(
        0.0, ge=0.0, le=1.0, description="Daily probability that a churned person rejoins (win-back)."
    )
    winback_cost: float = Field(0.0, ge=0.0, le=1e6, description="Cost per won-back member (yuan).")
    offline: OfflineTraffic = Field(
        default_factory=OfflineTraffic, description="Offline-to-online: store visitors invited into the community."
    )

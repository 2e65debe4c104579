"""Scenario sections of joining: initial members, paid and organic acquisition, win-back, store visitors, and
prospects' awareness of the community."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from sim.config.base import Section


class PaidAcquisition(Section):
    """Paid acquisition: a daily budget buys members at a cost per acquisition."""

    daily_budget: float = Field(1000.0, ge=0.0, le=1e9, description="Yuan spent on paid acquisition per day.")
    cac: float = Field(
        40.0,
        gt=0.0,
        le=1e6,
        description="Cost per acquired member (yuan) while the market is untouched: nobody has joined yet and "
        "prospects' awareness is at its day-0 shares.",
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
    funnel_elasticity: float = Field(
        1.0,
        ge=0.0,
        le=5.0,
        description="CAC grows as (prospects' readiness on day 0 / today's) to this power, readiness being their "
        "mean join weight (awareness): an ad platform charging per member prices in the impressions it takes. "
        "0: the CAC ignores awareness.",
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


class CohortJoins(Section):
    """A cohort whose joins are given day by day, e.g. the first purchases of a transaction log."""

    joins: list[int] = Field(
        default_factory=list,
        max_length=3650,
        description="People who join on each day: entry i is run day i (join source cohort), drawn at random among "
        "the prospects. Empty: no cohort. `community-sim calibrate` fills it from the first "
        "purchases of a transaction log given as observed data.",
    )
    first_purchase: bool = Field(
        False,
        description="Joining is the first purchase, as in transaction data: each cohort joiner buys on the day they "
        "join (a purchase of their segment's basket), so their need to buy again starts from zero that day.",
    )

    @field_validator("joins")
    @classmethod
    def _counts(cls, joins: list[int]) -> list[int]:
        bad = next((i for i, k in enumerate(joins) if not 0 <= k <= 50_000_000), None)
        if bad is not None:
            raise ValueError(f"joins[{bad}] is {joins[bad]}: a day's joins must be 0 to 50,000,000")
        return joins


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
    cohort: CohortJoins = Field(default_factory=CohortJoins, description="Joins given day by day (a cohort).")


class ForwardingConfig(Section):
    """Members forwarding what they see in the feed to a contact outside the community."""

    brand_prob: float = Field(
        0.002,
        ge=0.0,
        le=1.0,
        description="Chance that a visiting member forwards a brand post (PGC) they view to a random contact "
        "(assumption: a few percent of readers share an article they open; a post scrolled past in a feed far less).",
    )
    ugc_uplift: float = Field(
        0.35,
        ge=0.0,
        le=20.0,
        description="How much more often a view of user content (members' UGC, KOC posts) is forwarded than a view "
        "of a brand post: UGC's chance is brand_prob x (1 + ugc_uplift). Reports: UGC is forwarded 35% more than "
        "brand content.",
    )


class AwarenessConfig(Section):
    """Prospects' awareness of the community (unaware, aware, considering): only the aware and considering join
    by the organic and paid channels."""

    enabled: bool = Field(
        True,
        description="Track awareness. Off: every prospect joins as one of weight 1 (organic joins at the Bass rate, "
        "paid joins from any prospect at the CAC) and nobody forwards: the model without the funnel.",
    )
    initial_aware: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="Share of the market aware of the community on day 0, not yet considering it (assumption; with "
        "initial_considering it puts the mean join weight of the untouched market at 1, the Bass rate).",
    )
    initial_considering: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="Share of the market considering joining on day 0 (assumption, see initial_aware); "
        "initial_aware + initial_considering is at most 1.",
    )
    word_of_mouth: float = Field(
        0.003,
        ge=0.0,
        le=1.0,
        description="Daily chance that one member contact tells a prospect about the community (an exposure): a "
        "prospect with k member contacts is exposed at rate k x this (calibrated: the baseline's joins within about "
        "10% of the model without awareness, +11% at 20,000 people, -6% at 100,000).",
    )
    content_reach: float = Field(
        0.001,
        ge=0.0,
        le=1.0,
        description="Share of the market outside the community that one brand post reaches as an exposure (public "
        "posts, recommendation feeds); calibrated like word_of_mouth.",
    )
    cpm: float = Field(
        40.0,
        gt=0.0,
        le=1e5,
        description="Yuan per thousand paid impressions: what the paid channel spends buys spend x 1000 / cpm "
        "impressions spread over the market (assumption, within the tens of yuan social ad platforms charge).",
    )
    ad_recall: float = Field(
        0.001,
        ge=0.0,
        le=1.0,
        description="Share of paid impressions that move a prospect a stage (an exposure). Low: paid ads mostly "
        "convert those already considering (Blake, Nosko & Tadelis 2015); calibrated like word_of_mouth.",
    )
    forgetting: float = Field(
        0.01,
        ge=0.0,
        le=1.0,
        description="Daily chance that an aware or considering prospect exposed to nothing that day falls back one "
        "stage: half-life 69 days, 90% gone in 7.5 months (advertising effects fade within 3-9 months, Clarke 1976).",
    )
    aware_weight: float = Field(
        1.0,
        ge=0.0,
        le=100.0,
        description="How fast an aware prospect joins: multiplies the Bass rate (organic) and weighs whom the paid "
        "channel converts. Unaware prospects have weight 0 (assumption).",
    )
    considering_weight: float = Field(
        3.0,
        ge=0.0,
        le=100.0,
        description="How fast a considering prospect joins, as aware_weight (assumption: three times an aware one).",
    )
    forwarding: ForwardingConfig = Field(
        default_factory=ForwardingConfig, description="Members forwarding posts to contacts outside."
    )

    @model_validator(mode="after")
    def _shares(self) -> AwarenessConfig:
        total = self.initial_aware + self.initial_considering
        if total > 1.0 + 1e-9:
            raise ValueError(f"initial_aware + initial_considering must be at most 1, they are {total:.6g}")
        return self

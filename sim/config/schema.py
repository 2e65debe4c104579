"""The scenario schema: every knob of the model, its type, range, default and meaning.

Defaults are the baseline community (see docs/model.md for their sources). Field
descriptions are the text of docs/scenario-reference.md, generated from this file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.config.base import CONTENT_TYPES, Section
from sim.config.incentives import IncentivesConfig


def _type_table(values: dict[str, float], what: str) -> dict[str, float]:
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
        _type_table(v, "interests")
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
        total = sum(s.share for s in v)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"segment shares must sum to 1, they sum to {total:.6g}")
        return v


class PaidAcquisition(Section):
    """Paid acquisition: a daily budget buys members at a cost per acquisition."""

    daily_budget: float = Field(1000.0, ge=0.0, le=1e9, description="Yuan spent on paid acquisition per day.")
    cac: float = Field(
        40.0, gt=0.0, le=1e6, description="Cost per acquired member (yuan) while the market is untouched."
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


class AcquisitionConfig(Section):
    """How people join: initial members, paid, organic, and win-back."""

    initial_members: int = Field(
        1000, ge=0, le=50_000_000, description="Members on day 0, drawn at random from the market."
    )
    paid: PaidAcquisition = Field(default_factory=PaidAcquisition, description="Paid acquisition.")
    organic: OrganicAcquisition = Field(default_factory=OrganicAcquisition, description="Organic word of mouth (Bass).")
    winback_prob: float = Field(
        0.0, ge=0.0, le=1.0, description="Daily probability that a churned person rejoins (win-back)."
    )
    winback_cost: float = Field(0.0, ge=0.0, le=1e6, description="Cost per won-back member (yuan).")


class ContentEffect(Section):
    """How one post of a content type acts on the members who see it."""

    engagement: float = Field(ge=-1.0, le=1.0, description="Push on engagement.")
    trust: float = Field(ge=-1.0, le=1.0, description="Push on satisfaction / trust.")
    purchase: float = Field(
        ge=-5.0, le=5.0, description="Log-odds lift of buying that day, per unit of exposure share."
    )
    referral: float = Field(
        ge=-5.0, le=5.0, description="Log-odds lift of inviting a friend that day, per unit of exposure share."
    )
    fatigue: float = Field(ge=0.0, le=1.0, description="Fatigue added per unit of exposure share.")


def _default_effects() -> dict[str, ContentEffect]:
    table = {
        #               engagement trust purchase referral fatigue
        "educational": (0.6, 0.5, 0.3, 0.3, 0.02),
        "review": (0.5, 0.6, 0.9, 0.4, 0.03),
        "entertainment": (0.8, 0.2, 0.1, 0.6, 0.02),
        "interactive": (1.0, 0.4, 0.2, 0.8, 0.03),
        "promotional": (0.1, -0.1, 1.5, 0.3, 0.30),
        "livestream": (0.7, 0.3, 2.0, 0.4, 0.10),
    }
    return {
        k: ContentEffect(engagement=a, trust=b, purchase=c, referral=d, fatigue=e)
        for k, (a, b, c, d, e) in table.items()
    }


class ContentConfig(Section):
    """The content plan: how much brand content (PGC) is posted, of which types and quality."""

    posts_per_day: float = Field(
        6.0,
        ge=0.0,
        le=10_000.0,
        description="Brand posts (PGC) planned per day; operators publish up to their capacity.",
    )
    mix: dict[str, float] = Field(
        default_factory=lambda: {
            "educational": 0.25,
            "review": 0.2,
            "entertainment": 0.2,
            "interactive": 0.15,
            "promotional": 0.15,
            "livestream": 0.05,
        },
        description="Share of brand posts by content type; must sum to 1.",
    )
    quality: float = Field(0.7, ge=0.0, le=1.0, description="Quality of brand posts, 0 to 1.")
    cost_per_post: float = Field(80.0, ge=0.0, le=1e7, description="Production cost of one brand post (yuan).")
    saturation_posts: float = Field(
        8.0, gt=0.0, le=1e5, description="Feed size (posts a day) at which appeal reaches 63% of its maximum."
    )
    member_ugc_prob: float = Field(
        0.02,
        ge=0.0,
        le=1.0,
        description="Probability that a fully engaged visiting member posts UGC that day (scaled by engagement).",
    )
    ugc_quality: float = Field(0.6, ge=0.0, le=1.0, description="Quality of members' UGC posts, 0 to 1.")
    ugc_type_mix: dict[str, float] = Field(
        default_factory=lambda: {"review": 0.5, "entertainment": 0.3, "interactive": 0.2},
        description="Share of UGC posts by content type; must sum to 1.",
    )
    effects: dict[str, ContentEffect] = Field(
        default_factory=_default_effects,
        description="Effect of each content type (see docs/model.md); values given are laid over the default table.",
    )

    @field_validator("mix", "ugc_type_mix")
    @classmethod
    def _check_mix(cls, v: dict[str, float]) -> dict[str, float]:
        _type_table(v, "a content mix")
        if any(x < 0 for x in v.values()):
            raise ValueError("content shares must not be negative")
        total = sum(v.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"content shares must sum to 1, they sum to {total:.6g} (rejected rather than "
                "silently rescaled, so the plan you run is the plan you wrote)"
            )
        return v

    @field_validator("effects", mode="before")
    @classmethod
    def _merge_effects(cls, v: object) -> object:
        """Values given for some types or fields are laid over the default table."""
        if not isinstance(v, dict):
            return v
        table = {t: e.model_dump() for t, e in _default_effects().items()}
        for t, fields in v.items():
            if isinstance(fields, ContentEffect):
                fields = fields.model_dump()
            table[t] = {**table.get(t, {}), **fields} if isinstance(fields, dict) else fields
        return table

    @field_validator("effects")
    @classmethod
    def _check_effects(cls, v: dict[str, ContentEffect]) -> dict[str, ContentEffect]:
        _type_table(v, "effects")
        missing = sorted(set(CONTENT_TYPES) - set(v))
        if missing:
            raise ValueError(f"effects must cover every content type; missing {missing}")
        return v


class EngagementConfig(Section):
    """Daily visits, interactions, questions, engagement and fatigue."""

    base_visit_prob: float = Field(
        0.06,
        gt=0.0,
        lt=1.0,
        description="Visit probability of an average member with zero engagement and neutral content.",
    )
    engagement_weight: float = Field(3.0, ge=0.0, le=20.0, description="Log-odds of visiting per unit of engagement.")
    appeal_weight: float = Field(1.5, ge=0.0, le=20.0, description="Log-odds of visiting per unit of content appeal.")
    fatigue_weight: float = Field(2.5, ge=0.0, le=20.0, description="Log-odds lost per unit of fatigue.")
    learning_rate: float = Field(
        0.08,
        gt=0.0,
        le=1.0,
        description="Speed at which engagement follows the day's experience (exponential smoothing).",
    )
    interaction_prob: float = Field(
        0.35, ge=0.0, le=1.0, description="Chance that a visit includes an interaction, at full interest match."
    )
    question_prob: float = Field(
        0.04, ge=0.0, le=1.0, description="Chance that a visit includes a question for the operators."
    )
    fatigue_recovery: float = Field(0.08, ge=0.0, le=1.0, description="Share of fatigue that wears off each day.")
    inactive_decay: float = Field(
        0.01, ge=0.0, le=1.0, description="Share of engagement lost on a day without a visit."
    )
    interaction_value: float = Field(
        0.3, ge=0.0, le=1.0, description="Extra stimulus to engagement from interacting during a visit."
    )
    initial_engagement: float = Field(0.4, ge=0.0, le=1.0, description="Mean engagement of a new member.")


class PurchaseConfig(Section):
    """Purchases by visiting members and the merchandise economics."""

    base_prob: float = Field(
        0.025,
        gt=0.0,
        lt=1.0,
        description="Purchase probability of a visiting member at full need and neutral satisfaction.",
    )
    need_weight: float = Field(
        2.0, ge=0.0, le=20.0, description="Log-odds of buying per unit of need (need grows since the last purchase)."
    )
    satisfaction_weight: float = Field(
        2.0, ge=0.0, le=20.0, description="Log-odds of buying per unit of satisfaction above 0.5."
    )
    discount_weight: float = Field(
        4.0, ge=0.0, le=50.0, description="Log-odds of buying per unit of discount rate, times price sensitivity."
    )
    points_weight: float = Field(
        0.3, ge=0.0, le=10.0, description="Log-odds of buying when the points balance reaches the redemption minimum."
    )
    gross_margin: float = Field(0.45, ge=0.0, le=1.0, description="Gross margin on merchandise value.")
    product_quality: float = Field(0.75, ge=0.0, le=1.0, description="Mean experienced product quality, 0 to 1.")
    quality_noise: float = Field(
        0.15, ge=0.0, le=1.0, description="Standard deviation of the experienced quality of one purchase."
    )
    discount: float = Field(
        0.0, ge=0.0, lt=1.0, description="Standing discount rate on every purchase (a blanket price cut)."
    )


class ReferralConfig(Section):
    """Members invite non-member contacts; a two-sided reward pays both on acceptance."""

    base_invite_prob: float = Field(
        0.004,
        gt=0.0,
        lt=1.0,
        description="Daily invitation probability of a visiting member at satisfaction 0.5 and no reward.",
    )
    satisfaction_weight: float = Field(
        4.0, ge=0.0, le=20.0, description="Log-odds of inviting per unit of satisfaction above 0.5."
    )
    reward_inviter: float = Field(
        0.0, ge=0.0, le=1e5, description="Reward paid to the inviter per accepted invitation (yuan)."
    )
    reward_invitee: float = Field(0.0, ge=0.0, le=1e5, description="Reward paid to the invitee on joining (yuan).")
    reward_sensitivity: float = Field(
        0.04,
        ge=0.0,
        le=10.0,
        description="Log-odds per yuan of reward (inviter reward for inviting, invitee reward for accepting).",
    )
    base_acceptance: float = Field(
        0.25,
        gt=0.0,
        lt=1.0,
        description="Probability that an invitation is accepted with no invitee reward "
        "(reports: community referral conversion about 25%).",
    )
    referred_satisfaction_bonus: float = Field(
        0.05,
        ge=0.0,
        le=0.5,
        description="Extra starting satisfaction of referred members "
        "(Schmitt, Skiera & Van den Bulte 2011: referred customers churn less).",
    )
    reward_cap: int = Field(
        50,
        ge=0,
        le=1_000_000,
        description="Accepted referrals per member that earn the inviter reward; beyond it, none.",
    )
    hunter_share: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        description="Share of invitees who join for the invitee reward alone and churn soon after cashing out "
        "(only when reward_invitee > 0).",
    )
    hunter_days: int = Field(14, ge=1, le=365, description="Reward hunters leave within this many days of joining.")
    second_level_reward: float = Field(
        0.0, ge=0.0, le=1e5, description="Reward to the inviter's own referrer per accepted referral (multi-level)."
    )


class ChurnConfig(Section):
    """The daily hazard that a member leaves."""

    base_hazard: float = Field(
        0.0035,
        gt=0.0,
        lt=1.0,
        description="Daily churn hazard of a member at satisfaction 0.5, just visited, no fatigue.",
    )
    dissatisfaction_weight: float = Field(
        5.0, ge=0.0, le=50.0, description="Log-odds of churning per unit of satisfaction below 0.5."
    )
    inactivity_weight: float = Field(0.8, ge=0.0, le=20.0, description="Log-odds per 30 days since the last visit.")
    fatigue_weight: float = Field(1.5, ge=0.0, le=20.0, description="Log-odds per unit of fatigue.")
    social_weight: float = Field(
        2.0, ge=0.0, le=20.0, description="Log-odds per unit share of contacts who have churned."
    )
    points_weight: float = Field(
        0.5,
        ge=0.0,
        le=20.0,
        description="Log-odds lost when the points balance is worth the redemption minimum (switching cost).",
    )


class KOCConfig(Section):
    """Key opinion consumers: influential members who post UGC to their contacts."""

    initial_count: int = Field(20, ge=0, le=1_000_000, description="Best-connected initial members made KOCs on day 0.")
    post_prob: float = Field(0.5, ge=0.0, le=1.0, description="Daily probability that a KOC posts.")
    quality: float = Field(0.8, ge=0.0, le=1.0, description="Quality of KOC posts, 0 to 1.")
    purchase_lift: float = Field(
        0.5, ge=0.0, le=10.0, description="Log-odds lift of buying for a member reached by a KOC post that day."
    )
    engagement_boost: float = Field(
        0.3, ge=0.0, le=1.0, description="Extra appeal for a member reached by a KOC post that day."
    )
    cost_per_day: float = Field(15.0, ge=0.0, le=1e6, description="Cost per KOC per day (samples, commission), yuan.")


class OperatorConfig(Section):
    """Operators: brand staff with limited daily capacity and a salary."""

    headcount: int = Field(3, ge=0, le=100_000, description="Number of operators.")
    posts_capacity: float = Field(4.0, ge=0.0, le=1e4, description="Brand posts one operator can publish per day.")
    replies_capacity: float = Field(
        80.0, ge=0.0, le=1e6, description="Member questions one operator can answer per day."
    )
    daily_salary: float = Field(500.0, ge=0.0, le=1e6, description="Cost of one operator per day (yuan).")
    unanswered_penalty: float = Field(
        0.06, ge=0.0, le=1.0, description="Satisfaction lost by a member whose question goes unanswered."
    )
    answered_bonus: float = Field(
        0.02, ge=0.0, le=1.0, description="Satisfaction gained by a member whose question is answered."
    )


class SatisfactionConfig(Section):
    """How satisfaction (trust in the brand and community) moves."""

    initial: float = Field(0.6, ge=0.0, le=1.0, description="Mean satisfaction of a new member.")
    content_rate: float = Field(
        0.02, ge=0.0, le=1.0, description="Speed at which a visit pulls satisfaction toward the content's trust value."
    )
    product_rate: float = Field(
        0.25, ge=0.0, le=1.0, description="Speed at which a purchase pulls satisfaction toward the experienced quality."
    )


class OutputConfig(Section):
    """What a run writes."""

    events: bool = Field(True, description="Write the event log (events.parquet).")
    plots: bool = Field(True, description="Write plots/*.png.")
    incentive_counterfactual: bool = Field(
        True,
        description="When any incentive runs, also run the same seed with every incentive off, to report "
        "incremental buyers, cost per incremental buyer and incentive ROI.",
    )


class Scenario(Section):
    """A community strategy and its market: everything one run needs."""

    name: str = Field(
        "scenario", pattern=r"^[A-Za-z0-9_.-]{1,80}$", description="Name of the scenario; used in result paths."
    )
    description: str = Field("", description="Free text describing the strategy.")
    days: int = Field(365, ge=1, le=3650, description="Days to simulate.")
    seed: int = Field(42, ge=0, le=2**63 - 1, description="Seed of the run; all randomness flows from it.")
    market: MarketConfig = Field(default_factory=MarketConfig, description="The addressable market.")
    acquisition: AcquisitionConfig = Field(default_factory=AcquisitionConfig, description="How people join.")
    engagement: EngagementConfig = Field(default_factory=EngagementConfig, description="Visits and engagement.")
    content: ContentConfig = Field(default_factory=ContentConfig, description="The content plan.")
    purchase: PurchaseConfig = Field(default_factory=PurchaseConfig, description="Purchases.")
    referral: ReferralConfig = Field(default_factory=ReferralConfig, description="Referrals.")
    churn: ChurnConfig = Field(default_factory=ChurnConfig, description="Churn.")
    satisfaction: SatisfactionConfig = Field(default_factory=SatisfactionConfig, description="Satisfaction dynamics.")
    incentives: IncentivesConfig = Field(default_factory=IncentivesConfig, description="Incentive programs.")
    koc: KOCConfig = Field(default_factory=KOCConfig, description="Key opinion consumers.")
    operators: OperatorConfig = Field(default_factory=OperatorConfig, description="Operators.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Outputs of a run.")

    @model_validator(mode="after")
    def _check_consistency(self) -> Scenario:
        if self.acquisition.initial_members > self.market.size:
            raise ValueError(
                f"acquisition.initial_members ({self.acquisition.initial_members}) "
                f"exceeds market.size ({self.market.size})"
            )
        unknown = sorted(set(self.incentives.coupons.segments) - {g.name for g in self.market.segments})
        if unknown:
            raise ValueError(f"incentives.coupons.segments names unknown segment(s) {unknown}")
        if self.koc.initial_count > self.acquisition.initial_members:
            raise ValueError(
                f"koc.initial_count ({self.koc.initial_count}) exceeds acquisition.initial_members "
                f"({self.acquisition.initial_members}): KOCs are drawn from the initial members"
            )
        return self

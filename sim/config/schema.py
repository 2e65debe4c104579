"""The scenario schema: every knob of the model, its type, range, default and meaning.

Defaults are the baseline community (see docs/model.md for their sources). Field
descriptions are the text of docs/scenario-reference.md, generated from this file.
"""

from __future__ import annotations

import datetime
import math
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sim.config.acquisition import AcquisitionConfig, AwarenessConfig
from sim.config.base import CONTENT_TYPES, Name, Section
from sim.config.behaviour import ChurnConfig, EngagementConfig, LifecycleConfig, ReferralConfig, SatisfactionConfig
from sim.config.incentives import IncentivesConfig
from sim.config.market import MarketConfig, NetworkConfig, Segment, type_table  # noqa: F401 (re-exported)
from sim.config.operations import (
    ChurnScoreConfig,
    CompetitorEvent,
    CrisisEvent,
    KOCIncubation,
    LivestreamConfig,
    ModerationConfig,
    OutreachConfig,
    PromotionEvent,
    SentimentConfig,
    SurveyConfig,
    ThemedColumns,
)
from sim.config.rules import HealthConfig, RulesConfig


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
    full_plan_members: float | None = Field(
        5000.0,
        gt=0.0,
        le=1e9,
        description="Members from which the whole posts_per_day plan is posted; a smaller community gets the plan in "
        "proportion (at least one post a day). Null: always the whole plan.",
    )
    cost_per_post: float = Field(
        80.0,
        ge=0.0,
        le=1e7,
        description="Production cost of one brand post (yuan). Cost only: how many posts go out and how good they "
        "are is posts_per_day and quality.",
    )
    saturation_posts: float = Field(
        20.0, gt=0.0, le=1e5, description="Feed size (posts a day) at which appeal reaches 63% of its maximum."
    )
    member_ugc_prob: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="Probability that a fully engaged visiting member posts UGC that day (scaled by engagement).",
    )
    ugc_quality: float = Field(0.6, ge=0.0, le=1.0, description="Quality of members' UGC posts, 0 to 1.")
    ugc_type_mix: dict[str, float] = Field(
        default_factory=lambda: {"review": 0.5, "entertainment": 0.3, "interactive": 0.2},
        description="Share of UGC posts by content type; must sum to 1.",
    )
    personalization: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="How well the feed is matched to each member's interests: 0 random, 1 perfect "
        "(reports: +47% conversion matched vs random).",
    )
    peak_share: float = Field(
        0.3, ge=0.0, le=1.0, description="Share of brand posts published in the 20:00-22:00 peak."
    )
    peak_reach_multiplier: float = Field(
        1.6, ge=1.0, le=10.0, description="Reach of a peak-hour post relative to an off-peak one."
    )
    ugc_dwell_bonus: float = Field(
        0.6,
        ge=0.0,
        le=10.0,
        description="Extra dwell time per visit per unit share of UGC in the feed (reports: UGC lifts dwell 1.8x).",
    )
    base_dwell_minutes: float = Field(
        4.0, gt=0.0, le=600.0, description="Minutes of an average visit to a brand-only feed."
    )
    personalization_purchase_lift: float = Field(
        0.55,
        ge=0.0,
        le=10.0,
        description="Log-odds of buying added at full personalization, in proportion below it: matched "
        "recommendations convert (chosen so that personalization 1 lifts conversion by about the reports' 47%).",
    )
    themed_columns: ThemedColumns = Field(default_factory=ThemedColumns, description="Themed content columns.")
    effects: dict[str, ContentEffect] = Field(
        default_factory=_default_effects,
        description="Effect of each content type (see docs/model.md); values given are laid over the default table.",
    )

    @field_validator("mix", "ugc_type_mix")
    @classmethod
    def _check_mix(cls, v: dict[str, float]) -> dict[str, float]:
        type_table(v, "a content mix")
        if any(x < 0 for x in v.values()):
            raise ValueError("content shares must not be negative")
        total = math.fsum(v.values())
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
        type_table(v, "effects")
        missing = sorted(set(CONTENT_TYPES) - set(v))
        if missing:
            raise ValueError(f"effects must cover every content type; missing {missing}")
        return v


class PurchaseConfig(Section):
    """Purchases by visiting members and the merchandise economics."""

    platform_fee_rate: float = Field(
        0.0, ge=0.0, lt=1.0, description="Share of GMV a hosting platform takes (platform-based communities)."
    )
    base_prob: float = Field(
        0.08,
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
    product_quality: float = Field(
        0.75,
        ge=0.0,
        le=1.0,
        description="Mean experienced product quality at the start, 0 to 1 (surveys' iteration may raise it).",
    )
    quality_weight: float = Field(
        7.0,
        ge=0.0,
        le=50.0,
        description="Log-odds of buying, for a member who has bought before, per unit of product quality gained "
        "since the start (operators.surveys moves it; 0 gained without them). Calibrated to S15 (iteration "
        "raises repurchase 28% to 35%).",
    )
    quality_noise: float = Field(
        0.15, ge=0.0, le=1.0, description="Standard deviation of the experienced quality of one purchase."
    )
    discount: float = Field(
        0.0, ge=0.0, lt=1.0, description="Standing discount rate on every purchase (a blanket price cut)."
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
    cost_per_day: float = Field(
        15.0,
        ge=0.0,
        le=1e6,
        description="Fixed support cost per KOC per day, yuan. Cost only: account support that keeps the KOC "
        "programme running; what KOCs do is bought by commission_rate and sample_cost_per_month.",
    )
    commission_rate: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Commission paid to KOCs on purchases by members their posts reached that day; it raises KOCs' "
        "posting and lowers their departure, with diminishing returns (commission_saturation).",
    )
    commission_saturation: float = Field(
        0.05,
        gt=0.0,
        le=1.0,
        description="Commission rate at which KOCs' response to it reaches 63% of its maximum "
        "(response 1 - exp(-commission_rate / this)).",
    )
    commission_post_weight: float = Field(
        1.0, ge=0.0, le=10.0, description="Log-odds of a KOC posting on a day added at the full commission response."
    )
    commission_churn_weight: float = Field(
        1.0, ge=0.0, le=10.0, description="Log-odds of a KOC churning lost at the full commission response."
    )
    sample_cost_per_month: float = Field(
        0.0,
        ge=0.0,
        le=1e6,
        description="Free samples (试用) sent to each KOC per 30 days, yuan; hands-on reviews are of higher quality "
        "and convert better, with diminishing returns (sample_saturation).",
    )
    sample_saturation: float = Field(
        150.0,
        gt=0.0,
        le=1e6,
        description="Samples (yuan per KOC per 30 days) at which KOCs' response reaches 63% of its maximum "
        "(response 1 - exp(-sample_cost_per_month / this)).",
    )
    sample_quality_gain: float = Field(
        0.15, ge=0.0, le=1.0, description="Quality added to KOC posts at the full sample response (capped at 1)."
    )
    sample_lift_gain: float = Field(
        0.6,
        ge=0.0,
        le=10.0,
        description="Share added to purchase_lift at the full sample response (reviews of a product in hand convert).",
    )
    referral_lift: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        description="Log-odds of inviting a friend added for a member reached by a KOC post that day.",
    )
    churn_multiplier: float = Field(
        0.5, gt=0.0, le=10.0, description="KOCs' churn odds relative to other members (status keeps them)."
    )
    follower_penalty: float = Field(
        0.1, ge=0.0, le=1.0, description="Satisfaction the members following a KOC lose when the KOC churns."
    )
    incubation: KOCIncubation = Field(default_factory=KOCIncubation, description="KOC incubation policy.")


class OperatorConfig(Section):
    """Operators: brand staff with limited daily capacity and a salary."""

    headcount: int = Field(
        0,
        ge=0,
        le=100_000,
        description="Full-time operators at the start, and the smallest team a staffing review keeps (the whole "
        "team when members_per_operator is null).",
    )
    members_per_operator: float | None = Field(
        5000.0,
        gt=0.0,
        le=1e9,
        description="Members one full-time operator looks after: every staffing review sizes the team to the larger "
        "of members / this and the content plan / posts_capacity (full-time equivalents, in min_fte steps), never "
        "below headcount. Null: a fixed team.",
    )
    min_fte: float = Field(
        0.25,
        gt=0.0,
        le=1.0,
        description="Step of part-time staffing (share of a full-time position) in which reviews size the team.",
    )
    staffing_review_days: int = Field(
        30, ge=1, le=3650, description="Days between staffing reviews (hiring and letting go take effect there)."
    )
    posts_capacity: float = Field(4.0, ge=0.0, le=1e4, description="Brand posts one operator can publish per day.")
    replies_capacity: float = Field(
        80.0, ge=0.0, le=1e6, description="Member questions one operator can answer per day."
    )
    daily_salary: float = Field(
        500.0,
        ge=0.0,
        le=1e6,
        description="Cost of one operator per day (yuan). Cost only: what operators do is set by the team's size and "
        "posts_capacity and replies_capacity.",
    )
    unanswered_penalty: float = Field(
        0.06, ge=0.0, le=1.0, description="Satisfaction lost by a member whose question goes unanswered."
    )
    moderation: ModerationConfig = Field(
        default_factory=ModerationConfig, description="Moderation of conflict and spam."
    )
    outreach: OutreachConfig = Field(default_factory=OutreachConfig, description="Private-domain 1:1 outreach.")
    surveys: SurveyConfig = Field(
        default_factory=SurveyConfig, description="Member surveys and the product iteration they drive."
    )
    churn_score: ChurnScoreConfig = Field(
        default_factory=ChurnScoreConfig, description="The churn-risk score operators target and the member tags."
    )
    answered_bonus: float = Field(
        0.02, ge=0.0, le=1.0, description="Satisfaction gained by a member whose question is answered."
    )


class OutputConfig(Section):
    """What a run writes."""

    events: bool = Field(True, description="Write the event log (events.parquet).")
    plots: bool = Field(True, description="Write plots/*.png.")
    members: bool = Field(
        False,
        description="Write members.parquet: the final state of everyone who ever joined (status, stage, join day "
        "and source, purchases, spend, points balance, tier, referrer), for individual-level research.",
    )
    incentive_counterfactual: bool = Field(
        True,
        description="When any incentive runs, also run the same seed with every incentive off, to report "
        "incremental profit, buyers, cost per incremental buyer and incentive ROI (summary.json, the console "
        "summary and report.html).",
    )


class Scenario(Section):
    """A community strategy and its market: everything one run needs."""

    name: Name = Field("scenario", description="Name of the scenario; used in result paths.")
    description: str = Field("", description="Free text describing the strategy.")
    days: int = Field(365, ge=1, le=3650, description="Days to simulate.")
    seed: int = Field(42, ge=0, le=2**63 - 1, description="Seed of the run; all randomness flows from it.")
    market: MarketConfig = Field(default_factory=MarketConfig, description="The addressable market.")
    acquisition: AcquisitionConfig = Field(default_factory=AcquisitionConfig, description="How people join.")
    awareness: AwarenessConfig = Field(
        default_factory=AwarenessConfig, description="Prospects' awareness of the community and forwarding."
    )
    engagement: EngagementConfig = Field(default_factory=EngagementConfig, description="Visits and engagement.")
    content: ContentConfig = Field(default_factory=ContentConfig, description="The content plan.")
    purchase: PurchaseConfig = Field(default_factory=PurchaseConfig, description="Purchases.")
    referral: ReferralConfig = Field(default_factory=ReferralConfig, description="Referrals.")
    churn: ChurnConfig = Field(default_factory=ChurnConfig, description="Churn.")
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig, description="Lifecycle stages of members.")
    satisfaction: SatisfactionConfig = Field(default_factory=SatisfactionConfig, description="Satisfaction dynamics.")
    incentives: IncentivesConfig = Field(default_factory=IncentivesConfig, description="Incentive programs.")
    koc: KOCConfig = Field(default_factory=KOCConfig, description="Key opinion consumers.")
    operators: OperatorConfig = Field(default_factory=OperatorConfig, description="Operators.")
    operating_model: (
        Literal["centralized", "decentralized", "hybrid", "private_domain", "platform", "customer_base"] | None
    ) = Field(
        None,
        description="Operating-model preset laid under this scenario (sim/config/presets/<name>.yaml); "
        "keys written here override it.",
    )
    start_date: datetime.date = Field(
        datetime.date(2026, 1, 1), description="Calendar date of day 0; events may be given by date."
    )
    livestream: LivestreamConfig = Field(default_factory=LivestreamConfig, description="Livestreams.")
    sentiment: SentimentConfig = Field(default_factory=SentimentConfig, description="Negative sentiment and crises.")
    events: list[Annotated[CrisisEvent | PromotionEvent | CompetitorEvent, Field(discriminator="kind")]] = Field(
        default_factory=list, description="Calendar events: crises, holiday promotions, a competitor's entry."
    )
    rules: RulesConfig = Field(default_factory=RulesConfig, description="Adaptive operator rules.")
    health: HealthConfig = Field(default_factory=HealthConfig, description="Health-alert thresholds.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Outputs of a run.")

    @model_validator(mode="before")
    @classmethod
    def _event_dates(cls, data: object) -> object:
        """Events may give a ``date`` instead of a ``day``: convert it with ``start_date``."""
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            return data
        start = data.get("start_date", datetime.date(2026, 1, 1))
        if isinstance(start, str):
            try:
                start = datetime.date.fromisoformat(start)
            except ValueError:
                return data  # the field's own validation reports it
        if not isinstance(start, datetime.date) or isinstance(start, datetime.datetime):
            return data  # not a plain date: the start_date field reports it
        events = []
        for ev in data["events"]:
            if isinstance(ev, dict) and "date" in ev:
                ev = dict(ev)
                when = ev.pop("date")
                if isinstance(when, datetime.datetime):
                    raise ValueError(f"event date {when!r} has a time of day; give a date (YYYY-MM-DD)")
                try:
                    when = when if isinstance(when, datetime.date) else datetime.date.fromisoformat(str(when))
                except ValueError as exc:
                    raise ValueError(f"event date {when!r} is not a date (YYYY-MM-DD)") from exc
                if "day" in ev:
                    raise ValueError("an event takes a day or a date, not both")
                ev["day"] = (when - start).days
            events.append(ev)
        return {**data, "events": events}

    def beyond_end(self) -> list[str]:
        """Events and livestream days on or after the last day: they will not happen in this run."""
        late = [f"events[{i}] ({ev.name}) on day {ev.day}" for i, ev in enumerate(self.events) if ev.day >= self.days]
        shows = [d for d in self.livestream.days if d >= self.days]
        if shows:
            late.append(f"livestream.days {shows}")
        return late

    @model_validator(mode="after")
    def _check_consistency(self, info: ValidationInfo) -> Scenario:
        if self.acquisition.initial_members > self.market.size:
            raise ValueError(
                f"acquisition.initial_members ({self.acquisition.initial_members}) "
                f"exceeds market.size ({self.market.size})"
            )
        unknown = sorted(set(self.incentives.coupons.segments) - {g.name for g in self.market.segments})
        if unknown:
            raise ValueError(f"incentives.coupons.segments names unknown segment(s) {unknown}")
        # A run shortened on the command line (``--days``) only warns of what it will not reach.
        short = bool(info.context and info.context.get("shortened"))
        outside = [
            f"events[{i}] ({ev.name}) starts on day {ev.day}"
            for i, ev in enumerate(self.events)
            if ev.day < 0 or (ev.day >= self.days and not short)
        ]
        late = [d for d in self.livestream.days if d < 0 or (d >= self.days and not short)]
        if late:
            outside.append(f"livestream.days {late} are")
        if outside:
            raise ValueError(f"{'; '.join(outside)}, outside the run (days 0 to {self.days - 1})")
        surveys = self.operators.surveys
        if surveys.enabled and surveys.quality_ceiling < self.purchase.product_quality:
            raise ValueError(
                f"operators.surveys.quality_ceiling ({surveys.quality_ceiling}) is below purchase.product_quality "
                f"({self.purchase.product_quality}): iteration cannot lower the product"
            )
        if self.koc.initial_count > self.acquisition.initial_members:
            raise ValueError(
                f"koc.initial_count ({self.koc.initial_count}) exceeds acquisition.initial_members "
                f"({self.acquisition.initial_members}): KOCs are drawn from the initial members"
            )
        return self

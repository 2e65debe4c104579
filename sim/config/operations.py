"""Scenario sections for how a community is run: livestreams, KOC incubation, moderation,
private-domain outreach, surveys and product iteration, themed columns and the governance of
sentiment.

Effects and defaults are described in docs/model.md ("Operations").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.config.base import Section


class ThemedColumns(Section):
    """Themed content columns (栏目): recurring formats members come back for."""

    enabled: bool = Field(False, description="Whether the community runs themed columns.")
    interaction_multiplier: float = Field(
        2.3, ge=1.0, le=10.0, description="Multiplier on the chance that a visit includes an interaction (S7: 2.3x)."
    )
    appeal_bonus: float = Field(0.1, ge=0.0, le=1.0, description="Extra appeal of the feed while columns run.")
    cost_per_day: float = Field(
        150.0,
        ge=0.0,
        le=1e6,
        description="Editorial cost of running the columns (yuan a day). Cost only: the columns' effect is "
        "interaction_multiplier and appeal_bonus.",
    )


class LivestreamConfig(Section):
    """Livestreams (直播): scheduled shows with high conversion, and their replays."""

    enabled: bool = Field(False, description="Whether the community hosts livestreams.")
    schedule: Literal["weekly", "dates"] = Field("weekly", description="A weekly show, or shows on listed days.")
    weekday: int = Field(
        5,
        ge=0,
        le=6,
        description="weekly: calendar day of the week of the show (0 Monday ... 6 Sunday), from start_date.",
    )
    days: list[int] = Field(default_factory=list, description="dates: run days (0-based) of the shows.")
    notify_reach: float = Field(0.8, ge=0.0, le=1.0, description="Share of members notified of a show.")
    attend_prob: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description="Chance a notified member attends, times engagement and livestream interest x 2.",
    )
    conversion_lift: float = Field(1.5, ge=0.0, le=10.0, description="Log-odds of buying added for attendees.")
    replay_days: int = Field(2, ge=0, le=30, description="Days a replay stays up after a show.")
    replay_prob: float = Field(
        0.05, ge=0.0, le=1.0, description="Daily chance a member who missed the show watches the replay."
    )
    replay_lift: float = Field(0.7, ge=0.0, le=10.0, description="Log-odds of buying added for replay viewers.")
    host_cost: float = Field(
        3000.0,
        ge=0.0,
        le=1e8,
        description="Cost of one show: host, studio, samples (yuan). Cost only: a show's pull is attend_prob, "
        "conversion_lift and the replay keys.",
    )


class KOCIncubation(Section):
    """How operators grow KOCs: every few days, the top contributors with reach are promoted."""

    enabled: bool = Field(False, description="Whether operators incubate new KOCs.")
    every_days: int = Field(30, ge=1, le=365, description="Days between promotion rounds.")
    promote: int = Field(
        5, ge=0, le=100_000, description="Members promoted per round (top by contribution x influence)."
    )
    min_tenure_days: int = Field(30, ge=0, le=3650, description="Members must have been in the community this long.")
    max_kocs: int = Field(500, ge=0, le=10_000_000, description="Promotion stops at this many active KOCs.")


class ModerationConfig(Section):
    """Conflict and spam (治理): incidents arise from interactions and posts; operators moderate them."""

    incident_rate: float = Field(
        0.01, ge=0.0, le=1.0, description="Share of interactions and UGC posts that are conflict or spam."
    )
    capacity: float = Field(40.0, ge=0.0, le=1e6, description="Incidents one operator can handle a day.")
    harm_reach: int = Field(20, ge=0, le=100_000, description="Visitors who see one unhandled incident.")
    harm: float = Field(0.03, ge=0.0, le=1.0, description="Satisfaction a member loses per unhandled incident seen.")
    negative_prob: float = Field(
        0.02, ge=0.0, le=1.0, description="Chance a member who sees an unhandled incident turns negative."
    )


class OutreachConfig(Section):
    """Private-domain 1:1 outreach (私域): operators message members one by one."""

    enabled: bool = Field(False, description="Whether operators do 1:1 outreach.")
    per_operator: float = Field(60.0, ge=0.0, le=1e6, description="Members one operator reaches a day.")
    target: Literal["churn_risk", "lapsed", "all"] = Field(
        "lapsed", description="Who is reached first: highest churn risk, longest since a purchase, or at random."
    )
    satisfaction: float = Field(0.03, ge=0.0, le=1.0, description="Satisfaction gained by a reached member.")
    purchase_lift: float = Field(1.0, ge=0.0, le=10.0, description="Log-odds of buying added on the day of contact.")
    visit_lift: float = Field(1.0, ge=0.0, le=10.0, description="Log-odds of visiting added on the day of contact.")
    fatigue: float = Field(0.05, ge=0.0, le=1.0, description="Fatigue added by each message (too many messages tire).")
    min_gap_days: int = Field(7, ge=1, le=365, description="A member is contacted at most once in this many days.")


class SurveyConfig(Section):
    """Surveys (问卷调研) whose feedback drives product iteration: the product improves toward a ceiling."""

    enabled: bool = Field(False, description="Whether operators survey members and the brand iterates on the feedback.")
    every_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Days between surveys; a survey closes on the last day of each period (days every_days - 1, "
        "2 every_days - 1, ...).",
    )
    response_rate: float = Field(
        0.08,
        ge=0.0,
        le=1.0,
        description="Share of active members (visited in the last 30 days) who answer a survey. Assumption: "
        "a short in-community questionnaire with a small reward; calibrate it to your own surveys.",
    )
    cost_per_survey: float = Field(
        1500.0,
        ge=0.0,
        le=1e8,
        description="Cost of designing and analysing one survey (yuan), booked on the line surveys. Cost only.",
    )
    cost_per_response: float = Field(
        5.0,
        ge=0.0,
        le=1e5,
        description="Thank-you reward per answer (yuan, e.g. a small coupon or points), booked on the line surveys. "
        "Cost only: the response rate is response_rate.",
    )
    response_saturation: float = Field(
        400.0,
        gt=0.0,
        le=1e9,
        description="Answers at which a survey's insight reaches 63% of its maximum (insight "
        "1 - exp(-answers / this)): about the 385 answers that estimate a share to +-5 points.",
    )
    iteration_gain: float = Field(
        0.25,
        gt=0.0,
        le=1.0,
        description="Share of the gap between the product's planned quality and quality_ceiling that one fully "
        "informed iteration closes (diminishing returns toward the ceiling).",
    )
    quality_ceiling: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description="Product quality iteration can reach at most; at least purchase.product_quality.",
    )
    lag_days: int = Field(
        60, ge=0, le=3650, description="Days from a survey until the improved product starts reaching buyers."
    )
    rollout_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Days over which an improvement phases in (new batches replace old stock), in equal daily steps.",
    )


class ChurnScoreWeights(Section):
    """Weights of the churn-risk score: log-odds per unit of each observable (docs/model.md, "Churn-risk score").

    Defaults fitted by ``python benchmarks/fit_churn_score.py`` (a logistic regression on the
    baseline's own output: calm and shocked years, with and without points and tiers).
    """

    intercept: float = Field(-2.65, ge=-20.0, le=20.0, description="Log-odds of a member with every input at zero.")
    recency: float = Field(
        0.04, ge=-10.0, le=10.0, description="Per unit of ln(1 + days since the last visit); joining counts as a visit."
    )
    frequency: float = Field(-0.05, ge=-10.0, le=10.0, description="Per unit of ln(1 + visits in the last 30 days).")
    trend: float = Field(
        0.03,
        ge=-10.0,
        le=10.0,
        description="Per unit of the visit trend ln((v7 / 7 + 1/60) / (v60 / 60 + 1/60)), v7 and v60 the visits "
        "in the last 7 and 60 days: above 0 when the member comes more often than over two months.",
    )
    purchases: float = Field(-0.22, ge=-10.0, le=10.0, description="Per unit of ln(1 + purchases as a member).")
    purchase_recency: float = Field(
        -0.02,
        ge=-10.0,
        le=10.0,
        description="Per unit of ln(1 + days since the last purchase), days since joining for a member who never "
        "bought.",
    )
    tenure: float = Field(0.03, ge=-10.0, le=10.0, description="Per unit of ln(1 + days since joining).")
    new: float = Field(0.02, ge=-10.0, le=10.0, description="For a member in the lifecycle stage new.")
    advocate: float = Field(
        0.14, ge=-10.0, le=10.0, description="For a member someone joined through (referral or group buy)."
    )
    referred: float = Field(
        -0.52, ge=-10.0, le=10.0, description="For a member referred by someone who is still a member."
    )
    koc: float = Field(-0.77, ge=-10.0, le=10.0, description="For a KOC.")
    negative: float = Field(
        0.91, ge=-10.0, le=10.0, description="For a member holding negative sentiment (complaints operators see)."
    )
    points: float = Field(
        -1.12,
        ge=-10.0,
        le=10.0,
        description="Per unit of the points balance over the redemption minimum, capped at 1 (0 without points).",
    )
    tier: float = Field(-0.49, ge=-10.0, le=10.0, description="Per membership tier level (0 without tiers).")


class ChurnScoreConfig(Section):
    """The operators' churn-risk score: a logistic score of what the CRM sees, and the member tags built on it."""

    weights: ChurnScoreWeights = Field(default_factory=ChurnScoreWeights, description="Weights of the score.")
    core_visits: int = Field(
        8,
        ge=1,
        le=30,
        description="Visits in the last 30 days from which a member neither at risk nor silent is tagged core.",
    )
    silent_after_days: int = Field(
        14,
        ge=1,
        le=3650,
        description="Days without a visit after which a member not at risk is tagged silent.",
    )
    evaluate_every_days: int = Field(
        30,
        ge=1,
        le=365,
        description="Days between the scorings whose AUC against churn in the following 30 days the summary "
        "reports (the first at the end of this many days).",
    )


class SentimentConfig(Section):
    """Negative sentiment (负面情绪): spreads over the network, fades, and is damped by a response."""

    spread: float = Field(
        0.4, ge=0.0, le=10.0, description="Daily log-hazard of turning negative per unit share of negative contacts."
    )
    recovery: float = Field(
        0.1, ge=0.0, le=1.0, description="Daily chance a negative member recovers without a response."
    )
    response_delay_days: int = Field(
        1,
        ge=0,
        le=365,
        description="Days between a crisis onset and the operators' response (reports: within 24 hours).",
    )
    response_quality: float = Field(
        0.6, ge=0.0, le=1.0, description="Quality of the response: halves spread and adds to recovery in proportion."
    )
    response_cost: float = Field(
        2000.0,
        ge=0.0,
        le=1e8,
        description="Cost per day of an active crisis response (yuan). Cost only: the response's effect is "
        "response_delay_days and response_quality.",
    )
    satisfaction_drag: float = Field(0.01, ge=0.0, le=1.0, description="Satisfaction a negative member loses per day.")
    churn_weight: float = Field(1.0, ge=0.0, le=20.0, description="Log-odds of churning added for a negative member.")
    purchase_weight: float = Field(1.0, ge=0.0, le=20.0, description="Log-odds of buying lost for a negative member.")


class CrisisEvent(Section):
    """A crisis: a quality scandal or a rumour that turns members negative."""

    kind: Literal["crisis"] = Field("crisis", description="Event type.")
    name: str = Field("crisis", min_length=1, description="Label shown in plots and logs.")
    type: Literal["quality_scandal", "rumour"] = Field(
        "quality_scandal", description="A quality scandal also hurts product quality."
    )
    day: int = Field(ge=0, le=36_500, description="Run day of the onset (0-based); or give `date: YYYY-MM-DD`.")
    severity: float = Field(0.5, gt=0.0, le=1.0, description="Share of members who turn negative at the onset, x 0.3.")
    duration: int = Field(14, ge=1, le=3650, description="Days the crisis keeps feeding negative sentiment.")


class PromotionEvent(Section):
    """A holiday promotion such as 618 or Double 11 (双十一)."""

    kind: Literal["promotion"] = Field("promotion", description="Event type.")
    name: str = Field("promotion", min_length=1, description="Label, e.g. 618 or double11.")
    day: int = Field(ge=0, le=36_500, description="Run day the promotion starts (0-based); or give `date: YYYY-MM-DD`.")
    duration: int = Field(3, ge=1, le=365, description="Days it lasts.")
    visit_lift: float = Field(0.6, ge=0.0, le=10.0, description="Log-odds of visiting added.")
    purchase_lift: float = Field(
        1.0, ge=0.0, le=10.0, description="Log-odds of buying added, times coupon sensitivity."
    )
    discount: float = Field(0.1, ge=0.0, lt=1.0, description="Site-wide discount during the promotion.")


class CompetitorEvent(Section):
    """A competitor enters the market: members are tempted away and acquisition gets harder."""

    kind: Literal["competitor"] = Field("competitor", description="Event type.")
    name: str = Field("competitor", min_length=1, description="Label shown in plots and logs.")
    day: int = Field(ge=0, le=36_500, description="Run day of the entry (0-based); or give `date: YYYY-MM-DD`.")
    churn_lift: float = Field(0.4, ge=0.0, le=10.0, description="Log-odds of churning added from then on.")
    acquisition_factor: float = Field(
        0.7, gt=0.0, le=1.0, description="Multiplier on paid and organic joining from then on."
    )


Event = CrisisEvent | PromotionEvent | CompetitorEvent

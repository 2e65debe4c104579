"""Scenario sections of member behaviour: visits and engagement, satisfaction, churn, lifecycle stages, referrals."""

from __future__ import annotations

from pydantic import Field

from sim.config.base import Section


class EngagementConfig(Section):
    """Daily visits, interactions, questions, engagement and fatigue."""

    base_visit_prob: float = Field(
        0.10,
        gt=0.0,
        lt=1.0,
        description="Visit probability of an average member with zero engagement and neutral content.",
    )
    activity_sigma: float = Field(
        2.5,
        ge=0.0,
        le=5.0,
        description="Spread (standard deviation of log-odds) of personal visit propensity, fixed at birth.",
    )
    creator_sigma: float = Field(
        2.5,
        ge=0.0,
        le=5.0,
        description="Spread (log-normal sigma) of the personal chance to post UGC on a visit, mean 1.",
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
    dwell_weight: float = Field(
        0.1,
        ge=0.0,
        le=5.0,
        description="Stimulus to a visitor's engagement per unit of extra dwell from UGC (content.ugc_dwell_bonus x "
        "the feed's UGC share): longer visits build the habit.",
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
    inactivity_weight: float = Field(
        0.8,
        ge=0.0,
        le=20.0,
        description="Log-odds per 30 days since the last visit for a member of average habit; scaled by the "
        "member's visit propensity, so that silence counts when it breaks a habit.",
    )
    max_inactivity_log_odds: float = Field(
        3.0,
        ge=0.0,
        le=50.0,
        description="Cap on the log-odds absence adds: long-silent members are not certain to leave.",
    )
    fatigue_weight: float = Field(1.5, ge=0.0, le=20.0, description="Log-odds per unit of fatigue.")
    social_weight: float = Field(
        2.0, ge=0.0, le=20.0, description="Log-odds per unit share of contacts who have churned."
    )
    referral_tie_weight: float = Field(
        0.3,
        ge=0.0,
        le=20.0,
        description="Log-odds of churning a referred member loses while their referrer is still a member "
        "(the social tie that keeps referred customers longer).",
    )
    points_weight: float = Field(
        0.5,
        ge=0.0,
        le=20.0,
        description="Log-odds lost when the points balance is worth the redemption minimum (switching cost).",
    )
    hazard_sigma: float = Field(
        0.0,
        ge=0.0,
        le=5.0,
        description="Spread (standard deviation of log-odds) of a personal churn propensity fixed at birth, "
        "centred so that the mean odds stay those of base_hazard: the fickle leave early, the loyal stay, and a "
        "cohort's survival curve flattens (heterogeneous dropout). A trait of the people, not a lever; 0 (the "
        "default) gives everyone the same hazard and draws no number.",
    )


class LifecycleConfig(Section):
    """Where members stand in their lifecycle: new, active, loyal, advocate or dormant (counted every day)."""

    dormant_after_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Days without a visit after which a member counts as dormant (the MAU window: 30 days).",
    )
    new_for_days: int = Field(30, ge=1, le=3650, description="Days after joining during which a member counts as new.")


class ReferralConfig(Section):
    """Members invite non-member contacts; a two-sided reward pays both on acceptance."""

    base_invite_prob: float = Field(
        0.004,
        ge=0.0,
        lt=1.0,
        description="Daily invitation probability of a visiting member at satisfaction 0.5 and no reward; 0 turns "
        "referrals off (nobody invites, whatever the rewards).",
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
        ge=0.0,
        lt=1.0,
        description="Probability that an invitation is accepted with no invitee reward "
        "(reports: community referral conversion about 25%); 0: no invitation is ever accepted.",
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
    resemblance: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="Share of a referred friend's personal activity taken from their referrer's at joining "
        "(friends resemble each other).",
    )
    second_level_reward: float = Field(
        0.0,
        ge=0.0,
        le=1e5,
        description="Reward to the inviter's own referrer per accepted referral (multi-level); members who can earn "
        "it (those with an accepted invitee) and referred members whose referrer can earn it invite more "
        "(second_level_weight).",
    )
    second_level_weight: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        description="Share of second_level_reward that counts as a reward for inviting (times reward_sensitivity), "
        "added for a member with an accepted invitee (who earns it when that invitee invites) and again for a "
        "referred member whose referrer is still a member (the referrer's encouragement).",
    )

"""Scenario sections of the incentive catalog (激励机制): what each program offers and costs.

Every program is off unless ``enabled``; its effects, costs and failure modes are
described in docs/model.md ("Incentives").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.config.base import Section


class GoalGradient(Section):
    """Purchases speed up as a member nears a points reward and slow right after it."""

    enabled: bool = Field(False, description="Whether the goal-gradient effect acts on purchases.")
    strength: float = Field(
        0.3,
        ge=0.0,
        le=5.0,
        description="Log-odds of buying added at a balance equal to the redemption minimum, rising as progress^2 "
        "(Kivetz, Urminsky & Zheng 2006: about 20% shorter inter-purchase times near the reward).",
    )
    post_reward_drop: float = Field(0.5, ge=0.0, le=5.0, description="Log-odds of buying lost just after a redemption.")
    post_reward_days: int = Field(14, ge=0, le=365, description="Days the post-reward slump lasts.")


class PointsConfig(Section):
    """Points (积分): earned per yuan and per action, redeemed as a discount, expiring if unused."""

    enabled: bool = Field(False, description="Whether the points program runs.")
    per_yuan: float = Field(1.0, ge=0.0, le=1000.0, description="Points earned per yuan paid.")
    per_post: float = Field(20.0, ge=0.0, le=1e6, description="Points earned per UGC post.")
    per_referral: float = Field(
        200.0, ge=0.0, le=1e6, description="Points earned by the inviter per accepted referral."
    )
    value_per_point: float = Field(0.01, ge=0.0, le=100.0, description="Yuan value of one point at redemption.")
    redeem_min: float = Field(1000.0, ge=0.0, le=1e9, description="Smallest balance that can be redeemed.")
    expiry_days: int = Field(
        365, ge=1, le=3650, description="Points expire when the member has earned nothing for this many days."
    )
    expiry_warning_days: int = Field(
        14,
        ge=0,
        le=3650,
        description="Days before expiry in which the member is reminded that the balance will lapse (0: no reminder).",
    )
    expiry_visit_weight: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        description="Log-odds of visiting added for a reminded member, times progress "
        "(balance / redeem_min, at most 1).",
    )
    expiry_purchase_weight: float = Field(
        0.8,
        ge=0.0,
        le=10.0,
        description="Log-odds of buying added for a reminded member, times progress: use it or lose it (a purchase "
        "earns points and so keeps the balance).",
    )
    expiry_satisfaction_loss: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="Satisfaction lost when a balance lapses, times progress (loss aversion).",
    )
    goal_gradient: GoalGradient = Field(default_factory=GoalGradient, description="Goal-gradient effect.")


class Tier(Section):
    """One membership level and its benefits."""

    name: str = Field(min_length=1, description="Tier name.")
    threshold: float = Field(
        ge=0.0, le=1e12, description="Growth value (see tiers.basis) at which the tier is reached."
    )
    discount: float = Field(0.0, ge=0.0, lt=1.0, description="Discount on every purchase.")
    points_multiplier: float = Field(1.0, ge=0.0, le=100.0, description="Multiplier on points earned.")
    exclusive_content: bool = Field(False, description="Whether the tier unlocks exclusive content (raises visits).")


def _default_tiers() -> list[Tier]:
    return [
        Tier(name="silver", threshold=500.0, discount=0.02, points_multiplier=1.2),
        Tier(name="gold", threshold=2000.0, discount=0.05, points_multiplier=1.5, exclusive_content=True),
        Tier(name="platinum", threshold=6000.0, discount=0.08, points_multiplier=2.0, exclusive_content=True),
    ]


class TiersConfig(Section):
    """Membership tiers (会员等级 / 成长值): status that lowers churn and raises visits."""

    enabled: bool = Field(False, description="Whether tiers run.")
    basis: Literal["spend", "growth"] = Field(
        "spend",
        description="What tiers are reached on: yuan spent, or growth value (spend plus 10 per post and check-in).",
    )
    levels: list[Tier] = Field(
        default_factory=_default_tiers, min_length=1, max_length=100, description="Tiers, lowest first."
    )
    status_churn_weight: float = Field(
        0.4, ge=0.0, le=10.0, description="Log-odds of churning lost per tier level, times status sensitivity."
    )
    status_visit_weight: float = Field(
        0.4, ge=0.0, le=10.0, description="Log-odds of visiting gained per tier level, times status sensitivity."
    )
    exclusive_visit_weight: float = Field(
        0.5, ge=0.0, le=10.0, description="Extra log-odds of visiting with exclusive content."
    )
    progress_weight: float = Field(
        1.0,
        ge=0.0,
        le=10.0,
        description="Log-odds of buying at the threshold of the next tier, rising as progress^2, times status "
        "sensitivity "
        "(goal gradient toward status, after Kivetz, Urminsky & Zheng 2006).",
    )
    demotion_inactive_days: int = Field(
        180, ge=1, le=3650, description="A member who has not bought for this many days drops one tier."
    )

    @field_validator("levels")
    @classmethod
    def _increasing(cls, v: list[Tier]) -> list[Tier]:
        th = [t.threshold for t in v]
        if any(b <= a for a, b in zip(th, th[1:], strict=False)):
            raise ValueError(f"tier thresholds must be strictly increasing, got {th}")
        names = [t.name for t in v]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique, got {names}")
        return v


class CouponsConfig(Section):
    """Coupons (优惠券): issued on a cadence to a target group, redeemed on a purchase above a minimum."""

    enabled: bool = Field(False, description="Whether the coupon program runs.")
    target: Literal["all", "segment", "churn_risk", "lapsed", "silent", "core"] = Field(
        "all",
        description="Who receives coupons: all members, chosen segments, members at churn risk, lapsed buyers, or "
        "the members tagged silent or core (operators.churn_score).",
    )
    segments: list[str] = Field(
        default_factory=list, description="target=segment: the segment names that receive coupons."
    )
    churn_risk_min: float = Field(
        0.08,
        ge=0.0,
        le=1.0,
        description="target=churn_risk: minimum churn-risk score (operators.churn_score: the predicted probability "
        "of leaving within 30 days).",
    )
    lapsed_days: int = Field(30, ge=1, le=3650, description="target=lapsed: days since the last purchase.")
    kind: Literal["fixed", "percent"] = Field("fixed", description="Fixed yuan off, or a percentage off.")
    value: float = Field(15.0, gt=0.0, le=1e6, description="Yuan off (fixed) or the share off (percent, below 1).")
    min_spend: float = Field(
        99.0,
        ge=0.0,
        le=1e7,
        description="Smallest amount due (after standing, tier and group discounts) it applies to.",
    )
    validity_days: int = Field(7, ge=1, le=365, description="Days a coupon stays valid.")
    every_days: int = Field(14, ge=1, le=365, description="Coupons are issued every this many days.")
    reach: float = Field(0.8, ge=0.0, le=1.0, description="Share of the target group that receives (sees) each issue.")
    purchase_weight: float = Field(
        1.2,
        ge=0.0,
        le=20.0,
        description="Log-odds of buying while holding a coupon of depth depth_reference, times coupon sensitivity.",
    )
    depth_reference: float = Field(
        0.1,
        gt=0.0,
        le=1.0,
        description="Coupon depth (yuan off / the member's segment's mean basket, or the share off) at which holding "
        "it adds exactly purchase_weight; the pull scales as (depth / this)^depth_elasticity.",
    )
    depth_elasticity: float = Field(
        0.5,
        ge=0.0,
        le=2.0,
        description="Elasticity of a coupon's pull to its depth (below 1: diminishing returns; 0: value is cost only).",
    )
    dependence_rate: float = Field(
        0.15, ge=0.0, le=1.0, description="Coupon habit gained per redemption (members learn to wait for coupons)."
    )
    dependence_weight: float = Field(
        1.0, ge=0.0, le=20.0, description="Log-odds of buying lost without a coupon, per unit of coupon habit."
    )
    dependence_visit_weight: float = Field(
        0.5,
        ge=0.0,
        le=20.0,
        description="Log-odds of visiting lost without a coupon, per unit of coupon habit (dependent members wait "
        "for the next issue instead of browsing).",
    )
    habit_decay: float = Field(0.005, ge=0.0, le=1.0, description="Share of coupon habit lost per day.")
    fatigue_per_issue: float = Field(
        0.03, ge=0.0, le=1.0, description="Fatigue added to each member reached by an issue."
    )

    @model_validator(mode="after")
    def _check(self) -> CouponsConfig:
        if self.kind == "percent" and self.value >= 1.0:
            raise ValueError(
                f"coupons.value is a share off for kind=percent and must be below 1 (100%), got {self.value}"
            )
        if self.enabled and self.target == "segment" and not self.segments:
            raise ValueError("coupons.segments must name at least one segment when target is 'segment'")
        return self


class GroupBuyConfig(Section):
    """Group buying (拼团): a buyer opens a deal that needs k people within a window."""

    enabled: bool = Field(False, description="Whether group buying runs.")
    group_size: int = Field(3, ge=2, le=100, description="People needed, the initiator included.")
    window_days: int = Field(1, ge=1, le=30, description="Days the group stays open.")
    discount: float = Field(0.25, ge=0.0, lt=1.0, description="Discount every participant of a successful group gets.")
    initiate_prob: float = Field(
        0.3, ge=0.0, le=1.0, description="Chance that a buyer opens a group, times 2 x price sensitivity."
    )
    invites: int = Field(6, ge=1, le=100, description="Contacts the initiator invites.")
    daily_accept_prob: float = Field(
        0.25, ge=0.0, le=1.0, description="Daily chance that an invited contact joins the group while it is open."
    )
    fail_penalty: float = Field(
        0.03, ge=0.0, le=1.0, description="Satisfaction the initiator loses when a group fails."
    )


class CheckinConfig(Section):
    """Daily check-in streaks (打卡): points for each visit's check-in, bonuses at milestones."""

    enabled: bool = Field(False, description="Whether check-in runs (needs the points program).")
    points_per_checkin: float = Field(5.0, ge=0.0, le=1e6, description="Points per check-in.")
    streak_bonus_days: int = Field(
        7, ge=1, le=365, description="A bonus is paid at every multiple of this streak length."
    )
    streak_bonus_points: float = Field(50.0, ge=0.0, le=1e6, description="Points of a streak bonus.")
    visit_weight: float = Field(0.8, ge=0.0, le=10.0, description="Log-odds of visiting at a full streak (habit).")
    streak_cap: int = Field(14, ge=1, le=365, description="Streak length at which the habit effect is full.")


class FlashSaleConfig(Section):
    """Flash sales (秒杀): a deep discount on a schedule, limited stock."""

    enabled: bool = Field(False, description="Whether flash sales run.")
    every_days: int = Field(14, ge=1, le=365, description="A flash sale every this many days.")
    discount: float = Field(0.3, ge=0.0, lt=1.0, description="Discount on flash-sale purchases.")
    stock: int = Field(300, ge=0, le=10_000_000, description="Orders that get the discount per sale (first come).")
    visit_weight: float = Field(0.8, ge=0.0, le=10.0, description="Log-odds of visiting on a sale day.")
    purchase_weight: float = Field(
        1.0, ge=0.0, le=10.0, description="Log-odds of buying on a sale day, times coupon sensitivity."
    )
    fatigue: float = Field(0.02, ge=0.0, le=1.0, description="Fatigue added to every visitor of a sale day.")


class LotteryConfig(Section):
    """Lotteries (抽奖): a prize draw among the day's visitors on a schedule."""

    enabled: bool = Field(False, description="Whether lotteries run.")
    every_days: int = Field(7, ge=1, le=365, description="A draw every this many days.")
    prizes: int = Field(20, ge=0, le=1_000_000, description="Prizes per draw.")
    prize_value: float = Field(
        50.0,
        ge=0.0,
        le=1e6,
        description="Value and cost of one prize (yuan); a bigger prize draws more visitors and pleases winners more "
        "(prize_elasticity).",
    )
    prize_reference: float = Field(
        50.0,
        gt=0.0,
        le=1e6,
        description="Prize value at which visit_weight and winner_satisfaction apply as given; both scale as "
        "(prize_value / this)^prize_elasticity.",
    )
    prize_elasticity: float = Field(
        0.5,
        ge=0.0,
        le=2.0,
        description="Elasticity of the draw's visit pull and of a winner's satisfaction to the prize value "
        "(below 1: diminishing returns; 0: the prize value is a cost only).",
    )
    visit_weight: float = Field(0.6, ge=0.0, le=10.0, description="Log-odds of visiting on a draw day.")
    winner_satisfaction: float = Field(0.1, ge=0.0, le=1.0, description="Satisfaction gained by a winner.")


class BirthdayConfig(Section):
    """Birthday benefits (生日福利): a gift and a coupon on the member's birthday."""

    enabled: bool = Field(False, description="Whether birthday benefits run.")
    gift_cost: float = Field(
        10.0,
        ge=0.0,
        le=1e6,
        description="Cost of the birthday gift (yuan); a dearer gift pleases more (gift_elasticity).",
    )
    gift_reference: float = Field(
        10.0,
        gt=0.0,
        le=1e6,
        description="Gift cost at which satisfaction_bonus applies as given; it scales as "
        "(gift_cost / this)^gift_elasticity.",
    )
    gift_elasticity: float = Field(
        0.5,
        ge=0.0,
        le=2.0,
        description="Elasticity of the birthday satisfaction to the gift's cost (0: the gift cost is a cost only).",
    )
    satisfaction_bonus: float = Field(0.05, ge=0.0, le=1.0, description="Satisfaction gained on the birthday.")
    coupon_value: float = Field(
        20.0, ge=0.0, le=1e6, description="Yuan off a purchase in the following days (0: none)."
    )
    coupon_days: int = Field(7, ge=1, le=365, description="Days the birthday coupon is valid.")


class BadgesConfig(Section):
    """Badges and reputation (勋章, 社区声望): status earned by contributing."""

    enabled: bool = Field(False, description="Whether reputation and badges run.")
    per_interaction: float = Field(1.0, ge=0.0, le=1e6, description="Reputation per interaction.")
    per_post: float = Field(10.0, ge=0.0, le=1e6, description="Reputation per UGC post.")
    per_referral: float = Field(20.0, ge=0.0, le=1e6, description="Reputation per accepted referral.")
    thresholds: list[float] = Field(
        default_factory=lambda: [5.0, 25.0, 100.0],
        max_length=100,  # badges are counted in an int8 column
        description="Reputation at which each badge is earned (increasing). The defaults are reached within a year "
        "by about a quarter, a tenth and 2% of the members of a baseline-like community.",
    )
    cost_per_badge: float = Field(
        2.0,
        ge=0.0,
        le=1e6,
        description="Cost of awarding one badge (yuan). Cost only: a badge's effect is churn_weight and "
        "ugc_multiplier, whatever it costs to award.",
    )
    churn_weight: float = Field(
        0.25, ge=0.0, le=10.0, description="Log-odds of churning lost per badge, times status sensitivity."
    )
    ugc_multiplier: float = Field(0.3, ge=0.0, le=10.0, description="Extra share of UGC posting per badge.")

    @field_validator("thresholds")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        if any(b <= a for a, b in zip(v, v[1:], strict=False)) or any(x < 0 for x in v):
            raise ValueError(f"badge thresholds must be non-negative and strictly increasing, got {v}")
        return v


class IncentivesConfig(Section):
    """The incentive catalog. Points and the referral reward (see ``referral``) are the classics."""

    points: PointsConfig = Field(default_factory=PointsConfig, description="Points program.")
    tiers: TiersConfig = Field(default_factory=TiersConfig, description="Membership tiers.")
    coupons: CouponsConfig = Field(default_factory=CouponsConfig, description="Coupon program.")
    group_buy: GroupBuyConfig = Field(default_factory=GroupBuyConfig, description="Group buying.")
    checkin: CheckinConfig = Field(default_factory=CheckinConfig, description="Check-in streaks.")
    flash_sale: FlashSaleConfig = Field(default_factory=FlashSaleConfig, description="Flash sales.")
    lottery: LotteryConfig = Field(default_factory=LotteryConfig, description="Lotteries.")
    birthday: BirthdayConfig = Field(default_factory=BirthdayConfig, description="Birthday benefits.")
    badges: BadgesConfig = Field(default_factory=BadgesConfig, description="Badges and reputation.")

    @model_validator(mode="after")
    def _check(self) -> IncentivesConfig:
        if self.checkin.enabled and not self.points.enabled:
            raise ValueError("incentives.checkin.enabled needs incentives.points.enabled: check-ins pay in points")
        return self

    def any_enabled(self) -> bool:
        """Whether any program runs (the referral reward is judged separately)."""
        return any(getattr(self, name).enabled for name in type(self).model_fields)

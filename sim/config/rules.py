"""Adaptive operator rules and health alerts, as data: never evaluated as code.

A rule names a KPI of the daily time series (or a derived health KPI), a
comparison, a threshold and how many consecutive days it must hold; its action
is one of a fixed set with typed parameters. Defaults follow the health warnings
of the industry reports (docs/model.md, "Adaptive rules").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from sim.config.base import Section

#: Health KPIs computed daily in addition to sim.observe.metrics.KPI_NAMES (see sim.observe.health).
HEALTH_KPIS: tuple[str, ...] = (
    "monthly_growth",
    "activity_change",
    "interaction_growth",
    "negative_share",
    "at_risk_share",
)


class Condition(Section):
    """When a rule fires: ``kpi op value`` held for ``for_days`` consecutive days."""

    kpi: str = Field(description="A KPI column of the time series or a health KPI (monthly_growth, ...).")
    op: Literal["<", "<=", ">", ">="] = Field(description="Comparison.")
    value: float = Field(ge=-1e12, le=1e12, description="Threshold.")
    for_days: int = Field(1, ge=1, le=3650, description="Consecutive days the comparison must hold.")

    @field_validator("kpi")
    @classmethod
    def _known(cls, v: str) -> str:
        from sim.observe.metrics import KPI_NAMES

        known = (set(KPI_NAMES) | set(HEALTH_KPIS)) - {"rule_firings"}  # set after the rules have run
        if v not in known:
            import difflib

            close = difflib.get_close_matches(v, sorted(known), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"unknown KPI '{v}'{hint} (see docs/metrics.md)")
        return v


class AlertAction(Section):
    action: Literal["alert"] = Field(description="Log the firing only.")


class CrisisResponseAction(Section):
    action: Literal["crisis_response"] = Field(description="Start the crisis response now.")
    days: int = Field(14, ge=1, le=365, description="Days the response stays active.")


class AcquisitionPushAction(Section):
    action: Literal["acquisition_push"] = Field(description="Raise the paid budget for a while.")
    budget_multiplier: float = Field(1.5, gt=0.0, le=100.0, description="Multiplier on the daily paid budget.")
    days: int = Field(30, ge=1, le=3650, description="Days the push lasts.")


class ShiftMixAction(Section):
    action: Literal["shift_mix"] = Field(description="Move a share of the content mix toward one type.")
    toward: Literal["educational", "review", "entertainment", "interactive", "promotional", "livestream"] = Field(
        "interactive", description="Content type that gains share."
    )
    step: float = Field(
        0.05, gt=0.0, le=1.0, description="Share moved per firing, taken from the others in proportion."
    )
    max_share: float = Field(0.5, gt=0.0, le=1.0, description="The type's share never goes above this.")


class RetentionOfferAction(Section):
    action: Literal["retention_offer"] = Field(description="Send a coupon to members at churn risk.")
    churn_risk_min: float = Field(
        0.08,
        ge=0.0,
        le=1.0,
        description="Churn-risk score (operators.churn_score) above which a member gets the offer.",
    )
    value: float = Field(20.0, gt=0.0, le=1e6, description="Yuan off.")
    min_spend: float = Field(0.0, ge=0.0, le=1e7, description="Smallest basket the coupon applies to.")
    validity_days: int = Field(7, ge=1, le=365, description="Days the coupon is valid.")


class AddOperatorsAction(Section):
    action: Literal["add_operators"] = Field(description="Hire operators.")
    count: int = Field(1, ge=1, le=10_000, description="Operators added.")


class WinbackCampaignAction(Section):
    """A win-back campaign (召回): operators message lapsed people the next day, at a cost per message."""

    action: Literal["winback_campaign"] = Field(description="Message churned and dormant people tomorrow.")
    reach: int = Field(500, ge=1, le=10_000_000, description="People messaged: churned first, then dormant members.")
    max_days_churned: int = Field(
        180, ge=1, le=36_500, description="Only people who churned within this many days are messaged."
    )
    cost_per_contact: float = Field(
        1.0, ge=0.0, le=1e4, description="Yuan per message (SMS or enterprise WeChat, with a small incentive)."
    )
    rejoin_prob: float = Field(
        0.05, ge=0.0, le=1.0, description="Chance a messaged churned person rejoins (source winback)."
    )
    reactivate_prob: float = Field(0.2, ge=0.0, le=1.0, description="Chance a messaged dormant member visits that day.")


Action = Annotated[
    AlertAction
    | CrisisResponseAction
    | AcquisitionPushAction
    | ShiftMixAction
    | RetentionOfferAction
    | AddOperatorsAction
    | WinbackCampaignAction,
    Field(discriminator="action"),
]


class Rule(Section):
    """If ``when`` holds, do ``then``; not again within ``cooldown_days``."""

    name: str = Field(min_length=1, description="Rule name, shown in the event log and plots.")
    when: Condition = Field(description="The condition.")
    then: Action = Field(description="The action and its parameters.")
    cooldown_days: int = Field(30, ge=0, le=3650, description="Days after a firing during which the rule rests.")


def _health_rules() -> list[Rule]:
    """The health warnings as rules, at the thresholds of ``HealthConfig``'s defaults."""
    h = HealthConfig()
    data = [
        {
            "name": "negative_sentiment_intervention",
            "when": {"kpi": "negative_share", "op": ">", "value": h.max_negative_share},
            "then": {"action": "crisis_response"},
            "cooldown_days": 14,
        },
        {
            "name": "slow_growth_acquisition_push",
            "when": {"kpi": "monthly_growth", "op": "<", "value": h.min_monthly_growth, "for_days": h.weak_growth_days},
            "then": {"action": "acquisition_push"},
            "cooldown_days": 90,
        },
        {
            "name": "low_k_more_interaction",
            "when": {"kpi": "k_factor", "op": "<", "value": h.min_k_factor, "for_days": 30},
            "then": {"action": "shift_mix", "toward": "interactive"},
            "cooldown_days": 60,
        },
        {
            "name": "churn_risk_retention_offer",
            "when": {"kpi": "at_risk_share", "op": ">", "value": h.max_at_risk_share},
            "then": {"action": "retention_offer", "churn_risk_min": h.churn_risk_threshold},
            "cooldown_days": 7,
        },
    ]
    return [Rule.model_validate(d) for d in data]


class RulesConfig(Section):
    """Adaptive operator rules."""

    enabled: bool = Field(False, description="Whether the rules act.")
    rules: list[Rule] = Field(default_factory=_health_rules, description="Rules, checked in order every day.")

    @field_validator("rules")
    @classmethod
    def _unique(cls, v: list[Rule]) -> list[Rule]:
        names = [r.name for r in v]
        if len(set(names)) != len(names):
            raise ValueError(f"rule names must be unique, got {names}")
        return v


class HealthConfig(Section):
    """Thresholds of the health alerts reported every day (DOMAIN health warnings).

    Defaults are on the model's own scale, chosen with ``community-sim warnings`` on the
    baseline (docs/ODD.md 7.20); the reports' figures are in scenarios/report_thresholds.yaml.
    """

    min_monthly_growth: float = Field(
        0.015,
        ge=-1.0,
        le=10.0,
        description="Net member growth per 30 days below which growth is weak (reports: 0.05).",
    )
    weak_growth_days: int = Field(90, ge=1, le=3650, description="Days of weak growth before the alert (three months).")
    max_activity_swing: float = Field(
        0.30,
        ge=0.0,
        le=10.0,
        description="Week-on-week change of DAU beyond which activity swings (reports: 0.10).",
    )
    min_k_factor: float = Field(
        0.0,
        ge=0.0,
        le=100.0,
        description="K-factor below which viral growth is weak; 0: off, K told nothing of a coming decline "
        "(reports: 1.2, a generational K on another scale).",
    )
    max_negative_share: float = Field(
        0.001, ge=0.0, le=1.0, description="Negative-sentiment share above which to intervene (reports: 0.30)."
    )
    churn_risk_threshold: float = Field(
        0.08,
        ge=0.0,
        le=1.0,
        description="Churn-risk score (operators.churn_score: predicted probability of leaving within 30 days) above "
        "which a member is at risk (at_risk_share, tag_at_risk).",
    )
    max_at_risk_share: float = Field(
        0.29, ge=0.0, le=1.0, description="Share of members at risk above which the churn-risk alert is on."
    )
    min_interaction_growth: float = Field(
        0.0,
        ge=-1.0,
        le=100.0,
        description="Monthly interaction growth below which interaction is weak (reports' target: 0.15).",
    )

"""Adaptive operator rules: check each rule against today's KPIs, act, rest.

Rules are data (``sim.config.rules``): a condition on a named KPI that must hold
for some consecutive days, and one action from a fixed set. A rule that fires
rests for its cooldown. Actions change the operators' policy from tomorrow on and
every firing is logged (event log kind ``rule``, a marker in the plots).
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

from sim.mechanisms.incentives import coupons
from sim.mechanisms.operators import hire

if TYPE_CHECKING:
    from sim.model import CommunityModel

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class RuleEngine:
    """Streaks and cooldowns of every rule of the scenario."""

    def __init__(self, model: CommunityModel) -> None:
        self.rules = model.scenario.rules.rules if model.scenario.rules.enabled else []
        self.streak = [0] * len(self.rules)
        self.resting_until = [-1] * len(self.rules)
        self.firings: list[dict] = []

    def check(self, model: CommunityModel, kpis: dict[str, float]) -> int:
        """Evaluate all rules on today's KPIs; return how many fired."""
        day, fired = model.day.day, 0
        for i, rule in enumerate(self.rules):
            cond = rule.when
            value = float(kpis[cond.kpi])
            self.streak[i] = self.streak[i] + 1 if OPS[cond.op](value, cond.value) else 0
            if self.streak[i] < cond.for_days or day <= self.resting_until[i]:
                continue
            detail = act(model, rule.then)
            self.resting_until[i] = day + rule.cooldown_days
            self.streak[i] = 0
            fired += 1
            self.firings.append(
                {
                    "day": day,
                    "rule": rule.name,
                    "kpi": cond.kpi,
                    "value": value,
                    "action": rule.then.action,
                    "detail": detail,
                }
            )
            model.log_marker("rule", rule.name)
        return fired


def act(model: CommunityModel, action) -> str:
    """Carry out one action; return what was done, for the log."""
    day, policy = model.day.day, model.policy
    kind = action.action
    if kind == "crisis_response":
        policy.respond(day + 1, day + action.days)
        return f"crisis response for {action.days} days"
    if kind == "acquisition_push":
        policy.budget_multiplier, policy.budget_until = action.budget_multiplier, day + action.days
        return f"paid budget x{action.budget_multiplier} for {action.days} days"
    if kind == "shift_mix":
        moved = policy.shift_mix(action.toward, action.step, action.max_share)
        return f"mix toward {action.toward}: {'shifted' if moved else 'already at its cap'}"
    if kind == "retention_offer":
        from sim.mechanisms.churn_score import score

        mi = model.member_index()
        at_risk = mi[score(model, mi) > action.churn_risk_min]
        coupons.give(model, at_risk, action.value, 0.0, action.min_spend, action.validity_days)
        return f"coupons to {at_risk.size} members at risk"
    if kind == "winback_campaign":
        policy.winback = action  # carried out by tomorrow's joining phase, where joins and costs are counted
        return f"win-back campaign tomorrow: up to {action.reach} messages"
    if kind == "add_operators":
        hire(model, action.count)
        return f"hired {action.count} operator(s)"
    return "alert logged"

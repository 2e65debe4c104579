"""The search space: each lever as an optuna distribution, and the daily spend a setting commits.

A lever is a dotted scenario path already checked by ``resolve``: an integer or
float range (optionally on a log scale or a step grid), or a list of choices
(numbers, text such as an operating-model preset, true/false). The budget's
``per_day`` part is linear in the levers (true counts 1), so the least any
setting can commit is known before a run, and a candidate over the cap is
refused without running it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import optuna.distributions as od

from sim.optimize.spec import Budget, Lever


@dataclass(frozen=True)
class LeverDef:
    """One lever: its path, the scenario value kind ("int", "float", "bool", "str") and its spec."""

    name: str
    kind: str
    spec: Lever
    limits: tuple[tuple[str, float], ...] = ()  # the key's own bounds, e.g. (("ge", 0),)

    def edge(self, value: Any) -> str | None:
        """Where a numeric range's ``value`` sits when at one of its ends: "top" or "bottom" (or None), and
        whether that end is also the key's own limit ("top-limit", "bottom-limit")."""
        if self.spec.range is None or isinstance(value, bool):
            return None
        low, high = (float(x) for x in self.spec.range)
        limits = dict(self.limits)
        v = float(value)
        if v >= high:
            return "top-limit" if limits.get("le") is not None and high >= float(limits["le"]) else "top"
        if v <= low:
            return "bottom-limit" if limits.get("ge") is not None and low <= float(limits["ge"]) else "bottom"
        return None

    def distribution(self) -> od.BaseDistribution:
        """The optuna distribution the sampler draws this lever from."""
        s = self.spec
        if s.choices is not None:
            return od.CategoricalDistribution(tuple(s.choices))
        low, high = s.range or (0.0, 0.0)
        if self.kind == "int":
            return od.IntDistribution(int(low), int(high), log=s.log, step=int(s.step or 1))
        return od.FloatDistribution(float(low), float(high), log=s.log, step=s.step)

    def values(self) -> tuple[float, float]:
        """The smallest and largest numeric value (true = 1) the lever can take."""
        if self.spec.choices is not None:
            nums = [float(v) for v in self.spec.choices]
            return min(nums), max(nums)
        low, high = self.spec.range or (0.0, 0.0)
        return float(low), float(high)


def committed(budget: Budget, params: Mapping[str, Any]) -> float:
    """CNY a day the ``per_day`` terms commit at this lever setting."""
    return sum(coef * float(params[name]) for name, coef in budget.per_day.items())


def least_committed(budget: Budget, levers: Mapping[str, LeverDef]) -> float:
    """The least any lever setting commits: each term at the cheaper end of its lever's values."""
    total = 0.0
    for name, coef in budget.per_day.items():
        low, high = levers[name].values()
        total += min(coef * low, coef * high)
    return total

"""The operator's current policy: what adaptive rules and calendar events may change.

The scenario is frozen while the model runs; what the operators decide along the
way (a shifted content mix, a temporary acquisition push, more staff, an active
crisis response) lives here, starts from the scenario, and is logged when it
changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.config.base import CONTENT_TYPES
from sim.config.schema import Scenario

if TYPE_CHECKING:
    from sim.config.rules import WinbackCampaignAction


@dataclass
class Policy:
    mix: np.ndarray  # brand-content shares by type
    headcount: float  # the team in full-time equivalents
    floor: float = 0.0  # the smallest team a staffing review keeps: the scenario's headcount plus rules' hires
    budget_multiplier: float = 1.0
    budget_until: int = -1  # last day of an acquisition push
    response_from: int = 0  # first day of the current crisis response
    response_until: int = -1  # last day of the current crisis response
    winback: WinbackCampaignAction | None = None  # a win-back campaign a rule ordered for tomorrow
    competitor_churn: float = 0.0  # log-odds added to churn after a competitor's entry
    acquisition_factor: float = 1.0  # multiplier on joining after a competitor's entry

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Policy:
        mix = np.array([scenario.content.mix.get(t, 0.0) for t in CONTENT_TYPES])
        team = float(scenario.operators.headcount)
        return cls(mix=mix / mix.sum(), headcount=team, floor=team)

    def paid_budget(self, scenario: Scenario, day: int) -> float:
        mult = self.budget_multiplier if day <= self.budget_until else 1.0
        return scenario.acquisition.paid.daily_budget * mult

    def respond(self, start: int, until: int) -> None:
        """Schedule a crisis response (extends one already running)."""
        if self.response_until < start - 1:
            self.response_from = start
        else:
            start = min(start, self.response_from)
            self.response_from = start
        self.response_until = max(self.response_until, until)

    def responding(self, day: int) -> bool:
        return self.response_from <= day <= self.response_until

    def shift_mix(self, toward: str, step: float, max_share: float) -> bool:
        """Move ``step`` of share to ``toward`` from the other types in proportion; False if at the cap."""
        k = CONTENT_TYPES.index(toward)
        gain = min(step, max_share - self.mix[k], 1.0 - self.mix[k])
        if gain <= 1e-12:
            return False
        others = self.mix.sum() - self.mix[k]
        if others <= 0:
            return False
        scale = (others - gain) / others
        self.mix = np.where(np.arange(self.mix.size) == k, self.mix[k] + gain, self.mix * scale)
        return True

"""The ledger: revenue, gross margin and costs by category, day by day.

Every cost is booked on a named line that belongs to one category, so the total
cost is always the sum of its categories and profit is gross margin minus total
cost. The lines are the mechanisms' (``sim.mechanisms.registry.LINES``).
"""

from __future__ import annotations

import math
from collections import defaultdict

CATEGORIES: tuple[str, ...] = ("acquisition", "operators", "content", "koc", "incentives", "platform")


class Ledger:
    """Books costs by line for the current day and keeps running totals."""

    def __init__(self, lines: dict[str, str]) -> None:
        self.lines = lines  # line -> category
        self.today: dict[str, float] = defaultdict(float)
        self.cum_cost = 0.0
        self.cum_gmv = 0.0
        self.cum_margin = 0.0

    def book(self, line: str, amount: float) -> None:
        if line not in self.lines:
            raise KeyError(f"cost line {line!r} is not registered")
        if amount < 0:
            raise ValueError(f"negative cost {amount} on {line}")
        self.today[line] += float(amount)

    def line_total(self, line: str) -> float:
        """Today's amount on one line so far."""
        return self.today.get(line, 0.0)

    def close_day(self, gmv: float, margin: float) -> dict[str, float]:
        """Return the day's accounts and roll them into the running totals."""
        by_cat = {c: 0.0 for c in CATEGORIES}
        for line, amount in self.today.items():
            by_cat[self.lines[line]] += amount
        total = math.fsum(by_cat.values())
        self.cum_cost += total
        self.cum_gmv += gmv
        self.cum_margin += margin
        row = {f"cost_{c}": v for c, v in by_cat.items()}
        row.update({f"line_{line}": self.today.get(line, 0.0) for line in self.lines})
        row.update(
            cost_total=total,
            profit=margin - total,
            cum_gmv=self.cum_gmv,
            cum_cost=self.cum_cost,
            cum_profit=self.cum_margin - self.cum_cost,
            roi=(self.cum_margin - self.cum_cost) / self.cum_cost if self.cum_cost > 0 else 0.0,
        )
        self.today = defaultdict(float)
        return row

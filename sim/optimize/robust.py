"""Robustness statistics over the uncertainty samples, and constraint values in optuna's convention.

- ``mean``: the average over the replications (each its own uncertainty sample);
- ``quantile``: the q-th quantile, e.g. q = 0.1 for the bad tenth when maximizing
  (the 1 - q-th when minimizing, so it is always the unfavourable tail);
- ``regret``: on each sample, how far the candidate falls short of the best
  candidate evaluated on that sample; the statistic is the largest shortfall
  (minimax regret, lower is better). It depends on every other candidate, so the
  sampler is told the mean during the search and regret ranks the candidates once
  the search is over.

A constraint value is positive when violated and at most 0 when met, scaled by
the bound so that constraints of different units weigh alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sim.optimize.spec import Budget, Constraint, Objective


def statistic(values: np.ndarray, objective: Objective) -> float:
    """The value the sampler is told for one objective (regret: the mean, see the module docstring)."""
    x = np.asarray(values, dtype=float)
    if objective.statistic == "quantile":
        q = objective.q if objective.direction == "maximize" else 1.0 - objective.q
        return float(np.quantile(x, q))
    return float(x.mean())


def max_regret(table: pd.DataFrame, objective: Objective) -> pd.Series:
    """Minimax regret per candidate; ``table`` is candidates x replications of the objective's KPI."""
    best = table.max(axis=0) if objective.direction == "maximize" else table.min(axis=0)
    shortfall = (best - table) if objective.direction == "maximize" else (table - best)
    return shortfall.max(axis=1)


def violation(value: float, lower: float | None, upper: float | None) -> float:
    """Scaled amount by which ``value`` breaks ``lower <= value <= upper`` (<= 0: met)."""
    out = -np.inf
    if lower is not None:
        out = max(out, (lower - value) / max(abs(lower), 1e-9))
    if upper is not None:
        out = max(out, (value - upper) / max(abs(upper), 1e-9))
    return float(out) if np.isfinite(value) else 1.0


def constraint_values(
    means: Mapping[str, float],
    constraints: Sequence[Constraint],
    columns: Sequence[str],
    budget: Budget | None,
    committed: float | None,
    spend: float | None,
) -> list[float]:
    """Optuna constraint values: one per KPI constraint, then the committed and the measured budget."""
    out = [violation(means[col], c.min, c.max) for c, col in zip(constraints, columns, strict=True)]
    if budget is not None and budget.per_day:
        out.append(violation(committed or 0.0, None, budget.limit))
    if budget is not None and budget.lines:
        out.append(violation(spend if spend is not None else np.nan, None, budget.limit))
    return out


def constraint_names(constraints: Sequence[Constraint], columns: Sequence[str], budget: Budget | None) -> list[str]:
    """Readable names of ``constraint_values``, in the same order."""
    names = []
    for c, col in zip(constraints, columns, strict=True):
        parts = ([f">= {c.min:g}"] if c.min is not None else []) + ([f"<= {c.max:g}"] if c.max is not None else [])
        names.append(f"{col} {' and '.join(parts)}")
    if budget is not None and budget.per_day:
        names.append(f"committed spend <= {budget.limit:,.0f} CNY/day")
    if budget is not None and budget.lines:
        names.append(f"measured spend <= {budget.limit:,.0f} CNY/day")
    return names

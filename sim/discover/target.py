"""The question put to a sweep: which runs are the cases of interest (bad, or good), and on which factors.

``--below X`` and ``--above X`` mark runs whose KPI is below or above X;
``--worst Q`` marks the worst share Q of runs: the lowest values, or the highest
for KPIs where less is better (churn, costs, unanswered questions, negative
sentiment). The factors are the sweep's numeric factors that vary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.compare.fmt import number
from sim.experiment.analysis import AnalysisError, choose_kpis, load_sweep
from sim.experiment.kpis import less_is_better  # its "worst" runs are the highest


class DiscoverError(ValueError):
    """The sweep or the question cannot be used (reported with exit code 2)."""


@dataclass(frozen=True)
class Question:
    """A sweep's factor values, the KPI and which runs are cases."""

    strategy: str  # the sweep's base scenario, by its file stem
    kpi: str
    factors: list[str]
    x: np.ndarray  # runs x factors
    values: np.ndarray  # the KPI per run
    cases: np.ndarray  # bool per run
    rule: str  # e.g. "final.profit below 0"
    threshold: float


def is_profit(kpi: str) -> bool:
    """A KPI below 0 is a loss of money: ``final.profit``, ``w90.profit``."""
    return kpi.split(".", 1)[-1] == "profit"


def losses(kpi: str, values: np.ndarray) -> str:
    """``all 120 runs lose money`` or ``80 of the 100 runs (80%) lose money`` when more than half of the runs
    of a profit KPI do, with the range of profit; empty otherwise."""
    k, n = int((values < 0).sum()), len(values)
    if not is_profit(kpi) or 2 * k <= n:
        return ""
    span = f"{_signed(values.min())} to {_signed(values.max())} CNY"
    if k == n:
        return f"every one of the {n} runs loses money ({span})"
    return f"{k} of the {n} runs ({k / n:.0%}) lose money (profit from {span})"


def gains(kpi: str, values: np.ndarray) -> str:
    """``every one of the 120 runs makes money`` with the range of profit when every run of a profit KPI does
    (the match of ``losses``: the boxes then find where it makes the least); empty otherwise."""
    if not is_profit(kpi) or not (values > 0).all():
        return ""
    return f"every one of the {len(values)} runs makes money ({_signed(values.min())} to {_signed(values.max())} CNY)"


def _signed(x: float) -> str:
    return ("+" if x > 0 else "") + number(x)


def question(root: Path, kpi: str, below: float | None, above: float | None, worst: float | None) -> Question:
    """Read the sweep in ``root`` and mark its cases."""
    for option, value in (("--below", below), ("--above", above)):
        if value is not None and not math.isfinite(value):
            raise DiscoverError(f"{option} {value:g}: give a finite number, e.g. {option} 0")
    try:
        sweep = load_sweep(root)
        (column,) = choose_kpis(sweep, [kpi])
    except AnalysisError as exc:
        raise DiscoverError(str(exc)) from None
    runs = sweep.ok()
    factors = [f["name"] for f in sweep.factors if f["name"] in runs and pd.api.types.is_numeric_dtype(runs[f["name"]])]
    factors = [f for f in factors if runs[f].nunique() > 1]
    if not factors:
        raise DiscoverError(
            f"{root}: the sweep has no numeric factor that varies; discover needs uncertainties as factors"
        )
    runs = runs.dropna(subset=[column])
    if len(runs) < 20:
        raise DiscoverError(f"{root}: {len(runs)} finished runs with {column}; discover needs at least 20")
    values = runs[column].to_numpy(dtype=float)
    label = column.removeprefix("final.")
    given = [v is not None for v in (below, above, worst)]
    if sum(given) != 1:
        raise DiscoverError("give exactly one of --below X, --above X or --worst Q")
    if below is not None:
        cases, rule, threshold = values < below, f"{label} below {number(below)}", below
    elif above is not None:
        cases, rule, threshold = values > above, f"{label} above {number(above)}", above
    else:
        if not 0 < worst < 1:
            raise DiscoverError(f"--worst {worst:g}: give a share of runs between 0 and 1, e.g. --worst 0.25")
        high = less_is_better(column)
        threshold = float(np.quantile(values, 1 - worst if high else worst))
        cases = values >= threshold if high else values <= threshold
        side = "at or above" if high else "at or below"
        rule = f"{label} in the worst {worst:.0%} ({side} {number(threshold)})"
    if not cases.any() or cases.all():
        share = "every" if cases.all() else "no"
        if (values < 0).all() and is_profit(column):
            raise DiscoverError(
                f"{share} run has {rule}: all {len(values)} runs lose money ({_signed(values.min())} to "
                f"{_signed(values.max())} CNY); ask where it loses the most with --worst 0.25, or give a "
                "threshold inside that range"
            )
        raise DiscoverError(f"{share} run has {rule} ({len(values)} runs, {column} from {number(values.min())} to "
                            f"{number(values.max())}): choose a threshold inside that range")  # fmt: skip
    strategy = Path(str(sweep.manifest["experiment"].get("scenario", sweep.manifest.get("name", "")))).stem
    return Question(strategy, column, factors, runs[factors].to_numpy(dtype=float), values, cases, rule, threshold)

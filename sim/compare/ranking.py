"""Strategies ranked by an objective, with the ties the replications cannot break.

Ranked by ROI, a strategy never comes above one with more profit and no more spend:
strategies are ranked Pareto front by front on (profit, spend), by ROI within a front.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.compare.ensemble import Ensemble
from sim.compare.stats import paired
from sim.compare.table import PROFIT, SPEND, Objective, values


def dominated_by(profit: dict[str, float], spend: dict[str, float]) -> dict[str, list[str]]:
    """For each strategy, the strategies with at least its profit and at most its spend (one of them strictly)."""
    return {
        s: [
            o
            for o in profit
            if o != s
            and profit[o] >= profit[s]
            and spend[o] <= spend[s]
            and (profit[o] > profit[s] or spend[o] < spend[s])
        ]
        for s in profit
    }


def pareto_fronts(beaten_by: dict) -> dict:
    """Pareto front of each point of ``beaten_by`` (``dominated_by``): 0 for those nobody beats, 1 for those
    only front 0 beats, ..."""
    front, left, k = {}, set(beaten_by), 0
    while left:
        layer = {s for s in left if not set(beaten_by[s]) & left}
        front.update(dict.fromkeys(layer, k))
        left -= layer
        k += 1
    return front


def ranking(ens: Ensemble, baseline: str, objective: Objective) -> pd.DataFrame:
    """Strategies ranked by the objective; violators of a constraint last.

    Score: the KPI's mean, the lowest first for a KPI where less is better (``churned``,
    ``cost_total``); or for a weighted objective the sum of weights x mean / |baseline mean|,
    each KPI where less is better with a minus sign, the highest first. By ROI the score is
    mean profit / mean spend, and strategies are ranked front by front (no strategy above one
    with at least its profit and at most its spend), by ROI within a front: a higher ROI from
    spending more on a loss cannot come first. Strategies with the same results share a rank;
    ``not_distinguishable_from`` names those the replications cannot tell apart.
    """
    profit = {s: float(np.nanmean(values(ens, s, PROFIT))) for s in ens.strategies}
    spend = {s: float(np.nanmean(values(ens, s, SPEND))) for s in ens.strategies}
    beaten = dominated_by(profit, spend)
    front = pareto_fronts(beaten)
    rows = []
    for s in ens.strategies:
        if objective.is_roi:
            score = profit[s] / spend[s] if spend[s] > 0 else np.nan
        else:
            score = 0.0
            for key, w in objective.weights.items():
                base = np.nanmean(values(ens, baseline, key))
                mean = np.nanmean(values(ens, s, key))
                term = mean if len(objective.weights) == 1 else mean / (abs(base) or 1.0)
                score += w * objective.sign(key) * term
        broken = [
            f"{k} {op} {v:g}"
            for k, op, v in objective.constraints
            if not (np.nanmean(values(ens, s, k)) <= v if op == "<=" else np.nanmean(values(ens, s, k)) >= v)
        ]
        rows.append(
            {
                "strategy": s,
                "objective": objective.label,
                "score": score,
                "higher_is_better": objective.higher_is_better,
                "profit": profit[s],
                "spend": spend[s],
                "meets_constraints": not broken,
                "violates": "; ".join(broken),
                "front": front[s] if objective.is_roi else 0,
                "dominated_by": "; ".join(beaten[s]),
            }
        )
    table = pd.DataFrame(rows).sort_values(
        ["meets_constraints", "front", "score"],
        ascending=[False, True, not objective.higher_is_better],
        kind="stable",
        na_position="last",
    )
    same, close = _ties(ens, baseline, objective)
    table["same_results_as"] = ["; ".join(same[s]) for s in table.strategy]
    table["not_distinguishable_from"] = ["; ".join(close[s]) for s in table.strategy]
    ranks: list[int] = []
    for i, s in enumerate(table.strategy):  # identical results share a rank (1, 1, 3)
        above = table.strategy.iloc[i - 1] if i else None
        ranks.append(ranks[-1] if above in same[s] else i + 1)
    table.insert(0, "rank", ranks)
    return table.drop(columns="front").reset_index(drop=True)


def ranking_title(objective: Objective) -> str:
    """``ranking by churned (lower is better)``: the console line's start, so a reader knows which end wins."""
    return f"ranking by {objective.title}"


def ranking_line(ranks: pd.DataFrame) -> str:
    """``1. a, 2. b (not distinguishable from a)``: each strategy with the ones ranked above it that it ties."""
    parts, above = [], set()
    for r in ranks.itertuples():
        same = [o for o in r.same_results_as.split("; ") if o in above]
        close = [o for o in r.not_distinguishable_from.split("; ") if o in above]
        notes = ([f"same results as {', '.join(same)}"] if same else []) + (
            [f"not distinguishable from {', '.join(close)}"] if close else []
        )
        parts.append(f"{r.rank}. {r.strategy}" + (f" ({'; '.join(notes)})" if notes else ""))
        above.add(r.strategy)
    return ", ".join(parts)


def replication_scores(ens: Ensemble, s: str, baseline: str, objective: Objective) -> np.ndarray:
    """The objective's score in each replication (by ROI, each replication's profit / spend), as ``ranking``
    scores the means: a weighted score counts a KPI where less is better with a minus sign."""
    if objective.is_roi:
        spend = values(ens, s, SPEND)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(spend > 0, values(ens, s, PROFIT) / spend, np.nan)
    if len(objective.weights) == 1:
        key, w = next(iter(objective.weights.items()))
        return w * objective.sign(key) * values(ens, s, key).astype(float)
    score = np.zeros(len(ens.seeds))
    for key, w in objective.weights.items():
        score += w * objective.sign(key) * values(ens, s, key) / (abs(np.nanmean(values(ens, baseline, key))) or 1.0)
    return score


def _ties(ens: Ensemble, baseline: str, objective: Objective) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For each strategy, those with the same results (the same score, profit and spend in every replication,
    e.g. a setting that changes nothing), and those whose paired 95% interval of the score's difference
    holds 0 (from two replications on: the ranking cannot tell them apart)."""
    reps = {
        s: np.stack([replication_scores(ens, s, baseline, objective), values(ens, s, PROFIT), values(ens, s, SPEND)])
        for s in ens.strategies
    }
    same: dict[str, list[str]] = {s: [] for s in ens.strategies}
    close: dict[str, list[str]] = {s: [] for s in ens.strategies}
    for s in ens.strategies:
        for o in ens.strategies:
            if o == s:
                continue
            if np.array_equal(reps[s], reps[o], equal_nan=True):
                same[s].append(o)
            elif len(ens.seeds) >= 2:
                st = paired(reps[s][0], reps[o][0])
                if st.ci_low <= 0.0 <= st.ci_high:
                    close[s].append(o)
    return same, close

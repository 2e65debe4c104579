"""Attribute each KPI's paired difference B - A to the groups of changes: the tables of ``explain``.

Per replication r, the coalitions' values give each group's Shapley value;
averaged over replications (with a t-interval), they add up to the mean paired
difference B - A exactly. The same is done for the components of profit (gross
margin minus each ledger line) and of members (joins by source minus churn), so a
group's profit contribution reads as "more margin, more spent on this line".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.compare.stats import mean_ci
from sim.explain import shapley
from sim.explain.changes import Group
from sim.explain.coalitions import Evaluated, components

#: Which KPI each component adds up to, and with which sign.
COMPONENT_KPI = {"margin": ("final.profit", 1.0), "churned": ("final.members", -1.0)}


def component_sign(component: str) -> tuple[str, float]:
    """The KPI a component is part of and its sign in it: lines cost profit, churn costs members."""
    if component.startswith("line:"):
        return "final.profit", -1.0
    if component.startswith("joins:"):
        return "final.members", 1.0
    return COMPONENT_KPI[component]


@dataclass(frozen=True)
class Attribution:
    """Every table ``explain`` writes, and the numbers its sentences and figures use."""

    table: pd.DataFrame  # attribution.csv
    breakdown: pd.DataFrame  # breakdown.csv
    method: str  # "exact" or "sampled (N orders)"
    per_replication: np.ndarray  # (k, replications, metrics) Shapley values


def plan(k: int, orders: int, seed: int) -> tuple[list[int], np.ndarray | None]:
    """The coalitions to run: all of them up to ``MAX_EXACT_GROUPS`` groups, else those of sampled orders
    (plus each group alone, for the solo-effect residual)."""
    if k <= shapley.MAX_EXACT_GROUPS:
        return shapley.exact_coalitions(k), None
    drawn = shapley.sample_orders(k, orders, np.random.default_rng(np.random.SeedSequence([seed, k])))
    return sorted(set(shapley.order_coalitions(drawn)) | set(shapley.solo_coalitions(k))), drawn


def _row(kpi: str, kind: str, name: str, keys: str, x: np.ndarray, total: float, **extra: float) -> dict:
    mean, lo, hi = mean_ci(x)
    share = mean / total if total else np.nan
    return {"kpi": kpi, "kind": kind, "name": name, "keys": keys, "contribution": mean, "ci_low": lo,
            "ci_high": hi, "share_of_total": share, **extra}  # fmt: skip


def attribute(ev: Evaluated, groups: list[Group], kpis: list[str], orders: np.ndarray | None) -> Attribution:
    """Shapley values of ``groups`` for every KPI and component, with interactions and totals."""
    k = len(groups)
    values = ev.values
    if orders is None:
        per_rep = shapley.exact(values, k)
        se = np.full(per_rep.shape[:1] + per_rep.shape[2:], np.nan)
        method = "exact"
    else:
        per_rep = shapley.sampled(values, orders).value
        se = shapley.sampled({m: v.mean(axis=0) for m, v in values.items()}, orders).se
        method = f"sampled ({len(orders)} orders)"
    total = values[shapley.full(k)] - values[0]
    rows = []
    for m, kpi in enumerate(kpis):
        t = float(total[:, m].mean())
        a, b = float(values[0][:, m].mean()), float(values[shapley.full(k)][:, m].mean())
        rows.append(_row(kpi, "total", "B - A", "", total[:, m], t, a_mean=a, b_mean=b))
        for i, g in enumerate(groups):
            solo = values[1 << i][:, m] - values[0][:, m]
            rows.append(_row(kpi, "group", g.name, " ".join(g.keys), per_rep[i, :, m], t,
                             se_sampling=float(se[i, m]), solo_effect=float(solo.mean())))  # fmt: skip
        if k > 1:
            rows.append(_row(kpi, "residual", "total - sum of solo effects", "",
                             shapley.solo_residual(values, k)[:, m], t))  # fmt: skip
        if orders is None and k > 1:
            for (i, j), x in shapley.pair_interactions(values, k).items():
                rows.append(_row(kpi, "interaction", f"{groups[i].name} x {groups[j].name}", "", x[:, m], t))
    table = pd.DataFrame(rows)
    comps = components()
    brows = []
    for i, g in enumerate(groups):
        for c, comp in enumerate(comps):
            x = per_rep[i, :, len(kpis) + c]
            if not np.any(x):
                continue
            kpi, sign = component_sign(comp)
            mean, lo, hi = mean_ci(sign * x)
            brows.append({"group": g.name, "kpi": kpi, "component": comp, "contribution": mean,
                          "ci_low": lo, "ci_high": hi})  # fmt: skip
    cols = ["group", "kpi", "component", "contribution", "ci_low", "ci_high"]
    return Attribution(table, pd.DataFrame(brows, columns=cols), method, per_rep)

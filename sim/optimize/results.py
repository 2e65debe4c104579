"""The study as tables: one row per run (trials.parquet), one per trial, and the candidates worth verifying.

Everything is read back from the study's storage (the trials' user attributes
hold their runs), so the tables are the same after a resume as after one go.
Only trials that met every constraint (KPI bounds and budget) can be reported.
"""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd

from sim.compare import table as compare_table
from sim.optimize import robust
from sim.optimize.evaluate import SPEND
from sim.optimize.resolve import Resolved

#: A run's profit, spend (total cost) and ROI, as compare names them: profit and spend are recorded whatever the goal.
PROFIT, COST, ROI = compare_table.PROFIT, compare_table.SPEND, compare_table.ROI
#: Prefixes of the per-trial columns.
LEVER, UNCERTAIN, OBJECTIVE, CONSTRAINT = "lever.", "uncertainty.", "objective.", "constraint."


def result(trial) -> dict:
    """What the search stored for a trial: status, runs, committed and measured spend, constraint values."""
    return trial.user_attrs.get("result", {})


def objective_name(resolved: Resolved, i: int) -> str:
    """``final.profit (mean)``, ``final.profit (q10)``, ``final.profit (max regret)``."""
    o = resolved.spec.objectives[i]
    what = {"mean": "mean", "quantile": f"q{round(100 * (o.q or 0))}", "regret": "max regret"}[o.statistic]
    return f"{resolved.objective_columns[i]} ({what})"


def trials_table(resolved: Resolved, study: optuna.Study) -> pd.DataFrame:
    """One row per trial: levers, status, objective statistics, constraint means and values, feasibility."""
    names = robust.constraint_names(resolved.spec.constraints, resolved.constraint_columns, resolved.spec.budget)
    rows = []
    for t in study.get_trials(deepcopy=False):
        if not t.state.is_finished():
            continue
        row = {"trial": t.number, "status": result(t).get("status", t.state.name.lower())}
        row.update({LEVER + k: t.params.get(k) for k in resolved.levers})
        runs = pd.DataFrame(result(t).get("runs", []))
        ok = runs[runs["status"] == "ok"] if len(runs) else runs
        for i, (o, col) in enumerate(zip(resolved.spec.objectives, resolved.objective_columns, strict=True)):
            value = robust.statistic(ok[col].to_numpy(), o) if len(ok) else np.nan
            row[OBJECTIVE + objective_name(resolved, i)] = value
        for col in resolved.kpis:
            row[f"mean.{col}"] = float(ok[col].mean()) if len(ok) and col in ok else np.nan
        row["committed_per_day"] = result(t).get("committed")
        row["spend_per_day"] = result(t).get("spend")
        cons = result(t).get("constraints", [])
        for name, value in zip(names, cons, strict=False):
            row[CONSTRAINT + name] = value
        row["feasible"] = row["status"] == "ok" and all(v <= 0 for v in cons)
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        _add_regret(resolved, study, table)
    return table


def _add_regret(resolved: Resolved, study: optuna.Study, table: pd.DataFrame) -> None:
    """Minimax regret against the best evaluated trial on each uncertainty sample (trials that ran)."""
    for i, o in enumerate(resolved.spec.objectives):
        if o.statistic != "regret":
            continue
        wide = kpi_by_replication(resolved, study, resolved.objective_columns[i])
        regret = robust.max_regret(wide, o) if len(wide) else pd.Series(dtype=float)
        table[OBJECTIVE + objective_name(resolved, i)] = table["trial"].map(regret)


def kpi_by_replication(resolved: Resolved, study: optuna.Study, column: str) -> pd.DataFrame:
    """Trials (that ran every replication) x replications of one KPI column."""
    runs = runs_table(resolved, study)
    if not len(runs):
        return pd.DataFrame()
    ok = runs[runs["status"] == "ok"]
    wide = ok.pivot(index="trial", columns="replication", values=column)
    return wide.dropna()


def runs_table(resolved: Resolved, study: optuna.Study) -> pd.DataFrame:
    """trials.parquet: one row per (trial, replication): levers, sampled uncertainties, KPIs, spend, status."""
    frames = []
    for t in study.get_trials(deepcopy=False):
        if not t.state.is_finished():
            continue
        runs = pd.DataFrame(result(t).get("runs", []))
        if not len(runs):  # over the committed budget: one row, nothing run
            runs = pd.DataFrame([{"replication": -1, "seed": -1, "status": result(t).get("status", "failed")}])
        runs.insert(0, "trial", t.number)
        for k in resolved.levers:
            runs[LEVER + k] = t.params.get(k)
        for j, (name, _, _) in enumerate(resolved.uncertain):
            runs[UNCERTAIN + name] = [resolved.samples[r][j] if r >= 0 else None for r in runs["replication"]]
        runs["committed_per_day"] = result(t).get("committed")
        runs["trial_status"] = result(t).get("status", t.state.name.lower())
        frames.append(runs)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    for col in [*resolved.kpis, SPEND]:
        if col in out:
            out[col] = out[col].astype("float64")
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: None if v is None else str(v))
    return out


def sense(resolved: Resolved, i: int) -> int:
    """+1 when larger is better for objective i's reported statistic, -1 when smaller is."""
    o = resolved.spec.objectives[i]
    return -1 if o.statistic == "regret" or o.direction == "minimize" else 1


def front(resolved: Resolved, table: pd.DataFrame) -> pd.DataFrame:
    """The feasible trials no other feasible trial beats on every objective (one objective: sorted, all)."""
    feasible = table[table["feasible"]].copy()
    cols = [OBJECTIVE + objective_name(resolved, i) for i in range(len(resolved.spec.objectives))]
    if not len(feasible):
        return feasible
    score = feasible[cols].to_numpy(dtype=float) * np.array([sense(resolved, i) for i in range(len(cols))])
    keep = []
    for a in range(len(score)):
        dominated = np.any(np.all(score >= score[a], axis=1) & np.any(score > score[a], axis=1))
        keep.append(not dominated)
    if len(cols) == 1:
        keep = [True] * len(score)
    out = feasible[keep]
    return out.sort_values(cols[0], ascending=sense(resolved, 0) < 0, kind="stable")


def candidates(resolved: Resolved, table: pd.DataFrame) -> pd.DataFrame:
    """What verification re-runs: the best ``verify.top`` feasible trials (several objectives: of the front),
    each setting once (the best trial of a setting the search proposed more than once)."""
    ranked = front(resolved, table)
    ranked = ranked.loc[~ranked[[LEVER + k for k in resolved.levers]].astype(str).duplicated()]
    if len(resolved.spec.objectives) > 1 and len(ranked) > resolved.spec.verify.top:
        picks = np.linspace(0, len(ranked) - 1, resolved.spec.verify.top).round().astype(int)
        return ranked.iloc[sorted(set(picks))]  # spread along the front, both ends included
    return ranked.head(resolved.spec.verify.top)

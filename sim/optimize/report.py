"""report.html of an optimization: plain sentences first, then the verified table, figures and trials.

The sentences say what a strategist asks: which setting, how much better than
the base on fresh seeds (with its interval), whether the constraints still hold
there, how much the search's own estimate overstated it, each candidate's verified
profit and spend against the base's whatever the goal, when every candidate loses
money, and (an ROI goal) when a higher ROI was bought by spending more on a loss.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from sim.compare import fmt
from sim.experiment.kpis import column_support
from sim.optimize.evaluate import SPEND
from sim.optimize.resolve import Resolved
from sim.optimize.results import COST, LEVER, OBJECTIVE, PROFIT, objective_name, sense
from sim.optimize.verify import Verification
from sim.run.html import CSS, img

#: Verification rows named for a reader rather than by their column.
KPI_LABELS = {
    SPEND: "measured spend (CNY a day)",
    PROFIT: f"profit (CNY, {PROFIT})",
    COST: f"spend: total cost (CNY, {COST})",
}
#: Columns that are the run's profit (a goal on one of them already states the profit).
PROFIT_COLUMNS = (PROFIT, "final.profit")


def setting(resolved: Resolved, row: pd.Series) -> str:
    """``acquisition.paid.daily_budget 1,200, livestream.enabled on``."""
    return ", ".join(f"{name} {_value_text(row[LEVER + name])}" for name in resolved.levers)


def _value_text(v) -> str:
    """A lever's value in a sentence: on/off, a number, or the text."""
    if isinstance(v, bool | np.bool_):
        return "on" if v else "off"
    return fmt.number(v) if isinstance(v, int | float | np.number) else str(v)


def edges(resolved: Resolved, row: pd.Series) -> list[str]:
    """A sentence for each numeric lever whose value in ``row`` sits at an end of its range: the best may lie
    beyond it, unless that end is the key's own limit."""
    out = []
    for name, lever in resolved.levers.items():
        value = row[LEVER + name]
        where = lever.edge(value)
        if where is None or lever.spec.range is None:
            continue
        low, high = (fmt.number(x) for x in lever.spec.range)
        side = "top" if where.startswith("top") else "bottom"
        head = f"{name} {_value_text(value)} is at the {side} of its range {low} to {high}"
        if where.endswith("limit"):
            most = "most" if side == "top" else "least"
            out.append(f"{head}, the {most} the key takes: the best is at that limit.")
        else:
            out.append(f"{head}: the best may lie beyond it; widen the range.")
    return out


def is_ratio(column: str) -> bool:
    """Whether a KPI column is a ratio compare writes as a percentage: ROI, or a share (``column_support`` 0 to 1)."""
    if "." not in column:  # spend_per_day and other measured columns, not KPIs
        return False
    return column.split(".", 1)[1] == "roi" or column_support(column) == (0.0, 1.0)


def change_text(v: pd.Series) -> str:
    """A verified change against the base (a row of the verification table), as compare writes it: a ratio in
    percentage points, never relative; another KPI relative to the base when it can be; else in its own units."""
    if is_ratio(v["kpi"]):
        return f"{fmt.pp(v['diff'])}, 95% CI {fmt.pp_range(v['ci_low'], v['ci_high'])}"
    if np.isfinite(v["rel"]):
        return f"{fmt.pct(v['rel'])} of the base, 95% CI {fmt.pct_range(v['rel_low'], v['rel_high'])}"
    return f"95% CI {fmt.number(v['ci_low'])} to {fmt.number(v['ci_high'])}"


def _level(x: float, column: str) -> str:
    return f"{x:.2f}" if column.startswith("retention.") or abs(x) < 10 else fmt.number(x)


def _breakable(name: str) -> str:
    """A dotted column name that may wrap after its dots (a zero-width space), so tables fit the page."""
    return name.replace(".", ".\u200b").replace("_", "_\u200b")


def _money_column(resolved: Resolved, table: pd.DataFrame) -> str | None:
    """The profit column the trials hold: ``final.cum_profit`` (always recorded), else a profit goal's."""
    for c in (PROFIT, *(c for c in resolved.kpis if c.endswith(".profit"))):
        if f"mean.{c}" in table and table[f"mean.{c}"].notna().any():
            return c
    return None


def _money_clause(ver: Verification, trial: int, obj_col: str) -> str:
    """The candidate's verified profit and spend against the base's (the profit only when not the goal)."""
    profit, base_profit = ver.mean(trial, PROFIT), ver.mean(trial, PROFIT, base=True)
    spend, base_spend = ver.mean(trial, COST), ver.mean(trial, COST, base=True)
    parts = []
    if obj_col not in PROFIT_COLUMNS and np.isfinite(profit) and np.isfinite(base_profit):
        diff = profit - base_profit
        gap = "the same" if round(diff) == 0 else f"{abs(diff):,.0f} CNY {'more' if diff > 0 else 'less'}"
        parts.append(f"its profit is {fmt.money(profit)} against {fmt.money(base_profit)} in the base ({gap})")
    if np.isfinite(spend) and np.isfinite(base_spend):
        parts.append(f"it spends {spend:,.0f} CNY against {base_spend:,.0f} in the base")
    return "".join(f"; {p}" for p in parts)


def _same_as(resolved: Resolved, picked: pd.DataFrame, trial: int, twin: int, n: int) -> str:
    """A candidate with the same results as one ranked above it: not a second choice."""
    row = picked[picked["trial"] == trial].iloc[0]
    other = picked[picked["trial"] == twin].iloc[0]
    differ = [k for k in resolved.levers if str(other[LEVER + k]) != str(row[LEVER + k])]

    def value(r: pd.Series, k: str) -> str:
        return _value_text(r[LEVER + k])

    if len(differ) == 1:
        k = differ[0]
        why = f"{k} makes no difference between {value(other, k)} and {value(row, k)} here"
    else:
        pairs = ", ".join(f"{k} ({value(other, k)} and {value(row, k)})" for k in differ)
        why = f"the levers {pairs} make no difference between these settings here"
    name = "the best candidate" if twin == int(picked["trial"].iloc[0]) else "the candidate"
    return (
        f"Trial {trial} ({setting(resolved, row)}) has the same results as {name} (trial {twin}) in every one of "
        f"the {n} fresh replications: {why}."
    )


def _bought_with_a_loss(ver: Verification, trial: int) -> str:
    """An ROI goal's candidate the base beats on profit and spend: what its higher ROI cost."""
    more = ver.mean(trial, COST) - ver.mean(trial, COST, base=True)
    less = ver.mean(trial, PROFIT, base=True) - ver.mean(trial, PROFIT)
    larger = f" {less:,.0f} CNY larger" if round(less) else " as large"
    return (
        "; but the base scenario makes more profit for less spend: its higher ROI was bought by spending "
        f"{more:,.0f} CNY more on a loss{larger}, so it is not recommended"
    )


def sentences(resolved: Resolved, table: pd.DataFrame, picked: pd.DataFrame, ver: Verification | None) -> list[str]:
    """The plain-language summary, most important first."""
    out: list[str] = []
    ran = table[table["status"] == "ok"]
    feasible = ran[ran["feasible"]]
    obj_col, first = resolved.objective_columns[0], resolved.spec.objectives[0]
    if not len(ran):
        return ["No trial ran to the end: see the status column of trials.parquet."]
    if not len(feasible):
        out.append(
            f"None of the {len(ran)} trials that ran met every constraint, so nothing is recommended; "
            "loosen a constraint, widen the levers, or run more trials."
        )
    holding = [t for t in picked["trial"] if ver is not None and ver.holds.get(int(t))]
    recommended = [t for t in holding if ver is not None and ver.recommended(int(t))]
    if ver is not None and len(picked):
        vt = ver.table
        above: list[int] = []
        for trial in picked["trial"]:
            row = picked[picked["trial"] == trial].iloc[0]
            twin = next((o for o in ver.same.get(int(trial), []) if o in above), None)
            above.append(int(trial))
            if twin is not None:
                out.append(_same_as(resolved, picked, int(trial), twin, len(ver.seeds)))
                continue
            v = vt[(vt["trial"] == trial) & (vt["kpi"] == obj_col)].iloc[0]
            rel = f" ({change_text(v)})"
            show = fmt.money if obj_col.endswith(".profit") else fmt.number
            verb = "raises" if v["diff"] > 0 else "lowers" if v["diff"] < 0 else "leaves"
            also = []
            for col in resolved.objective_columns[1:]:
                ov = vt[(vt["trial"] == trial) & (vt["kpi"] == col)].iloc[0]
                shift = fmt.pp(ov["diff"]) if is_ratio(col) else fmt.pct(ov["rel"])
                also.append(f"{col} from {_level(ov['base_mean'], col)} to {_level(ov['mean'], col)} ({shift})")
            if also:
                rel += ", and " + ", ".join(also)
            keeps = []
            for c, col in zip(resolved.spec.constraints, resolved.constraint_columns, strict=True):
                cv = vt[(vt["trial"] == trial) & (vt["kpi"] == col)].iloc[0]
                bound = " and ".join(
                    ([f">= {c.min:g}"] if c.min is not None else []) + ([f"<= {c.max:g}"] if c.max is not None else [])
                )
                keeps.append(f"{col} at {_level(cv['mean'], col)} (asked {bound})")
            holds = ver.holds.get(int(trial))
            if not holds:
                broken = ", ".join(keeps) or "the measured budget"
                tail = f"; but on fresh seeds it breaks a constraint ({broken}), so it is not recommended"
            else:
                tail = f"; it keeps {', '.join(keeps)}" if keeps else ""
                if not ver.recommended(int(trial)):
                    tail += _bought_with_a_loss(ver, int(trial))
            rank = "The best candidate" if trial == picked["trial"].iloc[0] else f"Trial {trial}"
            out.append(
                f"{rank} ({setting(resolved, row)}) {verb} {obj_col} from {show(v['base_mean'])} in the base "
                f"scenario to {show(v['mean'])}{rel} on {len(ver.seeds)} fresh seeds"
                f"{_money_clause(ver, int(trial), obj_col)}{tail}."
            )
            if trial == picked["trial"].iloc[0]:
                searched = row[f"mean.{obj_col}"]
                if np.isfinite(searched) and searched != 0:
                    shrink = (v["mean"] - searched) / abs(searched)
                    worse = (shrink < 0) == (first.direction == "maximize")
                    verdict = (
                        "the winner's curse, measured"
                        if worse and shrink != 0
                        else "no sign of a winner's curse at this number of replications"
                    )
                    gap = fmt.pp(v["mean"] - searched) if is_ratio(obj_col) else fmt.pct(shrink)
                    out.append(
                        f"The search estimated its mean {obj_col} at {fmt.number(searched)}; on fresh seeds it is "
                        f"{fmt.number(v['mean'])} ({gap} against the estimate): {verdict}."
                    )
                if ver.recommended(int(trial)):  # where to search next, for a setting worth taking
                    out += edges(resolved, row)
            if len(out) >= 6:
                break
        if not holding:
            out.insert(
                0,
                "No verified candidate kept every constraint on fresh seeds, so none is recommended: ask for a "
                "margin on the constraint or more replications, and run more trials.",
            )
        mine = vt[vt["kpi"] == obj_col]
        better = mine["ci_low"] > 0 if first.direction == "maximize" else mine["ci_high"] < 0
        worse = mine["ci_high"] < 0 if first.direction == "maximize" else mine["ci_low"] > 0
        base_breaks = []
        for c, col in zip(resolved.spec.constraints, resolved.constraint_columns, strict=True):
            level = vt[vt["kpi"] == col]["base_mean"].iloc[0]
            if (c.min is not None and level < c.min) or (c.max is not None and level > c.max):
                base_breaks.append(f"{col} at {_level(level, col)}")
        if len(mine) and worse.all():
            keep = (
                f"the base itself breaks a constraint ({', '.join(base_breaks)}): that is the price of keeping it"
                if base_breaks
                else "keep the base, or widen the levers"
            )
            out.insert(
                0,
                f"No verified candidate beats the base scenario on {obj_col}: every one is worse on fresh seeds "
                f"(95% intervals exclude no change); {keep}.",
            )
        elif len(mine) and not better.any():
            out.insert(0, f"No verified candidate is better than the base scenario on {obj_col} beyond the noise.")
        if holding and not recommended:
            out.insert(
                0,
                "No verified candidate is recommended: each that keeps the constraints makes less profit than the "
                "base scenario while spending more (a higher ROI bought by spending more on a loss); keep the base, "
                "or optimize profit.",
            )
    out += _losses(resolved, ran, picked, ver)
    if first.statistic != "mean":
        out.append(
            f"{objective_name(resolved, 0)}: candidates are ranked by this robustness statistic over "
            f"{resolved.spec.replications} uncertainty samples, not by the mean."
        )
    return out


def _losses(resolved: Resolved, ran: pd.DataFrame, picked: pd.DataFrame, ver: Verification | None) -> list[str]:
    """ "Everything loses money" when the trials that ran and, verified, the candidates and the base all lose
    money, whatever the goal; or that the verified ones all lose although a trial of the search made some."""
    money = _money_column(resolved, ran)
    if money is None:
        return []
    obj_col = resolved.objective_columns[0]
    best_profit = float(ran[f"mean.{money}"].max())
    verified, base_profit = [], np.nan
    if ver is not None and len(ver.table) and len(picked):
        verified = [ver.mean(int(t), money) for t in picked["trial"]]
        base_profit = ver.mean(int(picked["trial"].iloc[0]), money, base=True)
    points = [p for p in [*verified, base_profit] if np.isfinite(p)]
    all_lose = bool(points) and all(round(p) < 0 for p in points)
    found = (
        "The search found the smallest loss, not a profit."
        if obj_col in PROFIT_COLUMNS
        else f"The search optimized {obj_col}, not profit: a better {obj_col} here is still a loss."
    )
    fresh = ""
    if points:
        lo, hi = min(verified), max(verified)
        span = fmt.money(hi) if round(lo) == round(hi) else f"{fmt.money(lo)} to {fmt.money(hi)}"
        fresh = f"; on fresh seeds the verified candidates make {span} and the base scenario {fmt.money(base_profit)}"
    if round(best_profit) < 0 and (not points or all_lose):
        return [
            f"Everything loses money: even the most profitable of the {len(ran)} trials that ran makes "
            f"{fmt.money(best_profit)} ({money}){fresh}. {found}"
        ]
    if all_lose:
        return [
            f"Every verified candidate and the base scenario lose money{fresh}, although the most profitable of the "
            f"{len(ran)} trials that ran made {fmt.money(best_profit)} in the search."
        ]
    return []


def _trials_named(same: str) -> str:
    """``"3; 5"`` -> ``"trial 3, trial 5"`` (empty when none)."""
    return ", ".join(f"trial {t}" for t in str(same).split("; ") if t and t != "nan")


def _changed(overrides: tuple[str, ...], described: bool) -> str:
    """What ``--set`` changed from the file: the description is the file's and may speak of other settings."""
    if not overrides:
        return ""
    items = ", ".join(f"<code>{html.escape(o)}</code>" for o in overrides)
    told = " (the description above is the file's)" if described else ""
    return f"<p class='muted'>Changed on the command line{html.escape(told)}: {items}.</p>"


def _sets(overrides: tuple[str, ...], key: str) -> bool:
    """Whether one of the ``key=value`` overrides sets ``key``."""
    return any(o.split("=", 1)[0].strip() == key for o in overrides)


def write_report(
    resolved: Resolved,
    table: pd.DataFrame,
    picked: pd.DataFrame,
    ver: Verification | None,
    figures: dict[str, Path],
    importance: pd.DataFrame | None,
    path: Path,
) -> str:
    """The page's HTML (written by the caller, atomically)."""
    spec = resolved.spec
    esc = html.escape
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{esc(spec.name)}: optimization</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{esc(spec.name)}: optimization</h1>",
        f"<p class='muted'>{esc(spec.description)}</p>" if spec.description else "",
        _changed(resolved.overrides, bool(spec.description) and not _sets(resolved.overrides, "description")),
        "<ul class='summary'>"
        + "".join(f"<li>{esc(s)}</li>" for s in sentences(resolved, table, picked, ver))
        + "</ul>",
    ]
    if ver is not None and len(ver.table):
        parts.append("<h2>Verified on fresh seeds (paired with the base scenario)</h2>")
        parts.append(
            f"<p class='muted'>{len(ver.seeds)} replications with seeds and uncertainty samples the search never used; "
            "differences paired by replication, 95% t-intervals.</p>"
        )
        rows = [
            "<tr><th>trial</th><th>KPI</th><th>base</th><th>candidate</th><th>difference (95% CI)</th>"
            "<th>relative</th><th>p</th><th>constraints hold</th><th>recommended</th><th>same results as</th></tr>"
        ]
        for r in ver.table.itertuples():
            rows.append(
                f"<tr><td>{r.trial}</td><td>{esc(KPI_LABELS.get(r.kpi, r.kpi))}</td>"
                f"<td>{_level(r.base_mean, r.kpi)}</td>"
                f"<td>{_level(r.mean, r.kpi)}</td><td>{fmt.change(r.diff, '')} ({fmt.number(r.ci_low)} to "
                f"{fmt.number(r.ci_high)})</td><td>{fmt.pct(r.rel)}</td><td>{esc(fmt.p_value(r.p_value))}</td>"
                f"<td>{'yes' if ver.holds.get(r.trial) else 'no'}</td>"
                f"<td>{'yes' if ver.recommended(r.trial) else 'no'}</td>"
                f"<td>{esc(_trials_named(r.same_results_as))}</td></tr>"
            )
        parts.append("<table>" + "".join(rows) + "</table>")
    for name, fig in figures.items():
        parts.append(f"<h2>{esc(name)}</h2>{img(fig, name)}")
    if importance is not None and len(importance):
        parts.append("<h2>Lever importance (fANOVA)</h2>" + importance.to_html(float_format=lambda x: f"{x:.0%}"))
    cols = ["trial", "status", "feasible", *[LEVER + k for k in resolved.levers]]
    cols += [c for c in table.columns if c.startswith(OBJECTIVE)] + [f"mean.{c}" for c in resolved.constraint_columns]
    cols += [f"mean.{PROFIT}", f"mean.{COST}"]
    cols += [c for c in ("committed_per_day", "spend_per_day") if c in table and table[c].notna().any()]
    first = OBJECTIVE + objective_name(resolved, 0)
    ranked = table.sort_values(first, ascending=sense(resolved, 0) < 0, kind="stable", na_position="last")
    shown = ranked[[c for c in dict.fromkeys(cols) if c in ranked]].head(20)
    shown.columns = [_breakable(c.removeprefix(LEVER)) for c in shown.columns]
    parts.append(f"<h2>Trials ({len(table)}; the first 20 by the first objective)</h2>")
    parts.append(
        "<div style='overflow-x:auto'>"
        + shown.to_html(index=False, float_format=lambda x: f"{x:,.3g}" if abs(x) < 100 else f"{x:,.0f}")
        + "</div>"
    )
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)

"""report.html: one self-contained page (images inlined) led by a plain-language summary."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from sim.compare import fmt
from sim.compare.ensemble import Ensemble
from sim.compare.loading import flat
from sim.compare.stats import MIN_REPLICATIONS_PROB
from sim.compare.table import INCREMENTAL_ROI, PROFIT, ROI
from sim.run.html import CSS, write_page
from sim.run.html import img as _img


def _level(x: float, unit: str) -> str:
    """A mean or interval end: ratios and shares as percentages, amounts with thousands separators."""
    return fmt.pct(x, signed=False, decimals=1) if unit in fmt.PERCENT_UNITS else fmt.number(x)


def _interval(lo: float, hi: float, unit: str) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        if np.isinf(lo) or np.isinf(hi):
            return "<br><span class='muted'>interval unbounded</span>"
        return ""
    return f"<br><span class='muted'>[{_level(lo, unit)}, {_level(hi, unit)}]</span>"


def _difference(r, unit: str, better: bool, profit_up: bool | None) -> str:
    """The paired difference under a strategy's value: size, p-value, P(better), coloured when significant."""
    if r.diff == 0 and r.diff_ci_low == r.diff_ci_high == 0:
        return "<br><span class='muted'>the same in every replication</span>"
    if unit in fmt.PERCENT_UNITS:
        size = fmt.pp(r.diff)
    elif np.isfinite(r.rel_diff):
        size = fmt.pct(r.rel_diff, decimals=max(1, fmt.decimals_for(r.rel_diff)))
    else:
        size = fmt.change(r.diff, unit)
    parts = [size, fmt.p_value(r.p_value)]
    if np.isfinite(r.prob_beats_baseline):
        parts.append(f"P(better) {fmt.probability(r.prob_beats_baseline)}")
    parts = [html.escape(p).replace(" ", "&nbsp;") for p in parts if p]  # "p < 0.001" never split over lines
    good = (r.diff > 0) == better
    cls = ("good" if good else "bad") if r.p_value < 0.05 else "muted"
    note = ""
    if r.kpi == ROI and profit_up is not None and (r.diff > 0) != profit_up and r.diff != 0:
        moves = f"ROI {'up' if r.diff > 0 else 'down'}, profit {'up' if profit_up else 'down'}"
        cls, note = "muted", f"<br><span class='bad'>{moves}</span>"
    return f"<br><span class='{cls}'>{', '.join(parts)}</span>{note}"


def _key_table(table: pd.DataFrame, ens: Ensemble, baseline: str) -> str:
    head = "<tr><th>KPI</th>" + "".join(f"<th>{html.escape(s)}</th>" for s in ens.strategies) + "</tr>"
    profit = table[table.kpi == PROFIT].set_index("strategy")["diff"]
    rows = []
    for kpi, group in table.groupby("kpi", sort=False):
        cells = []
        unit, better = group["unit"].iloc[0], bool(group["higher_is_better"].iloc[0])
        for r in group.itertuples():
            cell = _level(r.mean, unit) + _interval(r.ci_low, r.ci_high, unit)
            if kpi == INCREMENTAL_ROI and r.strategy != baseline and np.isfinite(profit.get(r.strategy, np.nan)):
                if not np.isfinite(r.mean):
                    cell = "undefined<br><span class='muted'>spend about the same</span>"
                cls = "good" if profit[r.strategy] > 0 else "bad" if profit[r.strategy] < 0 else "muted"
                cell += f"<br><span class='{cls}'>profit {fmt.change(profit[r.strategy], 'CNY')}</span>"
            elif r.strategy != baseline and np.isfinite(r.p_value):
                up = profit.get(r.strategy)
                cell += _difference(r, unit, better, None if up is None or up == 0 else bool(up > 0))
            cells.append(f"<td>{cell}</td>")
        label = f"{group['label'].iloc[0]} ({'%' if unit in fmt.PERCENT_UNITS else unit})"
        rows.append(f"<tr><td>{html.escape(label)}<br><span class='muted'>{kpi}</span></td>{''.join(cells)}</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _setting(value: object) -> str:
    """A setting's value as a scenario file would say it: ``not set`` for none, ``true``/``false`` for a switch."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _scenario_diffs(ens: Ensemble, baseline: str) -> str:
    base = flat(ens.scenarios[baseline])
    items = []
    for s in ens.strategies:
        if s == baseline:
            continue
        other = flat(ens.scenarios[s])
        diffs = [
            f"<code>{html.escape(k)}</code>: {html.escape(_setting(base.get(k)))} → {html.escape(_setting(v))}"
            for k, v in other.items()
            if base.get(k) != v and k not in ("name", "description", "seed")
        ]
        items.append(f"<li><b>{html.escape(s)}</b>: " + ("; ".join(diffs) or "same settings") + "</li>")
    return "<ul>" + "".join(items) + "</ul>"


def write_report(
    path: Path,
    ens: Ensemble,
    baseline: str,
    sentences: list[str],
    ranking: pd.DataFrame,
    table: pd.DataFrame,
    plots: list[Path],
    objective_label: str,
    days: int,
) -> Path:
    n = len(ens.seeds)
    profit = table[(table.kpi == PROFIT) & (table.strategy != baseline)]
    gains = profit["pairing_narrows_ci_by"].to_numpy(dtype=float)
    narrowing = float(np.nanmean(gains)) if np.isfinite(gains).any() else np.nan  # none: identical strategies
    by_roi = objective_label == "roi"
    by_profit = objective_label == "profit"  # the score is the profit column: not shown twice
    way = "higher" if ranking.empty or bool(ranking["higher_is_better"].iloc[0]) else "lower"
    rank_rows = "".join(_rank_row(r, by_roi, by_profit) for r in ranking.itertuples())
    roi_rule = (
        "<p class='muted'>Score: ROI = profit / spend (mean profit over mean total cost). A strategy is never ranked "
        "above one with at least its profit and at most its spend, so a higher ROI that comes from spending more on "
        "a loss cannot come first.</p>"
        if by_roi
        else ""
    )
    captions = {
        "trajectories": "KPI trajectories: mean (line) and 90% band over replications; events marked.",
        "profit_difference": "Paired difference in cumulative profit to the baseline, with its 95% CI.",
        "funnel": "Lifecycle funnel at the end of the run.",
        "retention": "Cohort retention by months since joining.",
        "costs_profit": "Costs by category and profit over the run.",
        "growth_sources": "K-factor (referral and group-buy joins per member) over time, and joins by source.",
    }
    figures = "".join(f"<h3>{html.escape(captions.get(p.stem, p.stem))}</h3>{_img(p, p.stem)}" for p in plots)
    if n < 2:
        pairing = (
            "One replication: there are no intervals, p-values or probabilities, and a difference may be luck; "
            f"run {MIN_REPLICATIONS_PROB} or more replications to see how sure it is."
        )
    elif np.isfinite(narrowing):
        pairing = (
            f"Pairing by common random numbers narrowed the 95% interval of the profit difference by "
            f"{narrowing:.0%} on average compared with treating the runs as independent."
        )
    else:
        pairing = ""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    prob = (
        f"P(better) is the posterior probability of a positive difference in the good direction under a flat prior, "
        f"given from {MIN_REPLICATIONS_PROB} replications on (with fewer its t-posterior rests on too few degrees of "
        "freedom); it is shown as &gt;99% or &lt;1% at the extremes."
    )
    score_head = "" if by_profit else f"<th>score ({html.escape(objective_label)}, {way} is better)</th>"
    described = ("and its p-value" if n > 1 else "") + (
        " and the probability that the strategy is better"
        if n >= MIN_REPLICATIONS_PROB
        else f" (no probability that the strategy is better: it needs {MIN_REPLICATIONS_PROB} or more replications)"
        if n > 1
        else ""
    )
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Strategy comparison: {html.escape(", ".join(ens.strategies))}</title><style>{CSS}</style></head><body>
<h1>Strategy comparison</h1>
<p class="muted">{len(ens.strategies)} strategies, {days} days, {n} replication{"s" if n != 1 else ""} each with the
same seeds; baseline: <b>{html.escape(baseline)}</b>;
ranked by <b>{html.escape(objective_label)}</b> ({way} is better).</p>
<section id="summary"><h2>Summary</h2><ul class="summary">{items}</ul>
<p class="muted">{pairing}</p></section>
<section id="ranking"><h2>Ranking</h2><table><tr><th>rank</th><th>strategy</th>{score_head}<th>profit (CNY)</th>
<th>spend (CNY)</th><th>meets constraints</th><th>beaten on profit and spend by</th>
<th>ties with</th></tr>{rank_rows}</table>
{roi_rule}<p class='muted'>Ties with: strategies with the same results in every replication (they share a rank), and
those whose paired 95% interval of the difference in the score holds 0, which these replications cannot tell
apart{"" if n > 1 else " (one replication: no interval)"}.</p></section>
<section id="kpis"><h2>Key figures</h2><p class="muted">Mean {"[95% CI] " if n > 1 else ""}over replications; under
each other strategy, the paired difference to the baseline (relative, or in percentage points for ratios and shares)
{described}.</p>
{_key_table(table, ens, baseline)}</section>
<section id="figures"><h2>Figures</h2>{figures}</section>
<section id="strategies"><h2>What differs between the strategies</h2>{_scenario_diffs(ens, baseline)}</section>
<section id="method"><h2>Method</h2><p>Each strategy ran {n} time{"s" if n != 1 else ""}; replication r used the same
seed for every strategy (seeds: {", ".join(map(str, ens.seeds))}), so the strategies share their random numbers
wherever their behaviour agrees and differences are paired. Intervals of the differences are t-intervals of the paired
differences; a strategy's own mean gets a t-interval cut to the values the KPI can take (counts and amounts at 0,
shares at 0 and 1), which keeps its coverage. p-values are two-sided paired t-tests. {prob} Relative differences
divide by the baseline mean; ROI and shares differ in percentage points (pp). ROI is profit / spend; incremental ROI is
the mean paired profit difference over the mean paired spend difference against the baseline (what each extra yuan
spent added to profit), with Fieller's interval; it is undefined when the spends differ by less than 0.1% and
unbounded when the spend difference is not distinguishable from 0. Full table: <code>comparison.csv</code>.</p>
</section>
</body></html>"""
    write_page(path, page)
    return path


def _rank_row(r, by_roi: bool, by_profit: bool) -> str:
    score = "" if by_profit else f"<td>{fmt.pct(r.score, False, 1) if by_roi else fmt.number(r.score)}</td>"
    return (
        f"<tr><td>{r.rank}</td><td>{html.escape(r.strategy)}</td>{score}"
        f"<td class='{'bad' if r.profit < 0 else ''}'>{fmt.number(r.profit)}</td><td>{fmt.number(r.spend)}</td>"
        f"<td>{'yes' if r.meets_constraints else 'no: ' + html.escape(r.violates)}</td>"
        f"<td>{_beaten_by(r)}</td><td>{_ties(r)}</td></tr>"
    )


def _beaten_by(r) -> str:
    """Who beats ``r`` on mean profit and spend; "(within noise)" beside one the replications cannot tell apart."""
    tied = set(f"{r.same_results_as}; {r.not_distinguishable_from}".split("; "))
    names = [n for n in r.dominated_by.split("; ") if n]
    return ", ".join(html.escape(n) + (" (within noise)" if n in tied else "") for n in names)


def _ties(r) -> str:
    same = f"same results as {_beaten(r.same_results_as)}" if r.same_results_as else ""
    close = f"not distinguishable from {_beaten(r.not_distinguishable_from)}" if r.not_distinguishable_from else ""
    return "; ".join(t for t in (same, close) if t)


def _beaten(names: str) -> str:
    return html.escape(names.replace("; ", ", ")) if names else ""

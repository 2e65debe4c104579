"""report.html: one self-contained page (images inlined) led by a plain-language summary."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from sim.compare.ensemble import Ensemble
from sim.plots.fonts import CSS_FONT_FAMILY

CSS = (
    """
body{font-family:"""
    + CSS_FONT_FAMILY
    + """;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
.summary li{margin:.4em 0;font-size:1.05em} table{border-collapse:collapse;font-size:.88em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right} th:first-child,td:first-child{text-align:left}
th{background:#f4f4f4} .muted{color:#666;font-size:.9em} img{max-width:100%;border:1px solid #eee;margin:.5em 0}
.good{color:#0a6e4f} .bad{color:#b34700} code{background:#f4f4f4;padding:0 3px}
"""
)


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def _fmt(x: float, unit: str) -> str:
    if not np.isfinite(x):
        return "–"
    if unit == "share":
        return f"{x:.1%}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _key_table(table: pd.DataFrame, ens: Ensemble, baseline: str) -> str:
    head = "<tr><th>KPI</th>" + "".join(f"<th>{html.escape(s)}</th>" for s in ens.strategies) + "</tr>"
    rows = []
    for kpi, group in table.groupby("kpi", sort=False):
        cells = []
        unit, better = group["unit"].iloc[0], bool(group["higher_is_better"].iloc[0])
        for r in group.itertuples():
            cell = (
                f"{_fmt(r.mean, unit)}<br><span class='muted'>[{_fmt(r.ci_low, unit)}, {_fmt(r.ci_high, unit)}]</span>"
            )
            if r.strategy != baseline and np.isfinite(r.p_value):
                good = (r.diff > 0) == better
                cls = ("good" if good else "bad") if r.p_value < 0.05 else "muted"
                rel = f"{r.rel_diff:+.1%}" if np.isfinite(r.rel_diff) else _fmt(r.diff, unit)
                cell += (
                    f"<br><span class='{cls}'>{rel}, p={r.p_value:.3f}, P(better)={r.prob_beats_baseline:.0%}</span>"
                )
            cells.append(f"<td>{cell}</td>")
        label = f"{group['label'].iloc[0]} ({unit})"
        rows.append(f"<tr><td>{html.escape(label)}<br><span class='muted'>{kpi}</span></td>{''.join(cells)}</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _scenario_diffs(ens: Ensemble, baseline: str) -> str:
    def flat(d: dict, prefix: str = "") -> dict:
        out = {}
        for k, v in d.items():
            key = f"{prefix}.{k}" if prefix else k
            out.update(flat(v, key) if isinstance(v, dict) else {key: v})
        return out

    base = flat(ens.scenarios[baseline])
    items = []
    for s in ens.strategies:
        if s == baseline:
            continue
        other = flat(ens.scenarios[s])
        diffs = [
            f"<code>{html.escape(k)}</code>: {html.escape(str(base.get(k)))} → {html.escape(str(v))}"
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
    profit = table[(table.kpi == "final.cum_profit") & (table.strategy != baseline)]
    gains = profit["pairing_narrows_ci_by"].to_numpy(dtype=float)
    narrowing = float(np.nanmean(gains)) if np.isfinite(gains).any() else np.nan  # none: identical strategies
    rank_rows = "".join(
        f"<tr><td>{r.rank}</td><td>{html.escape(r.strategy)}</td><td>{_fmt(r.score, '')}</td>"
        f"<td>{'yes' if r.meets_constraints else 'no: ' + html.escape(r.violates)}</td></tr>"
        for r in ranking.itertuples()
    )
    captions = {
        "trajectories": "KPI trajectories: mean (line) and 90% band over replications; events marked.",
        "profit_difference": "Paired difference in cumulative profit to the baseline, with its 95% CI.",
        "funnel": "Lifecycle funnel at the end of the run.",
        "retention": "Cohort retention by months since joining.",
        "costs_profit": "Costs by category and profit over the run.",
        "growth_sources": "Referral K-factor over time and members by join source.",
    }
    figures = "".join(f"<h3>{html.escape(captions.get(p.stem, p.stem))}</h3>{_img(p, p.stem)}" for p in plots)
    pairing = (
        (
            f"Pairing by common random numbers narrowed the 95% interval of the profit difference by "
            f"{narrowing:.0%} on average compared with treating the runs as independent."
        )
        if np.isfinite(narrowing)
        else "With one replication there are no intervals."
    )
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Strategy comparison: {html.escape(", ".join(ens.strategies))}</title><style>{CSS}</style></head><body>
<h1>Strategy comparison</h1>
<p class="muted">{len(ens.strategies)} strategies, {days} days, {len(ens.seeds)} replications each with the same seeds;
baseline: <b>{html.escape(baseline)}</b>; ranked by <b>{html.escape(objective_label)}</b>.</p>
<section id="summary"><h2>Summary</h2><ul class="summary">{items}</ul>
<p class="muted">{pairing}</p></section>
<section id="ranking"><h2>Ranking</h2><table><tr><th>rank</th><th>strategy</th><th>score</th>
<th>meets constraints</th></tr>{rank_rows}</table></section>
<section id="kpis"><h2>Key figures</h2><p class="muted">Mean [95% CI] over replications; under each strategy, the
paired difference to the baseline, its p-value and the probability that the strategy is better.</p>
{_key_table(table, ens, baseline)}</section>
<section id="figures"><h2>Figures</h2>{figures}</section>
<section id="strategies"><h2>What differs between the strategies</h2>{_scenario_diffs(ens, baseline)}</section>
<section id="method"><h2>Method</h2><p>Each strategy ran {len(ens.seeds)} times; replication r used the same seed
for every strategy (seeds: {", ".join(map(str, ens.seeds))}), so the strategies share their random numbers wherever
their behaviour agrees and differences are paired. Intervals are t-intervals of the paired differences; p-values are
two-sided paired t-tests; P(better) is the posterior probability of a positive difference in the good direction under
a flat prior. Relative differences divide by the baseline mean. Full table: <code>comparison.csv</code>.</p></section>
</body></html>"""
    path.write_text(page, encoding="utf-8")
    return path

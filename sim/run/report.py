"""report.html of one run: a self-contained page to share (figures inlined, no other file needed).

It leads with one sentence (how members and money moved) and, when the incentive
counterfactual ran, what the incentive programs earn against the same run without them
(in words, and the numbers of summary.json's ``incentives`` block); then the headline
KPIs, the KPI table by window (as the terminal prints it), the run's seven figures, how
often each health alert was on, the dated events, and the scenario as run. Every
text that comes from the scenario (description, event and rule names) is escaped.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.config.loader import scenario_to_yaml
from sim.observe.health import ALERTS, alert_name
from sim.run.counterfactual import METHOD, counted_gain, effect_rows, outcome, verdict
from sim.run.html import CSS, img, write_page
from sim.run.summary import HEADLINE, WINDOWS_NOTE, headline_columns

if TYPE_CHECKING:
    from sim.config.schema import Scenario
    from sim.run.runner import RunResult

EXTRA_CSS = """
.headline{font-size:1.2em;margin:.8em 0 1em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px;margin:.6em 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 10px;background:#fafafa}
.card .v{font-size:1.35em;font-weight:600;margin:.1em 0} .card .k{font-size:.85em;color:#555}
.card .n{font-size:.8em;color:#666} figure{margin:0} h3{font-size:1.02em;margin:1.2em 0 .2em}
pre{background:#f7f7f7;border:1px solid #e4e4e4;padding:.8em;overflow:auto;font-size:.82em;line-height:1.35}
details summary{cursor:pointer;margin:.4em 0} table.text td,table.text th{text-align:left}
.verdict{border-left:6px solid #999;background:#f7f7f7;padding:.2em 1em .6em;margin:0 0 1em}
.verdict h2{border:none;margin-top:.5em} .verdict .say{font-size:1.1em;font-weight:600;margin:.4em 0}
.verdict.gain{border-color:#0a6e4f;background:#effaf5} .verdict.loss{border-color:#b34700;background:#fff4ec}
.verdict .cards{grid-template-columns:repeat(auto-fill,minmax(135px,1fr))} .verdict .card{background:#fff}
.verdict .card .v{font-size:1.15em}
"""

#: The run's figures (``sim.plots.write_run_plots``), in order, with what each shows.
CAPTIONS = {
    "members_by_source": "Members by join source, day by day.",
    "dau": "Daily active members (DAU) and its share of members.",
    "gmv_profit": "Daily GMV and profit, and the cumulative profit with its break-even day.",
    "funnel": "Lifecycle funnel at the end of the run: joined, bought, bought again, brought a friend.",
    "cohort_retention": "Retention by monthly join cohort: the share still a member n months after joining.",
    "operations": "Operations: negative sentiment against its alert threshold, KOCs, and which health alerts were on.",
    "stage_flow": "Everyone in the market by stage, day by day: unaware, aware and considering prospects, the member "
    "stages and the churned.",
}
#: Words for the kinds of dated events (``CommunityModel.markers``).
MARKER_KINDS = {"crisis": "crisis", "promotion": "promotion", "competitor": "competitor entry", "rule": "rule fired"}


#: A fall from the peak of members by at least this share of it is told in the headline.
PEAK_FALL = 0.1


def headline(scenario: Scenario, summary: dict, members: pd.Series | None = None) -> str:
    """One sentence: how the membership and the money moved over the run; with the daily ``members`` (indexed by
    day), a peak the community fell from by ``PEAK_FALL`` or more is told, not hidden between start and end."""
    final = summary["final"]
    start, end = int(scenario.acquisition.initial_members), int(round(final["members"]))
    days, profit = int(summary["days"]), float(final["profit"])
    peak = int(round(members.max())) if members is not None and len(members) else end
    if peak > start and end <= (1 - PEAK_FALL) * peak:
        day = int(members.idxmax())
        fall = f"grew from {start:,} to a peak of {peak:,} members on day {day:,}, then fell to {end:,}"
        return f"Over {days:,} days the community {fall} and {outcome(profit)}."
    if end > start:
        members = f"grew from {start:,} to {end:,} members"
    elif end < start:
        members = f"shrank from {start:,} to {end:,} members"
    else:
        members = f"stayed at {end:,} members"
    return f"Over {days:,} days the community {members} and {outcome(profit)}."


def _card(label: str, value: str, note: str = "", cls: str = "", value_cls: str = "") -> str:
    extra = f'<div class="n {cls}">{html.escape(note)}</div>' if note else ""
    v = f"v {value_cls}" if value_cls else "v"
    head = f'<div class="k">{html.escape(label)}</div><div class="{v}">{html.escape(value)}</div>'
    return f'<div class="card">{head}{extra}</div>'


def _cards(final: dict) -> str:
    profit = float(final["profit"])
    members = float(final["members"])
    mau_share = final["mau"] / members if members else 0.0
    sign = ("a profit", "good") if round(profit) > 0 else ("a loss", "bad") if round(profit) < 0 else ("break-even", "")
    cards = [
        _card("members now", f"{members:,.0f}"),
        _card("ever joined", f"{final['ever_joined']:,.0f}", "members and churned alike"),
        _card("MAU / members", f"{mau_share:.0%}", "visited in the last 30 days"),
        _card("DAU / MAU", f"{final['dau_mau']:.2f}"),
        _card("GMV", f"{final['gmv']:,.0f} CNY"),
        _card("profit", f"{profit:,.0f} CNY", sign[0], sign[1]),
        _card("ROI", f"{final['roi']:.2f}", "the whole run: profit / cost"),
        _card("K-factor", f"{final['k_factor']:.3f}", "invited joins per member, 30 days"),
        _card("churned", f"{final['churned']:,.0f}", "leavings over the run"),
        _card("repurchase", f"{final['repurchase_rate']:.1%}", "members with 2+ of 1+ purchases"),
    ]
    return f'<div class="cards">{"".join(cards)}</div>'


def _incentives(summary: dict) -> str:
    """What the incentive programs earn against the same run without them; empty without the counterfactual."""
    block = summary.get("incentives")
    if block is None:
        return ""
    profit = float(summary["final"]["profit"])
    gain = round(counted_gain(block))
    tone = "gain" if gain > 0 else "loss" if gain < 0 else ""
    cards = "".join(_card(label, value, note, value_cls=cls) for label, value, note, cls in effect_rows(block, profit))
    return (
        f'<section id="incentives" class="verdict {tone}"><h2>What the incentive programs earn</h2>'
        f'<p class="say">{html.escape(verdict(block, profit))}</p><div class="cards">{cards}</div>'
        f'<p class="muted">{html.escape(METHOD)}</p></section>'
    )


def _window_table(summary: dict) -> str:
    """The terminal's table: final KPIs and the 30/90/180-day windows side by side."""
    cols = headline_columns(summary)
    head = "<tr><th>KPI</th>" + "".join(f"<th>{html.escape(n)}</th>" for n, _ in cols) + "</tr>"
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td>"
        + "".join(f"<td>{fmt.format(c[key]) if key in c else ''}</td>" for _, c in cols)
        + "</tr>"
        for key, label, fmt in HEADLINE
    )
    return f"<table>{head}{rows}</table>"


def _share(x: float) -> str:
    """A share of days as a whole percentage, never rounding a few days down to 0%."""
    return "<1%" if 0 < x < 0.005 else f"{x:.0%}"


def _alerts(ts: pd.DataFrame) -> str:
    rows = []
    for col in ALERTS:
        if col not in ts:
            continue
        on = ts[col].to_numpy() > 0
        first = f"day {int(on.argmax())}" if on.any() else "–"
        rows.append(
            f"<tr><td>{html.escape(alert_name(col))}</td><td>{int(on.sum()):,}</td><td>{html.escape(_share(on.mean()))}</td>"
            f"<td>{first}</td></tr>"
        )
    head = "<tr><th>alert</th><th>days on</th><th>share of days</th><th>first on</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _events(summary: dict, markers: list[dict]) -> str:
    final = summary["final"]
    by_source = {k.removeprefix("new_"): final[k] for k in final if k.startswith("new_") and k != "new_members"}
    sources = [f"{s} {n:,.0f}" for s, n in sorted(by_source.items(), key=lambda kv: -kv[1]) if n > 0]
    counts = (
        f"<p>{final['new_members']:,.0f} joins ({html.escape(', '.join(sources))}), {final['purchases']:,.0f} "
        f"purchases, {final.get('referrals_accepted', 0):,.0f} referrals accepted, {final['churned']:,.0f} churns.</p>"
    )
    if not markers:
        return counts + '<p class="muted">No crises, promotions, competitor entries or rule firings.</p>'
    days: dict[str, list[int]] = {}
    for m in markers:
        if m["kind"] == "rule":
            days.setdefault(str(m["label"]), []).append(int(m["day"]))
    rows = [
        (int(m["day"]), MARKER_KINDS.get(m["kind"], m["kind"]), str(m["label"]), "")
        for m in markers
        if m["kind"] != "rule"
    ]
    for label, when in days.items():
        shown = ", ".join(map(str, when[:10])) + (", ..." if len(when) > 10 else "")
        note = f"{len(when):,} time{'s' if len(when) > 1 else ''}: day{'s' if len(when) > 1 else ''} {shown}"
        rows.append((when[0], "rule fired", label, note))
    cells = "".join(
        f"<tr><td>{day}</td><td>{html.escape(what)}</td><td>{html.escape(name)}"
        + (f" <span class='muted'>({html.escape(note)})</span>" if note else "")
        + "</td></tr>"
        for day, what, name, note in sorted(rows, key=lambda r: r[0])
    )
    head = "<tr><th>day</th><th>what</th><th>name</th></tr>"
    return counts + f'<table class="text">{head}{cells}</table>'


def _members(ts: pd.DataFrame) -> pd.Series | None:
    """The daily members by day, for the headline (None without them)."""
    if "members" not in ts:
        return None
    return ts.set_index("day")["members"] if "day" in ts.columns else ts["members"]


def write_run_report(path: Path, scenario: Scenario, result: RunResult, plots: list[Path]) -> Path:
    """Write report.html for a finished run; ``plots`` are its PNGs (none when ``output.plots`` is off)."""
    summary, ts = result.summary, result.timeseries
    name = html.escape(scenario.name)
    description = f"<p>{html.escape(scenario.description)}</p>" if scenario.description.strip() else ""
    if plots:
        figures = "".join(f"<h3>{html.escape(CAPTIONS.get(p.stem, p.stem))}</h3>{img(p, p.stem)}" for p in plots)
    else:
        figures = '<p class="muted">Not drawn: the scenario sets <code>output.plots: false</code>.</p>'
    yaml_text = scenario_to_yaml(scenario)
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{name}: {int(summary["days"]):,} days, seed {scenario.seed}</title><style>{CSS}{EXTRA_CSS}</style></head><body>
<h1>{name}</h1>{description}
<p class="muted">One run of {int(summary["days"]):,} days, seed {scenario.seed}, a market of
{scenario.market.size:,} people; money in CNY.</p>
<p class="headline" id="headline">{html.escape(headline(scenario, summary, _members(ts)))}</p>{_incentives(summary)}
<section id="kpis"><h2>Headline KPIs</h2>{_cards(summary["final"])}
<h3>By window</h3>{_window_table(summary)}<p class="muted">{html.escape(WINDOWS_NOTE)}.</p></section>
<section id="figures"><h2>Figures</h2>{figures}</section>
<section id="alerts"><h2>Health alerts</h2><p class="muted">Days each alert was on, of the run's
{len(ts):,}; thresholds are the scenario's <code>health</code> settings.</p>{_alerts(ts)}</section>
<section id="events"><h2>Events</h2>{_events(summary, result.model.markers)}</section>
<section id="scenario"><h2>The scenario</h2><p class="muted">Every setting as run, as the run directory's
<code>scenario.yaml</code> holds it (<code>community-sim run</code> accepts it unchanged).</p>
<details><summary>Show the scenario ({yaml_text.count(chr(10)):,} lines)</summary><pre>{html.escape(yaml_text)}</pre>
</details></section>
</body></html>"""
    write_page(path, page)
    return path

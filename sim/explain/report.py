"""The explanation as an HTML section (usable inside any report page) and as a page of its own."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from sim.compare import fmt
from sim.explain.attribution import Attribution
from sim.explain.changes import Group, value_at
from sim.explain.words import breakdown_frame, label_of, not_interacting, share_text, unit_of
from sim.run import html as pages
from sim.run.html import CSS, img


def _value(x: object) -> str:
    text = json.dumps(x, ensure_ascii=False, default=str)
    return html.escape(text if len(text) <= 60 else text[:57] + "...")


def _changes_table(a: dict, b: dict, groups: list[Group]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(g.name)}</td><td><code>{html.escape(k)}</code></td><td>{_value(value_at(a, k))}</td>"
        f"<td>{_value(value_at(b, k))}</td></tr>"
        for g in groups
        for k in g.keys
    )
    return f"<table><tr><th>group</th><th>key</th><th>A</th><th>B</th></tr>{rows}</table>"


def _kpi_table(rows: pd.DataFrame, unit: str) -> str:
    """Groups, residual and interactions; shares only of a change whose 95% CI excludes 0. A pair whose
    interaction is exactly 0 in every replication does not interact: "none", not "0 people" or "0 CNY"."""
    total = rows[rows["kind"] == "total"].iloc[0]
    sure = pd.notna(total.ci_low) and (total.ci_low > 0 or total.ci_high < 0)
    body = ""
    for r in rows.itertuples():
        if r.kind == "total":
            continue
        ci = f"{fmt.change(r.ci_low, unit)} to {fmt.change(r.ci_high, unit)}" if pd.notna(r.ci_low) else "–"
        share = share_text(r.share_of_total) if sure and r.kind == "group" and pd.notna(r.share_of_total) else ""
        value = fmt.change(r.contribution, unit)
        if r.kind == "interaction" and not_interacting(r):
            value, ci = "none", ""
        body += (
            f"<tr><td>{html.escape(r.kind)}</td><td>{html.escape(r.name)}</td>"
            f"<td>{value}</td><td>{ci}</td><td>{share}</td></tr>"
        )
    return f"<table><tr><th>kind</th><th>name</th><th>contribution</th><th>95% CI</th><th>share</th></tr>{body}</table>"


def _breakdown_table(att: Attribution) -> str:
    frame = breakdown_frame(att)
    body = "".join(
        f"<tr><td>{html.escape(r.group)}</td><td>{html.escape(r.kpi)}</td><td>{html.escape(r.component)}</td>"
        f"<td>{fmt.change(r.contribution, unit_of(r.kpi))}</td></tr>"
        for r in frame.itertuples()
    )
    return f"<table><tr><th>group</th><th>part of</th><th>component</th><th>contribution</th></tr>{body}</table>"


def explain_section(
    att: Attribution, sentences: list[str], figures: dict[str, Path], a: dict, b: dict, groups: list[Group]
) -> str:
    """A ``<section>`` explaining B - A: sentences, changed keys, a waterfall and a table per KPI, the breakdown."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    parts = [
        '<section id="explain"><h2>Why B differs from A</h2>',
        f'<ul class="summary">{items}</ul>',
        "<h3>What changed</h3>",
        _changes_table(a, b, groups),
    ]
    for kpi, rows in att.table.groupby("kpi", sort=False):
        label = label_of(str(kpi))
        parts.append(f"<h3>{html.escape(label)}</h3>")
        if kpi in figures:
            parts.append(img(figures[kpi], f"waterfall of {label}"))
        parts.append(_kpi_table(rows, unit_of(str(kpi))))
    parts += [
        "<h3>Each group's contribution by ledger line and join source</h3>",
        "<p class='muted'>Profit = gross margin - ledger lines; members at the end = joins by source - churned. "
        "Components a group leaves exactly unchanged are not listed.</p>",
        _breakdown_table(att),
        f"<p class='muted'>Method: Shapley values over the groups ({html.escape(att.method)}); every coalition "
        "scenario (B's values for some groups, A's for the rest) ran with the same replication seeds, so the "
        "contributions add up to the paired difference B - A in every replication. Interactions: the pairwise "
        "Shapley interaction index, and the total minus the sum of each group's effect alone.</p>",
        "</section>",
    ]
    return "".join(parts)


def write_page(path: Path, title: str, section: str) -> Path:
    """A self-contained page holding ``section``."""
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>{section}</body></html>"
    )
    return pages.write_page(path, page)

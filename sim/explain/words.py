"""Plain sentences about an attribution: what changed, by how much, because of which group, and how."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.compare import fmt
from sim.explain.attribution import Attribution

MONEY = ("profit", "gmv", "cost", "margin", "revenue", "ltv", "aov", "liability")
PEOPLE = ("members", "churned", "joined", "new_", "dau", "mau", "buyer", "koc_count")


def unit_of(kpi: str) -> str:
    """``CNY`` for money KPIs, ``people`` for head counts, else no unit."""
    name = kpi.split(".", 1)[-1]
    if any(w in name for w in MONEY) and name != "roi":
        return "CNY"
    return "people" if any(name.startswith(w) or name == w for w in PEOPLE) else ""


def label_of(kpi: str) -> str:
    """``final.profit`` -> ``profit``; ``w90.members`` -> ``members after 90 days``."""
    head, name = kpi.split(".", 1)
    if head == "final":
        return name
    if head == "run":
        return f"{name} (run)"
    return f"{name} after {head[1:]} days" if head.startswith("w") else kpi


def component_label(component: str) -> str:
    """``line:koc_support`` -> ``via koc_support (ledger line)``; ``joins:paid`` -> ``via paid joins``."""
    kind, _, name = component.partition(":")
    words = {"line": f"{name} (ledger line)", "joins": f"{name} joins", "margin": "gross margin", "churned": "churn"}
    return "via " + words.get(kind, kind)


def share_text(x: float) -> str:
    """A share of the total, ``under 1%`` rather than ``-0%``."""
    return "under 1%" if abs(x) < 0.005 else f"{x:.0%}"


def not_interacting(row) -> bool:
    """A pair interaction of exactly 0 in every replication: the pair does not interact (e.g. neither group moved
    the KPI), so there is no amount to give it."""
    one = pd.isna(row.ci_low) and pd.isna(row.ci_high)  # one replication: its mean is that replication's value
    return row.contribution == 0 and (one or row.ci_low == row.ci_high)


def cost_only_groups(att: Attribution) -> dict[str, list[str]]:
    """Groups that moved nothing but ledger lines, with those lines."""
    out = {}
    for group, rows in att.breakdown.groupby("group", sort=False):
        if rows["component"].str.startswith("line:").all():
            out[str(group)] = [c.split(":", 1)[1] for c in rows["component"]]
    return out


def _parts(att: Attribution, group: str, kpi: str, unit: str) -> str:
    rows = att.breakdown[(att.breakdown["group"] == group) & (att.breakdown["kpi"] == kpi)]
    rows = rows.reindex(rows["contribution"].abs().sort_values(ascending=False).index).head(3)
    if len(rows):
        rows = rows[rows["contribution"].abs() >= 0.05 * rows["contribution"].abs().max()]  # the parts that matter
    return ", ".join(f"{fmt.change(r.contribution, unit)} {component_label(r.component)}" for r in rows.itertuples())


def _by_group(att: Attribution, groups: pd.DataFrame, kpi: str, unit: str, sure: bool) -> str:
    """The groups' Shapley values: first those whose 95% CI excludes 0 (with their share of a clear total and
    what they moved), then those within noise with their interval, then those that changed nothing."""
    how = "Shapley values, " + att.method
    clear, noise, nothing, unknown = [], [], [], []
    for g in groups.itertuples():
        if g.contribution == 0 and g.ci_low == g.ci_high:
            nothing.append(g.name)
        elif not (np.isfinite(g.ci_low) and np.isfinite(g.ci_high)):
            unknown.append(f"{g.name} {fmt.change(g.contribution, unit)}")
        elif g.ci_low > 0 or g.ci_high < 0:
            share = f", {share_text(g.share_of_total)} of the change" if sure else ""
            detail = _parts(att, g.name, kpi, unit) if kpi in ("final.profit", "final.members") else ""
            clear.append(f"{g.name} {fmt.change(g.contribution, unit)}{share}" + (f" ({detail})" if detail else ""))
        else:
            noise.append(
                f"{g.name} {fmt.change(g.contribution, unit)} "
                f"({fmt.change(g.ci_low, unit).removesuffix(f' {unit}')} to {fmt.change(g.ci_high, unit)})"
            )
    text = ""
    if unknown:  # a single replication: no interval tells a group from noise
        text += f" By group ({how}; one replication, so no interval tells a group from noise): {'; '.join(unknown)}."
    if clear:
        text += f" By group ({how}), those whose 95% CI excludes 0: {'; '.join(clear)}."
    if noise:
        lead = "Within noise (95% CI includes 0)" if clear else f"By group ({how}), no group's 95% CI excludes 0"
        text += f" {lead}: {'; '.join(noise)}."
    if nothing:
        text += f" No change at all from {', '.join(nothing)}."
    return text


def sentences(att: Attribution, a: str, b: str, days: int, replications: int) -> list[str]:
    """One paragraph per KPI, then a sentence per group that changed only costs."""
    out = []
    t = att.table
    for kpi, rows in t.groupby("kpi", sort=False):
        unit, label = unit_of(str(kpi)), label_of(str(kpi))
        total = rows[rows["kind"] == "total"].iloc[0]
        interval = (
            f"95% CI {fmt.change(total.ci_low, unit)} to {fmt.change(total.ci_high, unit)}, "
            f"{replications} paired replications"
            if np.isfinite(total.ci_low)
            else f"{replications} paired replication, so no interval"
        )
        text = (
            f"{b} changes {label} by {fmt.change(total.contribution, unit)} against {a} over {days} days "
            f"(from {fmt.amount(total.a_mean, unit)} to {fmt.amount(total.b_mean, unit)}; {interval})."
        )
        sure = np.isfinite(total.ci_low) and (total.ci_low > 0 or total.ci_high < 0)  # shares of a clear change only
        groups = rows[rows["kind"] == "group"]
        groups = groups.reindex(groups["contribution"].abs().sort_values(ascending=False).index)
        text += _by_group(att, groups, str(kpi), unit, sure)
        residual = rows[rows["kind"] == "residual"]
        if len(residual) and abs(total.contribution) > 0:
            r = residual.iloc[0]
            pairs = rows[rows["kind"] == "interaction"]
            pairs = pairs[[not not_interacting(p) for p in pairs.itertuples()]]  # a pair that does not interact
            text += f" The groups' effects alone add up to {fmt.change(total.contribution - r.contribution, unit)}; "
            text += f"{fmt.change(r.contribution, unit)} comes only from changes working together"
            if len(pairs):
                top = pairs.loc[pairs["contribution"].abs().idxmax()]
                text += f" (largest pair interaction: {top['name']}, {fmt.change(top.contribution, unit)})"
            text += "."
        out.append(text)
    for group, lines in cost_only_groups(att).items():
        out.append(
            f"{group} moved only cost lines in these runs ({', '.join(lines)}): with the same seeds, every join, "
            "every churn and the gross margin stayed exactly as under A in every replication."
        )
    return out


def breakdown_frame(att: Attribution) -> pd.DataFrame:
    """The breakdown with readable component names (for the report)."""
    out = att.breakdown.copy()
    out["component"] = out["component"].map(component_label)
    out["kpi"] = out["kpi"].map(label_of)
    return out

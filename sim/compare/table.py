"""The comparison table, the ranking by an objective, and the plain-language summary."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.compare.ensemble import Ensemble, RunRecord
from sim.compare.stats import paired, significant_runs

#: KPIs compared: key, label, unit, whether more is better.
KPIS: tuple[tuple[str, str, str, bool], ...] = (
    ("final.cum_profit", "profit", "CNY", True),
    ("final.gmv", "GMV", "CNY", True),
    ("final.members", "members at the end", "people", True),
    ("final.ltv_per_member", "spend per person ever joined (LTV)", "CNY", True),
    ("final.roi", "ROI", "ratio", True),
    ("final.churned", "members churned", "people", False),
    ("final.repurchase_rate", "repurchase rate (members: 2+ of 1+ purchases)", "share", True),
    ("final.k_factor", "K-factor (invited joins per member)", "per 30 days", True),
    ("retention.day_180", "180-day retention", "share", True),
    ("final.cost_total", "total cost", "CNY", False),
    ("final.cost_incentives", "incentive cost", "CNY", False),
    ("w90.cum_profit", "profit after 90 days", "CNY", True),
    ("w180.cum_profit", "profit after 180 days", "CNY", True),
    ("w180.members", "members after 180 days", "people", True),
)
OBJECTIVES = {
    "profit": "final.cum_profit",
    "gmv": "final.gmv",
    "members": "final.members",
    "ltv": "final.ltv_per_member",
    "roi": "final.roi",
}
_CONSTRAINT = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(<=|>=)\s*(-?[0-9.eE+-]+)\s*$")


def value(rec: RunRecord, key: str) -> float:
    """A KPI of one run: ``final.x``, ``w90.x`` (first 90 days) or ``retention.day_180``."""
    section, name = key.split(".", 1)
    if section == "final":
        return float(rec.summary["final"].get(name, np.nan))
    if section == "retention":
        return float(rec.summary["retention"].get(name, np.nan))
    window = rec.summary["windows"].get(section.lstrip("w"), {})
    return float(window.get(name, np.nan))


def values(ens: Ensemble, strategy: str, key: str) -> np.ndarray:
    return np.array([value(rec, key) for rec in ens.of(strategy)])


def comparison_table(ens: Ensemble, baseline: str) -> pd.DataFrame:
    """comparison.csv: per strategy and KPI, mean and CI, paired difference to the baseline and its statistics."""
    rows = []
    for key, label, unit, better in KPIS:
        base = values(ens, baseline, key)
        for s in ens.strategies:
            x = values(ens, s, key)
            st = paired(x, base)
            rel, rel_lo, rel_hi = st.relative
            own = paired(x, np.zeros_like(x))
            narrowing = 1 - st.halfwidth / st.unpaired_halfwidth if st.unpaired_halfwidth and s != baseline else np.nan
            rows.append(
                {
                    "strategy": s,
                    "kpi": key,
                    "label": label,
                    "unit": unit,
                    "higher_is_better": better,
                    "replications": len(x),
                    "mean": own.diff,
                    "ci_low": own.ci_low,
                    "ci_high": own.ci_high,
                    "diff": st.diff if s != baseline else 0.0,
                    "diff_ci_low": st.ci_low,
                    "diff_ci_high": st.ci_high,
                    "rel_diff": rel,
                    "rel_ci_low": rel_lo,
                    "rel_ci_high": rel_hi,
                    "p_value": st.p_value if s != baseline else np.nan,
                    "prob_beats_baseline": (st.prob_beats if better else 1 - st.prob_beats)
                    if s != baseline
                    else np.nan,
                    "unpaired_ci_halfwidth": st.unpaired_halfwidth,
                    "pairing_narrows_ci_by": narrowing,
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Objective:
    """What to rank by: a KPI, or a weighted score of KPIs relative to the baseline, with constraints."""

    weights: dict[str, float]
    constraints: tuple[tuple[str, str, float], ...] = ()
    label: str = "profit"

    @classmethod
    def parse(cls, text: str, constraints: list[str]) -> Objective:
        """``profit`` | ``gmv`` | ... | ``score:profit=1,gmv=0.5``; constraints like ``cost_incentives<=50000``."""
        parsed = []
        for c in constraints:
            m = _CONSTRAINT.match(c)
            if not m:
                raise ValueError(f"constraint {c!r}: write KPI<=VALUE or KPI>=VALUE, e.g. cost_incentives<=50000")
            parsed.append((_key(m.group(1)), m.group(2), float(m.group(3))))
        if text.startswith("score:"):
            weights = {}
            for part in text[6:].split(","):
                name, _, w = part.partition("=")
                try:
                    weights[_key(name.strip())] = float(w) if w else 1.0
                except ValueError:
                    raise ValueError(f"objective {text!r}: weight of {name!r} is not a number") from None
            return cls(weights, tuple(parsed), text)
        return cls({_key(text): 1.0}, tuple(parsed), text)


def _key(name: str) -> str:
    if name in OBJECTIVES:
        return OBJECTIVES[name]
    if "." in name:
        return name
    return f"final.{name}"


def ranking(ens: Ensemble, baseline: str, objective: Objective) -> pd.DataFrame:
    """Strategies ranked by the objective (score = sum of weights x mean / |baseline mean|); violators last."""
    rows = []
    for s in ens.strategies:
        score = 0.0
        for key, w in objective.weights.items():
            base = np.nanmean(values(ens, baseline, key))
            mean = np.nanmean(values(ens, s, key))
            score += w * (mean if len(objective.weights) == 1 else mean / (abs(base) or 1.0))
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
                "meets_constraints": not broken,
                "violates": "; ".join(broken),
            }
        )
    table = pd.DataFrame(rows).sort_values(["meets_constraints", "score"], ascending=[False, False], kind="stable")
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.reset_index(drop=True)


def _money(x: float) -> str:
    return f"{x:,.0f} CNY"


def summary_sentences(ens: Ensemble, baseline: str, objective: Objective, days: int) -> list[str]:
    """One plain-language sentence per strategy against the baseline."""
    key = next(iter(objective.weights))
    label = next((lab for k, lab, _, _ in KPIS if k == key), key)
    if key.startswith("final."):
        label = f"{days}-day {label}"
    out = []
    base = values(ens, baseline, key)
    for s in ens.strategies:
        if s == baseline:
            continue
        st = paired(values(ens, s, key), base)
        rel, lo, hi = st.relative
        if st.n < 2:
            text = f"{s} changes {label} by {rel:+.0%} over {baseline} (one replication: no interval)"
        elif st.p_value < 0.05:
            verb = "raises" if st.diff > 0 else "lowers"
            text = (
                f"{s} {verb} {label} by {abs(rel):.0%} (95% CI {lo:+.0%} to {hi:+.0%}, "
                f"{_money(st.diff)}) over {baseline}"
            )
        else:
            text = (
                f"{s} does not change {label} detectably over {baseline}: {rel:+.0%} "
                f"(95% CI {lo:+.0%} to {hi:+.0%}, p = {st.p_value:.2f})"
            )
        churn = _monthly_pattern(ens, s, baseline, "churned", "churn")
        out.append(text + (f"; {churn}" if churn else "") + ".")
    return out


def _monthly_pattern(ens: Ensemble, s: str, baseline: str, kpi: str, word: str) -> str:
    """E.g. "its churn is higher in months 4 to 6" from paired tests of monthly totals."""
    a, b = ens.series(s, kpi), ens.series(baseline, kpi)
    months = a.shape[1] // 30
    if a.shape[0] < 2 or months == 0:
        return ""
    p, sign = np.ones(months), np.zeros(months)
    for m in range(months):
        st = paired(a[:, 30 * m : 30 * (m + 1)].sum(1), b[:, 30 * m : 30 * (m + 1)].sum(1))
        p[m], sign[m] = (st.p_value if np.isfinite(st.p_value) else 1.0), np.sign(st.diff)
    parts = []
    for start, end, sg in significant_runs(p, sign):
        when = f"month {start + 1}" if start == end else f"months {start + 1} to {end + 1}"
        parts.append(f"{'higher' if sg > 0 else 'lower'} in {when}")
    return f"its {word} is " + ", and ".join(parts) if parts else ""

"""The comparison table, the objective and the plain-language summary (the ranking: ``sim.compare.ranking``).

ROI is ``profit / spend`` (``final.roi``: cumulative profit over cumulative cost).
Between strategies it is compared two ways that cannot reward losing more money:
its difference in percentage points, and the incremental ROI against the
baseline, ``Δprofit / Δspend`` (what each extra yuan spent added to profit;
undefined when the spend hardly differs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.compare import fmt
from sim.compare.ensemble import Ensemble, RunRecord
from sim.compare.stats import incremental_ratio, mean_ci, paired, significant_runs
from sim.experiment.kpis import column_support, expand, less_is_better
from sim.run.summary import WINDOWS

PROFIT, SPEND, ROI = "final.cum_profit", "final.cost_total", "final.roi"
#: Points members still hold at the end, in CNY: a cost to come that profit leaves out.
OWED = "final.points_liability"
#: The comparison table's row of incremental ROI (a statistic against the baseline, not a run's KPI).
INCREMENTAL_ROI = "incremental.roi"

#: KPIs compared: key, label, unit, whether more is better.
KPIS: tuple[tuple[str, str, str, bool], ...] = (
    (PROFIT, "profit", "CNY", True),
    ("final.gmv", "GMV", "CNY", True),
    ("final.members", "members at the end", "people", True),
    ("final.ever_joined", "people ever joined", "people", True),
    ("final.ltv_per_member", "spend per person ever joined (LTV)", "CNY", True),
    (ROI, "ROI (profit / spend)", "ratio", True),
    (INCREMENTAL_ROI, "incremental ROI (Δprofit / Δspend against the baseline)", "ratio", True),
    ("final.churned", "members churned", "people", False),
    ("final.repurchase_rate", "repurchase rate (members: 2+ of 1+ purchases)", "share", True),
    ("final.k_factor", "K-factor (invited joins per member)", "per 30 days", True),
    ("retention.day_180", "180-day retention", "share", True),
    (SPEND, "total cost (spend)", "CNY", False),
    ("final.cost_incentives", "incentive cost", "CNY", False),
    ("w90.cum_profit", "profit after 90 days", "CNY", True),
    ("w180.cum_profit", "profit after 180 days", "CNY", True),
    ("w180.members", "members after 180 days", "people", True),
)
OBJECTIVES = {
    "profit": PROFIT,
    "gmv": "final.gmv",
    "members": "final.members",
    "ltv": "final.ltv_per_member",
    "roi": ROI,
}
_CONSTRAINT = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(<=|>=)\s*(-?[0-9.eE+-]+)\s*$")


def value(rec: RunRecord, key: str) -> float:
    """A KPI of one run: ``final.x``, ``w90.x`` (first 90 days), ``funnel.buyer`` or ``retention.day_180``."""
    section, name = key.split(".", 1)
    if section in ("final", "funnel", "retention"):
        return float(rec.summary.get(section, {}).get(name, np.nan))
    window = rec.summary["windows"].get(section.lstrip("w"), {})
    return float(window.get(name, np.nan))


def values(ens: Ensemble, strategy: str, key: str) -> np.ndarray:
    return np.array([value(rec, key) for rec in ens.of(strategy)])


def shown_kpis(ens: Ensemble) -> list[tuple[str, str, str, bool]]:
    """The KPIs worth a row: no window as long as the run (it repeats the final value), none undefined everywhere."""
    rows = []
    for kpi in KPIS:
        key = kpi[0]
        head = key.split(".", 1)[0]
        if head.startswith("w") and int(head[1:]) >= ens.days:
            continue
        if key != INCREMENTAL_ROI and not any(np.isfinite(values(ens, s, key)).any() for s in ens.strategies):
            continue
        rows.append(kpi)
    return rows


def incremental_roi(ens: Ensemble, strategy: str, baseline: str):
    """Δprofit / Δspend of ``strategy`` against ``baseline``, paired by replication (a ``Ratio``)."""
    d_profit = values(ens, strategy, PROFIT) - values(ens, baseline, PROFIT)
    d_spend = values(ens, strategy, SPEND) - values(ens, baseline, SPEND)
    return incremental_ratio(d_profit, d_spend, float(np.mean(values(ens, baseline, SPEND))))


def comparison_table(ens: Ensemble, baseline: str) -> pd.DataFrame:
    """comparison.csv: per strategy and KPI, mean and CI, paired difference to the baseline and its statistics."""
    rows = []
    for key, label, unit, better in shown_kpis(ens):
        if key == INCREMENTAL_ROI:
            rows += [_incremental_row(ens, s, baseline, label, unit) for s in ens.strategies]
            continue
        base = values(ens, baseline, key)
        support = column_support(key)
        for s in ens.strategies:
            x = values(ens, s, key)
            st = paired(x, base)
            rel, rel_lo, rel_hi = st.relative
            mean, lo, hi = mean_ci(x, support=support)
            other = s != baseline
            narrowing = 1 - st.halfwidth / st.unpaired_halfwidth if st.unpaired_halfwidth and other else np.nan
            rows.append(
                {
                    "strategy": s,
                    "kpi": key,
                    "label": label,
                    "unit": unit,
                    "higher_is_better": better,
                    "replications": len(x),
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "diff": st.diff if other else 0.0,
                    "diff_ci_low": st.ci_low if other else np.nan,
                    "diff_ci_high": st.ci_high if other else np.nan,
                    "rel_diff": rel if other else np.nan,
                    "rel_ci_low": rel_lo if other else np.nan,
                    "rel_ci_high": rel_hi if other else np.nan,
                    "p_value": st.p_value if other else np.nan,
                    "prob_beats_baseline": (st.prob_beats if better else 1 - st.prob_beats) if other else np.nan,
                    "unpaired_ci_halfwidth": st.unpaired_halfwidth if other else np.nan,
                    "pairing_narrows_ci_by": narrowing,
                }
            )
    return pd.DataFrame(rows)


def _incremental_row(ens: Ensemble, s: str, baseline: str, label: str, unit: str) -> dict:
    """Incremental ROI against the baseline: its value and Fieller interval; none for the baseline itself."""
    r = incremental_roi(ens, s, baseline) if s != baseline else None
    nan = np.nan
    return {
        "strategy": s,
        "kpi": INCREMENTAL_ROI,
        "label": label,
        "unit": unit,
        "higher_is_better": True,
        "replications": len(ens.of(s)),
        "mean": r.value if r else nan,
        "ci_low": r.ci_low if r else nan,
        "ci_high": r.ci_high if r else nan,
        **dict.fromkeys(("diff", "diff_ci_low", "diff_ci_high", "rel_diff", "rel_ci_low", "rel_ci_high"), nan),
        **dict.fromkeys(("p_value", "prob_beats_baseline", "unpaired_ci_halfwidth", "pairing_narrows_ci_by"), nan),
    }


@dataclass(frozen=True)
class Objective:
    """What to rank by: a KPI, or a weighted score of KPIs relative to the baseline, with constraints.

    A KPI ranks in its own direction (``churned``, ``cost_total``: the lowest first). A weighted
    score is always higher-is-better: each KPI enters in its good direction (one where less is
    better with a minus sign), so a weight says how much the KPI counts, never which way.
    """

    weights: dict[str, float]
    constraints: tuple[tuple[str, str, float], ...] = ()
    label: str = "profit"
    weighted: bool = False

    @classmethod
    def parse(
        cls,
        text: str,
        constraints: list[str],
        days: int | None = None,
        options: tuple[str, str] = ("--objective", "--constraint"),
    ) -> Objective:
        """``profit`` | ``gmv`` | ... | ``score:profit=1,gmv=0.5``; constraints like ``cost_incentives<=50000``.

        Every KPI name is checked (against runs of ``days`` days, if given) before anything runs: a typo
        would otherwise rank in input order or break every constraint. Errors name the option (``options``).
        """
        name, limit = options
        parsed = []
        for c in constraints:
            m = _CONSTRAINT.match(c)
            if not m:
                raise ValueError(f"{limit} {c!r}: write KPI<=VALUE or KPI>=VALUE, e.g. cost_incentives<=50000")
            parsed.append((_key(m.group(1), days, limit), m.group(2), float(m.group(3))))
        if text.startswith("score:"):
            weights = {}
            for part in text[6:].split(","):
                kpi, _, w = (x.strip() for x in part.partition("="))
                try:
                    weight = float(w) if w else 1.0
                except ValueError:
                    raise ValueError(f"{name} {text!r}: weight of {kpi!r} is not a number") from None
                if weight < 0:
                    raise ValueError(
                        f"{name} {text!r}: weight of {kpi!r} is negative; a weight says how much a KPI counts and "
                        "each KPI already enters in its good direction (less churn and cost raise the score)"
                    )
                weights[_key(kpi, days, name)] = weight
            return cls(weights, tuple(parsed), text, weighted=True)
        return cls({_key(text.strip(), days, name): 1.0}, tuple(parsed), text)

    @property
    def is_roi(self) -> bool:
        return list(self.weights) == [ROI]

    @property
    def higher_is_better(self) -> bool:
        """Whether the highest score ranks first: a KPI's own direction; always for ROI and a weighted score."""
        return self.weighted or self.is_roi or not less_is_better(next(iter(self.weights)))

    def sign(self, key: str) -> int:
        """How a KPI enters the score: -1 for one where less is better in a weighted score, else 1."""
        return -1 if self.weighted and less_is_better(key) else 1

    @property
    def title(self) -> str:
        """``churned (lower is better)``: what the ranking is by, and which way."""
        return f"{self.label} ({'higher' if self.higher_is_better else 'lower'} is better)"


def _key(name: str, days: int | None, option: str) -> str:
    """The run column ``name`` means (``profit`` is cumulative profit, a bare name its final value); an unknown
    KPI, or a window longer than the runs, is refused with the names of the closest KPIs."""
    if name in OBJECTIVES:
        return OBJECTIVES[name]
    columns, problems = expand([name], days if days is not None else max(WINDOWS) + 1)
    if problems:
        raise ValueError(f"{option}: {problems[0][1]}")
    return columns[0]


def _label(key: str, days: int) -> tuple[str, str]:
    """A KPI's words in a sentence (``180-day profit``) and its unit."""
    label, unit = next(((lab, u) for k, lab, u, _ in KPIS if k == key), (key, ""))
    if key == ROI:
        label = "ROI"
    return (f"{days}-day {label}" if key.startswith("final.") else label), unit


def profit_overview(ens: Ensemble, days: int) -> str:
    """Whether the strategies make or lose money: the first thing a comparison must not hide."""
    profit = {s: float(np.nanmean(values(ens, s, PROFIT))) for s in ens.strategies}
    order = sorted(profit, key=profit.get, reverse=True)
    n = len(order)
    every = "Both strategies" if n == 2 else f"All {n} strategies"
    losing = [s for s in order if round(profit[s]) < 0]
    making = [s for s in order if round(profit[s]) > 0]

    def listed(names: list[str]) -> str:
        parts = [f"{s} ({fmt.money(profit[s])})" for s in names]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    if len(losing) == n:
        text = f"{every} lose money over {days} days; the least loss is {order[0]} ({fmt.money(profit[order[0]])})"
        return text + (f", the largest {order[-1]} ({fmt.money(profit[order[-1]])})." if n > 2 else ".")
    if len(making) == n:
        text = f"{every} make money over {days} days; the most is {order[0]} ({fmt.money(profit[order[0]])})"
        return text + (f", the least {order[-1]} ({fmt.money(profit[order[-1]])})." if n > 2 else ".")
    rest = [s for s in order if s not in making and s not in losing]
    text = f"{len(making)} of {n} strategies make money over {days} days: {listed(making) if making else 'none'}"
    if losing:
        text += f"; {listed(losing)} {'loses' if len(losing) == 1 else 'lose'} money"
    if rest:
        text += f"; {listed(rest)} {'breaks' if len(rest) == 1 else 'break'} even"
    return text + "."


def summary_sentences(ens: Ensemble, baseline: str, objective: Objective, days: int) -> list[str]:
    """Whether the strategies make money, then one plain-language sentence per strategy against the baseline."""
    key = next(iter(objective.weights))
    out = [profit_overview(ens, days)]
    for s in ens.strategies:
        if s == baseline:
            continue
        text = _roi_sentence(ens, s, baseline, days) if key == ROI else _sentence(ens, s, baseline, key, days)
        churn = _monthly_pattern(ens, s, baseline, "churned", "members", "monthly churn rate")
        out.append(text + (f"; {churn}" if churn else "") + ".")
    return out


def _sentence(ens: Ensemble, s: str, baseline: str, key: str, days: int) -> str:
    label, unit = _label(key, days)
    st = paired(values(ens, s, key), values(ens, baseline, key))
    rel, lo, hi = st.relative
    in_pp = unit in fmt.PERCENT_UNITS
    d = fmt.decimals_for(rel)
    size = fmt.change(abs(st.diff), unit).lstrip("+")
    if not in_pp and np.isfinite(rel):
        size += f" ({fmt.pct(rel, decimals=d)})"
    verb = "raises" if st.diff > 0 else "lowers"
    if st.n < 2:
        text = (
            f"{s} {verb} {label} by {size} against {baseline} in its one replication (no interval)"
            if st.diff
            else f"{s} leaves {label} unchanged against {baseline} in its one replication"
        )
    else:
        if in_pp:
            ci = fmt.pp_range(st.ci_low, st.ci_high)
        elif np.isfinite(rel):
            ci = fmt.pct_range(lo, hi)
        else:
            ci = f"{fmt.change(st.ci_low, unit)} to {fmt.change(st.ci_high, unit)}"
        stats = f"95% CI {ci}, {fmt.p_value(st.p_value)}"
        if st.p_value < 0.05:
            text = f"{s} {verb} {label} by {size} against {baseline} ({stats})"
        else:
            shown = fmt.change(st.diff, unit) + (
                f", {fmt.pct(rel, decimals=d)}" if not in_pp and np.isfinite(rel) else ""
            )
            text = f"{s} does not change {label} detectably against {baseline}: {shown} ({stats})"
    return text + _profit_clause(ens, s, baseline, key)


def _profit_clause(ens: Ensemble, s: str, baseline: str, key: str) -> str:
    """Where the strategy's profit stands, so no sentence hides a loss, nor points still owed that it leaves out."""
    mine = float(np.nanmean(values(ens, s, PROFIT)))
    held = values(ens, s, OWED)  # NaN in summaries written before the KPI existed
    owed = float(np.nanmean(held)) if np.isfinite(held).any() else 0.0
    owing = f", with {owed:,.0f} CNY of points still owed (not in its profit)" if round(owed) > 0 else ""
    if key == PROFIT:
        return f", to {fmt.money(mine)}{owing}"
    diff = mine - float(np.nanmean(values(ens, baseline, PROFIT)))
    side = "the same as" if round(diff) == 0 else "above" if diff > 0 else "below"
    gap = "" if side == "the same as" else f"{abs(diff):,.0f} CNY "
    return f"; its profit is {fmt.money(mine)}, {gap}{side} {baseline}'s{owing}"


def _roi_sentence(ens: Ensemble, s: str, baseline: str, days: int) -> str:
    """ROI against the baseline as incremental ROI (Δprofit / Δspend) and ROI in percentage points."""
    r = incremental_roi(ens, s, baseline)
    profit_st = paired(values(ens, s, PROFIT), values(ens, baseline, PROFIT))
    roi_s, roi_b = (float(np.nanmean(values(ens, x, ROI))) for x in (s, baseline))
    p = f" ({fmt.p_value(profit_st.p_value)})" if np.isfinite(profit_st.p_value) else ""
    gained = "more" if r.d_profit > 0 else "less"
    levels = (fmt.pct(x, signed=False, decimals=1) for x in (roi_s, roi_b))
    roi = "its {}-day ROI is {} against {} ({})".format(days, *levels, fmt.pp(roi_s - roi_b))
    if not r.defined:
        text = (
            f"{s} spends about as much as {baseline} ({fmt.change(r.d_spend, 'CNY')}), so its incremental ROI is "
            f"undefined; it makes {abs(r.d_profit):,.0f} CNY {gained} profit{p}"
        )
    else:
        spent = "more" if r.d_spend > 0 else "less"
        if r.d_spend > 0:
            meaning = f"each extra yuan spent {'added' if r.value > 0 else 'lost'} {abs(r.value):.2f} CNY of profit"
        elif r.d_profit > 0:
            meaning = "less spend and more profit"
        else:
            meaning = f"each yuan saved cost {r.value:.2f} CNY of profit"
        if r.n < 2:
            ci = "one replication: no interval"
        elif r.bounded:
            ci = f"95% CI {fmt.pct_range(r.ci_low, r.ci_high)}"
        else:
            ci = "interval unbounded: the spend difference is not distinguishable from 0"
        text = (
            f"{s} spends {abs(r.d_spend):,.0f} CNY {spent} than {baseline} and makes {abs(r.d_profit):,.0f} CNY "
            f"{gained} profit{p}: incremental ROI {fmt.pct(r.value)} ({ci}), {meaning}"
        )
    return f"{text}; {roi}; its profit is {fmt.money(float(np.nanmean(values(ens, s, PROFIT))))}"


def monthly_rates(events: np.ndarray, stock: np.ndarray) -> np.ndarray:
    """Replications x months: each 30-day month's sum of ``events`` over its mean of ``stock``.

    The monthly churn rate is ``churned`` over mean ``members``: people who left in the month
    per member of the month, on the scale of ``k_factor`` (a month's joins per mean member).
    NaN where the month's mean stock is 0; days after the last whole month are left out.
    """
    months = events.shape[1] // 30
    shape = (events.shape[0], months, 30)
    total = events[:, : 30 * months].reshape(shape).sum(axis=2)
    mean = stock[:, : 30 * months].reshape(shape).mean(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, total / np.where(mean > 0, mean, 1.0), np.nan)


def _monthly_pattern(ens: Ensemble, s: str, baseline: str, kpi: str, per: str, words: str) -> str:
    """E.g. "its monthly churn rate is higher in months 4 to 6" from paired tests of monthly rates.

    A month's rate is its sum of ``kpi`` over its mean of ``per`` (``monthly_rates``), so a strategy
    with more members is not said to lose more of them when they leave at the same rate.
    """
    a = monthly_rates(ens.series(s, kpi).astype(float), ens.series(s, per).astype(float))
    b = monthly_rates(ens.series(baseline, kpi).astype(float), ens.series(baseline, per).astype(float))
    months = a.shape[1]
    if a.shape[0] < 2 or months == 0:
        return ""
    p, sign = np.ones(months), np.zeros(months)
    for m in range(months):
        if not (np.isfinite(a[:, m]).all() and np.isfinite(b[:, m]).all()):
            continue  # a replication without members that month: no rate, no test
        st = paired(a[:, m], b[:, m])
        p[m], sign[m] = (st.p_value if np.isfinite(st.p_value) else 1.0), np.sign(st.diff)
    phrase = months_phrase(significant_runs(p, sign))
    return f"its {words} is {phrase}" if phrase else ""


def months_phrase(runs) -> str:
    """Runs of months ``(start, end, sign)`` (0-based) as words: "lower in months 1, 3 to 4 and 6"."""
    spans: dict[str, list[str]] = {}  # by direction, in month order
    for start, end, sg in runs:
        spans.setdefault("higher" if sg > 0 else "lower", []).append(
            f"{start + 1}" if start == end else f"{start + 1} to {end + 1}"
        )
    parts = []
    for direction, listed in spans.items():
        single = len(listed) == 1 and "to" not in listed[0]
        text = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
        parts.append(f"{direction} in {'month' if single else 'months'} {text}")
    return ", and ".join(parts)

"""End-of-run tables: headline KPIs by window, the lifecycle funnel, second purchases, cohort retention."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.core.population import CHURNED, MEMBER, Population
from sim.observe.metrics import HEADLINE_FLOWS, HEADLINE_STOCKS

WINDOWS = (30, 90, 180)

#: KPIs summed over a window (flows) and read at its last day (stocks): the headline KPIs.
FLOWS: tuple[str, ...] = HEADLINE_FLOWS
STOCKS: tuple[str, ...] = HEADLINE_STOCKS

#: The KPIs a run reports first (terminal table and report.html): summary key, label, format.
HEADLINE = (
    ("members", "members at the end", "{:,.0f}"),
    ("ever_joined", "ever joined", "{:,.0f}"),
    ("new_members", "joins (incl. rejoins)", "{:,.0f}"),
    ("churned", "churned (total)", "{:,.0f}"),
    ("dau_mau", "DAU/MAU", "{:.2f}"),
    ("repurchase_rate", "repurchase (members 2+/1+)", "{:.1%}"),
    ("referral_conversion", "referral conversion", "{:.1%}"),
    ("k_factor", "K-factor (invited, 30 d)", "{:.3f}"),
    ("k_factor_referral", "K-factor (referrals, 30 d)", "{:.3f}"),
    ("nps", "NPS proxy", "{:.0f}"),
    ("gmv", "GMV (CNY)", "{:,.0f}"),
    ("cost_total", "total cost (CNY)", "{:,.0f}"),
    ("profit", "profit (CNY)", "{:,.0f}"),
    ("roi", "ROI", "{:.2f}"),
)


def headline_columns(summary: dict) -> list[tuple[str, dict]]:
    """The headline table's columns, named alike in the console and report.html: the whole run, then its first
    30, 90 and 180 days (``WINDOWS_NOTE``; a window as long as the run would repeat the whole run, and is left
    out). Short names: the table fits an 80-column terminal without wrapping its labels."""
    days = summary.get("days")
    windows = [(f"{w} days", v) for w, v in summary["windows"].items() if int(w) != days]
    return [("whole run", summary["final"]), *windows]


#: What the window columns are, under the table.
WINDOWS_NOTE = "N days: the run's first N days, stocks at the last of them"


def window_kpis(ts: pd.DataFrame, days: int) -> dict[str, float]:
    """KPIs over the first ``days`` days: flows summed, stocks at the last day, plus ratios."""
    w = ts.iloc[:days]
    out = {k: float(w[k].sum()) for k in FLOWS if k in w}
    out.update({k: float(w[k].iloc[-1]) for k in STOCKS if k in w})
    out["days"] = int(len(w))
    out["aov"] = out["gmv"] / out["purchases"] if out.get("purchases") else 0.0
    out["referral_conversion"] = out["referrals_accepted"] / out["invitations"] if out.get("invitations") else 0.0
    return out


def summarize(ts: pd.DataFrame, pop: Population, churn_score: dict | None = None) -> dict:
    """``summary.json`` content: final KPIs, 30/90/180-day windows, funnel, retention, second purchases and,
    when given, the churn-risk score's AUC (``ScoreBook.summary``)."""
    n_days = len(ts)
    windows = {str(w): window_kpis(ts, w) for w in WINDOWS if w <= n_days}
    final = window_kpis(ts, n_days)
    final["ltv_per_member"] = float(pop.spend[pop.join_day >= 0].mean()) if (pop.join_day >= 0).any() else 0.0
    out = {
        "days": n_days,
        "final": final,
        "windows": windows,
        "funnel": funnel(pop),
        "retention": {f"day_{d}": v for d, v in retention_at(pop, n_days, (30, 90, 180)).items()},
        "second_purchase": {f"within_{d}": v for d, v in second_purchase_within(pop, n_days, (30, 90, 180)).items()},
    }
    if churn_score is not None:
        out["churn_score"] = churn_score
    return out


def funnel(pop: Population) -> dict[str, int]:
    """Lifecycle funnel at the end of the run: each stage is a subset of the one before.

    ``joined`` is everyone who has ever joined, members and churned alike (the KPI ``ever_joined``),
    not the current ``members``.
    """
    joined = pop.join_day >= 0
    buyer = joined & (pop.purchases >= 1)
    repeat = buyer & (pop.purchases >= 2)
    advocate = repeat & (pop.invited >= 1)  # someone joined through them: referral or group buy, as the stage
    return {
        "market": int(pop.n),
        "joined": int(joined.sum()),
        "buyer": int(buyer.sum()),
        "repeat_buyer": int(repeat.sum()),
        "advocate": int(advocate.sum()),
    }


def retention_at(pop: Population, n_days: int, ages: tuple[int, ...]) -> dict[int, float]:
    """Share of people who joined at least ``age`` days before the end still members ``age`` days after joining."""
    out = {}
    joined = pop.join_day >= 0
    for age in ages:
        eligible = joined & (pop.join_day <= n_days - 1 - age)
        if not eligible.any():
            continue
        alive = (pop.status == MEMBER) | ((pop.status == CHURNED) & (pop.churn_day - pop.join_day > age))
        out[age] = float((alive & eligible).sum() / eligible.sum())
    return out


def second_purchase_within(pop: Population, n_days: int, windows: tuple[int, ...]) -> dict[int, float]:
    """Share of first-time buyers whose second purchase came within ``w`` days of their first.

    Only buyers whose first purchase is at least ``w`` days before the end count,
    so every one of them could have been seen rebuying.
    """
    out = {}
    first, second = pop.first_purchase, pop.second_purchase
    for w in windows:
        eligible = (first >= 0) & (first <= n_days - 1 - w)
        if eligible.any():
            again = eligible & (second >= 0) & (second - first <= w)
            out[w] = float(again.sum() / eligible.sum())
    return out


def cohort_retention(pop: Population, n_days: int, period: int = 30) -> pd.DataFrame:
    """Retention by monthly join cohort: rows = cohort (month joined), columns = months since joining.

    Entry (c, k) is the share of cohort c still a member k periods after joining,
    NaN where the cohort has not yet been observed that long.
    """
    joined = np.flatnonzero(pop.join_day >= 0)
    jd = pop.join_day[joined]
    end = np.where(pop.status[joined] == CHURNED, pop.churn_day[joined], n_days)
    cohort = jd // period
    n_cohorts = (n_days - 1) // period + 1
    table = np.full((n_cohorts, n_cohorts), np.nan)
    for c in range(n_cohorts):
        sel = cohort == c
        if not sel.any():
            continue
        j, e = jd[sel], end[sel]
        for k in range(n_cohorts - c):
            observed = j + k * period <= n_days - 1
            if not observed.any():
                break
            table[c, k] = float(np.mean(e[observed] > j[observed] + k * period))
    return pd.DataFrame(
        table, index=pd.Index(range(n_cohorts), name="cohort_month"), columns=[f"month_{k}" for k in range(n_cohorts)]
    )

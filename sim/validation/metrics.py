"""Precisely defined validation metrics, each a function of one finished run.

Every metric states its window and denominator; the suite (suite.yaml) refers to
them by name. Values are plain floats so runs can be scored in worker processes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.core.population import MEMBER
from sim.run.runner import RunResult
from sim.validation.theory import bass_F

Metric = Callable[[RunResult], float]
METRICS: dict[str, tuple[str, Metric]] = {}


def metric(doc: str) -> Callable[[Metric], Metric]:
    def register(fn: Metric) -> Metric:
        METRICS[fn.__name__] = (doc, fn)
        return fn

    return register


@metric(
    "Share of buyers (current members with at least one purchase) who bought at least twice, at the end of the run "
    "(the KPI repurchase_rate on the last day)."
)
def repurchase_rate(r: RunResult) -> float:
    return float(r.timeseries["repurchase_rate"].iloc[-1])


@metric(
    "Share of first-time buyers who bought again within 90 days of the first purchase "
    "(buyers whose first purchase was at least 90 days before the end; summary.json second_purchase.within_90)."
)
def second_purchase_within_90(r: RunResult) -> float:
    return float(r.summary["second_purchase"].get("within_90", np.nan))


@metric("Mean over 30-day periods 3 to 12 of the share of a period's buyers who bought again in the next period.")
def monthly_repurchase_rate(r: RunResult) -> float:
    return float(r.timeseries["monthly_repurchase_rate"].iloc[89::30].mean())


@metric(
    "Mean over the last three 30-day periods of the run of the share of a period's buyers who bought again in the "
    "next period: repurchase once a change that takes months to reach buyers (product iteration) has reached them."
)
def late_monthly_repurchase_rate(r: RunResult) -> float:
    ends = r.timeseries["monthly_repurchase_rate"].iloc[29::30]
    return float(ends.iloc[-3:].mean()) if len(ends) >= 4 else float("nan")


@metric(
    "Mean spend of members who joined by referral / mean spend of those who joined by another source in the "
    "same 30-day period, over the joiners of the first six periods (each followed at least half a year), "
    "weighted by referral joiners."
)
def referral_value_ratio(r: RunResult) -> float:
    from sim.mechanisms.registry import JOIN_SOURCES

    pop = r.model.pop
    period = pop.join_day // 30
    referred = pop.join_source == JOIN_SOURCES.index("referral")
    ratios, weights = [], []
    for m in range(6):
        ref = (period == m) & referred & (pop.join_day > 0)
        other = (period == m) & ~referred & (pop.join_day > 0)
        if ref.sum() >= 5 and other.sum() >= 5 and pop.spend[other].mean() > 0:
            ratios.append(pop.spend[ref].mean() / pop.spend[other].mean())
            weights.append(ref.sum())
    return float(np.average(ratios, weights=weights)) if ratios else float("nan")


@metric("Accepted invitations / invitations sent to prospects, over the whole run.")
def referral_conversion(r: RunResult) -> float:
    ts = r.timeseries
    return float(ts["referrals_accepted"].sum() / max(ts["invitations"].sum(), 1))


@metric("Members who joined through group buying / all members who joined after day 0 (initial members excluded).")
def group_buy_share_of_new(r: RunResult) -> float:
    ts = r.timeseries
    return float(ts["new_group_buy"].sum() / max(ts["new_members"].sum() - ts["new_initial"].sum(), 1))


@metric("Share of members who joined at least 180 days before the end still members 180 days after joining.")
def retention_180(r: RunResult) -> float:
    return float(r.summary["retention"].get("day_180", np.nan))


@metric("Mean over days 90 to the end of DAU / members.")
def active_share(r: RunResult) -> float:
    return float(r.timeseries["active_share"].iloc[90:].mean())


@metric("Operating cost over the run: operators (salaries, crisis response) + content + KOCs, in CNY.")
def operating_cost(r: RunResult) -> float:
    ts = r.timeseries
    return float(ts[["cost_operators", "cost_content", "cost_koc"]].sum().sum())


@metric("Referral joins over the run / mean number of members over the run.")
def referral_joins_per_member(r: RunResult) -> float:
    ts = r.timeseries
    return float(ts["new_referral"].sum() / max(ts["members"].mean(), 1e-12))


@metric("Visitors who bought on the day of their visit / visits, over days 30 to the end (the KPI conversion).")
def conversion(r: RunResult) -> float:
    ts = r.timeseries.iloc[30:]
    buying_visitors = np.rint(ts["conversion"] * ts["visits"])  # the daily numerator, an exact count
    return float(buying_visitors.sum() / max(ts["visits"].sum(), 1))


@metric("Interactions / visits over days 30 to the end.")
def interactions_per_active(r: RunResult) -> float:
    ts = r.timeseries.iloc[30:]
    return float(ts["interactions"].sum() / max(ts["visits"].sum(), 1))


@metric("Mean over days 30 to the end of the average minutes per visit.")
def dwell_minutes(r: RunResult) -> float:
    return float(r.timeseries["dwell_minutes"].iloc[30:].mean())


@metric(
    "UGC forwards per view of user content / brand forwards per view of a brand post, over the whole run "
    "(forwards drawn one by one; views are visits x the posts a visit views, every post of the feed alike, so it "
    "is also forwards per post per visit)."
)
def ugc_forward_ratio(r: RunResult) -> float:
    ts = r.timeseries
    ugc = ts["ugc_forwards"].sum() / max(ts["ugc_views"].sum(), 1e-12)
    brand = ts["brand_forwards"].sum() / max(ts["brand_views"].sum(), 1e-12)
    return float(ugc / brand) if brand > 0 else float("nan")


@metric("Revenue (what customers paid) per person who ever joined, over the run, in CNY.")
def ltv_per_member(r: RunResult) -> float:
    pop = r.model.pop
    joined = pop.join_day >= 0
    return float(pop.spend[joined].sum() / max(joined.sum(), 1))


@metric("Mean over the last 30 days of MAU / members (the share of members who visited in the last 30 days).")
def mau_per_member(r: RunResult) -> float:
    ts = r.timeseries.iloc[-30:]
    return float((ts["mau"] / ts["members"].clip(lower=1)).mean())


@metric("Mean over the last 30 days of DAU / MAU.")
def dau_per_mau(r: RunResult) -> float:
    return float(r.timeseries["dau_mau"].iloc[-30:].mean())


@metric("Share of the members at the end who posted no UGC in the last 30 days.")
def silent_share(r: RunResult) -> float:
    pop, last = r.model.pop, len(r.timeseries) - 1
    members = pop.status == MEMBER
    return float(np.mean(pop.last_post[members] <= last - 30)) if members.any() else float("nan")


@metric("Share of all UGC posts written by the top 10% of posters (people who posted at least once), over the run.")
def top_poster_share(r: RunResult) -> float:
    posts = np.sort(r.model.pop.posts[r.model.pop.posts > 0])[::-1]
    return float(posts[: max(1, posts.size // 10)].sum() / posts.sum()) if posts.size else float("nan")


@metric("Largest minus smallest share of members who became buyers, across segments (percentage points / 100).")
def segment_conversion_gap(r: RunResult) -> float:
    pop = r.model.pop
    joined = pop.join_day >= 0
    rates = [np.mean(pop.purchases[joined & (pop.segment == g)] >= 1) for g in np.unique(pop.segment[joined])]
    return float(max(rates) - min(rates))


@metric(
    "Largest absolute gap between the member share and the mean-field Bass curve F(t) over all days, "
    "minus the gap the daily discretization alone explains (theory: 0)."
)
def bass_excess_deviation(r: RunResult) -> float:
    s = r.model.scenario
    p, q = s.acquisition.organic.p / 365.0, s.acquisition.organic.q / 365.0
    t = np.arange(1, len(r.timeseries) + 1)
    share = r.timeseries["members"].to_numpy() / s.market.size
    F, discrete = bass_F(t, p, q), _discrete_bass(p, q, len(t))
    return float(max(0.0, np.max(np.abs(share - F) - np.abs(discrete - F))))


def _discrete_bass(p: float, q: float, days: int) -> np.ndarray:
    F, out = 0.0, []
    for _ in range(days):
        F = F + (1.0 - F) * (1.0 - np.exp(-(p + q * F)))
        out.append(F)
    return np.array(out)


@metric(
    "Referred members at the end / N0 K / (1 - K), with K = daily referral joins per member x expected "
    "lifetime in days, both taken from the scenario's constant rates (theory: 1)."
)
def referral_cohort_ratio(r: RunResult) -> float:
    from sim.core.mathutil import logistic, logit

    s = r.model.scenario
    visit = float(logistic(np.array(logit(s.engagement.base_visit_prob))))
    invite = float(logistic(np.array(logit(s.referral.base_invite_prob))))
    k = visit * invite * s.referral.base_acceptance / s.churn.base_hazard
    n0 = s.acquisition.initial_members
    referred = float(r.timeseries["new_referral"].sum())
    return referred / (n0 * k / (1.0 - k))


@metric(
    "Largest absolute gap over days 30, 60, ..., between the share of the day-0 cohort still members and "
    "the geometric survival (1 - h)^t (theory: 0)."
)
def survival_gap(r: RunResult) -> float:
    s = r.model.scenario
    h = s.churn.base_hazard
    ts = r.timeseries
    days = np.arange(29, len(ts), 30)
    alive = ts["members"].to_numpy()[days] / s.acquisition.initial_members
    return float(np.max(np.abs(alive - (1.0 - h) ** (days + 1))))

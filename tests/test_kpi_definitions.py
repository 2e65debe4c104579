"""One definition per KPI name: the K-factors, members against ever joined, repurchase, conversion, and
metrics.md documenting every time-series column once."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.observe.metrics import KPI_NAMES
from sim.run.runner import simulate
from sim.run.summary import funnel
from tests.conftest import small

ROOT = Path(__file__).resolve().parents[1]
METRICS_MD = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")

#: The group-buy settings of scenarios/group_buy_fission.yaml.
GROUP_BUY = {
    "group_buy": {
        "enabled": True,
        "group_size": 3,
        "window_days": 1,
        "discount": 0.25,
        "initiate_prob": 0.7,
        "invites": 8,
        "daily_accept_prob": 0.4,
    }
}


@pytest.fixture(scope="module")
def runs() -> dict[str, pd.DataFrame]:
    """The small scenario for 120 days, without and with group buying (same seed)."""
    out = {}
    for name, changes in (("plain", {}), ("group_buy", {"incentives": GROUP_BUY})):
        out[name] = simulate(small(days=120, seed=3, **changes), record_events=False)
    return out


def trailing_rate(ts: pd.DataFrame, joins: pd.Series) -> pd.Series:
    """Σ ``joins`` over the trailing 30 days / mean members over the same days."""
    return joins.rolling(30, min_periods=1).sum() / ts["members"].rolling(30, min_periods=1).mean()


def test_k_factor_counts_referral_and_group_buy_joins(runs):
    ts = runs["group_buy"].timeseries
    assert ts["new_group_buy"].sum() > 0
    expected = trailing_rate(ts, ts["new_referral"] + ts["new_group_buy"])
    np.testing.assert_allclose(ts["k_factor"], expected, rtol=1e-12)
    assert (ts["k_factor"] >= ts["k_factor_referral"]).all()
    assert ts["k_factor"].iloc[-1] > ts["k_factor_referral"].iloc[-1]


def test_group_buy_joins_raise_k_factor(runs):
    # before the fix k_factor counted referral joins only and came out lower with group buying
    # (its joiners grow the member base but were not counted as invited)
    plain, gb = runs["plain"].summary["final"], runs["group_buy"].summary["final"]
    assert gb["k_factor"] > 2 * plain["k_factor"]
    assert gb["k_factor_referral"] < gb["k_factor"]


def test_k_factor_referral_is_the_referral_only_rate(runs):
    for result in runs.values():
        ts = result.timeseries
        np.testing.assert_allclose(ts["k_factor_referral"], trailing_rate(ts, ts["referrals_accepted"]), rtol=1e-12)
        assert (ts["referrals_accepted"] == ts["new_referral"]).all()
    plain = runs["plain"].timeseries  # without group buys the two K-factors are the same number
    assert (plain["k_factor"] == plain["k_factor_referral"]).all()


def test_ever_joined_and_members_are_named_apart(runs):
    for result in runs.values():
        ts, summary, pop = result.timeseries, result.summary, result.model.pop
        assert (ts["ever_joined"] == ts["members"] + ts["churned_total"]).all()
        assert summary["funnel"] == funnel(pop)
        assert "member" not in summary["funnel"]
        final = summary["final"]
        assert summary["funnel"]["joined"] == final["ever_joined"] == int((pop.join_day >= 0).sum())
        assert final["ever_joined"] > final["members"]  # people churned in 120 days
        assert summary["funnel"]["joined"] >= summary["funnel"]["buyer"]


def test_repurchase_definitions_have_their_own_names(runs):
    result = runs["plain"]
    summary, pop = result.summary, result.model.pop
    assert "repurchase" not in summary and set(summary["second_purchase"]) <= {"within_30", "within_90", "within_180"}
    member = pop.status == 1
    assert (
        summary["final"]["repurchase_rate"]
        == (member & (pop.purchases >= 2)).sum() / (member & (pop.purchases >= 1)).sum()
    )


def test_conversion_is_at_most_1_with_livestreams_and_group_buys():
    # few visits and many group-buy participants: more purchases than visits on many days, which
    # made the old purchases / visits exceed 1
    scenario = small(
        days=30,
        seed=1,
        livestream={"enabled": True, "schedule": "weekly"},
        engagement={"base_visit_prob": 0.02},
        purchase={"base_prob": 0.5},
        incentives={
            "group_buy": {
                "enabled": True,
                "initiate_prob": 1.0,
                "invites": 20,
                "daily_accept_prob": 0.9,
                "group_size": 2,
            }
        },
    )
    result = simulate(scenario, record_events=False)
    ts = result.timeseries
    assert (ts["purchases"] > ts["visits"]).any() and ts["live_viewers"].sum() > 0
    assert ts["conversion"].between(0.0, 1.0).all()
    assert (ts["conversion"] * ts["visits"] <= ts["purchases"] + 1e-9).all()


def _documented_rows(section: str) -> list[str]:
    """Names in the first column of the tables of ``section`` of metrics.md (``| `name` | ...``)."""
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


def test_every_time_series_column_is_documented_exactly_once():
    daily = METRICS_MD.split("## Daily KPIs", 1)[1].split("\n## ", 1)[0]
    rows = _documented_rows(daily)
    expected = [name for name in KPI_NAMES if not name.startswith("line_")]
    expected += ["line_<line>"] if any(name.startswith("line_") for name in KPI_NAMES) else []
    counts = {name: rows.count(name) for name in expected}
    assert {name: n for name, n in counts.items() if n != 1} == {}
    assert sorted(set(rows) - set(expected)) == []  # nothing documented that the time series lacks
    assert f"{len(KPI_NAMES)} columns in all" in daily


def test_funnel_stages_are_documented_as_computed(runs):
    section = METRICS_MD.split("### Funnel", 1)[1].split("\n### ", 1)[0]
    assert _documented_rows(section) == list(runs["plain"].summary["funnel"])


def test_funnel_advocates_are_the_stage_advocates_definition():
    """A funnel advocate is a repeat buyer through whose invitation someone joined, by referral or group buy, as
    for the lifecycle stage advocate and the K-factor: group_buy_fission counted only its referrals' inviters."""
    from pathlib import Path

    from sim.config.loader import load_scenario
    from sim.run.summary import funnel

    path = Path(__file__).parents[1] / "scenarios" / "group_buy_fission.yaml"
    scenario = load_scenario(path, ["market.size=3000", "acquisition.initial_members=300"], days=120)
    pop = simulate(scenario, record_events=False).model.pop
    repeat = (pop.join_day >= 0) & (pop.purchases >= 2)
    by_group_buy_only = repeat & (pop.invited >= 1) & (pop.invites_accepted == 0)
    assert by_group_buy_only.any()  # the case the old definition missed
    assert funnel(pop)["advocate"] == int((repeat & (pop.invited >= 1)).sum())

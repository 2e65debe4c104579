"""Every strategy lever acts: low vs high on a small market moves a behavioural KPI (sim.config.levers).

Each lever runs low and high on 3,000 people for 150 days with two paired seeds
(common random numbers), its program switched on. A lever fails when no
behavioural KPI moves beyond noise (``sim.experiment.levers.MIN_MOVE`` in every
seed, with one sign), or when none of the KPIs it is expected to move does. A
lever marked cost-only must leave behaviour bit-identical, change the cost, and
say so in its schema description. The rows printed (``pytest -s``) are the table
of docs/model.md ("Strategy levers"); ``python -m sim.experiment.levers`` prints it.
Direction tests check the sign of the mechanisms that make the former cost-only
levers act.
"""

from __future__ import annotations

import functools
import math

import pytest

from sim.config import fields
from sim.config.levers import BEHAVIOURAL_KPIS, LEVERS, by_key
from sim.config.schema import KOCConfig
from sim.experiment.levers import Result, measure, row
from sim.mechanisms import koc

ACTING = [lv.key for lv in LEVERS if not lv.cost_only]
COST_ONLY = [lv.key for lv in LEVERS if lv.cost_only]


@functools.cache
def result(key: str) -> Result:
    lever = by_key()[key]
    return measure(lever, seeds=(1,) if lever.cost_only else (1, 2))  # cost-only: identical or not, one seed shows it


def mean_change(key: str, kpi: str) -> float:
    rel = result(key).changes[kpi]
    return sum(rel) / len(rel)


def test_levers_are_scenario_keys_and_kpis_are_known():
    paths = {path for path, _info, _ann in fields.walk()}
    for lever in LEVERS:
        assert lever.key in paths, f"{lever.key} is not a scenario key"
        assert set(lever.expects) <= set(BEHAVIOURAL_KPIS), lever.key
        assert lever.expects or lever.cost_only, f"{lever.key}: name the KPIs it should move, or why it is cost-only"
    assert len(by_key()) == len(LEVERS), "a lever is listed twice"


@pytest.mark.parametrize("key", ACTING)
def test_lever_moves_behaviour(key):
    r = result(key)
    print(row(r))
    moved = r.moved()
    assert moved, f"{key} {r.lever.low} -> {r.lever.high} moves no behavioural KPI beyond noise (a cost line at most)"
    assert set(moved) & set(r.lever.expects), f"{key} moves {sorted(moved)} but none of {r.lever.expects}"


@pytest.mark.parametrize("key", COST_ONLY)
def test_cost_only_lever_changes_only_cost(key):
    r = result(key)
    print(row(r))
    assert r.behaviour_identical, f"{key} is marked cost-only but changes behaviour: {r.moved()}"
    assert r.cost_change > 0, f"{key} is marked cost-only but the cost does not rise"
    info = next(info for path, info, _ann in fields.walk() if path == key)
    assert "Cost only" in (info.description or ""), f"{key}: say 'Cost only' and why in its schema description"


# Direction tests: raising X raises (or lowers) Y, on the lever runs above.


def test_commission_raises_koc_posting_and_keeps_kocs_with_diminishing_returns():
    assert mean_change("koc.commission_rate", "koc_posts") > 0.1
    assert mean_change("koc.commission_rate", "koc_count") >= 0
    r = [koc.commission_response(KOCConfig(commission_rate=c)) for c in (0.0, 0.05, 0.1, 0.15)]
    steps = [b - a for a, b in zip(r, r[1:], strict=False)]
    assert r[0] == 0 and all(s > 0 for s in steps) and steps[0] > steps[1] > steps[2]
    assert koc.post_prob(KOCConfig(commission_rate=0.1)) > koc.post_prob(KOCConfig()) == KOCConfig().post_prob


def test_samples_raise_purchases_through_koc_posts_with_diminishing_returns():
    assert mean_change("koc.sample_cost_per_month", "purchases") > 0.02
    cfgs = [KOCConfig(sample_cost_per_month=c) for c in (0.0, 150.0, 300.0, 450.0)]
    lifts = [koc.purchase_lift(c) for c in cfgs]
    steps = [b - a for a, b in zip(lifts, lifts[1:], strict=False)]
    assert lifts[0] == KOCConfig().purchase_lift and steps[0] > steps[1] > steps[2] > 0
    assert koc.post_quality(cfgs[2]) > koc.post_quality(cfgs[0]) and koc.post_quality(cfgs[3]) <= 1.0


def test_second_level_reward_raises_invitations():
    assert mean_change("referral.second_level_reward", "invitations") > 0.03


def test_ugc_dwell_raises_engagement():
    assert mean_change("content.ugc_dwell_bonus", "engagement_mean") > 0.05
    assert mean_change("content.ugc_dwell_bonus", "visits") > 0


def test_badges_are_earned_and_raise_posting():
    assert mean_change("incentives.badges.enabled", "ugc_posts") > 0.1
    r = result("incentives.badges.cost_per_badge")
    assert r.cost_change > 0  # badges were awarded (the cost rises with their price)


def test_coupon_dependence_lowers_purchases_and_visits():
    assert mean_change("incentives.coupons.dependence_rate", "purchases") < -0.02
    assert mean_change("incentives.coupons.dependence_rate", "visits") < 0


def test_deeper_coupons_pull_more_purchases():
    assert mean_change("incentives.coupons.value", "purchases") > 0.1


def test_shorter_points_expiry_brings_purchases_forward_and_costs_members():
    assert mean_change("incentives.points.expiry_days", "purchases") > 0.02
    assert mean_change("incentives.points.expiry_days", "churned") > 0


def test_bigger_prizes_draw_more_visits_and_dearer_gifts_keep_members():
    assert mean_change("incentives.lottery.prize_value", "visits") > 0.02
    assert mean_change("incentives.birthday.gift_cost", "churned") < -0.01
    assert mean_change("incentives.birthday.gift_cost", "satisfaction_mean") > 0


def test_every_lever_has_finite_changes():
    for key in ("koc.commission_rate", "referral.second_level_reward"):
        assert all(math.isfinite(x) for rel in result(key).changes.values() for x in rel)


def test_a_scenario_met_twice_is_run_once_and_its_kpis_are_a_copy(monkeypatch):
    from sim.experiment import levers as lv_module

    runs = []
    real = lv_module._run
    monkeypatch.setattr(lv_module, "_run", lambda s: runs.append(s) or real(s))
    monkeypatch.setattr(lv_module, "_RUNS", {})
    lever = by_key()["koc.commission_rate"]
    base = lv_module.market(people=300, days=10)
    a = lv_module.kpis(lv_module.scenario(lever, None, 7, base))
    a["members"] = -1.0
    b = lv_module.kpis(lv_module.scenario(lever, None, 7, base))
    c = lv_module.kpis(lv_module.scenario(lever, None, 8, base))
    assert len(runs) == 2 and b["members"] >= 0 and set(b) == set(c)


def test_only_takes_commas_and_refuses_an_unknown_lever(capsys):
    """``--only a,b`` printed an empty table: no lever is named "a,b"."""
    from sim.experiment.levers import LEVERS, main

    with pytest.raises(SystemExit) as exit_:
        main(["--only", f"{LEVERS[0].key},no.such.lever", "--days", "5", "--people", "200", "--seeds", "1"])
    assert exit_.value.code == 2
    assert "--only: no lever no.such.lever" in capsys.readouterr().err
    assert main(["--only", f"{LEVERS[0].key},", "--days", "5", "--people", "200", "--seeds", "1"]) == 0
    assert capsys.readouterr().out.count(f"| `{LEVERS[0].key}`") == 1

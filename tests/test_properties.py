"""Property-based tests: random valid scenarios keep every invariant, every day.

Hypothesis draws scenarios over the main knobs within their schema ranges (market,
network, segments, content mix, rewards, every incentive program, operating-model
presets, livestreams, events, adaptive rules), builds them through the loader (so
presets apply as they do for users) and steps the model day by day, checking:

- each person is in exactly one state, and the counters agree with a recount;
- no count or amount is negative, shares stay in [0, 1], nothing is NaN or infinite;
- the ledger balances (lines -> categories -> total -> profit, running totals);
- person columns stay in range; the event log's purchases add up to the GMV series;
- the summary that would be written to summary.json is finite.

``derandomize=True`` makes the examples the same on every machine and every run.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.base import CONTENT_TYPES
from sim.config.loader import preset_names, scenario_from_mapping
from sim.core.ledger import CATEGORIES
from sim.core.population import CHURNED, MEMBER, PROSPECT
from sim.mechanisms.registry import LINES
from sim.model import CommunityModel
from sim.observe.metrics import KPI_NAMES
from sim.run.summary import summarize

#: KPIs that may be negative: differences and growth rates.
SIGNED = {"profit", "cum_profit", "roi", "net_growth", "nps", "monthly_growth", "activity_change", "interaction_growth"}
#: KPIs that are shares or ratios bounded by 1 (docs/metrics.md). ``conversion`` counts visitors who bought
#: over visitors, so group-buy participants who did not visit cannot push it above 1. Not ``active_share`` and
#: ``dau_mau``: a known defect makes them exceed 1 (see test_active_share_and_dau_mau_are_shares below).
SHARES = (
    "conversion",
    "repurchase_rate",
    "monthly_repurchase_rate",
    "referral_conversion",
    "points_redemption_rate",
    "coupon_redemption_rate",
    "group_success_rate",
    "tier_share",
    "ugc_share",
    "negative_share",
    "at_risk_share",
    "satisfaction_mean",
    "engagement_mean",
    "fatigue_mean",
)
PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

unit = st.floats(0.0, 1.0)


def shares(draw, n: int, allow_zero: bool = True) -> list[float]:
    """``n`` non-negative shares that sum to 1 (the last absorbs rounding)."""
    low = 0.0 if allow_zero else 0.05
    weights = [draw(st.floats(low, 1.0)) for _ in range(n)]
    if sum(weights) == 0:
        weights[draw(st.integers(0, n - 1))] = 1.0
    total = sum(weights)
    out = [w / total for w in weights[:-1]]
    return out + [max(0.0, 1.0 - sum(out))]


@st.composite
def scenarios(draw) -> dict:
    """Plain scenario data, valid by construction."""
    days = draw(st.integers(5, 40))
    size = draw(st.integers(200, 2000))
    initial = draw(st.integers(10, min(300, size // 4)))
    n_segments = draw(st.integers(1, 4))
    segment_shares = shares(draw, n_segments, allow_zero=False)
    segments = [
        {
            "name": f"g{i}",
            "share": share,
            "activity": draw(st.floats(0.2, 3.0)),
            "price_sensitivity": draw(unit),
            "basket_mean": draw(st.floats(10.0, 500.0)),
            "basket_sigma": draw(st.floats(0.0, 1.5)),
            "purchase_cycle_days": draw(st.floats(3.0, 120.0)),
            "coupon_sensitivity": draw(st.floats(0.0, 3.0)),
            "status_sensitivity": draw(st.floats(0.0, 3.0)),
            "interests": {t: draw(unit) for t in CONTENT_TYPES},
        }
        for i, share in enumerate(segment_shares)
    ]
    mix = dict(zip(CONTENT_TYPES, shares(draw, len(CONTENT_TYPES)), strict=True))
    coupon_target = draw(st.sampled_from(["all", "segment", "churn_risk", "lapsed"]))
    coupon_kind = draw(st.sampled_from(["fixed", "percent"]))
    points_on = draw(st.booleans())
    data = {
        "name": "prop",
        "days": days,
        "seed": draw(st.integers(0, 2**32)),
        "operating_model": draw(st.sampled_from([None, *preset_names()])),
        "market": {
            "size": size,
            "network": {
                "kind": draw(st.sampled_from(["random", "small_world", "scale_free", "complete"])),
                "mean_degree": draw(st.floats(1.0, 20.0)),
                "rewire_prob": draw(unit),
                "clustering": draw(unit),
            },
            "segments": segments,
        },
        "acquisition": {
            "initial_members": initial,
            "paid": {"daily_budget": draw(st.floats(0.0, 5000.0)), "cac": draw(st.floats(1.0, 200.0))},
            "organic": {"p": draw(st.floats(0.0, 2.0)), "q": draw(st.floats(0.0, 5.0))},
            "winback_prob": draw(st.floats(0.0, 0.1)),
            "winback_cost": draw(st.floats(0.0, 50.0)),
        },
        "content": {
            "posts_per_day": draw(st.floats(0.0, 40.0)),
            "mix": mix,
            "quality": draw(unit),
            "member_ugc_prob": draw(st.floats(0.0, 0.3)),
            "personalization": draw(unit),
            "themed_columns": {"enabled": draw(st.booleans())},
        },
        "purchase": {
            "discount": draw(st.floats(0.0, 0.6)),
            "platform_fee_rate": draw(st.floats(0.0, 0.3)),
            "gross_margin": draw(unit),
        },
        "referral": {
            "reward_inviter": draw(st.floats(0.0, 200.0)),
            "reward_invitee": draw(st.floats(0.0, 200.0)),
            "second_level_reward": draw(st.floats(0.0, 50.0)),
            "reward_cap": draw(st.integers(0, 20)),
            "hunter_share": draw(unit),
            "base_invite_prob": draw(st.floats(0.001, 0.2)),
        },
        "churn": {"base_hazard": draw(st.floats(0.0005, 0.1))},
        "incentives": {
            "points": {
                "enabled": points_on,
                "redeem_min": draw(st.floats(0.0, 2000.0)),
                "expiry_days": draw(st.integers(1, 60)),
                "goal_gradient": {"enabled": draw(st.booleans())},
            },
            "tiers": {"enabled": draw(st.booleans()), "basis": draw(st.sampled_from(["spend", "growth"]))},
            "coupons": {
                "enabled": draw(st.booleans()),
                "target": coupon_target,
                "segments": ["g0"] if coupon_target == "segment" else [],
                "kind": coupon_kind,
                "value": draw(st.floats(0.05, 0.9)) if coupon_kind == "percent" else draw(st.floats(1.0, 100.0)),
                "min_spend": draw(st.floats(0.0, 200.0)),
                "every_days": draw(st.integers(1, 14)),
            },
            "group_buy": {"enabled": draw(st.booleans()), "group_size": draw(st.integers(2, 6))},
            "checkin": {"enabled": points_on and draw(st.booleans())},
            "flash_sale": {"enabled": draw(st.booleans()), "every_days": draw(st.integers(1, 10))},
            "lottery": {"enabled": draw(st.booleans()), "prizes": draw(st.integers(0, 50))},
            "birthday": {"enabled": draw(st.booleans())},
            "badges": {"enabled": draw(st.booleans())},
        },
        "koc": {
            "initial_count": draw(st.integers(0, min(initial, 15))),
            "commission_rate": draw(st.floats(0.0, 0.3)),
            "incubation": {"enabled": draw(st.booleans()), "every_days": draw(st.integers(1, 10))},
        },
        "operators": {
            "headcount": draw(st.integers(0, 6)),
            "outreach": {"enabled": draw(st.booleans())},
            "moderation": {"incident_rate": draw(st.floats(0.0, 0.2))},
        },
        "livestream": draw(livestreams(days)),
        "events": draw(st.lists(events(days), max_size=3)),
        "rules": draw(rules()),
        "output": {"events": True},
    }
    return data


def livestreams(days: int):
    weekly = st.fixed_dictionaries({"enabled": st.just(True), "schedule": st.just("weekly")})
    dated = st.fixed_dictionaries(
        {"enabled": st.just(True), "schedule": st.just("dates"), "days": st.lists(st.integers(0, days - 1))}
    )
    return st.one_of(st.just({"enabled": False}), weekly, dated)


def events(days: int):
    day = st.integers(0, days - 1)
    crisis = st.fixed_dictionaries(
        {
            "kind": st.just("crisis"),
            "day": day,
            "type": st.sampled_from(["quality_scandal", "rumour"]),
            "severity": st.floats(0.01, 1.0),
        }
    )
    promotion = st.fixed_dictionaries(
        {"kind": st.just("promotion"), "day": day, "duration": st.integers(1, 10), "discount": st.floats(0.0, 0.9)}
    )
    competitor = st.fixed_dictionaries(
        {"kind": st.just("competitor"), "day": day, "acquisition_factor": st.floats(0.01, 1.0)}
    )
    return st.one_of(crisis, promotion, competitor)


def rules():
    """Rules off, the default health rules on, or rules that fire at once (every action kind)."""
    actions = st.sampled_from(
        [
            {"action": "alert"},
            {"action": "crisis_response", "days": 3},
            {"action": "acquisition_push", "budget_multiplier": 3.0, "days": 5},
            {"action": "shift_mix", "toward": "promotional", "step": 0.3, "max_share": 0.9},
            {"action": "retention_offer", "churn_risk_min": 0.0},
            {"action": "add_operators", "count": 2},
        ]
    )
    rule = st.fixed_dictionaries(
        {
            "when": st.fixed_dictionaries(
                {"kpi": st.sampled_from(["members", "dau", "negative_share"]), "op": st.just(">="), "value": st.just(0)}
            ),
            "then": actions,
            "cooldown_days": st.integers(0, 5),
        }
    )
    firing = st.lists(rule, min_size=1, max_size=4).map(
        lambda rs: {"enabled": True, "rules": [{**r, "name": f"r{i}"} for i, r in enumerate(rs)]}
    )
    return st.one_of(st.just({"enabled": False}), st.just({"enabled": True}), firing)


def recount(model: CommunityModel, mask: np.ndarray) -> np.ndarray:
    """Per person, the number of contacts for whom ``mask`` holds, counted from scratch."""
    net = model.network
    rows = np.repeat(np.arange(net.n), np.diff(net.indptr))
    return np.bincount(rows, weights=mask[net.indices], minlength=net.n).astype(int)


def check_day(model: CommunityModel, running: dict[str, float]) -> None:
    pop, row, day = model.pop, model.today, model.day.day
    where = f"day {day}"
    # every person is in exactly one state, and every counter agrees with a recount
    assert set(np.unique(pop.status)) <= {PROSPECT, MEMBER, CHURNED}, where
    counts = np.bincount(pop.status, minlength=3)
    assert counts.sum() == pop.n
    assert row["members"] == counts[MEMBER] == model.n_members, where
    assert row["churned_total"] == counts[CHURNED] == model.n_churned, where
    assert row["prospects"] == counts[PROSPECT], where
    assert model.n_negative == int(pop.negative.sum()), where
    if not model.network.complete:
        assert np.array_equal(pop.member_contacts, recount(model, pop.status == MEMBER)), where
        assert np.array_equal(pop.churned_contacts, recount(model, pop.status == CHURNED)), where
        assert np.array_equal(pop.negative_contacts, recount(model, pop.negative)), where
    # every KPI is finite; counts and amounts are not negative; shares are shares
    assert set(KPI_NAMES) <= set(row), where
    bad = {k: v for k, v in row.items() if not math.isfinite(v)}
    assert not bad, f"{where}: not finite: {bad}"
    negative = {k: v for k, v in row.items() if k not in SIGNED and v < 0}
    assert not negative, f"{where}: negative: {negative}"
    out_of_range = {k: row[k] for k in SHARES if not 0.0 <= row[k] <= 1.0 + 1e-12}
    assert row["dau"] <= row["members"] + row["churned"], where  # visitors were members this morning
    assert not out_of_range, f"{where}: shares outside [0, 1]: {out_of_range}"
    # the ledger balances: lines -> categories -> total -> profit, and the running totals
    total = row["cost_total"]
    tol = 1e-9 * max(1.0, total, row["gmv"])
    assert abs(sum(row[f"cost_{c}"] for c in CATEGORIES) - total) <= tol, where
    assert abs(sum(row[f"line_{line}"] for line in LINES) - total) <= tol, where
    for c in CATEGORIES:
        lines = sum(row[f"line_{line}"] for line, cat in LINES.items() if cat == c)
        assert abs(lines - row[f"cost_{c}"]) <= tol, f"{where}: cost_{c}"
    assert abs(row["profit"] - (row["gross_margin"] - total)) <= tol, where
    assert row["revenue"] <= row["gmv"] + tol, where
    running["gmv"] += row["gmv"]
    running["cost"] += total
    running["profit"] += row["profit"]
    scale = 1e-9 * max(1.0, running["gmv"], running["cost"])
    assert abs(row["cum_gmv"] - running["gmv"]) <= scale, where
    assert abs(row["cum_cost"] - running["cost"]) <= scale, where
    assert abs(row["cum_profit"] - running["profit"]) <= scale, where
    # person state stays in range
    for name in ("engagement", "satisfaction", "fatigue", "coupon_habit"):
        col = getattr(pop, name)
        assert np.all((col >= 0) & (col <= 1)), f"{where}: {name} outside [0, 1]"
    for name in ("points", "spend", "growth", "reputation", "purchases", "invites_accepted", "badges"):
        col = getattr(pop, name)
        assert np.all(np.isfinite(col)) and np.all(col >= 0), f"{where}: {name} negative or not finite"


def assert_finite_tree(value, path: str = "summary") -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            assert_finite_tree(v, f"{path}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            assert_finite_tree(v, f"{path}[{i}]")
    elif isinstance(value, float | np.floating):
        assert math.isfinite(value), f"{path} = {value}"


@PROPERTY_SETTINGS
@given(data=scenarios())
def test_random_scenarios_keep_every_invariant_every_day(data):
    scenario = scenario_from_mapping(data)
    model = CommunityModel(scenario)
    running = {"gmv": 0.0, "cost": 0.0, "profit": 0.0}
    for _ in range(scenario.days):
        model.step()
        check_day(model, running)
    ts = model.timeseries()
    assert len(ts) == scenario.days
    assert np.isfinite(ts.to_numpy(dtype=float)).all()
    # the event log's purchases add up to the GMV series, day by day
    events = model.events.frame()
    bought = events[events.kind == "purchase"].groupby("day")["amount"].sum()
    gmv = ts["gmv"]
    assert np.allclose(bought.reindex(gmv.index, fill_value=0.0), gmv, rtol=1e-9, atol=1e-6)
    assert (events.loc[events.kind == "purchase", "amount"] >= 0).all()
    # what summary.json would hold is finite, and serialises without NaN
    summary = summarize(ts, model.pop)
    assert_finite_tree(summary)
    json.dumps(summary, allow_nan=False)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(data=scenarios())
def test_generated_scenarios_are_valid_and_round_trip(data):
    """The strategy itself: every draw validates, and presets do not break the draw's own keys."""
    scenario = scenario_from_mapping(data)
    assert scenario.days == data["days"] and scenario.market.size == data["market"]["size"]
    assert scenario.koc.initial_count == data["koc"]["initial_count"]
    assert abs(sum(scenario.content.mix.values()) - 1.0) <= 1e-6


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize(
    "path",
    [
        ("content", "quality"),
        ("acquisition", "paid", "daily_budget"),
        ("content", "mix", "review"),
        ("incentives", "badges", "thresholds"),
        ("market", "segments"),
    ],
)
def test_nan_and_infinity_never_pass_validation(path, value):
    """A NaN compares false with every bound, so only an explicit rule keeps it out."""
    from sim.config.errors import ScenarioError

    data: dict = {"market": {"size": 200}, "acquisition": {"initial_members": 10}, "koc": {"initial_count": 1}}
    if path == ("incentives", "badges", "thresholds"):
        data["incentives"] = {"badges": {"thresholds": [1.0, value]}}
    elif path == ("market", "segments"):
        data["market"]["segments"] = [{"name": "a", "share": 1.0, "interests": {"review": value}}]
    elif path == ("content", "mix", "review"):
        data["content"] = {"mix": {"review": value, "educational": 1.0}}
    else:
        node = data
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    with pytest.raises(ScenarioError, match="finite number"):
        scenario_from_mapping(data)


def test_active_share_and_dau_mau_are_shares():
    data = {
        "days": 10,
        "seed": 0,
        "market": {"size": 200},
        "acquisition": {"initial_members": 20, "paid": {"daily_budget": 0}, "organic": {"p": 0, "q": 0}},
        "koc": {"initial_count": 0},
        "churn": {"base_hazard": 0.3},
        "engagement": {"base_visit_prob": 0.9},
        "output": {"events": False},
    }
    model = CommunityModel(scenario_from_mapping(data))
    for _ in range(10):
        model.step()
        assert model.today["active_share"] <= 1.0 and model.today["dau_mau"] <= 1.0, f"day {model.day.day}"

"""The churn-risk score: its range and directions, the visit history, the tags, its AUC, and that coupons,
outreach and the health KPI read it (not the hidden hazard) while the simulation itself is unchanged."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sim.config.schema import Scenario
from sim.core.mathutil import roc_auc
from sim.core.population import MEMBER
from sim.mechanisms import churn_score
from sim.mechanisms.churn_score import TAGS, features, record_visits, score, visits_within
from sim.mechanisms.incentives import coupons
from sim.model import CommunityModel
from sim.run.runner import simulate
from tests.conftest import small


def run(days: int, scenario: Scenario | None = None) -> CommunityModel:
    model = CommunityModel(scenario or small(days=days), record_events=False)
    model.run(days)
    return model


def brute_force_auc(scores, labels) -> float:
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_is_the_pair_count(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 12, 300) / 11.0  # many ties
    labels = rng.random(300) < 0.2 + 0.4 * scores  # planted: higher scores leave more
    assert roc_auc(scores, labels) == pytest.approx(brute_force_auc(scores, labels), abs=1e-12)
    assert roc_auc(scores, labels) > 0.6
    assert roc_auc(-scores, labels) == pytest.approx(1.0 - roc_auc(scores, labels))


def test_auc_of_planted_extremes_and_of_one_class():
    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), np.array([False, False, True, True])) == 1.0
    assert roc_auc(np.array([0.5, 0.5, 0.5]), np.array([True, False, False])) == 0.5
    assert roc_auc(np.array([0.1, 0.2]), np.array([True, True])) is None


def test_visit_history_counts_the_last_days():
    pop = SimpleNamespace(visit_bits=np.zeros(3, dtype=np.uint64), visit_bits_day=np.full(3, -1, dtype=np.int32))
    visits = {0: [0, 3, 10, 70], 1: [5, 6, 7, 8, 9], 2: []}
    for day in range(80):
        model = SimpleNamespace(
            pop=pop,
            day=SimpleNamespace(day=day, visitors=np.array([p for p, v in visits.items() if day in v], dtype=np.int64)),
        )
        record_visits(model)
        for p, days in visits.items():
            for w, got in zip((7, 30, 60), visits_within(pop, np.array([p]), day, (7, 30, 60)), strict=True):
                assert got[0] == sum(day - w < d <= day for d in days), (p, day, w)


def plain_features(model, people):
    """The score's inputs computed directly (each logarithm computed, masked writes): what ``features`` looks up."""
    pop, s, day = model.pop, model.scenario, model.day.day
    age = day - pop.visit_bits_day[people].astype(np.int64)
    bits = pop.visit_bits[people] << np.minimum(age, 63).astype(np.uint64)
    bits[age >= 64] = 0
    v7, v30, v60 = (np.bitwise_count(bits & np.uint64((1 << w) - 1)).astype(np.float32) for w in (7, 30, 60))
    join, last_buy = pop.join_day[people], pop.last_purchase[people]
    tenure = (day - join).astype(np.float32)
    per_day = np.float32(1.0 / 60.0)
    rm = s.incentives.points.redeem_min
    return {
        "recency": np.log1p((day - pop.last_visit[people]).astype(np.float32)),
        "frequency": np.log1p(v30),
        "trend": np.log((v7 * np.float32(1.0 / 7.0) + per_day) / (v60 * per_day + per_day)),
        "purchases": np.log1p(pop.purchases[people].astype(np.float32)),
        "purchase_recency": np.log1p((day - np.where(last_buy >= 0, last_buy, join)).astype(np.float32)),
        "tenure": np.log1p(tenure),
        "new": ((tenure < s.lifecycle.new_for_days) & (pop.join_source[people] != model.join_codes["initial"])).astype(
            np.float32
        ),
        "advocate": (pop.invited[people] > 0).astype(np.float32),
        "referred": churn_score.referrer_is_member(pop, people).astype(np.float32),
        "koc": pop.is_koc[people].astype(np.float32),
        "negative": pop.negative[people].astype(np.float32),
        "points": (np.minimum(pop.points[people], rm) / rm).astype(np.float32),
        "tier": pop.tier[people].astype(np.float32),
    }


def test_features_are_the_plain_computation_bit_for_bit():
    """Looked-up logarithms, the shifted history and the tags' arithmetic give exactly the plain way's values,
    for members by id and on whole columns (non-members included), on a model whose history is 90 days long."""
    model = run(90, small(days=90, incentives={"points": {"enabled": True}}))
    pop, day = model.pop, model.day.day
    pop.visit_bits_day[:5] = [day, day - 63, day - 64, day - 200, -1]  # the history's edges
    for people in (model.member_index(), slice(None)):
        got, want = features(model, people), plain_features(model, people)
        assert list(got) == list(want) == list(churn_score.FEATURES)
        for name in want:
            assert got[name].dtype == np.float32
            assert np.array_equal(got[name].view(np.uint32), want[name].view(np.uint32)), name
        scores = score(model, people)
        cfg = model.scenario.operators.churn_score
        plain = np.full(scores.size, len(TAGS), dtype=np.int8)
        plain[want["frequency"] > np.float32(np.log(cfg.core_visits + 0.5))] = TAGS.index("core")
        plain[day - pop.last_visit[people] >= cfg.silent_after_days] = TAGS.index("silent")
        plain[scores > model.scenario.health.churn_risk_threshold] = TAGS.index("at_risk")
        assert np.array_equal(churn_score.tags(model, people, scores), plain)
        assert {TAGS.index(t) for t in TAGS} <= set(plain.tolist())  # every tag occurs: the order is tested


def test_set_history_puts_day_j_before_the_last_visit_on_bit_j():
    rng = np.random.default_rng(3)
    earlier = rng.random((50, 63)) < 0.4
    pop = SimpleNamespace(visit_bits=np.zeros(60, dtype=np.uint64), visit_bits_day=np.zeros(60, dtype=np.int32))
    people = rng.permutation(60)[:50]
    churn_score.set_history(pop, people, np.full(50, -3, dtype=np.int32), earlier)
    for row, person in enumerate(people):
        want = 1 + sum(1 << (j + 1) for j in range(63) if earlier[row, j])
        assert int(pop.visit_bits[person]) == want
    assert (pop.visit_bits_day[people] == -3).all()


def test_backdated_history_does_not_depend_on_the_block_size(monkeypatch):
    from sim.mechanisms import acquisition

    scenario = small(acquisition={"initial_members": 1500})
    whole = CommunityModel(scenario, record_events=False)
    monkeypatch.setattr(acquisition, "HISTORY_BLOCK", 7)
    blocked = CommunityModel(scenario, record_events=False)
    assert (whole.pop.visit_bits != 0).sum() >= 1500
    assert np.array_equal(whole.pop.visit_bits, blocked.pop.visit_bits)
    assert np.array_equal(whole.pop.last_visit, blocked.pop.last_visit)


def test_an_initial_member_whose_uniform_is_zero_last_visited_on_day_0_not_day_1(monkeypatch):
    """A float32 uniform is exactly 0 once in 2^24 draws (about once at 10^7 initial members): the
    backdated gap must then be 0 days, not -1 (a last visit tomorrow, which made the score's recency
    log1p(-1) = -inf on day 0)."""
    from sim.core.streams import Streams

    drawn = Streams.uniform

    def zeros_now_and_then(self, name, n):
        u = drawn(self, name, n)
        if name == "acquisition":
            u[::97] = 0.0
        return u

    monkeypatch.setattr(Streams, "uniform", zeros_now_and_then)
    model = CommunityModel(small(acquisition={"initial_members": 4000}), record_events=False)
    mi = model.member_index()
    assert mi.size == 4000
    assert model.pop.last_visit[mi].max() == 0 and (model.pop.last_visit[mi] == 0).sum() >= 4000 // 97
    with np.errstate(all="raise"):
        inputs = features(model, mi)
    assert all(np.isfinite(f).all() for f in inputs.values())


def test_score_is_a_probability_for_every_member():
    model = run(40, small(days=40, incentives={"points": {"enabled": True}}))
    mi = model.member_index()
    s = score(model, mi)
    assert s.shape == mi.shape and np.all((s >= 0) & (s <= 1)) and np.unique(s).size > 10
    assert all(np.isfinite(f).all() for f in features(model, mi).values())


def test_recency_raises_the_score_and_recent_visits_lower_it():
    model = run(40)
    mi = model.member_index()[:50]
    pop, day = model.pop, model.day.day
    before = score(model, mi)
    pop.last_visit[mi] -= 20  # the same members, 20 more days away
    assert np.all(score(model, mi) > before)
    pop.last_visit[mi] = day - 30  # gone a month, nothing since ...
    pop.visit_bits[mi], pop.visit_bits_day[mi] = 0, -1
    idle = score(model, mi)
    pop.last_visit[mi] = day  # ... or came on four of the last seven days
    pop.visit_bits[mi], pop.visit_bits_day[mi] = np.uint64(0b1011001), day
    assert np.all(score(model, mi) < idle)


def test_each_weight_moves_the_score_its_way():
    model = run(40, small(days=40))
    mi = model.member_index()
    for name, value in features(model, mi).items():
        if np.ptp(value) == 0:
            continue
        higher = value > np.median(value) if np.median(value) < value.max() else value >= value.max()
        for sign in (1.0, -1.0):
            weights = dict.fromkeys(churn_score.FEATURES, 0.0) | {"intercept": -2.0, name: sign}
            model.scenario = small(days=40, operators={"churn_score": {"weights": weights}})
            s = score(model, mi)
            assert sign * (s[higher].mean() - s[~higher].mean()) > 0, name


def test_tags_are_exclusive_and_the_at_risk_share_is_the_tagged_share():
    model = run(60, small(days=60, health={"churn_risk_threshold": 0.075}))
    ts = model.timeseries()
    tagged = sum(ts[f"tag_{t}"] for t in TAGS)
    assert (tagged <= ts["members"]).all() and ts["tag_silent"].iloc[-1] > 0 and ts["tag_core"].iloc[-1] > 0
    assert ts["tag_at_risk"].max() > 0
    assert np.allclose(ts["at_risk_share"], ts["tag_at_risk"] / ts["members"])
    cfg = model.scenario.operators.churn_score
    mi = model.member_index()
    code = churn_score.tags(model, mi, score(model, mi))
    silent = code == TAGS.index("silent")
    assert np.all(model.day.day - model.pop.last_visit[mi][silent] >= cfg.silent_after_days)
    (v30,) = visits_within(model.pop, mi, model.day.day, (30,))
    assert np.all(v30[code == TAGS.index("core")] >= cfg.core_visits)


def test_scoring_leaves_the_simulation_alone():
    """Weights and tags change nothing but the score's own columns: no draws, no state."""
    plain = simulate(small(days=60), record_events=False)
    other = small(
        days=60, operators={"churn_score": {"weights": {"recency": 3.0, "intercept": -1.0}, "core_visits": 2}}
    )
    changed = simulate(other, record_events=False)
    own = [
        c
        for c in plain.timeseries.columns
        if c.startswith("tag_") or c in ("at_risk_share", "alert_churn_risk", "alerts_active")
    ]
    assert plain.timeseries.drop(columns=own).equals(changed.timeseries.drop(columns=own))
    assert not plain.timeseries["tag_at_risk"].equals(changed.timeseries["tag_at_risk"])


def test_summary_reports_the_auc_of_settled_scorings():
    result = simulate(small(days=90, market={"size": 8000}, acquisition={"initial_members": 1500}), record_events=False)
    book = result.summary["churn_score"]
    assert book["scorings"] == 2 and [c["day"] for c in book["by_scoring"]] == [29, 59]
    assert book["members_scored"] == sum(c["members"] for c in book["by_scoring"])
    assert 0.0 < book["auc"] < 1.0 and 0.0 < book["hazard_auc"] < 1.0


def test_score_ranks_leavers_above_stayers_in_a_small_baseline():
    """Pooled over three runs (about 2,100 leavers among 33,000 scorings): a score blind to who leaves gives
    0.5 within about 0.007 here; the model's own hidden hazard reaches 0.58 to 0.59 on these runs."""
    pairs = weighted = 0.0
    for seed in (1, 2, 3):
        sc = small(days=210, seed=seed, market={"size": 10000}, acquisition={"initial_members": 1500})
        for c in simulate(sc, record_events=False).summary["churn_score"]["by_scoring"]:
            n = c["churned"] * (c["members"] - c["churned"])
            pairs, weighted = pairs + n, weighted + n * c["auc"]
    assert weighted / pairs > 0.52


def test_coupons_at_churn_risk_go_to_members_who_leave_more():
    """Recipients against the other members of the same day and run, 30 days on (coupons themselves off)."""
    targeted = others = 0.0
    n_t = n_o = 0
    for seed in (1, 2, 3):
        sc = small(
            days=270,
            seed=seed,
            market={"size": 10000},
            acquisition={"initial_members": 1500},
            incentives={"coupons": {"target": "churn_risk"}},
        )
        model = CommunityModel(sc, record_events=False)
        cohorts = []
        for day in range(sc.days):
            model.step()
            if day % 30 == 29 and day + 30 < sc.days:
                mi = model.member_index()
                cohorts.append((day, mi, np.isin(mi, coupons._targets(model, mi, model.scenario.incentives.coupons))))
            for d, mi, chosen in [c for c in cohorts if c[0] + 30 == day]:
                left = (model.pop.status[mi] != MEMBER) | (model.pop.join_day[mi] > d)
                targeted += left[chosen].sum()
                others += left[~chosen].sum()
                n_t += chosen.sum()
                n_o += (~chosen).sum()
    assert n_t > 500 and n_o > 500, (n_t, n_o)  # the young community of the first month has nobody at risk
    p_t, p_o = targeted / n_t, others / n_o
    se = np.sqrt(p_t * (1 - p_t) / n_t + p_o * (1 - p_o) / n_o)
    assert p_t - p_o > 2 * se, (p_t, p_o, se)


def test_consumers_read_the_score_not_the_hazard(monkeypatch):
    """With the hidden hazard made the same for everyone, targeting still sorts members by their score."""
    import sim.mechanisms.churn as churn

    monkeypatch.setattr(
        churn,
        "churn_log_odds",
        lambda model, rows: np.full(
            len(range(model.pop.n)[rows]) if isinstance(rows, slice) else rows.size, -5.0, dtype=np.float32
        ),
    )
    model = run(
        40,
        small(
            days=40,
            health={"churn_risk_threshold": 0.075},
            incentives={"coupons": {"target": "churn_risk", "churn_risk_min": 0.075}},
        ),
    )
    mi = model.member_index()
    s = score(model, mi)
    chosen = coupons._targets(model, mi, model.scenario.incentives.coupons)
    assert 0 < chosen.size < mi.size and np.array_equal(chosen, mi[s >= 0.075])
    assert 0 < model.timeseries()["at_risk_share"].iloc[-1] < 1

    planted = lambda model, people: (people % 97).astype(np.float32) / 97  # noqa: E731
    monkeypatch.setattr(churn_score, "score", planted)
    sc = small(days=1, operators={"outreach": {"enabled": True, "target": "churn_risk", "per_operator": 20}})
    model = run(1, sc)
    pop = model.pop
    reached = np.flatnonzero(pop.last_outreach == 0)
    candidates = np.flatnonzero((pop.status == MEMBER) | (pop.churn_day == 0))  # members at the day's outreach
    passed = np.setdiff1d(candidates, reached)
    assert 0 < reached.size < candidates.size
    assert (reached % 97).min() >= (passed % 97).max()


@pytest.mark.parametrize("tag", ["silent", "core"])
def test_coupons_can_target_a_tag(tag):
    sc = small(days=40, incentives={"coupons": {"enabled": True, "target": tag, "every_days": 10}})
    model = run(40, sc)
    assert model.timeseries()["coupons_issued"].sum() > 0
    mi = model.member_index()
    chosen = coupons._targets(model, mi, model.scenario.incentives.coupons)
    assert 0 < chosen.size < mi.size
    assert np.array_equal(chosen, mi[churn_score.tags(model, mi, score(model, mi)) == TAGS.index(tag)])
    cfg, day = sc.operators.churn_score, model.day.day
    if tag == "core":
        (v30,) = visits_within(model.pop, chosen, day, (30,))
        assert np.all(v30 >= cfg.core_visits)
    else:
        assert np.all(day - model.pop.last_visit[chosen] >= cfg.silent_after_days)


def test_a_calm_baseline_starts_without_a_churn_risk_alert():
    """The baseline's initial members are established, not new: its at-risk share starts under the alert's threshold
    (it was above it on days 0 to 11 while they were scored as new) and no retention offer goes out at the start."""
    from sim.config.loader import load_scenario

    scenario = load_scenario(Path(__file__).parents[1] / "scenarios" / "baseline.yaml", ["rules.enabled=true"], days=20)
    ts = simulate(scenario, record_events=False).timeseries
    assert (ts["at_risk_share"] < scenario.health.max_at_risk_share).all()
    assert not ts["alert_churn_risk"].any()
    assert not ts["coupons_issued"].any()

"""Prospects' awareness (unaware, aware, considering) and forwarding: invariants, directions, the join gate."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.population import CHURNED, PROSPECT
from sim.mechanisms import awareness, lifecycle
from sim.mechanisms.registry import JOIN_SOURCES
from sim.model import CommunityModel
from sim.run.runner import simulate
from sim.validation.metrics import ugc_forward_ratio
from tests.conftest import small

SEEDS = (1, 2, 3)
PROSPECT_COLUMNS = [f"prospect_{s}" for s in awareness.STAGES]
MEMBER_COLUMNS = [f"stage_{s}" for s in lifecycle.STAGES]
#: Nothing makes anyone aware but what a test turns on.
SILENT = {
    "word_of_mouth": 0.0,
    "content_reach": 0.0,
    "ad_recall": 0.0,
    "forwarding": {"brand_prob": 0.0},
}


def runs(**changes) -> list:
    return [simulate(small(seed=seed, **changes), record_events=False) for seed in SEEDS]


def summed(results, kpi: str) -> float:
    return float(sum(r.timeseries[kpi].sum() for r in results))


def test_every_person_is_in_exactly_one_stage_every_day():
    """Prospect stages, member stages and the churned add up to the market on every day, and the last day's
    counts are those of the people's own states."""
    model = CommunityModel(small(days=90, referral={"reward_inviter": 20}))
    model.run()
    ts, pop = model.timeseries(), model.pop
    total = ts[PROSPECT_COLUMNS].sum(axis=1) + ts[MEMBER_COLUMNS].sum(axis=1) + ts["churned_total"]
    assert (total == pop.n).all()
    assert (ts[PROSPECT_COLUMNS].sum(axis=1) == ts["prospects"]).all()
    assert (ts[MEMBER_COLUMNS].sum(axis=1) == ts["members"]).all()
    stage = pop.awareness[pop.status == PROSPECT]
    assert set(np.unique(pop.awareness)) <= {0, 1, 2}
    assert np.bincount(stage, minlength=3).tolist() == ts[PROSPECT_COLUMNS].iloc[-1].tolist()
    assert np.count_nonzero(pop.status == CHURNED) == ts["churned_total"].iloc[-1]


def test_nobody_joins_organically_or_paid_while_unaware():
    """A joiner's awareness stays as it was on the day they joined: never unaware for organic and paid joins."""
    model = CommunityModel(small(days=60, acquisition={"organic": {"p": 3.0, "q": 3.0}}))
    model.run()
    pop = model.pop
    for source in ("organic", "paid"):
        joined = (pop.join_source == JOIN_SOURCES.index(source)) & (pop.join_day > 0)
        assert joined.any()
        assert (pop.awareness[joined] > awareness.UNAWARE).all(), source


def test_an_unaware_market_joins_only_by_invitation():
    """With nobody aware at the start and no exposure, Bass innovation brings no one; an invitation makes its
    invitee aware, so with referrals on, some of the invited who declined later join organically."""

    def unaware(invite_prob: float):
        return simulate(
            small(
                days=40,
                acquisition={"organic": {"p": 5.0, "q": 5.0}},
                awareness={"initial_aware": 0.0, "initial_considering": 0.0, **SILENT},
                referral={"base_invite_prob": invite_prob},
            ),
            record_events=False,
        ).timeseries

    closed = unaware(1e-9)
    assert closed["invitations"].sum() == 0
    assert closed["new_organic"].sum() == 0 and closed["new_paid"].sum() == 0  # no readiness: no paid CAC either
    invited = unaware(0.05)
    assert invited["new_referral"].sum() > 0 and invited["new_organic"].sum() > 0


def test_invitations_make_the_invited_aware_at_once():
    model = CommunityModel(small(days=30, referral={"base_invite_prob": 0.05}, awareness=SILENT))
    checked = 0
    for _ in range(30):
        model.step()
        invited = model.day.invitees
        still = invited[model.pop.status[invited] == PROSPECT]
        assert (model.pop.awareness[still] > awareness.UNAWARE).all()
        checked += still.size
    assert checked > 0


def test_forgetting_is_geometric_without_exposures():
    """Considering prospects fall back at the daily rate: C_t = C_0 (1 - forgetting)^t, within sampling error."""
    rate, days = 0.02, 50
    scenario = small(
        days=days,
        market={"size": 20_000},
        acquisition={"initial_members": 0, "paid": {"daily_budget": 0}, "organic": {"p": 0, "q": 0}},
        awareness={"initial_aware": 0.0, "initial_considering": 0.5, "forgetting": rate, **SILENT},
        koc={"initial_count": 0},
    )
    ts = simulate(scenario, record_events=False).timeseries
    c = ts["prospect_considering"].to_numpy()
    c0 = c[0] / (1 - rate)  # day 0's count is after that evening's forgetting
    expected = c0 * (1 - rate) ** np.arange(1, days + 1)
    assert np.all(np.abs(c - expected) <= 4 * np.sqrt(c0 * 0.25) + 1)
    assert (ts[PROSPECT_COLUMNS].sum(axis=1) == 20_000).all()


def test_extreme_rates_keep_probabilities_and_stages_valid():
    """Every rate at its maximum: exposure and forwarding chances stay probabilities, one forward per visitor."""
    scenario = small(
        days=15,
        awareness={
            "word_of_mouth": 1.0,
            "content_reach": 1.0,
            "ad_recall": 1.0,
            "forgetting": 1.0,
            "forwarding": {"brand_prob": 1.0, "ugc_uplift": 20.0},
        },
    )
    model = CommunityModel(scenario)
    model.run()
    ts = model.timeseries()
    assert ((ts["ugc_forwards"] + ts["brand_forwards"]) <= ts["dau"]).all()
    assert (ts["forward_reach"] <= ts["ugc_forwards"] + ts["brand_forwards"]).all()
    assert set(np.unique(model.pop.awareness)) <= {0, 1, 2}


def test_more_paid_budget_more_aware_prospects():
    recall = {"ad_recall": 0.02}
    low = runs(awareness=recall)
    high = runs(acquisition={"paid": {"daily_budget": 800}}, awareness=recall)
    assert summed(high, "prospect_unaware") < 0.6 * summed(low, "prospect_unaware")
    ready = [sum(summed(rs, c) for c in PROSPECT_COLUMNS[1:]) / summed(rs, "prospects") for rs in (low, high)]
    assert ready[1] > ready[0]


def test_higher_ugc_uplift_more_forward_reach_more_joins():
    def forwarding(uplift: float) -> list:
        return runs(awareness={"forwarding": {"brand_prob": 0.05, "ugc_uplift": uplift}})

    low, high = forwarding(0.0), forwarding(3.0)
    assert summed(high, "ugc_forwards") > 2 * summed(low, "ugc_forwards")
    assert summed(high, "forward_reach") > 1.5 * summed(low, "forward_reach")
    joined = [summed(rs, "new_members") - summed(rs, "new_initial") for rs in (low, high)]
    assert joined[1] > joined[0]


def test_forwarding_reproduces_the_uplift_per_view():
    """The per-view ratio of UGC to brand forwards is 1 + uplift, from forwards drawn one by one."""
    for uplift in (0.35, 2.0):
        results = runs(days=120, awareness={"forwarding": {"brand_prob": 0.02, "ugc_uplift": uplift}})
        ugc = sum(r.timeseries["ugc_forwards"].sum() for r in results)
        brand = sum(r.timeseries["brand_forwards"].sum() for r in results)
        ratio = np.mean([ugc_forward_ratio(r) for r in results])
        sd = (1 + uplift) * np.sqrt(1 / ugc + 1 / brand)  # of the pooled ratio; the mean of three is no wider
        assert abs(ratio - (1 + uplift)) < 4 * sd, (ratio, sd)


def test_awareness_makes_paid_members_cheaper():
    """The CAC follows prospects' readiness: more word of mouth, more considering prospects, cheaper members."""

    def cac(results) -> float:
        return summed(results, "line_paid_acquisition") / summed(results, "new_paid")

    quiet = runs(awareness={"word_of_mouth": 0.0})
    talkative = runs(awareness={"word_of_mouth": 0.02})
    assert cac(talkative) < 0.9 * cac(quiet)
    flat = runs(awareness={"word_of_mouth": 0.02}, acquisition={"paid": {"funnel_elasticity": 0.0}})
    assert cac(flat) > cac(talkative)  # with elasticity 0 the CAC ignores awareness


def test_off_is_the_model_without_the_funnel():
    """Awareness off: every prospect counted as considering, nobody forwards, no awareness draws."""
    model = CommunityModel(small(days=20, awareness={"enabled": False}))
    model.run()
    ts = model.timeseries()
    assert (ts["prospect_considering"] == ts["prospects"]).all()
    silent = ["prospect_unaware", "prospect_aware", "ugc_forwards", "brand_forwards", "forward_reach"]
    assert (ts[silent] == 0).all().all()
    assert not model.pop.awareness.any()


@pytest.mark.parametrize("shares", [(0.8, 0.5), (1.0, 0.01)])
def test_initial_shares_over_one_are_refused(shares):
    from sim.config.errors import ScenarioError
    from sim.config.loader import scenario_from_mapping

    with pytest.raises(ScenarioError, match="initial_aware \\+ initial_considering must be at most 1"):
        scenario_from_mapping({"awareness": {"initial_aware": shares[0], "initial_considering": shares[1]}})

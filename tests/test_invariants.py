"""Invariants checked every day: states, counts, money, probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.ledger import CATEGORIES
from sim.core.population import CHURNED, MEMBER, PROSPECT
from sim.model import CommunityModel
from tests.conftest import small


def _recount(model, state):
    """Contacts in ``state`` per person, recomputed from scratch."""
    net, status = model.network, model.pop.status
    rows = np.repeat(np.arange(net.n), np.diff(net.indptr))
    return np.bincount(rows, weights=(status[net.indices] == state), minlength=net.n).astype(int)


@pytest.mark.parametrize("kind", ["scale_free", "small_world", "random", "complete"])
def test_daily_invariants(kind):
    scenario = small(
        days=40,
        market={"size": 1500, "network": {"kind": kind}},
        acquisition={"initial_members": 100, "winback_prob": 0.02},
        referral={"reward_inviter": 10, "reward_invitee": 5},
        incentives={"points": {"enabled": True, "redeem_min": 200}},
        churn={"base_hazard": 0.01},
    )
    model = CommunityModel(scenario)
    seen_events = 0
    for _ in range(scenario.days):
        model.step()
        pop, row = model.pop, model.today
        # everyone is exactly one of prospect / member / churned, and the counters agree
        counts = np.bincount(pop.status, minlength=3)
        assert counts.sum() == pop.n and set(np.unique(pop.status)) <= {PROSPECT, MEMBER, CHURNED}
        assert row["members"] == counts[MEMBER] == model.n_members
        assert row["churned_total"] == counts[CHURNED] and row["prospects"] == counts[PROSPECT]
        if not model.network.complete:
            assert np.array_equal(pop.member_contacts, _recount(model, MEMBER))
            assert np.array_equal(pop.churned_contacts, _recount(model, CHURNED))
        # money adds up
        events = model.events.frame()
        today = events[events.day == model.day.day]
        assert row["gmv"] == pytest.approx(today.loc[today.kind == "purchase", "amount"].sum())
        assert row["cost_total"] == pytest.approx(sum(row[f"cost_{c}"] for c in CATEGORIES))
        assert row["profit"] == pytest.approx(row["gross_margin"] - row["cost_total"])
        assert row["new_members"] == (today.kind == "join").sum()
        assert row["churned"] == (today.kind == "churn").sum()
        seen_events = len(events)
        # bounded state, no negative amounts
        for col in (pop.engagement, pop.satisfaction, pop.fatigue):
            assert np.all((col >= 0) & (col <= 1))
        assert (pop.points >= 0).all() and (pop.spend >= 0).all()
        signed = ("profit", "cum_profit", "roi", "net_growth", "nps")
        signed += ("activity_change", "interaction_growth", "monthly_growth")
        assert all(v >= 0 for k, v in row.items() if k not in signed)
        assert all(np.isfinite(v) for v in row.values())
        assert 0 <= row["repurchase_rate"] <= 1 and 0 <= row["referral_conversion"] <= 1
    assert seen_events > 0
    # nobody joins twice on one day; a join is logged once per person per spell
    joins = model.events.frame().query("kind == 'join'")
    assert not joins.duplicated(["day", "person"]).any()


def test_referred_members_have_member_referrers():
    model = CommunityModel(small(referral={"reward_inviter": 30, "reward_invitee": 30}))
    model.run()
    referred = np.flatnonzero(model.pop.referrer >= 0)
    assert referred.size > 0
    assert (model.pop.join_source[referred] == model.join_codes["referral"]).all()
    # the referrer joined before the referred person
    assert (model.pop.join_day[model.pop.referrer[referred]] <= model.pop.join_day[referred]).all()
    assert model.pop.invites_accepted.sum() == referred.size

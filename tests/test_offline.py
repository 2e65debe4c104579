"""Offline-to-online (线下导流): store visitors invited into the community."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.daystate import DayState
from sim.core.population import CHURNED, MEMBER, PROSPECT
from sim.mechanisms.offline import offline_phase
from sim.model import CommunityModel
from sim.run.runner import simulate
from tests.conftest import small


def _offline(visitors: float, join_rate: float = 0.08, cost: float = 1.0, **changes):
    return small(
        acquisition={"offline": {"store_visitors_per_day": visitors, "join_rate": join_rate, "cost_per_visitor": cost}},
        **changes,
    )


def _one_day(model: CommunityModel, day: int = 0) -> DayState:
    """Run only the offline phase on a fresh day of ``model``."""
    model.day = DayState(day=day)
    model.streams.start_day(day)
    offline_phase(model)
    return model.day


def test_the_phase_on_its_own_joins_only_prospects_and_books_every_invitation():
    model = CommunityModel(_offline(400, join_rate=0.5, cost=2.5))
    pop = model.pop
    gone = np.flatnonzero(pop.status == PROSPECT)[::40]  # people who left are not won back by the stores
    pop.status[gone] = CHURNED
    model.n_churned = gone.size
    before = pop.status.copy()
    day = _one_day(model)
    joined = np.flatnonzero(pop.join_source == model.join_codes["offline"])
    assert day.counts["offline_visitors"] == 400
    assert 0 < joined.size == day.joins["offline"] < 400
    assert (before[joined] == PROSPECT).all() and (pop.status[joined] == MEMBER).all()
    assert (pop.status[gone] == CHURNED).all()
    assert model.ledger.line_total("offline_traffic") == pytest.approx(400 * 2.5)
    counts = np.bincount(pop.status, minlength=3)
    assert counts.sum() == pop.n and counts[MEMBER] == model.n_members and counts[CHURNED] == model.n_churned


def test_off_draws_nothing_books_nothing_and_changes_no_number():
    off = simulate(small(days=40), record_events=False).timeseries
    zero = simulate(_offline(0, days=40), record_events=False).timeseries
    assert off.equals(zero)
    assert (off["new_offline"] == 0).all() and (off["line_offline_traffic"] == 0).all()


def test_more_store_visitors_or_a_higher_join_rate_bring_more_members_and_cost_adds_up():
    runs = {
        key: simulate(_offline(v, r, days=60), record_events=False).timeseries
        for key, (v, r) in {"few": (50, 0.08), "many": (400, 0.08), "eager": (400, 0.3)}.items()
    }
    joins = {k: ts["new_offline"].sum() for k, ts in runs.items()}
    assert 0 < joins["few"] < joins["many"] < joins["eager"]
    for ts in runs.values():
        assert ts["line_offline_traffic"].sum() == pytest.approx(ts["offline_visitors"].sum() * 1.0)
        assert (ts["new_offline"] <= ts["offline_visitors"]).all()
        assert (ts["cost_acquisition"] >= ts["line_offline_traffic"] - 1e-9).all()
    assert runs["many"]["members"].iloc[-1] > runs["few"]["members"].iloc[-1]


def test_the_channel_saturates_as_the_market_fills_up():
    model = CommunityModel(_offline(1000, join_rate=1.0))
    early = _one_day(model, 0).joins["offline"]
    model.pop.status[: int(0.9 * model.pop.n)] = MEMBER  # most of the market has joined
    late = _one_day(model, 1).joins.get("offline", 0)
    assert late < 0.3 * early


def test_a_competitor_makes_store_visitors_less_likely_to_join():
    base = CommunityModel(_offline(2000, join_rate=0.2))
    weak = CommunityModel(_offline(2000, join_rate=0.2))
    weak.policy.acquisition_factor = 0.5
    assert _one_day(weak).joins["offline"] < _one_day(base).joins["offline"]

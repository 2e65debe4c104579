"""Keyed random streams: a draw's numbers depend on (seed, stream, day, draw) and nothing else."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from sim.core.streams import KeyedStream, Streams, position
from sim.model import CommunityModel
from tests.conftest import small


def test_numbers_do_not_depend_on_other_streams_or_skipped_days():
    a, b = Streams(11), Streams(11)
    seen_a, seen_b = {}, {}
    for day in range(8):
        a.start_day(day)
        b.start_day(day)
        if day % 2 == 0:  # "promo" acts every second day in a, every day in b
            seen_a[("promo", day)] = a.uniform("promo", 30)
        seen_b[("promo", day)] = b.uniform("promo", 30)
        b.uniform("extra", 100)  # a stream only b has, drawn before the shared one
        seen_a[("churn", day)] = a.uniform("churn", 50)
        seen_b[("churn", day)] = b.uniform("churn", 50)
        seen_a[("rng", day)] = a["ops"].random(3)
        seen_b[("rng", day)] = b["ops"].random(3)
    for key, numbers in seen_a.items():
        assert np.array_equal(numbers, seen_b[key]), key
    assert not np.array_equal(seen_b[("promo", 1)], seen_b[("promo", 3)])  # days differ
    assert not np.array_equal(seen_b[("promo", 0)], seen_b[("churn", 0)][:30])  # streams differ


def test_a_persons_number_does_not_depend_on_the_market_behind_them():
    small_market, large_market = Streams(5), Streams(5)
    for s in (small_market, large_market):
        s.start_day(3)
    assert np.array_equal(small_market.uniform("churn", 100), large_market.uniform("churn", 1000)[:100])


def test_draws_of_one_day_are_distinct_blocks_and_seeds_differ():
    s = Streams(1)
    s.start_day(0)
    first, second = s.uniform("churn", 1000), s.uniform("churn", 1000)
    assert not np.array_equal(first, second)
    other = Streams(2)
    other.start_day(0)
    assert not np.array_equal(first, other.uniform("churn", 1000))
    assert position(0, 1) - position(0, 0) > 10**12 and position(1, 0) > position(0, 10**4)
    with pytest.raises(ValueError):
        position(0, -1)


def test_keyed_numbers_are_uniform():
    s = Streams(9)
    s.start_day(0)
    u = s.uniform("x", 200_000).astype(float)
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    # consecutive days of one stream are uncorrelated
    s.start_day(1)
    v = s.uniform("x", 200_000).astype(float)
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01


def test_stream_generator_for_a_caller_is_its_own():
    stream = KeyedStream(np.random.SeedSequence(4), "ops")
    kept = stream.fresh(2, 0)
    expected = stream.fresh(2, 0).random(5)
    stream.at(7, 3).random(100)  # the shared generator moving elsewhere leaves the kept one alone
    assert np.array_equal(kept.random(5), expected)


def _record(monkeypatch) -> list:
    log: list = []
    original = Streams.numbers

    def numbers(self, name, day, draw, request):
        out = original(self, name, day, draw, request)
        log.append((name, day, draw, request, hashlib.sha1(out.tobytes()).hexdigest()))
        return out

    monkeypatch.setattr(Streams, "numbers", numbers)
    return log


def test_strategies_that_act_on_different_days_share_every_other_number(monkeypatch):
    """Livestreams on days 3, 10, 17 against 3, 6, 10, 13, 17: every other stream draws the same numbers
    on every day, and the livestream stream the same numbers on the common days."""
    logs = []
    for days in ([3, 10, 17], [3, 6, 10, 13, 17]):
        log = _record(monkeypatch)
        scenario = small(days=20, livestream={"enabled": True, "schedule": "dates", "days": days, "replay_days": 0})
        CommunityModel(scenario).run()
        logs.append({(n, d, r, req): h for n, d, r, req, h in log})
        monkeypatch.undo()
    few, more = logs
    shared = set(few) & set(more)
    assert len(shared) > 100 and {k[0] for k in shared} >= {"engagement", "purchase", "churn", "livestream"}
    assert all(few[k] == more[k] for k in shared)
    live_days = {k[1] for k in shared if k[0] == "livestream"}
    assert live_days == {3, 10, 17}
    # the runs did differ: b's extra shows drew livestream numbers a never drew
    assert {k[1] for k in more if k[0] == "livestream"} == {3, 6, 10, 13, 17}

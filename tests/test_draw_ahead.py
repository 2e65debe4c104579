"""Numbers drawn ahead in a background thread are the numbers drawn on demand, in the same order."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import sim.model
from sim.model import CommunityModel
from sim.streams import Streams
from tests.conftest import small

DAY = (("uniform", 50), ("packed", 50))


def _day(streams: Streams) -> list[np.ndarray]:
    return [streams.uniform("engagement", 50), streams.packed("engagement", 50).bits, streams.uniform("churn", 50)]


def test_same_numbers_with_and_without_drawing_ahead():
    plain, ahead = Streams(7), Streams(7)
    ahead.draw_ahead({"engagement": DAY, "churn": (("uniform", 50),)})
    for day in range(5):
        if day == 2:
            ahead.pause()  # stopping and restarting the thread keeps the sequence
        for a, b in zip(_day(plain), _day(ahead), strict=True):
            assert np.array_equal(a, b)
    ahead.pause()
    # the streams not drawn ahead are untouched
    assert np.array_equal(plain.uniform("purchase", 10), ahead.uniform("purchase", 10))


def test_a_request_out_of_cycle_is_an_error_not_other_numbers():
    streams = Streams(1)
    streams.draw_ahead({"engagement": DAY})
    with pytest.raises(RuntimeError, match="drawn ahead"):
        streams.packed("engagement", 50)  # the cycle starts with a uniform
    with pytest.raises(RuntimeError, match="drawn ahead"):
        streams["engagement"].random()  # direct use would take numbers out of order
    streams.pause()


def test_a_model_run_is_identical_and_leaves_no_thread(monkeypatch):
    scenario = small(days=40)
    monkeypatch.setattr(sim.model, "DRAW_AHEAD_MARKET", 10**9)
    plain = CommunityModel(scenario)
    plain.run()
    monkeypatch.setattr(sim.model, "DRAW_AHEAD_MARKET", 1)
    ahead = CommunityModel(scenario)
    assert ahead.streams._cycles  # drawing ahead is on
    ahead.run()
    assert plain.timeseries().equals(ahead.timeseries())
    assert np.array_equal(plain.pop.satisfaction, ahead.pop.satisfaction)
    assert not [t for t in threading.enumerate() if t.name.startswith("draw-ahead")]

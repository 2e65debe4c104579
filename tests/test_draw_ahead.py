"""Numbers drawn ahead on a second core are exactly the numbers drawn on demand."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import numpy as np
import pytest

from sim.config.loader import load_scenario
from sim.core.streams import Streams
from sim.engine.options import EngineOptions
from sim.model import CommunityModel

ROOT = Path(__file__).resolve().parent.parent


def _day(streams: Streams, day: int) -> list[np.ndarray]:
    """A day's requests, with the irregularities of a real run: streams that draw directly in between,
    a request that changes size, a stream that draws only on some days."""
    streams.start_day(day)
    out = [streams.uniform("engagement", 50), streams.packed("engagement", 50).bits]
    out.append(np.array([streams["acquisition"].random()]))  # drawn directly, after its per-person numbers
    out.append(streams.uniform("acquisition", 40))
    if day % 3 == 0:
        out.append(streams.uniform("livestream", 50))
    if day == 4:
        out.append(streams["churn"].random(3))  # drawn directly before its per-person numbers
    out.append(streams.uniform("churn", 50 if day < 6 else 60))
    return out


def test_the_same_numbers_with_and_without_drawing_ahead():
    plain, ahead = Streams(7), Streams(7)
    worker = ahead.draw_ahead()
    for day in range(10):
        for a, b in zip(_day(plain, day), _day(ahead, day), strict=True):
            assert np.array_equal(a, b)
        worker.submit()
        if day == 5:
            worker.close()  # stopping the thread keeps the sequence; the next submit starts another
    worker.close()
    assert worker.used > 20 and worker.on_demand > 5  # both paths were taken
    assert not [t for t in threading.enumerate() if t.name == "draw-ahead"]


def test_an_error_in_the_thread_reaches_the_request():
    streams = Streams(1)
    worker = streams.draw_ahead()
    streams.start_day(0)
    streams.uniform("engagement", 10)
    worker.submit()
    worker.wait()
    request, _ = worker._ahead[("engagement", 1, 0)]
    failed = type(worker._ahead[("engagement", 1, 0)][1])()
    failed.set_exception(MemoryError("no room"))
    worker._ahead[("engagement", 1, 0)] = (request, failed)
    streams.start_day(1)
    with pytest.raises(MemoryError, match="no room"):
        streams.uniform("engagement", 10)
    worker.close()


@pytest.mark.parametrize("name", ["benchmarks/everything_on.yaml", "scenarios/livestream_weekly.yaml"])
def test_a_run_is_identical_and_leaves_no_thread(name):
    scenario = load_scenario(ROOT / name, ["market.size=3000", "days=210"])
    plain = CommunityModel(scenario, engine=EngineOptions(second_core=False))
    plain.run()
    assert plain.streams.ahead is None
    ahead = CommunityModel(scenario, engine=EngineOptions(draw_ahead_market=1))
    ahead.run()
    assert ahead.streams.ahead.used > 100  # the run did use numbers drawn ahead
    assert plain.timeseries().equals(ahead.timeseries())
    for column in ("satisfaction", "engagement", "status", "points", "negative"):
        assert np.array_equal(getattr(plain.pop, column), getattr(ahead.pop, column))
    assert not [t for t in threading.enumerate() if t.name == "draw-ahead"]


def test_streams_dropped_without_close_stop_their_thread():
    # a model stepped with step() alone (as the dashboard does) never reaches run()'s close()
    streams = Streams(3)
    streams.draw_ahead()
    streams.start_day(0)
    streams.uniform("engagement", 100)
    streams.ahead.submit()
    thread = streams.ahead._thread
    assert thread is not None and thread.is_alive()
    del streams
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()

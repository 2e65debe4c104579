"""The event log keeps a bounded amount in memory: older events go to a temporary file, same table."""

from __future__ import annotations

import errno
import gc
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.loader import load_scenario
from sim.core.events import EventLog
from sim.model import CommunityModel

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("organic", "referral")


def _fill(log: EventLog, days: int, per_day: int) -> None:
    """A purchase batch (two float columns) and a referral join (scalars) a day, and a marker every 10 days."""
    rng = np.random.default_rng(5)
    for day in range(days):
        people = rng.integers(0, 10**6, per_day).astype(np.int32)
        log.add(day, "purchase", people, amount=rng.random(per_day) * 100, net=rng.random(per_day) * 90)
        log.add(day, "join", people[:3], source=1, counterpart=people[3:6])
        if day % 10 == 0:
            log.note(day, "rule", f"rule {day // 10 % 3}")


def test_a_log_that_writes_to_its_file_gives_the_same_table_and_parquet(tmp_path):
    whole, spilled = EventLog(SOURCES), EventLog(SOURCES, spill_bytes=50_000)
    _fill(whole, 60, 1_000)
    _fill(spilled, 60, 1_000)
    assert whole.spilled_parts == 0 and spilled.spilled_parts >= 20
    pd.testing.assert_frame_equal(spilled.frame(), whole.frame())
    whole.write_parquet(tmp_path / "whole.parquet")
    spilled.write_parquet(tmp_path / "spilled.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "spilled.parquet"), whole.frame())
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "whole.parquet"), whole.frame())
    assert spilled.frame()["label"].cat.categories.tolist() == ["", "rule 0", "rule 1", "rule 2"]


def test_the_log_holds_at_most_its_spill_bytes_in_memory():
    """300 days of 10,000 purchases are 60 MB of events; with a 2 MB limit the log holds under 4 MB."""

    def held(spill_bytes: int) -> int:
        gc.collect()
        tracemalloc.start()
        log = EventLog(SOURCES, spill_bytes=spill_bytes)
        _fill(log, 300, 10_000)
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(log.frame()) == 300 * 10_003 + 30  # nothing lost
        return current

    assert held(10**12) > 55e6
    assert held(2 << 20) < 4e6


def test_the_temporary_file_has_no_name_left_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    log = EventLog(SOURCES, spill_bytes=10_000)
    _fill(log, 20, 1_000)
    assert log.spilled_parts > 0
    assert list(tmp_path.iterdir()) == []  # while the run goes on, and so whatever way it ends


def test_a_run_whose_log_writes_to_its_file_has_the_same_events():
    # the calendar events fall after day 60: left out, so the shortened run warns of none
    scenario = load_scenario(ROOT / "benchmarks/everything_on.yaml", ["market.size=3000", "events=[]"], days=60)
    plain, spilling = CommunityModel(scenario), CommunityModel(scenario)
    spilling.events.spill_bytes = 10_000
    plain.run()
    spilling.run()
    assert spilling.events.spilled_parts > 5  # several parts, the first from the day-0 joins
    pd.testing.assert_frame_equal(spilling.events.frame(), plain.events.frame())


class _FullAfter:
    """A file that takes ``room`` more bytes, then fails as a full disk would (half a write landing)."""

    def __init__(self, f, room: int):
        self.f, self.room = f, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.f.write(data[: self.room // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)


def test_a_spill_that_fails_half_way_leaves_the_log_as_it_was():
    """A full disk in the middle of a spill: the log keeps the events in memory and, once there is space
    again, holds exactly what was added."""
    ref, log = EventLog(SOURCES), EventLog(SOURCES, spill_bytes=50_000)
    rng = np.random.default_rng(3)
    failed = 0
    for day in range(40):
        people = rng.integers(0, 10**6, 1_000).astype(np.int32)
        amount = rng.random(1_000)
        if day == 20:
            log._file = _FullAfter(log._file, 30_000)  # the disk fills up
        if day == 30:
            log._file = log._file.f  # space again
        ref.add(day, "purchase", people, amount=amount)
        try:
            log.add(day, "purchase", people, amount=amount)
        except OSError:
            failed += 1
    assert failed > 0 and log.spilled_parts > 2
    pd.testing.assert_frame_equal(log.frame(), ref.frame())

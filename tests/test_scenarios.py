"""Every shipped scenario loads and runs (shortened), so none rots."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config.loader import load_scenario
from sim.model import CommunityModel

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


def test_there_are_scenarios():
    names = {p.stem for p in SCENARIOS}
    assert {"baseline", "referral_push", "points_program", "content_heavy"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_runs(path):
    # the whole calendar (events may fall late in the run) on a small market
    scenario = load_scenario(path, ["market.size=2000", "acquisition.initial_members=60", "koc.initial_count=5"])
    assert scenario.name == path.stem
    model = CommunityModel(scenario)
    model.run()
    ts = model.timeseries()
    assert len(ts) == scenario.days and ts["members"].iloc[-1] > 0 and ts["visits"].sum() > 0

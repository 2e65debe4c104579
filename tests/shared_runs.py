"""Finished runs made once per test process and shared by the tests that need them.

Many direction tests compare a change with the same unchanged runs (the same scenario, seeds and days):
each distinct scenario is simulated once. The runs are shared, so a test only reads them.
"""

from __future__ import annotations

from collections import OrderedDict

import pandas as pd

from sim.config.schema import Scenario
from sim.model import CommunityModel

#: The most recent runs kept (a 90-day run of the small scenario holds a few megabytes).
KEEP = 40
_runs: OrderedDict[str, tuple[CommunityModel, pd.DataFrame]] = OrderedDict()


def _run(scenario: Scenario) -> tuple[CommunityModel, pd.DataFrame]:
    key = scenario.model_dump_json()
    if key in _runs:
        _runs.move_to_end(key)
    else:
        model = CommunityModel(scenario)
        model.run()
        _runs[key] = (model, model.timeseries())
        while len(_runs) > KEEP:
            _runs.popitem(last=False)
    return _runs[key]


def finished(scenario: Scenario) -> CommunityModel:
    """The model of ``scenario`` run to its last day; read it, do not change it."""
    return _run(scenario)[0]


def timeseries(scenario: Scenario) -> pd.DataFrame:
    """The daily KPIs of that run (the same frame on every call: read it, do not change it)."""
    return _run(scenario)[1]

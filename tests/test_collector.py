"""The KPI collector records what Mesa's DataCollector records, and refuses a KPI that is not a number."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.config.schema import Scenario
from sim.engine.mesa_core import mesa
from sim.experiment.levers import market
from sim.model import CommunityModel
from sim.observe.metrics import KPI_NAMES


def small_model() -> CommunityModel:
    return CommunityModel(Scenario.model_validate(market(people=400, days=12)))


def test_the_timeseries_is_mesas_datacollector_value_for_value():
    model = small_model()
    plain = mesa().DataCollector(model_reporters={k: (lambda m, k=k: m.today[k]) for k in KPI_NAMES})
    for _ in range(12):
        model.step()
        plain.collect(model)
    ours, theirs = model.datacollector.get_model_vars_dataframe(), plain.get_model_vars_dataframe()
    assert list(ours.columns) == list(KPI_NAMES) and len(ours) == 12
    assert ours["members"].iloc[-1] > 0 and ours["visits"].sum() > 0  # a run that did something
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    assert set(model.datacollector.model_reporters) == set(KPI_NAMES)


def test_a_kpi_that_is_not_a_number_is_refused_on_the_first_day():
    model = small_model()
    model.step()
    model.datacollector = type(model.datacollector)(KPI_NAMES)
    model.today = dict(model.today, members=[1, 2])
    with pytest.raises(TypeError, match="'members' is a list"):
        model.datacollector.collect(model)

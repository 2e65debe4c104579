"""The dashboard page for Solara: ``community-sim dashboard`` runs ``solara run sim.dashboard.app``.

The scenario to start from comes from the ``COMMUNITY_SIM_DASHBOARD_SCENARIO``
environment variable (empty: the baseline scaled down to a small community).
"""

from __future__ import annotations

import os

import solara
from mesa.visualization import SolaraViz

from sim.dashboard.controls import load_base, model_params
from sim.dashboard.model import DashboardModel
from sim.dashboard.views import COMPONENTS

SCENARIO_ENV = "COMMUNITY_SIM_DASHBOARD_SCENARIO"


def initial_values(params: dict) -> dict:
    """Keyword arguments of the first model: fixed parameters and every control's starting value."""
    return {k: v["value"] if isinstance(v, dict) and "type" in v else v for k, v in params.items()}


@solara.component
def Page():
    """One browser session: its own model, controls and views."""
    base = os.environ.get(SCENARIO_ENV, "")
    params = solara.use_memo(lambda: model_params(base, load_base(base or None)), [])
    model = solara.use_memo(lambda: DashboardModel(**initial_values(params)), [])
    return SolaraViz(
        model,
        components=COMPONENTS,
        model_params=params,
        name=f"community-sim dashboard · {model.scenario.name}",
        play_interval=150,
    )

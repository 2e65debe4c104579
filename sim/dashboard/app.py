"""The dashboard page for Solara: ``community-sim dashboard`` runs ``solara run sim.dashboard.app``.

The scenario to start from comes from the ``COMMUNITY_SIM_DASHBOARD_SCENARIO``
environment variable (empty: the baseline scaled down to a small community).
"""

from __future__ import annotations

import os
import warnings

import solara
from mesa.visualization import SolaraViz, solara_viz

from sim.dashboard.compat import accept_community_scenario
from sim.dashboard.controls import control_values, load_base
from sim.dashboard.model import ControlPanel, DashboardModel
from sim.dashboard.server import COOKIE_WARNING, SCENARIO_ENV
from sim.dashboard.views import COMPONENTS

#: Solara warns on every page load over plain http that its session cookie falls back to samesite=lax;
#: on this machine's own address that is expected (the server sets the same filter through its environment).
warnings.filterwarnings("ignore", message=COOKIE_WARNING, category=UserWarning)
accept_community_scenario(solara_viz)  # Mesa 3.5 reads model.scenario as its own


def model_params(base: str, panel: ControlPanel) -> dict:
    """SolaraViz ``model_params``: fixed ones only (the base scenario and the page's controls).

    The controls are the dashboard's own (``views.StrategyControls``), so that a moved control can act
    on the running model; SolaraViz's Reset builds the model again from the same ``panel``.
    """
    return {"base": base, "panel": panel}


@solara.component
def Page():
    """One browser session: its own model, controls and views."""
    base = os.environ.get(SCENARIO_ENV, "")
    panel = solara.use_memo(lambda: ControlPanel(control_values(load_base(base or None))), [])
    params = solara.use_memo(lambda: model_params(base, panel), [])
    model = solara.use_memo(lambda: DashboardModel(**params), [])
    return SolaraViz(
        model,
        components=COMPONENTS,
        model_params=params,
        name=f"community-sim dashboard · {model.scenario.name}",
        play_interval=150,
    )

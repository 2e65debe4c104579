"""What the dashboard needs from Mesa's SolaraViz across Mesa versions (found by feature detection).

Mesa 3.5's SolaraViz reads ``model.scenario`` as its own experimental ``Scenario`` (its
default parameters feed the model's checks and Reset) and refuses anything else. A
community model's ``scenario`` is the community's (Mesa's own is kept as
``mesa_scenario``), so the dashboard tells SolaraViz that it carries no Mesa scenario
parameters. Mesa 3.3 has no such check, and nothing is changed there.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from sim.config.schema import Scenario


def accept_community_scenario(viz: ModuleType) -> bool:
    """Let SolaraViz (module ``viz``) take a model whose ``scenario`` is a community scenario; True if needed."""
    mesa_defaults = getattr(viz, "_get_scenario_defaults", None)
    if mesa_defaults is None or getattr(mesa_defaults, "community_sim", False):
        return False

    def defaults(scenario: Any) -> dict[str, Any]:
        if isinstance(scenario, Scenario):
            return {"rng": None}  # no Mesa scenario parameters: Reset passes the model's own keywords only
        return mesa_defaults(scenario)

    defaults.community_sim = True  # type: ignore[attr-defined]
    viz._get_scenario_defaults = defaults
    return True

"""``DashboardModel``: a ``CommunityModel`` built from flat control values, as SolaraViz's Reset needs."""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.config.errors import ScenarioError
from sim.config.loader import scenario_from_mapping
from sim.dashboard.controls import SOURCE, build_scenario, load_base
from sim.dashboard.network_view import NetworkView
from sim.model import CommunityModel


class DashboardModel(CommunityModel):
    """The community the dashboard shows; SolaraViz calls it with the controls' values on Reset.

    Settings the loader rejects do not raise: the model keeps the base scenario,
    stands still, and ``error`` holds the loader's message for the page to show.
    """

    def __init__(
        self,
        base: str = "",
        operating_model: str | None = None,
        content_focus: str | None = None,
        promotional_share: float | None = None,
        posts_per_day: float | None = None,
        reward_inviter: float | None = None,
        reward_invitee: float | None = None,
        points: bool | None = None,
        coupons: bool | None = None,
        coupon_target: str | None = None,
        coupon_value: float | None = None,
        operators: int | None = None,
        koc_incubation: bool | None = None,
        seed: str | int | None = None,
    ) -> None:
        given = {k: v for k, v in locals().items() if k not in ("self", "base", "__class__") and v is not None}
        self.base_path = base
        self.controls: dict[str, Any] = given
        self.error: str | None = None
        try:
            base_data = load_base(base or None)
        except ScenarioError as exc:  # the base file changed since the server started: show why
            base_data, self.error = load_base(None), str(exc)
        if self.error is None:
            try:
                scenario = build_scenario(base_data, given)
            except ScenarioError as exc:
                self.error = str(exc)
        if self.error is not None:
            scenario = scenario_from_mapping(base_data, source=SOURCE)
        super().__init__(scenario, record_events=False)
        self.network_view = NetworkView(self)
        self._frame: pd.DataFrame | None = None
        self.running = self.error is None

    def frame(self) -> pd.DataFrame:
        """The time series so far (cached until the next day)."""
        if self._frame is None or len(self._frame) != self.days_done:
            self._frame = self.timeseries()
        return self._frame

    def step(self) -> None:
        """One day; stands still after an error or at the end of the scenario's days."""
        if self.error is not None or self.days_done >= self.scenario.days:
            self.running = False
            return
        super().step()
        self.running = self.days_done < self.scenario.days

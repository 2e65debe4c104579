"""``DashboardModel``: a ``CommunityModel`` built from flat control values, as SolaraViz's Reset needs."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd

from sim.config.errors import ScenarioError
from sim.config.loader import scenario_from_mapping
from sim.dashboard import live
from sim.dashboard.controls import LIVE, ON_RESET, SOURCE, _same, build_scenario, control_values, describe, load_base
from sim.dashboard.network_view import NetworkView
from sim.model import CommunityModel


class ControlPanel:
    """The positions of one page's controls, shared by every model the page builds (so Reset takes them)."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = dict(values or {})


class DashboardModel(CommunityModel):
    """The community the dashboard shows; SolaraViz builds it again on Reset.

    The controls come from ``panel`` (the page's controls) if given, else from the keyword
    arguments. Settings the loader rejects do not raise: the model keeps the base scenario,
    stands still, and ``error`` holds the loader's message for the page to show.
    """

    def __init__(
        self,
        base: str = "",
        panel: ControlPanel | None = None,
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
        given = {k: v for k, v in locals().items() if k not in ("self", "base", "panel", "__class__") and v is not None}
        if panel is not None:
            given = dict(panel.values)
        self.base_path = base
        self.panel = panel
        self.error: str | None = None
        self.live_error: str | None = None  # why the last live change was refused
        self.live_changes: list[dict] = []  # {"day", "control", "old", "new", "label"} of each live change
        self.lock = threading.RLock()  # a day and a live change never overlap (▶ steps in another thread)
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
        self.base_data = base_data
        #: The controls the running scenario was built from: every one, starting at the base's values.
        self.controls: dict[str, Any] = {**control_values(base_data), **given}
        super().__init__(scenario, record_events=False)
        self.network_view = NetworkView(self)
        self._frame: pd.DataFrame | None = None
        self.running = self.error is None

    def pending(self, values: dict[str, Any]) -> list[str]:
        """The controls in ``values`` that apply on Reset and differ from the running model's."""
        return [k for k in ON_RESET if k in values and not _same(values[k], self.controls.get(k))]

    def apply_controls(self, values: dict[str, Any]) -> list[dict]:
        """Run under the live controls of ``values`` from the next day on; returns the changes made.

        Controls that apply on Reset are left as they are. A combination the loader rejects
        changes nothing and leaves the message in ``live_error``.
        """
        with self.lock:
            return self._apply_controls(values)

    def _apply_controls(self, values: dict[str, Any]) -> list[dict]:
        if self.error is not None:
            return []
        wanted = {**self.controls, **{k: v for k, v in values.items() if k in LIVE}}
        moved = [k for k in LIVE if not _same(wanted[k], self.controls[k])]
        if not moved:
            self.live_error = None
            return []
        try:
            scenario = build_scenario(self.base_data, wanted)
            live.apply(self, scenario)
        except (ScenarioError, live.NeedsReset) as exc:
            self.live_error = str(exc)
            return []
        self.live_error = None
        day = self.days_done  # the first day under the new settings
        made = []
        for name in moved:
            change = {"day": day, "control": name, "old": self.controls[name], "new": wanted[name]}
            change["label"] = describe(name, change["old"], change["new"])
            self.markers.append({"day": day, "kind": "setting", "label": change["label"]})
            self.events.note(day, "setting", change["label"])
            made.append(change)
        self.controls = wanted
        self.live_changes.extend(made)
        return made

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
        with self.lock:
            super().step()
        self.running = self.days_done < self.scenario.days

"""``--fit key.path=LOW:HIGH[:log]`` and ``--target KPI[:weight]``, checked against the schema.

A fitted key must exist, hold a number (an integer key is searched over integers)
and its range must lie within the key's own allowed bounds, so no trial can fail
validation halfway through a search.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import yaml

from sim.calibration import CalibrationError
from sim.calibration.observed import check_kpi
from sim.config import fields, keypath
from sim.config.errors import ScenarioError
from sim.config.loader import apply_overrides, scenario_from_mapping


@dataclass(frozen=True)
class FitParam:
    """One scenario key to fit and its search range."""

    path: str
    low: float
    high: float
    integer: bool = False
    log: bool = False

    def set(self, data: dict[str, Any], value: float) -> dict[str, Any]:
        """A copy of the scenario data with this key set to ``value``."""
        return apply_overrides(data, [f"{self.path}={yaml_number(value)}"])


@dataclass(frozen=True)
class Target:
    """A KPI to match and its weight in the distance."""

    kpi: str
    weight: float = 1.0


def yaml_number(value: float) -> str:
    """``value`` written so that YAML reads back the same number (``1e-05`` would read as a string)."""
    return yaml.safe_dump(value).splitlines()[0]


def parse_fit(spec: str, base: dict[str, Any]) -> FitParam:
    """Parse and check one ``--fit`` against the schema and the resolved scenario ``base``."""
    path, sep, rng = spec.partition("=")
    path, parts = path.strip(), [p.strip() for p in rng.split(":")]
    log = len(parts) == 3 and parts[2] == "log"
    if not sep or not path or len(parts) not in (2, 3) or (len(parts) == 3 and not log):
        raise CalibrationError(
            f"--fit {spec}: expected key.path=LOW:HIGH (or LOW:HIGH:log), e.g. purchase.base_prob=0.01:0.05"
        )
    try:
        path = keypath.canonical(path)  # one spelling, so a key given twice is seen as one
    except keypath.KeyPathError as exc:
        raise CalibrationError(f"--fit {spec}: {exc}") from None
    setting = keypath.run_setting(path)
    if setting is not None or path == "start_date":
        what = {
            "seed": "the seed draws the runs' randomness; give --seed to calibrate",
            "days": "the days simulated follow the observed file",
            "output": "output settings say what a run records",
            "start_date": "start_date dates the observed rows; set it with --set start_date=YYYY-MM-DD",
        }.get(setting or path, "it names the scenario")
        raise CalibrationError(
            f"--fit {spec}: {path} is a setting of the run, not a parameter of the model ({what}); "
            "fit keys such as purchase.base_prob or churn.base_hazard"
        )
    ann, info = fields.resolve(keypath.split(path))
    if ann is None:
        try:
            apply_overrides(base, [f"{path}=0"])  # the loader's did-you-mean message
        except ScenarioError as exc:
            raise CalibrationError(f"--fit {spec}: {exc.problems[0].path}: {exc.problems[0].message}") from None
        raise CalibrationError(f"--fit {spec}: {path} is not a key of the scenario")
    if ann is bool or ann not in (int, float):
        raise CalibrationError(f"--fit {spec}: {path} is not a number, so it cannot be fitted")
    integer = ann is int
    low, high = (_number(p, spec, integer) for p in parts[:2])
    if not low < high:
        raise CalibrationError(f"--fit {spec}: LOW must be below HIGH")
    limits = fields.bounds(info) if info is not None else {}
    for value in (low, high):
        if not _within(value, limits):
            raise CalibrationError(
                f"--fit {spec}: {fields.fmt_number(value)} is outside the allowed range of {path} "
                f"({fields.bounds_text(limits)})"
            )
    if log and low <= 0:
        raise CalibrationError(f"--fit {spec}: a log range needs LOW > 0")
    param = FitParam(path, low, high, integer, log)
    for value in (low, high):
        try:
            scenario_from_mapping(param.set(base, value), f"--fit {spec}")
        except ScenarioError as exc:
            raise CalibrationError(f"with {path}={fields.fmt_number(value)}: {exc}") from None
    return param


def _number(text: str, spec: str, integer: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CalibrationError(f"--fit {spec}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise CalibrationError(f"--fit {spec}: {text!r} is not a finite number")
    if integer:
        if not value.is_integer():
            raise CalibrationError(f"--fit {spec}: this key is an integer; {text!r} is not")
        return int(value)
    return value


def _within(value: float, limits: dict[str, Any]) -> bool:
    checks = {
        "ge": lambda b: value >= b,
        "gt": lambda b: value > b,
        "le": lambda b: value <= b,
        "lt": lambda b: value < b,
    }
    return all(checks[k](b) for k, b in limits.items())


def parse_target(spec: str) -> Target:
    """``gmv:2`` -> ``Target("gmv", 2.0)``; ``members`` -> weight 1."""
    name, sep, weight = spec.strip().partition(":")
    kpi = check_kpi(name.strip(), f"--target {spec}")
    if not sep:
        return Target(kpi)
    try:
        w = float(weight)
    except ValueError:
        raise CalibrationError(f"--target {spec}: weight {weight!r} is not a number") from None
    if not (math.isfinite(w) and w > 0):
        raise CalibrationError(f"--target {spec}: the weight must be a positive number")
    return Target(kpi, w)


def parse_targets(specs: list[str]) -> list[Target]:
    """Targets in the order given; a KPI named twice is an error."""
    targets = [parse_target(s) for s in specs]
    seen: set[str] = set()
    for t in targets:
        if t.kpi in seen:
            raise CalibrationError(f"--target {t.kpi} is given more than once")
        seen.add(t.kpi)
    return targets


def with_values(base: dict[str, Any], params: list[FitParam], values: dict[str, float]) -> dict[str, Any]:
    """A copy of ``base`` with every fitted key set."""
    data = copy.deepcopy(base)
    for p in params:
        data = p.set(data, values[p.path])
    return data

"""The validation suite file: cases, each a claim, a metric, a target, a tolerance and its provenance."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.config.base import Section
from sim.config.errors import Problem, ScenarioError, format_path
from sim.config.yamlsource import read_document

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
DEFAULT_SUITE = SCENARIOS / "validation" / "suite.yaml"


class Case(Section):
    """One validation case."""

    id: str = Field(min_length=1, description="Identifier, e.g. S3.")
    claim: str = Field(min_length=1, description="What the reports or theory say.")
    scenario: str = Field(min_length=1, description="Scenario name, relative to the scenarios directory, no .yaml.")
    baseline: str | None = Field(None, description="Scenario to compare with (ratio, difference), same seeds.")
    metric: str = Field(description="Metric name (sim/validation/metrics.py).")
    compare: Literal["value", "ratio", "difference", "at_least"] = Field("value", description="How to score.")
    target: float = Field(description="Target value.")
    tolerance: float = Field(ge=0.0, description="Allowed distance from the target.")
    provenance: Literal["emerges", "calibrated", "input"] = Field(
        description="Whether the fact emerges from mechanisms whose keys were not set with its target in view "
        "(emerges), is reached because keys were chosen to reach it (calibrated), or is an input of the model "
        "(input: the target is, or nearly is, a parameter's value). Required: a case says what it tests."
    )
    provenance_note: str = Field(min_length=1, description="One line: which keys, or why none.")

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        from sim.validation.metrics import METRICS

        if v not in METRICS:
            raise ValueError(f"unknown metric {v!r}; known: {sorted(METRICS)}")
        return v

    @model_validator(mode="after")
    def _paired(self) -> Case:
        if self.compare in ("ratio", "difference") and self.baseline is None:
            raise ValueError(f"case {self.id}: compare={self.compare} needs a baseline scenario")
        return self


class Suite(Section):
    """A validation suite."""

    replications: int = Field(3, ge=1, le=1000, description="Replications per scenario (seeds spawned from seed).")
    seed: int = Field(20261122, ge=0, description="Master seed of the replications.")
    cases: list[Case] = Field(min_length=1, description="The cases.")

    @field_validator("cases")
    @classmethod
    def _unique(cls, v: list[Case]) -> list[Case]:
        ids = [c.id for c in v]
        if len(set(ids)) != len(ids):
            raise ValueError(f"case ids must be unique, got {ids}")
        return v


def load_suite(path: Path = DEFAULT_SUITE) -> Suite:
    """Read and validate a suite file; every problem names the file, line and key, all at once."""
    from pydantic import ValidationError

    doc = read_document(path, str(path), None)
    problems: list[Problem] = []

    def at(loc: tuple, message: str) -> None:
        known = loc
        while known and known not in doc.origins:
            known = known[:-1]
        problems.append(Problem(str(path), doc.origins.get(known, (None, None))[1], format_path(loc), message))

    try:
        suite = Suite.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            message = "required key is missing" if err["type"] == "missing" else err["msg"]
            at(tuple(err["loc"]), message.removeprefix("Value error, "))
        suite = None
    for i, case in enumerate(suite.cases if suite is not None else ()):
        for key in ("scenario", "baseline"):
            name = getattr(case, key)
            if name is not None and not (SCENARIOS / f"{name}.yaml").is_file():
                at(("cases", i, key), f"no scenario {name!r} (scenarios/{name}.yaml)")
    if problems:
        title = None if len(problems) == 1 else f"{len(problems)} problems in suite {path}"
        raise ScenarioError(problems, title)
    return suite

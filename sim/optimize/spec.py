"""The optimization file: levers, budget, uncertainties, objectives, constraints; its own shape only.

``resolve`` then checks it against the scenario schema (dotted paths, bounds, KPI
names, a budget no lever setting can meet). Every key is in docs/optimize.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.config.base import Name
from sim.config.yamlsource import Document
from sim.experiment.spec import Ranged, Scalar, lists_as, read_spec

Direction = Literal["maximize", "minimize"]
Statistic = Literal["mean", "quantile", "regret"]
SamplerKind = Literal["auto", "tpe", "nsga2", "random"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Lever(Ranged):
    """A decision: a numeric ``range`` (``log`` for a log scale, ``step`` for a grid) or a list of ``choices``."""

    log: bool = Field(False, description="Search the range on a log scale (low > 0).")
    step: float | None = Field(None, gt=0, description="Grid step within the range (e.g. 100 CNY).")
    choices: list[Scalar] | None = Field(None, description="Values to choose from (categorical).")

    @model_validator(mode="after")
    def _one_kind(self) -> Lever:
        self._one_of("choices", self.choices)
        if self.log and (self.range is None or self.range[0] <= 0):
            raise ValueError("log: true needs a range with low > 0")
        if self.log and self.step is not None:
            raise ValueError("a log-scale range has no step")
        if self.step is not None and self.range is None:
            raise ValueError("step goes with a range")
        if self.choices is not None and not self.choices:
            raise ValueError("choices is empty: the lever has nothing to choose from")
        if self.choices is not None and len(self.choices) == 1:
            raise ValueError("one choice is not a decision: list two or more, or set the value under set:")
        if self.step is not None and self.range is not None and self.step > self.range[1] - self.range[0]:
            raise ValueError(f"step {self.step:g} is wider than the range {list(self.range)}: the grid has one value")
        return self


class Budget(_Spec):
    """A cap on the daily spend the levers imply, checked before a run and measured on the ledger."""

    limit: float = Field(gt=0, description="CNY a day.")
    per_day: dict[str, float] = Field(
        default_factory=dict,
        description="Lever -> CNY a day per unit of its value (true counts 1): the spend committed before any run.",
    )
    lines: list[str] = Field(
        default_factory=list,
        description="Ledger lines whose measured daily spend (mean over replications) must stay within the limit.",
    )

    @model_validator(mode="after")
    def _something(self) -> Budget:
        if not self.per_day and not self.lines:
            raise ValueError("a budget needs per_day (lever costs) or lines (measured ledger lines), or both")
        return self


class Uncertainty(_Spec):
    """A parameter nobody controls or knows: sampled once per replication, shared by every candidate."""

    dist: Literal["uniform", "loguniform", "triangular", "choice"] = Field(description="Distribution.")
    low: float | None = Field(None, description="uniform, loguniform, triangular: lower end.")
    high: float | None = Field(None, description="uniform, loguniform, triangular: upper end.")
    mode: float | None = Field(None, description="triangular: the most likely value.")
    values: list[Scalar] | None = Field(None, description="choice: equally likely values.")

    @model_validator(mode="after")
    def _shape(self) -> Uncertainty:
        if self.dist == "choice":
            if not self.values:
                raise ValueError("a choice uncertainty lists values: [...]")
            return self
        if self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"{self.dist} needs low < high")
        if self.dist == "loguniform" and self.low <= 0:
            raise ValueError("loguniform needs low > 0")
        if self.dist == "triangular" and (self.mode is None or not self.low <= self.mode <= self.high):
            raise ValueError("triangular needs a mode between low and high")
        return self


class Objective(_Spec):
    """A KPI column to maximize or minimize, summarized over the replications by a robustness statistic."""

    kpi: str = Field(description="KPI column, e.g. final.profit (see docs/experiments.md, KPI columns).")
    direction: Direction = Field("maximize", description="maximize or minimize.")
    statistic: Statistic = Field("mean", description="mean, quantile (with q) or regret.")
    q: float | None = Field(None, gt=0, lt=1, description="quantile: which one, e.g. 0.1 (the bad tenth).")

    @model_validator(mode="after")
    def _q(self) -> Objective:
        if (self.statistic == "quantile") != (self.q is not None):
            raise ValueError("q goes with statistic: quantile, and quantile needs q (e.g. 0.1)")
        return self


class Constraint(_Spec):
    """A bound on the mean of a KPI column over the replications."""

    kpi: str = Field(description="KPI column, e.g. retention.day_180.")
    min: float | None = Field(None, description="The mean must be at least this.")
    max: float | None = Field(None, description="The mean must be at most this.")

    @model_validator(mode="after")
    def _bound(self) -> Constraint:
        if self.min is None and self.max is None:
            raise ValueError("a constraint needs min or max (or both)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Search(_Spec):
    """How optuna searches."""

    sampler: SamplerKind = Field("auto", description="auto: TPE for one objective, NSGA-II for several.")
    batch: int = Field(4, ge=1, le=256, description="Trials asked, run and told together (not --workers).")
    startup: int = Field(8, ge=1, le=10_000, description="TPE: random trials before the model takes over.")
    population: int = Field(8, ge=2, le=10_000, description="NSGA-II: population size.")


class Verify(_Spec):
    """Re-running the best candidates on fresh seeds against the base scenario."""

    top: int = Field(3, ge=1, le=100, description="Candidates verified (one objective: the best k; else the front).")
    replications: int = Field(8, ge=2, le=100_000, description="Fresh replications per candidate.")


class Optimization(_Spec):
    """Levers x uncertainties: find the levers that do best on the objectives, within the constraints."""

    name: Name = Field("optimization", description="Name; default the file stem.")
    description: str = Field("", description="Free text.")
    scenario: str = Field(description="Base scenario file, relative to this file.")
    set: dict[str, Any] = Field(default_factory=dict, description="Scenario overrides applied to every run.")
    levers: dict[str, Lever] = Field(min_length=1, description="Dotted scenario path -> range or choices.")
    budget: Budget | None = Field(None, description="Daily spend cap across levers.")
    uncertainties: dict[str, Uncertainty] = Field(default_factory=dict, description="Dotted path -> distribution.")
    objectives: list[Objective] = Field(min_length=1, max_length=4, description="One to four objectives.")
    constraints: list[Constraint] = Field(default_factory=list, description="Bounds on KPI means.")
    trials: int = Field(40, ge=1, le=100_000, description="Trials the study should hold (--trials overrides).")
    replications: int = Field(4, ge=1, le=10_000, description="Runs per trial, one per uncertainty sample.")
    seed: int = Field(ge=0, le=2**63 - 1, description="Master seed: sampler, replication seeds, uncertainties.")
    search: Search = Field(default_factory=Search, description="Sampler settings.")
    verify: Verify = Field(default_factory=Verify, description="Verification on fresh seeds.")

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        """A lever given as a list means its choices; ``objectives: final.profit`` means maximize it."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        lists_as(data, "levers", "choices")
        if isinstance(data.get("objectives"), str | dict):
            data["objectives"] = [data["objectives"]]
        if isinstance(data.get("objectives"), list):
            data["objectives"] = [{"kpi": o} if isinstance(o, str) else o for o in data["objectives"]]
        return data


def read_optimization(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> tuple[Optimization, Document]:
    """Read and validate the file's own shape; raise ``ScenarioError`` with file, line and key."""
    return read_spec(path, Optimization, "optimization", overrides)

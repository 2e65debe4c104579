"""The experiment file: its schema, and reading it with file/line/key error messages.

An experiment names a base scenario, the factors to vary (dotted scenario paths
with levels or ranges), a design, the replications, a master seed and the KPIs
to keep. This module checks the file's own shape; ``resolve`` then checks it
against the scenario schema and builds the runs. Every key is in docs/experiments.md.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from sim.config.base import Name, name_from_stem
from sim.config.errors import Problem, ScenarioError, format_path
from sim.config.filekinds import check_kind
from sim.config.yamlsource import Document, KeyPath, LimitedLoader, read_document

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr
DesignKind = Literal["grid", "zip", "lhs", "sobol", "morris"]
#: Designs that sample numeric ranges (through SALib) rather than list levels.
SAMPLED: frozenset[str] = frozenset({"lhs", "sobol", "morris"})
#: The factor whose levels are scenario files, relative to the experiment file.
SCENARIO_FACTOR = "scenario"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ranged(_Spec):
    """What a varied key shares in sweeps and optimizations: a numeric range, a table to renormalize."""

    range: tuple[float, float] | None = Field(None, description="[low, high] of a numeric value.")
    renormalize: str | None = Field(
        None, description="A table of shares (e.g. content.mix) whose other entries are rescaled to sum to 1."
    )

    def _one_of(self, other: str, given: object) -> None:
        """Exactly one of ``range`` and ``other`` (``given`` its value); a range has low < high."""
        if (given is None) == (self.range is None):
            raise ValueError(f"give either {other}: [...] or range: [low, high]")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range must be [low, high] with low < high, got {list(self.range)}")


class Factor(Ranged):
    """One varied scenario value: ``levels`` (any design) or a numeric ``range``."""

    levels: list[Scalar] | None = Field(None, description="Values to run (grid, zip).")
    steps: int | None = Field(None, ge=2, le=10_000, description="grid/zip: evenly spaced values over the range.")

    @model_validator(mode="after")
    def _one_kind(self) -> Factor:
        self._one_of("levels", self.levels)
        if self.steps is not None and self.range is None:
            raise ValueError("steps goes with a range; levels are listed as they are")
        return self


class Design(_Spec):
    """How factor values are combined into design points."""

    kind: DesignKind = Field("grid", description="grid, zip, lhs, sobol (Saltelli) or morris.")
    n: int | None = Field(None, ge=1, le=10_000_000, description="lhs: points; sobol: base size; morris: trajectories.")
    second_order: bool = Field(False, description="sobol: also sample for second-order indices (2D+2 runs per n).")
    num_levels: int = Field(4, ge=2, le=1000, description="morris: grid levels per factor.")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="Sampler seed; derived from the master seed.")

    @model_validator(mode="after")
    def _check_n(self) -> Design:
        if self.kind in SAMPLED and self.n is None:
            what = {"lhs": "the number of points", "sobol": "the base size (a power of two)", "morris": "trajectories"}
            raise ValueError(f"{self.kind} needs n: {what[self.kind]}")
        if self.kind not in SAMPLED and self.n is not None:
            raise ValueError(f"n is for lhs, sobol and morris; a {self.kind} design runs every listed level")
        if self.kind == "sobol" and self.n is not None and (self.n < 2 or self.n & (self.n - 1)):
            raise ValueError(
                f"the Sobol (Saltelli) base size n must be a power of two (e.g. 8, 16, 64), got {self.n}; "
                "other sizes break the balance of the Sobol sequence"
            )
        if self.kind == "morris" and self.n is not None and self.n < 2:
            raise ValueError("morris needs at least 2 trajectories")
        return self


class Series(_Spec):
    """Optional daily series per run, kept every ``every`` days (and on the last day)."""

    every: int = Field(7, ge=1, le=3650, description="Keep one day in this many.")
    kpis: list[str] = Field(
        default_factory=lambda: ["members", "dau", "gmv", "profit", "cum_profit"],
        min_length=1,
        description="Daily KPI columns to keep (see docs/metrics.md).",
    )


class Experiment(_Spec):
    """A sweep: base scenario x design of factor values x replications."""

    name: Name = Field("experiment", description="Name; default the file stem.")
    description: str = Field("", description="Free text.")
    scenario: str | None = Field(None, description="Base scenario file, relative to the experiment file.")
    set: dict[str, Any] = Field(default_factory=dict, description="Scenario overrides applied to every run.")
    factors: dict[str, Factor] = Field(description="Dotted scenario path -> levels or range.")
    design: Design = Field(default_factory=Design, description="How factor values are combined.")
    replications: int = Field(1, ge=1, le=1_000_000, description="Runs per design point, each with its own seed.")
    seed: int = Field(ge=0, le=2**63 - 1, description="Master seed: spawns the replication seeds.")
    kpis: list[str] | None = Field(None, min_length=1, description="KPI columns to keep; default all.")
    series: Series | None = Field(None, description="Keep downsampled daily series per run.")

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        """``design: grid`` means ``design: {kind: grid}``; a factor given as a list means its levels."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("design"), str):
            data["design"] = {"kind": data["design"]}
        return lists_as(data, "factors", "levels")


def lists_as(data: dict, key: str, field: str) -> dict:
    """In the mapping ``data[key]``, an entry given as a list means ``{field: that list}``."""
    if isinstance(data.get(key), dict):
        data[key] = {k: {field: v} if isinstance(v, list) else v for k, v in data[key].items()}
    return data


# --- reading ---------------------------------------------------------------------------


def read_experiment(path: str | Path, overrides: Sequence[str] = ()) -> tuple[Experiment, Document]:
    """Read, override (``key=value``) and validate the experiment file's own shape."""
    return read_spec(path, Experiment, "experiment", overrides)


def read_spec(
    path: str | Path, root: type[BaseModel], what: str, overrides: Sequence[str] = ()
) -> tuple[Any, Document]:
    """Read a YAML file, apply ``key=value`` overrides and validate it as ``root``; raise ``ScenarioError``
    naming the file, line and key of every problem. Shared by experiments and optimizations."""
    display = str(path)
    doc = read_document(Path(path), display)
    check_kind(doc, what, display)
    for item in overrides:
        apply_override(doc, item)
    doc.data.setdefault("name", name_from_stem(Path(path).stem, what))
    try:
        return root.model_validate(doc.data), doc
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            problem = _problem(err, doc, display, root)
            if problem not in problems:
                problems.append(problem)
        title = None if len(problems) == 1 else f"{len(problems)} problems in {what} {display}"
        raise ScenarioError(problems, title) from None


def origin(doc: Document, path: KeyPath, source: str) -> tuple[str, int | None]:
    """File and line of the deepest written key on ``path``."""
    return doc.origin_of(path) or (source, None)


def apply_override(doc: Document, item: str) -> None:
    """``replications=2``, ``design.n=8``, ``set.market.size=2000``, ``factors.<path>.levels=[1, 2]``."""
    shown = f"--set {item}"
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError.single(shown, None, "", "expected key=value, e.g. --set replications=2")
    try:
        value = yaml.load(raw, Loader=LimitedLoader)  # safe, and refuses absurd nesting
    except (yaml.YAMLError, ValueError, OverflowError) as exc:  # ValueError: a date such as 2026-13-45
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        message = f"cannot parse the value as YAML ({problem}); quote it to pass a string"
        raise ScenarioError.single(shown, None, key, message) from None
    head, _, rest = key.partition(".")
    if head == "set" and rest:
        path: KeyPath = ("set", rest)
    elif head == "factors" and rest:
        name, _, field = rest.rpartition(".")
        if field not in Factor.model_fields or not name:
            message = f"write factors.<path>.<{'|'.join(Factor.model_fields)}>"
            raise ScenarioError.single(shown, None, key, message)
        path = ("factors", name, field)
    else:
        path = tuple(key.split("."))
    node = doc.data
    for depth, step in enumerate(path[:-1]):
        if not isinstance(node.get(step), dict):
            if step == "design" and isinstance(node.get(step), str):
                node[step] = {"kind": node[step]}
            else:
                node[step] = {}
        node = node[step]
        doc.origins[path[: depth + 1]] = doc.origins.get(path[: depth + 1], (shown, None))
    node[path[-1]] = copy.deepcopy(value)
    doc.origins[path] = (shown, None)


def _problem(err: Any, doc: Document, source: str, root: type[BaseModel] | None = None) -> Problem:
    loc = tuple(p for p in err["loc"] if p not in ("[key]",) and not str(p).startswith(("function-", "tagged-union")))
    union_branch = len(loc) > 1 and loc[-1] in ("bool", "int", "float", "str")  # one of Scalar's alternatives
    loc = loc[:-1] if union_branch else loc
    src, line = origin(doc, loc, source)
    kind, got = err["type"], err.get("input")
    if union_branch:
        return Problem(src, line, format_path(loc), f"a level is a number, text or true/false, got {_show(got)}")
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1], root or Experiment)
        allowed = list(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
        return Problem(src, line, format_path(loc), f"unknown key '{loc[-1]}'; {hint}")
    if kind == "missing":
        message = "required key is missing"
        if loc == ("seed",):
            message += " (the master seed: every replication seed is spawned from it, so results can be replayed)"
    elif kind in ("value_error", "assertion_error"):
        message = err["msg"].removeprefix("Value error, ")
    elif kind == "literal_error":
        message = f"must be one of {err['ctx']['expected']}, got {_show(got)}"
    else:
        message = f"{err['msg'][:1].lower()}{err['msg'][1:]}, got {_show(got)}"
    return Problem(src, line, format_path(loc), message)


def _show(value: Any) -> str:
    return "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else repr(value)


def _model_at(path: KeyPath, root: type[BaseModel]) -> type[BaseModel] | None:
    """The model whose fields are the keys at ``path`` (through mappings and lists of models), or None."""
    ann: Any = root
    for step in path:
        model = _model_in(ann)
        if model is not None and step in model.model_fields:
            ann = model.model_fields[step].annotation
            continue
        items = [a for a in getattr(ann, "__args__", ()) if a is not type(None)]
        container = next((a for a in items if getattr(a, "__origin__", None) in (dict, list)), ann)
        if getattr(container, "__origin__", None) not in (dict, list):
            return None
        ann = container.__args__[-1]
    return _model_in(ann)


def _model_in(ann: Any) -> type[BaseModel] | None:
    """``ann`` itself if it is a model, else the one model among its alternatives (``Design | None``)."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    found = [a for a in getattr(ann, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]
    return found[0] if len(found) == 1 else None

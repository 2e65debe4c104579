"""Check an experiment against the scenario schema and expand it into runs, before any run starts.

Everything a user can get wrong is reported at once with file, line and key:
an unknown factor path, a range on a non-numeric value, a value outside a key's
bounds, an empty design, a Sobol base size that is not a power of two, an
unknown KPI. The result, ``Resolved``, holds the design table, the seeds and the
hash that identifies the experiment in its results directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.batch.seeds import design_seed, replication_seeds
from sim.config import keypath
from sim.config.errors import Problem, ScenarioError, ScenarioWarning, format_path
from sim.config.loader import load_scenario
from sim.experiment import design as designs
from sim.experiment import paths
from sim.experiment.kpis import expand
from sim.experiment.runs import RunPlan, Setter, Task
from sim.experiment.spec import SAMPLED, SCENARIO_FACTOR, Experiment, origin, read_experiment
from sim.observe.metrics import KPI_NAMES


@dataclass
class Resolved:
    """An experiment ready to run: bases, factors, design points, seeds and KPI columns."""

    experiment: Experiment
    source: str
    bases: dict[str, dict]
    factors: list[designs.DesignFactor]
    setters: list[Setter]
    design: pd.DataFrame  # index "point"; the factor values the runs use
    raw: pd.DataFrame | None  # sampled designs: the sampler's continuous values (for Morris)
    seeds: list[int]
    kpis: list[str]
    design_seed: int | None
    sha256: str = ""
    overrides: tuple[str, ...] = ()  # the --set items applied to the file, to name them when they matter

    @property
    def n_runs(self) -> int:
        return len(self.design) * len(self.seeds)

    def plan(self) -> RunPlan:
        series = self.experiment.series
        overrides = tuple(f"{k}={json.dumps(v, default=str)}" for k, v in self.experiment.set.items())
        return RunPlan(
            self.bases,
            tuple(self.setters),
            tuple(self.kpis),
            series.every if series else None,
            tuple(series.kpis) if series else (),
            overrides,
        )

    def tasks(self, skip: set[tuple[int, int]] = frozenset()) -> list[Task]:
        """Every run not in ``skip``, ordered by (point, replication)."""
        values = list(self.design.itertuples(index=True, name=None))
        return [
            Task(row[0], r, seed, tuple(row[1:]))
            for row in values
            for r, seed in enumerate(self.seeds)
            if (row[0], r) not in skip
        ]


#: Most runs (design points x replications) a sweep takes unless told otherwise (``--max-runs``).
MAX_RUNS = 100_000


def resolve_experiment(path: str | Path, overrides: Sequence[str] = (), *, max_runs: int | None = MAX_RUNS) -> Resolved:
    """Read ``path``, apply ``key=value`` overrides and resolve; raise ``ScenarioError`` listing every problem.

    A design of more than ``max_runs`` runs is refused before any point is built (``None``: no limit).
    """
    exp, doc = read_experiment(path, overrides)
    display = str(path)
    problems: list[Problem] = []

    def fail(key: tuple, message: str) -> None:
        problems.append(Problem(*origin(doc, key, display), _show(key), message))

    bases = _bases(exp, Path(path), display, doc, fail)
    factors, setters = [], []
    for later, earlier in keypath.repeated(exp.factors):
        fail(
            ("factors", later),
            f"names the same key as {earlier}, or a key inside or around it ({keypath.canonical(later)}); give it once",
        )
    for name, spec in exp.factors.items():
        key = ("factors", name)
        if name == SCENARIO_FACTOR:
            if spec.range is not None or not all(isinstance(v, str) for v in spec.levels or []):
                fail(key, "the scenario factor lists scenario files: levels: [a.yaml, b.yaml]")
                continue
            factors.append(designs.DesignFactor(name, "scenario", tuple(spec.levels or ())))
            setters.append(Setter(name, None))
            continue
        if name in ("seed", "name"):
            fail(key, "seeds come from 'seed' and 'replications'" if name == "seed" else "the name is not a factor")
            continue
        if not bases:
            continue
        try:
            target, table = paths.resolve_entry(name, list(bases.values()), spec.renormalize)
        except paths.PathError as exc:
            fail(key + ((exc.field,) if exc.field else ()), str(exc))
            continue
        if spec.range is not None and target.kind not in ("int", "float"):
            fail(key + ("range",), f"a range needs a numeric value; {name} takes {target.describe()}: list levels")
            continue
        if spec.range is not None and target.kind == "int" and not all(float(x).is_integer() for x in spec.range):
            fail(key + ("range",), f"{name} is an integer: give whole-number bounds, got {list(spec.range)}")
            continue
        if spec.levels is not None and not spec.levels:
            fail(key + ("levels",), "levels is empty: the design would have no points")
            continue
        values = list(spec.levels) if spec.levels is not None else [_num(x, target.kind) for x in spec.range or ()]
        bad = [m for m in map(target.check, values) if m]
        if bad:
            fail(key + ("levels" if spec.levels is not None else "range",), f"{name}: {bad[0]}")
            continue
        rng = (int(spec.range[0]), int(spec.range[1])) if spec.range and target.kind == "int" else spec.range
        levels = tuple(float(v) for v in spec.levels) if spec.levels and target.kind == "float" else spec.levels
        factors.append(designs.DesignFactor(name, target.kind, levels, rng, spec.steps))
        setters.append(Setter(name, target.tokens, table))

    warn_switched_off(setters, bases, doc, display)
    max_days = _max_days(bases, factors)
    kpis, kpi_problems = expand(exp.kpis, max_days)
    for i, message in kpi_problems:
        fail(("kpis", i), message)
    if exp.series is not None:
        for i, k in enumerate(exp.series.kpis):
            if k not in KPI_NAMES:
                fail(("series", "kpis", i), f"unknown daily KPI '{k}'; see docs/metrics.md")
    design, raw, dseed = _design(exp, factors, fail, max_runs)
    if problems:
        problems.sort(key=lambda p: (p.source != display, p.source, p.line or 0))
        title = None if len(problems) == 1 else f"{len(problems)} problems in experiment {display}"
        raise ScenarioError(problems, title)
    seeds = replication_seeds(exp.seed, exp.replications)
    resolved = Resolved(exp, display, bases, factors, setters, design, raw, seeds, kpis, dseed)
    resolved.sha256 = experiment_hash(resolved)
    resolved.overrides = tuple(overrides)
    return resolved


def warn_switched_off(
    setters: list[Setter], bases: dict[str, dict], doc, display: str, group: str = "factors", others=()
) -> None:
    """Warn of a ``group`` entry (a sweep's factor, an optimization's lever or uncertainty) inside a program
    that is switched off in every base and that no entry (``others`` too) switches on: all its values run
    alike (``sim.config.inert`` says the same of a scenario's own settings)."""
    varied = {tuple(s.tokens) for s in (*setters, *others) if s.tokens is not None}
    for setter in setters:
        tokens = tuple(setter.tokens or ())
        for k in range(1, len(tokens)):
            section = tokens[:k]
            switched_on = any(t[: k + 1] == (*section, "enabled") for t in varied)
            if switched_on or not bases or not all(_enabled(b, section) is False for b in bases.values()):
                continue
            source, line = origin(doc, (group, setter.name), display)
            warnings.warn(
                f"{source if line is None else f'{source}:{line}'}: {group}.{setter.name}: {format_path(section)} "
                "is switched off (enabled: false) in the scenario, so all its values run alike; switch it on "
                f"with set: {{{format_path(section)}.enabled: true}}, or vary {format_path(section)}.enabled too",
                ScenarioWarning,
                stacklevel=3,
            )
            break


def _enabled(base: dict, section: tuple) -> bool | None:
    """The ``enabled`` flag of the section at ``section`` in a resolved scenario, None if it has none."""
    node: object = base
    for part in section:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node.get("enabled") if isinstance(node, dict) else None


def _bases(exp, path: Path, display: str, doc, fail) -> dict[str, dict]:
    """The resolved base scenario(s), keyed by the ``scenario`` factor's level ("" for a single base).

    ``exp`` is an experiment or an optimization (``scenario`` and ``set``, no factors)."""
    factor = getattr(exp, "factors", {}).get(SCENARIO_FACTOR)  # an optimization has no factors
    if factor is not None and exp.scenario is not None:
        fail(("scenario",), "give the base either as 'scenario:' or as levels of the scenario factor, not both")
        return {}
    if factor is None and exp.scenario is None:
        fail(("scenario",), "required key is missing: the base scenario file, relative to this file")
        return {}
    files = {"": exp.scenario} if factor is None else {str(v): str(v) for v in factor.levels or ()}
    overrides = {}
    for key, value in exp.set.items():
        if key.split(".")[0] in ("seed", "name"):
            fail(("set", key), f"{key} cannot be set here: seeds come from 'seed' and 'replications'")
        else:
            overrides[f"--set {key}={json.dumps(value, default=str)}"] = key
    bases = {}
    for label, file in files.items():
        shown = os.path.normpath(os.path.join(os.path.dirname(display), file))
        try:
            scenario = load_scenario(shown, [o.removeprefix("--set ") for o in overrides])
        except ScenarioError as exc:
            for p in exc.problems:
                if p.source in overrides:
                    fail(("set", overrides[p.source]), f"{p.path}: {p.message}" if p.path else p.message)
                elif p.source == shown and p.line is None and p.message == "file not found":
                    where = ("factors", SCENARIO_FACTOR, "levels") if factor else ("scenario",)
                    fail(where, f"scenario file not found: {shown} (paths are relative to the experiment file)")
                else:
                    raise
            continue
        bases[label] = scenario.model_dump(mode="json")
    return bases


def _max_days(bases: dict[str, dict], factors: list[designs.DesignFactor]) -> int:
    days = [b["days"] for b in bases.values()] or [0]
    for f in factors:
        if f.name == "days":
            days.append(int(max(f.levels or f.range or (0,))))
    return max(days)


def _design(exp: Experiment, factors: list[designs.DesignFactor], fail, max_runs: int | None = MAX_RUNS):
    """Sample the design table; report a design that cannot be built."""
    kind, spec = exp.design.kind, exp.design
    if not exp.factors:
        fail(
            ("factors",),
            "no factors: the design would have no points (to replicate one scenario, "
            "use the factor scenario: [its file])",
        )
    usable = len(factors) == len(exp.factors) > 0
    for f in factors:
        key = ("factors", f.name)
        if kind in SAMPLED and f.range is None:
            fail(key, f"a {kind} design samples numeric ranges: give range: [low, high] (levels are for grid and zip)")
        elif kind not in SAMPLED and f.range is not None and f.steps is None:
            fail(key + ("range",), f"a range in a {kind} design needs steps: N (evenly spaced values), or list levels")
        elif f.kind == "int" and f.steps and len(set(f.values())) < len(f.values()):
            fail(key + ("steps",), f"{f.steps} steps over {list(f.range or ())} repeat integers; list the levels")
        else:
            continue
        usable = False
    if not usable:
        return pd.DataFrame(), None, None
    if kind == "zip" and len({f.count() for f in factors}) > 1:
        sizes = ", ".join(f"{f.name} has {f.count()}" for f in factors)
        fail(("design",), f"zip pairs the i-th levels of every factor, so all need as many levels; {sizes}")
        return pd.DataFrame(), None, None
    options = {"second_order": spec.second_order} if kind == "sobol" else {}
    options.update({"num_levels": spec.num_levels} if kind == "morris" else {})
    points = designs.point_count(kind, factors, spec.n, **options)
    if points == 0:
        fail(("design",), "the design has no points")
        return pd.DataFrame(), None, None
    runs = points * exp.replications
    if max_runs is not None and runs > max_runs:
        fail(
            ("design",),
            f"the design has {points:,} points x {exp.replications:,} replications = {runs:,} runs, more than "
            f"the limit of {max_runs:,}; use fewer levels, steps or n, or raise the limit with --max-runs",
        )
        return pd.DataFrame(), None, None
    seed = (spec.seed if spec.seed is not None else design_seed(exp.seed)) if kind in SAMPLED else None
    raw = designs.sample(kind, factors, spec.n, seed=seed, **options)
    applied = designs.applied(raw, factors)
    for f in factors:
        if f.kind == "float":
            applied[f.name] = applied[f.name].astype("float64")
    return applied, (raw if kind in SAMPLED else None), seed


def experiment_hash(r: Resolved) -> str:
    """SHA-256 of everything that shapes the results (not the name, description or executor)."""
    exp = r.experiment.model_dump(mode="json", exclude={"name", "description"})
    content = {
        "experiment": exp,
        "bases": r.bases,
        "design": r.design.reset_index().astype(object).values.tolist(),
        "columns": list(r.design.columns),
        "seeds": r.seeds,
        "kpis": r.kpis,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _num(x: float, kind: str) -> float | int:
    return int(x) if kind == "int" else float(x)


def _show(key: tuple) -> str:
    return ".".join(str(k) if not isinstance(k, int) else f"[{k}]" for k in key).replace(".[", "[")

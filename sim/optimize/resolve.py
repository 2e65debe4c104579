"""Check an optimization against the scenario schema before any run, and hold what the search needs.

Every problem is reported at once with file, line and key: an unknown lever or
uncertainty path, a range on a non-numeric key, a value outside a key's bounds,
an empty list of choices, an unknown KPI or ledger line, a budget term on
something that is not a lever, and a budget that no lever setting can meet.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.compare.table import PROFIT
from sim.compare.table import SPEND as COST
from sim.config import fields, keypath
from sim.config.errors import Problem, ScenarioError, ScenarioWarning, format_path
from sim.experiment import paths
from sim.experiment.kpis import expand
from sim.experiment.resolve import _bases, warn_switched_off
from sim.experiment.runs import PRESET_KEY, RunPlan, Setter, Task, build_scenario
from sim.experiment.spec import origin
from sim.mechanisms.registry import LINES
from sim.optimize import uncertainty
from sim.optimize.space import LeverDef, least_committed
from sim.optimize.spec import Optimization, read_optimization

#: Daily series kept per run: the ledger lines of the budget (summed into measured daily spend).
LINE_PREFIX = "line_"


@dataclass
class Resolved:
    """An optimization ready to search: base scenario, levers, uncertainties, KPI columns and seeds."""

    spec: Optimization
    source: str
    base: dict
    levers: dict[str, LeverDef]
    lever_setters: list[Setter]
    uncertain: list[tuple[str, Any, str]]  # (path, Uncertainty spec, value kind)
    uncertain_setters: list[Setter]
    kpis: list[str]  # columns of the objectives, of the constraints, then profit and spend (each once)
    objective_columns: list[str]
    constraint_columns: list[str]
    seeds: list[int]
    samples: list[tuple[Any, ...]]
    sha256: str = ""
    overrides: tuple[str, ...] = ()  # the command line's --set, as given (the report lists them)

    @property
    def lines(self) -> list[str]:
        return list(self.spec.budget.lines) if self.spec.budget else []

    def plan(self) -> RunPlan:
        """What every worker needs: the base, the setters (levers then uncertainties), KPIs and ledger lines."""
        overrides = tuple(f"{k}={json.dumps(v, default=str)}" for k, v in self.spec.set.items())
        lines = tuple(LINE_PREFIX + line for line in self.lines)
        return RunPlan(
            {"": self.base},
            tuple(self.lever_setters + self.uncertain_setters),
            tuple(self.kpis),
            1 if lines else None,
            lines,
            overrides,
        )

    def verification(self) -> tuple[list[int], list[tuple[Any, ...]]]:
        """Fresh seeds and uncertainty samples for verification, disjoint from the search's."""
        n = self.spec.verify.replications
        seeds = uncertainty.verification_seeds(self.spec.seed, n, self.seeds)
        specs = [(u, kind) for _, u, kind in self.uncertain]
        return seeds, uncertainty.samples(specs, self.spec.seed, n, uncertainty.VERIFY_WORD)


def resolve_optimization(path: str | Path, overrides: Sequence[str] = ()) -> Resolved:
    """Read ``path`` (with ``key=value`` overrides) and check it; raise ``ScenarioError`` listing every problem."""
    spec, doc = read_optimization(path, list(overrides))
    display = str(path)
    problems: list[Problem] = []

    def fail(key: tuple, message: str) -> None:
        problems.append(Problem(*origin(doc, key, display), format_path(key), message))

    bases = _bases(spec, Path(path), display, doc, fail)
    base = bases.get("", {})
    for name in spec.uncertainties.keys() & spec.levers.keys():
        fail(("uncertainties", name), f"{name} is both a lever and an uncertainty; give it once")
    everything = {**{k: 1 for k in spec.levers}, **{k: 1 for k in spec.uncertainties}}
    for later, earlier in keypath.repeated(everything):
        fail(
            ("uncertainties", later) if later in spec.uncertainties else ("levers", later),
            f"names the same key as {earlier}, or a key inside or around it; give it once",
        )
    levers: dict[str, LeverDef] = {}
    setters: list[Setter] = []
    for name, lever in spec.levers.items():
        key = ("levers", name)
        if keypath.run_setting(name):
            fail(key, f"{name} is not a decision: set it under set:")
            continue
        if not base:
            continue
        try:
            target, table = paths.resolve_entry(name, [base], lever.renormalize)
        except paths.PathError as exc:
            fail(key + ((exc.field,) if exc.field else ()), str(exc))
            continue
        if lever.range is not None:
            if target.kind not in ("int", "float"):
                fail(key + ("range",), f"a range needs a numeric key; {name} takes {target.describe()}: list choices")
                continue
            if target.kind == "int" and not all(float(x).is_integer() for x in (*lever.range, lever.step or 1)):
                fail(key + ("range",), f"{name} is an integer: give whole-number bounds, got {list(lever.range)}")
                continue
            values = [int(x) if target.kind == "int" else float(x) for x in lever.range]
        else:
            values = [float(v) if target.kind == "float" and isinstance(v, int) else v for v in lever.choices or []]
            if name != PRESET_KEY:
                lever = lever.model_copy(update={"choices": values})
        bad = [m for m in map(target.check, values) if m] if name != PRESET_KEY else []
        if bad:
            fail(key + ("range" if lever.range is not None else "choices",), f"{name}: {bad[0]}")
            continue
        limits = tuple(sorted(fields.bounds(target.info).items())) if target.info is not None else ()
        levers[name] = LeverDef(name, target.kind, lever, limits)
        setters.append(Setter(name, target.tokens, table))
    _check_budget(spec, levers, fail)
    uncertain, u_setters = [], []
    for name, u in spec.uncertainties.items():
        key = ("uncertainties", name)
        if not base:
            continue
        try:
            target = paths.resolve(name, [base])
        except paths.PathError as exc:
            fail(key, str(exc))
            continue
        if u.dist != "choice" and target.kind not in ("int", "float"):
            fail(key + ("dist",), f"a {u.dist} distribution needs a numeric key; {name} takes {target.describe()}")
            continue
        ends = list(u.values or []) if u.dist == "choice" else [u.low, u.high]
        ends = [int(round(x)) if target.kind == "int" and u.dist != "choice" else x for x in ends]
        bad = [m for m in map(target.check, ends) if m]
        if bad:
            fail(key, f"{name}: {bad[0]}")
            continue
        uncertain.append((name, u, target.kind))
        u_setters.append(Setter(name, target.tokens))
    warn_switched_off(setters, bases, doc, display, "levers", u_setters)
    warn_switched_off(u_setters, bases, doc, display, "uncertainties", setters)
    days = int(base.get("days", 0))
    objective_columns = [_column(o.kpi, days, ("objectives", i, "kpi"), fail) for i, o in enumerate(spec.objectives)]
    constraint_columns = [_column(c.kpi, days, ("constraints", i, "kpi"), fail) for i, c in enumerate(spec.constraints)]
    if problems:
        problems.sort(key=lambda p: (p.source != display, p.source, p.line or 0))
        title = None if len(problems) == 1 else f"{len(problems)} problems in optimization {display}"
        raise ScenarioError(problems, title)
    kpis = list(dict.fromkeys(objective_columns + constraint_columns + [PROFIT, COST]))
    seeds = uncertainty.search_seeds(spec.seed, spec.replications)
    samples = uncertainty.samples([(u, kind) for _, u, kind in uncertain], spec.seed, spec.replications)
    resolved = Resolved(
        spec,
        display,
        base,
        levers,
        setters,
        uncertain,
        u_setters,
        kpis,
        objective_columns,
        constraint_columns,
        seeds,
        samples,
    )
    resolved.sha256 = optimization_hash(resolved)
    resolved.overrides = tuple(overrides)
    warn_trial_settings(resolved, doc)
    return resolved


def _ends(lever: LeverDef) -> list[Any]:
    """The values that reach each end of a lever: its choices, or the two ends of its range."""
    return list(lever.spec.choices) if lever.spec.choices is not None else list(lever.spec.range or ())


def warn_trial_settings(resolved: Resolved, doc) -> None:
    """Each scenario warning a trial's scenario would give (a setting the base writes that one value of a lever
    makes inert, e.g. show days once a lever switches on the weekly livestream), once, at the lever's line.

    Each lever is set to each of its choices (each end of its range), the others kept at the base's values;
    the runs themselves then validate without warnings (``evaluate.run_trials``)."""
    plan = resolved.plan()
    setters = plan.setters
    base_values = []
    for s in setters:
        try:
            base_values.append(paths.get_value(resolved.base, s.tokens))
        except (KeyError, IndexError, TypeError):
            return
    said: set[str] = set()
    for i, name in enumerate(resolved.levers):
        for value in _ends(resolved.levers[name]):
            values = tuple(value if j == i else v for j, v in enumerate(base_values))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ScenarioWarning)
                try:
                    build_scenario(plan, Task(0, 0, int(resolved.base.get("seed", 0)), values))
                except Exception:  # noqa: BLE001 - a setting that fails fails in its trial, with its message
                    continue
            for w in caught:
                if not issubclass(w.category, ScenarioWarning):
                    continue
                why = re.sub(r"^design point \d+: ", "", str(w.message))
                if why in said:
                    continue
                said.add(why)
                source, line = origin(doc, ("levers", name), resolved.source)
                shown = json.dumps(value) if isinstance(value, bool) else value
                where = source if line is None else f"{source}:{line}"
                warnings.warn(f"{where}: levers.{name}: with {shown}, {why}", ScenarioWarning, stacklevel=3)


def _check_budget(spec: Optimization, levers: dict[str, LeverDef], fail) -> None:
    """Budget terms name numeric or true/false levers, lines exist, and some setting meets the limit."""
    budget = spec.budget
    if budget is None:
        return
    ok = True
    for name in budget.per_day:
        key = ("budget", "per_day", name)
        if name not in spec.levers:
            fail(key, f"'{name}' is not a lever; per_day gives the CNY a day per unit of a lever's value")
            ok = False
        elif name in levers and levers[name].kind == "str":
            fail(key, f"{name} takes text; a budget term needs a number or true/false")
            ok = False
        elif name not in levers:
            ok = False
    for i, line in enumerate(budget.lines):
        if line not in LINES:
            close = [k for k in LINES if line in k or k in line][:3]
            hint = f"did you mean {' or '.join(map(repr, close))}?" if close else f"ledger lines: {', '.join(LINES)}"
            fail(("budget", "lines", i), f"unknown ledger line '{line}'; {hint}")
    if ok and budget.per_day:
        least = least_committed(budget, levers)
        if least > budget.limit:
            fail(
                ("budget", "limit"),
                f"no lever setting meets the budget: the least the levers commit is {least:,.0f} CNY a day, "
                f"above the limit of {budget.limit:,.0f}; widen the lever ranges or raise the limit",
            )


def _column(name: str, days: int, key: tuple, fail) -> str:
    """The one KPI column ``name`` means (a bare name is its final value)."""
    columns, problems = expand([name], days)
    for _, message in problems:
        fail(key, message)
    return columns[0] if columns and not problems else name


def optimization_hash(r: Resolved) -> str:
    """SHA-256 of everything that shapes the trials (not the name, description, trial count or verification)."""
    spec = r.spec.model_dump(mode="json", exclude={"name", "description", "trials", "verify"})
    content = {"spec": spec, "base": r.base, "seeds": r.seeds, "samples": r.samples}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

"""The search: an optuna study in SQLite inside the output directory, asked and told in fixed batches.

Reproducible on any executor and any number of workers: trials are asked in
batches of ``search.batch`` (a setting of the file, not ``--workers``), a batch
runs to the end before it is told in trial order, and the sampler that proposes
trial n is seeded from (master seed, n). Its proposal then depends only on the
trials already in the study, so a study killed at any point and resumed (the
trials left running are run again, and an interrupted batch is completed) holds
the same trials as one that ran through. A rerun with more ``--trials`` adds
trials to the same study.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.study._constrained_optimization import _CONSTRAINTS_KEY
from optuna.trial import FrozenTrial, TrialState

from sim.experiment.runs import RunPlan, Task
from sim.optimize import evaluate as ev
from sim.optimize import robust
from sim.optimize.resolve import Resolved
from sim.optimize.space import committed

#: File of the study inside the output directory.
STUDY_FILE = "study.db"
STUDY_NAME = "optimize"
#: Entropy word for the seeds of the per-trial samplers.
SAMPLER_WORD = 0x5A3B_1E25


class StudyMismatch(ValueError):
    """The output directory holds a study of a different optimization."""


def storage_url(out: Path) -> str:
    return f"sqlite:///{(out / STUDY_FILE).resolve()}"


def storage(out: Path) -> optuna.storages.RDBStorage:
    """The study's SQLite storage, in write-ahead-log mode without a disk flush per commit.

    optuna commits after every attribute it stores; with SQLite's defaults each commit waits
    for the disk (about 12 ms here), which made the search's bookkeeping cost more than a
    small market's runs. In WAL mode with ``synchronous=NORMAL`` a commit survives the process
    being killed (the log is in the operating system's hands); only a power cut can lose the
    last trials, which a rerun then runs again.
    """
    from sqlalchemy import event

    store = optuna.storages.RDBStorage(storage_url(out))
    engine = store.engine

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()  # connections opened before the listener reconnect with it
    return store


def sampler_for(resolved: Resolved, number: int) -> optuna.samplers.BaseSampler:
    """The sampler that proposes trial ``number``, seeded from the master seed and the number."""
    seed = int(np.random.SeedSequence([resolved.spec.seed, SAMPLER_WORD, number]).generate_state(1)[0])
    s = resolved.spec.search
    kind = s.sampler
    if kind == "auto":
        kind = "tpe" if len(resolved.spec.objectives) == 1 else "nsga2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if kind == "tpe":
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=s.startup, multivariate=True)
        if kind == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed, population_size=s.population)
        return optuna.samplers.RandomSampler(seed=seed)


def open_study(resolved: Resolved, out: Path) -> optuna.Study:
    """Create the study in ``out``, or load it; refuse a study of another optimization."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions = [o.direction for o in resolved.spec.objectives]
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=storage(out),
        directions=directions,
        sampler=sampler_for(resolved, 0),
        load_if_exists=True,
    )
    stored = study.user_attrs.get("sha256")
    if stored is None:
        study.set_user_attr("sha256", resolved.sha256)
        study.set_user_attr("source", resolved.source)
    elif stored != resolved.sha256:
        raise StudyMismatch(
            f"{out} holds a study of another optimization (from {study.user_attrs.get('source')}); "
            "choose a new --out, or restore the file it was started from"
        )
    return study


@dataclass
class SearchOutcome:
    study: optuna.Study
    ran: int  # trials simulated now
    seconds_runs: float  # wall time spent in the executor
    seconds_total: float
    over_budget: int = 0  # trials asked now but over the committed budget, hence not run


def run_search(
    resolved: Resolved,
    study: optuna.Study,
    executor: Any,
    trials: int,
    *,
    run: Callable[[RunPlan, Any], Any] = ev.run_trials,
    on_batch: Callable[[int, int], None] | None = None,
) -> SearchOutcome:
    """Ask, run and tell until the study holds ``trials`` finished trials; return what was done.

    ``run`` is the worker function (``evaluate.run_trials``; tests plug in a synthetic evaluator with the
    same signature).
    """
    import time

    start = time.perf_counter()
    in_runs, ran, skipped = 0.0, 0, 0
    batch = resolved.spec.search.batch
    plan = resolved.plan()
    distributions = {name: lever.distribution() for name, lever in resolved.levers.items()}
    while True:
        all_trials = study.get_trials(deepcopy=False)
        running = [t.number for t in all_trials if t.state == TrialState.RUNNING]
        finished = len(all_trials) - len(running)
        if not running and finished >= trials:
            break
        first = min(running) if running else len(all_trials)
        end = first + min(batch, max(trials - first, len(running)))
        numbers = list(running)
        for number in range(len(all_trials), end):  # complete an interrupted batch, or ask a new one
            study.sampler = sampler_for(resolved, number)
            numbers.append(study.ask(distributions).number)
        frozen = {t.number: t for t in study.get_trials(deepcopy=False) if t.number in numbers}
        t0 = time.perf_counter()
        results = _run_batch(resolved, plan, executor, frozen, run)
        in_runs += time.perf_counter() - t0
        for number in sorted(numbers):
            _tell(resolved, study, frozen[number], results.get(number))
        ran += len(results)
        skipped += len(numbers) - len(results)
        if on_batch is not None:
            on_batch(len(numbers), finished + len(numbers) - len(running))
    return SearchOutcome(study, ran, in_runs, time.perf_counter() - start, skipped)


def _run_batch(resolved: Resolved, plan: RunPlan, executor: Any, frozen: dict[int, FrozenTrial], run) -> dict:
    """Run the batch's candidates that keep within the committed budget; rows grouped by trial number."""
    budget = resolved.spec.budget
    candidates = {}
    for number, t in sorted(frozen.items()):
        if budget is not None and budget.per_day and committed(budget, t.params) > budget.limit:
            continue  # over the cap before any run: not run
        candidates[number] = tuple(t.params[name] for name in resolved.levers)
    tasks: list[Task] = ev.tasks_for(candidates, resolved.seeds, resolved.samples)
    rows = ev.evaluate(executor, plan, tasks, run)
    return {int(k): g for k, g in rows.groupby("point")} if len(rows) else {}


def _tell(resolved: Resolved, study: optuna.Study, frozen: FrozenTrial, rows) -> None:
    """Store the trial's runs and constraint values (one attribute each: every write is a commit); tell it."""
    spec = resolved.spec
    study.sampler = sampler_for(resolved, frozen.number)
    spend_committed = committed(spec.budget, frozen.params) if spec.budget and spec.budget.per_day else None
    result: dict[str, Any] = {"committed": spend_committed, "spend": None, "runs": [], "error": None}
    if rows is None:  # over the committed budget: recorded, not run
        result["status"] = "over_budget"
        nan = {c: math.nan for c in resolved.constraint_columns}
        values = robust.constraint_values(
            nan, spec.constraints, resolved.constraint_columns, spec.budget, spend_committed, None
        )
        _store(study, frozen, result, values)
        # the value is never compared: a sampler ranks a trial that breaks a constraint by how much it does
        study.tell(frozen.number, [0.0] * len(spec.objectives))
        return
    keep = ["replication", "seed", "status", "error", "wall_seconds", *resolved.kpis]
    keep += [ev.SPEND] if ev.SPEND in rows else []
    result["runs"] = rows[keep].to_dict(orient="records")
    ok = rows[rows["status"] == "ok"]
    if len(ok) < len(rows):
        result.update(status="failed", error=str(rows.loc[rows["status"] != "ok", "error"].iloc[0]))
        _store(study, frozen, result, None)
        study.tell(frozen.number, state=TrialState.FAIL)
        return
    means = {c: float(ok[c].mean()) for c in resolved.kpis}
    spend = float(ok[ev.SPEND].mean()) if ev.SPEND in ok else None
    values = robust.constraint_values(
        means, spec.constraints, resolved.constraint_columns, spec.budget, spend_committed, spend
    )
    columns = zip(spec.objectives, resolved.objective_columns, strict=True)
    objective_values = [robust.statistic(ok[c].to_numpy(), o) for o, c in columns]
    result.update(status="ok", spend=spend)
    _store(study, frozen, result, values)
    study.tell(frozen.number, objective_values)


def _store(study: optuna.Study, frozen: FrozenTrial, result: dict, constraints: list[float] | None) -> None:
    """The trial's result as one user attribute, and its constraint values where the samplers read them
    (optuna's ``constraints`` system attribute: feasible when every value is <= 0)."""
    storage = study._storage
    result["constraints"] = constraints or []
    storage.set_trial_user_attr(frozen._trial_id, "result", result)
    if constraints:
        storage.set_trial_system_attr(frozen._trial_id, _CONSTRAINTS_KEY, list(constraints))

"""Run an optimization into its directory: study, search, verification, then every output, atomically.

The directory's state is ``study.db`` (optuna's SQLite storage). Everything else
(trials.parquet, pareto.csv/png, convergence.png, importance.csv/png,
verification.csv, best/*.yaml, report.html) is rebuilt from it at the end of
each invocation, each file written under a temporary name and renamed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.trial import TrialState

from sim.batch.executors import make_executor
from sim.config.errors import ScenarioWarning
from sim.config.loader import scenario_to_yaml
from sim.experiment.runs import RunPlan, Task, build_scenario
from sim.optimize import plots, results
from sim.optimize.evaluate import run_trials
from sim.optimize.report import write_report
from sim.optimize.resolve import Resolved
from sim.optimize.search import STUDY_FILE, SearchOutcome, open_study, run_search
from sim.optimize.verify import Verification, verify
from sim.run.atomic import OutputError, check_path, temp_dir, write_text_atomic
from sim.run.html import with_cjk_font


@dataclass
class Outcome:
    out: Path
    search: SearchOutcome
    table: pd.DataFrame
    picked: pd.DataFrame
    verification: Verification | None
    files: list[Path]


def prepare(out: Path, resume: bool) -> str:
    """'new' or 'resume'; refuse a directory that is neither empty nor an optimization's."""
    check_path(out, "output directory")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a directory; choose another --out")
    probe = out.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"cannot create {out}: {probe} is a file, not a directory; choose another --out")
    has_study = (out / STUDY_FILE).is_file()
    if resume and not has_study:
        raise OutputError(f"--resume: {out} holds no optimization ({STUDY_FILE} is missing); drop --resume to start")
    if not has_study and out.exists() and any(out.iterdir()):
        raise OutputError(f"{out} is not empty and holds no optimization; choose a new --out")
    out.mkdir(parents=True, exist_ok=True)
    return "resume" if has_study else "new"


def optimize(
    resolved: Resolved,
    out: Path,
    *,
    trials: int | None = None,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    run: Callable = run_trials,
    on_batch: Callable[[int, int], None] | None = None,
    verify_top: bool = True,
) -> Outcome:
    """Search until the study holds ``trials`` trials, verify the best on fresh seeds, write every output."""
    prepare(out, resume)
    study = open_study(resolved, out)
    target = trials if trials is not None else resolved.spec.trials
    with make_executor(executor, workers, scheduler) as ex:
        outcome = run_search(resolved, study, ex, target, run=run, on_batch=on_batch)
        table = results.trials_table(resolved, study)
        picked = results.candidates(resolved, table) if len(table) else table
        ver = verify(resolved, ex, picked, run) if verify_top and len(picked) else None
    if ver is not None and ver.order:  # the verified ranking (an ROI goal: front by front on profit and spend)
        picked = picked.set_index("trial", drop=False).loc[ver.order].reset_index(drop=True)
    files = write_outputs(resolved, study, table, picked, ver, out)
    return Outcome(out, outcome, table, picked, ver, files)


def write_outputs(
    resolved: Resolved,
    study: optuna.Study,
    table: pd.DataFrame,
    picked: pd.DataFrame,
    ver: Verification | None,
    out: Path,
) -> list[Path]:
    files = []
    runs = results.runs_table(resolved, study)
    files.append(_atomic(out / "trials.parquet", lambda p: runs.to_parquet(p, index=False)))
    front = results.front(resolved, table) if len(table) else table
    files.append(_atomic(out / "pareto.csv", lambda p: front.to_csv(p, index=False)))
    figures = {}
    if len(table) and (table["status"] == "ok").any():
        verified = ver.runs if ver is not None else pd.DataFrame()
        figures["The candidates, with intervals"] = _atomic(
            out / "pareto.png", lambda p: plots.pareto_plot(resolved, table, runs, picked, verified, p)
        )
        figures["Convergence"] = _atomic(out / "convergence.png", lambda p: plots.convergence_plot(resolved, table, p))
    importance = lever_importance(resolved, study)
    if importance is not None:
        files.append(_atomic(out / "importance.csv", lambda p: importance.to_csv(p)))
        figures["Lever importance"] = _atomic(
            out / "importance.png", lambda p: plots.importance_plot(resolved, importance, p)
        )
    files += list(figures.values())
    if ver is not None:
        files.append(_atomic(out / "verification.csv", lambda p: ver.table.to_csv(p, index=False)))
    files.append(write_best(resolved, picked, ver, out / "best"))
    page = write_report(resolved, table, picked, ver, figures, importance, out / "report.html")
    write_text_atomic(out / "report.html", with_cjk_font(page))
    files.append(out / "report.html")
    manifest = {
        "name": resolved.spec.name,
        "source": resolved.source,
        "overrides": list(resolved.overrides),
        "sha256": resolved.sha256,
        "trials": int(len(table)),
        "search_seeds": resolved.seeds,
        "verification_seeds": ver.seeds if ver is not None else [],
        "recommended": [int(t) for t in picked["trial"] if ver is not None and ver.recommended(int(t))],
    }
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=2))
    files.append(out / "manifest.json")
    return files


def _atomic(path: Path, write: Callable[[Path], Any]) -> Path:
    """Write through a temporary sibling with the same suffix, then rename into place."""
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def write_best(resolved: Resolved, picked: pd.DataFrame, ver: Verification | None, folder: Path) -> Path:
    """best/rank<k>-trial<n>.yaml: each verified candidate as a full scenario file ``run`` accepts unchanged.

    Uncertain keys keep the base scenario's value; the seed is the base scenario's.
    """
    plan = RunPlan({"": resolved.base}, tuple(resolved.lever_setters), (), None, (), resolved.plan().overrides)
    tmp = temp_dir(folder.parent, folder.name)
    try:
        for rank, (_, row) in enumerate(picked.iterrows(), start=1):
            trial = int(row["trial"])
            values = tuple(_plain(row[results.LEVER + k]) for k in resolved.levers)
            with warnings.catch_warnings():  # said once, at the lever, when the optimization was resolved
                warnings.simplefilter("ignore", ScenarioWarning)
                scenario = build_scenario(plan, Task(trial, 0, int(resolved.base["seed"]), values))
            scenario = scenario.model_copy(update={"name": f"{resolved.spec.name}_trial_{trial}"})
            held = (
                ""
                if ver is None
                else "; constraints held on fresh seeds"
                if ver.recommended(trial)
                else "; NOT recommended: the base makes more profit for less spend"
                if ver.holds.get(trial)
                else "; NOT every constraint held on fresh seeds"
            )
            head = (
                f"# {resolved.spec.name}: rank {rank}, trial {trial} of the search{held}.\n"
                f"# Levers: {', '.join(f'{k}={v}' for k, v in zip(resolved.levers, values, strict=True))}.\n"
                "# Uncertain keys keep the base scenario's value. Run with: community-sim run <this file>\n"
            )
            (tmp / f"rank{rank}-trial{trial}.yaml").write_text(head + scenario_to_yaml(scenario), encoding="utf-8")
        old = folder.with_name(f".{folder.name}.old{os.getpid()}")
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def lever_importance(resolved: Resolved, study: optuna.Study) -> pd.DataFrame | None:
    """fANOVA importance of each lever per objective, on the trials that ran (None with too few)."""
    ran = [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state == TrialState.COMPLETE and results.result(t).get("status") == "ok"
    ]
    varying = [k for k in resolved.levers if len({str(t.params.get(k)) for t in ran}) > 1]
    if len(ran) < 4 or not varying:
        return None
    copy = optuna.create_study(directions=[o.direction for o in resolved.spec.objectives])
    copy.add_trials(ran)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(len(resolved.spec.objectives)):
            evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=32, seed=resolved.spec.seed % 2**32)
            try:
                values = optuna.importance.get_param_importances(
                    copy, evaluator=evaluator, params=varying, target=lambda t, i=i: t.values[i]
                )
            except RuntimeError:  # the objective was the same in every trial: no lever explains anything
                continue
            out[results.objective_name(resolved, i)] = values
    return pd.DataFrame(out).reindex(varying).fillna(0.0) if out else None

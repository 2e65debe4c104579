"""Run one scenario and write its run directory.

A run directory holds timeseries.csv/.parquet (one row a day), events.parquet,
summary.json, manifest.json, scenario.yaml (the resolved scenario), plots/ and report.html
(the headline, the figures and the scenario on one self-contained page).
It is assembled in a temporary directory and renamed into place at the end, so a
crash or Ctrl-C leaves nothing half-written.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.config.loader import scenario_hash, scenario_to_yaml
from sim.config.schema import Scenario
from sim.engine import memory
from sim.model import CommunityModel
from sim.run import counterfactual
from sim.run.atomic import atomic_directory, output_error
from sim.run.gitref import head_commit
from sim.run.report import write_run_report
from sim.run.summary import cohort_retention, summarize


@dataclass
class RunResult:
    """What a finished run produced, in memory and on disk."""

    out_dir: Path | None
    timeseries: pd.DataFrame
    summary: dict
    seconds: float
    model: CommunityModel


def versions() -> dict[str, str]:
    """Versions of Python and the packages that shape the numbers."""
    out = {"python": platform.python_version()}
    for pkg in ("community-sim", "mesa", "numpy", "pandas", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_commit() -> str | None:
    """The commit of the source tree the package runs from, if it is a git checkout (read from its
    git files: a run starts no ``git`` process)."""
    return head_commit(Path(__file__).resolve().parent)


def check_fits(scenario: Scenario) -> None:
    """Raise ``NotEnoughMemory`` if a run of ``scenario`` cannot fit in the memory left."""
    net = scenario.market.network
    memory.check_fits(scenario.market.size, net.mean_degree, net.kind == "complete")


def simulate(
    scenario: Scenario, progress: Callable[[int], None] | None = None, record_events: bool | None = None
) -> RunResult:
    """Run the model in memory (no files)."""
    check_fits(scenario)  # before building anything
    start = time.perf_counter()
    model = CommunityModel(scenario, record_events=record_events)
    model.run(progress=progress)
    ts = model.timeseries()
    summary = summarize(ts, model.pop, model.score_book.summary())
    return RunResult(None, ts, summary, time.perf_counter() - start, model)


def needs_counterfactual(scenario: Scenario) -> bool:
    """Whether the run is followed by a counterfactual run without incentives (``add_incentive_effect``)."""
    return scenario.output.incentive_counterfactual and counterfactual.has_incentives(scenario)


def add_incentive_effect(scenario: Scenario, result: RunResult, progress: Callable[[int], None] | None = None) -> None:
    """Add the ``incentives`` block (a counterfactual run) to the summary when incentives run."""
    if needs_counterfactual(scenario):
        without = simulate(counterfactual.without_incentives(scenario), progress, record_events=False)
        result.summary["incentives"] = counterfactual.compare(result, without)


def now_utc() -> str:
    """The time a run starts, as the manifest records it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


#: What a run directory's writing reports: ``stage(text, total)`` before each step (total: days, or None).
Stage = Callable[[str, int | None], None]


def run_to_directory(
    scenario: Scenario,
    out_dir: Path,
    progress: Callable[[int], None] | None = None,
    stage: Stage | None = None,
) -> RunResult:
    """Run and write the run directory atomically; ``stage`` hears of each step after the simulation
    (the counterfactual run, whose days go to ``progress`` as well, writing, drawing)."""
    started = now_utc()
    stage = stage or (lambda text, total: None)
    with atomic_directory(out_dir) as tmp:
        result = simulate(scenario, progress)
        if needs_counterfactual(scenario):
            stage("counterfactual run without incentives", scenario.days)
            add_incentive_effect(scenario, result, progress)
        _write(tmp, out_dir, scenario, result, started, stage)
    result.out_dir = out_dir
    return result


def save_run(scenario: Scenario, result: RunResult, out_dir: Path, started: str) -> None:
    """Write the run directory of a run already simulated (the Python API's ``Run.save``), atomically."""
    with atomic_directory(out_dir) as tmp:
        _write(tmp, out_dir, scenario, result, started)
    result.out_dir = out_dir


def _write(
    tmp: Path, out_dir: Path, scenario: Scenario, result: RunResult, started: str, stage: Stage | None = None
) -> None:
    try:
        write_outputs(tmp, scenario, result, started, stage)
    except OSError as exc:  # a full disk, a quota, a directory removed under us: not a bug
        raise output_error(f"the run directory {out_dir}", exc) from exc


def write_outputs(
    directory: Path, scenario: Scenario, result: RunResult, started: str, stage: Stage | None = None
) -> None:
    """Write every file of a run directory into ``directory``."""
    stage = stage or (lambda text, total: None)
    stage("writing the run directory", None)
    ts = result.timeseries
    ts.to_csv(directory / "timeseries.csv", float_format="%.10g", lineterminator="\n")
    ts.to_parquet(directory / "timeseries.parquet")
    if scenario.output.events:
        result.model.events.write_parquet(directory / "events.parquet")
    if scenario.output.members:
        from sim.observe.members import members_frame

        members_frame(result.model).to_parquet(directory / "members.parquet", index=False)
    (directory / "summary.json").write_text(json.dumps(result.summary, indent=2, sort_keys=True) + "\n")
    (directory / "scenario.yaml").write_text(scenario_to_yaml(scenario))
    manifest = {
        "scenario": scenario.model_dump(mode="json"),
        "scenario_sha256": scenario_hash(scenario),
        "seed": scenario.seed,
        "days": len(ts),
        "started_utc": started,
        "wall_seconds": round(result.seconds, 3),
        "versions": versions(),
        "git_commit": git_commit(),
        "files": sorted(
            ["timeseries.csv", "timeseries.parquet", "summary.json", "scenario.yaml"]
            + (["events.parquet"] if scenario.output.events else [])
            + (["members.parquet"] if scenario.output.members else [])
        ),
    }
    if scenario.output.plots:
        from sim.plots import write_run_plots  # matplotlib loads only for a run that draws

        stage("drawing the figures", None)
        cohorts = cohort_retention(result.model.pop, len(ts))
        paths = write_run_plots(
            ts,
            result.summary["funnel"],
            cohorts,
            directory / "plots",
            scenario.name,
            markers=result.model.markers,
            negative_threshold=scenario.health.max_negative_share,
        )
        manifest["files"] += [f"plots/{p.name}" for p in paths]
    else:
        paths = []
    write_run_report(directory / "report.html", scenario, result, paths)
    manifest["files"].append("report.html")
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")

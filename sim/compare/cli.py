"""``community-sim compare``: run strategies with paired seeds (or load runs) and write the report."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sim.atomic import atomic_directory, check_destination
from sim.compare.ensemble import Ensemble, run_ensemble
from sim.compare.loading import InputError, load_runs
from sim.compare.plots import write_comparison_plots
from sim.compare.report import write_report
from sim.compare.table import Objective, comparison_table, ranking, summary_sentences
from sim.config.loader import load_scenario


class CompareError(Exception):
    """Bad input to compare (reported with exit code 2)."""


def build_ensemble(
    inputs: list[Path],
    replications: int,
    days: int | None,
    seed: int,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    overrides: list[str],
    quiet: bool,
) -> Ensemble:
    files = [p for p in inputs if p.suffix in (".yaml", ".yml")]
    dirs = [p for p in inputs if p not in files]
    if files and dirs:
        raise CompareError("give either scenario files or run directories, not both")
    if dirs:
        try:
            return load_runs(dirs)
        except InputError as exc:
            raise CompareError(str(exc)) from None
    scenarios = [load_scenario(p, overrides, days=days) for p in files]
    with Progress(
        TextColumn("runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task("runs", total=len(scenarios) * replications)
        return run_ensemble(
            scenarios,
            replications,
            seed,
            executor,
            workers,
            scheduler,
            progress=lambda done, total: bar.update(task, completed=done),
        )


def compare_command(
    inputs: list[Path],
    baseline: str | None,
    replications: int,
    days: int | None,
    objective: str,
    constraints: list[str],
    out: Path,
    seed: int,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    overrides: list[str],
    quiet: bool,
) -> None:
    if not 2 <= len(inputs) <= 6 and not all(p.is_dir() for p in inputs):
        raise CompareError(f"compare takes 2 to 6 strategies, got {len(inputs)}")
    try:
        goal = Objective.parse(objective, constraints)
    except ValueError as exc:
        raise CompareError(str(exc)) from None
    check_destination(out)
    ens = build_ensemble(inputs, replications, days, seed, executor, workers, scheduler, overrides, quiet)
    base = baseline or ens.strategies[0]
    if base not in ens.strategies:
        stems = {p.stem: s for p, s in zip(inputs, ens.strategies, strict=False)}
        base = stems.get(base, base)
        if base not in ens.strategies:
            raise CompareError(f"--baseline {baseline!r} is none of the strategies {ens.strategies}")
    n_days = len(next(iter(ens.runs.values())).timeseries)
    with atomic_directory(out) as tmp:
        table = comparison_table(ens, base)
        table.to_csv(tmp / "comparison.csv", index=False, float_format="%.6g", lineterminator="\n")
        ranks = ranking(ens, base, goal)
        ranks.to_csv(tmp / "ranking.csv", index=False, float_format="%.6g", lineterminator="\n")
        sentences = summary_sentences(ens, base, goal, n_days)
        plots = write_comparison_plots(ens, base, tmp / "plots")
        write_report(tmp / "report.html", ens, base, sentences, ranks, table, plots, goal.label, n_days)
    if not quiet:
        console = Console()
        for s in sentences:
            console.print(f"• {s}", highlight=False)
        console.print(f"ranking by {goal.label}: " + ", ".join(f"{r.rank}. {r.strategy}" for r in ranks.itertuples()))
    print(f"wrote {out}")

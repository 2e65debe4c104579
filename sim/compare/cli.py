"""``community-sim compare``: run strategies with paired seeds (or load runs) and write the report."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from sim.cli.output import runs_bar
from sim.compare.ensemble import Ensemble, run_ensemble
from sim.compare.loading import InputError, load_runs, unique
from sim.compare.plots import write_comparison_plots
from sim.compare.report import write_report
from sim.compare.table import Objective, comparison_table, ranking, summary_sentences
from sim.config.loader import load_scenario
from sim.config.schema import Scenario
from sim.run.atomic import atomic_directory, check_destination


class CompareError(Exception):
    """Bad input to compare (reported with exit code 2)."""


def file_labels(files: list[Path], scenarios: list[Scenario]) -> list[str]:
    """Strategy names: the scenario names, or the file names where scenarios share a name (a copied file)."""
    names = [s.name for s in scenarios]
    return unique([p.stem if names.count(n) > 1 else n for p, n in zip(files, names, strict=True)])


def check_horizons(files: list[Path], scenarios: list[Scenario]) -> None:
    """Strategies are ranked on the same days: refuse files of different ``days`` (unless --days sets them)."""
    if len({s.days for s in scenarios}) > 1:
        shown = ", ".join(f"{p}: {s.days}" for p, s in zip(files, scenarios, strict=True))
        raise CompareError(
            f"the strategies run for different numbers of days ({shown}); give --days N to run them all "
            "for the same horizon, or set the same days: in the files"
        )


def choose_baseline(baseline: str | None, strategies: list[str], stems: dict[str, str]) -> str:
    """The baseline strategy: named by its strategy name or its file's stem (default: the first)."""
    if baseline is None:
        return strategies[0]
    if baseline in strategies:
        return baseline
    if baseline in stems:
        return stems[baseline]
    raise CompareError(f"--baseline {baseline!r} is none of the strategies {strategies}")


def simulate_ensemble(
    scenarios: list[Scenario],
    labels: list[str],
    replications: int,
    seed: int,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
) -> Ensemble:
    with runs_bar("runs", quiet) as bar:
        task = bar.add_task("runs", total=len(scenarios) * replications)
        return run_ensemble(
            scenarios,
            replications,
            seed,
            executor,
            workers,
            scheduler,
            progress=lambda done, total: bar.update(task, completed=done),
            labels=labels,
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
    files = [p for p in inputs if p.suffix in (".yaml", ".yml")]
    dirs = [p for p in inputs if p not in files]
    if files and dirs:
        raise CompareError("give either scenario files or run directories, not both")
    if dirs:
        try:
            ens = load_runs(dirs)
        except InputError as exc:
            raise CompareError(str(exc)) from None
        base = choose_baseline(baseline, ens.strategies, {})
    else:
        scenarios = [load_scenario(p, overrides, days=days) for p in files]
        check_horizons(files, scenarios)
        labels = file_labels(files, scenarios)
        stems = {p.stem: label for p, label in zip(files, labels, strict=True)}
        base = choose_baseline(baseline, labels, stems)  # before any simulation
        ens = simulate_ensemble(scenarios, labels, replications, seed, executor, workers, scheduler, quiet)
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
            console.print(f"• {escape(s)}", highlight=False)
        shown = ", ".join(f"{r.rank}. {r.strategy}" for r in ranks.itertuples())
        console.print(f"ranking by {escape(goal.label)}: {escape(shown)}", highlight=False)
    print(f"wrote {out}")

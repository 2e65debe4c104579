"""``community-sim compare``: run strategies with paired seeds (or load runs) and write the report."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from sim.cli.output import Steps, plain_console, runs_bar
from sim.compare.ensemble import Ensemble, run_ensemble
from sim.compare.loading import InputError, load_runs, unique
from sim.compare.plots import write_comparison_plots
from sim.compare.ranking import ranking, ranking_line, ranking_title
from sim.compare.report import write_report
from sim.compare.table import Objective, comparison_table, summary_sentences
from sim.config.loader import load_scenario
from sim.config.schema import Scenario
from sim.run.atomic import atomic_directory, check_destination, default_output_dir, release


class CompareError(Exception):
    """Bad input to compare (reported with exit code 2)."""


def file_labels(files: list[Path], scenarios: list[Scenario]) -> list[str]:
    """Strategy names: the scenario names; where scenarios share a name (a copied file), the file names; where
    those are shared too (``a/base.yaml``, ``b/base.yaml``), as much of the paths as tells them apart."""
    names = [s.name for s in scenarios]
    stems = [p.stem if names.count(n) > 1 else n for p, n in zip(files, names, strict=True)]
    labels = list(stems)
    for i, stem in enumerate(stems):
        same = [j for j, other in enumerate(stems) if other == stem and j != i]
        if same and names[i] != stem:
            labels[i] = _shortest_distinct(files[i], [files[j] for j in same])
    return unique(labels)


def _shortest_distinct(path: Path, others: list[Path]) -> str:
    """The fewest trailing parts of ``path`` (without ``.yaml``) that none of ``others`` ends with."""
    mine = path.resolve().with_suffix("").parts
    theirs = [o.resolve().with_suffix("").parts for o in others]
    for k in range(1, len(mine) + 1):
        if all(t[-k:] != mine[-k:] for t in theirs):
            return "/".join(mine[-k:])
    return path.stem  # the same file twice: told apart by unique()


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


def parse_objective(
    objective: str, constraints: list[str], days: int | None, options: tuple[str, str] = ("--objective", "--constraint")
) -> Objective:
    """The objective and constraints, every KPI name checked (against runs of ``days`` days, if known)."""
    try:
        return Objective.parse(objective, constraints, days, options)
    except ValueError as exc:
        raise CompareError(str(exc)) from None


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
    out: Path | None,
    seed: int,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    overrides: list[str],
    quiet: bool,
    results: Path = Path("results"),
) -> None:
    if not 2 <= len(inputs) <= 6 and not all(p.is_dir() for p in inputs):
        raise CompareError(f"compare takes 2 to 6 strategies, got {len(inputs)}")
    parse_objective(objective, constraints, None)  # a typo is reported before the inputs are read
    if out is not None:
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
        goal = parse_objective(objective, constraints, ens.days)
        scenarios = labels = []
    else:
        scenarios = [load_scenario(p, overrides, days=days) for p in files]
        check_horizons(files, scenarios)
        labels = file_labels(files, scenarios)
        stems = {p.stem: label for p, label in zip(files, labels, strict=True)}
        base = choose_baseline(baseline, labels, stems)  # before any simulation
        goal = parse_objective(objective, constraints, scenarios[0].days)
    out_dir = out if out is not None else default_output_dir(results, "compare")  # reserved: a free name, now
    try:
        if scenarios:
            ens = simulate_ensemble(scenarios, labels, replications, seed, executor, workers, scheduler, quiet)
        sentences, ranks = _write(ens, base, goal, out_dir, quiet)
    finally:
        release(out_dir)  # a reserved directory left empty by a failure; nothing once the results are in place
    if not quiet:
        console = plain_console()
        for s in sentences:
            console.print(f"• {escape(s)}", highlight=False)
        console.print(f"{escape(ranking_title(goal))}: {escape(ranking_line(ranks))}", highlight=False)
    print(f"wrote {out_dir}")


def _write(ens: Ensemble, base: str, goal: Objective, out: Path, quiet: bool):
    """The tables, figures and report, with progress (the figures take seconds)."""
    with Steps(quiet) as steps, atomic_directory(out) as tmp:
        steps.step("comparison: statistics")
        table = comparison_table(ens, base)
        table.to_csv(tmp / "comparison.csv", index=False, float_format="%.6g", lineterminator="\n")
        ranks = ranking(ens, base, goal)
        ranks.to_csv(tmp / "ranking.csv", index=False, float_format="%.6g", lineterminator="\n")
        sentences = summary_sentences(ens, base, goal, ens.days)
        steps.step("comparison: figures")
        plots = write_comparison_plots(ens, base, tmp / "plots")
        steps.step("comparison: report")
        write_report(tmp / "report.html", ens, base, sentences, ranks, table, plots, goal.label, ens.days)
    return sentences, ranks

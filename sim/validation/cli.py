"""``community-sim validate``: run the suite, write validation.csv and validation.png."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from sim.cli.output import runs_bar
from sim.config.loader import load_scenario
from sim.run.atomic import atomic_directory, check_destination
from sim.validation.runner import run_suite, write_report
from sim.validation.suite import DEFAULT_SUITE, SCENARIOS, load_suite


def validate_command(
    suite_path: Path | None, replications: int | None, out: Path, workers: int, overrides: list[str], quiet: bool
) -> int:
    suite = load_suite(suite_path or DEFAULT_SUITE)
    if replications is not None:
        suite = suite.model_copy(update={"replications": replications})
    for name in sorted({n for c in suite.cases for n in (c.scenario, c.baseline) if n}):
        # a bad --set is reported now, not from a worker
        load_scenario(SCENARIOS / f"{name}.yaml", ["output.events=false", *overrides])
    check_destination(out)
    console = Console(stderr=True)
    with runs_bar("validation runs", quiet, console) as bar:
        task = bar.add_task("runs", total=None)
        table = run_suite(
            suite,
            workers=workers,
            overrides=tuple(overrides),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    with atomic_directory(out) as tmp:
        write_report(table, tmp)
    if not quiet:
        view = Table(title=f"Validation: {int(table['passed'].sum())} of {len(table)} cases pass")
        for col in ("id", "metric", "target", "simulated", "95% CI", "pass", "provenance"):
            view.add_column(col, justify="right" if col not in ("id", "metric", "provenance") else "left")
        for r in table.itertuples():
            view.add_row(
                r.id,
                r.metric,
                f"{r.target:.3g} ± {r.tolerance:.3g}",
                f"{r.simulated_mean:.3g}",
                f"{r.ci_low:.3g} to {r.ci_high:.3g}",
                "yes" if r.passed else "[red]no[/]",
                r.provenance,
            )
        Console().print(view)
    print(f"wrote {out}")
    return 0

"""``community-sim validate``: run the suite, write validation.csv and validation.png.

Exit code 1 when a case fails (the outputs are written all the same), 0 when every case passes.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from sim.cli.output import Steps, plain_console, runs_bar
from sim.config.loader import load_scenario
from sim.run.atomic import atomic_directory, check_destination, default_output_dir, release
from sim.validation.runner import run_suite, write_report
from sim.validation.suite import DEFAULT_SUITE, SCENARIOS, load_suite

#: Exit code of a suite with a failing case.
EXIT_CASE_FAILED = 1


def validate_command(
    suite_path: Path | None,
    replications: int | None,
    out: Path | None,
    workers: int,
    overrides: list[str],
    quiet: bool,
    results: Path = Path("results"),
) -> int:
    """Run the suite and write its report; returns the exit code (``EXIT_CASE_FAILED`` if a case fails)."""
    suite = load_suite(suite_path or DEFAULT_SUITE)
    if replications is not None:
        suite = suite.model_copy(update={"replications": replications})
    for name in sorted({n for c in suite.cases for n in (c.scenario, c.baseline) if n}):
        # a bad --set is reported now, not from a worker
        load_scenario(SCENARIOS / f"{name}.yaml", ["output.events=false", *overrides])
    if out is not None:
        check_destination(out)
    out_dir = out if out is not None else default_output_dir(results, "validation")  # reserved: a free name, now
    try:
        console = plain_console(stderr=True)
        with runs_bar("validation runs", quiet, console) as bar:
            task = bar.add_task("runs", total=None)
            table = run_suite(
                suite,
                workers=workers,
                overrides=tuple(overrides),
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        with Steps(quiet, console) as steps, atomic_directory(out_dir) as tmp:
            steps.step("validation: table and figure")
            write_report(table, tmp)
    finally:
        release(out_dir)  # a reserved directory left empty by a failure; nothing once the report is in place
    if not quiet:
        view = Table(title=f"Validation: {int(table['passed'].sum())} of {len(table)} cases pass")
        for col in ("id", "metric", "target", "simulated", "95% CI", "pass", "provenance"):
            # a narrow terminal wraps the metric's name (at its underscores) instead of cutting it
            left = col in ("id", "metric", "provenance")
            view.add_column(col, justify="left" if left else "right", overflow="fold")
        for r in table.itertuples():
            view.add_row(
                r.id,
                r.metric,
                target_text(r),
                f"{r.simulated_mean:.3g}",
                f"{r.ci_low:.3g} to {r.ci_high:.3g}",
                "yes" if r.passed else "[red]no[/]",
                r.provenance,
            )
        plain_console().print(view)
    print(f"wrote {out_dir}")
    failed = int((~table["passed"].astype(bool)).sum())
    if failed:
        plain_console(stderr=True, highlight=False).print(
            f"{failed} of {len(table)} cases fail: {', '.join(table.loc[~table['passed'].astype(bool), 'id'])}"
        )
        return EXIT_CASE_FAILED
    return 0


def target_text(r) -> str:
    """A case's target as it is scored: ``0.25 ± 0.05``, ``at least 0.65``."""
    if r.compare == "at_least":
        return f"at least {r.target - r.tolerance:.3g}"
    return f"{r.target:.3g} ± {r.tolerance:.3g}"

"""``community-sim optimize``: progress, the summary sentences, and exit codes.

Exit codes: 0 done; 2 bad input (the file, line and key of each problem), or an
output directory that cannot be used; 130 interrupted, 143 terminated (the study
keeps every finished trial: rerun the same command to resume); 1 the executor failed.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from sim.batch.executors import ExecutorError, default_workers
from sim.cli.errors import UserError
from sim.cli.output import plain_console
from sim.config.base import dir_name
from sim.experiment.cli import EXECUTORS, SCHEDULER_ADDRESS, stopped


def optimize_command(
    experiment: Path,
    *,
    trials: int | None,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    out: Path | None,
    resume: bool,
    overrides: list[str],
    results: Path,
    quiet: bool,
) -> None:
    if executor not in EXECUTORS:
        raise UserError(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if scheduler and (executor != "dask" or not SCHEDULER_ADDRESS.fullmatch(scheduler)):
        raise UserError("--scheduler takes a Dask scheduler address (tcp://HOST:PORT) with --executor dask")
    from sim.optimize.resolve import resolve_optimization
    from sim.optimize.run import optimize, prepare
    from sim.optimize.search import StudyMismatch

    resolved = resolve_optimization(experiment, overrides)
    out_dir = out if out is not None else results / "optimize" / dir_name(resolved.spec.name)
    err = plain_console(stderr=True, highlight=False)
    if workers is not None and workers > default_workers():
        err.print(f"[yellow]warning:[/] --workers {workers} is more than the {default_workers()} CPU(s) here")
    prepare(out_dir, resume)
    target = trials if trials is not None else resolved.spec.trials

    def on_batch(ran: int, finished: int) -> None:
        if not quiet:
            err.print(f"{resolved.spec.name}: {finished} of {target} trials")

    try:
        outcome = optimize(
            resolved,
            out_dir,
            trials=target,
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
            on_batch=on_batch,
        )
    except StudyMismatch as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt as exc:
        raise stopped(exc, err, f"finished trials are saved in {out_dir}") from None
    except ExecutorError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    from sim.optimize.report import sentences

    s = outcome.search
    share = 1 - s.seconds_runs / s.seconds_total if s.seconds_total else 0.0
    print(
        f"{len(outcome.table)} trials in the study ({s.ran} run now in {s.seconds_total:.1f} s, "
        f"{share:.0%} of it outside the runs"
        + (f"; {s.over_budget} over the budget, not run" if s.over_budget else "")
        + ")"
    )
    for line in sentences(resolved, outcome.table, outcome.picked, outcome.verification):
        plain_console(highlight=False).print(escape(line), soft_wrap=False)
    print(f"wrote {out_dir / 'report.html'} and {len(outcome.files) - 1} other outputs")

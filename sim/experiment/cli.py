"""``community-sim sweep`` and ``community-sim analyze``: progress, summaries and exit codes.

Exit codes: 0 every run succeeded; 3 the sweep finished but some runs failed (their
errors and seeds are in runs.parquet); 2 bad input; 130 interrupted, 143 terminated
by SIGTERM (finished chunks are kept: rerun the same command to resume); 1 the
executor failed.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from sim.batch.executors import ExecutorError, default_workers
from sim.cli.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, UserError
from sim.cli.output import plain_console
from sim.config.base import dir_name
from sim.experiment.resolve import MAX_RUNS, Resolved, resolve_experiment
from sim.run.atomic import OutputError

EXIT_FAILED_RUNS = 3
EXECUTORS = ("local", "dask")
#: What a Dask scheduler address looks like: [protocol://]host:port (host a name, IPv4, or [IPv6]).
SCHEDULER_ADDRESS = re.compile(r"(?:(?:tcp|tls|ws|wss|ucx|inproc)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}")


def sweep_command(
    experiment: Path,
    *,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    out: Path | None,
    resume: bool,
    retry_failed: bool,
    chunk_size: int | None,
    overrides: list[str],
    results: Path,
    dry_run: bool,
    quiet: bool,
    max_runs: int | None = MAX_RUNS,
    chunk_timeout: float | None = None,
) -> None:
    if executor not in EXECUTORS:
        raise UserError(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if scheduler and executor != "dask":
        raise UserError("--scheduler is the address of a Dask scheduler: add --executor dask")
    if scheduler and not SCHEDULER_ADDRESS.fullmatch(scheduler):
        raise UserError(
            f"--scheduler {scheduler!r} is not a Dask scheduler address; write PROTOCOL://HOST:PORT, "
            "e.g. tcp://10.0.0.5:8786"
        )
    if chunk_timeout is not None and executor != "local":
        raise UserError("--chunk-timeout applies to the local executor; Dask reruns the tasks of lost workers itself")
    resolved = resolve_experiment(experiment, overrides, max_runs=max_runs)
    out_dir = out if out is not None else results / "sweeps" / dir_name(resolved.experiment.name)
    console, err = plain_console(), plain_console(stderr=True, highlight=False)
    cores = default_workers()
    if workers is not None and workers > cores:
        err.print(
            f"[yellow]warning:[/] --workers {workers} is more than the {cores} CPU(s) this process may use: "
            "the extra workers share the cores and take memory, so the sweep runs slower, not faster",
            soft_wrap=True,
        )
    if dry_run:
        from sim.experiment.sweep import results_plan

        plan, refused = None, None
        try:
            plan = results_plan(resolved, out_dir, resume=resume)
        except OutputError as exc:  # the sweep would stop there: say so, as it would (exit 2)
            refused = exc
        console.print(describe(resolved, plan or f"{out_dir} (the sweep would be refused there: see below)"))
        console.print("first design points:")
        console.print(resolved.design.head(10).to_string(), highlight=False, soft_wrap=True)
        if refused is not None:
            raise refused
        return
    from sim.experiment.sweep import preflight, run_sweep

    preflight(resolved, out_dir, resume=resume)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TextColumn("{task.fields[failed]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, disable=quiet, transient=False) as bar:
        task = bar.add_task(resolved.experiment.name, total=resolved.n_runs, failed="")
        failed = {"n": 0}

        def on_start(total: int, done: int, failed_before: int) -> None:
            failed["n"] = failed_before
            bar.update(task, total=total, completed=done, failed=_failed(failed_before))
            if done and not quiet:
                bar.console.print(f"resuming {out_dir}: {done} of {total} runs already done")

        def on_chunk(runs: int, failed_now: int) -> None:
            failed["n"] += failed_now
            bar.update(task, advance=runs, failed=_failed(failed["n"]))

        try:
            outcome = run_sweep(
                resolved,
                out_dir,
                executor=executor,
                workers=workers,
                scheduler=scheduler,
                chunk_size=chunk_size,
                resume=resume,
                retry_failed=retry_failed,
                on_start=on_start,
                on_chunk=on_chunk,
                chunk_timeout=chunk_timeout,
            )
        except KeyboardInterrupt as exc:
            bar.stop()
            raise stopped(exc, err, f"finished chunks are saved in {out_dir}") from None
        except ExecutorError as exc:
            bar.stop()
            err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from None
    for warning in outcome.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    points, reps = len(resolved.design), len(resolved.seeds)
    print(
        f"{outcome.total} runs ({points} points x {reps} replications): {outcome.total - outcome.failed} ok, "
        f"{outcome.failed} failed; ran {outcome.ran} in {outcome.seconds:.1f} s"
        + (f", {outcome.skipped} were already done" if outcome.skipped else "")
    )
    print(f"wrote {out_dir / 'runs.parquet'}")
    if outcome.failed:
        bad = outcome.runs[outcome.runs["status"] == "failed"]
        for row in bad.head(5).itertuples():
            err.print(
                f"  failed: point {row.point}, replication {row.replication}, seed {row.seed}: "
                f"{escape(str(row.error))}",
                soft_wrap=True,
            )
        if len(bad) > 5:
            err.print(f"  ... and {len(bad) - 5} more (status == 'failed' in runs.parquet)")
        raise typer.Exit(EXIT_FAILED_RUNS)


def stopped(exc: KeyboardInterrupt, err: Console, saved: str) -> typer.Exit:
    """Say that the command was interrupted or terminated and what it kept; the exit to raise."""
    what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    err.print(f"{what}: {saved}; rerun the same command to resume")
    return typer.Exit(EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED)


def _failed(n: int) -> str:
    return f"[red]{n} failed[/]" if n else "0 failed"


def describe(resolved: Resolved, results: str) -> Table:
    """What a sweep would run (``--dry-run``)."""
    exp = resolved.experiment
    table = Table(title=f"{exp.name}: {resolved.n_runs} runs, nothing run yet (--dry-run)", show_header=False)
    table.add_column()
    table.add_column(overflow="fold")  # paths whole, folded at the edge: never cut short with an ellipsis
    table.add_row(
        "design",
        f"{exp.design.kind}: {len(resolved.design)} points"
        + (f" (sampler seed {resolved.design_seed})" if resolved.design_seed is not None else ""),
    )
    table.add_row("factors", "\n".join(f"{f.name} ({f.kind})" for f in resolved.factors))
    table.add_row("replications", f"{exp.replications}, master seed {exp.seed}")
    shown = ", ".join(map(str, resolved.seeds[:3])) + (", ..." if len(resolved.seeds) > 3 else "")
    table.add_row("seeds", shown)
    table.add_row(
        "KPI columns",
        f"{len(resolved.kpis)}: " + ", ".join(resolved.kpis[:6]) + (", ..." if len(resolved.kpis) > 6 else ""),
    )
    table.add_row("results", results)
    return table


def analyze_command(
    sweep_dir: Path, *, kpis: list[str], out: Path | None, conf_level: float, quiet: bool = False
) -> None:
    from sim.cli.output import Steps, plain_console
    from sim.experiment.analysis import AnalysisError, analyze

    if not 0 < conf_level < 1:
        raise UserError(f"--conf-level must be between 0 and 1, got {conf_level}")
    with Steps(quiet) as steps:
        shown = {"step": None}

        def progress(step: str, done: int, total: int) -> None:
            if step != shown["step"]:
                shown["step"] = step
                steps.step(f"analyze: {step}", total or None, "KPIs" if total else "")
            if total:
                steps.advance(done)

        try:
            report = analyze(sweep_dir, kpis or None, out, conf_level=conf_level, progress=progress)
        except AnalysisError as exc:
            raise UserError(str(exc)) from None
    for note in report.notes:
        plain_console(stderr=True, highlight=False).print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    print(f"wrote {len(report.files)} files to {report.out}")
    for path in report.files:
        print(f"  {path.relative_to(report.out)}")

"""The ``community-sim`` commands: their options and help, each a thin function that imports the module
doing the work (``sim.cli.run``, ``sim.experiment.cli``, ``sim.compare.cli``, ...) when it is called.

How a command ends (exit codes, error lines) is ``sim.cli.main``'s part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.errors import UserError, interruptible

#: Options several commands share, declared once (the same flag, help and bounds everywhere).
Executor = Annotated[str, typer.Option(help="local (processes on this machine) or dask.")]
Workers = Annotated[int | None, typer.Option(help="Worker processes (default: one per CPU).", min=1)]
Scheduler = Annotated[str | None, typer.Option(help="Dask scheduler address (default: a LocalCluster).")]
ResultsRoot = Annotated[Path, typer.Option(help="Results root for the default output directory.")]
MasterSeed = Annotated[int, typer.Option(help="Master seed of the replication seeds.", min=0)]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Simulate brand and live-commerce user communities under different operating strategies.",
)


@app.callback()
def _root() -> None:
    """community-sim: compare community strategies before rolling them out."""


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    seed: Annotated[int | None, typer.Option(help="Seed (overrides the scenario's).", min=0)] = None,
    days: Annotated[int | None, typer.Option(help="Days to simulate (overrides the scenario's).", min=1)] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory; must not exist or be empty.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a key: --set referral.reward_inviter=20")
    ] = None,
    results: Annotated[Path, typer.Option(help="Results root for the default run directory.")] = Path("results"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
    members: Annotated[bool, typer.Option("--members", help="Also write members.parquet (output.members).")] = False,
) -> None:
    """Run one scenario and write its run directory."""
    from sim.cli.run import run_command

    overrides = [*(set_ or []), *(["output.members=true"] if members else [])]
    interruptible(run_command)(
        scenario, seed=seed, days=days, out=out, overrides=overrides, results=results, quiet=quiet
    )


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML file (see docs/experiments.md).")],
    executor: Executor = "local",
    workers: Workers = None,
    scheduler: Scheduler = None,
    out: Annotated[Path | None, typer.Option(help="Results directory; rerunning into it resumes.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Require --out to hold this sweep already.")] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="On resume, rerun failed runs.")] = False,
    chunk_size: Annotated[int | None, typer.Option(help="Runs per chunk (default: automatic).", min=1)] = None,
    chunk_timeout: Annotated[
        float | None,
        typer.Option(help="Seconds a chunk may run before it is run again on fresh workers (local executor).", min=1),
    ] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a key: --set replications=2")] = None,
    results: ResultsRoot = Path("results"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the design and seeds; run nothing.")] = False,
    max_runs: Annotated[
        int, typer.Option(help="Refuse a design of more runs (points x replications) than this.", min=1)
    ] = 100_000,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run an experiment: a design of scenario values x replications, resumable (exit 3 if runs failed)."""
    from sim.experiment.cli import sweep_command

    # an interruption once runs started is reported by sweep_command itself
    interruptible(sweep_command)(
        experiment,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        out=out,
        resume=resume,
        retry_failed=retry_failed,
        chunk_size=chunk_size,
        chunk_timeout=chunk_timeout,
        overrides=set_ or [],
        results=results,
        dry_run=dry_run,
        max_runs=max_runs,
        quiet=quiet,
    )


@app.command()
def analyze(
    sweep_dir: Annotated[Path, typer.Argument(help="Results directory of a sweep.")],
    kpi: Annotated[list[str] | None, typer.Option("--kpi", help="KPI column to analyse, e.g. final.gmv.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output directory (default: DIR/analysis).")] = None,
    conf_level: Annotated[float, typer.Option(help="Confidence level of intervals.")] = 0.95,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress.")] = False,
) -> None:
    """Sensitivity indices, response curves, heatmaps and comparisons of a sweep, as PNG and CSV."""
    from sim.experiment.cli import analyze_command

    interruptible(analyze_command)(sweep_dir, kpis=kpi or [], out=out, conf_level=conf_level, quiet=quiet)


@app.command()
def optimize(
    experiment: Annotated[Path, typer.Argument(help="Optimization YAML file (see docs/optimize.md).")],
    trials: Annotated[
        int | None, typer.Option(help="Trials the study should hold (default: the file's).", min=1)
    ] = None,
    executor: Executor = "local",
    workers: Workers = None,
    scheduler: Scheduler = None,
    out: Annotated[
        Path | None, typer.Option(help="Output directory; rerunning into it resumes or adds trials.")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Require --out to hold this optimization already.")] = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a key: --set replications=2")] = None,
    results: ResultsRoot = Path("results"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Search the levers for the best strategy under constraints and uncertainty; verify it on fresh seeds."""
    from sim.optimize.cli import optimize_command

    interruptible(optimize_command)(
        experiment,
        trials=trials,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        out=out,
        resume=resume,
        overrides=set_ or [],
        results=results,
        quiet=quiet,
    )


@app.command()
def validate(
    suite: Annotated[Path | None, typer.Option(help="Suite YAML (default: scenarios/validation/suite.yaml).")] = None,
    replications: Annotated[
        int | None, typer.Option(help="Replications per scenario (default: the suite's).", min=2)
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory; must not exist or be empty (default: RESULTS/validation/<UTC time>)."),
    ] = None,
    results: ResultsRoot = Path("results"),
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 2,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a key in every scenario.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
) -> None:
    """Run the validation suite (stylized facts and theory); write validation.csv and validation.png.

    Exits 1 when a case fails (the outputs are written all the same).
    """
    from sim.validation.cli import validate_command

    code = interruptible(validate_command)(suite, replications, out, workers, set_ or [], quiet, results)
    if code:
        raise typer.Exit(code)


@app.command("warnings")
def warnings_(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML whose warnings to score.")],
    runs: Annotated[int, typer.Option(help="Runs of the ensemble (a quarter calm, the rest shocked).", min=4)] = 40,
    days: Annotated[int | None, typer.Option(help="Days to simulate (default: the scenario's).", min=1)] = None,
    horizon: Annotated[int, typer.Option(help="Days ahead in which net member growth must turn negative.", min=1)] = 60,
    max_calm_share: Annotated[
        float, typer.Option(help="Most of the calm runs' days a proposed warning may be on.", min=0.0, max=1.0)
    ] = 0.3,
    seed: Annotated[int, typer.Option(help="Master seed of the runs' seeds and shocks.", min=0)] = 20261204,
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory; must not exist or be empty (default: RESULTS/warnings/<UTC time>)."),
    ] = None,
    results: ResultsRoot = Path("results"),
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 2,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a key of the scenario.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
) -> None:
    """Score the health warnings on a shocked ensemble; propose thresholds (warnings.csv, proposed.yaml)."""
    from sim.validation.detect import warnings_command

    interruptible(warnings_command)(
        scenario, runs, days, horizon, max_calm_share, seed, out, workers, set_ or [], quiet, results
    )


@app.command()
def dashboard(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML (default: the baseline's community in 20,000 people).")
    ] = None,
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).", min=0, max=65535)] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind; the default serves this machine only.")] = "127.0.0.1",
) -> None:
    """Interactive dashboard (Mesa SolaraViz) for a small community: move the knobs, watch, export."""
    from sim.dashboard.server import dashboard_command

    interruptible(dashboard_command)(scenario, host=host, port=port)


@app.command()
def compare(
    inputs: Annotated[list[Path], typer.Argument(help="2 to 6 scenario YAML files, or finished run directories.")],
    baseline: Annotated[
        str | None, typer.Option(help="Baseline strategy (name or file stem; default: the first).")
    ] = None,
    replications: Annotated[int, typer.Option(help="Replications per strategy, same seeds for all.", min=1)] = 10,
    days: Annotated[int | None, typer.Option(help="Days to simulate (default: each scenario's).", min=1)] = None,
    objective: Annotated[
        str,
        typer.Option(
            help="profit, gmv, members, ltv, roi, another KPI (churned, cost_total: lowest first) "
            "or score:profit=1,gmv=0.5"
        ),
    ] = "profit",
    constraint: Annotated[list[str] | None, typer.Option(help="e.g. cost_incentives<=50000 (repeatable).")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory; must not exist or be empty (default: RESULTS/compare/<UTC time>)."),
    ] = None,
    results: ResultsRoot = Path("results"),
    seed: MasterSeed = 20261122,
    executor: Executor = "local",
    workers: Workers = None,
    scheduler: Scheduler = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a key in every scenario.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
) -> None:
    """Compare 2-6 strategies with paired replications: report.html, comparison.csv, plots."""
    from sim.compare.cli import CompareError, compare_command

    try:
        interruptible(compare_command)(
            inputs,
            baseline,
            replications,
            days,
            objective,
            constraint or [],
            out,
            seed,
            executor,
            workers,
            scheduler,
            set_ or [],
            quiet,
            results,
        )
    except CompareError as exc:
        raise UserError(str(exc)) from None


@app.command()
def abtest(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file: the community the test runs in.")],
    treatment: Annotated[
        list[str], typer.Option(help="Lever the treated arm gets, e.g. referral.reward_inviter=20 (repeatable).")
    ],
    unit: Annotated[
        str, typer.Option(help="Randomize members one by one (member) or network communities (cluster).")
    ] = "member",
    share: Annotated[float, typer.Option(help="Share of units treated.")] = 0.5,
    days: Annotated[
        int, typer.Option(help="Test duration in days (whole weeks up to it are evaluated too).", min=1)
    ] = 56,
    warmup: Annotated[int, typer.Option(help="Days the community runs before the test starts.", min=0)] = 0,
    replications: Annotated[int, typer.Option(help="Replications (seeds).", min=2)] = 20,
    alpha: Annotated[float, typer.Option(help="Significance level of the test.")] = 0.05,
    metric: Annotated[
        str | None, typer.Option(help="Outcome per member: joins, purchases, spend or churned (default by treatment).")
    ] = None,
    max_bias: Annotated[
        float, typer.Option(help="Largest acceptable spillover bias, as a share of the true effect.")
    ] = (0.1),
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory; must not exist or be empty (default: RESULTS/abtest/<UTC time>)."),
    ] = None,
    results: ResultsRoot = Path("results"),
    seed: MasterSeed = 20261122,
    executor: Executor = "local",
    workers: Workers = None,
    scheduler: Scheduler = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a key of the scenario (both arms).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or sentences.")] = False,
) -> None:
    """Simulate an A/B test inside one community: power, detectable effect, A/A false positives, spillover bias."""
    from sim.abtest.cli import AbtestError, abtest_command

    try:
        interruptible(abtest_command)(
            scenario,
            treatment,
            unit=unit,
            share=share,
            days=days,
            warmup=warmup,
            replications=replications,
            alpha=alpha,
            metric=metric,
            max_bias=max_bias,
            out=out,
            results=results,
            seed=seed,
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            overrides=set_ or [],
            quiet=quiet,
        )
    except AbtestError as exc:
        raise UserError(str(exc)) from None


@app.command()
def calibrate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file to calibrate.")],
    observed: Annotated[Path, typer.Option(help="CSV: a day or date column plus KPI columns.")],
    fit: Annotated[list[str], typer.Option(help="Key to fit and its range: referral.base_acceptance=0.1:0.5.")],
    target: Annotated[list[str] | None, typer.Option(help="KPI to match [:weight], e.g. gmv:2 (default: all).")] = None,
    period: Annotated[str | None, typer.Option(help="day, week or month (default: the observed rows').")] = None,
    stocks: Annotated[str, typer.Option(help="Non-flow KPIs per period: mean or last.")] = "mean",
    train_until: Annotated[str | None, typer.Option(help="First holdout day (run day or date).")] = None,
    trials: Annotated[int, typer.Option(help="Optuna (TPE) trials per search.", min=1)] = 50,
    searches: Annotated[int, typer.Option(help="Independent searches (seeds of their own).", min=1)] = 3,
    batch: Annotated[int, typer.Option(help="Trials evaluated together (in parallel on --workers).", min=1)] = 1,
    prune: Annotated[bool, typer.Option(help="Stop hopeless trials after their first replication.")] = True,
    uncertainty: Annotated[
        bool,
        typer.Option(
            help="Intervals, correlations, forecast bands; the estimate goes to calibrated.yaml (else the best trial)."
        ),
    ] = True,
    draws: Annotated[int, typer.Option(help="Parameter draws for the forecast bands.", min=0)] = 40,
    baseline: Annotated[
        str,
        typer.Option(help="auto, bgnbd, bgbb or none: BG/NBD or BG/BB (discrete periods) beside a transaction log."),
    ] = "auto",
    replications: Annotated[int, typer.Option(help="Runs per trial (common random numbers).", min=1)] = 3,
    workers: Annotated[int, typer.Option(help="Worker processes for the runs of a batch of trials.", min=1)] = 1,
    seed: Annotated[int | None, typer.Option(help="Master seed (default: the scenario's).", min=0)] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a key: --set market.size=5000")] = None,
    out: Annotated[Path | None, typer.Option(help="Output directory; must not exist or be empty.")] = None,
    results: ResultsRoot = Path("results"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
) -> None:
    """Fit scenario keys to observed KPI series: calibrated.yaml, fit.csv, fit.png, metrics.json."""
    from sim.calibration.cli import calibrate_command

    interruptible(calibrate_command)(
        scenario,
        observed=observed,
        fit=fit,
        target=target or [],
        period=period,
        stocks=stocks,
        train_until=train_until,
        trials=trials,
        searches=searches,
        batch=batch,
        prune=prune,
        uncertainty=uncertainty,
        draws=draws,
        baseline=baseline,
        replications=replications,
        workers=workers,
        seed=seed,
        overrides=set_ or [],
        out=out,
        results=results,
        quiet=quiet,
    )


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by `community-sim run`.")],
    format_: Annotated[str, typer.Option("--format", help="transactions or rfm.")] = "transactions",
    unit: Annotated[str, typer.Option(help="RFM time unit: day or week.")] = "day",
    out: Annotated[Path | None, typer.Option(help="Output CSV file (default: DIR/export/<name>.csv).")] = None,
) -> None:
    """Export a run's purchases for CLV libraries: transactions or an RFM summary (lifetimes layout)."""
    from sim.calibration.cli import export_command

    interruptible(export_command)(run_dir, fmt=format_, unit=unit, out=out)


@app.command()
def explain(
    a: Annotated[Path, typer.Argument(help="Scenario A (the reference), YAML.")],
    b: Annotated[Path, typer.Argument(help="Scenario B (the one to explain), YAML.")],
    kpi: Annotated[str, typer.Option(help="KPIs to attribute, comma-separated: profit,members,w90.gmv.")] = (
        "profit,members,churned"
    ),
    replications: Annotated[int, typer.Option(help="Replications per coalition, same seeds for all.", min=1)] = 5,
    days: Annotated[int | None, typer.Option(help="Days to simulate (default: the scenarios').", min=1)] = None,
    group: Annotated[
        list[str] | None, typer.Option(help="A group by hand: NAME=key[,key] (repeatable; keys or key prefixes).")
    ] = None,
    groups: Annotated[Path | None, typer.Option(help="YAML of groups by hand: {NAME: [key, ...]}.")] = None,
    orders: Annotated[int, typer.Option(help="Sampled orders of the groups when there are more than 8.", min=2)] = 64,
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory; must not exist or be empty (default: RESULTS/explain/<UTC time>)."),
    ] = None,
    results: ResultsRoot = Path("results"),
    seed: MasterSeed = 20261122,
    executor: Executor = "local",
    workers: Workers = None,
    scheduler: Scheduler = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a key in both scenarios.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or sentences.")] = False,
) -> None:
    """Which changes from A to B made the difference: Shapley attribution by mechanism (attribution.csv, figures)."""
    from sim.explain.cli import explain_command

    interruptible(explain_command)(
        a, b, kpi, replications, days, out, seed, executor, workers, scheduler,
        group or [], groups, orders, set_ or [], quiet, results,
    )  # fmt: skip


@app.command()
def discover(
    sweep_dir: Annotated[
        Path, typer.Argument(help="Results directory of a finished sweep with uncertainties as factors.")
    ],
    kpi: Annotated[str, typer.Option(help="KPI column of the sweep, e.g. profit or final.members.")],
    below: Annotated[float | None, typer.Option(help="Cases: runs with the KPI below this value.")] = None,
    above: Annotated[float | None, typer.Option(help="Cases: runs with the KPI above this value.")] = None,
    worst: Annotated[float | None, typer.Option(help="Cases: the worst share of runs, e.g. 0.25.")] = None,
    method: Annotated[str, typer.Option(help="prim, or cart (needs scikit-learn).")] = "prim",
    out: Annotated[
        Path | None, typer.Option(help="Output directory; must not exist or be empty (default: DIR/discover-METHOD).")
    ] = None,
    peel_alpha: Annotated[
        float, typer.Option(help="Share of the box's runs peeled per step.", min=0.01, max=0.5)
    ] = 0.05,
    mass_min: Annotated[
        float, typer.Option(help="Smallest share of all runs a box may hold.", min=0.0, max=1.0)
    ] = 0.05,
    paste: Annotated[
        bool, typer.Option("--paste", help="Widen the chosen box again where that raises its density.")
    ] = False,
    box: Annotated[
        int | None,
        typer.Option(help="Box of the trajectory to report (default: best coverage/density trade-off).", min=0),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No sentences.")] = False,
) -> None:
    """Which factor ranges make a strategy's runs bad: PRIM boxes or a CART tree (boxes.csv, figures)."""
    from sim.discover.cli import discover_command

    interruptible(discover_command)(
        sweep_dir, kpi, below, above, worst, method, out, peel_alpha, mass_min, paste, box, quiet
    )

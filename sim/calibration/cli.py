"""``community-sim calibrate`` and ``export``: check every input, search with a progress bar, write atomically."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sim.batch.executors import make_executor
from sim.batch.seeds import replication_seeds
from sim.calibration import CalibrationError
from sim.calibration.observed import load_observed, observed_from, read_observed
from sim.calibration.params import parse_fit, parse_targets
from sim.calibration.report import calibrated_yaml, error_metrics, fit_frame, metrics_json, plot_fit
from sim.calibration.search import Problem, Trial, best, search
from sim.calibration.transactions import cohort_overrides, daily_rows, is_transaction_log, read_transactions
from sim.cli.errors import UserError
from sim.config import keypath
from sim.config.base import dir_name
from sim.config.loader import load_scenario
from sim.engine import memory
from sim.run.atomic import atomic_directory, check_destination, release, reserve_directory


def calibrate_command(scenario_path: Path, **options) -> None:
    """Calibrate; bad input of any kind becomes a ``UserError`` (exit code 2, no traceback)."""
    try:
        calibrate(scenario_path, **options)
    except CalibrationError as exc:
        raise UserError(str(exc)) from None


def export_command(run_dir: Path, *, fmt: str, unit: str, out: Path | None) -> None:
    """Export a run's transactions or RFM summary as CSV."""
    from sim.calibration.export import export_run

    try:
        path = export_run(run_dir, fmt, unit, out)
    except CalibrationError as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {path}")


def calibrate(
    scenario_path: Path,
    *,
    observed: Path,
    fit: list[str],
    target: list[str],
    period: str | None = None,
    stocks: str = "mean",
    train_until: str | None = None,
    trials: int = 50,
    replications: int = 3,
    workers: int = 1,
    seed: int | None = None,
    overrides: list[str] = (),
    out: Path | None = None,
    results: Path = Path("results"),
    quiet: bool = False,
) -> Path:
    """Fit ``fit`` so the simulated ``target`` KPIs match ``observed``; write and return the output directory."""
    if not fit:
        raise CalibrationError("give at least one --fit key.path=LOW:HIGH")
    overrides = list(overrides)
    scenario = load_scenario(scenario_path, overrides)
    master = scenario.seed if seed is None else seed
    base = scenario.model_dump(mode="json")
    params = [parse_fit(spec, base) for spec in fit]
    twice = keypath.repeated(p.path for p in params)  # paths are canonical: a repeat is the same spelling
    if twice:
        raise CalibrationError(f"{twice[0][0]} is given to --fit more than once")
    # the largest market a trial would build must fit in memory (a fitted size or degree reaches its HIGH)
    highs, net = {p.path: p.high for p in params}, scenario.market.network
    size = int(max(scenario.market.size, highs.get("market.size", 0)))
    memory.check_fits(size, max(net.mean_degree, highs.get("market.network.mean_degree", 0)), net.kind == "complete")
    tx = None
    if is_transaction_log(observed):  # a closed cohort's purchases: joins follow its first purchases
        tx = read_transactions(observed, scenario.start_date)
        daily = daily_rows(tx)
        base = cohort_overrides(daily, base, observed)
        targets = parse_targets(target or ["repeat_purchases"])
        unknown = [t.kpi for t in targets if t.kpi not in daily.columns]
        if unknown:
            raise CalibrationError(
                f"{observed} is a transaction log; it gives {', '.join(daily.columns)}, not {', '.join(unknown)}"
            )
        obs = observed_from(daily, observed, scenario.start_date, period or "week", stocks, [t.kpi for t in targets])
    else:
        targets = parse_targets(target or list(read_observed(observed, scenario.start_date).columns))
        obs = load_observed(observed, scenario.start_date, period, stocks, [t.kpi for t in targets])
    split = parse_day(train_until, scenario.start_date)
    problem = Problem(base, params, targets, obs, replication_seeds(master, replications), split)
    if out is not None:
        check_destination(out)
    out_dir = out if out is not None else default_dir(results, scenario.name, master)
    try:
        # a trial's replications run on the batch layer's executors: the same numbers whatever the workers
        with make_executor("local" if workers > 1 else "serial", workers) as ex:
            problem.executor = ex
            return _calibrate(problem, scenario, scenario_path, observed, overrides, trials, master, out_dir, quiet)
    finally:
        release(out_dir)  # a reserved default directory left empty by a failure


def _calibrate(problem, scenario, scenario_path, observed, overrides, trials, master, out_dir, quiet) -> Path:
    started = time.perf_counter()
    trials_done = run_with_progress(problem, trials, master, quiet)
    top = best(trials_done)
    fit_table = fit_frame(problem, problem.simulate(top.values))
    name = f"{scenario.name}_calibrated"[:80]
    shown = " ".join([str(scenario_path), *(f"--set {o}" for o in overrides)])
    note = [f"Input: {shown}", f"Observed: {observed}", f"Best of {len(trials_done)} trials, seed {master}."]
    meta = {"scenario": str(scenario_path), "overrides": overrides, "observed": str(observed), "seed": master}
    with atomic_directory(out_dir) as tmp:
        (tmp / "calibrated.yaml").write_text(calibrated_yaml(problem, top.values, name, note), encoding="utf-8")
        fit_table.to_csv(tmp / "fit.csv", index=False, float_format="%.10g", lineterminator="\n")
        (tmp / "metrics.json").write_text(metrics_json(problem, trials_done, top, fit_table, meta), encoding="utf-8")
        best_text = ", ".join(f"{k} = {v:.4g}" for k, v in top.values.items())
        title = f"Calibration of {scenario.name} against {observed.name}\nbest: {best_text}"
        plot_fit(fit_table, problem, tmp / "fit.png", title)
    if not quiet:
        Console().print(summary_table(problem, top, fit_table))
        Console(stderr=True).print(f"{len(trials_done)} trials in {time.perf_counter() - started:.1f} s")
    print(f"wrote {out_dir}")
    return out_dir


def parse_day(text: str | None, start: datetime.date) -> int | None:
    """``--train-until``: a run day (days before it train) or an ISO date converted with ``start_date``."""
    if text is None:
        return None
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        return (datetime.date.fromisoformat(text) - start).days
    except ValueError:
        raise CalibrationError(f"--train-until {text}: expected a run day (e.g. 90) or a date (YYYY-MM-DD)") from None


def default_dir(results: Path, name: str, seed: int) -> Path:
    """Reserve ``results/<scenario>/calibrate-<UTC time>-s<seed>`` (with a suffix if taken) and return it."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    return reserve_directory(results / dir_name(name) / f"calibrate-{stamp}-s{seed}")


def run_with_progress(problem: Problem, trials: int, seed: int, quiet: bool) -> list[Trial]:
    """The search with a rich progress bar over trials showing the best distance so far."""
    with Progress(
        TextColumn("[bold]calibrating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("trials, best distance {task.fields[best]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task("calibrate", total=trials, best="-")
        return search(problem, trials, seed, lambda t, b: bar.update(task, advance=1, best=f"{b.distance:.4f}"))


def summary_table(problem: Problem, top: Trial, fit_table) -> Table:
    """Best values, then MAPE per target in the training and holdout windows."""
    table = Table(title=f"best trial {top.number}: training distance {top.distance:.4f}")
    table.add_column("fitted key / target")
    table.add_column("value / training MAPE", justify="right")
    table.add_column("holdout MAPE", justify="right")
    for p in problem.params:
        table.add_row(p.path, f"{top.values[p.path]:.6g}", "")
    for kpi, windows in error_metrics(fit_table).items():
        cells = [windows.get(w, {}).get("mape_percent") for w in ("train", "holdout")]
        table.add_row(kpi, *("" if c is None else f"{c:.1f}%" for c in cells))
    return table

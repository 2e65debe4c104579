"""``community-sim calibrate`` and ``export``: check every input, search with a progress bar, write atomically."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sim.batch.executors import make_executor
from sim.batch.seeds import replication_seeds
from sim.calibration import CalibrationError
from sim.calibration import baseline as baselines
from sim.calibration.forecast import holdout_scores
from sim.calibration.observed import load_observed, observed_from, read_observed
from sim.calibration.params import parse_fit, parse_targets
from sim.calibration.report import calibrated_yaml, distances, error_metrics, fit_frame, metrics_json, plot_fit
from sim.calibration.search import Problem, Trial, best, search
from sim.calibration.transactions import cohort_overrides, daily_rows, is_transaction_log, read_transactions
from sim.calibration.uncertainty import Z50, Z90, derived_seeds, edge_flags, flags, laplace
from sim.cli.errors import UserError
from sim.cli.output import plain_console
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
    searches: int = 3,
    batch: int = 1,
    prune: bool = True,
    uncertainty: bool = True,
    draws: int = 40,
    baseline: str = "auto",
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
    if baseline not in BASELINES:
        raise CalibrationError(f"--baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
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
    if tx is None and baseline not in ("auto", "none"):  # before anything runs
        raise CalibrationError(f"--baseline {baseline} needs a transaction log as --observed (customer_id,date,...)")
    split = parse_day(train_until, scenario.start_date)
    problem = Problem(base, params, targets, obs, replication_seeds(master, replications), split)
    if out is not None:
        check_destination(out)
    out_dir = out if out is not None else default_dir(results, scenario.name, master)
    try:
        # a trial's replications run on the batch layer's executors: the same numbers whatever the workers
        with make_executor("local" if workers > 1 else "serial", workers) as ex:
            problem.executor = ex
            plan = Plan(trials, searches, batch, uncertainty, draws, baseline, tx, prune)
            return _calibrate(problem, plan, scenario, scenario_path, observed, overrides, master, out_dir, quiet)
    finally:
        release(out_dir)  # a reserved default directory left empty by a failure


@dataclass
class Plan:
    """How to calibrate beyond the problem itself: the searches, the uncertainty, the baseline."""

    trials: int  # per search
    searches: int
    batch: int
    uncertainty: bool
    draws: int
    baseline: str
    transactions: pd.DataFrame | None = None
    prune: bool = False  # stop hopeless trials after their first replication


def _calibrate(problem, plan, scenario, scenario_path, observed, overrides, master, out_dir, quiet) -> Path:
    started = time.perf_counter()
    runs = run_with_progress(problem, plan, master, quiet)
    trials_done = [t for search_trials in runs for t in search_trials]
    top = best(trials_done)
    post = laplace(problem, top.values, master, trials=trials_done) if plan.uncertainty else None
    # what calibrated.yaml holds: the uncertainty step's estimate (the minimum of the synthetic likelihood, read
    # off many runs with seeds of their own; its intervals and the forecast's draws are centred on it), else the
    # best search trial (the smallest distance on the R common seeds, which favours the luck of those seeds)
    written = post.estimate() if post is not None else dict(top.values)
    source = "estimate" if post is not None else "best_trial"
    at_best = problem.simulate(written)
    if post is not None and plan.draws > 0:
        points = post.draws(plan.draws, master)
        seeds = derived_seeds(master, DRAW_SEEDS, plan.draws)
        sims = problem.simulate_many(points, [[s] for s in seeds])
        predictive = {t.kpi: np.vstack([s[t.kpi] for s in sims]) for t in problem.targets}
    else:  # the simulation noise alone, at the calibrated values
        predictive = at_best
    base_fc = baseline_forecast(problem, plan)
    fit_table = fit_frame(problem, at_best, predictive, base_fc.get("repeat_purchases") if base_fc else None)
    name = f"{scenario.name}_calibrated"[:80]
    shown = " ".join([str(scenario_path), *(f"--set {o}" for o in overrides)])
    note = [
        f"Input: {shown}",
        f"Observed: {observed}",
        f"{written_from(source, len(trials_done), post)}, seed {master}.",
    ]
    meta = {"scenario": str(scenario_path), "overrides": overrides, "observed": str(observed), "seed": master}
    meta["calibrated"] = {
        "params": written,
        "source": source,
        "described": written_from(source, len(trials_done), post),
    }
    meta["searches"] = [{"best": best(r).values, "distance_train": best(r).distance} for r in runs]
    meta["uncertainty"] = uncertainty_json(post, [best(r).values for r in runs], [t.kpi for t in problem.targets])
    meta["holdout"] = holdout_scores(fit_table)
    edges = edge_flags(problem.params, written)
    if "flags" in meta["uncertainty"]:
        meta["uncertainty"]["flags"] = without_cut_intervals(meta["uncertainty"]["flags"], edges)
    every_flag = edges + meta["uncertainty"].get("flags", [])
    if post is not None:
        every_flag += best_outside_flags(post, top, len(problem.seeds))
    meta["flags"] = every_flag
    if base_fc:
        meta["baseline"] = {k: v for k, v in base_fc.items() if k != "repeat_purchases"}
    intervals = post.interval(Z90) if post is not None else {}
    with atomic_directory(out_dir) as tmp:
        yaml_text = calibrated_yaml(problem, written, name, note, intervals)
        (tmp / "calibrated.yaml").write_text(yaml_text, encoding="utf-8")
        fit_table.to_csv(tmp / "fit.csv", index=False, float_format="%.10g", lineterminator="\n")
        (tmp / "metrics.json").write_text(metrics_json(problem, trials_done, top, fit_table, meta), encoding="utf-8")
        best_text = ", ".join(f"{k} = {v:.4g}" for k, v in written.items())
        title = (
            f"Calibration of {scenario.name} against {observed.name}\ncalibrated ({SOURCE_WORDS[source]}): {best_text}"
        )
        plot_fit(
            fit_table,
            problem,
            tmp / "fit.png",
            title,
            bands_from=band_source(post, plan),
            baseline_name=base_fc["model"] if base_fc else "",
        )
    if not quiet:
        trained = distances(fit_table, problem).get("train")
        plain_console().print(summary_table(problem, top, fit_table, post, written, trained))
        for flag in every_flag:
            plain_console(stderr=True).print(f"[yellow]warning:[/yellow] {flag['message']}")
        pruned = sum(t.pruned for t in trials_done)
        plain_console(stderr=True).print(
            f"{len(trials_done)} trials ({pruned} pruned) in {time.perf_counter() - started:.1f} s"
        )
    print(f"wrote {out_dir}")
    return out_dir


#: Short names of what calibrated.yaml holds, for the figure's title and the console.
SOURCE_WORDS = {"estimate": "the estimate", "best_trial": "the best trial"}


def written_from(source: str, trials: int, post) -> str:
    """One sentence saying which values calibrated.yaml holds."""
    if source == "estimate":
        return (
            f"Values: the estimate of the uncertainty step (the minimum of the synthetic likelihood over "
            f"{post.design_points} design points with seeds of their own, around which the 90% intervals are drawn"
            f"{'; centred on the best point run' if post.recentred else ''}), not the best of the {trials} search "
            "trials (metrics.json best)"
        )
    return f"Values: the best of {trials} search trials (no uncertainty step)"


def without_cut_intervals(flags: list[dict], edges: list[dict]) -> list[dict]:
    """``flags`` without "unidentified" for a key at the edge of its range: its interval is cut by the range, not
    set by the data, so the remedy is the edge flag's (widen the range), not more data; the edge flag says so."""
    at_edge = {f["keys"][0] for f in edges}
    for f in edges:
        f["message"] += " Its interval is cut by the range, so it says nothing of how well the data pin the key down."
    return [f for f in flags if not (f["kind"] == "unidentified" and f["keys"][0] in at_edge)]


def best_outside_flags(post, top: Trial, replications: int) -> list[dict]:
    """The best search trial's values that lie outside their 90% interval: its distance was helped by the
    common seeds' luck, and calibrated.yaml holds the estimate instead."""
    out = []
    for p in post.params:
        lo, hi = post.interval(Z90)[p.path]
        value = top.values[p.path]
        if not lo <= value <= hi:
            out.append(
                {
                    "kind": "best_trial_outside_interval",
                    "keys": [p.path],
                    "message": f"the best search trial (#{top.number}) has {p.path} = {value:.4g}, outside its 90% "
                    f"interval {lo:.4g} to {hi:.4g}: its small distance owes much to the luck of the search's "
                    f"{replications} common seeds. calibrated.yaml "
                    f"holds the estimate {post.estimate()[p.path]:.4g}, inside the interval.",
                }
            )
    return out


#: Seeds of the forecast's draws: their own stream of the master seed.
DRAW_SEEDS = 0xF0CA
BASELINES = ("auto", "bgnbd", "bgbb", "none")


def band_source(post, plan: Plan) -> str:
    """What the plotted bands hold, for the legend."""
    if post is not None and plan.draws > 0:
        return f"{plan.draws} runs at parameters drawn from the fit's uncertainty"
    return "the replications at the best values (simulation noise only)"


def baseline_forecast(problem, plan: Plan) -> dict | None:
    """BG/NBD or BG/BB beside the fit when the input is a transaction log (``auto``: when lifetimes is
    installed, BG/BB when the log's periods are discrete opportunities, see ``baseline.choose_model``)."""
    if plan.baseline == "none" or plan.transactions is None:  # a named baseline without a log: refused earlier
        return None
    if not any(t.kpi == "repeat_purchases" for t in problem.targets):
        return None
    model = plan.baseline if plan.baseline != "auto" else baselines.choose_model(plan.transactions, problem)
    try:
        return baselines.forecast(model, plan.transactions, problem)
    except CalibrationError as exc:
        if plan.baseline != "auto":
            raise
        plain_console(stderr=True).print(f"no {baselines.MODELS[model]} baseline: {exc}")
        return None


def uncertainty_json(post, search_bests: list[dict[str, float]], targets: list[str] | None = None) -> dict:
    """Estimate, 50% and 90% intervals, correlations and flags for metrics.json."""
    if post is None:
        return {}
    i50, i90 = post.interval(Z50), post.interval(Z90)
    keys = [p.path for p in post.params]
    return {
        "method": "Gaussian synthetic likelihood: a quadratic response surface through design points with seeds "
        "of their own around the best-fitting trial (Laplace, plus the scatter of its minimum)",
        "design_points": post.design_points,
        "noise_runs": post.noise_runs,
        "chi2_min": round(post.chi2_min, 4),
        "chi2_at_quadratic_minimum": round(post.chi2_quadratic, 4) if post.chi2_quadratic is not None else None,
        "centred_on_best_point": post.recentred,
        "training_periods": post.periods,
        "params": {
            k: {
                "estimate": post.estimate()[k],
                "interval_50": list(i50[k]),
                "interval_90": list(i90[k]),
                "identified": not post.flat[i],
            }
            for i, k in enumerate(keys)
        },
        "correlation": {
            a: {b: round(float(post.corr[i, j]), 4) for j, b in enumerate(keys)} for i, a in enumerate(keys)
        },
        "flags": flags(post, search_bests, targets),
    }


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


def run_with_progress(problem: Problem, plan: Plan, seed: int, quiet: bool) -> list[list[Trial]]:
    """The independent searches (``plan.searches``, seeds of their own) with one rich progress bar."""
    with Progress(
        TextColumn("[bold]calibrating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("trials, best distance {task.fields[best]}"),
        TimeRemainingColumn(),
        console=plain_console(stderr=True),
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task("calibrate", total=plan.trials * plan.searches, best="-")
        runs: list[list[Trial]] = []
        for k, search_seed in enumerate(search_seeds(seed, plan.searches)):
            found = min((best(r).distance for r in runs), default=float("inf"))

            def advance(_t: Trial, b: Trial, found: float = found) -> None:
                bar.update(task, advance=1, best=f"{min(b.distance, found):.4f}")

            runs.append(
                search(problem, plan.trials, search_seed, advance, plan.batch, k * plan.trials, prune=plan.prune)
            )
        return runs


def search_seeds(master: int, n: int) -> list[int]:
    """The first search uses the master seed itself (one search = the search of earlier versions)."""
    return [master, *derived_seeds(master, 0x5EA2, n - 1)] if n > 1 else [master]


def summary_table(
    problem: Problem,
    top: Trial,
    fit_table,
    post=None,
    written: dict[str, float] | None = None,
    distance: float | None = None,
) -> Table:
    """The values written to calibrated.yaml with their 90% intervals and the best search trial's (marked when
    outside the interval); then per target the training MAPE (mean of the replications at the calibrated
    values) and the holdout MAPE of the forecast's median, as metrics.json holdout and fit.png score it.
    The title gives the training ``distance`` at the written values (metrics.json distance.train) when they are
    the estimate: the best trial's distance, beside it, is not theirs."""
    written = dict(top.values) if written is None else written
    source = "estimate" if post is not None else "best trial"
    at_written = f": training distance {distance:.4f}" if post is not None and distance is not None else ""
    title = f"calibrated.yaml holds the {source}{at_written}; best search trial {top.number}: training distance "
    table = Table(title=f"{title}{top.distance:.4f}")
    table.add_column("fitted key / target")
    table.caption = (
        f"calibrated: the {source}, written to calibrated.yaml; training MAPE (replications' mean) at those values; "
        "holdout MAPE (forecast median), as metrics.json holdout and fit.png give it"
    )
    table.add_column("calibrated / training MAPE", justify="right")
    table.add_column("90% interval / holdout MAPE", justify="right")
    if post is not None:
        table.add_column("best trial", justify="right")
    intervals = post.interval(Z90) if post is not None else {}
    for p in problem.params:
        lo_hi = intervals.get(p.path)
        row = [p.path, f"{written[p.path]:.6g}", f"{lo_hi[0]:.4g} to {lo_hi[1]:.4g}" if lo_hi else ""]
        if post is not None:
            value = top.values[p.path]
            outside = lo_hi is not None and not lo_hi[0] <= value <= lo_hi[1]
            row.append(f"{value:.6g}" + (" (outside)" if outside else ""))
        table.add_row(*row)
    held = holdout_scores(fit_table)
    for kpi, windows in error_metrics(fit_table).items():
        train = windows.get("train", {}).get("mape_percent")
        median = held.get(kpi, {}).get("simulator", {}).get("mape_percent")
        cells = ["" if train is None else f"{train:.1f}%", "" if median is None else f"{median:.1f}%"]
        table.add_row(kpi, *cells, *([""] if post is not None else []))
    return table

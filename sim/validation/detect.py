"""``community-sim warnings``: score the health warnings on a shocked ensemble and propose thresholds.

Each run of the ensemble is the scenario with its own replication seed and, drawn
from the master seed, one of four shock plans: calm (no shock), a crisis, a
competitor entry, or both, at random days and strengths. Scores and the proposal
are in ``sim.observe.detector``. Writes ``warnings.csv`` (one row per warning:
current and proposed threshold with calm share, precision, recall, F1 and median
lead), ``runs.csv`` (each run's seed, shocks and outcome) and ``proposed.yaml`` (a
``health:`` block and the default ``rules:`` with the proposed thresholds).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.batch.executors import run_in_order
from sim.batch.seeds import replication_seeds
from sim.observe.detector import WARNINGS, evaluate

SHOCK_PLANS = ("calm", "crisis", "competitor", "crisis+competitor")
#: Columns each run sends back: the outcome's and every warning's signal.
COLUMNS = ("members", *dict.fromkeys(w.column for w in WARNINGS))
_SHOCK_WORD = 0x5_40C4


def shock_plan(master_seed: int, run: int, days: int) -> tuple[str, list[dict]]:
    """The shock plan of run ``run``: its name and the events it adds (days within the run's middle)."""
    rng = np.random.default_rng([master_seed, _SHOCK_WORD, run])
    plan = SHOCK_PLANS[run % len(SHOCK_PLANS)]  # a quarter of the runs each, whatever the run count
    lo, hi = min(30, days - 1), max(min(30, days - 1) + 1, days - 60)
    events = []
    if "crisis" in plan:
        events.append(
            {
                "kind": "crisis",
                "name": "shock_crisis",
                "type": str(rng.choice(["quality_scandal", "rumour"])),
                "day": int(rng.integers(lo, hi)),
                "severity": round(float(rng.uniform(0.3, 1.0)), 3),
                "duration": int(rng.integers(7, 31)),
            }
        )
    if "competitor" in plan:
        events.append(
            {
                "kind": "competitor",
                "name": "shock_competitor",
                "day": int(rng.integers(lo, hi)),
                "churn_lift": round(float(rng.uniform(0.2, 1.0)), 3),
                "acquisition_factor": round(float(rng.uniform(0.4, 0.9)), 3),
            }
        )
    return plan, events


def _run(base: dict, job: tuple[int, int, list[dict]]) -> dict[str, np.ndarray]:
    """Worker: one shocked run; its signal columns."""
    _, seed, events = job
    from sim.config.errors import ScenarioWarning
    from sim.config.loader import scenario_from_mapping
    from sim.run.runner import simulate

    data = {**base, "seed": seed, "events": [*base.get("events", []), *events]}
    data["output"] = {**data.get("output", {}), "events": False, "plots": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        scenario = scenario_from_mapping(data, "<warnings ensemble>")
    ts = simulate(scenario, record_events=False).timeseries
    return {c: ts[c].to_numpy(dtype=np.float64) for c in COLUMNS}


def run_detector(
    base: dict,
    runs: int,
    master_seed: int,
    horizon: int,
    max_calm_share: float,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(warnings table, runs table) for the resolved scenario mapping ``base``."""
    days = int(base["days"])
    seeds = replication_seeds(master_seed, runs)
    plans = [shock_plan(master_seed, i, days) for i in range(runs)]
    jobs = [(i, seeds[i], plans[i][1]) for i in range(runs)]
    results = run_in_order(_run, base, jobs, "local" if workers > 1 else "serial", workers, None, progress)
    series = [{**results[i], "calm": plans[i][0] == "calm"} for i in range(runs)]
    table = pd.DataFrame([evaluate(w, series, base["health"], horizon, max_calm_share) for w in WARNINGS])
    run_rows = []
    for i, (plan, events) in enumerate(plans):
        members = results[i]["members"]
        run_rows.append(
            {
                "run": i,
                "seed": seeds[i],
                "plan": plan,
                "events": "; ".join(f"{e['kind']} day {e['day']}" for e in events),
                "members_end": int(members[-1]),
                "decline_days": int(np.count_nonzero(members[horizon:] < members[:-horizon])),
            }
        )
    return table, pd.DataFrame(run_rows)


#: Default rules whose condition reads a warning's signal: rule name -> the warning that sets its value.
RULE_SIGNALS = {
    "negative_sentiment_intervention": "negative_sentiment",
    "slow_growth_acquisition_push": "weak_growth",
    "low_k_more_interaction": "low_k",
    "churn_risk_retention_offer": "churn_risk",
}


def proposed_yaml(table: pd.DataFrame, base: dict) -> str:
    """A ``health:`` block with the proposed thresholds and the scenario's rules with them in place."""
    proposed = {
        r.key: float(f"{r.proposed_threshold:.4g}") for r in table.itertuples() if np.isfinite(r.proposed_threshold)
    }
    by_warning = {r.warning: proposed.get(r.key) for r in table.itertuples()}
    rules = []
    for rule in base["rules"]["rules"]:
        value = by_warning.get(RULE_SIGNALS.get(rule["name"], ""))
        rules.append({**rule, "when": {**rule["when"], "value": value}} if value is not None else rule)
    header = (
        "# Health thresholds proposed by `community-sim warnings` (see warnings.csv for their scores).\n"
        "# Paste into a scenario; rules act only with rules.enabled: true.\n"
    )
    body = {"health": proposed, "rules": {"enabled": base["rules"]["enabled"], "rules": rules}}
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def write_outputs(table: pd.DataFrame, run_table: pd.DataFrame, base: dict, out: Path) -> None:
    table.to_csv(out / "warnings.csv", index=False)
    run_table.to_csv(out / "runs.csv", index=False)
    (out / "proposed.yaml").write_text(proposed_yaml(table, base), encoding="utf-8")


def warnings_command(
    scenario_path: Path,
    runs: int,
    days: int | None,
    horizon: int,
    max_calm_share: float,
    seed: int,
    out: Path | None,
    workers: int,
    overrides: list[str],
    quiet: bool,
    results: Path = Path("results"),
) -> int:
    from rich.table import Table

    from sim.cli.errors import UserError
    from sim.cli.output import plain_console, runs_bar
    from sim.config.loader import load_scenario
    from sim.run.atomic import atomic_directory, check_destination, default_output_dir, release

    scenario = load_scenario(scenario_path, ["output.events=false", *overrides], days=days)
    if scenario.days <= horizon + 30:
        raise UserError(f"--horizon {horizon} leaves nothing to score in a {scenario.days}-day run: give more --days")
    if out is not None:
        check_destination(out)
    out = out if out is not None else default_output_dir(results, "warnings")  # reserved: a free name, now
    try:
        base = scenario.model_dump(mode="json")
        with runs_bar("shocked runs", quiet) as bar:
            task = bar.add_task("runs", total=runs)
            table, run_table = run_detector(
                base, runs, seed, horizon, max_calm_share, workers, lambda done, total: bar.update(task, completed=done)
            )
        with atomic_directory(out) as tmp:
            write_outputs(table, run_table, base, tmp)
    finally:
        release(out)  # a reserved directory left empty by a failure; nothing once the outputs are in place
    if not quiet:
        view = Table(title=f"Warnings against net member decline over the next {horizon} days ({runs} runs)")
        view.add_column("warning", no_wrap=True)
        view.add_column("now", justify="right", no_wrap=True)
        view.add_column("proposed", justify="right", no_wrap=True)
        for r in table.itertuples():
            view.add_row(
                r.warning.replace("_", " "),
                f"{r.current_threshold:.3g} {r.current_calm_share:.0%} "
                f"{r.current_precision:.2f}/{r.current_recall:.2f}",
                ("off " if r.verdict == "off" else "") + f"{r.proposed_threshold:.3g} {r.proposed_calm_share:.0%} "
                f"{r.proposed_precision:.2f}/{r.proposed_recall:.2f} "
                + (f"{r.proposed_lead_days:.0f}d" if np.isfinite(r.proposed_lead_days) else "-"),
            )
        plain_console().print(view)
        plain_console().print(
            f"base rate: {table['base_rate'].iloc[0]:.0%} of days are followed by a decline. Each cell: threshold, "
            "calm: share of the calm runs' days a warning is on; P/R: precision and recall against the decline; "
            "lead: median days from the first alert to the decline; off: the warning tells nothing here."
        )
    print(f"wrote {out}")
    return 0

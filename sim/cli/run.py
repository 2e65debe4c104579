"""``community-sim run``: load, simulate with a progress bar, write, print headline KPIs."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sim.config.loader import load_scenario
from sim.run.atomic import check_destination, default_run_dir, release

HEADLINE = (
    ("members", "members (now)", "{:,.0f}"),
    ("ever_joined", "ever joined", "{:,.0f}"),
    ("new_members", "joins (incl. rejoins)", "{:,.0f}"),
    ("churned", "churned (total)", "{:,.0f}"),
    ("dau_mau", "DAU/MAU", "{:.2f}"),
    ("repurchase_rate", "repurchase (members 2+/1+)", "{:.1%}"),
    ("referral_conversion", "referral conversion", "{:.1%}"),
    ("k_factor", "K-factor (invited, 30 d)", "{:.3f}"),
    ("k_factor_referral", "K-factor (referrals, 30 d)", "{:.3f}"),
    ("nps", "NPS proxy", "{:.0f}"),
    ("gmv", "GMV (CNY)", "{:,.0f}"),
    ("cost_total", "total cost (CNY)", "{:,.0f}"),
    ("profit", "profit (CNY)", "{:,.0f}"),
    ("roi", "ROI", "{:.2f}"),
)


def headline_table(summary: dict, title: str) -> Table:
    """Final KPIs and the 30/90/180-day windows side by side."""
    cols = [("final", summary["final"])] + [(f"day {w}", v) for w, v in summary["windows"].items()]
    table = Table(title=title)
    table.add_column("KPI")
    for name, _ in cols:
        table.add_column(name, justify="right")
    for key, label, fmt in HEADLINE:
        table.add_row(label, *(fmt.format(c[key]) if key in c else "" for _, c in cols))
    return table


def churn_score_line(book: dict | None) -> str | None:
    """One line on how well the churn-risk score ranked the members who left within 30 days of a scoring."""
    if not book or book["auc"] is None:
        return None
    return (
        f"churn-risk score: AUC {book['auc']:.3f} against leaving within {book['horizon_days']} days "
        f"({book['scorings']} scorings, {book['churned']:,} of {book['members_scored']:,} scored members left; "
        f"the model's hidden hazard: {book['hazard_auc']:.3f})"
    )


def run_command(path: Path, *, seed, days, out, overrides, results: Path, quiet: bool) -> None:
    scenario = load_scenario(path, overrides, days=days, seed=seed)
    if out is not None:
        check_destination(out)
    out_dir = out if out is not None else default_run_dir(results, scenario)  # reserved: a free name, now
    try:
        _run(scenario, out_dir, quiet)
    finally:
        release(out_dir)  # a reserved directory left empty by a failure; nothing once the run is in place


def _run(scenario, out_dir: Path, quiet: bool) -> None:
    from sim.run.runner import run_to_directory

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task(scenario.name, total=scenario.days)
        result = run_to_directory(scenario, out_dir, progress=lambda d: bar.update(task, completed=d))
    if not quiet:
        Console().print(headline_table(result.summary, f"{scenario.name}: {scenario.days} days, seed {scenario.seed}"))
        if line := churn_score_line(result.summary.get("churn_score")):
            print(line)
    print(f"wrote {out_dir}")

"""``community-sim run``: load, simulate with a progress bar, write, print headline KPIs."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from sim.cli.output import Steps, plain_console
from sim.cli.run_imports import import_for_run
from sim.config.loader import load_scenario
from sim.run.atomic import check_destination, default_run_dir, release


def headline_table(summary: dict, title: str) -> Table:
    """Final KPIs and the 30/90/180-day windows side by side (a window as long as the run is the final column)."""
    from sim.run.summary import HEADLINE, WINDOWS_NOTE, headline_columns

    cols = headline_columns(summary)
    table = Table(title=title, caption=WINDOWS_NOTE if len(cols) > 1 else None)
    table.add_column("KPI")
    for name, _ in cols:
        table.add_column(name, justify="right")
    for key, label, fmt in HEADLINE:
        table.add_row(label, *(_cell(c, key, fmt) for _, c in cols))
    return table


#: Ratios with nothing to divide: shown as "–", not as 0% ("0 of 0 invitations accepted" is no rate).
UNDEFINED_WITHOUT = {"referral_conversion": "invitations"}


def _cell(kpis: dict, key: str, fmt: str) -> str:
    if key not in kpis:
        return ""
    base = UNDEFINED_WITHOUT.get(key)
    if base is not None and not kpis.get(base):
        return "–"
    return fmt.format(kpis[key])


def incentive_table(summary: dict) -> Table | None:
    """What the incentive programs earn against the same run without them; None without the counterfactual."""
    from sim.run.counterfactual import effect_rows

    block = summary.get("incentives")
    if block is None:
        return None
    table = Table(title="incentive programs: this run minus the same run without them", show_header=False)
    for justify in ("left", "right", "left"):
        table.add_column(justify=justify)
    colour = {"good": "green", "bad": "red", "": ""}
    for label, value, note, tone in effect_rows(block, float(summary["final"]["profit"])):
        table.add_row(label, value, note, style=colour[tone] or None)
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
    import_for_run(scenario)
    from sim.run.runner import run_to_directory

    with Steps(quiet) as steps:
        steps.step(scenario.name, scenario.days, "days")
        result = run_to_directory(
            scenario,
            out_dir,
            progress=steps.advance,
            stage=lambda text, total: steps.step(f"{scenario.name}: {text}", total, "days" if total else ""),
        )
    if not quiet:
        console = plain_console()
        console.print(headline_table(result.summary, f"{scenario.name}: {scenario.days} days, seed {scenario.seed}"))
        if (incentives := incentive_table(result.summary)) is not None:
            from sim.run.counterfactual import METHOD, counted_gain, verdict

            block, profit = result.summary["incentives"], float(result.summary["final"]["profit"])
            gain = round(counted_gain(block))  # the verdict's colour: the points still owed counted
            console.print(incentives)
            style = "bold green" if gain > 0 else "bold red" if gain < 0 else "bold"
            console.print(verdict(block, profit), style=style, highlight=False, soft_wrap=True)
            console.print(METHOD, style="dim", highlight=False, soft_wrap=True)
        if line := churn_score_line(result.summary.get("churn_score")):
            print(line)
    print(f"wrote {out_dir}")

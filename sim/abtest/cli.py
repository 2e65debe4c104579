"""``community-sim abtest``: check the input, simulate the replications, write the table, figures and sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.markup import escape

from sim.abtest.analysis import recommend, table
from sim.abtest.design import AbtestError, make_design, parse_treatment, treated_scenario
from sim.abtest.plots import plot_bias, plot_power
from sim.abtest.report import sentences
from sim.abtest.runs import run_replications
from sim.cli.output import Steps, plain_console, runs_bar
from sim.config.loader import load_scenario
from sim.run.atomic import atomic_directory, check_destination, default_output_dir, release


def abtest_command(
    scenario_path: Path,
    treatment_items: list[str],
    *,
    unit: str = "member",
    share: float = 0.5,
    days: int = 56,
    warmup: int = 0,
    replications: int = 20,
    alpha: float = 0.05,
    metric: str | None = None,
    max_bias: float = 0.1,
    out: Path | None = None,
    results: Path = Path("results"),
    seed: int = 20261122,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    overrides: list[str] | None = None,
    quiet: bool = False,
) -> list[str]:
    """Run the simulated test and write ``abtest.csv``, ``power.png``, ``bias.png`` and ``summary.txt``;
    returns the sentences."""
    treatment = parse_treatment(treatment_items)
    if out is not None:
        check_destination(out)
    base = load_scenario(scenario_path, overrides or [])
    treated = treated_scenario(base, treatment)
    design = make_design(
        base,
        treatment,
        unit=unit,
        share=share,
        days=days,
        warmup=warmup,
        alpha=alpha,
        metric=metric,
        max_bias=max_bias,
    )
    out_dir = out if out is not None else default_output_dir(results, "abtest")
    try:
        with runs_bar("replications", quiet) as bar:
            task = bar.add_task("replications", total=replications)
            reps = run_replications(
                base,
                treated,
                design,
                replications,
                seed,
                executor,
                workers,
                scheduler,
                progress=lambda done, total: bar.update(task, completed=done),
            )
        with Steps(quiet) as steps, atomic_directory(out_dir) as tmp:
            steps.step("abtest: statistics")
            tab = table(reps, design)
            tab.to_csv(tmp / "abtest.csv", index=False, float_format="%.6g", lineterminator="\n")
            best = recommend(tab, design)
            ties = float(np.mean([r.ties_within for r in reps]))
            said = sentences(tab, design, treatment, best, ties)
            shown = ", ".join(f"{k}={v}" for k, v in treatment.items())
            (tmp / "summary.txt").write_text(
                f"{base.name}: {shown}, {replications} replications\n" + "".join(f"- {s}\n" for s in said),
                encoding="utf-8",
            )
            steps.step("abtest: figures")
            title = f"{base.name}, {shown}"
            plot_power(tab, design, title, tmp / "power.png")
            plot_bias(tab, design, title, tmp / "bias.png")
    finally:
        release(out_dir)  # a reserved directory left empty by a failure
    if not quiet:
        console = plain_console()
        for s in said:
            console.print(f"• {escape(s)}", highlight=False)
    print(f"wrote {out_dir}")
    return said


__all__ = ["AbtestError", "abtest_command"]

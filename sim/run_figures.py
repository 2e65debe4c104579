"""The six figures of a run directory, drawn on two processes (``sim.forked``).

The figures themselves are in ``sim.plots``; this module names them as
``"sim.plots:function"`` jobs, so the process that writes a run directory need not
import matplotlib when a forked child, preloaded with it, draws them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.forked import run_split


def write_run_plots(
    ts: pd.DataFrame,
    funnel: dict[str, int],
    cohorts: pd.DataFrame,
    out_dir: Path,
    title: str,
    *,
    markers: list[dict] | None = None,
    negative_threshold: float | None = None,
) -> list[Path]:
    """Write the six PNGs of one run into ``out_dir`` (created if missing) and return their paths.

    ``markers`` are the run's dated events (``CommunityModel.markers``: dicts with ``day``,
    ``kind`` and ``label``), marked on every time-axis figure. ``negative_threshold`` is the
    scenario's ``health.max_negative_share`` (its default when None), drawn in operations.png.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # alternate heavy and light figures, so the two halves drawn in parallel take about as long
    jobs = [
        ("sim.plots:plot_operations", (ts, title, out / "operations.png", markers, negative_threshold)),
        ("sim.plots:plot_gmv_profit", (ts, title, out / "gmv_profit.png", markers)),
        ("sim.plots:plot_members_by_source", (ts, title, out / "members_by_source.png", markers)),
        ("sim.plots:plot_dau", (ts, title, out / "dau.png", markers)),
        ("sim.plots:plot_funnel", (funnel, title, out / "funnel.png")),
        ("sim.plots:plot_cohort_retention", (cohorts, title, out / "cohort_retention.png")),
    ]
    run_split(jobs)
    missing = [str(args[2]) for _, args in jobs if not args[2].is_file()]
    if missing:
        raise RuntimeError(f"figures not written: {', '.join(missing)}")
    names = ["members_by_source", "dau", "gmv_profit", "funnel", "cohort_retention", "operations"]
    return [out / f"{name}.png" for name in names]

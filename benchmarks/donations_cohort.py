"""A real cohort: the donations data lifetimes ships, calibrated under several optimizer seeds beside BG/BB.

The data (Fader, Hardie & Shang 2010): 11,104 people who first gave to a non-profit in 1995, each
with one opportunity a year to give again, 1996-2001, published as cells (frequency, recency,
periods, weights). No download: the file is lifetimes' ``datasets/donations.csv``.

1. The cells become a per-person panel (``sim.calibration.cells.impute_panel``: the last gift in the
   recency year, the other gifts spread uniformly at random over the years before it, seeded), then
   a transaction log with one run day per year (1995 = day 0, 1996 = day 1, ...), so a person can
   give at most once per opportunity, as the model lets a person buy at most once a day.
2. ``community-sim calibrate`` fits scenarios/donations_cohort.yaml to the daily (= yearly) repeat
   gifts of 1996-1999 and holds out 2000-2001, once per optimizer seed, with BG/BB on the same split.
3. ``summary.json``, ``seeds.csv`` (one row per seed) and ``donations_fit.png`` gather the spread.

    python benchmarks/donations_cohort.py --seeds 0 1 2 3 4 --out results/donations
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration import CalibrationError
from sim.calibration.cells import donations_path, impute_panel, panel_log, read_cells
from sim.calibration.cli import calibrate
from sim.calibration.forecast import point_scores
from sim.cli.errors import UserError
from sim.run.atomic import OutputError, check_destination, write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "donations_cohort.yaml"
START = datetime.date(1995, 1, 1)
FIT = [
    "engagement.base_visit_prob=0.1:0.95",  # how many give in a year (the level)
    "churn.base_hazard=0.005:0.5:log",  # how fast the cohort thins out (the decline)
    "churn.hazard_sigma=0:3",  # how different donors are in their dropout (the decline's curvature)
]
#: Fixed keys: a visit is a chance to give (visits and gifts are not observed apart); the need to give
#: again comes back within one opportunity (cycle 0.1 day, need_weight 20 in the scenario); the spread
#: of giving (activity sigma) at 1.2, the middle of its five fits when it was the only key that could
#: bend the decline: yearly totals cannot tell who gives often from who stays long, and four training
#: years leave no room for a fourth key.
FIXED = [
    "purchase.base_prob=0.9",
    "engagement.activity_sigma=1.2",
    *(f"market.segments[{i}].purchase_cycle_days=0.1" for i in range(4)),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=Path, default=None, help="cells CSV (default: lifetimes' donations.csv)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="optimizer (master) seeds")
    parser.add_argument("--imputation-seed", type=int, default=1995)
    parser.add_argument("--train-periods", type=int, default=4, help="repeat opportunities fitted (the rest held out)")
    parser.add_argument("--trials", type=int, default=30, help="trials per search")
    parser.add_argument("--searches", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--draws", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results/donations"))
    parser.add_argument(
        "--from-runs", action="store_true", help="only redraw the table and figure from the calibrations in --out"
    )
    return parser.parse_args(argv)


def write_log(cells: pd.DataFrame, seed: int, path: Path) -> pd.DataFrame:
    """The imputed panel as a transaction log at ``path``; returns the observed repeat gifts per year."""
    panel = impute_panel(cells, seed)
    log = panel_log(panel, START)
    write_text_atomic(path, log.to_csv(index=False, lineterminator="\n"))
    return yearly(panel)


def yearly(panel: np.ndarray) -> pd.DataFrame:
    """The panel's repeat gifts per year, 1996 on."""
    return pd.DataFrame({"year": 1996 + np.arange(panel.shape[1]), "repeat_gifts": (panel == 1).sum(axis=0)})


def one_seed(log: Path, seed: int, split: int, args: argparse.Namespace, out: Path) -> dict:
    """Calibrate under master seed ``seed``; the figures of its metrics.json that the study compares."""
    started = time.perf_counter()
    calibrate(
        SCENARIO,
        observed=log,
        fit=FIT,
        target=["repeat_purchases"],
        period="day",
        train_until=str(split),
        trials=args.trials,
        searches=args.searches,
        batch=args.batch,
        draws=args.draws,
        baseline="bgbb",
        replications=args.replications,
        workers=args.workers,
        seed=seed,
        overrides=FIXED,
        out=out,
        quiet=True,
    )
    return read_seed(out, seed, round(time.perf_counter() - started, 1))


def read_seed(out: Path, seed: int, seconds: float | None) -> dict:
    """The figures of one calibration's metrics.json and fit.csv that the study compares; the holdout is
    scored for the forecast's median (as ``calibrate`` scores it) and for the mean of the replications
    at the best trial's values (``sim_mean``), with ``sim.calibration.forecast.point_scores``."""
    metrics = json.loads((out / "metrics.json").read_text())
    fit = pd.read_csv(out / "fit.csv")
    held_rows = fit[fit["window"] == "holdout"]
    at_best = point_scores(held_rows["observed"].to_numpy(float), held_rows["sim_mean"].to_numpy(float), True)
    train_rows = fit[fit["window"] == "train"]
    bgbb_train = point_scores(train_rows["observed"].to_numpy(float), train_rows["baseline"].to_numpy(float), False)
    unc = metrics["uncertainty"]
    held = metrics["holdout"]["repeat_purchases"]
    train = metrics["errors"]["repeat_purchases"]["train"]
    return {
        "seed": seed,
        "seconds": seconds,
        "best": metrics["best"]["params"],
        "distance_train": metrics["best"]["distance_train"],
        "train_mape_percent": train["mape_percent"],
        "baseline_train_mape_percent": bgbb_train["mape_percent"],
        "intervals_90": {k: v["interval_90"] for k, v in unc["params"].items()},
        "flags": [f["kind"] + ": " + f["message"] for f in unc["flags"]],
        "simulator": held["simulator"],
        "simulator_at_best": at_best,
        "baseline": held["baseline"],
        "baseline_params": metrics["baseline"]["params"],
        "series": fit[SERIES].round(3).to_dict(orient="list"),
    }


SERIES = ["period", "observed", "sim_mean", "pred_p05", "pred_p25", "pred_median", "pred_p75", "pred_p95", "baseline"]


def seed_table(rows: list[dict]) -> pd.DataFrame:
    """One row per seed: fitted values, training fit, holdout scores of the simulator and of BG/BB."""
    table = []
    for r in rows:
        sim, best, base = r["simulator"], r["simulator_at_best"], r["baseline"]
        table.append(
            {
                "seed": r["seed"],
                **{k.split(".")[-1]: v for k, v in r["best"].items()},
                "train_distance": r["distance_train"],
                "train_mape": r["train_mape_percent"],
                "sim_holdout_mape": sim["mape_percent"],
                "sim_cum_mape": sim["cumulative_mape_percent"],
                "sim_total_error": sim["total_error_percent"],
                "sim_coverage_50": sim["coverage_50"],
                "sim_coverage_90": sim["coverage_90"],
                "best_holdout_mape": best["mape_percent"],
                "best_cum_mape": best["cumulative_mape_percent"],
                "best_total_error": best["total_error_percent"],
                "bgbb_train_mape": r["baseline_train_mape_percent"],
                "bgbb_holdout_mape": base["mape_percent"],
                "bgbb_cum_mape": base["cumulative_mape_percent"],
                "bgbb_total_error": base["total_error_percent"],
                "flags": len(r["flags"]),
                "seconds": r["seconds"],
            }
        )
    return pd.DataFrame(table)


def plot(rows: list[dict], observed: pd.DataFrame, split: int, path: Path) -> None:
    """Two panels on one scale: each seed's simulation at its best values, and each seed's forecast from
    parameter draws (median, 90% band); BG/BB and the observed repeat gifts (imputed / exact) in both."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    from sim.plots import fonts

    fonts.use()
    fig = Figure(figsize=(11.0, 5.4), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2, sharey=True)
    years = observed["year"].to_numpy()
    per = np.asarray(rows[0]["series"]["period"]) >= 1  # day 0 is the first gift of 1995: no repeat gift then
    obs = observed["repeat_gifts"].to_numpy()
    titles = (
        "at each seed's best values (mean of the replications)",
        "forecast from parameter draws (median, 90% band)",
    )
    for ax, title, column in zip(axes, titles, ("sim_mean", "pred_median"), strict=True):
        ends = []
        for r in rows:
            series = {k: np.asarray(v, dtype=float)[per] for k, v in r["series"].items()}
            if column == "pred_median":
                ax.fill_between(years, series["pred_p05"], series["pred_p95"], color="#0072B2", alpha=0.07, lw=0)
            ax.plot(years, series[column], color="#0072B2", lw=1.3, alpha=0.85)
            ends.append((series[column][-1], r["seed"]))
        for y, seed in label_positions(ends, gap=120.0):
            ax.text(years[-1] + 0.08, y, f"seed {seed}", va="center", fontsize=8, color="#0072B2")
        baseline = np.asarray(rows[0]["series"]["baseline"], dtype=float)[per]
        ax.plot(years, baseline, color="#D55E00", lw=1.8, ls="--", label="BG/BB (same split)")
        ax.plot(years, obs, color="black", lw=0.8)
        ax.plot(
            years[:-1], obs[:-1], "o", color="black", mfc="white", ms=6, label="observed (split over years imputed)"
        )
        ax.plot(years[-1:], obs[-1:], "o", color="black", ms=6, label="observed (exact)")
        ax.axvline(1995.5 + split - 1, color="#555555", ls="--", lw=1)
        for label, ha in (("\u2190 training  ", "right"), ("  holdout \u2192", "left")):
            ax.text(1995.5 + split - 1, 0.98, label, transform=ax.get_xaxis_transform(), va="top", ha=ha, fontsize=9)
        ax.set_xticks(years)
        ax.set_xlim(years[0] - 0.3, years[-1] + 0.9)
        ax.set_xlabel("year (one run day per year)")
        ax.set_title(title, loc="left", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("repeat gifts per year (people)")
    axes[0].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes[0].plot([], [], color="#0072B2", lw=1.3, label="simulator, one line per optimizer seed")
    fig.suptitle(
        f"Donations cohort, 11,104 first-time donors of 1995: {len(rows)} "
        f"calibration{'s' if len(rows) != 1 else ''} beside BG/BB",
        x=0.01,
        ha="left",
        fontsize=11,
    )
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=9, frameon=False)
    fig.savefig(path)


def label_positions(ends: list[tuple[float, int]], gap: float) -> list[tuple[float, int]]:
    """Heights for line-end labels, moved apart to at least ``gap`` (bottom up, in data units)."""
    placed: list[tuple[float, int]] = []
    for y, seed in sorted(ends):
        placed.append((max(y, placed[-1][0] + gap) if placed else y, seed))
    return placed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if not args.from_runs:
            check_destination(args.out)
        cells = read_cells(args.cells or donations_path())
    except (CalibrationError, UserError, OutputError) as exc:
        print(f"error: {exc}")
        return 2
    if min(args.seeds) < 0 or len(set(args.seeds)) < len(args.seeds):
        print(f"error: --seeds must be distinct whole numbers from 0 up, got {args.seeds}")
        return 2
    if not 1 <= args.train_periods < int(cells["periods"].max()):
        print(f"error: --train-periods must be from 1 to {int(cells['periods'].max()) - 1}, got {args.train_periods}")
        return 2
    log = args.out / "donations_log.csv"
    timings: dict[int, float] = {}
    if args.from_runs:
        missing = [s for s in args.seeds if not (args.out / f"seed-{s}" / "metrics.json").is_file()]
        if missing:
            print(f"error: --from-runs: {args.out} has no finished calibration for seed(s) {missing}")
            return 2
        if (args.out / "seeds.csv").is_file():
            timings = pd.read_csv(args.out / "seeds.csv").set_index("seed")["seconds"].to_dict()
        observed = yearly(impute_panel(cells, args.imputation_seed))
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        observed = write_log(cells, args.imputation_seed, log)
    split = args.train_periods + 1  # days 0 .. train_periods train (day 0: the first gift)
    rows = []
    for seed in args.seeds:
        if args.from_runs:
            rows.append(read_seed(args.out / f"seed-{seed}", seed, timings.get(seed)))
            continue
        rows.append(one_seed(log, seed, split, args, args.out / f"seed-{seed}"))
        print(f"seed {seed}: {rows[-1]['seconds']} s, best {rows[-1]['best']}", flush=True)
    table = seed_table(rows)
    write_text_atomic(args.out / "seeds.csv", table.to_csv(index=False, float_format="%.6g", lineterminator="\n"))
    summary = {
        "observed": observed.to_dict(orient="list"),
        "split_day": split,
        "fit": FIT,
        "fixed": FIXED,
        "imputation_seed": args.imputation_seed,
        "seeds": rows,
        "spread": table.drop(columns=["seed"]).describe().loc[["mean", "std", "min", "max"]].to_dict(),
    }
    write_text_atomic(args.out / "summary.json", json.dumps(summary, indent=2, default=float) + "\n")
    plot(rows, observed, args.train_periods + 1, args.out / "donations_fit.png")
    print(table.to_string(index=False))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

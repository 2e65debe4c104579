"""``community-sim analyze``: read a sweep back and write its tables and figures.

Per KPI: the mean of each design point over replications with a confidence
interval (points.csv); Sobol or Morris indices when the design was built for
them (sobol.csv, morris.csv); paired differences between the levels of each grid
factor, which common random numbers make sharp (contrasts.csv); and PNG figures:
response curves, heatmaps of two-factor grids, index charts, ensemble comparisons.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.mathutil import t_interval
from sim.experiment.kpis import HEADLINE, column_support
from sim.experiment.store import Expected, SweepStore, combine
from sim.run.atomic import MARKER, check_replaceable, output_error, replace_directory, temp_dir, write_marker


class AnalysisError(Exception):
    """The directory or the request cannot be analysed (reported without a traceback)."""


@dataclass
class Sweep:
    """A sweep as read from its directory."""

    root: Path
    manifest: dict
    runs: pd.DataFrame
    design: pd.DataFrame  # index "point"
    raw: pd.DataFrame | None
    damaged: list[str] = field(default_factory=list)  # chunks left out of an unfinished sweep's table

    @property
    def factors(self) -> list[dict]:
        return self.manifest["factors"]

    @property
    def kind(self) -> str:
        return self.manifest["design"]["kind"]

    def ok(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] == "ok"]


@dataclass
class Report:
    out: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_not_a_file(root: Path) -> None:
    """A sweep is a directory: a file given instead (often the experiment itself) is named as such."""
    if Path(root).is_file():
        run = f"`community-sim sweep {root}`" if Path(root).suffix in (".yaml", ".yml") else "a sweep"
        raise AnalysisError(f"{root} is a file, not a sweep directory: give the --out of {run}")


def load_sweep(root: Path) -> Sweep:
    """Manifest, design and runs of the sweep in ``root`` (an unfinished sweep is read from its chunks)."""
    check_not_a_file(root)
    manifest_path = Path(root) / "manifest.json"
    if not manifest_path.is_file():
        raise AnalysisError(f"{root} is not a sweep directory (no manifest.json); give the --out of a sweep")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _damaged(manifest_path, exc) from None
    needed = ("kpis", "factors", "design", "runs_total", "experiment")  # every entry analyze reads
    lacking = [k for k in needed if k not in manifest] if isinstance(manifest, dict) else list(needed)
    if lacking and isinstance(manifest, dict) and "scenario_sha256" in manifest and "factors" not in manifest:
        raise AnalysisError(
            f"{root} is a run directory (one scenario's run), not a sweep directory: give the --out of "
            "`community-sim sweep EXPERIMENT.yaml`"
        )
    if lacking:
        raise AnalysisError(f"{manifest_path} lacks {', '.join(lacking)}: the sweep directory is damaged")
    design = _read_parquet(Path(root) / "design.parquet", required=True).set_index("point")
    raw = _read_parquet(Path(root) / "design_raw.parquet")
    raw = raw.set_index("point") if raw is not None else None
    runs = _read_parquet(Path(root) / "runs.parquet")
    damaged: list[str] = []
    if runs is None:
        if "seeds" not in manifest:
            raise AnalysisError(f"{manifest_path} lacks seeds: the sweep directory is damaged")
        try:
            store = SweepStore(Path(root), Expected(manifest["kpis"], len(design), manifest["seeds"]))
            runs = combine(store.read_rows(), design, manifest["kpis"])
        except (OSError, ValueError, KeyError) as exc:
            raise AnalysisError(f"the chunks in {Path(root) / 'chunks'} cannot be read ({_reason(exc)})") from None
        damaged = store.damaged
    missing = {"point", "replication", "status"} - set(runs.columns)
    if missing:
        raise AnalysisError(f"{Path(root) / 'runs.parquet'} lacks the columns {', '.join(sorted(missing))}")
    return Sweep(Path(root), manifest, runs, design, raw, damaged)


def _read_parquet(path: Path, required: bool = False) -> pd.DataFrame | None:
    """A table of the sweep; None when an optional one is absent; ``AnalysisError`` when it cannot be read."""
    if not path.is_file():
        if required:
            raise AnalysisError(
                f"{path} is missing: the sweep directory is incomplete; run the sweep again to resume it"
            )
        return None
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow reports a truncated or foreign file as a ValueError
        raise _damaged(path, exc) from None
    if path.name.startswith("design") and "point" not in frame.columns:
        raise AnalysisError(f"{path} has no 'point' column: it is not a sweep's design")
    return frame


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text or type(exc).__name__


def _damaged(path: Path, exc: Exception) -> AnalysisError:
    return AnalysisError(f"{path} cannot be read ({_reason(exc)}); the sweep directory is damaged")


def choose_kpis(sweep: Sweep, requested: list[str] | None) -> list[str]:
    """The KPI columns to analyse: as requested (``gmv`` means ``final.gmv``), else the experiment's finals."""
    kept = sweep.manifest["kpis"]
    if requested:
        chosen = [k if k in kept else f"final.{k}" for k in requested]
        unknown = [r for r, c in zip(requested, chosen, strict=True) if c not in kept]
        if unknown:
            raise AnalysisError(f"not in this sweep's KPI columns: {', '.join(unknown)}; kept: {', '.join(kept)}")
        return list(dict.fromkeys(chosen))
    finals = [k for k in kept if k.startswith("final.")]
    if sweep.manifest["experiment"].get("kpis"):
        return finals or kept[:4]
    return [k for k in HEADLINE if k in kept] or finals[:4]


def point_stats(sweep: Sweep, kpis: list[str], conf: float) -> pd.DataFrame:
    """One row per design point and KPI: runs, mean, sd and CI over the replications that succeeded."""
    ok = sweep.ok()
    rows = []
    for point, group in ok.groupby("point", sort=True):
        for kpi in kpis:
            mean, sd, low, high = t_interval(group[kpi].to_numpy(), conf, column_support(kpi))
            rows.append(
                {
                    "point": point,
                    "kpi": kpi,
                    "n": int(group[kpi].notna().sum()),
                    "mean": mean,
                    "sd": sd,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    stats = pd.DataFrame(rows, columns=["point", "kpi", "n", "mean", "sd", "ci_low", "ci_high"])
    return sweep.design.reset_index().merge(stats, on="point", how="right")


def contrasts(sweep: Sweep, kpis: list[str], conf: float) -> pd.DataFrame:
    """Paired differences of each factor level against the first level, run by run.

    Two runs are paired when they share the replication (hence the seed) and every
    other factor value, so the difference isolates this factor; the interval and
    p-value are a paired t-test over the pairs.
    """
    from scipy import stats

    if sweep.kind not in ("grid", "zip"):
        return pd.DataFrame()
    ok = sweep.ok()
    names = [f["name"] for f in sweep.factors]
    as_points = sweep.kind == "zip" and len(names) > 1
    rows = []
    for name in ["point"] if as_points else names:
        others = [] if as_points else [n for n in names if n != name]
        levels = list(dict.fromkeys(sweep.design.index if as_points else sweep.design[name]))
        ref = ok[ok[name] == levels[0]] if not as_points else ok[ok["point"] == levels[0]]
        for level in levels[1:]:
            cur = ok[ok[name] == level]
            pairs = cur.merge(ref, on=["replication", *others], suffixes=("", "_ref"))
            for kpi in kpis:
                diff = (pairs[kpi] - pairs[f"{kpi}_ref"]).to_numpy()
                mean, sd, low, high = t_interval(diff, conf)
                p = float(stats.ttest_1samp(diff, 0.0).pvalue) if len(diff) > 1 and sd > 0 else np.nan
                base = float(pairs[f"{kpi}_ref"].mean()) if len(pairs) else np.nan
                rows.append(
                    {
                        "factor": name,
                        "level": level,
                        "reference": levels[0],
                        "kpi": kpi,
                        "pairs": len(pairs),
                        "mean_diff": mean,
                        "ci_low": low,
                        "ci_high": high,
                        "p_value": p,
                        "reference_mean": base,
                        "relative_diff": mean / abs(base) if base else np.nan,
                    }
                )
    return pd.DataFrame(rows)


#: ``progress(step, done, total)``: the step under way and how far it is (total 0: not counted).
Progress = Callable[[str, int, int], None]


def same_columns(sweep: Sweep, kpis: list[str]) -> dict[str, str]:
    """KPI columns equal in every run to an earlier one (``final.referrals_accepted`` is ``final.new_referral``):
    each maps to the one it repeats, so it is analysed once."""
    ok = sweep.ok()
    repeats: dict[str, str] = {}
    for i, kpi in enumerate(kpis):
        for first in kpis[:i]:
            if first not in repeats and ok[kpi].equals(ok[first]):
                repeats[kpi] = first
                break
    return repeats


def analyze(
    root: Path,
    kpis: list[str] | None = None,
    out: Path | None = None,
    *,
    conf_level: float = 0.95,
    progress: Progress | None = None,
) -> Report:
    """Write the analysis of the sweep in ``root`` to ``out`` (default ``root/analysis``), replacing it whole."""
    progress = progress or (lambda step, done, total: None)
    progress("reading the sweep", 0, 0)
    sweep = load_sweep(root)
    chosen = choose_kpis(sweep, kpis)
    report = Report(Path(out) if out is not None else Path(root) / "analysis")
    repeats = same_columns(sweep, chosen) if len(sweep.ok()) else {}
    for kpi, first in repeats.items():
        report.notes.append(f"{kpi} equals {first} in every run (the same quantity): analysed once, as {first}")
    chosen = [k for k in chosen if k not in repeats]
    if Path(os.path.abspath(root)).is_relative_to(os.path.abspath(report.out)):
        raise AnalysisError(f"--out {report.out} holds the sweep itself; give a new directory for the analysis")
    check_replaceable(report.out, "analyze")  # before any work: only a directory analyze wrote is replaced
    total, ok = sweep.manifest["runs_total"], len(sweep.ok())
    if ok == 0:
        raise AnalysisError(f"{root} has no successful runs to analyse ({len(sweep.runs)} recorded, none ok)")
    for chunk in sweep.damaged:
        report.notes.append(f"{chunk}: left out; rerun the sweep to run its runs again")
    if len(sweep.runs) < total:
        report.notes.append(f"the sweep is unfinished: {len(sweep.runs)} of {total} runs; analysing what is there")
    if ok < len(sweep.runs):
        report.notes.append(f"{len(sweep.runs) - ok} failed runs are left out (status == 'failed' in runs.parquet)")
    try:
        report.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_dir(report.out.parent, report.out.name)
    except OSError as exc:
        raise output_error(f"the analysis {report.out}", exc) from exc
    try:
        try:
            _write(sweep, chosen, conf_level, tmp, report, progress)
            write_marker(tmp, "analyze")
        except OSError as exc:  # a full disk, a quota: not a bug
            raise output_error(f"the analysis {report.out}", exc) from exc
        replace_directory(tmp, report.out, "analyze")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report.files = sorted(p for p in report.out.iterdir() if p.name != MARKER)
    return report


def _write(sweep: Sweep, kpis: list[str], conf: float, folder: Path, report: Report, progress: Progress) -> None:
    """The CSV tables, then the figures, into ``folder``."""
    from sim.experiment import plots

    progress("tables", 0, 0)
    stats = point_stats(sweep, kpis, conf)
    diffs = contrasts(sweep, kpis, conf)
    indices = _indices(sweep, stats, kpis, conf, report, progress)
    tables = {"points.csv": stats, "contrasts.csv": diffs, f"{sweep.kind}.csv": indices}
    for name, frame in tables.items():
        if len(frame):
            frame.to_csv(folder / name, index=False, float_format="%.10g", lineterminator="\n")
    categorical = any(f["kind"] in plots.CATEGORICAL for f in sweep.factors) and len(diffs) > 0
    pairs = _heatmap_pairs(sweep)
    for done, kpi in enumerate(kpis):
        progress("figures", done, len(kpis))
        slug, own = _slug(kpi), stats[stats["kpi"] == kpi]
        figures = {}
        if not (categorical and len(sweep.factors) == 1):  # a single categorical factor: compare- shows it all
            figures[f"response-{slug}.png"] = plots.response_curves(sweep, kpi, conf)
        for a, b in pairs:
            name = f"heatmap-{slug}.png" if len(pairs) == 1 else f"heatmap-{slug}-{_slug(a)}-{_slug(b)}.png"
            figures[name] = plots.heatmap(sweep, own, a, b, kpi)
        if categorical:
            figures[f"compare-{slug}.png"] = plots.compare(sweep, own, diffs[diffs["kpi"] == kpi], kpi, conf)
        sub = indices[indices["kpi"] == kpi] if len(indices) else indices
        if len(sub):
            design = sweep.manifest["design"]
            figures[f"{sweep.kind}-{slug}.png"] = (
                plots.sobol_chart(sub, kpi, conf)
                if sweep.kind == "sobol"
                else plots.morris_chart(sub, kpi, conf, design["num_levels"])
            )
        for name, fig in figures.items():
            fig.savefig(folder / name)


def _indices(
    sweep: Sweep, stats: pd.DataFrame, kpis: list[str], conf: float, report: Report, progress: Progress
) -> pd.DataFrame:
    """Sobol or Morris indices per KPI on the point means; a KPI with missing points is skipped with a note."""
    from sim.experiment.sensitivity import morris_indices, sobol_indices

    if sweep.kind not in ("sobol", "morris"):
        return pd.DataFrame()
    design, tables = sweep.manifest["design"], []
    for done, kpi in enumerate(kpis):
        progress(f"{sweep.kind} indices", done, len(kpis))
        means = stats[stats["kpi"] == kpi].set_index("point")["mean"].reindex(sweep.design.index)
        if means.isna().any():
            report.notes.append(
                f"{kpi}: {int(means.isna().sum())} design points have no successful run; "
                f"{sweep.kind} indices need every point, so none are given"
            )
            continue
        if sweep.kind == "sobol":
            table = sobol_indices(
                design["problem"], means.to_numpy(), second_order=design["second_order"], conf_level=conf
            )
        else:
            x = sweep.raw[[f["name"] for f in sweep.factors]].to_numpy()
            table = morris_indices(
                design["problem"], x, means.to_numpy(), num_levels=design["num_levels"], conf_level=conf
            )
        table.insert(0, "kpi", kpi)
        tables.append(table)
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def _heatmap_pairs(sweep: Sweep) -> list[tuple[str, str]]:
    """Factor pairs of a grid design to draw as heatmaps (every pair of its first four factors)."""
    if sweep.kind != "grid":
        return []
    names = [f["name"] for f in sweep.factors][:4]
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)

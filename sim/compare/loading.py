"""Build an ensemble from finished run directories (``community-sim run`` outputs)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.compare.ensemble import Ensemble, RunRecord


class InputError(Exception):
    """A directory given to compare is not a finished run."""


def _run_dirs(path: Path) -> list[Path]:
    """A run directory, or every run directory directly inside ``path``."""
    if (path / "summary.json").exists():
        return [path]
    found = sorted(p for p in path.iterdir() if (p / "summary.json").exists()) if path.is_dir() else []
    if not found:
        if (path / "runs.parquet").exists():
            raise InputError(f"{path} is a sweep: compare its design points with `community-sim analyze {path}`")
        raise InputError(f"{path} holds no finished run (no summary.json): give run directories or YAML files")
    return found


def load_runs(paths: list[Path]) -> Ensemble:
    """Group run directories by scenario name; replications are paired by seed where seeds match."""
    by_name: dict[str, dict[int, Path]] = {}
    order: list[str] = []
    for path in paths:
        for run in _run_dirs(path):
            manifest = json.loads((run / "manifest.json").read_text())
            name, seed = manifest["scenario"]["name"], int(manifest["seed"])
            if name not in by_name:
                by_name[name] = {}
                order.append(name)
            by_name[name][seed] = run
    seed_sets = [set(v) for v in by_name.values()]
    common = sorted(set.intersection(*seed_sets)) if seed_sets else []
    if not common:
        raise InputError("the runs share no seed, so they cannot be paired: rerun them with the same --seed values")
    runs: dict[tuple[str, int], RunRecord] = {}
    scenarios: dict[str, dict] = {}
    for name in order:
        for r, seed in enumerate(common):
            d = by_name[name][seed]
            manifest = json.loads((d / "manifest.json").read_text())
            summary = json.loads((d / "summary.json").read_text())
            ts = pd.read_parquet(d / "timeseries.parquet")
            markers = _markers(d)
            runs[(name, r)] = RunRecord(name, r, seed, ts, summary, _cohorts(ts, summary), markers)
            scenarios[name] = manifest["scenario"]
    return Ensemble(order, common, runs, scenarios)


def _markers(run: Path) -> list[dict]:
    events = run / "events.parquet"
    if not events.exists():
        return []
    ev = pd.read_parquet(events, columns=["day", "kind", "label"])
    ev = ev[ev["kind"].isin(["crisis", "promotion", "competitor", "rule"])]
    return [{"day": int(r.day), "kind": str(r.kind), "label": str(r.label)} for r in ev.itertuples()]


def _cohorts(ts: pd.DataFrame, summary: dict) -> pd.DataFrame:
    """Run directories keep no population, so retention curves use the 30/90/180-day retention points."""
    ret = summary.get("retention", {})
    months = {0: 1.0, 1: ret.get("day_30"), 3: ret.get("day_90"), 6: ret.get("day_180")}
    width = max(months) + 1
    row = [months.get(m) for m in range(width)]
    return pd.DataFrame([[float("nan") if v is None else v for v in row]], columns=[f"month_{m}" for m in range(width)])

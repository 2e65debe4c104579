"""Build an ensemble from finished run directories (``community-sim run`` outputs), and name strategies.

A strategy is a resolved scenario: every setting except the seed (which tells
replications apart) and ``output`` (what was written, not what was simulated).
Runs of one scenario file with different ``--set`` values are different
strategies; when strategies share a scenario name, the settings that tell them
apart are added to it, e.g. ``smoke [acquisition.paid.daily_budget=900]``.
"""

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


#: Scenario sections that do not change what is simulated, left out of a strategy's identity.
NOT_STRATEGY = ("seed", "output")


def strategy_key(scenario: dict) -> str:
    """What identifies a strategy: the resolved scenario without its seed and output settings."""
    return json.dumps({k: v for k, v in scenario.items() if k not in NOT_STRATEGY}, sort_keys=True, default=str)


def flat(d: dict, prefix: str = "") -> dict:
    """Nested settings as ``{"a.b.c": value}``."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        out.update(flat(v, key) if isinstance(v, dict) and v else {key: v})
    return out


def differences(scenarios: list[dict], width: int = 60) -> list[str]:
    """For each scenario, ``key=value, ...`` of the settings that differ among ``scenarios``."""
    flats = [flat({k: v for k, v in s.items() if k not in NOT_STRATEGY}) for s in scenarios]
    keys = sorted({k for f in flats for k in f})
    differing = [k for k in keys if len({json.dumps(f.get(k), sort_keys=True, default=str) for f in flats}) > 1]
    texts = []
    for f in flats:
        text = ", ".join(f"{k}={f.get(k)}" for k in differing if k != "name")
        texts.append(text if len(text) <= width else text[: width - 3] + "...")
    return texts


def unique(labels: list[str]) -> list[str]:
    """``labels`` with ``(2)``, ``(3)``, ... added to repeats."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _read_json(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(_damaged(path, exc)) from None
    if not isinstance(doc, dict):
        raise InputError(f"{path} is not a run's {path.name} (not a JSON object): the run directory is damaged")
    return doc


def _damaged(path: Path, exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{path} is missing: {path.parent} is not a complete run directory; run the scenario again"
    reason = (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"{path} cannot be read ({reason}); the run directory is damaged: run the scenario again"


def _manifest(run: Path) -> tuple[dict, int, int]:
    """The scenario, seed and number of days of a run, from its manifest."""
    path = run / "manifest.json"
    manifest = _read_json(path)
    try:
        scenario, seed = manifest["scenario"], int(manifest["seed"])
        days = int(manifest.get("days", scenario["days"]))
        if not isinstance(scenario, dict) or "name" not in scenario:
            raise KeyError("scenario")
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path} lacks {exc}: the run directory is damaged") from None
    return scenario, seed, days


def load_runs(paths: list[Path]) -> Ensemble:
    """Group run directories by strategy (resolved scenario); replications are paired by seed where seeds match."""
    groups: dict[str, dict[int, Path]] = {}
    first: dict[str, dict] = {}
    horizons: dict[int, Path] = {}
    for path in paths:
        for run in _run_dirs(path):
            scenario, seed, days = _manifest(run)
            key = strategy_key(scenario)
            if key not in groups:
                groups[key], first[key] = {}, scenario
            groups[key][seed] = run
            horizons.setdefault(days, run)
    if len(horizons) > 1:
        shown = ", ".join(f"{d} days ({run})" for d, run in sorted(horizons.items()))
        raise InputError(
            f"the runs cover different horizons: {shown}; ranking them against each other would compare "
            "different periods: compare runs of the same length (run them with the same --days)"
        )
    labels = strategy_labels(list(first.values()))
    if len(labels) < 2:
        raise InputError(f"the run directories hold one strategy ({labels[0]}); compare needs 2 to 6")
    seed_sets = [set(v) for v in groups.values()]
    common = sorted(set.intersection(*seed_sets)) if seed_sets else []
    if not common:
        raise InputError("the runs share no seed, so they cannot be paired: rerun them with the same --seed values")
    runs: dict[tuple[str, int], RunRecord] = {}
    scenarios: dict[str, dict] = {}
    for label, key in zip(labels, groups, strict=True):
        for r, seed in enumerate(common):
            d = groups[key][seed]
            summary = _read_json(d / "summary.json")
            ts = _read_parquet(d / "timeseries.parquet")
            markers = _markers(d)
            runs[(label, r)] = RunRecord(label, r, seed, ts, summary, _cohorts(ts, summary), markers)
            scenarios[label] = first[key]
    return Ensemble(labels, common, runs, scenarios)


def strategy_labels(scenarios: list[dict]) -> list[str]:
    """Each strategy's scenario name, with the settings that tell it apart when names are shared."""
    names = [s["name"] for s in scenarios]
    labels = list(names)
    for name in dict.fromkeys(names):
        members = [i for i, n in enumerate(names) if n == name]
        if len(members) > 1:
            texts = differences([scenarios[i] for i in members])
            for i, text in zip(members, texts, strict=True):
                labels[i] = f"{name} [{text}]" if text else name
    return unique(labels)


def _read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, columns=columns)
    except (OSError, ValueError, KeyError) as exc:  # pyarrow reports a damaged file as a ValueError
        raise InputError(_damaged(path, exc)) from None


def _markers(run: Path) -> list[dict]:
    events = run / "events.parquet"
    if not events.exists():
        return []
    ev = _read_parquet(events, columns=["day", "kind", "label"])
    ev = ev[ev["kind"].isin(["crisis", "promotion", "competitor", "rule"])]
    return [{"day": int(r.day), "kind": str(r.kind), "label": str(r.label)} for r in ev.itertuples()]


def _cohorts(ts: pd.DataFrame, summary: dict) -> pd.DataFrame:
    """Run directories keep no population, so retention curves use the 30/90/180-day retention points."""
    ret = summary.get("retention", {})
    months = {0: 1.0, 1: ret.get("day_30"), 3: ret.get("day_90"), 6: ret.get("day_180")}
    width = max(months) + 1
    row = [months.get(m) for m in range(width)]
    return pd.DataFrame([[float("nan") if v is None else v for v in row]], columns=[f"month_{m}" for m in range(width)])

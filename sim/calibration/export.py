"""Export a run's purchases in the layouts customer-lifetime-value libraries read.

``transactions``: one row per purchase, ``customer_id,date,day,amount`` with the
person id, the ISO date (``start_date + day``), the run day and the yuan paid
after every discount (the event log's ``net``; their sum is the run's revenue).

``rfm``: one row per customer with at least one purchase, as lifetimes'
``summary_data_from_transaction_data`` and PyMC-Marketing's ``rfm_summary`` build
it: purchases are first summed per customer and time period (day, or calendar
week Monday-Sunday with ``unit="week"``); ``frequency`` = periods with a purchase
- 1 (repeat purchases), ``recency`` = periods from the first to the last purchase,
``T`` = periods from the first purchase to the run's last day, and
``monetary_value`` = mean value of the repeat periods (0 when frequency is 0).

The destination must not exist: an export never replaces a file.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.calibration import CalibrationError
from sim.run.atomic import check_new_file, check_path, write_text_new

FORMATS = ("transactions", "rfm")
UNITS = ("day", "week")


def read_run(run_dir: Path) -> tuple[pd.DataFrame, datetime.date, int]:
    """The event log, ``start_date`` and number of days of a run directory."""
    if not run_dir.is_dir():
        raise CalibrationError(f"{run_dir} is not a run directory (written by `community-sim run`)")
    events_path = run_dir / "events.parquet"
    if not events_path.is_file():
        raise CalibrationError(f"{run_dir} has no events.parquet; run the scenario with output.events: true")
    manifest = run_dir / "manifest.json"
    if manifest.is_file():
        source = manifest
        try:
            doc = json.loads(manifest.read_text(encoding="utf-8"))
            scenario, days = doc.get("scenario", {}), doc.get("days")
        except (OSError, ValueError, AttributeError) as exc:
            raise _damaged(manifest, exc) from None
    elif (run_dir / "scenario.yaml").is_file():
        source = run_dir / "scenario.yaml"
        try:
            scenario, days = yaml.safe_load(source.read_text(encoding="utf-8")), None
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise _damaged(source, exc) from None
    else:
        raise CalibrationError(f"{run_dir} has neither manifest.json nor scenario.yaml: cannot date its events")
    try:
        start = datetime.date.fromisoformat(str(scenario.get("start_date", "2026-01-01")))
        days = int(days if days is not None else scenario.get("days"))
    except (AttributeError, TypeError, ValueError) as exc:
        raise _damaged(source, exc) from None
    try:
        events = pd.read_parquet(events_path)
    except (OSError, ValueError) as exc:  # pyarrow's errors for a truncated or foreign file are ValueErrors
        raise _damaged(events_path, exc) from None
    missing = {"day", "person", "kind", "net"} - set(events.columns)
    if missing:
        raise CalibrationError(f"{events_path} lacks the columns {', '.join(sorted(missing))}: not an event log")
    return events, start, days


def _damaged(path: Path, exc: Exception) -> CalibrationError:
    """A run file that cannot be read as written by `community-sim run`."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return CalibrationError(f"{path} cannot be read ({reason}); the run directory is damaged: run the scenario again")


def transactions(events: pd.DataFrame, start: datetime.date) -> pd.DataFrame:
    """One row per purchase: customer_id, date (ISO), day, amount (yuan paid after discounts)."""
    buys = events[events["kind"] == "purchase"]
    days = buys["day"].to_numpy(dtype=np.int64)
    out = pd.DataFrame(
        {
            "customer_id": buys["person"].to_numpy(dtype=np.int64),
            "date": (pd.Timestamp(start) + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
            "day": days,
            "amount": buys["net"].to_numpy(dtype=float),
        }
    )
    return out.sort_values(["day", "customer_id"], kind="mergesort").reset_index(drop=True)


def _periods(days: np.ndarray, start: datetime.date, unit: str) -> np.ndarray:
    """Consecutive period numbers of run days: the day itself, or the calendar week (W-SUN) ordinal."""
    if unit == "day":
        return np.asarray(days, dtype=np.int64)
    dates = pd.Timestamp(start) + pd.to_timedelta(np.asarray(days), unit="D")
    return np.asarray(pd.PeriodIndex(dates, freq="W").asi8, dtype=np.int64)


def rfm(tx: pd.DataFrame, start: datetime.date, last_day: int, unit: str = "day") -> pd.DataFrame:
    """frequency, recency, T, monetary_value per customer (index customer_id), in ``unit`` periods."""
    if unit not in UNITS:
        raise CalibrationError(f"--unit must be one of {', '.join(UNITS)}, got {unit!r}")
    per = tx.assign(period=_periods(tx["day"].to_numpy(), start, unit))
    per = per.groupby(["customer_id", "period"], sort=True)["amount"].sum().reset_index()
    g = per.groupby("customer_id", sort=True)
    first, last, count = g["period"].min(), g["period"].max(), g["period"].size()
    first_value = g["amount"].first()
    end = int(_periods(np.array([last_day]), start, unit)[0])
    frequency = (count - 1).astype(float)
    repeat_total = g["amount"].sum() - first_value
    monetary = (repeat_total / frequency.where(frequency > 0)).fillna(0.0)
    out = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first).astype(float),
            "T": (end - first).astype(float),
            "monetary_value": monetary,
        }
    )
    out.index.name = "customer_id"
    return out


#: Outputs of the other commands, by a file only they write: what they are, and why they hold no event log.
OTHER_OUTPUTS = (
    ("comparison.csv", "a strategy comparison (written by `community-sim compare`)", "its runs are not kept"),
    ("runs.parquet", "a sweep (written by `community-sim sweep`)", "its runs keep KPIs only"),
    ("validation.csv", "a validation report (written by `community-sim validate`)", "its runs are not kept"),
    ("warnings.csv", "a warnings report (written by `community-sim warnings`)", "its runs are not kept"),
    ("calibrated.yaml", "a calibration (written by `community-sim calibrate`)", "its trials are not kept"),
)


def not_a_run(folder: Path) -> None:
    """Refuse another command's output, or a folder of runs, saying what to export instead."""
    if (folder / "summary.json").is_file() or (folder / "events.parquet").is_file():
        return
    for marker, what, why in OTHER_OUTPUTS:
        if (folder / marker).is_file():
            raise CalibrationError(
                f"{folder} is {what}, not a run: {why}, so there are no purchases to export; run the strategy "
                "you want with `community-sim run SCENARIO --seed N` and export that run directory"
            )
    runs = sorted(p for p in folder.iterdir() if (p / "summary.json").is_file())
    if runs:
        raise CalibrationError(
            f"{folder} holds {len(runs)} run director{'y' if len(runs) == 1 else 'ies'}, not a run itself: "
            f"export one of them, e.g. `community-sim export {runs[-1]}`"
        )
    raise CalibrationError(
        f"{folder} is not a run directory (no summary.json): give one written by `community-sim run`"
    )


def export_run(run_dir: Path, fmt: str, unit: str = "day", out: Path | None = None) -> Path:
    """Write the chosen table as CSV, atomically; returns its path (default ``run_dir/export/<name>.csv``)."""
    if fmt not in FORMATS:
        raise CalibrationError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if unit not in UNITS:
        raise CalibrationError(f"--unit must be one of {', '.join(UNITS)}, got {unit!r}")
    if not run_dir.is_dir():
        raise CalibrationError(f"{run_dir} is not a run directory (written by `community-sim run`)")
    not_a_run(run_dir)
    name = "transactions.csv" if fmt == "transactions" else "rfm.csv" if unit == "day" else "rfm_week.csv"
    path = out if out is not None else run_dir / "export" / name
    check_path(path, "output file")
    if path.is_dir() and not path.is_symlink():
        raise CalibrationError(f"--out {path} is a directory; give a file name such as {path / name}")
    check_new_file(path)  # before reading anything: an existing file is never overwritten
    events, start, days = read_run(run_dir)
    tx = transactions(events, start)
    table, index = (tx, False) if fmt == "transactions" else (rfm(tx, start, days - 1, unit), True)
    write_text_new(path, table.to_csv(index=index, float_format="%.10g", lineterminator="\n"))
    return path

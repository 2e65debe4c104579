"""Observed KPI series: read the CSV, date its rows in run days, aggregate them like the simulation.

Rows are dated by a ``day`` column (0-based run day) or a ``date`` column (ISO date,
converted with the scenario's ``start_date``). Periods: ``day``; ``week`` = 7-day
blocks from day 0 (``start_date``); ``month`` = calendar months of ``start_date + day``.
Flows (counts and money per day) are summed per period; every other KPI (stocks,
ratios, trailing windows) is averaged over the period's days, or read on its last
day with ``stocks="last"``. Observed and simulated series go through the same code;
a week or month that the observed daily rows do not cover whole is left out.
"""

from __future__ import annotations

import datetime
import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration import CalibrationError
from sim.observe.metrics import KIND, KPI_NAMES

PERIODS = ("day", "week", "month")
STOCK_RULES = ("mean", "last")


def is_flow(kpi: str) -> bool:
    """True for KPIs that count what happened on a day (summed per period), False for the rest."""
    return KIND.get(kpi) == "flow"


def check_kpi(name: str, where: str) -> str:
    """``name`` if it is a KPI column of the time series, else a did-you-mean error."""
    if name in KPI_NAMES:
        return name
    close = difflib.get_close_matches(name, KPI_NAMES, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else "; KPI names are listed in docs/metrics.md"
    raise CalibrationError(f"{where}: unknown KPI '{name}'{hint}")


# --- periods ------------------------------------------------------------------------------


def period_of(days: np.ndarray, period: str, start: datetime.date) -> np.ndarray:
    """Index of the period holding each run day (0 = the period of day 0)."""
    days = np.asarray(days, dtype=np.int64)
    if period == "day":
        return days
    if period == "week":
        return days // 7
    dates = pd.DatetimeIndex(pd.Timestamp(start) + pd.to_timedelta(days, unit="D"))
    return np.asarray((dates.year - start.year) * 12 + (dates.month - start.month), dtype=np.int64)


def period_bounds(p: int, period: str, start: datetime.date) -> tuple[int, int]:
    """First run day and end (exclusive) of period ``p``."""
    if period == "day":
        return p, p + 1
    if period == "week":
        return 7 * p, 7 * p + 7

    def first_of(k: int) -> int:
        y, m = divmod(start.month - 1 + k, 12)
        return (datetime.date(start.year + y, m + 1, 1) - start).days

    return max(first_of(p), 0), first_of(p + 1)


def aggregate(daily: pd.DataFrame, period: str, start: datetime.date, stocks: str = "mean") -> pd.DataFrame:
    """Daily KPIs (index = run day) per period: flows summed, other KPIs averaged (or last), NaN skipped."""
    groups = daily.groupby(period_of(daily.index.to_numpy(), period, start))
    out = {}
    for col in daily.columns:
        g = groups[col]
        out[col] = g.sum(min_count=1) if is_flow(col) else (g.mean() if stocks == "mean" else g.last())
    table = pd.DataFrame(out)
    table.index.name = "period"
    return table


def _complete(days: pd.Index, p: int, period: str, start: datetime.date) -> bool:
    """Whether every day of period ``p`` has an observed row (partial weeks or months are left out)."""
    first, end = period_bounds(p, period, start)
    return bool(np.isin(np.arange(first, end), days.to_numpy()).all())


def infer_granularity(days: np.ndarray, start: datetime.date) -> str:
    """``day``, ``week`` or ``month``: how far apart the observed rows are."""
    days = np.sort(np.asarray(days))
    if days.size < 2 or np.median(np.diff(days)) <= 1:
        return "day"
    gap = float(np.median(np.diff(days)))
    for period, (lo, hi) in (("week", (6, 8)), ("month", (28, 31))):
        if lo <= gap <= hi and np.unique(period_of(days, period, start)).size == days.size:
            return period
    raise CalibrationError(
        f"cannot tell whether the observed rows are daily, weekly or monthly (median gap {gap:g} days); "
        "give daily rows, one row per 7-day week or per calendar month"
    )


# --- the observed file --------------------------------------------------------------------


#: KPIs that can be below zero; every other KPI counts people or things, or is an amount or a share.
SIGNED = frozenset(
    {
        "net_growth",
        "profit",
        "cum_profit",
        "roi",
        "nps",
        "gross_margin",
        "satisfaction_mean",
        "monthly_growth",
        "activity_change",
        "interaction_growth",
    }
)
#: Larger observed values are a unit or data error (and their squares would overflow the distance).
MAX_VALUE = 1e15
#: Run days go from 0 to this (a run lasts at most 3,650 days).
LAST_DAY = 3649


def read_observed(path: Path, start: datetime.date) -> pd.DataFrame:
    """The observed CSV as floats indexed by run day; every problem is a clear ``CalibrationError``."""
    if path.is_dir():
        raise CalibrationError(f"observed file {path} is a directory; give the CSV file")
    if not path.exists():
        raise CalibrationError(f"observed file {path} does not exist")
    if not path.is_file():
        raise CalibrationError(f"observed file {path} is not a regular file; give the CSV file")
    try:
        raw = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"{path}: cannot read as CSV ({str(exc).splitlines()[0]})") from None
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    days = _days(raw, path, start)
    kpis = [c for c in raw.columns if c not in ("day", "date")]
    if not kpis:
        raise CalibrationError(f"{path}: no KPI columns besides day/date; name them as in docs/metrics.md")
    for name in kpis:
        check_kpi(name, f"{path}: column '{name}'")
    values = raw[kpis].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & raw[kpis].notna()
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        got = raw[kpis].iat[row, col]
        raise CalibrationError(f"{path}:{row + 2}: column '{kpis[col]}': {got!r} is not a number")
    _check_values(values.astype(float), path)
    first: dict[int, int] = {}
    for row, day in enumerate(days.tolist()):
        if day in first:
            raise CalibrationError(
                f"{path}:{row + 2}: day {day} appears more than once (first on line {first[day] + 2}); "
                "give one row per day"
            )
        first[day] = row
    values.index = pd.Index(days, name="day")
    return values.astype(float).sort_index()


def _check_values(values: pd.DataFrame, path: Path) -> None:
    """Every observed value finite and not absurdly large; counts and amounts not negative."""
    data = values.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        signed = np.array([c in SIGNED for c in values.columns])
        bad = ~np.isnan(data) & (~np.isfinite(data) | (np.abs(data) > MAX_VALUE) | ((data < 0) & ~signed))
    if not bad.any():
        return
    row, col = np.argwhere(bad)[0]
    value, name = data[row, col], values.columns[col]
    where = f"{path}:{row + 2}: column '{name}'"
    if not np.isfinite(value):
        raise CalibrationError(f"{where}: {value} is not a finite number")
    if abs(value) > MAX_VALUE:
        raise CalibrationError(f"{where}: {value:g} is too large (more than {MAX_VALUE:g}); check the units")
    raise CalibrationError(f"{where}: {value:g} is negative; {name} cannot be")


def _days(raw: pd.DataFrame, path: Path, start: datetime.date) -> np.ndarray:
    if "day" in raw.columns:
        day = pd.to_numeric(raw["day"], errors="coerce")
        bad = day.isna() | (day < 0) | (day > LAST_DAY) | (day != np.floor(day))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise CalibrationError(
                f"{path}:{i + 2}: day {raw['day'].iat[i]} is not a run day (an integer from 0 to {LAST_DAY})"
            )
        return day.to_numpy(dtype=np.int64)
    if "date" not in raw.columns:
        raise CalibrationError(f"{path}: needs a 'day' column (0-based run day) or a 'date' column (YYYY-MM-DD)")
    stamps = []
    for i, text in enumerate(raw["date"].tolist()):
        stamp = _iso_date(text)  # ISO 8601 only: 01/02/2026 is 1 February in one country and 2 January in another
        if stamp is None:
            raise CalibrationError(f"{path}:{i + 2}: date {text!r} is not a date (YYYY-MM-DD)")
        if stamp.tzinfo is not None:
            raise CalibrationError(f"{path}:{i + 2}: date {text!r} has a time zone; give a date (YYYY-MM-DD)")
        stamps.append(stamp.normalize())
    days = np.array([(s - pd.Timestamp(start)).days for s in stamps], dtype=np.int64)
    if (days < 0).any():
        i = int(np.flatnonzero(days < 0)[0])
        raise CalibrationError(
            f"{path}:{i + 2}: date {raw['date'].iat[i]} is before the scenario's start_date {start}; "
            "set start_date (e.g. --set start_date=YYYY-MM-DD) to the first observed day"
        )
    if (days > LAST_DAY).any():
        i = int(np.flatnonzero(days > LAST_DAY)[0])
        raise CalibrationError(
            f"{path}:{i + 2}: date {raw['date'].iat[i]} is more than {LAST_DAY} days after the scenario's "
            f"start_date {start}, beyond the longest run"
        )
    return days


@dataclass
class Observed:
    """The observed series per period, and how to bring a simulated daily series to the same shape."""

    raw: pd.DataFrame  # rows as given, index = run day
    table: pd.DataFrame  # one row per period (index), one column per KPI
    period: str
    granularity: str  # period of the rows as given: day, week or month
    start: datetime.date
    stocks: str

    @property
    def horizon(self) -> int:
        """Days to simulate so every observed period is covered."""
        if self.granularity == "day":
            return int(self.raw.index.max()) + 1
        return period_bounds(int(self.table.index.max()), self.period, self.start)[1]

    def align(self, sim: pd.DataFrame) -> pd.DataFrame:
        """The simulated daily KPIs aggregated exactly like the observed ones, on the same periods."""
        cols = list(self.table.columns)
        if self.granularity == "day":
            days = sim[cols].reindex(self.raw.index).where(self.raw[cols].notna())
            return aggregate(days, self.period, self.start, self.stocks).reindex(self.table.index)
        agg = aggregate(sim[cols].iloc[: self.horizon], self.period, self.start, self.stocks)
        return agg.reindex(self.table.index)


def load_observed(
    path: Path, start: datetime.date, period: str | None = None, stocks: str = "mean", kpis: list[str] | None = None
) -> Observed:
    """Read ``path`` and aggregate it to ``period`` (default: the rows' own spacing), keeping ``kpis``."""
    if period is not None and period not in PERIODS:
        raise CalibrationError(f"--period must be one of {', '.join(PERIODS)}, got {period!r}")
    if stocks not in STOCK_RULES:
        raise CalibrationError(f"--stocks must be one of {', '.join(STOCK_RULES)}, got {stocks!r}")
    return observed_from(read_observed(path, start), path, start, period, stocks, kpis)


def observed_from(
    raw: pd.DataFrame,
    path: Path,
    start: datetime.date,
    period: str | None = None,
    stocks: str = "mean",
    kpis: list[str] | None = None,
) -> Observed:
    """Rows ``raw`` (index = run day, one column per KPI) read from ``path``, aggregated to ``period``."""
    if kpis is not None:
        missing = [k for k in kpis if k not in raw.columns]
        if missing:
            raise CalibrationError(
                f"{path} has no column for target(s) {', '.join(missing)}; its KPI columns: {', '.join(raw.columns)}"
            )
        raw = raw[kpis]
    gran = infer_granularity(raw.index.to_numpy(), start)
    period = period or gran
    if gran != "day" and period != gran:
        raise CalibrationError(
            f"{path} holds one row per {gran}; it cannot be compared per {period} (give daily rows to regroup them)"
        )
    if gran == "day":
        table = aggregate(raw, period, start, stocks)
        table = table.loc[[p for p in table.index if _complete(raw.index, int(p), period, start)]]
        if table.empty:
            raise CalibrationError(f"{path} covers no whole {period}; give daily rows for at least one whole {period}")
    else:
        table = raw.set_axis(pd.Index(period_of(raw.index.to_numpy(), period, start), name="period"))
    if len(table) < 2:
        raise CalibrationError(
            f"{path} holds 1 {period} of observations; calibration needs at least 2 (a series, not a point)"
        )
    return Observed(raw, table, period, gran, start, stocks)


def _iso_date(text: object) -> pd.Timestamp | None:
    """``text`` as an ISO 8601 date (or date and time), or None when it is not one."""
    if not isinstance(text, str) and (text is None or pd.isna(text)):
        return None
    value = str(text).strip()
    try:
        return pd.Timestamp(datetime.date.fromisoformat(value))
    except ValueError:
        pass
    try:
        return pd.Timestamp(datetime.datetime.fromisoformat(value))
    except ValueError:
        return None

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

import csv
import datetime
import difflib
import io
import math
import re
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


#: Cells that spell out a missing or undefined number: refused, since an empty cell already means "not observed"
#: and a written-out ``nan`` is more often an export error than a choice.
NA_WORDS = frozenset({"nan", "na", "n/a", "null", "none", "nil", "#n/a", "-nan", "+nan", "<na>", "nat", "-"})


def read_rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """The header, the data rows (cells as text) and each row's line in the file; blank lines are skipped.

    Read with the ``csv`` module rather than pandas so that nothing is renamed (a repeated column is not
    ``purchases.1``, an unnamed one not ``Unnamed: 2``), nothing is read as missing but an empty cell, and
    every row keeps its true line number."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalibrationError(
            f"{path}: cannot read as CSV (not UTF-8 text: {exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue  # a blank line (or one of commas only)
            if header is None:
                header = [cell.strip() for cell in record]
                continue
            rows.append([cell.strip() for cell in record])
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise CalibrationError(f"{path}:{reader.line_num}: cannot read as CSV ({exc})") from None
    if header is None:
        raise CalibrationError(f"{path}: the file is empty; give a header line and rows")
    return header, rows, lines


def _check_header(header: list[str], path: Path) -> None:
    """One delimiter (commas), every column named, no name twice."""
    if len(header) == 1:
        for sep, name in ((";", "semicolon"), ("\t", "tab"), ("|", "vertical bar")):
            if sep in header[0]:
                raise CalibrationError(
                    f"{path}: the header {header[0]!r} looks {name}-separated ({sep!r}); "
                    "write the file with commas between columns"
                )
    for i, name in enumerate(header):
        if not name:
            raise CalibrationError(
                f"{path}: column {i + 1} of the header has no name but holds values; name it as in docs/metrics.md"
            )
        if name in header[:i]:
            raise CalibrationError(f"{path}: column '{name}' appears more than once in the header; give it once")


def read_observed(path: Path, start: datetime.date) -> pd.DataFrame:
    """The observed CSV as floats indexed by run day; every problem is a clear ``CalibrationError``.

    An empty cell is a value not observed (NaN); a written-out ``nan``, ``N/A``, ``null``... is an error."""
    if path.is_dir():
        raise CalibrationError(f"observed file {path} is a directory; give the CSV file")
    if not path.exists():
        raise CalibrationError(f"observed file {path} does not exist")
    if not path.is_file():
        raise CalibrationError(f"observed file {path} is not a regular file; give the CSV file")
    header, rows, lines = read_rows(path)
    # an unnamed column with no value in any row is a trailing comma (as spreadsheets write): left out
    empty = [i for i, name in enumerate(header) if not name and not any(i < len(r) and r[i] for r in rows)]
    if empty:
        header = [name for i, name in enumerate(header) if i not in empty]
        rows = [[c for i, c in enumerate(r) if i not in empty] for r in rows]
    _check_header(header, path)
    for row, line in zip(rows, lines, strict=True):
        if len(row) > len(header):
            raise CalibrationError(
                f"{path}:{line}: {len(row)} cells, but the header names {len(header)} columns; check the "
                "delimiters: write numbers with a decimal point and without thousands separators (1234.5)"
            )
        if len(row) < len(header):
            raise CalibrationError(
                f"{path}:{line}: {len(row)} cells, but the header names {len(header)} columns; write every "
                "comma, with the cell empty for a value not observed"
            )
    raw = pd.DataFrame([row + [""] * (len(header) - len(row)) for row in rows], columns=header, dtype=object)
    if raw.empty:
        raw = pd.DataFrame({c: pd.Series(dtype=object) for c in header})
    days = _days(raw, path, start, lines)
    kpis = [c for c in raw.columns if c not in ("day", "date")]
    if not kpis:
        raise CalibrationError(f"{path}: no KPI columns besides day/date; name them as in docs/metrics.md")
    for name in kpis:
        check_kpi(name, f"{path}: column '{name}'")
    values = pd.DataFrame(index=raw.index)
    for col in kpis:
        values[col] = [_cell(text, path, line, col) for text, line in zip(raw[col], lines, strict=True)]
    _check_values(values.astype(float), path, lines)
    first: dict[int, int] = {}
    for row, day in enumerate(days.tolist()):
        if day in first:
            raise CalibrationError(
                f"{path}:{lines[row]}: day {day} appears more than once (first on line {lines[first[day]]}); "
                "give one row per day"
            )
        first[day] = row
    values.index = pd.Index(days, name="day")
    return values.astype(float).sort_index()


def _cell(text: str, path: Path, line: int, col: str) -> float:
    """One KPI cell as a float: empty is NaN (not observed); a written-out NaN or a non-number is an error."""
    if text == "":
        return math.nan
    if text.lower() in NA_WORDS:
        raise CalibrationError(
            f"{path}:{line}: column '{col}': {text!r} is not a number; leave the cell empty for a value not observed"
        )
    try:
        if "_" in text:  # Python reads 1_3 as 13; a data file does not mean that
            raise ValueError(text)
        value = float(text)
    except ValueError:
        hint = "; write numbers without thousands separators (1234.5)" if "," in text or "_" in text else ""
        raise CalibrationError(f"{path}:{line}: column '{col}': {text!r} is not a number{hint}") from None
    if math.isnan(value):
        raise CalibrationError(
            f"{path}:{line}: column '{col}': {text!r} is not a number; leave the cell empty for a value not observed"
        )
    return value


def _check_values(values: pd.DataFrame, path: Path, lines: list[int]) -> None:
    """Every observed value finite and not absurdly large; counts and amounts not negative."""
    data = values.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        signed = np.array([c in SIGNED for c in values.columns])
        bad = ~np.isnan(data) & (~np.isfinite(data) | (np.abs(data) > MAX_VALUE) | ((data < 0) & ~signed))
    if not bad.any():
        return
    row, col = np.argwhere(bad)[0]
    value, name = data[row, col], values.columns[col]
    where = f"{path}:{lines[row]}: column '{name}'"
    if not np.isfinite(value):
        raise CalibrationError(f"{where}: {value} is not a finite number")
    if abs(value) > MAX_VALUE:
        raise CalibrationError(f"{where}: {value:g} is too large (more than {MAX_VALUE:g}); check the units")
    raise CalibrationError(f"{where}: {value:g} is negative; {name} cannot be")


def _days(raw: pd.DataFrame, path: Path, start: datetime.date, lines: list[int]) -> np.ndarray:
    """Each row's run day, from ``day`` or ``date``; with both, they must name the same day on every row."""
    if "day" not in raw.columns and "date" not in raw.columns:
        cased = [c for c in raw.columns if c.strip().lower() in ("day", "date")]
        hint = f"; column names are lower case: {cased[0].strip().lower()!r}, not {cased[0]!r}" if cased else ""
        raise CalibrationError(f"{path}: needs a 'day' column (0-based run day) or a 'date' column (YYYY-MM-DD){hint}")
    by_day = _by_day(raw, path, lines) if "day" in raw.columns else None
    by_date = _by_date(raw, path, start, lines) if "date" in raw.columns else None
    if by_day is not None and by_date is not None:
        differ = np.flatnonzero(by_day != by_date)
        if differ.size:
            i = int(differ[0])
            raise CalibrationError(
                f"{path}:{lines[i]}: column 'day' says day {by_day[i]} but column 'date' says "
                f"{raw['date'].iat[i]}, day {by_date[i]} from start_date {start}; give one of the two columns "
                "(or set start_date to the date of day 0)"
            )
    return by_day if by_day is not None else by_date


def _by_day(raw: pd.DataFrame, path: Path, lines: list[int]) -> np.ndarray:
    day = pd.to_numeric(raw["day"], errors="coerce")
    bad = day.isna() | (day < 0) | (day > LAST_DAY) | (day != np.floor(day))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        text = raw["day"].iat[i]
        shown = repr(text) if text == "" or pd.isna(pd.to_numeric(text, errors="coerce")) else text
        raise CalibrationError(f"{path}:{lines[i]}: day {shown} is not a run day (an integer from 0 to {LAST_DAY})")
    return day.to_numpy(dtype=np.int64)


def _by_date(raw: pd.DataFrame, path: Path, start: datetime.date, lines: list[int]) -> np.ndarray:
    stamps = []
    for i, text in enumerate(raw["date"].tolist()):
        stamp = _iso_date(text)  # ISO 8601 only: 01/02/2026 is 1 February in one country and 2 January in another
        if stamp is None:
            shown = text if re.fullmatch(r"[0-9]+", str(text)) else repr(text)
            raise CalibrationError(f"{path}:{lines[i]}: date {shown} is not a date (YYYY-MM-DD)")
        if stamp.tzinfo is not None:
            raise CalibrationError(f"{path}:{lines[i]}: date {text!r} has a time zone; give a date (YYYY-MM-DD)")
        stamps.append(stamp.normalize())
    days = np.array([(s - pd.Timestamp(start)).days for s in stamps], dtype=np.int64)
    if (days < 0).any():
        i = int(np.flatnonzero(days < 0)[0])
        raise CalibrationError(
            f"{path}:{lines[i]}: date {raw['date'].iat[i]} is before the scenario's start_date {start}; "
            "set start_date (e.g. --set start_date=YYYY-MM-DD) to the first observed day"
        )
    if (days > LAST_DAY).any():
        i = int(np.flatnonzero(days > LAST_DAY)[0])
        raise CalibrationError(
            f"{path}:{lines[i]}: date {raw['date'].iat[i]} is more than {LAST_DAY} days after the scenario's "
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
    path: Path | None = None  # the file read, for messages

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
    return Observed(raw, table, period, gran, start, stocks, path)


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

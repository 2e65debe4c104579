"""A transaction log as the observed data: one row per purchase, ``customer_id,date[,amount]``.

This is the layout ``community-sim export --format transactions`` writes and lifetimes'
``summary_data_from_transaction_data`` reads (extra columns, such as export's ``day``, are
ignored). The log is turned into daily rows of the time series' KPIs, so that it goes
through the same period aggregation as any observed file:

- ``new_cohort``: customers whose first purchase is on that day (they join the cohort then);
- ``purchases``: customers buying on that day (several orders of one customer on one day are
  one purchase, as in the model, where a person buys at most once a day);
- ``repeat_purchases``: those of them who had bought on an earlier day;
- ``revenue``: the sum of ``amount`` (when the column is there).

The customers form a closed cohort: ``cohort_overrides`` makes the scenario's only joins the
log's first purchases, each joining with their first purchase.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration import CalibrationError
from sim.calibration.observed import LAST_DAY, MAX_VALUE, _iso_date, read_rows

#: The columns a transaction log's daily rows have, in this order.
COLUMNS = ("new_cohort", "purchases", "repeat_purchases", "revenue")


def is_transaction_log(path: Path) -> bool:
    """True when the CSV's header has a ``customer_id`` column (else it is a KPI series)."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            header = fh.readline()
    except (OSError, UnicodeDecodeError):
        return False  # the KPI reader reports the problem
    return "customer_id" in [c.strip() for c in header.split(",")]


def read_transactions(path: Path, start: datetime.date) -> pd.DataFrame:
    """``customer_id, day, amount`` per purchase (amount NaN without the column); clear errors with the line."""
    header, rows, lines = read_rows(path)
    header = [c.strip() for c in header]
    if "date" not in header:
        raise CalibrationError(f"{path}: a transaction log needs the columns customer_id and date (YYYY-MM-DD)")
    if not rows:
        raise CalibrationError(f"{path}: the transaction log has no rows")
    for row, line in zip(rows, lines, strict=True):
        if len(row) > len(header) and any(row[len(header) :]):
            raise CalibrationError(f"{path}:{line}: {len(row)} cells, but the header names {len(header)} columns")
    raw = pd.DataFrame([(row + [""] * len(header))[: len(header)] for row in rows], columns=header, dtype=object)
    ids = raw["customer_id"]
    if (ids == "").any():
        line = lines[int(np.flatnonzero((ids == "").to_numpy())[0])]
        raise CalibrationError(f"{path}:{line}: column 'customer_id' is empty")
    dates = pd.to_datetime(raw["date"].map(_iso_date), errors="coerce")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise CalibrationError(f"{path}:{lines[i]}: date {raw['date'].iat[i]!r} is not a date (YYYY-MM-DD)")
    days = ((dates.dt.normalize() - pd.Timestamp(start)).dt.days).to_numpy(dtype=np.int64)
    if (days < 0).any():
        i = int(np.flatnonzero(days < 0)[0])
        raise CalibrationError(
            f"{path}:{lines[i]}: date {raw['date'].iat[i]} is before the scenario's start_date {start}; "
            f"set start_date to the log's first date (--set start_date={dates.min().date()})"
        )
    if (days > LAST_DAY).any():
        i = int(np.flatnonzero(days > LAST_DAY)[0])
        raise CalibrationError(
            f"{path}:{lines[i]}: date {raw['date'].iat[i]} is more than {LAST_DAY} days after {start}"
        )
    amount = np.full(len(raw), np.nan)
    if "amount" in raw.columns:
        amount = pd.to_numeric(raw["amount"], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(amount) | (amount < 0) | (amount > MAX_VALUE)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            text = raw["amount"].iat[i]
            shown = text if np.isfinite(amount[i]) else repr(text)  # -5 as written; '' or 'abc' quoted
            raise CalibrationError(f"{path}:{lines[i]}: column 'amount': {shown} is not an amount (a number from 0 up)")
    return pd.DataFrame({"customer_id": ids.astype(str).str.strip().to_numpy(), "day": days, "amount": amount})


def daily_rows(tx: pd.DataFrame) -> pd.DataFrame:
    """One row per run day from 0 to the log's last day: ``COLUMNS`` (revenue only with amounts)."""
    last = int(tx["day"].max())
    days = tx.groupby(["customer_id", "day"], sort=True)["amount"].sum(min_count=1).reset_index()
    first = days.groupby("customer_id")["day"].transform("min")
    index = pd.RangeIndex(last + 1, name="day")

    def per_day(rows: pd.DataFrame) -> pd.Series:
        return rows.groupby("day").size().reindex(index, fill_value=0).astype(float)

    out = pd.DataFrame(
        {
            "new_cohort": per_day(days[days["day"] == first]),
            "purchases": per_day(days),
            "repeat_purchases": per_day(days[days["day"] > first]),
        }
    )
    if days["amount"].notna().any():
        out["revenue"] = days.groupby("day")["amount"].sum().reindex(index, fill_value=0.0)
    return out


def cohort_overrides(daily: pd.DataFrame, base: dict[str, Any], path: Path) -> dict[str, Any]:
    """``base`` (a scenario as data) as the log's closed cohort: its customers join on their first purchase,
    nobody else joins (no initial members, hence no initial KOCs, and no paid, organic, win-back or store joins)."""
    joins = daily["new_cohort"].astype(int).tolist()
    size = int(base["market"]["size"])
    if sum(joins) > size:
        raise CalibrationError(
            f"{path} has {sum(joins):,} customers, more than the market's {size:,} people; "
            f"set market.size to at least that (--set market.size={sum(joins)})"
        )
    data = dict(base)
    acq = {**data["acquisition"]}
    acq["cohort"] = {"joins": joins, "first_purchase": True}
    acq["initial_members"], acq["winback_prob"] = 0, 0.0
    acq["paid"] = {**acq["paid"], "daily_budget": 0.0}
    acq["organic"] = {**acq["organic"], "p": 0.0, "q": 0.0}
    acq["offline"] = {**acq["offline"], "store_visitors_per_day": 0.0}
    data["acquisition"] = acq
    data["koc"] = {**data["koc"], "initial_count": 0}  # KOCs are drawn from the initial members: there are none
    return data

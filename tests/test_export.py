"""``community-sim export``: transactions and the RFM summary in the lifetimes layout."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration import CalibrationError
from sim.calibration.export import export_run, rfm, transactions
from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMOKE = str(ROOT / "scenarios" / "smoke.yaml")
START = datetime.date(2026, 1, 1)  # a Thursday: calendar week 1 is Thu 1 to Sun 4 January


def tiny_events() -> pd.DataFrame:
    """Customer 1 buys on days 0, 3 (twice) and 10; customer 2 on day 5; customer 3 only joins."""
    rows = [
        (0, 1, "join", 0.0, 0.0),
        (0, 1, "purchase", 12.0, 10.0),  # list value 12, paid 10 after a discount
        (1, 3, "join", 0.0, 0.0),
        (2, 1, "referral", 30.0, 30.0),  # a reward, not a purchase
        (3, 1, "purchase", 20.0, 20.0),
        (3, 1, "purchase", 5.0, 5.0),  # a second purchase the same day
        (5, 2, "purchase", 8.0, 7.0),
        (10, 1, "purchase", 30.0, 30.0),
    ]
    day, person, kind, amount, net = zip(*rows, strict=True)
    return pd.DataFrame({"day": day, "person": person, "kind": kind, "amount": amount, "net": net})


def test_transactions_are_purchases_with_net_paid_and_dates():
    tx = transactions(tiny_events(), START)
    assert list(tx.columns) == ["customer_id", "date", "day", "amount"]
    assert tx["customer_id"].tolist() == [1, 1, 1, 2, 1]
    assert tx["date"].tolist() == ["2026-01-01", "2026-01-04", "2026-01-04", "2026-01-06", "2026-01-11"]
    assert tx["amount"].tolist() == [10.0, 20.0, 5.0, 7.0, 30.0]


def test_rfm_by_day_matches_the_hand_computation():
    # last day 13. Customer 1: purchase days {0, 3, 10} (day 3 summed to 25) -> frequency 2,
    # recency 10 - 0, T 13 - 0, monetary mean(25, 30). Customer 2: one purchase day 5 -> 0, 0, 8, 0.
    table = rfm(transactions(tiny_events(), START), START, last_day=13, unit="day")
    expected = pd.DataFrame(
        {"frequency": [2.0, 0.0], "recency": [10.0, 0.0], "T": [13.0, 8.0], "monetary_value": [27.5, 0.0]},
        index=pd.Index([1, 2], name="customer_id"),
    )
    pd.testing.assert_frame_equal(table, expected, check_index_type=False)


def test_rfm_by_week_uses_calendar_weeks():
    # Weeks (Mon-Sun): A = Jan 1-4 (days 0-3), B = Jan 5-11 (days 4-10), C = Jan 12-18 (day 13).
    # Customer 1: A (10 + 20 + 5) and B (30) -> frequency 1, recency 1, T 2, monetary 30.
    # Customer 2: B only -> frequency 0, recency 0, T 1, monetary 0.
    table = rfm(transactions(tiny_events(), START), START, last_day=13, unit="week")
    assert table.loc[1].tolist() == [1.0, 1.0, 2.0, 30.0]
    assert table.loc[2].tolist() == [0.0, 0.0, 1.0, 0.0]


def test_rfm_rejects_an_unknown_unit():
    with pytest.raises(CalibrationError, match="--unit must be one of day, week"):
        rfm(transactions(tiny_events(), START), START, 13, unit="month")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "run"
    args = ["run", SMOKE, "--days", "45", "--out", str(out), "--quiet", "--set", "output.plots=false"]
    assert main(args) == 0
    return out


def test_exported_transactions_sum_to_the_runs_revenue(run_dir, capsys):
    assert main(["export", str(run_dir), "--format", "transactions"]) == 0
    tx = pd.read_csv(run_dir / "export" / "transactions.csv")
    ts = pd.read_csv(run_dir / "timeseries.csv", index_col="day")
    assert len(tx) == ts["purchases"].sum() > 0
    assert tx["amount"].sum() == pytest.approx(ts["revenue"].sum(), rel=1e-9)
    assert tx["date"].iloc[0] >= "2026-01-01" and tx["day"].max() <= 44
    assert "wrote" in capsys.readouterr().out


def test_exported_rfm_counts_every_buyer_and_purchase_day(run_dir, tmp_path):
    out = tmp_path / "rfm.csv"
    assert main(["export", str(run_dir), "--format", "rfm", "--out", str(out)]) == 0
    table = pd.read_csv(out, index_col="customer_id")
    assert list(table.columns) == ["frequency", "recency", "T", "monetary_value"]
    tx = transactions(pd.read_parquet(run_dir / "events.parquet"), START)
    assert len(table) == tx["customer_id"].nunique()
    assert (table["frequency"] + 1).sum() == len(tx.drop_duplicates(["customer_id", "day"]))
    assert ((table["recency"] <= table["T"]) & (table["T"] <= 44)).all()
    assert np.all((table["frequency"] == 0) == (table["monetary_value"] == 0))


def test_export_week_unit_writes_its_own_file(run_dir):
    path = export_run(run_dir, "rfm", unit="week")
    assert path == run_dir / "export" / "rfm_week.csv"
    table = pd.read_csv(path, index_col="customer_id")
    assert table["T"].max() <= 7  # 45 days span at most 8 calendar weeks


def test_export_errors_exit_2(tmp_path, run_dir, capsys):
    assert main(["export", str(tmp_path), "--format", "transactions"]) == 2
    assert "not a run directory (no summary.json)" in capsys.readouterr().err
    assert main(["export", str(run_dir.parent), "--format", "transactions"]) == 2
    assert f"export one of them, e.g. `community-sim export {run_dir}`" in capsys.readouterr().err
    assert main(["export", str(run_dir), "--format", "csv"]) == 2
    assert "--format must be one of transactions, rfm" in capsys.readouterr().err

"""A real cohort as published cells: the imputed panel, its transaction log, the BG/BB baseline, the script.

The donations cells ship with lifetimes (an optional extra); tests that read them skip without it.
"""

from __future__ import annotations

import datetime
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration import CalibrationError
from sim.calibration.baseline import bgbb_forecast, choose_model, opportunities_at
from sim.calibration.cells import impute_panel, panel_cells, panel_log, read_cells
from sim.calibration.observed import observed_from
from sim.calibration.transactions import daily_rows, read_transactions

ROOT = Path(__file__).resolve().parents[1]
START = datetime.date(1995, 1, 1)
KEYS = ["frequency", "recency", "periods"]


def donations() -> pd.DataFrame:
    pytest.importorskip("lifetimes")
    from sim.calibration.cells import donations_path

    return read_cells(donations_path())


def test_imputed_panel_reproduces_every_donations_cell_exactly():
    cells = donations()
    assert cells["weights"].sum() == 11_104 and len(cells) == 22
    panel = impute_panel(cells, 1995)
    assert panel.shape == (11_104, 6)
    again = panel_cells(panel).set_index(KEYS)["weights"]
    assert again.to_dict() == cells.set_index(KEYS)["weights"].to_dict()  # frequency, recency, weights per cell
    # the last year's total is exact: everyone whose last gift is in year 6 gave then, and nobody else
    assert (panel[:, 5] == 1).sum() == cells.loc[cells["recency"] == 6, "weights"].sum()
    assert (panel == 1).sum() == (cells["frequency"] * cells["weights"]).sum()
    assert np.array_equal(panel, impute_panel(cells, 1995))  # seeded
    other = impute_panel(cells, 7)
    assert not np.array_equal(panel, other)  # the years before the last are drawn
    assert panel_cells(other).set_index(KEYS)["weights"].to_dict() == again.to_dict()


def test_imputation_spreads_the_earlier_gifts_uniformly():
    cells = pd.DataFrame({"frequency": [2], "recency": [5], "periods": [6], "weights": [8000]})
    panel = impute_panel(cells, 3)
    assert (panel[:, 4] == 1).all() and (panel[:, 5] == 0).all()  # the last gift in year 5, none after
    share = (panel[:, :4] == 1).mean(axis=0)  # one other gift in years 1-4, each year a quarter of the time
    assert np.allclose(share, 0.25, atol=0.02)


def test_panel_log_has_one_date_per_opportunity_and_the_panels_gifts(tmp_path):
    panel = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 1]], dtype=np.int8)
    log = panel_log(panel, START)
    assert len(log) == 3 + 4 and log["date"].min() == "1995-01-01" and log["date"].max() == "1995-01-04"
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    daily = daily_rows(read_transactions(path, START))
    assert daily["new_cohort"].tolist() == [3, 0, 0, 0]
    assert daily["repeat_purchases"].tolist() == [0, 1, 1, 2]  # the panel's column sums, day k = opportunity k


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frequency,recency,periods\n1,1,6\n", "missing column(s) weights"),
        ("frequency,recency,periods,weights\n1,1,6,10\n1,2,6,2.5\n", ":3: column 'weights': 2.5 is not a whole"),
        ("frequency,recency,periods,weights\n1,7,6,3\n", ":2: frequency 1, recency 7, periods 6 is not a possible"),
        ("frequency,recency,periods,weights\n3,2,6,3\n", ":2: frequency 3, recency 2"),
        ("frequency,recency,periods,weights\n0,2,6,3\n", "recency 0 exactly when frequency is 0"),
        ("frequency,recency,periods,weights\n1,1,6,-1\n", "column 'weights': -1 is not a whole number"),
        ("frequency,recency,periods,weights\n", "no cells"),
    ],
)
def test_bad_cells_are_refused_naming_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "cells.csv"
    path.write_text(text)
    with pytest.raises(CalibrationError, match=str(path)) as err:
        read_cells(path)
    assert message in str(err.value)


# --- the BG/BB baseline -----------------------------------------------------------------------------


def bgbb_log(n: int, periods: int, seed: int) -> pd.DataFrame:
    """Customers joining on day 0 who, while alive, buy on each later day with their own p (BG/BB itself)."""
    rng = np.random.default_rng(seed)
    p, theta = rng.beta(1.2, 0.8, n), rng.beta(0.7, 2.5, n)
    rows = [(str(i), 0) for i in range(n)]
    for i in range(n):
        for day in range(1, periods + 1):
            if rng.random() < theta[i]:
                break
            if rng.random() < p[i]:
                rows.append((str(i), day))
    return pd.DataFrame(rows, columns=["customer_id", "day"]).assign(amount=np.nan)


def split_of(days: int, train_until: int, period: str = "day"):
    class Split:
        observed = observed_from(
            pd.DataFrame({"repeat_purchases": np.zeros(days)}, index=pd.RangeIndex(days, name="day")),
            None,
            START,
            period,
        )
        periods = observed.table.index.to_numpy()
        windows = np.where(periods < train_until, "train", "holdout")

    return Split


def test_bgbb_baseline_fits_the_training_periods_and_forecasts_the_holdout():
    pytest.importorskip("lifetimes")
    tx = bgbb_log(1500, 8, seed=4)
    split = split_of(9, 5)
    opp = opportunities_at(tx, split)
    assert (opp["n_periods"] == 4).all() and (opp["recency"] <= 4).all() and (opp["frequency"] <= opp["recency"]).all()
    fc = bgbb_forecast(tx, split)
    per_day = tx[tx["day"] > 0].groupby("day").size().reindex(range(9), fill_value=0).to_numpy()
    assert fc["repeat_purchases"][0] == 0.0 and fc["late_customers"] == 0 and fc["customers"] == 1500
    # in-sample the BG/BB expectation sums to the training purchases (maximum likelihood matches the mean)
    assert fc["repeat_purchases"][1:5].sum() == pytest.approx(per_day[1:5].sum(), rel=0.03)
    assert fc["repeat_purchases"][5:].sum() == pytest.approx(per_day[5:].sum(), rel=0.1)  # a model of this process
    assert np.all(np.diff(fc["repeat_purchases"][1:]) < 0)  # the cohort thins out
    assert set(fc["params"]) == {"alpha", "beta", "gamma", "delta"}


def test_bgbb_baseline_refuses_a_window_without_repeat_purchases():
    pytest.importorskip("lifetimes")
    tx = pd.DataFrame({"customer_id": [str(i) for i in range(50)], "day": 0, "amount": np.nan})
    with pytest.raises(CalibrationError, match="too few repeat purchases to fit BG/BB"):
        bgbb_forecast(tx, split_of(6, 4))


def test_auto_baseline_is_bgbb_for_discrete_opportunities_only():
    weekly = split_of(28, 14, "week")
    once_a_week = pd.DataFrame({"customer_id": ["a", "b", "a", "b"], "day": [0, 0, 7, 14]})
    spread = pd.DataFrame({"customer_id": ["a", "b", "a", "b"], "day": [0, 3, 7, 14]})
    assert choose_model(once_a_week, weekly) == "bgbb"
    assert choose_model(spread, weekly) == "bgnbd"
    assert choose_model(once_a_week, split_of(28, 14)) == "bgnbd"  # daily periods tell nothing: BG/NBD as before


def test_a_named_baseline_without_a_transaction_log_is_refused_before_running(tmp_path, capsys):
    from sim.cli.main import main

    csv = tmp_path / "o.csv"
    pd.DataFrame({"day": range(14), "purchases": 3.0}).to_csv(csv, index=False)
    args = ["calibrate", str(ROOT / "scenarios" / "smoke.yaml"), "--observed", str(csv), "--trials", "1", "-q"]
    assert main([*args, "--fit", "purchase.base_prob=0.01:0.1", "--baseline", "bgbb"]) == 2
    assert "--baseline bgbb needs a transaction log" in capsys.readouterr().err
    assert main([*args, "--fit", "purchase.base_prob=0.01:0.1", "--baseline", "bgnb"]) == 2
    assert "--baseline must be one of auto, bgnbd, bgbb, none" in capsys.readouterr().err


# --- the script ------------------------------------------------------------------------------------


def script():
    spec = importlib.util.spec_from_file_location("donations_cohort", ROOT / "benchmarks" / "donations_cohort.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_refuses_bad_input_before_writing_anything(tmp_path, capsys):
    run = script().main
    bad = tmp_path / "cells.csv"
    bad.write_text("frequency,recency,periods,weights\n2,1,6,5\n")
    out = tmp_path / "out"
    assert run(["--cells", str(bad), "--out", str(out)]) == 2
    assert f"{bad}:2: frequency 2, recency 1" in capsys.readouterr().out
    good = tmp_path / "good.csv"
    good.write_text("frequency,recency,periods,weights\n1,1,3,5\n0,0,3,5\n")
    assert run(["--cells", str(good), "--train-periods", "3", "--out", str(out)]) == 2
    assert "--train-periods must be from 1 to 2, got 3" in capsys.readouterr().out
    assert run(["--cells", str(good), "--seeds", "1", "1", "--out", str(out)]) == 2
    assert "--seeds must be distinct whole numbers from 0 up, got [1, 1]" in capsys.readouterr().out
    assert not out.exists()
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    assert run(["--cells", str(good), "--out", str(full)]) == 2
    assert "error:" in capsys.readouterr().out and sorted(p.name for p in full.iterdir()) == ["x"]


def test_a_correlated_pairs_message_names_each_extra_series_once():
    from sim.calibration.uncertainty import extra_data_pair

    both = extra_data_pair("engagement.base_visit_prob", "engagement.activity_sigma")
    assert both.count("visits per period (dau or visits)") == 1
    pair = extra_data_pair("churn.base_hazard", "purchase.base_prob")
    assert pair.startswith("the customers still active per period") and pair.endswith(
        ", or purchases per active customer (purchases with members or dau beside them)"
    )

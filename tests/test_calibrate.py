"""``community-sim calibrate``: observed files, fitted keys, the distance, and recovery of known parameters."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.batch.seeds import replication_seeds
from sim.calibration import CalibrationError
from sim.calibration.distance import distance, mape, nrmse
from sim.calibration.observed import aggregate, load_observed, period_bounds, period_of, read_observed
from sim.calibration.params import parse_fit, parse_targets
from sim.calibration.search import Problem
from sim.calibration.transactions import read_transactions
from sim.cli import main
from sim.config.loader import load_scenario
from sim.model import CommunityModel
from sim.run.runner import simulate

ROOT = Path(__file__).resolve().parents[1]
START = datetime.date(2026, 1, 1)
BASE = load_scenario(ROOT / "scenarios" / "smoke.yaml").model_dump(mode="json")


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


# --- observed series ------------------------------------------------------------------------


def test_weekly_aggregation_sums_flows_and_averages_or_reads_the_rest():
    daily = pd.DataFrame(
        {"purchases": np.arange(14, dtype=float), "members": 100.0 + np.arange(14)}, index=pd.RangeIndex(14)
    )
    mean = aggregate(daily, "week", START)
    assert mean["purchases"].tolist() == [21.0, 70.0]  # 0+..+6, 7+..+13
    assert mean["members"].tolist() == [103.0, 110.0]
    assert aggregate(daily, "week", START, stocks="last")["members"].tolist() == [106.0, 113.0]


def test_months_are_calendar_months_from_start_date():
    start = datetime.date(2026, 1, 20)
    assert period_of(np.array([0, 11, 12, 40]), "month", start).tolist() == [0, 0, 1, 2]
    assert period_bounds(0, "month", start) == (0, 12)  # Jan 20-31
    assert period_bounds(1, "month", start) == (12, 40)  # February 2026


def test_observed_by_date_is_converted_with_start_date(tmp_path):
    dates = pd.date_range("2026-01-01", periods=21).strftime("%Y-%m-%d")
    csv = write_csv(tmp_path / "o.csv", pd.DataFrame({"date": dates, "purchases": 1.0}))
    obs = load_observed(csv, START, "week")
    assert obs.granularity == "day" and obs.table["purchases"].tolist() == [7.0, 7.0, 7.0]
    with pytest.raises(CalibrationError, match="before the scenario's start_date 2026-01-05"):
        load_observed(csv, datetime.date(2026, 1, 5))


def test_partial_weeks_of_daily_rows_are_left_out(tmp_path):
    csv = write_csv(tmp_path / "o.csv", pd.DataFrame({"day": range(17), "gmv": 5.0}))
    obs = load_observed(csv, START, "week")
    assert obs.table.index.tolist() == [0, 1] and obs.horizon == 17


def test_weekly_rows_are_recognized_and_compared_per_week(tmp_path):
    csv = write_csv(tmp_path / "o.csv", pd.DataFrame({"day": [0, 7, 14], "purchases": [5.0, 6.0, 7.0]}))
    obs = load_observed(csv, START)
    assert (obs.granularity, obs.period, obs.horizon) == ("week", "week", 21)
    sim = pd.DataFrame({"purchases": np.ones(21)})
    assert obs.align(sim)["purchases"].tolist() == [7.0, 7.0, 7.0]
    with pytest.raises(CalibrationError, match="one row per week; it cannot be compared per day"):
        load_observed(csv, START, "day")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"day": [0, 1], "purchaces": [1, 2]}), "unknown KPI 'purchaces'; did you mean 'purchases'?"),
        (pd.DataFrame({"when": [0, 1], "gmv": [1, 2]}), "needs a 'day' column"),
        (pd.DataFrame({"day": [0, 1.5], "gmv": [1, 2]}), ":3: day 1.5 is not a run day"),
        (pd.DataFrame({"day": [0, 1], "gmv": [1, "x"]}), ":3: column 'gmv': 'x' is not a number"),
        (pd.DataFrame({"day": [0, 0], "gmv": [1, 2]}), "day 0 appears more than once"),
        (pd.DataFrame({"date": ["2026-01-01", "soon"], "gmv": [1, 2]}), "date 'soon' is not a date"),
    ],
)
def test_observed_file_errors_are_clear(tmp_path, frame, message):
    with pytest.raises(CalibrationError, match=message.replace("(", r"\(").replace("?", r"\?")):
        load_observed(write_csv(tmp_path / "o.csv", frame), START)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("day,gmv\n0,1\n1,inf\n", "o.csv:3: column 'gmv': inf is not a finite number"),
        ("day,gmv\n0,1\n1,1e308\n", "o.csv:3: column 'gmv': 1e+308 is too large"),
        ("day,members\n0,5\n1,-3\n", "o.csv:3: column 'members': -3 is negative; members cannot be"),
        ("day,gmv\n0,1\n1,2\n0,3\n", "o.csv:4: day 0 appears more than once (first on line 2)"),
        ("date,gmv\n2026-01-01,1\n2026-01-02,2\n2026-01-01,3\n", "o.csv:4: day 0 appears more than once"),
        ("day,gmv\n0,1\n1e30,2\n", "o.csv:3: day 1e30 is not a run day (an integer from 0 to 3649)"),
        ("day,gmv\n0,1\n", "o.csv holds 1 day of observations; calibration needs at least 2"),
        (
            "date,gmv\n2026-01-01T00:00:00+08:00,1\n2026-01-02T00:00:00-05:00,2\n",
            "o.csv:2: date '2026-01-01T00:00:00+08:00' has a time zone",
        ),
        # not ISO 8601: month first in one country, day first in another; refused rather than guessed
        ("date,gmv\n01/02/2026,1\n01/03/2026,2\n", "o.csv:2: date '01/02/2026' is not a date (YYYY-MM-DD)"),
        ("date,gmv\n2026,1\n2027,2\n", "o.csv:2: date 2026 is not a date (YYYY-MM-DD)"),
    ],
)
def test_observed_values_must_be_finite_counts_on_distinct_days(tmp_path, text, message):
    csv = tmp_path / "o.csv"
    csv.write_text(text, encoding="utf-8")
    with pytest.raises(CalibrationError, match=re.escape(message)):
        load_observed(csv, START)


@pytest.mark.parametrize("word", ["nan", "NaN", "N/A", "null", "NA"])
def test_a_written_out_nan_is_an_error_and_an_empty_cell_is_not_observed(tmp_path, word):
    csv = tmp_path / "o.csv"
    csv.write_text(f"day,purchases,gmv\n0,10,5\n1,{word},6\n2,11,7\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match=re.escape(f"o.csv:3: column 'purchases': '{word}' is not a number")):
        load_observed(csv, START)
    csv.write_text("day,purchases,gmv\n0,10,5\n1,,6\n2,11,7\n", encoding="utf-8")
    assert read_observed(csv, START)["purchases"].isna().tolist() == [False, True, False]


def test_line_numbers_count_blank_lines(tmp_path):
    csv = tmp_path / "o.csv"
    csv.write_text("day,purchases\n0,10\n\n\n1,12\n2,abc\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match=re.escape("o.csv:6: column 'purchases': 'abc' is not a number")):
        load_observed(csv, START)
    csv.write_text("day,purchases\n0,10\n\n1,12\n0,11\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match=re.escape("o.csv:5: day 0 appears more than once (first on line 2)")):
        load_observed(csv, START)


def test_day_and_date_must_name_the_same_day(tmp_path):
    csv = tmp_path / "o.csv"
    csv.write_text("day,date,purchases\n0,2026-01-01,10\n1,2026-01-09,12\n2,2026-01-10,11\n", encoding="utf-8")
    with pytest.raises(
        CalibrationError, match=re.escape("o.csv:3: column 'day' says day 1 but column 'date' says 2026-01-09, day 8")
    ):
        load_observed(csv, START)
    csv.write_text("day,date,purchases\n0,2026-01-01,10\n1,2026-01-02,12\n", encoding="utf-8")
    assert read_observed(csv, START).index.tolist() == [0, 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("day,purchases,purchases\n0,1,2\n1,3,4\n", "o.csv: column 'purchases' appears more than once in the header"),
        ("day;purchases\n0;1\n1;2\n", "o.csv: the header 'day;purchases' looks semicolon-separated (';'); write"),
        ("day,purchases,\n0,1,5\n1,2,6\n", "o.csv: column 3 of the header has no name but holds values"),
        ("day,purchases\n0,1\n1,2,3\n", "o.csv:3: 3 cells, but the header names 2 columns"),
        ("day,purchases,members\n0,1,5\n7,15\n", "o.csv:3: 2 cells, but the header names 3 columns; write every comma"),
        ('day,purchases\n0,"1,234"\n', "o.csv:2: column 'purchases': '1,234' is not a number; write numbers without"),
        ("day,purchases\n0,1_3\n", "o.csv:2: column 'purchases': '1_3' is not a number"),
        ("Day,Purchases\n0,1\n", "column names are lower case: 'day', not 'Day'"),
    ],
)
def test_header_problems_are_named_as_written(tmp_path, text, message):
    csv = tmp_path / "o.csv"
    csv.write_text(text, encoding="utf-8")
    with pytest.raises(CalibrationError, match=re.escape(message)):
        load_observed(csv, START)


def test_a_trailing_comma_on_every_line_is_no_column(tmp_path):
    csv = tmp_path / "o.csv"
    csv.write_text("day,purchases,\n0,10,\n1,12,\n", encoding="utf-8")
    assert read_observed(csv, START).columns.tolist() == ["purchases"]


def test_a_negative_amount_is_shown_as_written(tmp_path):
    log = tmp_path / "tx.csv"
    log.write_text("customer_id,date,amount\nA,2026-01-01,10\n\nA,2026-01-05,-5\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match=re.escape("tx.csv:4: column 'amount': -5 is not an amount")):
        read_transactions(log, START)


def test_an_all_zero_target_names_the_file(tmp_path):
    csv = write_csv(tmp_path / "o.csv", pd.DataFrame({"day": range(14), "purchases": 0.0}))
    obs = load_observed(csv, START, "week")
    with pytest.raises(CalibrationError, match=r"o\.csv: target purchases is 0 on average in the training window"):
        Problem(BASE, [parse_fit("purchase.base_prob=0.01:0.1", BASE)], parse_targets(["purchases"]), obs, [1])


def test_a_signed_kpi_may_be_negative(tmp_path):
    csv = write_csv(tmp_path / "o.csv", pd.DataFrame({"day": [0, 1], "profit": [-5.0, 3.0], "net_growth": [-1, 2]}))
    assert load_observed(csv, START).table["profit"].tolist() == [-5.0, 3.0]


def test_observed_that_is_a_directory_is_named_so(tmp_path):
    with pytest.raises(CalibrationError, match="is a directory; give the CSV file"):
        load_observed(tmp_path, START)


# --- fitted keys and targets ----------------------------------------------------------------


def test_fit_parses_float_int_and_log_ranges():
    p = parse_fit("referral.base_acceptance=0.1:0.5", BASE)
    assert (p.path, p.low, p.high, p.integer, p.log) == ("referral.base_acceptance", 0.1, 0.5, False, False)
    q = parse_fit("operators.headcount=1:6", BASE)
    assert q.integer and (q.low, q.high) == (1, 6)
    assert parse_fit("purchase.base_prob=0.005:0.1:log", BASE).log


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("referral.base_acceptence=0.1:0.5", "did you mean 'base_acceptance'"),
        ("market.network.kind=1:2", "is not a number, so it cannot be fitted"),
        ("purchase.base_prob=0:0.5", "0 is outside the allowed range of purchase.base_prob (> 0 and < 1)"),
        ("referral.base_acceptance=0.5:0.1", "LOW must be below HIGH"),
        ("operators.headcount=1.5:4", "this key is an integer"),
        ("referral.base_acceptance=0.1", "expected key.path=LOW:HIGH"),
        ("koc.initial_count=1:5000", "exceeds acquisition.initial_members"),
        ("seed=1:100", "seed=1:100: seed is a setting of the run, not a parameter of the model (the seed draws"),
        ("days=10:20", "days=10:20: days is a setting of the run, not a parameter of the model (the days simulated"),
        ("start_date=1:2", "start_date is a setting of the run, not a parameter of the model (start_date dates"),
        ("output.events=0:1", "output.events is a setting of the run, not a parameter of the model"),
    ],
)
def test_fit_errors_are_clear(spec, message):
    with pytest.raises(CalibrationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_fit(spec, BASE)


def test_targets_take_weights_and_suggest_names():
    assert [(t.kpi, t.weight) for t in parse_targets(["gmv:2", "members"])] == [("gmv", 2.0), ("members", 1.0)]
    with pytest.raises(CalibrationError, match="did you mean 'members'"):
        parse_targets(["membres"])
    with pytest.raises(CalibrationError, match="weight must be a positive number"):
        parse_targets(["gmv:0"])


def test_distance_is_the_weighted_normalized_rmse():
    obs = {"a": np.array([10.0, 20.0, np.nan]), "b": np.array([1.0, 3.0, 2.0])}
    sim = {"a": np.array([13.0, 16.0, 99.0]), "b": np.array([1.0, 3.0, 4.0])}
    scales = {"a": 15.0, "b": 2.0}
    # a: sqrt((9 + 16) / 2) / 15; b: sqrt(4 / 3) / 2; weights 2 and 1
    expected = 2 * np.sqrt(12.5) / 15 + np.sqrt(4 / 3) / 2
    assert distance(obs, sim, {"a": 2.0, "b": 1.0}, scales) == pytest.approx(expected)
    assert nrmse(obs["a"], sim["a"], 15.0) == pytest.approx(np.sqrt(12.5) / 15)
    assert mape(np.array([10.0, 0.0, 20.0]), np.array([11.0, 5.0, 15.0])) == pytest.approx(17.5)


# --- the command ----------------------------------------------------------------------------


def test_command_errors_exit_2(tmp_path, capsys):
    csv = write_csv(tmp_path / "o.csv", pd.DataFrame({"day": range(14), "purchases": 3.0}))
    smoke = str(ROOT / "scenarios" / "smoke.yaml")
    base = ["calibrate", smoke, "--observed", str(csv), "--trials", "1", "--replications", "1", "-q"]
    assert main([*base, "--fit", "purchase.base_prob=0.01:2"]) == 2
    assert "outside the allowed range" in capsys.readouterr().err
    assert main([*base, "--fit", "purchase.base_prob=0.01:0.1", "--target", "gmv"]) == 2
    assert "has no column for target(s) gmv" in capsys.readouterr().err
    assert main([*base, "--fit", "seed=1:100"]) == 2
    assert "seed is a setting of the run, not a parameter of the model" in capsys.readouterr().err
    assert main([*base, "--fit", "purchase.base_prob=0.01:0.1", "--train-until", "3", "--period", "week"]) == 2
    assert "leaves no whole observed week to train on" in capsys.readouterr().err
    assert not list(tmp_path.glob("results*"))


def test_the_calibrated_description_states_the_days_written(tmp_path):
    """smoke.yaml's description says 60 days; calibrated with --set days=84, calibrated.yaml runs 84 days, and
    its description says so (and names what was fitted to what) instead of repeating the input's."""
    from sim.calibration.report import calibrated_yaml

    csv = write_csv(tmp_path / "obs.csv", pd.DataFrame({"day": range(14), "purchases": 3.0}))
    base = load_scenario(ROOT / "scenarios" / "smoke.yaml", ["days=84"]).model_dump(mode="json")
    obs = load_observed(csv, START, None, "mean", ["purchases"])
    problem = Problem(base, [parse_fit("purchase.base_prob=0.01:0.1", base)], parse_targets(["purchases"]), obs, [1])
    doc = yaml.safe_load(calibrated_yaml(problem, {"purchase.base_prob": 0.05}, "smoke_calibrated", []))
    assert doc["days"] == 84
    assert "84 days" in doc["description"] and "60 days" not in doc["description"]
    assert "obs.csv" in doc["description"] and "purchase.base_prob" in doc["description"]


def test_cohort_only_scenario_is_closed_after_day_0():
    scenario = load_scenario(ROOT / "scenarios" / "cohort_only.yaml", ["market.size=3000"], days=60)
    ts = CommunityModel(scenario, record_events=False)
    ts.run()
    ts = ts.timeseries()
    assert ts["new_members"].iloc[0] == 2000 and ts["new_members"].iloc[1:].sum() == 0
    assert ts["purchases"].sum() > 0


def test_weekly_repeat_transactions_of_a_cohort_calibrate_deterministically_on_any_workers(tmp_path):
    """A cohort's weekly purchases given as one dated row per week; a run in this process and one whose
    replications run on two worker processes give the same calibrated.yaml and fit."""
    cohort = str(ROOT / "scenarios" / "cohort_only.yaml")
    small = ["--set", "market.size=2500", "--set", "acquisition.initial_members=400", "--set", "days=28"]
    truth = load_scenario(cohort, [s for s in small if s != "--set"] + ["purchase.base_prob=0.04"])
    ts = simulate(truth, record_events=False).timeseries
    weekly = ts["purchases"].groupby(ts.index // 7).sum()
    dates = [(START + datetime.timedelta(days=7 * w)).isoformat() for w in weekly.index]
    csv = write_csv(tmp_path / "weekly.csv", pd.DataFrame({"date": dates, "purchases": weekly.to_numpy()}))
    args = [
        *("calibrate", cohort, "--observed", str(csv), *small, "--fit", "purchase.base_prob=0.01:0.08"),
        *("--target", "purchases", "--trials", "4", "--replications", "2", "--quiet"),
        *("--searches", "2", "--batch", "2", "--no-uncertainty"),  # restarts and batched trials
    ]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--workers", "2", "--out", str(tmp_path / "b")]) == 0
    first = (tmp_path / "a" / "calibrated.yaml").read_text()
    assert first == (tmp_path / "b" / "calibrated.yaml").read_text()
    assert (tmp_path / "a" / "fit.csv").read_bytes() == (tmp_path / "b" / "fit.csv").read_bytes()
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["period"] == "week" and metrics["observed_rows"] == "week" and metrics["simulated_days"] == 28
    own = load_scenario(cohort, [s for s in small if s != "--set"]).purchase.base_prob
    assert metrics["trials"][0]["params"] == {"purchase.base_prob": own}  # the input's own value first
    fit = pd.read_csv(tmp_path / "a" / "fit.csv")
    assert fit["observed"].tolist() == weekly.tolist()
    assert len(metrics["trials"]) == 8 and len(metrics["searches"]) == 2
    assert (fit["pred_p05"] <= fit["pred_median"]).all() and (fit["pred_median"] <= fit["pred_p95"]).all()


# --- recovery of known parameters -----------------------------------------------------------

RECOVERY = {
    "name": "recovery",
    "days": 120,
    "seed": 7,
    "market": {"size": 5000},
    "acquisition": {"initial_members": 1000, "paid": {"daily_budget": 120}},
    "koc": {"initial_count": 5},
    "referral": {"base_invite_prob": 0.03},
    "output": {"plots": False, "incentive_counterfactual": False},
}
TRUTH = {"purchase.base_prob": 0.04, "referral.base_acceptance": 0.3}
FIT = ["purchase.base_prob=0.01:0.1", "referral.base_acceptance=0.05:0.6"]
#: Three standard deviations of each estimate. Over ten seeds at the truth, the weekly mean of
#: ``conversion`` varies by sd 0.0019 and of ``referral_conversion`` by sd 0.017 per run; each moves
#: one for one with its parameter (slopes 1.00 and 0.98). The estimate inherits the noise of the one
#: observed run plus that of the mean of R = 2 replications, sqrt(1 + 1/2) = 1.22 times the run's, and
#: the 12 training weeks of 17 add sqrt(17/12) = 1.19: sd 0.0028 and 0.025, times three.
TOLERANCE = {"purchase.base_prob": 0.008, "referral.base_acceptance": 0.075}


def test_recovers_the_parameters_that_generated_the_series(tmp_path):
    scenario_file = tmp_path / "recovery.yaml"
    scenario_file.write_text(yaml.safe_dump(RECOVERY))
    truth = load_scenario(scenario_file, [f"{k}={v}" for k, v in TRUTH.items()], seed=11)
    ts = simulate(truth, record_events=False).timeseries
    observed = write_csv(
        tmp_path / "observed.csv", ts[["conversion", "referral_conversion", "purchases"]].reset_index()
    )
    out = tmp_path / "cal"
    args = ["calibrate", str(scenario_file), "--observed", str(observed), "--period", "week", "--train-until", "84"]
    args += [a for f in FIT for a in ("--fit", f)] + ["--target", "conversion", "--target", "referral_conversion"]
    args += ["--trials", "30", "--replications", "2", "--seed", "1", "--out", str(out), "--quiet"]
    args += ["--searches", "1", "--no-uncertainty"]  # the search alone (intervals: test_calibration_uncertainty)
    assert main(args) == 0

    metrics = json.loads((out / "metrics.json").read_text())
    found = metrics["best"]["params"]
    for key, value in TRUTH.items():
        assert abs(found[key] - value) <= TOLERANCE[key], (key, found[key], value)
    assert metrics["seeds"] == replication_seeds(1, 2) and len(metrics["trials"]) == 30
    for kpi in ("conversion", "referral_conversion"):
        # weekly ratios of a small market are noisy: two runs at the truth (seeds 11 and 12) differ by a weekly
        # MAPE of 21% on conversion and 43% on referral_conversion; a fit is no closer than that noise allows
        assert metrics["errors"][kpi]["train"]["mape_percent"] < 65
        assert metrics["errors"][kpi]["holdout"]["periods"] == 5  # weeks 12-16; day 119 is a partial week

    fit = pd.read_csv(out / "fit.csv")
    columns = ["period", "start_day", "date", "kpi", "observed", "sim_mean", "sim_p05", "sim_p95"]
    columns += ["pred_p05", "pred_p25", "pred_median", "pred_p75", "pred_p95", "baseline", "window"]
    assert list(fit.columns) == columns
    assert (fit["sim_p05"] <= fit["sim_mean"] + 1e-12).all() and (fit["sim_mean"] <= fit["sim_p95"] + 1e-12).all()
    assert (fit["window"] == np.where(fit["period"] < 12, "train", "holdout")).all()
    assert (out / "fit.png").stat().st_size > 10_000

    calibrated = load_scenario(out / "calibrated.yaml")
    assert calibrated.purchase.base_prob == found["purchase.base_prob"] and calibrated.days == 120
    run_args = ["run", str(out / "calibrated.yaml"), "--days", "5", "--quiet", "--out", str(tmp_path / "run")]
    assert main([*run_args, "--set", "output.plots=false"]) == 0

    # identifiability: the distance at the truth is far below its value at any corner of the box
    base = load_scenario(scenario_file).model_dump(mode="json")
    obs = load_observed(observed, START, "week", kpis=["conversion", "referral_conversion"])
    params = [parse_fit(f, base) for f in FIT]
    problem = Problem(base, params, parse_targets(["conversion", "referral_conversion"]), obs, [1, 2], 84)
    at_truth = problem.distance(TRUTH)
    corners = [
        problem.distance({params[0].path: a, params[1].path: b})
        for a in (params[0].low, params[0].high)
        for b in (params[1].low, params[1].high)
    ]
    assert at_truth < 0.5 * min(corners), (at_truth, corners)

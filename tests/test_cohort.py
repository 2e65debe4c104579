"""Cohort data as transaction logs have it: scheduled joins, joining as a first purchase, repeat purchases,
and the customer_base preset with every community mechanic off."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from sim.calibration import CalibrationError
from sim.calibration.transactions import cohort_overrides, daily_rows, is_transaction_log, read_transactions
from sim.config.loader import with_operating_model
from sim.config.schema import Scenario
from sim.model import CommunityModel
from tests.conftest import small

JOINS = [0, 0, 40, 25, 0, 10]
START = datetime.date(2026, 1, 1)


def closed_cohort(first_purchase: bool, **changes) -> Scenario:
    """A small market where only the cohort joins, on the customer_base preset."""
    data = small(days=40, **changes).model_dump(mode="json")
    data = with_operating_model(data, "customer_base")
    acq = data["acquisition"]
    acq["initial_members"], acq["paid"]["daily_budget"], acq["organic"]["p"] = 0, 0.0, 0.0
    acq["cohort"] = {"joins": JOINS, "first_purchase": first_purchase}
    return Scenario.model_validate(data)


def run(scenario: Scenario) -> CommunityModel:
    model = CommunityModel(scenario, record_events=False)
    model.run(days=scenario.days)
    return model


def test_the_cohort_joins_exactly_on_its_days_and_nobody_else_joins():
    model = run(closed_cohort(first_purchase=False))
    ts = model.timeseries()
    assert ts["new_cohort"].tolist()[: len(JOINS)] == [float(j) for j in JOINS]
    assert ts["new_members"].sum() == sum(JOINS)  # no referral, organic, paid or win-back joins
    assert ts["new_cohort"].iloc[len(JOINS) :].sum() == 0


def test_joining_is_the_first_purchase_and_repeat_purchases_exclude_it():
    model = run(closed_cohort(first_purchase=True))
    ts, pop = model.timeseries(), model.pop
    joined = np.flatnonzero(pop.join_day >= 0)
    assert joined.size == sum(JOINS)
    # every cohort member bought on the day they joined: their first purchase is their join day
    assert (pop.first_purchase[joined] == pop.join_day[joined]).all()
    for day, k in enumerate(JOINS):
        assert ts["purchases"].iloc[day] >= k
    # repeat purchases = all purchases minus each buyer's first one
    assert ts["repeat_purchases"].sum() == ts["purchases"].sum() - np.count_nonzero(pop.purchases > 0)
    assert 0 < ts["repeat_purchases"].sum() < ts["purchases"].sum()


def test_first_purchase_mode_changes_the_cohort_only_by_their_first_purchase():
    without = run(closed_cohort(first_purchase=False)).timeseries()
    with_first = run(closed_cohort(first_purchase=True)).timeseries()
    assert with_first["purchases"].iloc[2] >= 40 > without["purchases"].iloc[2]


def test_customer_base_turns_the_community_off_with_referrals_exactly_zero():
    scenario = closed_cohort(first_purchase=True)
    assert scenario.referral.base_invite_prob == 0 and scenario.koc.initial_count == 0
    assert scenario.churn.social_weight == 0 and not scenario.awareness.enabled
    ts = run(scenario).timeseries()
    for kpi in ("invitations", "new_referral", "koc_posts", "ugc_posts", "pgc_posts"):
        assert ts[kpi].sum() == 0, kpi


def test_referral_probabilities_accept_zero_but_not_below():
    Scenario.model_validate({"referral": {"base_invite_prob": 0, "base_acceptance": 0}})
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Scenario.model_validate({"referral": {"base_invite_prob": -0.1}})


def test_zero_acceptance_lets_invitations_happen_but_nobody_joins_by_referral():
    ts = run(small(days=30, referral={"base_acceptance": 0.0})).timeseries()
    assert ts["invitations"].sum() > 0 and ts["new_referral"].sum() == 0


def test_cohort_joins_are_checked():
    with pytest.raises(ValueError, match=r"joins\[1\] is -1: a day's joins must be 0 to"):
        Scenario.model_validate({"acquisition": {"cohort": {"joins": [3, -1]}}})


# --- transaction logs as the observed data ----------------------------------------------------


def test_a_transaction_log_becomes_daily_cohort_rows(tmp_path):
    log = tmp_path / "tx.csv"
    log.write_text(
        "customer_id,date,amount\n"
        "a,2026-01-01,10\n"
        "a,2026-01-01,5\n"  # a second order the same day: one purchase, as in the model
        "b,2026-01-03,7\n"
        "a,2026-01-04,20\n"
    )
    assert is_transaction_log(log)
    daily = daily_rows(read_transactions(log, START))
    assert daily["new_cohort"].tolist() == [1, 0, 1, 0]
    assert daily["purchases"].tolist() == [1, 0, 1, 1]
    assert daily["repeat_purchases"].tolist() == [0, 0, 0, 1]
    assert daily["revenue"].tolist() == [15.0, 0.0, 7.0, 20.0]


def test_transaction_log_errors_name_the_line(tmp_path):
    log = tmp_path / "tx.csv"
    log.write_text("customer_id,date,amount\na,2026-01-01,10\nb,01/02/2026,5\n")
    with pytest.raises(CalibrationError, match=r"tx.csv:3: date '01/02/2026' is not a date"):
        read_transactions(log, START)
    log.write_text("customer_id,date,amount\na,2026-01-01,-4\n")
    with pytest.raises(CalibrationError, match=r"tx.csv:2: column 'amount'"):
        read_transactions(log, START)
    log.write_text("customer_id,date\na,2025-12-30\n")
    with pytest.raises(CalibrationError, match=r"before the scenario's start_date .*--set start_date=2025-12-30"):
        read_transactions(log, START)


def test_the_log_makes_a_closed_cohort_that_must_fit_the_market(tmp_path):
    daily = pd.DataFrame({"new_cohort": [3.0, 0.0, 2.0]})
    data = cohort_overrides(daily, small().model_dump(mode="json"), tmp_path / "tx.csv")
    acq = Scenario.model_validate(data).acquisition
    assert acq.cohort.joins == [3, 0, 2] and acq.cohort.first_purchase
    assert Scenario.model_validate(data).koc.initial_count == 0
    assert acq.initial_members == 0 and acq.paid.daily_budget == 0 and acq.organic.p == acq.organic.q == 0
    tiny = small().model_dump(mode="json")
    tiny["market"]["size"] = 4
    with pytest.raises(CalibrationError, match="5 customers, more than the market's 4 people"):
        cohort_overrides(daily, tiny, tmp_path / "tx.csv")

"""Heterogeneous dropout: a personal churn propensity fixed at birth (``churn.hazard_sigma``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.core.population import FRAILTY_STREAM
from sim.mechanisms.churn import churn_hazard
from sim.mechanisms.registry import TARGETABLE
from sim.model import CommunityModel
from tests.conftest import small

COHORT = 2000


def closed_cohort(sigma: float, days: int = 90):
    """2,000 members on day 0 and nobody joining after; the hazard moves with nothing but the personal term."""
    churn = {
        "base_hazard": 0.01,
        "dissatisfaction_weight": 0,
        "inactivity_weight": 0,
        "fatigue_weight": 0,
        "social_weight": 0,
        "referral_tie_weight": 0,
        "hazard_sigma": sigma,
    }
    return small(
        days=days,
        market={"size": 2100},
        acquisition={"initial_members": COHORT, "paid": {"daily_budget": 0}, "organic": {"p": 0, "q": 0}},
        referral={"base_invite_prob": 1e-12, "satisfaction_weight": 0},
        koc={"initial_count": 0},
        churn=churn,
    )


def survival(sigma: float) -> tuple[float, np.ndarray]:
    """The mean hazard of the cohort on day 0, and its members at the end of each day."""
    model = CommunityModel(closed_cohort(sigma), record_events=False)
    start = float(churn_hazard(model, model.member_rows()).mean())
    model.run(days=model.scenario.days)
    return start, model.timeseries()["members"].to_numpy(float)


def test_spread_in_the_hazard_flattens_the_survival_curve():
    # the fickle leave first and the loyal remain: the share of survivors who leave in days 60-89 falls
    # below the share who left in days 0-29, and the more the spread, the more it does
    ratios, starts = {}, {}
    for sigma in (0.0, 1.0, 1.5):
        starts[sigma], members = survival(sigma)
        early = 1 - members[29] / COHORT
        late = 1 - members[89] / members[59]
        ratios[sigma] = late / early
    assert 0.8 < ratios[0.0] < 1.25  # constant hazard: geometric, the same share leaves in any window
    assert ratios[1.5] < ratios[1.0] < ratios[0.0]
    assert ratios[1.5] < 0.75
    # with odds of mean one, the cohort starts at about the same mean hazard (a little lower, as the
    # hazard is concave in the odds: 0.0098 and 0.0094 in theory at spreads 1 and 1.5)
    for sigma in (1.0, 1.5):
        assert starts[sigma] == pytest.approx(starts[0.0], rel=0.15)


def test_no_spread_draws_nothing_and_changes_nothing():
    absent = CommunityModel(small(days=30), record_events=False)
    zero = CommunityModel(small(days=30, churn={"hazard_sigma": 0.0}), record_events=False)
    for model in (absent, zero):
        assert model.pop.churn_frailty is None
        assert "churn_frailty" not in model.pop.column_names()
        model.run(days=30)
        assert FRAILTY_STREAM not in model.streams._streams  # no stream made, no number drawn
    pd.testing.assert_frame_equal(absent.timeseries(), zero.timeseries(), check_exact=True)


def test_the_offsets_have_odds_of_mean_one_and_leave_every_other_draw_alone():
    plain = CommunityModel(small(days=1, market={"size": 20000}), record_events=False)
    spread = CommunityModel(small(days=1, market={"size": 20000}, churn={"hazard_sigma": 1.0}), record_events=False)
    u = spread.pop.churn_frailty
    assert u.dtype == np.float32 and u.shape == (20000,)
    assert spread.pop.nbytes() - plain.pop.nbytes() == 4 * 20000  # 4 bytes a person, only when used
    assert np.exp(u.astype(np.float64)).mean() == pytest.approx(1.0, abs=0.04)  # SE of the mean about 0.009
    assert u.std() == pytest.approx(1.0, rel=0.03)
    # the population's own draws are those of the run without the spread: common random numbers
    for column in ("segment", "trait", "activity", "creator", "birthday", "status"):
        np.testing.assert_array_equal(getattr(spread.pop, column), getattr(plain.pop, column))


def test_hazards_stay_probabilities_at_the_largest_spread():
    model = CommunityModel(small(days=5, churn={"hazard_sigma": 5.0}), record_events=False)
    for day in range(3):
        h = churn_hazard(model, model.member_rows())
        assert h.size > 0 and np.isfinite(h).all()
        assert (h >= 0).all() and (h <= 1).all()
        if day == 0:
            assert h.min() < 1e-5 and h.max() > 0.05  # far below and above the base hazard, 0.0035
        model.step()


def test_the_spread_is_a_trait_not_a_lever_an_ab_test_may_target():
    from sim.config.levers import LEVERS

    assert "churn.hazard_sigma" not in TARGETABLE
    assert "churn.hazard_sigma" not in {lever.key for lever in LEVERS}

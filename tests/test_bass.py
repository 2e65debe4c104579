"""Mean-field limit: on the complete graph with only p and q, adoption follows the Bass curve."""

from __future__ import annotations

import numpy as np

from sim.model import CommunityModel
from sim.validation.theory import bass_F
from tests.conftest import small

P_DAY, Q_DAY = 0.004, 0.08  # per day; the schema takes annual coefficients
N = 20_000
DAYS = 150


def discrete_bass(p: float, q: float, days: int) -> np.ndarray:
    """The model's own day-by-day recursion in expectation: F' = F + (1 - F)(1 - exp(-(p + q F)))."""
    F, out = 0.0, []
    for _ in range(days):
        F = F + (1.0 - F) * (1.0 - np.exp(-(p + q * F)))
        out.append(F)
    return np.array(out)


def test_complete_graph_tracks_bass_curve():
    scenario = small(
        days=DAYS,
        market={"size": N, "network": {"kind": "complete"}},
        acquisition={
            "initial_members": 0,
            "paid": {"daily_budget": 0},
            "organic": {"p": P_DAY * 365, "q": Q_DAY * 365},
        },
        churn={
            "base_hazard": 1e-12,
            "dissatisfaction_weight": 0,
            "inactivity_weight": 0,
            "fatigue_weight": 0,
            "social_weight": 0,
        },
        referral={"base_invite_prob": 1e-12, "satisfaction_weight": 0},
        content={
            "effects": {
                t: {"engagement": 0, "trust": 0, "purchase": 0, "referral": -5, "fatigue": 0}
                for t in ("educational", "review", "entertainment", "interactive", "promotional", "livestream")
            }
        },
        koc={"initial_count": 0},
        awareness={"enabled": False},  # every prospect may join at the Bass rate: the curve of the join rule itself
    )
    model = CommunityModel(scenario)
    model.run()
    simulated = model.timeseries()["members"].to_numpy() / N
    t = np.arange(1, DAYS + 1)
    theory = bass_F(t, P_DAY, Q_DAY)
    # tolerance: the gap between daily steps and continuous time (computed, not guessed) plus
    # four binomial standard errors of a share estimated from N people
    discretization = np.abs(discrete_bass(P_DAY, Q_DAY, DAYS) - theory)
    sampling = 4.0 * np.sqrt(theory * (1 - theory) / N) + 4.0 / N
    assert model.timeseries()["new_referral"].sum() == 0
    assert np.all(np.abs(simulated - theory) <= discretization + sampling), np.max(np.abs(simulated - theory))
    assert simulated[-1] > 0.9  # the curve was followed to saturation, not just its flat start

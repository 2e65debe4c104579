"""Identifiability and uncertainty of a calibration, forecast bands and holdout scores, the BG/NBD baseline.

The synthetic-likelihood method is checked on a stand-in problem whose "simulation" is a formula with
Gaussian noise, so that its answer is known: a straight line a + b t observed over 20 periods has
known least-squares standard errors, and a series that depends on a * b only is unidentified.
"""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd
import pytest

from sim.calibration.cli import best_outside_flags, written_from
from sim.calibration.forecast import holdout_scores, point_scores
from sim.calibration.params import FitParam, Target
from sim.calibration.search import Trial
from sim.calibration.uncertainty import (
    Z50,
    Z90,
    Posterior,
    edge_flags,
    extra_data,
    flags,
    from_unit,
    laplace,
    noise_variance,
    profile_sets,
    to_unit,
)

T = np.arange(20, dtype=float)
SIGMA = 2.0


class Formula:
    """A stand-in for ``search.Problem``: the series of one target is ``shape(values, t)`` plus noise."""

    def __init__(self, params, shape, observed, reps=2):
        self.params, self.shape, self.reps = params, shape, reps
        self.targets = [Target("y", 1.0)]
        self.windows = np.array(["train"] * T.size)
        self.scales = {"y": float(np.abs(observed).mean())}
        self.seeds = list(range(reps))
        self._observed = observed

    def observed_values(self, kpi, window=None):
        return self._observed

    def simulate_many(self, points, seeds=None, window=None):
        seeds = seeds if seeds is not None else [self.seeds] * len(points)
        out = []
        for values, point_seeds in zip(points, seeds, strict=True):
            runs = [self.shape(values) + np.random.default_rng(s).normal(0, SIGMA, T.size) for s in point_seeds]
            out.append({"y": np.vstack(runs)})
        return out


LINE = [FitParam("a", 0.0, 20.0, False, False), FitParam("b", 0.0, 4.0, False, False)]


def line(values):
    return values["a"] + values["b"] * T


def test_unit_coordinates_round_trip_on_linear_and_log_scales():
    p = FitParam("x", 0.001, 0.1, False, True)
    assert to_unit(p, 0.01) == pytest.approx(0.5)
    assert from_unit(p, to_unit(p, 0.0237)) == pytest.approx(0.0237)
    assert from_unit(p, 1.7) == pytest.approx(0.1)  # clipped to the range


def test_intervals_of_a_line_match_least_squares_and_hold_the_truth():
    truth = {"a": 8.0, "b": 1.5}
    observed = line(truth) + np.random.default_rng(99).normal(0, SIGMA, T.size)
    problem = Formula(LINE, line, observed)
    post = laplace(problem, {"a": 8.5, "b": 1.45}, seed=3, noise_runs=30)
    # ordinary least squares: var(b) = s2 / sum (t - mean t)^2 from the observed run's noise; the design's
    # points run seeds of their own, and the minimum of the quadratic through their scattered chi2 adds its
    # own uncertainty, at most that of the mean of R = 2 runs (1 + 1/R) if every point shared the same seeds
    sd_b = SIGMA / math.sqrt(((T - T.mean()) ** 2).sum())
    lo, hi = post.interval(Z90)["b"]
    assert Z90 * sd_b < (hi - lo) / 2 < 2.0 * Z90 * sd_b * math.sqrt(1.5)
    for key, value in truth.items():
        lo, hi = post.interval(Z90)[key]
        assert lo <= value <= hi, (key, lo, hi)
    assert post.corr[0, 1] < -0.6  # intercept and slope of a line trade off
    assert post.flat == [False, False] and not [f for f in flags(post, []) if f["kind"] == "unidentified"]
    assert not post.recentred  # a quadratic describes a line's least squares exactly


def skewed(values):
    """Flat below a = 5 and exploding above it: the distance is far from a quadratic around its minimum."""
    return values["b"] * T + 10 * np.expm1(values["a"] - 5) * (1 + T / 10)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_skewed_surface_centres_the_estimate_on_the_best_point_run_and_says_so(seed):
    """The quadratic's minimum of such a surface lands where the series fit badly (here a = 0.9 and b = 4, the
    range's edge, for a truth of 5 and 1.5), and forecast draws around it missed the observed series."""
    truth = {"a": 5.0, "b": 1.5}
    observed = skewed(truth) + np.random.default_rng(seed).normal(0, SIGMA, T.size)
    post = laplace(Formula(LINE, skewed, observed), truth, seed=seed)
    assert post.recentred and post.chi2_quadratic > post.chi2_min
    estimate = post.estimate()
    assert abs(estimate["a"] - 5.0) < 0.5 and abs(estimate["b"] - 1.5) < 0.3, estimate
    for key, value in truth.items():
        lo, hi = post.interval(Z90)[key]
        assert lo <= value <= hi, (key, lo, hi)
    found = [f for f in flags(post, []) if f["kind"] == "poor_quadratic"]
    assert found and "centred on that point" in found[0]["message"]


def test_a_pair_that_only_moves_the_series_through_its_product_is_flagged():
    pair = [
        FitParam("engagement.base_visit_prob", 0.5, 4.0, False, True),
        FitParam("purchase.base_prob", 0.5, 4.0, False, True),
    ]

    def product(values):
        return values["engagement.base_visit_prob"] * values["purchase.base_prob"] * (1 + T)

    truth = {"engagement.base_visit_prob": 1.5, "purchase.base_prob": 1.2}
    observed = product(truth) + np.random.default_rng(5).normal(0, SIGMA, T.size)
    post = laplace(Formula(pair, product, observed), truth, seed=4)
    assert post.corr[0, 1] < -0.85
    found = flags(post, [])
    correlated = [f for f in found if f["kind"] == "correlated"]
    assert correlated and correlated[0]["keys"] == [p.path for p in pair]
    message = correlated[0]["message"]
    assert "raising one and lowering the other" in message and "visits per period" in message


def test_searches_that_end_far_apart_are_flagged():
    post = Posterior(LINE, np.array([0.4, 0.4]), np.diag([0.01**2, 0.01**2]), [False, False], 10, 8, 20.0, 20)
    apart = flags(post, [{"a": 8.0, "b": 1.6}, {"a": 15.0, "b": 1.6}])
    assert [f["keys"] for f in apart if f["kind"] == "searches_disagree"] == [["a"]]
    draws = post.draws(200, seed=1)
    assert all(0 <= d["a"] <= 20 for d in draws)
    assert np.std([d["a"] for d in draws]) == pytest.approx(0.01 * 20, rel=0.2)


def test_points_along_a_ridge_widen_the_gaussian_interval():
    post = Posterior(LINE, np.array([0.5, 0.5]), np.diag([0.01**2, 0.01**2]), [False, False], 10, 8, 0.0, 20)
    xs = np.array([[0.5, 0.5], [0.8, 0.5], [0.1, 0.5], [0.5, 0.9]])
    post.profile = profile_sets(xs, np.array([0.0, 2.0, 5.0, 0.3]))  # chi2 within 2.71 (90%) or 0.45 (50%)
    (lo_a, hi_a), (lo_b, hi_b) = post.unit_interval(Z90)
    assert lo_a == pytest.approx(0.5 - Z90 * 0.01) and hi_a == 0.8  # 0.1 lies 5 above the minimum: out
    assert hi_b == 0.9
    assert post.unit_interval(Z50)[0][1] == pytest.approx(0.5 + Z50 * 0.01)  # 0.8 is 2 above: not in the 50%


def test_the_noise_of_a_few_runs_does_not_narrow_the_intervals():
    """1 / s2 of 8 runs is 7/5 of 1 / sigma2 on average: chi2 came out 1.4 times too large (here 1.27: the
    allowance for noise shared by the periods, a noisy ratio of 8 runs taken only when above 1, widens)."""
    problem = Formula(LINE, line, line({"a": 8.0, "b": 1.0}))
    values = {"a": 8.0, "b": 1.0}
    ratios = [SIGMA**2 / noise_variance(problem, values, list(range(k, k + 8)))["y"] for k in range(40)]
    assert 0.85 < np.mean(ratios) < 1.05


def test_the_90_percent_intervals_hold_the_truth_in_about_90_percent_of_observed_series():
    truth, hits = {"a": 8.0, "b": 1.5}, np.zeros(2)
    for k in range(100):
        observed = line(truth) + np.random.default_rng(1000 + k).normal(0, SIGMA, T.size)
        ranges = laplace(Formula(LINE, line, observed), {"a": 8.3, "b": 1.45}, seed=k).interval(Z90)
        hits += [ranges[key][0] <= value <= ranges[key][1] for key, value in truth.items()]
    assert (hits >= 85).all(), hits  # 100 draws of a 90% coverage: below 85 has a chance of 6%


def test_the_design_is_centred_on_the_trial_that_fits_best_by_chi2_and_pruned_trials_are_left_out():
    truth = {"a": 8.0, "b": 1.5}
    observed = line(truth) + np.random.default_rng(7).normal(0, SIGMA, T.size)
    centres = []

    class Spy(Formula):
        def simulate_many(self, points, seeds=None, window=None):
            if len(points) > 1 and not centres:
                centres.append(points[0])  # a design's first point is its centre
            return super().simulate_many(points, seeds, window)

    problem = Spy(LINE, line, observed)
    far, near = {"a": 14.0, "b": 1.2}, {"a": 8.2, "b": 1.48}
    lucky = {"a": 3.0, "b": 3.0}  # pruned after one run, which matched the observed series exactly
    trials = [Trial(0, far, 0.1, *problem.simulate_many([far])), Trial(1, near, 0.2, *problem.simulate_many([near]))]
    trials.append(Trial(2, lucky, 0.0, {"y": observed[None, :]}, pruned=True))
    post = laplace(problem, far, seed=1, trials=trials)
    assert centres[0] == pytest.approx(near)  # not the search's best by its distance
    assert post.chi2_min > 0  # the pruned trial's exact match is no evaluated point
    assert post.interval(Z90)["a"][0] > 3.0


def test_holdout_scores_are_those_clv_models_are_scored_by():
    obs = np.array([10.0, 20.0, 30.0])
    fc = np.array([12.0, 18.0, 30.0])
    s = point_scores(obs, fc, flow=True)
    assert s["mape_percent"] == pytest.approx(100 * (0.2 + 0.1 + 0) / 3, abs=1e-3)
    assert s["cumulative_mape_percent"] == pytest.approx(100 * (2 / 10 + 0 / 30 + 0 / 60) / 3, abs=1e-3)
    assert s["total_error_percent"] == pytest.approx(0.0)
    fit = pd.DataFrame(
        {
            "kpi": "repeat_purchases",
            "window": ["train", "holdout", "holdout", "holdout"],
            "observed": [5.0, *obs],
            "pred_median": [5.0, *fc],
            "pred_p25": [4.0, 11.0, 15.0, 29.0],
            "pred_p75": [6.0, 13.0, 19.0, 31.0],
            "pred_p05": [3.0, 9.0, 14.0, 25.0],
            "pred_p95": [7.0, 15.0, 25.0, 35.0],
            "baseline": [np.nan, 10.0, 10.0, 10.0],
        }
    )
    scores = holdout_scores(fit)["repeat_purchases"]
    assert scores["simulator"]["coverage_50"] == pytest.approx(1 / 3, abs=1e-3)  # 10 < 11 and 20 > 19
    assert scores["simulator"]["coverage_90"] == 1.0
    assert scores["baseline"]["total_error_percent"] == pytest.approx(100 * (30 - 60) / 60)


def test_bgnbd_baseline_forecasts_repeat_purchases_per_period():
    pytest.importorskip("lifetimes")
    from sim.calibration.baseline import bgnbd_forecast, rfm_at
    from sim.calibration.observed import observed_from

    rng = np.random.default_rng(0)
    rows = []
    for c in range(300):
        day = int(rng.integers(0, 14))
        rate = rng.gamma(1.0, 0.05)
        alive_until = day + rng.exponential(120)
        while day < 112:
            if day <= alive_until:
                rows.append((str(c), day))
            day += 1 + int(rng.exponential(1 / rate))
    tx = pd.DataFrame(rows, columns=["customer_id", "day"]).assign(amount=1.0)
    rfm = rfm_at(tx, 56)
    first = tx.groupby("customer_id")["day"].min()
    assert (rfm["T"] == 55 - first[rfm.index]).all() and (rfm["recency"] <= rfm["T"]).all()

    class Split:
        observed = observed_from(
            pd.DataFrame({"repeat_purchases": np.zeros(112)}, index=pd.RangeIndex(112, name="day")),
            None,
            datetime.date(2026, 1, 5),
            "week",
        )
        periods = observed.table.index.to_numpy()
        train_until = 56
        windows = np.where(periods < 8, "train", "holdout")

    fc = bgnbd_forecast(tx, Split)
    weekly = fc["repeat_purchases"]
    assert weekly.shape == (16,) and (weekly >= 0).all()
    actual = tx.assign(week=tx["day"] // 7).drop_duplicates(["customer_id", "day"])
    repeats = actual[actual["day"] > actual["customer_id"].map(first)].groupby("week").size()
    holdout_total = repeats.reindex(range(8, 16), fill_value=0).sum()
    assert weekly[8:].sum() == pytest.approx(holdout_total, rel=0.35)  # a model of this very process


def test_noise_shared_by_every_period_is_not_counted_as_new_data():
    class Shared(Formula):
        def simulate_many(self, points, seeds=None, window=None):
            # each run: one level for every period, plus small noise
            out = []
            for values, point_seeds in zip(points, seeds, strict=True):
                rngs = [np.random.default_rng(s) for s in point_seeds]
                out.append(
                    {"y": np.vstack([self.shape(values) + r.normal(0, 3) + r.normal(0, 1, T.size) for r in rngs])}
                )
            return out

    problem = Shared(LINE, line, line({"a": 8.0, "b": 1.0}))
    var = noise_variance(problem, {"a": 8.0, "b": 1.0}, list(range(60)))["y"]
    # per period 3^2 + 1 = 10; the periods move together, so each counts for much less than independent data
    assert var.mean() > 5 * 10


# --- advice, range edges and which values are written ----------------------------------------


def test_advice_does_not_name_a_series_already_among_the_targets():
    churn = FitParam("churn.base_hazard", 0.001, 0.02, False, True)
    post = Posterior([churn], np.array([0.5]), np.array([[0.4**2]]), [True], 10, 8, 1.0, 6)
    alone = [f["message"] for f in flags(post, [], ["purchases"]) if f["kind"] == "unidentified"][0]
    assert "(members or churned)" in alone
    with_members = [f["message"] for f in flags(post, [], ["purchases", "members"]) if f["kind"] == "unidentified"][0]
    assert "members" not in with_members and "(churned), or a longer holdout" in with_members
    assert extra_data("churn.base_hazard", ["members", "churned"]) == "a longer holdout"
    assert "purchases with dau beside them" in extra_data("purchase.base_prob", ["purchases", "members"])
    assert "already among the targets" in extra_data("koc.post_prob", ["koc_posts"])


def test_a_value_at_the_edge_of_its_range_is_flagged():
    sigma = FitParam("churn.hazard_sigma", 0.0, 3.0)
    rate = FitParam("purchase.base_prob", 0.01, 0.08, False, True)
    found = edge_flags([sigma, rate], {"churn.hazard_sigma": 2.989, "purchase.base_prob": 0.0101})
    assert [(f["keys"], f["edge"]) for f in found] == [
        (["churn.hazard_sigma"], "high"),
        (["purchase.base_prob"], "low"),
    ]
    assert "churn.hazard_sigma = 2.989 is at the top of its range (0 to 3)" in found[0]["message"]
    assert "widen the range" in found[0]["message"]
    assert edge_flags([sigma, rate], {"churn.hazard_sigma": 1.5, "purchase.base_prob": 0.03}) == []


def test_a_key_at_the_edge_of_its_range_is_not_also_called_unidentified():
    """Its interval is cut by the range, not set by the data: one remedy (widen the range), not two."""
    from sim.calibration.cli import without_cut_intervals

    rate = FitParam("purchase.base_prob", 0.01, 0.03)
    other = FitParam("churn.base_hazard", 0.001, 0.02)
    edges = edge_flags([rate, other], {"purchase.base_prob": 0.0299, "churn.base_hazard": 0.005})
    unidentified = [
        {"kind": "unidentified", "keys": [k], "message": f"{k} is not identified"}
        for k in ("purchase.base_prob", "churn.base_hazard")
    ]
    kept = without_cut_intervals(unidentified, edges)
    assert [f["keys"] for f in kept] == [["churn.base_hazard"]]  # a key inside its range keeps its flag
    assert "cut by the range" in edges[0]["message"] and "widen the range" in edges[0]["message"]


def test_a_best_trial_outside_its_interval_is_flagged_and_the_estimate_is_written():
    post = Posterior(LINE, np.array([0.5, 0.5]), np.diag([0.05**2, 0.05**2]), [False, False], 30, 8, 1.0, 20)
    top = Trial(3, {"a": 2.0, "b": 2.0}, 0.1)
    found = best_outside_flags(post, top, 2)
    assert [f["keys"] for f in found] == [["a"]]
    assert "outside its 90% interval" in found[0]["message"] and "holds the estimate 10" in found[0]["message"]
    assert best_outside_flags(post, Trial(3, {"a": 10.0, "b": 2.0}, 0.1), 2) == []
    assert "the estimate of the uncertainty step" in written_from("estimate", 16, post)
    # a value at a bound is the bound itself, as written (exp(log(0.08)) is 0.07999999999999999)
    assert from_unit(FitParam("x", 0.01, 0.08, False, True), 1.0) == 0.08


def test_the_console_holdout_mape_is_the_one_metrics_json_and_the_figure_report():
    """Training MAPE: the replications' mean at the calibrated values; holdout MAPE: the forecast's median,
    as metrics.json's holdout scores it; both labelled so, and the two holdout numbers are one."""
    from types import SimpleNamespace

    from rich.console import Console

    from sim.calibration.cli import summary_table

    rows = []
    for period, window, observed, mean, median in [
        (0, "train", 10.0, 9.0, 9.5),
        (1, "train", 12.0, 12.0, 12.0),
        (2, "holdout", 20.0, 10.0, 15.0),  # mean off by 50%, median by 25%
    ]:
        rows.append(
            {"period": period, "kpi": "purchases", "observed": observed, "sim_mean": mean, "window": window}
            | {
                "pred_p05": median - 1,
                "pred_p25": median,
                "pred_median": median,
                "pred_p75": median,
                "pred_p95": median + 1,
            }
            | {"baseline": np.nan}
        )
    fit = pd.DataFrame(rows)
    problem = SimpleNamespace(params=LINE)
    top = Trial(0, {"a": 10.0, "b": 2.0}, 0.2)
    console = Console(record=True, width=250)
    console.print(summary_table(problem, top, fit))
    text = console.export_text()
    words = " ".join(text.split())  # the caption wraps to the table's width
    assert holdout_scores(fit)["purchases"]["simulator"]["mape_percent"] == 25.0
    assert "holdout MAPE (forecast median)" in words and "training MAPE (replications' mean)" in words
    assert "calibrated: the best trial, written to calibrated.yaml" in words
    line = next(x for x in text.splitlines() if "purchases" in x)
    assert "25.0%" in line and "50.0%" not in line


def test_the_console_gives_the_training_distance_at_the_values_written():
    """calibrated.yaml holds the estimate, not the best trial: the table's title gives the training distance at
    the written values (metrics.json distance.train) beside the best trial's, so the two are not confused."""
    from types import SimpleNamespace

    from rich.console import Console

    from sim.calibration.cli import summary_table

    post = Posterior(LINE, np.array([0.5, 0.5]), np.diag([0.05**2, 0.05**2]), [False, False], 30, 8, 1.0, 20)
    fit = pd.DataFrame(
        {"period": [0], "kpi": ["y"], "observed": [10.0], "sim_mean": [9.0], "window": ["train"], "baseline": [np.nan]}
    )
    top = Trial(4, {"a": 9.0, "b": 2.0}, 0.1234)
    console = Console(record=True, width=300)
    console.print(summary_table(SimpleNamespace(params=LINE), top, fit, post, post.estimate(), 0.2468))
    words = " ".join(console.export_text().split())
    assert "calibrated.yaml holds the estimate: training distance 0.2468" in words
    assert "best search trial 4: training distance 0.1234" in words

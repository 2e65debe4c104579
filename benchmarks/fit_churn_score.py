"""Fit the churn-risk score's default weights (``operators.churn_score.weights``) on the model's own output.

Runs a training ensemble of the baseline (``scenarios/baseline.yaml``: calm years and
years with a random crisis, competitor entry or both, drawn as ``community-sim warnings``
draws them) and of ``points_program`` and ``tiered_membership`` (so that the points
and tier inputs vary), scores every member every ``--every`` days with the inputs of
``sim.mechanisms.churn_score.features`` and labels who leaves within the next 30 days.
A logistic regression (Newton's method, a small ridge) gives the weights, printed as a
``weights:`` block to paste into ``sim/config/operations.py``. A held-out ensemble of
other seeds reports the fitted score's AUC next to the true hazard's, its calibration
and the share of members above a few thresholds.

    python benchmarks/fit_churn_score.py [--runs 8] [--seed 20260501] [--workers 2]
        [--base baseline] [--extra points_program tiered_membership]

``--base`` and ``--extra`` name other scenarios of scenarios/ to fit the score for another
operating regime (the defaults are fitted on the baseline's).

Reading the members' columns changes nothing in the runs: the simulation is the same
as without the fit.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from sim.batch.executors import make_executor
from sim.batch.seeds import replication_seeds
from sim.config.errors import ScenarioWarning
from sim.config.loader import load_scenario, scenario_from_mapping
from sim.core.mathutil import roc_auc
from sim.core.population import MEMBER
from sim.mechanisms.churn import churn_log_odds
from sim.mechanisms.churn_score import FEATURES, HORIZON, features
from sim.model import CommunityModel
from sim.validation.detect import shock_plan

THRESHOLDS = (0.05, 0.06, 0.07, 0.08, 0.1, 0.15, 0.2)


def observe(base: dict, job: tuple[str, int, list[dict], int]) -> dict[str, np.ndarray]:
    """Worker: one run; every ``every`` days the members' inputs, true log-odds and 30-day outcome."""
    name, seed, events, every = job
    data = {**base[name], "seed": seed, "events": [*base[name].get("events", []), *events]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        model = CommunityModel(scenario_from_mapping(data, f"<{name}>"), record_events=False)
    days = model.scenario.days
    pending, rows = [], []
    for d in range(days):
        model.step()
        pop = model.pop
        for day, people, x, hazard in [p for p in pending if p[0] + HORIZON == d]:
            left = (pop.status[people] != MEMBER) | (pop.join_day[people] > day)
            rows.append((x, hazard, left))
        pending = [p for p in pending if p[0] + HORIZON > d]
        if (d + 1) % every == 0 and d + HORIZON < days:
            mi = model.member_index()
            f = features(model, mi)
            pending.append((d, mi, np.column_stack([f[k] for k in FEATURES]), churn_log_odds(model, mi)))
    return {
        "x": np.concatenate([r[0] for r in rows]),
        "hazard": np.concatenate([r[1] for r in rows]),
        "left": np.concatenate([r[2] for r in rows]),
    }


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = 1.0, steps: int = 25) -> np.ndarray:
    """Intercept and weights maximizing the log-likelihood minus ``ridge / 2 * |w|^2`` (Newton's method)."""
    a = np.column_stack([np.ones(len(x)), x.astype(np.float64)])
    w = np.zeros(a.shape[1])
    w[0] = np.log(y.mean() / (1 - y.mean()))
    penalty = np.full(a.shape[1], ridge)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(a @ w)))
        grad = a.T @ (y - p) - penalty * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w += step
        if np.abs(step).max() < 1e-8:
            break
    return w


def ensemble(
    master: int, runs: int, every: int, base: str, extra: list[str], days: int
) -> list[tuple[str, int, list[dict], int]]:
    """``runs`` runs of ``base`` with the warnings' shock plans, and a quarter as many calm runs of each ``extra``."""
    n_extra = max(1, runs // 4)
    seeds = replication_seeds(master, runs + n_extra * len(extra))
    jobs = [(base, seeds[i], shock_plan(master, i, days)[1], every) for i in range(runs)]
    for k, name in enumerate(extra):
        jobs += [(name, s, [], every) for s in seeds[runs + k * n_extra : runs + (k + 1) * n_extra]]
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs",
        type=int,
        default=8,
        help="shocked baseline runs to fit on (and as many points and tier runs in all as a half of it)",
    )
    parser.add_argument("--seed", type=int, default=20260501, help="master seed of the training runs")
    parser.add_argument("--test-seed", type=int, default=20260502, help="master seed of the held-out runs")
    parser.add_argument("--every", type=int, default=20, help="days between scorings")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--base", default="baseline", help="scenario run calm and shocked")
    parser.add_argument(
        "--extra", nargs="*", default=["points_program", "tiered_membership"], help="scenarios run calm"
    )
    args = parser.parse_args()

    names = (args.base, *args.extra)
    base = {n: load_scenario(f"scenarios/{n}.yaml", ["output.events=false"]).model_dump(mode="json") for n in names}
    days = base[args.base]["days"]
    train_jobs = ensemble(args.seed, args.runs, args.every, args.base, args.extra, days)
    test_jobs = ensemble(args.test_seed, max(4, args.runs // 2), args.every, args.base, args.extra, days)
    with make_executor("local" if args.workers > 1 else "serial", args.workers) as ex:
        train = dict(ex.map(observe, base, train_jobs))
        test = dict(ex.map(observe, base, test_jobs))

    x = np.concatenate([train[i]["x"] for i in range(len(train_jobs))])
    y = np.concatenate([train[i]["left"] for i in range(len(train_jobs))]).astype(np.float64)
    w = fit_logistic(x, y)
    print(f"training: {len(train_jobs)} runs, {y.size:,} member scorings, {y.mean():.3%} left within {HORIZON} days")
    print("weights:")
    for name, value in zip(("intercept", *FEATURES), w, strict=True):
        print(f"  {name}: {value:.2f}")

    rounded = np.round(w, 2)
    print("\nheld out (rounded weights):")
    print(f"{'runs':<32} {'scorings':>9} {'left':>6} {'AUC':>6} {'hazard AUC':>10} {'mean score':>10}")
    groups = {}
    for i, (name, _, events, _) in enumerate(test_jobs):
        kind = name if name != args.base else f"{name} {'shocked' if events else 'calm'}"
        groups.setdefault(kind, []).append(test[i])
    groups["all"] = list(test.values())
    for kind, parts in groups.items():
        xs = np.concatenate([p["x"] for p in parts])
        left = np.concatenate([p["left"] for p in parts])
        hazard = np.concatenate([p["hazard"] for p in parts])
        s = 1.0 / (1.0 + np.exp(-(rounded[0] + xs.astype(np.float64) @ rounded[1:])))
        print(
            f"{kind:<32} {left.size:>9,} {left.mean():>6.1%} {roc_auc(s, left):>6.3f} "
            f"{roc_auc(hazard, left):>10.3f} {s.mean():>10.3f}"
        )
        if kind == f"{args.base} calm":
            above = ", ".join(f"{t:g}: {np.mean(s > t):.1%}" for t in THRESHOLDS)
            print(f"    share of members scored above {above}")
            print(f"    score quantiles 1/50/90/99%: {np.round(np.quantile(s, [0.01, 0.5, 0.9, 0.99]), 3)}")


if __name__ == "__main__":
    main()

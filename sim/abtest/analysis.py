"""The analysis a team runs on its test, repeated over replications: estimate, p-value, and what
they add up to (power, minimum detectable effect, A/A false positives, spillover bias).

The estimate is the difference in the mean outcome per member between the arms. With member
randomization the p-value is Welch's t-test (a two-proportion z-test for a yes/no outcome); with
cluster randomization it comes from re-randomizing the clusters (randomization inference), since
clusters, not members, are the independent units and there are only a few dozen of them. The true effect is what rolling
the treatment out to everyone does to the same members, measured by the paired whole-community
runs (same seed, everyone treated minus no one treated); the spillover bias is the test's estimate
minus it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.abtest import assign
from sim.abtest.design import METRICS, UNITS, Design
from sim.abtest.runs import Replication, world_name

POWER_TARGET = 0.8
#: Re-randomizations of each replication's untreated community that make its A/A tests.
AA_DRAWS = 20
#: Re-randomizations that give a cluster-randomized test its p-value.
PERMUTATIONS = 400


@dataclass(frozen=True)
class Test:
    """One test's result."""

    estimate: float
    se: float
    p: float


def member_test(y: np.ndarray, arm: np.ndarray, binary: bool) -> Test:
    """Welch's t-test (or the pooled two-proportion z-test for a yes/no outcome) on members."""
    a, b = y[arm], y[~arm]
    if a.size < 2 or b.size < 2:
        return Test(np.nan, np.nan, np.nan)
    est = a.mean() - b.mean()
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = float(np.sqrt(va + vb))
    if binary:
        pooled = y.mean()
        se0 = np.sqrt(pooled * (1 - pooled) * (1 / a.size + 1 / b.size))
        p = 2 * stats.norm.sf(abs(est) / se0) if se0 > 0 else (1.0 if est == 0 else 0.0)
        return Test(float(est), se, float(p))
    if se == 0:
        return Test(float(est), se, 1.0 if est == 0 else 0.0)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return Test(float(est), se, float(2 * stats.t.sf(abs(est) / se, df)))


def cluster_test(y: np.ndarray, arm: np.ndarray, clusters: np.ndarray, rng: np.random.Generator, share: float) -> Test:
    """Difference of the arms' means per member, tested by re-randomizing the clusters (randomization
    inference: ``PERMUTATIONS`` fresh draws of the same assignment). Exact at any number of clusters,
    where a t-test on a few dozen clusters of very unequal size rejects far too often."""
    if not arm.any() or arm.all():
        return Test(np.nan, np.nan, np.nan)
    est = y[arm].mean() - y[~arm].mean()
    _, k = np.unique(clusters, return_inverse=True)
    totals, sizes = np.bincount(k, weights=y), np.bincount(k).astype(np.float64)
    draws = rng.random((PERMUTATIONS, totals.size)) < share
    n_t, n_c = draws @ sizes, (~draws) @ sizes
    ok = (n_t > 0) & (n_c > 0)
    diffs = (draws @ totals)[ok] / n_t[ok] - ((~draws) @ totals)[ok] / n_c[ok]
    if diffs.size < 2:
        return Test(float(est), np.nan, np.nan)
    p = (1 + np.count_nonzero(np.abs(diffs) >= abs(est) - 1e-12)) / (1 + diffs.size)
    return Test(float(est), float(diffs.std(ddof=1)), float(p))


def run_test(
    unit: str, y: np.ndarray, arm: np.ndarray, clusters: np.ndarray, metric: str, share: float, rng_words: tuple
) -> Test:
    """The test a team runs for ``unit`` randomization (``rng_words`` seed a cluster test's re-randomizations)."""
    if unit == "cluster":
        return cluster_test(y, arm, clusters, assign.arm_rng(*rng_words), share)
    return member_test(y, arm, METRICS[metric][1])


def aa_rate(reps: list[Replication], unit: str, share: float, day: int, metric: str, alpha: float) -> tuple[int, int]:
    """(rejections, tests) of A/A tests: fresh random arms on the untreated community of each replication."""
    u, s = UNITS.index(unit), round(share * 1000)
    hits = total = 0
    for rep in reps:
        y = rep.worlds["none"][day][metric]
        units = rep.clusters if unit == "cluster" else np.arange(y.size)
        for k in range(AA_DRAWS):
            arm = assign.treated(units, share, assign.arm_rng(rep.seed, 100 + u, s, k))
            p = run_test(unit, y, arm, rep.clusters, metric, share, (rep.seed, 300 + u, s, k)).p
            if np.isfinite(p):
                total += 1
                hits += p < alpha
    return hits, total


def mde_factor(alpha: float, power: float = POWER_TARGET) -> float:
    """Standard errors between zero and the smallest effect a two-sided test at ``alpha`` finds with ``power``."""
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def table(reps: list[Replication], design: Design) -> pd.DataFrame:
    """One row per outcome, unit, treated share and duration (days since the test began)."""
    rows = []
    factor = mde_factor(design.alpha)
    for metric in METRICS:
        for unit in UNITS:
            for share in design.shares:
                name = world_name(unit, share)
                for day in design.checkpoints:
                    truth = np.array([_mean(r, "all", day, metric) - _mean(r, "none", day, metric) for r in reps])
                    words = (UNITS.index(unit), round(share * 1000), day)
                    tests = [
                        run_test(
                            unit, r.worlds[name][day][metric], r.arms[name], r.clusters, metric, share, (r.seed, *words)
                        )
                        for r in reps
                    ]
                    est = np.array([t.estimate for t in tests])
                    p = np.array([t.p for t in tests])
                    bias = est - truth
                    hits, n_aa = (0, 0)  # A/A tests on the outcome and duration asked for (they barely vary)
                    if metric == design.metric and day == design.days:
                        hits, n_aa = aa_rate(reps, unit, share, day, metric, design.alpha)
                    rows.append(
                        {
                            "metric": metric,
                            "unit": unit,
                            "share": share,
                            "days": day,
                            "replications": len(reps),
                            "control_mean": float(np.mean([_mean(r, "none", day, metric) for r in reps])),
                            "true_effect": float(np.mean(truth)),
                            "estimate": float(np.nanmean(est)),
                            "bias": float(np.nanmean(bias)),
                            "bias_se": _se(bias),
                            "relative_bias": _relative(np.nanmean(bias), np.mean(truth)),
                            "power": float(np.mean(p < design.alpha)) if np.isfinite(p).any() else np.nan,
                            "mde": factor * float(np.nanmean([t.se for t in tests])),
                            "aa_false_positive_rate": hits / n_aa if n_aa else np.nan,
                            "aa_tests": n_aa,
                        }
                    )
    return pd.DataFrame(rows)


def _mean(rep: Replication, world: str, day: int, metric: str) -> float:
    return float(rep.worlds[world][day][metric].mean())


def _se(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else np.nan


def _relative(bias: float, truth: float) -> float:
    return float(bias / truth) if truth else np.nan


def bias_band(rows: pd.DataFrame | pd.Series):
    """Two standard errors of the relative bias (NaN where the true effect is 0 or the error unknown)."""
    truth = np.abs(rows.true_effect)
    if isinstance(rows, pd.DataFrame):
        return 2 * rows.bias_se / truth.where(truth > 0)
    return 2 * rows.bias_se / truth if truth > 0 else np.nan


def recommend(tab: pd.DataFrame, design: Design) -> pd.Series | None:
    """The shortest test of the grid that reaches 80% power on the design's outcome with an estimated |bias|
    within ``max_bias`` of the true effect; among the shortest, the one whose bias is surely smallest (|bias|
    plus two standard errors, so a design whose bias is small only by luck of the replications comes after
    one whose bias is known to be small), then the fewest treated, then member before cluster."""
    rows = tab[(tab.metric == design.metric) & (tab.power >= POWER_TARGET)]
    rows = rows[rows.relative_bias.abs() <= design.max_bias]
    if rows.empty:
        return None
    worst = (rows.relative_bias.abs() + bias_band(rows)).fillna(np.inf)
    order = rows.assign(unit_order=rows.unit.map(UNITS.index), worst=worst)
    return order.sort_values(["days", "worst", "share", "unit_order"]).iloc[0].drop(["unit_order", "worst"])

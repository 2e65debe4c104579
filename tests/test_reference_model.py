"""The engine and the plain-Mesa reference (benchmarks/reference_mesa.py) agree on the core rules.

Same scenario (benchmarks/core_rules.yaml: 3,000 people, 90 days), several seeds
each; the mean of every KPI must agree within the seed-to-seed spread (Welch's
t-test, p > 0.01). A negative control shows the comparison has teeth: an engine
whose purchase probability is a quarter higher is told apart from the reference.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import ttest_ind

from sim.config.loader import load_scenario
from sim.model import CommunityModel

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

from reference_mesa import RefModel, check_core_rules  # noqa: E402

SEEDS = range(8)
DIVERGING = ["purchase.base_prob=0.031"]  # 0.025 in the references: a quarter more purchases
KPIS = ("final_members", "mean_dau", "purchases", "referral_joins", "churned")


def kpis(ts) -> list[float]:
    return [
        float(ts["members"].iloc[-1]),
        float(ts["dau"].mean()),
        float(ts["purchases"].sum()),
        float(ts["referrals_accepted"].sum()),
        float(ts["churned"].sum()),
    ]


def engine_runs(overrides=()) -> np.ndarray:
    scenario = load_scenario(BENCH / "core_rules.yaml", list(overrides))
    out = []
    for seed in SEEDS:
        model = CommunityModel(scenario, seed=seed, record_events=False)
        model.run()
        out.append(kpis(model.timeseries()))
    return np.array(out)


def disagreements(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """KPIs whose means differ beyond the seed-to-seed spread (Welch p <= 0.01), with their p-values."""
    p = ttest_ind(a, b, axis=0, equal_var=False).pvalue
    return {k: float(pk) for k, pk in zip(KPIS, p, strict=True) if pk <= 0.01}


def reference_runs(make) -> np.ndarray:
    """The KPIs of a reference model (``make(scenario, seed=...)``) over the seeds, on the core rules."""
    scenario = load_scenario(BENCH / "core_rules.yaml")
    out = []
    for seed in SEEDS:
        model = make(scenario, seed=seed)
        model.run(scenario.days)
        out.append(kpis(model.timeseries()))
    return np.array(out)


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return reference_runs(RefModel)


def test_engine_and_plain_mesa_reference_agree_on_the_core_kpis(reference):
    engine = engine_runs()
    assert (engine[:, KPIS.index("referral_joins")] > 0).all(), "the scenario must exercise referrals"
    assert not disagreements(engine, reference), (
        f"engine {engine.mean(axis=0).round(1)} vs reference {reference.mean(axis=0).round(1)}"
    )


def test_the_comparison_detects_a_rule_that_diverges(reference):
    assert "purchases" in disagreements(engine_runs(DIVERGING), reference)


def test_the_reference_refuses_mechanisms_it_does_not_have():
    scenario = load_scenario(BENCH / "core_rules.yaml", ["incentives.points.enabled=true"])
    with pytest.raises(ValueError, match="incentives"):
        check_core_rules(scenario)

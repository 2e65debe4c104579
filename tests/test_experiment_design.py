"""Designs, seeds, KPI columns and how factor values enter a scenario."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.batch.seeds import design_seed, replication_seeds
from sim.config.loader import load_scenario
from sim.experiment import design, kpis
from sim.experiment.design import DesignFactor
from sim.experiment.resolve import resolve_experiment
from sim.experiment.runs import RunPlan, Setter, Task, build_scenario, run_chunk
from sim.run.runner import simulate
from sim.run.summary import WINDOWS
from tests.experiment_helpers import SMOKE, write_experiment

A = DesignFactor("a", "float", range=(0.0, 1.0))
B = DesignFactor("b", "int", range=(1, 4))


def test_grid_and_zip_order_and_size():
    x = DesignFactor("x", "float", levels=(1.0, 2.0))
    y = DesignFactor("y", "str", levels=("p", "q", "r"))
    g = design.sample("grid", [x, y], None, seed=None)
    assert len(g) == 6 and list(g.index) == list(range(6)) and g.index.name == "point"
    assert list(g.itertuples(index=False, name=None))[:3] == [(1.0, "p"), (1.0, "q"), (1.0, "r")]
    z = design.sample("zip", [DesignFactor("x", "float", levels=(1.0, 2.0, 3.0)), y], None, seed=None)
    assert list(z["x"]) == [1.0, 2.0, 3.0] and list(z["y"]) == ["p", "q", "r"]
    steps = DesignFactor("s", "int", range=(0, 10), steps=3)
    assert steps.values() == [0, 5, 10]


@pytest.mark.parametrize(
    ("kind", "n", "options", "points"),
    [("lhs", 7, {}, 7), ("sobol", 8, {}, 8 * 4), ("sobol", 8, {"second_order": True}, 8 * 6), ("morris", 3, {}, 9)],
)
def test_sampled_designs_have_the_documented_size_and_stay_in_range(kind, n, options, points):
    raw = design.sample(kind, [A, B], n, seed=5, **options)
    assert len(raw) == points == design.point_count(kind, [A, B], n, **options)
    applied = design.applied(raw, [A, B])
    assert applied["a"].between(0, 1).all()
    assert applied["b"].dtype == np.int64 and applied["b"].between(1, 4).all()
    again = design.sample(kind, [A, B], n, seed=5, **options)
    assert raw.equals(again)
    assert not raw.equals(design.sample(kind, [A, B], n, seed=6, **options))


def test_integer_ranges_give_every_integer_equal_weight():
    raw = design.sample("lhs", [B], 4000, seed=1)
    counts = design.applied(raw, [B])["b"].value_counts(normalize=True).sort_index()
    assert list(counts.index) == [1, 2, 3, 4]
    assert np.allclose(counts.to_numpy(), 0.25, atol=0.01)


def test_replication_seeds_are_spawned_distinct_and_prefix_stable():
    seeds = replication_seeds(123, 50)
    assert len(set(seeds)) == 50 and all(0 <= s < 2**63 for s in seeds)
    assert replication_seeds(123, 10) == seeds[:10]
    assert replication_seeds(124, 10) != seeds[:10]
    assert design_seed(123) not in seeds


def test_kpi_columns_match_a_real_summary():
    """The allowed set is built without running the model; it must match what a run reports."""
    scenario = load_scenario(
        SMOKE, ["market.size=600", "acquisition.initial_members=50", "koc.initial_count=2"], days=max(WINDOWS) + 1
    )
    summary = simulate(scenario, record_events=False).summary
    columns = kpis.all_columns(scenario.days)
    values = kpis.extract(summary, columns)
    assert not [c for c, v in values.items() if math.isnan(v)]
    reported = {f"final.{k}" for k in summary["final"] if k != "days"}
    reported |= {f"w{w}.{k}" for w, t in summary["windows"].items() for k in t if k != "days"}
    reported |= {f"funnel.{k}" for k in summary["funnel"]} | {f"retention.{k}" for k in summary["retention"]}
    assert reported == set(columns)


def test_bare_kpi_names_expand_to_the_windows_the_runs_reach():
    cols, problems = kpis.expand(["gmv", "final.members", "funnel.buyer"], max_days=100)
    assert cols == ["final.gmv", "w30.gmv", "w90.gmv", "final.members", "funnel.buyer"] and not problems


def test_renormalize_rescales_the_other_shares(tmp_path):
    path = write_experiment(
        tmp_path,
        "seed: 3\nfactors:\n  content.mix.promotional: {levels: [0.4, 1.2], renormalize: content.mix}\n",
    )
    r = resolve_experiment(path)
    base_mix = r.bases[""]["content"]["mix"]
    scenario = build_scenario(r.plan(), r.tasks()[0])
    mix = scenario.content.mix
    assert mix["promotional"] == 0.4 and math.isclose(sum(mix.values()), 1.0)
    scale = 0.6 / (1 - base_mix["promotional"])
    assert math.isclose(mix["review"], base_mix["review"] * scale)
    assert scenario.seed == r.seeds[0]
    rows, _ = run_chunk(r.plan(), [t for t in r.tasks() if t.point == 1][:1])
    assert rows["status"].tolist() == ["failed"]
    assert "the varied shares of content.mix sum to 1.2 > 1" in rows["error"].iloc[0]


def test_an_invalid_combination_is_a_failed_run_with_its_seed_not_a_crash():
    base = load_scenario(SMOKE).model_dump(mode="json")
    plan = RunPlan({"": base}, (Setter("market.size", ("market", "size")),), ("final.members",))
    rows, _ = run_chunk(plan, [Task(0, 0, 99, (100,)), Task(1, 0, 99, (2000,))])
    assert list(rows["status"]) == ["failed", "ok"] and list(rows["seed"]) == [99, 99]
    assert "acquisition.initial_members (200) exceeds market.size (100)" in rows["error"].iloc[0]
    assert math.isnan(rows["final.members"].iloc[0]) and rows["final.members"].iloc[1] > 0

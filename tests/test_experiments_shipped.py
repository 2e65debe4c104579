"""Every shipped experiment runs (shortened) and analyses into the documented tables and figures."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.experiment.analysis import analyze
from sim.experiment.resolve import resolve_experiment
from sim.experiment.sensitivity import morris_indices, sobol_indices
from sim.experiment.sweep import run_sweep
from tests.experiment_helpers import ROOT

ALL_FILES = sorted((ROOT / "experiments").glob("*.yaml"))
#: Optimization problems (a ``levers`` section) run in tests/test_optimize_examples.py; the rest are sweeps.
OPTIMIZATIONS = [p for p in ALL_FILES if "levers" in (yaml.safe_load(p.read_text(encoding="utf-8")) or {})]
EXPERIMENTS = [p for p in ALL_FILES if p not in OPTIMIZATIONS]
#: Each run shortened to 15 days of a 2,000-person market: the tests check that the files run and analyse.
SHORT_DAYS = 15
SHORT = [f"set.days={SHORT_DAYS}", "set.market.size=2000", "set.acquisition.initial_members=100", "replications=2"]
SMALLER_DESIGN = {
    "content_mix_lhs": ["design.n=6"],
    "incentives_sobol": ["design.n=2"],
    "referral_push_uncertainty": ["design.n=6"],
}
EXPECTED = {
    "referral_reward_sweep": {"points.csv", "contrasts.csv", "response-final_members.png", "heatmap-final_members.png"},
    "content_mix_lhs": {"points.csv", "response-final_members.png"},
    "incentives_sobol": {"points.csv", "sobol.csv", "sobol-final_members.png", "response-final_members.png"},
    "operating_models": {"points.csv", "contrasts.csv", "compare-final_members.png"},
    "referral_push_uncertainty": {"points.csv", "response-final_members.png"},
}


def test_every_experiment_is_covered():
    assert {p.stem for p in EXPERIMENTS} == set(EXPECTED)
    # each run, shortened, by tests/test_optimize_examples.py
    assert {p.stem for p in OPTIMIZATIONS} == {"budget_split_optimize", "content_plan_optimize"}


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiment_runs_and_analyses(path: Path, tmp_path):
    resolved = resolve_experiment(path, SHORT + SMALLER_DESIGN.get(path.stem, []))
    full = resolve_experiment(path)
    assert full.n_runs >= 100 and full.kpis  # as shipped: a real study, not a toy
    outcome = run_sweep(resolved, tmp_path / "sweep", executor="serial")
    assert outcome.failed == 0 and len(outcome.runs) == resolved.n_runs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = analyze(tmp_path / "sweep", ["final.members"])
    names = {p.name for p in report.files}
    assert EXPECTED[path.stem] <= names, names
    for png in (p for p in report.files if p.suffix == ".png"):
        image = mpimg.imread(png)
        assert image.shape[0] > 300 and image.shape[1] > 600
    points = pd.read_csv(tmp_path / "sweep" / "analysis" / "points.csv")
    assert len(points) == len(resolved.design) and (points["n"] == 2).all()


def test_scenario_files_as_levels_compare_paired_by_seed(tmp_path):
    """The ``scenario`` factor compares whole scenario files; contrasts pair runs that share a seed."""
    path = tmp_path / "files.yaml"
    scenarios = ROOT / "scenarios"
    path.write_text(
        f"factors:\n  scenario: [{scenarios / 'baseline.yaml'}, {scenarios / 'referral_push.yaml'}]\n"
        "seed: 8\nreplications: 3\nkpis: [final.members, final.gmv]\n"
    )
    out = tmp_path / "files"
    overrides = [x for s in SHORT + ["replications=3"] for x in ("--set", s)]
    assert main(["sweep", str(path), "--out", str(out), "--quiet", "--workers", "2", *overrides]) == 0
    assert main(["analyze", str(out), "--kpi", "members", "--kpi", "final.gmv"]) == 0
    contrasts = pd.read_csv(out / "analysis" / "contrasts.csv")
    assert set(contrasts["kpi"]) == {"final.members", "final.gmv"}
    assert (contrasts["pairs"] == 3).all() and (contrasts["reference"] == str(scenarios / "baseline.yaml")).all()
    runs = pd.read_parquet(out / "runs.parquet")
    base = runs[runs["scenario"] == str(scenarios / "baseline.yaml")].set_index("replication")
    push = runs[runs["scenario"] == str(scenarios / "referral_push.yaml")].set_index("replication")
    assert (base["seed"] == push["seed"]).all()
    gmv = contrasts[contrasts["kpi"] == "final.gmv"]
    assert np.isclose(gmv["mean_diff"].iloc[0], (push["final.gmv"] - base["final.gmv"]).mean())
    assert (out / "analysis" / "compare-final_gmv.png").is_file()


def test_operating_model_levels_lay_their_preset_under_the_experiment_set():
    from sim.config.loader import preset_names
    from sim.experiment.runs import build_scenario

    r = resolve_experiment(ROOT / "experiments" / "operating_models.yaml", SHORT)
    assert set(r.design["operating_model"]) <= set(preset_names())
    for task in r.tasks()[:: r.experiment.replications]:
        scenario = build_scenario(r.plan(), task)
        assert scenario.operating_model == task.values[0]
        assert scenario.market.size == 2000 and scenario.days == SHORT_DAYS  # the experiment's set wins over the preset
    headcounts = {build_scenario(r.plan(), t).operators.headcount for t in r.tasks()}
    assert len(headcounts) > 1  # the presets differ, so they really were applied


def test_morris_design_analyses(tmp_path):
    path = ROOT / "experiments" / "content_mix_lhs.yaml"
    resolved = resolve_experiment(path, SHORT + ["design.kind=morris", "design.n=3", "replications=1"])
    run_sweep(resolved, tmp_path / "m", executor="serial")
    analyze(tmp_path / "m", ["final.members"])
    table = pd.read_csv(tmp_path / "m" / "analysis" / "morris.csv")
    assert list(table.columns) == ["kpi", "factor", "mu", "mu_star", "mu_star_conf", "sigma"]
    assert len(table) == 5 and (table["mu_star"] >= 0).all()
    assert (tmp_path / "m" / "analysis" / "morris-final_members.png").is_file()


def test_sensitivity_indices_recover_a_known_function():
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    x = sobol_sample.sample(problem, 1024, calc_second_order=False, seed=1)
    table = sobol_indices(problem, x[:, 0] + 2 * x[:, 1], second_order=False).set_index("factor")
    assert np.allclose(table["S1"], [0.2, 0.8, 0.0], atol=0.05)
    assert np.allclose(table["ST"], [0.2, 0.8, 0.0], atol=0.05)
    x = morris_sample.sample(problem, 20, num_levels=4, seed=1)
    table = morris_indices(problem, x, 3 * x[:, 0] + x[:, 1] ** 2, num_levels=4).set_index("factor")
    assert np.isclose(table.loc["a", "mu_star"], 3) and table.loc["a", "sigma"] < 1e-9
    assert table.loc["b", "sigma"] > 0 and table.loc["c", "mu_star"] == 0

"""The validation suite: its file, its metrics, scoring, and the validate command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.run.runner import simulate
from sim.validation.metrics import METRICS
from sim.validation.runner import COLUMNS, _case_row, run_suite, suite_seeds
from sim.validation.suite import DEFAULT_SUITE, ROOT, Case, Suite, load_suite
from tests.conftest import small

REQUIRED = ["id", "claim", "metric", "target", "tolerance", "simulated_mean", "ci_low", "ci_high", "passed"]


def test_shipped_suite_is_complete_and_consistent():
    suite = load_suite()
    ids = {c.id for c in suite.cases}
    assert {f"S{i}" for i in range(1, 17) if i != 10} | {"S10a", "S10b", "T1", "T2", "T3"} <= ids
    for case in suite.cases:
        for name in filter(None, (case.scenario, case.baseline)):
            assert (ROOT / "scenarios" / f"{name}.yaml").exists(), name


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios" / "validation").glob("*.yaml")), ids=lambda p: p.stem)
def test_validation_scenarios_load(path):
    from sim.config.loader import load_scenario

    if path.name != "suite.yaml":
        assert load_scenario(path).name == path.stem


def test_metrics_are_defined_and_bounded_on_a_run():
    result = simulate(small(days=120, referral={"reward_inviter": 10}), record_events=False)
    shares = (
        "repurchase_rate",
        "second_purchase_within_90",
        "monthly_repurchase_rate",
        "referral_conversion",
        "group_buy_share_of_new",
        "retention_180",
        "active_share",
        "conversion",
        "segment_conversion_gap",
    )
    for name in shares:
        value = METRICS[name][1](result)
        assert np.isnan(value) or 0.0 <= value <= 1.0, name
    assert METRICS["operating_cost"][1](result) == pytest.approx(
        result.timeseries[["cost_operators", "cost_content", "cost_koc"]].sum().sum()
    )
    assert METRICS["ltv_per_member"][1](result) > 0
    assert all(doc for doc, _ in METRICS.values())


def test_geometric_survival_metric_is_small_for_a_constant_hazard():
    from sim.config.loader import load_scenario

    s = load_scenario(ROOT / "scenarios" / "validation" / "geometric_survival.yaml", days=120)
    assert METRICS["survival_gap"][1](simulate(s, record_events=False)) < 0.03


def test_case_scoring_pairs_seeds_and_applies_the_rule():
    values = {("a", 1): {"m": 2.0}, ("a", 2): {"m": 4.0}, ("b", 1): {"m": 1.0}, ("b", 2): {"m": 2.0}}
    ratio = Case(
        id="x", claim="c", scenario="a", baseline="b", metric="conversion", compare="ratio", target=2.0, tolerance=0.01
    )
    values = {k: {"conversion": v["m"]} for k, v in values.items()}
    row = _case_row(ratio, [1, 2], values)
    assert row["simulated_mean"] == 2.0 and row["ci_low"] == row["ci_high"] == 2.0 and row["passed"]
    at_least = Case(id="y", claim="c", scenario="a", metric="conversion", compare="at_least", target=3.5, tolerance=0.0)
    assert not _case_row(at_least, [1, 2], values)["passed"]
    assert _case_row(at_least.model_copy(update={"target": 3.0}), [1, 2], values)["passed"]


def test_seeds_are_spawned_and_distinct():
    seeds = suite_seeds(
        Suite(
            replications=4,
            cases=[Case(id="a", claim="c", scenario="baseline", metric="conversion", target=0, tolerance=1)],
        )
    )
    assert len(set(seeds)) == 4 and all(0 <= s < 2**63 for s in seeds)


def test_run_suite_and_command_write_the_report_and_exit_1_when_a_case_fails(tmp_path, capsys):
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(
        "replications: 2\ncases:\n"
        "  - {id: A, claim: referral conversion, scenario: smoke, metric: referral_conversion, target: 0.25,"
        " tolerance: 0.2}\n"
        "  - {id: B, claim: impossible, scenario: smoke, metric: conversion, target: 5.0, tolerance: 0.1}\n"
    )
    results = tmp_path / "results"
    args = ["validate", "--suite", str(suite_file), "--results", str(results), "--quiet", "--workers", "1"]
    assert main([*args, "--set", "days=30"]) == 1  # case B fails; the report is written all the same
    assert "1 of 2 cases fail: B" in capsys.readouterr().err
    [out] = list((results / "validation").iterdir())  # a timestamped directory, as run's
    table = pd.read_csv(out / "validation.csv")
    assert list(table.columns[: len(COLUMNS)]) == COLUMNS and set(REQUIRED) <= set(table.columns)
    assert table.set_index("id")["passed"].to_dict() == {"A": True, "B": False}
    assert (out / "validation.png").stat().st_size > 10_000
    direct = run_suite(load_suite(suite_file), workers=1, overrides=("days=30",))
    assert direct["simulated_mean"].tolist() == pytest.approx(table["simulated_mean"].tolist(), rel=1e-5)


def test_bad_suite_is_reported(tmp_path, capsys):
    bad = tmp_path / "suite.yaml"
    bad.write_text("cases:\n  - {id: A, claim: c, scenario: smoke, metric: nonsense, target: 1, tolerance: 0}\n")
    assert main(["validate", "--suite", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "nonsense" in err and "suite.yaml" in err
    assert not (tmp_path / "o").exists()
    assert DEFAULT_SUITE.exists() and isinstance(load_suite(Path(DEFAULT_SUITE)), Suite)


def test_a_scenario_error_survives_the_trip_from_a_worker_process():
    import pickle

    from sim.config.errors import Problem, ScenarioError

    exc = ScenarioError([Problem("a.yaml", 2, "days", "must be >= 1"), Problem("a.yaml", 3, "seed", "bad")], "t")
    back = pickle.loads(pickle.dumps(exc))
    assert back.problems == exc.problems and str(back) == str(exc)


def test_validate_with_a_missing_scenario_names_the_case_and_runs_nothing(tmp_path, capsys):
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "cases:\n  - id: x\n    claim: c\n    scenario: nope\n    metric: repurchase_rate\n"
        "    target: 1\n    tolerance: 1\n  - id: y\n    claim: c\n    scenario: baseline\n"
        "    baseline: gone\n    compare: ratio\n    metric: repurchase_rate\n    target: 1\n    tolerance: 1\n",
        encoding="utf-8",
    )
    assert main(["validate", "--suite", str(suite), "--out", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"{suite}:4: cases[0].scenario: no scenario 'nope' (scenarios/nope.yaml)" in err
    assert f"{suite}:11: cases[1].baseline: no scenario 'gone' (scenarios/gone.yaml)" in err
    assert "2 problems in suite" in err and not (tmp_path / "out").exists()


def test_validate_reports_a_bad_set_before_any_worker_starts(tmp_path, capsys):
    assert main(["validate", "--set", "market.size=5", "--out", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --set market.size=5: market.size: must be >= 10") and "\n  " not in err
    assert not (tmp_path / "out").exists()

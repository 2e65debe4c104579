"""Health warnings scored as detectors: labels, scores, the proposal, and the `warnings` command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.config.loader import load_scenario, scenario_from_mapping
from sim.observe.detector import WARNINGS, alert_days, bad_outcome, base_rate, evaluate, outcome_day, score
from sim.run.runner import simulate
from sim.validation.detect import SHOCK_PLANS, shock_plan
from sim.validation.suite import ROOT
from tests.conftest import small


def test_the_outcome_is_a_net_decline_over_the_horizon():
    members = np.array([10, 11, 12, 11, 10, 9, 12, 13], dtype=float)
    bad = bad_outcome(members, 2)
    # day t is bad when members on t + 2 are fewer: 12<10? no; 11<11? no; 10<12 yes; 9<11 yes; 12<10 no; 13<9 no
    assert bad.tolist() == [False, False, True, True, False, False, False, False]
    assert outcome_day(members, 2) == 4  # the first day below the level two days before (10 < 12)
    assert outcome_day(np.arange(10.0), 3) is None


def _runs(n_days=200, horizon=30, seed=0):
    """Runs where members fall after a planted day, with a signal that rises 20 days before."""
    rng = np.random.default_rng(seed)
    runs = []
    for i in range(12):
        members = np.linspace(1000, 1500, n_days)
        signal = rng.normal(0.0, 0.1, n_days)
        calm = i % 3 == 0
        if not calm:
            fall = int(rng.integers(80, 140))
            members[fall:] = members[fall] - 8.0 * np.arange(n_days - fall)
            signal[fall - 20 :] += 1.0
        runs.append({"members": members, "negative_share": signal, "calm": calm})
    return runs


def test_a_perfect_and_an_always_on_warning_score_as_they_should():
    runs = _runs()
    horizon = 30
    labels = [bad_outcome(r["members"], horizon) for r in runs]
    calm_share, precision, recall, f1, _, on = score(labels, runs, horizon)
    assert (precision, recall, f1, calm_share) == (1.0, 1.0, 1.0, 0.0)
    assert on == sum(int(b.sum()) for b in labels)
    always = [np.ones(r["members"].size, dtype=bool) for r in runs]
    calm_share, precision, recall, _, _, _ = score(always, runs, horizon)
    assert calm_share == 1.0 and recall == 1.0
    assert precision == pytest.approx(base_rate(runs, horizon))


def test_the_proposal_finds_an_informative_signal_and_turns_off_noise():
    runs = _runs()
    negative = next(w for w in WARNINGS if w.name == "negative_sentiment")
    row = evaluate(negative, runs, {"max_negative_share": 5.0}, horizon=30, max_calm_share=0.3)
    assert row["current_calm_share"] == 0.0 and row["current_recall"] == 0.0  # never on at 5
    assert row["verdict"] == "use" and row["proposed_calm_share"] <= 0.3
    assert row["proposed_precision"] > 2 * row["base_rate"] and row["proposed_recall"] > 0.3
    assert 0.3 < row["proposed_threshold"] < 1.0 and row["proposed_lead_days"] > 0  # it warns ahead
    rng = np.random.default_rng(1)
    noise = [{**r, "negative_share": rng.normal(0.0, 0.1, r["members"].size)} for r in runs]
    row = evaluate(negative, noise, {"max_negative_share": 0.3}, horizon=30, max_calm_share=0.3)
    assert row["verdict"] == "off" and row["proposed_recall"] == 0.0


@pytest.fixture(scope="module")
def shocked():
    s = small(days=150, events=[{"kind": "competitor", "day": 60, "churn_lift": 0.8, "acquisition_factor": 0.5}])
    return s, simulate(s, record_events=False).timeseries


def test_alerts_are_the_ones_health_computes(shocked):
    """The detector's alert at the scenario's own threshold is the run's alert column, day by day."""
    s, ts = shocked
    health = s.health.model_dump()
    for w in WARNINGS:
        persist = health[w.persist_key] if w.persist_key else 1
        mine = alert_days(ts[w.column].to_numpy(dtype=float), health[w.key], w, persist)
        assert mine.tolist() == ts[f"alert_{w.name}"].astype(bool).tolist(), w.name


def test_shock_plans_are_seeded_and_balanced():
    plans = [shock_plan(7, i, 365) for i in range(8)]
    assert plans == [shock_plan(7, i, 365) for i in range(8)]
    assert [p for p, _ in plans] == list(SHOCK_PLANS) * 2
    assert plans != [shock_plan(8, i, 365) for i in range(8)]
    for _, events in plans:
        assert all(30 <= e["day"] < 365 - 60 for e in events)


def test_command_writes_scores_and_a_block_that_loads(tmp_path):
    out = tmp_path / "w"
    args = ["warnings", str(ROOT / "scenarios" / "smoke.yaml"), "--runs", "4", "--days", "120", "--horizon", "30"]
    assert main([*args, "--out", str(out), "--quiet", "--workers", "1", "--set", "market.size=1500"]) == 0
    table = pd.read_csv(out / "warnings.csv")
    assert table["warning"].tolist() == [w.name for w in WARNINGS]
    for col in ("current_calm_share", "current_precision", "proposed_precision", "proposed_recall", "base_rate"):
        assert table[col].between(0.0, 1.0).all(), col
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 4 and runs["plan"].tolist() == list(SHOCK_PLANS)
    proposed = yaml.safe_load((out / "proposed.yaml").read_text())
    base = load_scenario(ROOT / "scenarios" / "smoke.yaml").model_dump(mode="json")
    scenario = scenario_from_mapping({**base, **proposed})  # the block is a valid scenario part
    for r in table.itertuples():
        assert getattr(scenario.health, r.key) == pytest.approx(r.proposed_threshold, rel=1e-3)


def test_a_horizon_longer_than_the_run_is_refused(tmp_path, capsys):
    args = ["warnings", str(ROOT / "scenarios" / "smoke.yaml"), "--days", "60", "--horizon", "60"]
    assert main([*args, "--out", str(tmp_path / "w")]) == 2
    assert "--horizon" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()


def test_two_plain_runs_write_two_timestamped_directories(tmp_path):
    """Without --out, each run reserves results/warnings/<UTC time>, so a second run does not refuse."""
    args = ["warnings", str(ROOT / "scenarios" / "smoke.yaml"), "--runs", "4", "--days", "100", "--horizon", "30"]
    common = ["--results", str(tmp_path), "--quiet", "--workers", "1", "--set", "market.size=800"]
    assert main([*args, *common]) == 0
    assert main([*args, *common]) == 0
    written = sorted((tmp_path / "warnings").iterdir())
    assert len(written) == 2 and all((d / "warnings.csv").exists() for d in written)

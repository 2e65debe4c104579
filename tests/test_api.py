"""The Python API: the CLI's checks and messages, the CLI's numbers, run directories the CLI's readers accept."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim.api as cs
from sim.cli import main
from sim.compare.loading import load_runs
from sim.config.errors import ScenarioWarning
from sim.config.loader import load_scenario
from sim.run.atomic import OutputError

ROOT = Path(__file__).resolve().parents[1]
SMOKE = str(ROOT / "scenarios" / "smoke.yaml")
SMALL = {"market.size": 2000}
TINY = {
    "days": 20,
    "market": {"size": 800},
    "acquisition": {"initial_members": 60, "paid": {"daily_budget": 60}},
    "koc": {"initial_count": 3},
    "output": {"plots": False, "events": False},
}


def cli_error(capsys, *args: str) -> str:
    """The message ``community-sim run`` prints after ``error:`` (exit code 2)."""
    capsys.readouterr()
    assert main(["run", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    return err.removeprefix("error: ")


@pytest.mark.parametrize(
    ("overrides", "flag"),
    [
        ({"market.sise": 5000}, "market.sise=5000"),
        ({"referral.reward_inviter": -5}, "referral.reward_inviter=-5"),
        ({"operating_model": "matrix"}, "operating_model=matrix"),
        ({"content.mix.promotional": 2}, "content.mix.promotional=2"),
    ],
)
def test_a_bad_override_gives_the_cli_message(capsys, tmp_path, overrides, flag):
    with pytest.raises(cs.ScenarioError) as caught:
        cs.load(SMOKE, overrides)
    assert str(caught.value) == cli_error(capsys, SMOKE, "--set", flag, "--out", str(tmp_path / "o"))


def test_a_bad_seed_or_days_gives_the_cli_message(capsys, tmp_path):
    scenario = cs.load(SMOKE)
    with pytest.raises(cs.ScenarioError) as caught:
        cs.simulate(scenario, days=5000)
    assert "days" in str(caught.value) and "must be" in str(caught.value)
    with pytest.raises(cs.ScenarioError) as from_file:
        cs.load(SMOKE, days=5000)
    assert str(from_file.value) == cli_error(capsys, SMOKE, "--set", "days=5000", "--out", str(tmp_path / "o")).replace(
        "--set days=5000", "--days 5000"
    )


def test_override_values_are_python_values():
    scenario = cs.load(
        SMOKE,
        {
            "content.mix": {"educational": 0.5, "review": 0.5},
            "description": "yes",  # YAML would read a bare yes as true
            "referral.reward_inviter": 20,
            "output.plots": False,
        },
    )
    assert scenario.content.mix["educational"] == 0.5 and scenario.content.mix.get("promotional", 0.0) == 0.0
    assert scenario.description == "yes" and scenario.referral.reward_inviter == 20 and not scenario.output.plots
    assert cs.load(SMOKE, ["market.size=3000"]).market.size == 3000  # --set texts work too
    hybrid = cs.load(SMOKE, {"operating_model": "hybrid"})
    assert hybrid == load_scenario(SMOKE, ["operating_model=hybrid"])  # the preset is laid over the file, as --set


def test_a_loaded_scenario_can_be_changed_again():
    scenario = cs.load(SMOKE, SMALL)
    again = cs.load(scenario, {"referral.reward_inviter": 30}, seed=9)
    assert again.referral.reward_inviter == 30 and again.seed == 9 and again.market.size == 2000
    assert scenario.referral.reward_inviter != 30  # the original is untouched
    with pytest.raises(cs.ScenarioError, match=r"^--set market\.sise=1: market: unknown key 'sise'"):
        cs.load(scenario, {"market.sise": 1})


def test_shortening_a_loaded_scenario_drops_late_events_with_the_cli_warning(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**TINY, "days": 100, "events": [{"kind": "promotion", "name": "sale", "day": 70}]}))
    scenario = cs.load(path)
    with pytest.warns(ScenarioWarning, match=r"^--days 50: events\[0\] \(sale\) on day 70 will not happen"):
        short = cs.load(scenario, days=50)
    assert short.days == 50 and short.events == []


def test_same_seed_same_frames_other_seed_other_numbers():
    scenario = cs.load(SMOKE, SMALL, days=15)
    a, b = cs.simulate(scenario, seed=5), cs.simulate(scenario, seed=5)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert a.summary == b.summary and a.scenario.seed == 5
    c = cs.simulate(scenario, seed=6)
    assert not c.timeseries["gmv"].equals(a.timeseries["gmv"])


def test_run_frames_are_readable():
    run = cs.simulate(SMOKE, days=15, overrides=SMALL)
    assert run.timeseries.index.name == "day" and list(run.timeseries.index) == list(range(15))
    events = run.events
    assert {"day", "kind", "person", "source", "amount", "net", "counterpart", "label"} <= set(events.columns)
    assert set(events["kind"].astype(str)) >= {"join", "purchase"}
    joins = events[events["kind"] == "join"]
    assert set(joins["source"].astype(str)) <= {"initial", "paid", "organic", "referral", "winback", "group_buy"}
    assert joins["source"].notna().all() and events.loc[events["kind"] != "join", "source"].isna().all()
    assert run.final["members"] == run.timeseries["members"].iloc[-1]
    assert "members=" in repr(run) and "seed=42" in repr(run)


def test_save_writes_what_the_cli_writes(tmp_path):
    run = cs.simulate(SMOKE, seed=3, days=12, overrides=SMALL)
    saved = run.save(tmp_path / "api")
    flags = ["--seed", "3", "--days", "12", "--set", "market.size=2000", "--quiet"]
    assert main(["run", SMOKE, *flags, "--out", str(tmp_path / "cli")]) == 0
    cli = tmp_path / "cli"
    for name in ("timeseries.csv", "summary.json", "scenario.yaml"):
        assert (saved / name).read_bytes() == (cli / name).read_bytes(), name
    pd.testing.assert_frame_equal(pd.read_parquet(saved / "events.parquet"), pd.read_parquet(cli / "events.parquet"))
    assert sorted(p.name for p in saved.rglob("*")) == sorted(p.name for p in cli.rglob("*"))
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["seed"] == 3 and "report.html" in manifest["files"]
    # what reads run directories reads it: export, and compare's loader
    assert main(["export", str(saved), "--out", str(tmp_path / "tx.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "tx.csv")) == (run.events["kind"] == "purchase").sum()
    other = cs.simulate(SMOKE, seed=3, days=12, overrides={**SMALL, "acquisition.paid.daily_budget": 400})
    ens = load_runs([saved, other.save(tmp_path / "other")])
    assert len(ens.strategies) == 2 and ens.seeds == [3]


def test_save_refuses_a_directory_in_use_and_defaults_under_results(tmp_path, monkeypatch):
    run = cs.simulate(SMOKE, days=3, overrides={**SMALL, "output.plots": False})
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="already exists and is not empty"):
        run.save(taken)
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
    monkeypatch.chdir(tmp_path)
    path = run.save()
    assert path.parent == Path("results") / "smoke" and path.name.endswith("-s42") and (path / "report.html").exists()


def write_tiny(tmp_path: Path, name: str, **changes) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**TINY, "name": name, **changes}))
    return path


def test_compare_table_is_the_cli_comparison_csv(tmp_path):
    a = write_tiny(tmp_path, "plain")
    b = write_tiny(tmp_path, "rewarded", referral={"reward_inviter": 20, "reward_invitee": 10})
    cmp = cs.compare([a, b], replications=2, seed=11, executor="serial")
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--replications", "2", "--seed", "11", "--out", str(out), "-q"]) == 0
    csv = pd.read_csv(out / "comparison.csv")
    assert list(cmp.table.columns) == list(csv.columns) and len(cmp.table) == len(csv)
    numeric = cmp.table.select_dtypes("number").columns
    pd.testing.assert_frame_equal(cmp.table[numeric], csv[numeric], rtol=1e-5, check_dtype=False)
    assert list(cmp.ranking["strategy"]) == list(pd.read_csv(out / "ranking.csv")["strategy"])
    assert cmp.baseline == "plain" and len(cmp.sentences) == 2  # whether they make money, then the difference
    assert "money" in cmp.sentences[0] and "rewarded" in cmp.sentences[1]
    runs = cmp.runs
    assert list(runs["strategy"]) == ["plain", "plain", "rewarded", "rewarded"]
    assert list(runs["seed"][:2]) == list(runs["seed"][2:]) == cmp.ensemble.seeds  # paired: the same seeds
    mean = runs.groupby("strategy")["final.cum_profit"].mean()
    assert cmp.kpi("final.cum_profit")["mean"].to_dict() == pytest.approx(mean.to_dict())


def test_compare_errors_are_the_cli_errors(tmp_path):
    a, b = write_tiny(tmp_path, "one"), write_tiny(tmp_path, "two")
    with pytest.raises(cs.CompareError, match="compare takes 2 to 6 strategies, got 1"):
        cs.compare([a])
    with pytest.raises(cs.CompareError, match="KPI<=VALUE"):
        cs.compare([a, b], constraints=["cost < 5"])
    with pytest.raises(cs.CompareError, match=r"--baseline 'three' is none of the strategies"):
        cs.compare([a, b], baseline="three")
    c = write_tiny(tmp_path, "long", days=25)
    with pytest.raises(cs.CompareError, match="different numbers of days"):
        cs.compare([a, c])
    with pytest.raises(cs.ScenarioError, match="unknown key 'sise'"):
        cs.compare([a, b], overrides={"market.sise": 1})


def test_compare_and_replicate_take_loaded_scenarios(tmp_path):
    a = cs.load(write_tiny(tmp_path, "base"))
    b = cs.load(a, {"acquisition.paid.daily_budget": 120})  # the same name: told apart as the CLI does
    cmp = cs.compare([a, b], replications=2, days=15, executor="serial")
    assert cmp.ensemble.strategies == ["base", "base (2)"] and len(cmp.runs) == 4
    reps = cs.replicate(a, 2, days=15, executor="serial")  # the same master seed: compare's runs of ``a``
    pd.testing.assert_frame_equal(reps, cmp.runs[cmp.runs["strategy"] == "base"].drop(columns="strategy"))


def test_compare_default_seed_is_the_cli_default():
    cli = importlib.import_module("sim.cli.commands")
    seed = inspect.signature(cli.compare).parameters["seed"].default
    assert seed == cs.COMPARE_SEED

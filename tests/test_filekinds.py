"""A YAML file given to the wrong command is told which command it is for, in one sentence (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/baseline.yaml"
SWEEP = "experiments/referral_reward_sweep.yaml"
OPTIMIZATION = "experiments/budget_split_optimize.yaml"


@pytest.mark.parametrize(
    ("command", "path", "kind", "expected", "right"),
    [
        ("run", SWEEP, "an experiment", "a scenario", "sweep"),
        ("run", OPTIMIZATION, "an optimization", "a scenario", "optimize"),
        ("sweep", SCENARIO, "a scenario", "an experiment", "run"),
        ("sweep", OPTIMIZATION, "an optimization", "an experiment", "optimize"),
        ("optimize", SCENARIO, "a scenario", "an optimization", "run"),
        ("optimize", SWEEP, "an experiment", "an optimization", "sweep"),
    ],
)
def test_a_file_for_another_command_names_that_command(command, path, kind, expected, right, tmp_path, capsys):
    full = str(ROOT / path)
    code = main([command, full, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"this is {kind} file" in err and f"not {expected}: run `community-sim {right} {full}`" in err
    assert err.count("error:") == 1 and "unknown key" not in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_scenario_of_shared_keys_only_is_still_a_scenario(tmp_path):
    from sim.config.loader import load_scenario

    path = tmp_path / "plain.yaml"
    path.write_text("name: plain\ndays: 30\nseed: 7\n", encoding="utf-8")
    assert load_scenario(path).days == 30

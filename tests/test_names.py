"""Scenario and experiment names become directories under the results root: '.' and '..' never do."""

from __future__ import annotations

import pytest

from sim.cli import main
from sim.config.errors import ScenarioError
from sim.config.loader import load_scenario
from sim.experiment.spec import read_experiment
from tests.experiment_helpers import write_experiment


@pytest.mark.parametrize("name", [".", ".."])
def test_an_experiment_named_dot_or_dotdot_is_refused_at_its_line(tmp_path, name):
    path = write_experiment(tmp_path, f"name: '{name}'\nseed: 1\nfactors:\n  days: [5]\n")
    with pytest.raises(ScenarioError) as info:
        read_experiment(path)
    assert f"exp.yaml:3: name: {name!r} cannot be a name" in str(info.value)


def test_a_sweep_named_dotdot_writes_nothing(tmp_path, capsys):
    path = write_experiment(tmp_path, "name: '..'\nseed: 1\nfactors:\n  days: [5]\n")
    results = tmp_path / "results"
    assert main(["sweep", str(path), "--results", str(results), "-q"]) == 2
    assert "cannot be a name" in capsys.readouterr().err
    assert not results.exists()


@pytest.mark.parametrize("name", [".", ".."])
def test_a_scenario_named_dot_or_dotdot_is_refused_at_its_line(tmp_path, name):
    path = tmp_path / "s.yaml"
    path.write_text(f"days: 5\nname: '{name}'\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"s.yaml:2: name: '{name}' cannot be a name"):
        load_scenario(path)


def test_a_file_whose_stem_is_dotdot_gets_the_default_name(tmp_path):
    path = write_experiment(tmp_path, "seed: 1\nfactors:\n  days: [5]\n", name="...yaml")
    assert read_experiment(path)[0].name == "experiment"

"""Scenario and experiment names become directories under the results root: names in any script (社群测试)
are accepted, each gives a directory name safe on every system, and '.' and '..' are refused."""

from __future__ import annotations

import json

import pytest

from sim.cli import main
from sim.config.base import dir_name
from sim.config.errors import ScenarioError
from sim.config.loader import load_scenario
from sim.dashboard.export import default_path
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


# --- names in any script --------------------------------------------------------------------------


def test_a_chinese_name_is_accepted_and_runs_into_a_directory_of_that_name(tmp_path, capsys):
    """``name: 社群测试`` loads, runs into results/社群测试/<run>, and the run reloads (export)."""
    path = tmp_path / "s.yaml"
    path.write_text("name: 社群测试\ndays: 8\nmarket: {size: 600}\nacquisition: {initial_members: 40}\n", "utf-8")
    assert load_scenario(path).name == "社群测试"
    results = tmp_path / "results"
    assert main(["run", str(path), "--results", str(results), "--set", "output.plots=false", "-q"]) == 0
    (run,) = (results / "社群测试").iterdir()
    assert json.loads((run / "manifest.json").read_text(encoding="utf-8"))["scenario"]["name"] == "社群测试"
    assert main(["export", str(run), "--format", "rfm"]) == 0
    assert (run / "export").is_dir() and any((run / "export").iterdir())
    assert default_path(load_scenario(path)).name.startswith("社群测试-")


def test_a_file_stem_in_chinese_names_the_scenario(tmp_path):
    path = tmp_path / "六一八 大促.yaml"
    path.write_text("days: 5\n", encoding="utf-8")
    assert load_scenario(path).name == "六一八_大促"  # the space becomes '_'


@pytest.mark.parametrize(
    "name",
    ["社群测试", "Ünïcode-1.0", "กลุ่ม", "مجتمع", "x" * 80, "社" * 80, "a.b-c_d", "٣٤"],
)
def test_names_of_letters_and_digits_in_any_script_are_accepted(tmp_path, name):
    path = tmp_path / "s.yaml"
    path.write_text(f"days: 5\nname: {json.dumps(name, ensure_ascii=False)}\n", encoding="utf-8")
    assert load_scenario(path).name == name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("社群测试", "社群测试"),
        ("社群測試.v2", "社群測試.v2"),
        (".hidden", "hidden"),
        ("...", "unnamed"),
        ("trailing..", "trailing"),
        ("a/b\\c:d", "a_b_c_d"),
        ("tab\there\x00", "tab_here_"),
        ("CON", "_CON"),
        ("nul.report", "_nul.report"),
        ("com1", "_com1"),
        ("console", "console"),
        ("e\u0301", "\u00e9"),  # NFC, as macOS stores names
        ("社" * 80, "社" * 66),  # 66 characters of 3 bytes: at most 200 bytes
        ("a" * 100, "a" * 80),
    ],
)
def test_dir_name_is_safe_on_every_system(name, expected):
    assert dir_name(name) == expected
    assert len(expected.encode("utf-8")) <= 200


def test_compare_shows_chinese_strategy_names_escaped_in_the_report(tmp_path):
    files = []
    for name in ("基线", "裂变团购"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(
            f"name: {name}\ndays: 10\nmarket: {{size: 500}}\nacquisition: {{initial_members: 40}}\n", "utf-8"
        )
        files.append(str(path))
    out = tmp_path / "cmp"
    assert main(["compare", *files, "--replications", "1", "--out", str(out), "-q", "--executor", "local"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<title>Strategy comparison: 基线, 裂变团购</title>" in page and "PingFang SC" in page
    assert "基线" in (out / "ranking.csv").read_text(encoding="utf-8")

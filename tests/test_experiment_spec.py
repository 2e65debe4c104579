"""Experiment files are checked before any run: every mistake named with file, line and key."""

from __future__ import annotations

import pytest

from sim.config.errors import ScenarioError
from sim.experiment.resolve import resolve_experiment
from tests.experiment_helpers import write_experiment


def _error(tmp_path, body: str, small: bool = True) -> str:
    path = write_experiment(tmp_path, body, small=small)
    with pytest.raises(ScenarioError) as info:
        resolve_experiment(path)
    return str(info.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "seed: 1\nfactors:\n  referral.reward_invter: [0, 10]\n",
            "exp.yaml:5: factors.referral.reward_invter: unknown scenario key 'referral.reward_invter'; "
            "did you mean 'referral.reward_inviter'?",
        ),
        (
            "seed: 1\nfactors:\n  market.network.kind: {range: [0, 1]}\n",
            "exp.yaml:5: factors.market.network.kind.range: a range needs a numeric value; market.network.kind "
            "takes one of 'random', 'small_world', 'scale_free', 'complete': list levels",
        ),
        ("seed: 1\nfactors:\n  content.quality: {levels: []}\n", "levels is empty: the design would have no points"),
        ("seed: 1\nfactors: {}\n", "exp.yaml:4: factors: no factors: the design would have no points"),
        (
            "seed: 1\nfactors:\n  content.quality: {range: [0, 1]}\ndesign: {kind: sobol, n: 10}\n",
            "exp.yaml:6: design: the Sobol (Saltelli) base size n must be a power of two (e.g. 8, 16, 64), got 10",
        ),
        (
            "seed: 1\nfactors:\n  content.quality: [0.5, 1.5]\n",
            "factors.content.quality.levels: content.quality: 1.5 is outside the allowed range (>= 0 and <= 1)",
        ),
        (
            "seed: 1\nfactors:\n  content.mix.promo: [0.1]\n",
            "content.mix has no entry 'promo'; did you mean 'content.mix.promotional'?",
        ),
        (
            "seed: 1\nfactors:\n  content.quality: [0.5]\nkpis: [gmv, final.membrs]\n",
            "exp.yaml:6: kpis[1]: unknown KPI 'final.membrs'; did you mean 'final.members'",
        ),
        (
            "seed: 1\nfactors:\n  content.quality: [0.5]\nkpis: [w90.gmv]\n",
            "'w90.gmv' needs runs of at least 90 days; the longest run here has 30",
        ),
        (
            "seed: 1\nfactors:\n  content.quality: [0.5, 0.6]\ndesign: {kind: lhs, n: 4}\n",
            "a lhs design samples numeric ranges: give range: [low, high]",
        ),
        (
            "seed: 1\nfactors:\n  content.quality: [0.5, 0.6]\n  operators.headcount: [1, 2, 3]\ndesign: zip\n",
            "zip pairs the i-th levels of every factor, so all need as many levels",
        ),
        ("seed: 1\nfactors:\n  operators.headcount: [1.5]\n", "1.5 is not valid here: input should be a valid integer"),
        ("factors:\n  content.quality: [0.5]\n", "seed: required key is missing (the master seed"),
        ("seed: 1\nfactors:\n  content.quality: [0.5]\ndesing: grid\n", "unknown key 'desing'; did you mean 'design'?"),
        ("seed: 1\nfactors:\n  seed: [1, 2]\n", "factors.seed: seeds come from 'seed' and 'replications'"),
        (
            "seed: 1\nfactors:\n  content.quality: {range: [0.2, 0.8]}\n",
            "a range in a grid design needs steps: N (evenly spaced values), or list levels",
        ),
        (
            "seed: 1\nfactors:\n  content.mix.review: {range: [0.1, 0.3], steps: 3, renormalize: content.quality}\n",
            "renormalize names a table of shares such as content.mix; content.quality is not one",
        ),
    ],
)
def test_mistakes_are_reported_with_line_and_key(tmp_path, body, expected):
    assert expected in _error(tmp_path, body)


def test_every_problem_is_listed_at_once(tmp_path):
    message = _error(tmp_path, "seed: 1\nfactors:\n  content.qualty: [0.5]\n  operators.headcount: [-1]\n")
    assert message.startswith("2 problems in experiment")
    assert "exp.yaml:5: factors.content.qualty" in message and "exp.yaml:6: factors.operators.headcount" in message


def test_scenario_overrides_in_set_are_located_in_the_experiment(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("scenario: ../x.yaml\nseed: 1\nfactors:\n  content.quality: [0.5]\n")
    with pytest.raises(ScenarioError, match=r"exp.yaml:1: scenario: scenario file not found: .*x.yaml"):
        resolve_experiment(path)
    message = _error(tmp_path, "seed: 1\nset: {market.sise: 5}\nfactors:\n  content.quality: [0.5]\n", small=False)
    assert "exp.yaml:3: set.market.sise: market: unknown key 'sise'; did you mean 'size'?" in message


def test_scenario_factor_and_scenario_key_exclude_each_other(tmp_path):
    message = _error(tmp_path, "seed: 1\nfactors:\n  scenario: [a.yaml]\n")
    assert "give the base either as 'scenario:' or as levels of the scenario factor, not both" in message


def test_shorthands_and_command_line_overrides(tmp_path):
    path = write_experiment(tmp_path, "seed: 1\nfactors:\n  content.quality: [0.5, 0.7]\ndesign: grid\n")
    r = resolve_experiment(path, ["replications=3", "set.days=20", "factors.content.quality.levels=[0.4]"])
    assert r.experiment.replications == 3 and len(r.seeds) == 3
    assert r.bases[""]["days"] == 20
    assert list(r.design["content.quality"]) == [0.4]
    assert r.n_runs == 3


def test_hash_depends_on_what_shapes_results_only(tmp_path):
    body = "seed: 1\nfactors:\n  content.quality: [0.5, 0.7]\n"
    a = resolve_experiment(write_experiment(tmp_path, "name: a\n" + body, "a.yaml"))
    b = resolve_experiment(write_experiment(tmp_path, "name: b\ndescription: other words\n" + body, "b.yaml"))
    c = resolve_experiment(write_experiment(tmp_path, body.replace("seed: 1", "seed: 2"), "c.yaml"))
    assert a.sha256 == b.sha256 != c.sha256


def test_command_line_reports_bad_input_with_exit_code_2(tmp_path, capsys):
    from sim.cli import main

    path = write_experiment(tmp_path, "seed: 1\nfactors:\n  content.qualty: [0.5]\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "exp.yaml:5: factors.content.qualty: unknown scenario key" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    good = write_experiment(tmp_path, "seed: 1\nfactors:\n  content.quality: [0.5]\n", "good.yaml")
    assert main(["sweep", str(good), "--out", str(tmp_path / "notes")]) == 2
    assert "holds no sweep" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path / "notes")]) == 2
    assert "is not a sweep directory" in capsys.readouterr().err
    assert main(["sweep", str(good), "--executor", "ray"]) == 2


def test_a_factor_inside_a_program_switched_off_in_the_scenario_is_warned_of(tmp_path):
    """Its levels all run alike (the program ignores them), so a sensitivity analysis would call the lever
    inert; the warning names the factor's line. Switched on by ``set`` or by a factor, it is not warned of."""
    import warnings

    from sim.config.errors import ScenarioWarning

    path = write_experiment(tmp_path, "seed: 1\nfactors:\n  incentives.lottery.prize_value: [10, 30]\n")
    with pytest.warns(ScenarioWarning) as caught:
        resolve_experiment(path)
    line = path.read_text().splitlines().index("  incentives.lottery.prize_value: [10, 30]") + 1
    assert [str(w.message) for w in caught] == [
        f"{path}:{line}: factors.incentives.lottery.prize_value: incentives.lottery is switched off "
        "(enabled: false) in the scenario, so all its values run alike; switch it on with set: "
        "{incentives.lottery.enabled: true}, or vary incentives.lottery.enabled too"
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)
        resolve_experiment(path, ["set.incentives.lottery.enabled=true"])
        resolve_experiment(path, ["factors.incentives.lottery.enabled.levels=[true, false]"])


def test_no_shipped_experiment_or_optimization_varies_a_switched_off_program():
    import warnings
    from pathlib import Path

    from sim.config.errors import ScenarioWarning
    from sim.optimize.resolve import resolve_optimization

    files = sorted(Path("experiments").glob("*.yaml"))
    assert len(files) >= 7
    for path in files:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScenarioWarning)
            (resolve_optimization if path.stem.endswith("_optimize") else resolve_experiment)(path)
        assert [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)] == [], path


def test_an_optimization_lever_inside_a_switched_off_program_is_warned_of(tmp_path):
    from sim.config.errors import ScenarioWarning
    from sim.optimize.resolve import resolve_optimization
    from tests.optimize_helpers import write_spec

    body = "seed: 1\nlevers:\n  incentives.lottery.prize_value: {range: [10, 50]}\n"
    body += "objectives:\n  - {kpi: final.cum_profit, direction: maximize}\n"
    with pytest.warns(ScenarioWarning, match=r"levers\.incentives\.lottery\.prize_value: incentives\.lottery is "):
        resolve_optimization(write_spec(tmp_path, body))

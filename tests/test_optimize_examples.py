"""The shipped optimization problems run as shipped, shortened: a tiny market, a few days, a few trials."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from sim.cli.main import main
from sim.config.loader import load_scenario
from sim.experiment.paths import get_value, split
from tests.optimize_helpers import ROOT

SHORT = [
    "--set", "set.market.size=300", "--set", "set.acquisition.initial_members=30", "--set", "set.koc.initial_count=2",
    "--set", "set.days=31", "--set", "replications=2", "--set", "verify.replications=2", "--set", "verify.top=1",
    "--set", "search.batch=2", "--trials", "4", "--workers", "1", "--quiet",
]  # fmt: skip
#: 31-day runs have no 180-day retention: the shortened budget problem constrains the 30-day one.
SHORT_CONSTRAINT = ["--set", "constraints=[{kpi: retention.day_30, min: 0.5}]"]


@pytest.mark.parametrize(
    ("name", "extra"),
    [("budget_split_optimize.yaml", SHORT_CONSTRAINT), ("content_plan_optimize.yaml", [])],
)
def test_shipped_example_runs_shortened(tmp_path, capfd, name, extra):
    out = tmp_path / "out"
    assert main(["optimize", str(ROOT / "experiments" / name), "--out", str(out), *SHORT, *extra]) == 0
    # the workers' output too, when their forkserver starts in this test (one an earlier test started writes
    # to that test's capture): test_no_shipped_optimization_warns_in_any_trial checks the trials either way
    err = capfd.readouterr().err
    assert "warning" not in err.lower(), err
    trials = pd.read_parquet(out / "trials.parquet")
    assert trials["trial"].nunique() == 4
    spec = yaml.safe_load((ROOT / "experiments" / name).read_text())
    for lever in spec["levers"]:
        assert f"lever.{lever}" in trials
    for path in spec.get("uncertainties", {}):
        ran = trials[trials["replication"] >= 0]
        assert ran.groupby("replication")[f"uncertainty.{path}"].nunique().eq(1).all()  # shared by all trials
    for file in ("pareto.csv", "convergence.png", "report.html", "manifest.json"):
        assert (out / file).stat().st_size > 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<ul class='summary'>" in page
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["verification_seeds"]).isdisjoint(manifest["search_seeds"])
    for best in sorted((out / "best").glob("*.yaml")):  # scenarios run accepts unchanged, with the trial's levers
        scenario = load_scenario(best).model_dump(mode="json")
        trial = int(best.stem.split("trial")[1])
        row = trials[trials["trial"] == trial].iloc[0]
        for lever in spec["levers"]:
            assert get_value(scenario, split(lever)) == pytest.approx(row[f"lever.{lever}"])


def _lever_values(resolved) -> list[tuple]:
    """Settings that reach every value of each lever: each choice (each end of a range) with the other levers
    at their first choice (low end), and all at their last (high end); uncertainties at their first value."""
    ends = {}
    for name, lever in resolved.levers.items():
        ends[name] = list(lever.spec.choices) if lever.spec.choices is not None else list(lever.spec.range)
    first = {k: v[0] for k, v in ends.items()}
    settings = [{**first, name: v} for name, values in ends.items() for v in values]
    settings.append({k: v[-1] for k, v in ends.items()})
    sampled = tuple(u.values[0] if u.dist == "choice" else u.low for _, u, _ in resolved.uncertain)
    return [tuple(s[k] for k in resolved.levers) + sampled for s in settings]


@pytest.mark.parametrize("name", ["budget_split_optimize.yaml", "content_plan_optimize.yaml"])
def test_no_shipped_optimization_warns_in_any_trial(name):
    """Resolving the file checks the base scenario and the levers against it; a trial's scenario (the base with
    the trial's lever values, e.g. the weekly livestream switched on) is built in the workers, so each value of
    each lever is built here too: no setting the file can take may warn."""
    import warnings

    from sim.config.errors import ScenarioWarning
    from sim.experiment.runs import Task, build_scenario
    from sim.optimize.resolve import resolve_optimization

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        resolved = resolve_optimization(ROOT / "experiments" / name)
        plan = resolved.plan()
        for i, values in enumerate(_lever_values(resolved)):
            build_scenario(plan, Task(i, 0, 1, values))
    assert [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)] == []

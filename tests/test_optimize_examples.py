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
def test_shipped_example_runs_shortened(tmp_path, name, extra):
    out = tmp_path / "out"
    assert main(["optimize", str(ROOT / "experiments" / name), "--out", str(out), *SHORT, *extra]) == 0
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

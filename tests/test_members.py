"""The members table (``run --members``): the final state of everyone who ever joined."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_run_members_writes_one_row_per_person_who_joined(tmp_path):
    out = tmp_path / "run"
    args = ["run", str(ROOT / "scenarios" / "smoke.yaml"), "--days", "15", "--members", "--quiet", "--out", str(out)]
    args += [
        "--set",
        "output.plots=false",
        "--set",
        "referral.base_invite_prob=0.05",
        "--set",
        "incentives.points.enabled=true",
    ]
    assert main(args) == 0
    members = pd.read_parquet(out / "members.parquet")
    final = json.loads((out / "summary.json").read_text())["final"]
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(members) == final["ever_joined"] and members["person"].is_unique
    assert (members["status"] == "member").sum() == final["members"]
    assert set(members.loc[members["status"] == "churned", "stage"]) <= {"churned"}
    assert members["purchases"].sum() == ts["purchases"].sum()  # only those who joined buy
    referred = members[members["join_source"] == "referral"]
    assert len(referred) and (referred["referrer"] >= 0).all()
    assert (members.loc[members["join_source"] != "referral", "referrer"] == -1).all()
    assert members["points"].sum() > 0 and (members["first_purchase_day"] >= -1).all()
    assert "members.parquet" in json.loads((out / "manifest.json").read_text())["files"]


def test_without_the_flag_there_is_no_members_table(tmp_path):
    out = tmp_path / "run"
    args = ["run", str(ROOT / "scenarios" / "smoke.yaml"), "--days", "3", "--quiet", "--out", str(out)]
    assert main([*args, "--set", "output.plots=false"]) == 0
    assert not (out / "members.parquet").exists()

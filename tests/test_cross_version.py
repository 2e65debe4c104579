"""The same scenario and seed give the same files under another Python and Mesa.

Set ``COMMUNITY_SIM_OTHER_PYTHON`` to an interpreter of another Python (and Mesa)
version with this project installed (``pip install -e .`` into its own virtual
environment); the test then runs scenarios under both and compares the time series,
summary and event log. Without it the test is skipped: a fresh machine has one
Python. Checked on Python 3.11.7 + Mesa 3.3.1 + numpy 2.4 against Python 3.12.1 +
Mesa 3.5.1 + numpy 2.5 (README, "Where results go").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
OTHER = os.environ.get("COMMUNITY_SIM_OTHER_PYTHON")

CASES = [
    ["scenarios/coupon_targeted.yaml", "--set", "market.size=20000"],
    ["benchmarks/everything_on.yaml", "--set", "market.size=20000"],
    # whole-column days: everyone a member
    ["benchmarks/million_members.yaml", "--set", "market.size=20000", "--set", "acquisition.initial_members=20000"],
]


def _run(python: str, args: list[str], out: Path) -> None:
    cmd = [python, "-m", "sim", "run", *args, "--set", "output.plots=false", "--out", str(out), "--quiet"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(not OTHER, reason="set COMMUNITY_SIM_OTHER_PYTHON to compare with another Python and Mesa")
@pytest.mark.parametrize("args", CASES, ids=lambda a: Path(a[0]).stem)
def test_same_files_under_another_python_and_mesa(args, tmp_path):
    versions = [sys.executable, OTHER]
    probe = "import sys, mesa, numpy; print(sys.version_info[:2], mesa.__version__, numpy.__version__)"
    shown = [subprocess.run([p, "-c", probe], capture_output=True, text=True).stdout.strip() for p in versions]
    assert shown[0] != shown[1], f"both interpreters are {shown[0]}: nothing to compare"
    outs = [tmp_path / "here", tmp_path / "other"]
    for python, out in zip(versions, outs, strict=True):
        _run(python, args, out)
    here, other = outs
    for name in ("timeseries.csv", "summary.json"):
        assert (here / name).read_bytes() == (other / name).read_bytes(), f"{name} differs: {shown}"
    for name in ("timeseries.parquet", "events.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(here / name), pd.read_parquet(other / name))

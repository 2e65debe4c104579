"""Golden output: a seeded scenario's summary is compared with a committed file.

An intended change of behaviour updates the file (``UPDATE_GOLDEN=1 pytest
tests/test_golden.py``) and shows up in review; an unintended one fails here.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from sim.run.runner import simulate
from tests.conftest import small

GOLDEN = Path(__file__).parent / "golden" / "small_summary.json"


def _compare(actual, expected, path="summary"):
    if isinstance(expected, dict):
        assert set(actual) == set(expected), f"{path}: keys differ: {set(actual) ^ set(expected)}"
        for k in expected:
            _compare(actual[k], expected[k], f"{path}.{k}")
    elif isinstance(expected, float):
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {actual} != {expected}"
    else:
        assert actual == expected, f"{path}: {actual} != {expected}"


def test_summary_matches_golden_file():
    scenario = small(
        days=90, referral={"reward_inviter": 10, "reward_invitee": 5}, incentives={"points": {"enabled": True}}
    )
    summary = json.loads(json.dumps(simulate(scenario, record_events=False).summary))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    assert GOLDEN.exists(), f"{GOLDEN} is missing: create it with UPDATE_GOLDEN=1"
    _compare(summary, json.loads(GOLDEN.read_text()))

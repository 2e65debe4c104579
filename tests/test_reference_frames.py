"""The engine and the mesa-frames reference (benchmarks/reference_frames.py) agree on the core rules.

Skipped unless mesa-frames is installed (optional: ``pip install --no-deps mesa-frames &&
pip install polars``). As tests/test_reference_model.py does for plain Mesa:
same scenario (benchmarks/core_rules.yaml: 3,000 people, 90 days), several seeds
each; the mean of every KPI must agree within the seed-to-seed spread (Welch's
t-test, p > 0.01), and an engine whose purchase probability is a quarter higher
must be told apart.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from test_reference_model import BENCH, DIVERGING, KPIS, disagreements, engine_runs, reference_runs

from sim.config.loader import load_scenario

pytest.importorskip("mesa_frames", reason="optional: pip install --no-deps mesa-frames && pip install polars")
sys.path.insert(0, str(BENCH))

from reference_frames import FramesModel  # noqa: E402

# mesa-frames 0.1.0a0 calls polars' is_in in a way newer polars deprecates: its noise, not ours
pytestmark = pytest.mark.filterwarnings("ignore:`is_in` with a collection:DeprecationWarning")


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return reference_runs(FramesModel)


@pytest.fixture(scope="module")
def engine() -> np.ndarray:
    return engine_runs()


def test_engine_and_mesa_frames_reference_agree_on_the_core_kpis(engine, frames):
    assert (frames[:, KPIS.index("referral_joins")] > 0).all(), "the scenario must exercise referrals"
    assert not disagreements(engine, frames), (
        f"engine {engine.mean(axis=0).round(1)} vs mesa-frames {frames.mean(axis=0).round(1)}"
    )


def test_the_frames_comparison_detects_a_rule_that_diverges(frames):
    assert "purchases" in disagreements(engine_runs(DIVERGING), frames)


def test_the_frames_reference_refuses_mechanisms_it_does_not_have():
    scenario = load_scenario(BENCH / "core_rules.yaml", ["incentives.points.enabled=true"])
    with pytest.raises(ValueError, match="incentives"):
        FramesModel(scenario)

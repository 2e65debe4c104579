"""Whole-column (dense), member-index (gathered) and split evaluation of the day give identical results.

When members are most of the market, phases compute on every row and keep the
members' results (``CommunityModel.member_rows``); in a large market the whole
columns, and long lists of people, are computed in two halves on two cores
(``CommunityModel.split_rows``, ``split_people``).
Both are purely speed choices: forcing any way must give the same population, KPIs
and events, bit for bit.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import pytest

import sim.engine.rows
from sim.config.loader import load_scenario
from sim.core.population import Population
from sim.engine.options import EngineOptions
from sim.model import CommunityModel

ROOT = Path(__file__).resolve().parents[1]
ONE_CORE = EngineOptions(second_core=False)
SPLIT_ALL = EngineOptions(split_market=1, split_people=2)  # every split taken, however small the market
BLOCKS_SPLIT = EngineOptions(split_market=1, split_people=2, block_rows=257)  # blocks of uneven size, on two cores

CASES = [
    # every mechanism on, the community growing from 1% of the market: crosses nothing, stays gathered
    ("benchmarks/everything_on.yaml", ["market.size=3000"], 150),
    # everyone a member from day 0: dense from the start
    ("benchmarks/million_members.yaml", ["market.size=3000", "acquisition.initial_members=3000"], 150),
    # about half the market members, shrinking through the threshold; complete graph; coupons on churn risk
    (
        "benchmarks/everything_on.yaml",
        [
            "market.size=2000",
            "acquisition.initial_members=1100",
            "market.network.kind=complete",
            "incentives.coupons.target=churn_risk",
            "operators.outreach.target=churn_risk",
        ],
        150,
    ),
    ("scenarios/tiered_membership.yaml", ["market.size=2000", "acquisition.initial_members=1500"], 120),
    ("scenarios/engagement_rewards.yaml", ["market.size=2000", "acquisition.initial_members=1500"], 120),
]


def _fingerprint(model: CommunityModel) -> dict[str, str]:
    out = {}
    for name in Population.__dataclass_fields__:
        out[name] = hashlib.sha256(np.ascontiguousarray(getattr(model.pop, name)).tobytes()).hexdigest()
    out["timeseries"] = hashlib.sha256(model.timeseries().to_csv().encode()).hexdigest()
    out["events"] = hashlib.sha256(model.events.frame().to_csv().encode()).hexdigest()
    return out


def _run(
    path: str, overrides: list[str], days: int, dense_share: float, engine: EngineOptions = ONE_CORE
) -> tuple[dict[str, str], int]:
    scenario = load_scenario(ROOT / path, overrides, seed=3)
    model = CommunityModel(scenario, engine=engine)
    model.dense_share = dense_share
    dense_days = 0
    for _ in range(days):
        dense_days += isinstance(model.member_rows(), slice)
        model.step()
    return _fingerprint(model), dense_days


@pytest.mark.parametrize(("path", "overrides", "days"), CASES)
def test_dense_gathered_and_split_days_are_identical(path, overrides, days):
    gathered, none = _run(path, overrides, days, dense_share=2.0)
    dense, every = _run(path, overrides, days, dense_share=0.0)
    assert none == 0 and every == days
    differing = [k for k in gathered if gathered[k] != dense[k]]
    assert not differing, f"dense evaluation changed: {differing}"
    split, _ = _run(path, overrides, days, dense_share=0.0, engine=SPLIT_ALL)
    differing = [k for k in gathered if gathered[k] != split[k]]
    assert not differing, f"split evaluation changed: {differing}"
    blocked, _ = _run(path, overrides, days, dense_share=0.0, engine=BLOCKS_SPLIT)
    differing = [k for k in gathered if gathered[k] != blocked[k]]
    assert not differing, f"evaluation in blocks changed: {differing}"


def test_halves_run_on_another_thread_and_cover_the_rows():
    model = CommunityModel(
        load_scenario(
            ROOT / "benchmarks/million_members.yaml", ["market.size=1001", "acquisition.initial_members=1001"]
        ),
        engine=EngineOptions(split_market=1, split_people=2),
    )
    seen = model.split_rows(lambda rows: (rows, threading.current_thread().name), sim.engine.rows.ALL_ROWS)
    assert [rows for rows, _ in seen] == [slice(0, 500), slice(500, None)]
    assert seen[0][1] != seen[1][1]
    assert model.split_rows(lambda rows: rows, np.arange(3))[0].tolist() == [0, 1, 2]  # member indices: one part
    people = model.split_people(lambda p: (p, threading.current_thread().name), np.arange(5))
    assert [p.tolist() for p, _ in people] == [[0, 1], [2, 3, 4]] and people[0][1] != people[1][1]
    worker = model._other_core
    model.run(1)
    assert model._other_core is None and worker._shutdown  # the run stopped the thread


def test_blocks_cover_the_rows_in_order_and_split_between_two_threads():
    scenario = load_scenario(ROOT / "benchmarks/everything_on.yaml", ["market.size=1000"])
    one = CommunityModel(scenario, engine=EngineOptions(second_core=False, block_rows=300))
    assert one.split_rows(lambda rows: rows, sim.engine.rows.ALL_ROWS) == [
        slice(0, 300),
        slice(300, 600),
        slice(600, 900),
        slice(900, 1000),
    ]
    two = CommunityModel(scenario, engine=EngineOptions(split_market=1, block_rows=300))
    seen = two.split_rows(lambda rows: (rows, threading.current_thread().name), sim.engine.rows.ALL_ROWS)
    assert [rows for rows, _ in seen] == [slice(0, 300), slice(300, 600), slice(600, 900), slice(900, 1000)]
    assert seen[0][1] == seen[1][1] != seen[2][1] == seen[3][1]  # the first half here, the second on the worker
    assert EngineOptions(block_rows=0).blocks(10**6) == [slice(None)] == EngineOptions().blocks(1000)
    two.stop_worker()


def test_the_default_switches_on_the_member_share():
    scenario = load_scenario(ROOT / "benchmarks/everything_on.yaml", ["market.size=1000"])
    model = CommunityModel(scenario)
    model.n_members = 499
    assert not isinstance(model.member_rows(), slice)
    model.n_members = 500
    assert isinstance(model.member_rows(), slice)

"""Shared helpers: small scenarios that run in well under a second."""

from __future__ import annotations

import copy

import pytest

from sim.config.schema import Scenario


def deep_update(base: dict, changes: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in changes.items():
        out[k] = deep_update(out.get(k, {}), v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


#: Flags for Debian's chromium in tests: headless, and no background traffic on a machine without a network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SMALL = {
    "name": "small",
    "days": 60,
    "market": {"size": 4000},
    "acquisition": {"initial_members": 300, "paid": {"daily_budget": 200.0}},
    "koc": {"initial_count": 5},
}


def small(**changes) -> Scenario:
    """A 4,000-person, 60-day scenario with ``changes`` merged in (nested dicts)."""
    return Scenario.model_validate(deep_update(SMALL, changes))


@pytest.fixture
def small_scenario() -> Scenario:
    return small()


#: Test files that take longest (tens of seconds to minutes each): collected first, so that when the
#: suite's files are shared among workers (pytest-xdist, ``--dist loadfile``) the short files fill
#: the end instead of one worker finishing a long file alone.
SLOW_FILES_FIRST = (
    "test_levers.py",
    "test_compare.py",
    "test_calibrate.py",
    "test_dashboard.py",
    "test_figures.py",
    "test_scenarios.py",
    "test_properties.py",
    "test_sweep_reliability.py",
    "test_fuzz_loader.py",
    "test_operations.py",
    "test_incentives.py",
    "test_validation.py",
    "test_dense_rows.py",
    "test_experiments_shipped.py",
    "test_sweep.py",
    "test_directions.py",
    "test_abtest.py",
)


def pytest_collection_modifyitems(session, config, items):
    """Move the slow files' tests to the front; a stable sort keeps every other order as collected."""
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))

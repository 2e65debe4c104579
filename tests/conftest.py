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

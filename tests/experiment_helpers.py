"""Helpers for the experiment tests: small experiment files next to the shipped scenarios."""

from __future__ import annotations

import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
#: Keeps every run well under a tenth of a second.
SMALL_SET = "set: {days: 30, market.size: 2000, acquisition.initial_members: 100, koc.initial_count: 5}\n"


def write_experiment(folder: Path, body: str, name: str = "exp.yaml", small: bool = True) -> Path:
    """Write an experiment whose base is the smoke scenario (shrunk unless ``small`` is false)."""
    text = f"scenario: {SMOKE}\n" + (SMALL_SET if small else "") + textwrap.dedent(body)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path

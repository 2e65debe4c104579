"""Settings a valid scenario writes that will change nothing, so its author hears of them before a run.

A program switched off (``enabled: false``, the default of most) ignores every other
setting of its section: a scenario that writes ``incentives.group_buy.discount`` but
forgets ``enabled: true`` runs, and compares, exactly like one without the section. A
section that writes ``enabled: false`` itself is off on purpose (settings kept for
``--set ...enabled=true``) and is not warned of.
Likewise a livestream on the weekly schedule ignores ``days``, and one on listed days
ignores ``weekday``, when they are written with a value other than their default: a
resolved scenario written out in full (``scenario_to_yaml``: an optimization's
``best/*.yaml``, each trial or design point built from a resolved base) writes both,
and its default ``days: []`` or ``weekday`` is nobody's setting. The loader warns of
each (``ScenarioWarning``); nothing is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from sim.config.yamlsource import KeyPath


def inert_settings(scenario: BaseModel, data: dict[str, Any]) -> Iterator[tuple[KeyPath, KeyPath, str]]:
    """(section, first key written, why) for every section of ``data`` (the scenario as written) whose
    written settings ``scenario`` (the same, validated) will not use."""
    yield from _switched_off(scenario, data, ())
    show = scenario.livestream
    written = data.get("livestream")
    if show.enabled and isinstance(written, dict):
        unused = {"weekly": "days", "dates": "weekday"}[show.schedule]
        field = type(show).model_fields[unused]
        if unused in written and written[unused] != field.get_default(call_default_factory=True):
            used = "weekday" if unused == "days" else "days"
            yield (
                ("livestream",),
                ("livestream", unused),
                f"{unused} is set, but the schedule is {show.schedule!r}, which takes {used}: "
                f"the shows ignore it (set schedule: {'dates' if unused == 'days' else 'weekly'} to use it)",
            )


def _switched_off(model: BaseModel, data: dict[str, Any], path: KeyPath) -> Iterator[tuple[KeyPath, KeyPath, str]]:
    for name in type(model).model_fields:
        value, written = getattr(model, name), data.get(name)
        if not isinstance(value, BaseModel) or not isinstance(written, dict):
            continue
        section = (*path, name)
        if getattr(value, "enabled", True) is False:
            keys = [] if "enabled" in written else list(written)  # ``enabled: false`` written: off on purpose
            if keys:
                shown = ", ".join(keys[:4]) + (", ..." if len(keys) > 4 else "")
                yield (
                    section,
                    (*section, keys[0]),
                    f"{shown} {'is' if len(keys) == 1 else 'are'} set, but the section is switched off "
                    f"(enabled: false): {'it changes' if len(keys) == 1 else 'they change'} nothing; "
                    f"add enabled: true to use {'it' if len(keys) == 1 else 'them'}",
                )
            continue
        yield from _switched_off(value, written, section)

"""The keys where scenario B differs from scenario A, grouped by the mechanism they configure.

Both scenarios are compared resolved (``extends``, presets and defaults applied).
A difference is recorded at the deepest key where the two differ: a number, a
switch, or a whole list or sub-section that only one side has. Labels that do not
change what is simulated (name, description, seed, output, the preset's name,
whose keys are compared one by one) are left out.

A key belongs to the mechanism whose scenario section is the longest prefix of
it (``sim.mechanisms.registry``); where several mechanisms share a section
(``incentives``, ``operators``) a sub-section such as ``incentives.lottery`` is a
group of its own. Keys of no mechanism (``market``, ``days``) are grouped by
their top section. Groups given by hand (``name: [key prefixes]``) come first.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from sim.compare.loading import NOT_STRATEGY
from sim.mechanisms.registry import REGISTRY

#: Top-level keys that label a scenario without changing what is simulated.
LABELS: tuple[str, ...] = (*NOT_STRATEGY, "name", "description", "operating_model")
_ABSENT = object()


@dataclass(frozen=True)
class Group:
    """A set of changed keys that take B's values together."""

    name: str
    keys: tuple[str, ...]


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def changed_keys(a: dict, b: dict, prefix: str = "") -> list[str]:
    """Dotted keys where resolved scenario dicts ``a`` and ``b`` differ, deepest first-differing level."""
    out: list[str] = []
    for key in dict.fromkeys([*a, *b]):
        if not prefix and key in LABELS:
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        va, vb = a.get(key, _ABSENT), b.get(key, _ABSENT)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += changed_keys(va, vb, path)
        elif va is _ABSENT or vb is _ABSENT or not _same(va, vb):
            out.append(path)
    return out


def _sections() -> dict[str, list[str]]:
    """Scenario section -> the mechanisms it configures, in registry order."""
    out: dict[str, list[str]] = {}
    for m in REGISTRY:
        if m.section:
            out.setdefault(m.section, []).append(m.name)
    return out


def mechanism_of(key: str) -> str:
    """The group name of ``key``: its mechanism, a shared section's sub-section, or its top section."""
    sections = _sections()
    parts = key.split(".")
    for n in range(len(parts), 0, -1):
        section = ".".join(parts[:n])
        if section in sections:
            owners = sections[section]
            if len(owners) > 1 and len(parts) > n + 1:  # a sub-section of a shared section
                return ".".join(parts[: n + 1])
            return owners[0]
    return parts[0]


def _matches(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + ".")


def group_keys(keys: list[str], by_hand: dict[str, list[str]] | None = None) -> list[Group]:
    """``keys`` in groups: the hand-made ones first (in their order), then by mechanism (in key order).

    Raises ``ValueError`` naming a hand-made prefix that matches no changed key.
    """
    by_hand = by_hand or {}
    groups: dict[str, list[str]] = {name: [] for name in by_hand}
    for name, prefixes in by_hand.items():
        for prefix in prefixes:
            if not any(_matches(k, prefix) for k in keys):
                raise ValueError(
                    f"group {name!r}: {prefix!r} is none of the changed keys ({', '.join(keys) or 'none'})"
                )
    for key in keys:
        owner = next((n for n, ps in by_hand.items() if any(_matches(key, p) for p in ps)), None)
        groups.setdefault(owner or mechanism_of(key), []).append(key)
    return [Group(name, tuple(ks)) for name, ks in groups.items() if ks]


def value_at(d: dict, key: str) -> Any:
    node: Any = d
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _put(d: dict, key: str, value: Any) -> None:
    *heads, last = key.split(".")
    node = d
    for head in heads:
        if not isinstance(node.get(head), dict):
            node[head] = {}
        node = node[head]
    if value is _ABSENT:
        node.pop(last, None)
    else:
        node[last] = copy.deepcopy(value)


def coalition_scenario(a: dict, b: dict, groups: list[Group], mask: int) -> dict:
    """Scenario A with B's values for the keys of the groups whose bit is set in ``mask``."""
    out = copy.deepcopy(a)
    for i, group in enumerate(groups):
        if mask & (1 << i):
            for key in group.keys:
                _put(out, key, value_at(b, key))
    return out

"""Which command a YAML file is for, told from its top-level keys.

A scenario given to ``sweep``, or an optimization given to ``run``, would otherwise be
reported as a list of unknown and missing keys; the user gets one sentence naming the
command the file is for. Each kind is recognised by keys only it has.
"""

from __future__ import annotations

from typing import Any

from sim.config.errors import ScenarioError
from sim.config.yamlsource import Document

#: (kind, the command for it, the top-level keys only that kind of file has)
KINDS: tuple[tuple[str, str, frozenset[str]], ...] = (
    (
        "scenario",
        "community-sim run",
        frozenset(
            {"market", "acquisition", "awareness", "engagement", "content", "purchase", "referral", "churn"}
            | {"lifecycle", "satisfaction", "incentives", "koc", "operators", "operating_model", "livestream"}
            | {"sentiment", "events", "rules", "health", "extends", "start_date", "output"}
        ),
    ),
    ("experiment", "community-sim sweep", frozenset({"factors", "design", "kpis", "series"})),
    ("optimization", "community-sim optimize", frozenset({"levers", "objectives", "uncertainties", "budget"})),
)


def check_kind(doc: Document, expected: str, display: str) -> None:
    """Raise one ``ScenarioError`` if the file read as ``expected`` has none of its own keys and another kind's."""
    data: Any = doc.data
    if not isinstance(data, dict):
        return
    keys = set(data)
    if keys & next(marks for kind, _, marks in KINDS if kind == expected):
        return
    for kind, command, marks in KINDS:
        if kind != expected and (found := [k for k in data if k in marks]):
            source, line = doc.origin_of((found[0],)) or (display, None)
            shown = ", ".join(found[:4]) + (", ..." if len(found) > 4 else "")
            message = (
                f"this is {_a(kind)} {kind} file (it has {shown}), not {_a(expected)} {expected}: "
                f"run `{command} {display}`"
            )
            raise ScenarioError.single(source, line, "", message)


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"

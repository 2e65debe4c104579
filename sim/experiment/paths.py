"""Factor paths: dotted scenario keys checked against the schema, and set in scenario data.

A factor names one value of the scenario, e.g. ``referral.reward_inviter``,
``content.mix.promotional`` (an entry of a table) or ``market.segments[1].share``
(an item of a list). The path must lead to a single number, string or boolean.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from sim.config import fields, keypath
from sim.config.errors import format_path
from sim.config.schema import Scenario

Token = keypath.Token


class PathError(ValueError):
    """A factor path that does not name a single scenario value; ``field`` names the sub-key at fault, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Target:
    """Where a path leads: its tokens, value kind, annotation and schema field (for bounds)."""

    tokens: tuple[Token, ...]
    kind: str  # "float", "int", "bool" or "str"
    annotation: Any
    info: FieldInfo | None

    def describe(self) -> str:
        """What values the path takes, for messages."""
        choices = fields.literal_choices(self.annotation)
        if choices:
            return "one of " + ", ".join(repr(c) for c in choices)
        return {"bool": "true or false", "str": "text", "int": "an integer"}.get(self.kind, "a number")

    def check(self, value: Any) -> str | None:
        """Why ``value`` cannot go at this path, or None."""
        try:
            TypeAdapter(self.annotation).validate_python(value, strict=True)
        except ValidationError as exc:
            return f"{value!r} is not valid here: {exc.errors()[0]['msg'].lower()}"
        limits = fields.bounds(self.info) if self.info is not None else {}
        ok = {"ge": lambda a, b: a >= b, "gt": lambda a, b: a > b, "le": lambda a, b: a <= b, "lt": lambda a, b: a < b}
        if self.kind in ("int", "float") and not all(ok[k](value, b) for k, b in limits.items()):
            return f"{fields.fmt_number(value)} is outside the allowed range ({fields.bounds_text(limits)})"
        return None


def split(path: str) -> tuple[Token, ...]:
    """``market.segments[1].share`` or ``market.segments.1.share`` -> ``("market", "segments", 1, "share")``."""
    try:
        return keypath.split(path)
    except keypath.KeyPathError as exc:
        raise PathError(str(exc)) from None


def resolve(path: str, bases: Sequence[dict]) -> Target:
    """Check ``path`` against the schema and every base scenario's data; raise ``PathError`` with a hint."""
    tokens = split(path)
    ann: Any = Scenario
    info: FieldInfo | None = None
    nodes: list[Any] = list(bases)
    for i, tok in enumerate(tokens):
        here = format_path(tokens[:i])
        ann = fields.strip_optional(ann)
        kind = fields.container(ann)
        if fields.is_model(ann):
            if not isinstance(tok, str) or tok not in ann.model_fields:
                raise PathError(_unknown(path, tok, list(ann.model_fields), here))
            info, ann = ann.model_fields[tok], ann.model_fields[tok].annotation
        elif kind and kind[0] == "list":
            size = min(len(n) for n in nodes)
            if not isinstance(tok, int) or not 0 <= tok < size:
                raise PathError(f"{here} is a list of {size} items; index it as {here}[0] .. {here}[{size - 1}]")
            info, ann = None, kind[1]
        elif kind:
            keys = sorted({k for n in nodes for k in n})
            if not isinstance(tok, str) or any(tok not in n for n in nodes):
                close = difflib.get_close_matches(str(tok), keys, n=1)
                hint = f"did you mean '{here}.{close[0]}'?" if close else f"its entries: {', '.join(keys)}"
                raise PathError(f"{here} has no entry '{tok}'; {hint}")
            info, ann = None, kind[1]
        else:
            raise PathError(f"{here} is a single value; it has no '{tok}'")
        nodes = [n[tok] for n in nodes]
    ann = fields.strip_optional(ann)
    value_kind = _kind(ann)
    if value_kind is None:
        what = "a list" if isinstance(nodes[0], list) else "a section" if fields.is_model(ann) else "a table"
        first = next(iter(nodes[0]), None) if isinstance(nodes[0], dict) else 0
        raise PathError(f"{path} is {what}, not a single value; vary one of its entries, e.g. {path}.{first}")
    return Target(tokens, value_kind, ann, info)


def resolve_entry(path: str, bases: Sequence[dict], renormalize: str | None) -> tuple[Target, tuple | None]:
    """``resolve`` a varied key, and the table of shares it renormalizes (which must hold it), if any."""
    target = resolve(path, bases)
    shares = table(renormalize) if renormalize else None
    if shares is not None and target.tokens[:-1] != shares:
        raise PathError(f"{path} is not an entry of {renormalize}", field="renormalize")
    return target, shares


def table(path: str) -> tuple[Token, ...]:
    """Tokens of a table of shares (``dict[str, float]``), for ``renormalize``; raise ``PathError`` otherwise."""
    tokens = split(path)
    ann, _ = fields.resolve(tokens)
    if fields.container(ann) != ("dict", float):
        raise PathError(f"renormalize names a table of shares such as content.mix; {path} is not one")
    return tokens


def set_value(data: dict, tokens: Sequence[Token], value: Any) -> None:
    """Set ``value`` at ``tokens`` in nested scenario data (the path was checked by ``resolve``)."""
    node: Any = data
    for tok in tokens[:-1]:
        node = node[tok]
    node[tokens[-1]] = value


def get_value(data: dict, tokens: Sequence[Token]) -> Any:
    node: Any = data
    for tok in tokens:
        node = node[tok]
    return node


def _kind(ann: Any) -> str | None:
    if ann is bool:
        return "bool"
    if ann is int:
        return "int"
    if ann is float:
        return "float"
    if ann is str or fields.literal_choices(ann) is not None:
        return "str"
    return None


def _unknown(path: str, key: Any, allowed: list[str], here: str) -> str:
    known = [p.replace("[]", "[0]") for p, _, _ in fields.walk()]
    moved = [p for p in known if p.endswith("." + path)]
    if moved:
        return f"unknown scenario key '{path}'; did you mean '{moved[0]}'?"
    close = difflib.get_close_matches(path, known, n=1, cutoff=0.75)
    if close:
        return f"unknown scenario key '{path}'; did you mean '{close[0]}'?"
    near = difflib.get_close_matches(str(key), allowed, n=1)
    where = f"in {here}" if here else "at the top of a scenario"
    hint = f"did you mean '{near[0]}'?" if near else f"keys {where}: {', '.join(allowed)}"
    return f"unknown scenario key '{path}': no '{key}' {where}; {hint}"

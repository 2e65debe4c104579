"""Render docs/scenario-reference.md from the schema, so the doc can never drift from the code.

Run ``python -m sim.config.reference`` after changing ``sim/config/schema.py``;
tests/test_reference.py fails while the committed doc is stale.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annotated_types
import yaml
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sim.config import fields
from sim.config.base import CONTENT_TYPES
from sim.config.schema import Scenario

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "scenario-reference.md"
_SCALARS = {int: "integer", float: "number", bool: "boolean", str: "string"}

_INTRO = f"""\
# Scenario reference

<!-- Generated from sim/config/schema.py by `python -m sim.config.reference`; do not edit by hand. -->

A scenario is a YAML file; every key is optional unless its default says *required*.
Unknown keys, wrong types and out-of-range values are errors that name the file, line and key.

- `extends: other.yaml` (top level, path relative to the file) starts from another scenario:
  mappings merge key by key, lists and single values replace. A missing `name` is the file stem.
- `--set key.path=value` on the command line overrides any key (the value is read as YAML),
  e.g. `--set referral.reward_inviter=20` or `--set market.segments[1].share=0.3`.
  A list item is `[i]` or a plain number part: `market.segments[1].share` and `market.segments.1.share`
  are the same key, and one key set twice (under either spelling) is refused.
- Content types: {", ".join(f"`{t}`" for t in CONTENT_TYPES)}.
"""


def render_reference() -> str:
    """The Markdown reference of every scenario key: one section per model, one row per key."""
    parts = [_INTRO]
    for path, model, default in _sections(Scenario, "", None):
        parts.append(_render_section(path, model, default))
    return "\n".join(parts)


def _sections(model: type[BaseModel], prefix: str, default: Any) -> Iterator[tuple[str, type[BaseModel], Any]]:
    """Each model reachable from ``model`` as ``(key path, model, default of its container or None)``."""
    yield prefix, model, default
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        ann = fields.strip_optional(info.annotation)
        kind = fields.container(ann)
        if fields.is_model(ann):
            yield from _sections(ann, path, None)
        elif kind and fields.is_model(kind[1]):
            item_path = path + ("[]" if kind[0] == "list" else ".<type>")
            yield from _sections(kind[1], item_path, (path, _default(info)))
        else:
            item_path = path + "[]" if kind and kind[0] == "list" else path
            for tag, variant in fields.variants(kind[1] if kind else ann):
                yield from _sections(variant, f"{item_path}<{tag}>", None)


def _render_section(path: str, model: type[BaseModel], default: Any) -> str:
    heading = f"## `{path}`" if path else "## Top level"
    lines = [heading, "", inspect.cleandoc(model.__doc__ or ""), ""]
    lines += ["| Key | Type | Default | Allowed | Meaning |", "|---|---|---|---|---|"]
    for name, info in model.model_fields.items():
        key = f"{path}.{name}" if path else name
        ann = fields.strip_optional(info.annotation)
        cells = [f"`{key}`", _type(ann), _default_cell(info, ann), _allowed(info, ann), info.description or ""]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    if default is not None:
        container_path, value = default
        dumped = yaml.safe_dump({container_path.rsplit(".", 1)[-1]: value}, sort_keys=False, allow_unicode=True)
        lines += ["", f"Default of `{container_path}`:", "", "```yaml", dumped.rstrip(), "```"]
    return "\n".join(lines) + "\n"


def _type(ann: Any) -> str:
    if fields.literal_choices(ann) is not None:
        return "string"
    if fields.is_model(ann):
        return "section"
    if fields.variants(ann):
        return "section, one of " + ", ".join(f"`{tag}`" for tag, _ in fields.variants(ann))
    kind = fields.container(ann)
    if kind:
        item = "section" if fields.is_model(kind[1]) or fields.variants(kind[1]) else _type(kind[1])
        return f"list of {item}s" if kind[0] == "list" else f"mapping of name to {item}"
    return _SCALARS.get(ann, getattr(ann, "__name__", str(ann)))


def _default(info: FieldInfo) -> Any:
    value = info.get_default(call_default_factory=True)
    if value is PydanticUndefined:
        return value
    return TypeAdapter(info.annotation).dump_python(value, mode="json")


def _default_cell(info: FieldInfo, ann: Any) -> str:
    value = _default(info)
    if value is PydanticUndefined:
        return "*required*"
    if fields.is_model(ann):
        return "see below"
    kind = fields.container(ann)
    if fields.variants(ann) or (kind and (fields.is_model(kind[1]) or fields.variants(kind[1]))):
        return "see below" if not (kind and value == []) else "`[]`"
    return f"`{_flow(value)}`"


def _flow(value: Any) -> str:
    """A value as it would be written in YAML flow style."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return fields.fmt_number(value)


def _allowed(info: FieldInfo, ann: Any) -> str:
    choices = fields.literal_choices(ann)
    if choices is not None:
        return ", ".join(f"`{c}`" for c in choices)
    notes = [fields.bounds_text(fields.bounds(info))] if fields.bounds(info) else []
    for meta in info.metadata:
        if isinstance(meta, annotated_types.MinLen) and meta.min_length:
            unit = "item" if fields.container(ann) else "character"
            notes.append(f"at least {meta.min_length} {unit}{'s' if meta.min_length > 1 else ''}")
        pattern = getattr(meta, "pattern", None)
        if isinstance(pattern, str):
            notes.append(f"matches `{pattern}`")
        rule = getattr(meta, "rule", None)
        if isinstance(rule, str):
            notes.append(rule)
    return "; ".join(notes)


if __name__ == "__main__":
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(render_reference(), encoding="utf-8")
    print(f"wrote {DOC_PATH}")

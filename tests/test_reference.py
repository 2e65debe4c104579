"""docs/scenario-reference.md is generated from the schema and must stay in step with it."""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel

from sim.config.fields import variants
from sim.config.reference import DOC_PATH, render_reference
from sim.config.schema import Scenario


def leaf_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every non-section key, written the way the reference writes it."""
    paths = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        ann, args = info.annotation, typing.get_args(info.annotation)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            paths += leaf_paths(ann, path)
        elif typing.get_origin(ann) is list and variants(args[0]):
            paths += [p for tag, m in variants(args[0]) for p in leaf_paths(m, f"{path}[]<{tag}>")]
        elif variants(ann):
            paths += [p for tag, m in variants(ann) for p in leaf_paths(m, f"{path}<{tag}>")]
        elif typing.get_origin(ann) is list and issubclass(args[0], BaseModel):
            paths += leaf_paths(args[0], f"{path}[]")
        elif typing.get_origin(ann) is dict and isinstance(args[1], type) and issubclass(args[1], BaseModel):
            paths += leaf_paths(args[1], f"{path}.<type>")
        else:
            paths.append(path)
    return paths


def test_committed_reference_is_up_to_date():
    assert DOC_PATH == Path(__file__).resolve().parents[1] / "docs" / "scenario-reference.md"
    committed = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
    assert committed == render_reference(), (
        "docs/scenario-reference.md is stale: run `python -m sim.config.reference` and commit the result"
    )


def test_every_leaf_key_is_documented_with_its_range():
    doc = render_reference()
    paths = leaf_paths(Scenario)
    assert "market.segments[].share" in paths and "content.effects.<type>.engagement" in paths
    missing = [p for p in paths if f"| `{p}` |" not in doc]
    assert not missing, f"undocumented keys: {missing}"
    assert "| `market.segments[].share` | number | *required* | >= 0 and <= 1 |" in doc
    assert "| `engagement.base_visit_prob` | number | `0.1` | > 0 and < 1 |" in doc
    assert "`random`, `small_world`, `scale_free`, `complete`" in doc


def test_every_section_has_a_heading_with_its_docstring():
    doc = render_reference()
    assert "## `market.segments[]`\n\nA group of people" in doc
    assert "## `content.effects.<type>`\n\nHow one post of a content type" in doc
    assert "## `incentives.points`\n\nPoints" in doc


def test_rendering_is_deterministic():
    assert render_reference() == render_reference()

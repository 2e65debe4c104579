"""Schema introspection shared by the loader (error messages) and the reference doc.

Walks pydantic ``model_fields`` along a key path, and renders a field's numeric
bounds the same way in both places ("must be >= 0 and <= 1").
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.config.schema import Scenario


def strip_optional(ann: Any) -> Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return ann


def variants(ann: Any) -> list[tuple[str, type[BaseModel]]]:
    """The alternatives of a tagged union of models as ``(tag, model)``; [] for anything else.

    The tag is the value of the variant's discriminator field (``kind`` of an event,
    ``action`` of a rule's action): its only ``Literal`` value.
    """
    if typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    if typing.get_origin(ann) not in (typing.Union, types.UnionType):
        return []
    models = typing.get_args(ann)
    if not all(is_model(m) for m in models):
        return []
    out = []
    for m in models:
        tag = next((c[0] for f in m.model_fields.values() if (c := literal_choices(f.annotation)) and len(c) == 1), "")
        out.append((str(tag or m.__name__), m))
    return out


def is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def container(ann: Any) -> tuple[str, Any] | None:
    """``("list", item)`` for ``list[item]``, ``("dict", value)`` for ``dict[str, value]``, else None."""
    ann = strip_optional(ann)
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is list and args:
        return "list", args[0]
    if origin is dict and len(args) == 2:
        return "dict", args[1]
    return None


def resolve(path: Sequence[str | int], root: type[BaseModel] = Scenario) -> tuple[Any, FieldInfo | None]:
    """The annotation at ``path`` and, if its last step is a model field, that field's info.

    Returns ``(None, None)`` when the path leaves the schema (unknown key, index into a non-list).
    """
    ann: Any = root
    info: FieldInfo | None = None
    for part in path:
        ann = strip_optional(ann)
        info = None
        if is_model(ann):
            if not isinstance(part, str) or part not in ann.model_fields:
                return None, None
            info = ann.model_fields[part]
            ann = info.annotation
            continue
        kind = container(ann)
        if kind is None or (kind[0] == "list") != isinstance(part, int):
            return None, None
        ann = kind[1]
    return strip_optional(ann), info


def model_at(path: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class whose instance lives at ``path``, or None."""
    ann, _ = resolve(path)
    return ann if is_model(ann) else None


def fmt_number(x: Any) -> str:
    """Numbers as a user would type them: 1000000 rather than 1e+06, 0.5 rather than 0.50."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def bounds(info: FieldInfo) -> dict[str, Any]:
    """The ge/gt/le/lt constraints of a field, e.g. ``{"ge": 0.0, "le": 1.0}``."""
    found: dict[str, Any] = {}
    for meta in info.metadata:
        for name in ("ge", "gt", "le", "lt"):
            if isinstance(meta, getattr(annotated_types, name.capitalize())):
                found[name] = getattr(meta, name)
    return found


def bounds_text(b: dict[str, Any]) -> str:
    """``{"ge": 0, "le": 1}`` -> ``">= 0 and <= 1"``; "" when unbounded."""
    symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    return " and ".join(f"{symbols[k]} {fmt_number(b[k])}" for k in ("ge", "gt", "le", "lt") if k in b)


def literal_choices(ann: Any) -> tuple[Any, ...] | None:
    """The allowed values of a ``Literal[...]`` annotation, or None."""
    ann = strip_optional(ann)
    return typing.get_args(ann) if typing.get_origin(ann) is Literal else None


def walk(model: type[BaseModel] = Scenario, prefix: str = "") -> Iterator[tuple[str, FieldInfo, Any]]:
    """Every field of the schema as ``(dotted path, info, annotation)``, parents before children.

    Items of a list of models appear as ``market.segments[].share``, values of a
    dict of models as ``content.effects.<type>.engagement``.
    """
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        ann = strip_optional(info.annotation)
        yield path, info, ann
        kind = container(ann)
        if is_model(ann):
            yield from walk(ann, path)
        elif kind and is_model(kind[1]):
            yield from walk(kind[1], path + ("[]" if kind[0] == "list" else ".<type>"))
        else:
            item_path = path + "[]" if kind and kind[0] == "list" else path
            for tag, m in variants(kind[1] if kind else ann):
                yield from walk(m, f"{item_path}<{tag}>")


def booleans_for_numbers(data: Any, ann: Any = Scenario, path: tuple = ()) -> Iterator[tuple[tuple, str, bool]]:
    """``(key path, "int" or "float", the bool)`` wherever ``data`` puts true/false in a number field.

    YAML's true and false are Python bools, and a bool is an int to Python and to
    pydantic, so ``reward_inviter: true`` would silently mean 1. Walks the plain data
    along the schema (models, lists, maps, tagged unions of models). What each annotation
    is (``_Shape``) is worked out once: a sweep validates a scenario for every run.
    """
    shape = _shape(ann)
    if isinstance(data, bool):
        if shape.number is not None:
            yield path, shape.number, data
        return
    if shape.fields is not None and isinstance(data, dict):
        for key, value in data.items():
            if key in shape.fields:
                yield from booleans_for_numbers(value, shape.fields[key], (*path, key))
    elif shape.variants and isinstance(data, dict):
        for tag, model, tag_fields in shape.variants:
            if any(data.get(name) == tag for name in tag_fields):
                yield from booleans_for_numbers(data, model, path)
                break
    elif shape.container is not None and isinstance(data, list if shape.container[0] == "list" else dict):
        items = enumerate(data) if isinstance(data, list) else data.items()
        for key, value in items:
            yield from booleans_for_numbers(value, shape.container[1], (*path, key))


class _Shape(typing.NamedTuple):
    """What ``booleans_for_numbers`` needs to know of an annotation."""

    number: str | None  # "int" or "float": a number field that takes no bool
    fields: dict[str, Any] | None  # a model's field annotations
    variants: tuple[tuple[str, type[BaseModel], tuple[str, ...]], ...]  # (tag, model, its Literal fields)
    container: tuple[str, Any] | None


_shapes: dict[int, tuple[Any, _Shape]] = {}  # id(annotation) -> (the annotation, kept alive; its shape)


def _shape(ann: Any) -> _Shape:
    known = _shapes.get(id(ann))
    if known is not None and known[0] is ann:
        return known[1]
    bare = strip_optional(ann)
    while typing.get_origin(bare) is typing.Annotated:
        bare = typing.get_args(bare)[0]
    kinds = typing.get_args(bare) if typing.get_origin(bare) in (typing.Union, types.UnionType) else (bare,)
    number = next((k for k in kinds if k in (int, float)), None)
    shape = _Shape(
        number.__name__ if number is not None and bool not in kinds else None,
        {k: f.annotation for k, f in bare.model_fields.items()} if is_model(bare) else None,
        tuple(
            (tag, m, tuple(n for n, f in m.model_fields.items() if literal_choices(f.annotation)))
            for tag, m in variants(bare)
        ),
        container(bare),
    )
    _shapes[id(ann)] = (ann, shape)
    return shape

"""Load a scenario: YAML file(s) -> ``extends`` merge -> ``--set`` overrides -> validated ``Scenario``.

Every error is a ``ScenarioError`` naming the file, line and key path of each
problem, so a user can fix a scenario without reading a traceback.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined

from sim.config import fields, keypath
from sim.config.base import name_from_stem
from sim.config.errors import Problem, ScenarioError, ScenarioWarning, format_path
from sim.config.filekinds import check_kind
from sim.config.inert import inert_settings
from sim.config.schema import Scenario
from sim.config.yamlsource import Document, KeyPath, LimitedLoader, Origin, read_document

_DOTTED = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+\b")
_EXPECTED = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "dict": "a mapping (key: value pairs)",
    "model": "a mapping (key: value pairs)",
    "list": "a list",
}


def load_scenario(
    path: str | Path,
    overrides: Sequence[str] = (),
    *,
    days: int | None = None,
    seed: int | None = None,
) -> Scenario:
    """Load, merge, override and validate the scenario at ``path``.

    ``days``/``seed`` (CLI flags) win over the file and ``overrides``; a missing
    ``name`` defaults to the file stem (a parent's name is never inherited).
    """
    display = str(path)
    doc = _load_tree(Path(path), display, [(_identity(Path(path)), display)], None)
    check_kind(doc, "scenario", display)
    if "name" not in doc.data:
        doc.data["name"] = name_from_stem(Path(path).stem, "scenario")
    return _settle(doc, display, overrides, days, seed)


def revise_scenario(
    scenario: Scenario,
    overrides: Sequence[str] = (),
    *,
    days: int | None = None,
    seed: int | None = None,
) -> Scenario:
    """``scenario`` with ``--set`` overrides, days and seed applied, checked as ``load_scenario`` checks a file.

    For scenarios already loaded (the Python API): the same override grammar, the same
    preset rule and the same messages, with the scenario's name in place of a file.
    """
    display = f"scenario {scenario.name}"
    doc = Document(scenario.model_dump(mode="json"), {(): (display, None)})
    return _settle(doc, display, overrides, days, seed)


def _settle(doc: Document, display: str, overrides: Sequence[str], days: int | None, seed: int | None) -> Scenario:
    """Apply a preset chosen by an override, the overrides, then ``days``/``seed``; validate."""
    chosen = [
        o.split("=", 1)[1].strip() for o in overrides if o.removeprefix("--set").strip().startswith("operating_model=")
    ]
    if chosen and chosen[-1] in preset_names():
        doc = _merge(doc, _preset(chosen[-1]))  # a preset chosen on the command line overrides the files
    _apply(doc, overrides)
    for flag, value in (("days", days), ("seed", seed)):
        if value is not None:
            _set_origin(doc, (flag,), (f"--{flag} {value}", None))
            doc.data[flag] = value
    return _validate(doc, display, extra_top=("extends",))


def scenario_from_mapping(data: Mapping[str, Any], source: str = "<mapping>") -> Scenario:
    """Validate plain data (e.g. built in code) with the same error messages as files."""
    if not isinstance(data, Mapping):
        raise ScenarioError.single(source, None, "", f"a scenario must be a mapping, got {type(data).__name__}")
    return _validate(_with_preset(Document(copy.deepcopy(dict(data)), {(): (source, None)})), source)


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with ``key.path=value`` overrides applied (values parsed as YAML)."""
    doc = Document(copy.deepcopy(data), {})
    _apply(doc, overrides)
    return doc.data


def scenario_to_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario as YAML; loading it back gives an equal ``Scenario``."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100)


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the canonical JSON of the scenario: equal scenarios, equal hashes."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- operating-model presets ---------------------------------------------------------------

PRESETS = Path(__file__).with_name("presets")


def preset_names() -> list[str]:
    """Operating-model presets shipped with the package."""
    return sorted(p.stem for p in PRESETS.glob("*.yaml"))


def _preset(name: str) -> Document:
    return read_document(PRESETS / f"{name}.yaml", f"preset {name} (sim/config/presets/{name}.yaml)", None)


def _with_preset(doc: Document, parent: Document | None = None) -> Document:
    """Merge ``parent`` < the preset ``doc`` selects < ``doc``.

    The preset is laid at the level of the file that selects it: it overrides what
    that file extends, and the file's own keys override the preset. An unknown name
    is left for validation to report, with the allowed names.
    """
    name = doc.data.get("operating_model")
    if not isinstance(name, str) or name not in preset_names():
        return doc if parent is None else _merge(parent, doc)
    under = _preset(name) if parent is None else _merge(parent, _preset(name))
    return _merge(under, doc)


def with_operating_model(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """``data`` (e.g. a resolved scenario) with preset ``name`` laid over it and selected.

    For sweeps and dashboards that switch the operating model of a resolved scenario.
    """
    if name not in preset_names():
        return {**data, "operating_model": name}  # validation reports the unknown name
    merged = _deep_merge(copy.deepcopy(dict(data)), _preset(name).data)
    merged["operating_model"] = name
    return merged


# --- extends -----------------------------------------------------------------------------


def _load_tree(path: Path, display: str, chain: list[tuple[Path, str]], referrer: Origin | None) -> Document:
    """Read ``path`` and, if it ``extends`` another file, merge it over that parent."""
    doc = read_document(path, display, referrer)
    if "extends" not in doc.data:
        return _with_preset(doc)
    target = doc.data.pop("extends")
    _, line = doc.origins.pop(("extends",))
    if not isinstance(target, str) or not target.strip():
        raise ScenarioError.single(display, line, "extends", f"must be a file path, got {target!r}")
    parent_path = path.parent / target
    parent_display = os.path.normpath(os.path.join(os.path.dirname(display), target))
    resolved = _identity(parent_path)
    if any(seen == resolved for seen, _ in chain):
        cycle = " -> ".join([shown for _, shown in chain] + [parent_display])
        raise ScenarioError.single(display, line, "extends", f"extends cycle: {cycle}")
    parent = _load_tree(parent_path, parent_display, chain + [(resolved, parent_display)], (display, line))
    parent.data.pop("name", None)  # a child is a different scenario: it never inherits its parent's name
    return _with_preset(doc, parent)


def _identity(path: Path) -> Path:
    """The file ``path`` names, to spot cycles; a symlink loop is left for the reader to report."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # RuntimeError: a symlink loop (Python < 3.13)
        return Path(os.path.abspath(path))


def _merge(parent: Document, child: Document) -> Document:
    """Deep-merge ``child`` over ``parent``; each key keeps the origin of the file that wrote it."""
    data = _deep_merge(parent.data, child.data)
    origins = {p: child.origins.get(p) or parent.origins.get(p) for p in _paths(data)}
    return Document(data, {p: o for p, o in origins.items() if o is not None})


#: Tables of shares that must sum to 1: a child that writes one replaces the parent's whole table.
WHOLE_TABLES: frozenset[KeyPath] = frozenset({("content", "mix"), ("content", "ugc_type_mix")})


def _deep_merge(base: Any, over: Any, path: KeyPath = ()) -> Any:
    if isinstance(base, dict) and isinstance(over, dict) and path not in WHOLE_TABLES:
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _deep_merge(base[key], value, path + (key,)) if key in base else value
        return merged
    return over


def _paths(value: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from _paths(child, prefix + (key,))


# --- overrides -----------------------------------------------------------------------------


def _apply(doc: Document, overrides: Sequence[str]) -> None:
    written: list[tuple[tuple, str]] = []  # the key paths set so far, and the override that set each
    for item in [overrides] if isinstance(overrides, str) else overrides:
        shown = item if item.startswith("--set") else f"--set {item}"
        key, sep, raw = item.removeprefix("--set").strip().partition("=")
        if not sep or not key.strip():
            example = "expected key.path=value, e.g. --set referral.reward_inviter=20"
            raise ScenarioError.single(shown, None, "", example)
        try:
            tokens = keypath.split(key.strip())
        except keypath.KeyPathError as exc:
            raise ScenarioError.single(shown, None, "", str(exc)) from None
        name = keypath.join(tokens)
        earlier = next((by for known, by in written if keypath.overlap(tokens, known)), None)
        if earlier is not None:  # the same key, or a key inside or around it: one would silently win
            message = f"also set by {earlier}; give each key once"
            raise ScenarioError.single(shown, None, name, message)
        written.append((tokens, shown))
        try:
            value = yaml.load(raw, Loader=LimitedLoader)  # safe, and refuses absurd nesting
        except (yaml.YAMLError, ValueError, OverflowError) as exc:  # ValueError: a date such as 2026-13-45
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            message = f"cannot parse the value as YAML ({problem}); quote it to pass a string"
            raise ScenarioError.single(shown, None, key.strip(), message) from None
        _set_path(doc, list(tokens), value, shown)


def _set_path(doc: Document, tokens: list[str | int], value: Any, shown: str) -> None:
    """Set ``value`` at ``tokens``, checking each step against the schema."""
    node: Any = doc.data
    path: KeyPath = ()
    for depth, token in enumerate(tokens):
        ann, _ = fields.resolve(path)
        step: str | int
        if fields.is_model(ann):
            step = str(token)
            if step not in ann.model_fields:
                message = _unknown_key(step, list(ann.model_fields), anywhere=True)
                raise ScenarioError.single(shown, None, format_path(path), message)
        elif (kind := fields.container(ann)) and kind[0] == "list":
            if not isinstance(token, int) or not 0 <= token < len(node):
                raise ScenarioError.single(
                    shown,
                    None,
                    format_path(path),
                    f"{token!r} is not an index of this list of {len(node)} items (0 to {len(node) - 1})",
                )
            step = token
        elif kind:
            step = str(token)
        else:
            message = f"'{token}' does not exist: this key is a single value"
            raise ScenarioError.single(shown, None, format_path(path), message)
        path += (step,)
        if depth == len(tokens) - 1:
            node[step] = value
            _set_origin(doc, path, (shown, None))
        elif not isinstance(node[step] if isinstance(node, list) else node.get(step), _data_type(path)):
            node[step] = _default_data(path)
            _set_origin(doc, path, (shown, None))
        node = node[step]


def _data_type(path: KeyPath) -> type:
    """The plain-data type the schema expects at ``path``: list for lists, dict for the rest."""
    kind = fields.container(fields.resolve(path)[0])
    return list if kind and kind[0] == "list" else dict


def _default_data(path: KeyPath) -> Any:
    """Plain data for the default at ``path``, so ``--set content.mix.review=0.3`` edits the default mix."""
    ann, info = fields.resolve(path)
    if info is None or fields.is_model(ann):
        return {}
    default = info.get_default(call_default_factory=True)
    return {} if default is PydanticUndefined else TypeAdapter(info.annotation).dump_python(default, mode="json")


def _set_origin(doc: Document, path: KeyPath, origin: Origin) -> None:
    for known in [p for p in doc.origins if p[: len(path)] == path]:
        del doc.origins[known]
    doc.origins[path] = origin


# --- validation --------------------------------------------------------------------------


def _validate(doc: Document, display: str, extra_top: Sequence[str] = ()) -> Scenario:
    problems = [
        _at(doc, loc, f"expected {_EXPECTED[kind]}, got {_show(value)}")
        for loc, kind, value in fields.booleans_for_numbers(doc.data)
    ]
    days_from = doc.origins.get(("days",), (display, None))
    shortened = days_from[1] is None and days_from[0].startswith("--")  # --days or --set days=...
    try:
        scenario = Scenario.model_validate(doc.data, context={"shortened": shortened})
    except ValidationError as exc:
        flagged = {p.path for p in problems}
        for err in exc.errors(include_url=False):
            problem = _problem(err, doc, extra_top)
            if problem not in problems and problem.path not in flagged:  # a bound a boolean broke: said already
                problems.append(problem)
    if not problems:
        _warn_inert(doc, scenario)
        return _without_late_events(scenario, days_from[0]) if shortened else scenario
    problems.sort(key=lambda p: (p.source != display, p.source, p.line or 0))
    title = None if len(problems) == 1 else f"{len(problems)} problems in scenario {display}"
    raise ScenarioError(problems, title) from None


def _warn_inert(doc: Document, scenario: Scenario) -> None:
    """A warning for each section whose written settings will change nothing (``sim.config.inert``)."""
    for section, key, why in inert_settings(scenario, doc.data):
        source, line = doc.origin_of(key) or ("", None)
        where = source if line is None else f"{source}:{line}"
        warnings.warn(f"{where}: {format_path(section)}: {why}", ScenarioWarning, stacklevel=5)


def _without_late_events(scenario: Scenario, source: str) -> Scenario:
    """``scenario`` without the events and shows a shortened run will not reach, each named in a warning.

    What is left is the scenario that runs: it validates again anywhere (workers, sweeps, comparisons).
    """
    for late in scenario.beyond_end():
        message = f"{source}: {late} will not happen: the run ends on day {scenario.days - 1}"
        warnings.warn(message, ScenarioWarning, stacklevel=5)
    events = [ev for ev in scenario.events if ev.day < scenario.days]
    shows = [d for d in scenario.livestream.days if d < scenario.days]
    livestream = scenario.livestream.model_copy(update={"days": shows})
    return scenario.model_copy(update={"events": events, "livestream": livestream})


def _problem(err: Any, doc: Document, extra_top: Sequence[str]) -> Problem:
    loc: KeyPath = tuple(p for p in err["loc"] if p != "[key]")
    if not loc:  # a model validator of the whole scenario: point at the first key it names
        named = [tuple(m.split(".")) for m in _DOTTED.findall(err["msg"])]
        loc = next((p for p in named if p in doc.origins), ())
    return _at(doc, loc, _describe(err, loc, extra_top))


def _at(doc: Document, loc: KeyPath, message: str) -> Problem:
    """A problem at ``loc``, placed where the key (or its nearest written parent) was written.

    A table or list that a command-line override wrote into (``--set content.mix.promotional=2``
    in a mix the file wrote) is blamed on that override: the file's table was whole without it.
    """
    source, line = doc.origin_of(loc)
    inside = [o for p, o in doc.origins.items() if loc and len(p) > len(loc) and p[: len(loc)] == loc]
    overrides = [o for o in inside if o[1] is None and o[0].startswith("--")]
    if overrides and line is not None:
        source, line = overrides[-1]
    return Problem(source, line, format_path(loc), message)


def _describe(err: Any, loc: KeyPath, extra_top: Sequence[str]) -> str:
    kind, ctx, got = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "extra_forbidden":
        model = fields.model_at(loc[:-1])
        allowed = list(model.model_fields) if model else []
        return _unknown_key(str(loc[-1]), allowed + (list(extra_top) if len(loc) == 1 else []), anywhere=True)
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        _, info = fields.resolve(loc)
        limits = (fields.bounds(info) if info is not None else {}) or ctx
        return f"must be {fields.bounds_text(limits)}, got {_show(got)}"
    if kind == "missing":
        return "required key is missing"
    if kind in ("union_tag_not_found", "union_tag_invalid"):  # the key that says which kind of entry this is
        key = str(ctx.get("discriminator", "")).strip("'")
        tags = ", ".join(repr(tag) for tag, _ in fields.variants(fields.resolve(loc)[0]))
        if kind == "union_tag_not_found":
            return f"required key '{key}' is missing (one of {tags})" if tags else f"required key '{key}' is missing"
        return f"{key} must be one of {tags or ctx.get('expected_tags')}, got {_show(ctx.get('tag'))}"
    if kind == "int_from_float":
        return f"expected an integer, got {_show(got)}"
    if kind.endswith(("_parsing", "_type")) and kind.split("_")[0] in _EXPECTED:
        return f"expected {_EXPECTED[kind.split('_')[0]]}, got {_show(got)}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {_show(got)}"
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}, got {_show(got)}"
    if kind in ("value_error", "assertion_error"):
        return err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    message = err["msg"]
    return f"{message[:1].lower()}{message[1:]}, got {_show(got)}"


def _show(value: Any) -> str:
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value) if isinstance(value, str) else fields.fmt_number(value)


def _unknown_key(key: str, allowed: Sequence[str], anywhere: bool = False) -> str:
    """Suggest the closest allowed key, or (``anywhere``) the section where ``key`` does exist."""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key '{key}'; did you mean '{close[0]}'?"
    elsewhere = [path for path, _, _ in fields.walk() if path.rsplit(".", 1)[-1] == key] if anywhere else []
    if elsewhere:
        return f"unknown key '{key}' here; did you mean {' or '.join(repr(p) for p in elsewhere)}?"
    return f"unknown key '{key}'; allowed keys: {', '.join(allowed)}"

"""Read a YAML file into plain data plus the file and line where each key was written.

We compose the node graph with ``yaml.SafeLoader`` and build the data ourselves,
so every key keeps its line (for error messages), duplicate keys are caught
(PyYAML silently keeps the last one) and any tag beyond plain data is rejected
before anything is constructed: a scenario can never run code.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.config.errors import ScenarioError, format_path

KeyPath = tuple[str | int, ...]
Origin = tuple[str, int | None]  # (file or override text, 1-based line or None)

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_MAX_VALUES = 100_000  # guards against alias bombs ("billion laughs")
MAX_BYTES = 128 * 1024  # a scenario is a few KB (a resolved one ~9 KB); parsing 1 MB takes ~10 s
MAX_DEPTH = 64  # a scenario nests a few levels; deeper input would exhaust Python's recursion limit


class TooDeep(ComposerError):
    """The document nests lists or mappings more than ``MAX_DEPTH`` levels deep."""


class LimitedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses to compose nodes nested more than ``MAX_DEPTH`` deep.

    It also notes the first duplicate key of each mapping as written, before merge keys
    (``<<: *base``) are flattened into it: flattening adds the merged keys to the node
    itself, so a mapping reached again through an alias would show false duplicates.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.duplicates: dict[int, tuple[Node, int]] = {}  # id(mapping) -> (repeated key node, first line)

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != _STD + "merge":
                if key_node.value in seen:
                    self.duplicates[id(node)] = (key_node, seen[key_node.value])
                    break
                seen[key_node.value] = key_node.start_mark.line + 1
        return node

    def compose_node(self, parent: Node | None, index: object) -> Node:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                problem = f"lists or mappings nested more than {MAX_DEPTH} levels deep"
                raise TooDeep(None, None, problem, self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


@dataclass
class Document:
    """Plain data (dicts, lists, scalars) and the origin of every key path in it."""

    data: dict[str, Any]
    origins: dict[KeyPath, Origin] = field(default_factory=dict)

    def origin_of(self, path: KeyPath) -> Origin | None:
        """Where the deepest written key on ``path`` (the key itself, or its nearest written parent) came from."""
        return next((self.origins[path[:k]] for k in range(len(path), -1, -1) if path[:k] in self.origins), None)


def read_document(path: Path, display: str, referrer: tuple[str, int | None] | None = None) -> Document:
    """Read and parse one file; ``referrer`` is the (file, line) of an ``extends:`` naming it."""
    reason = None
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            reason = "cannot read file (it is a directory)"
        elif not stat.S_ISREG(mode):  # a device such as /dev/zero or a pipe could hang or never end
            reason = "cannot read file (not a regular file)"
        else:
            with path.open("rb") as fh:
                raw = fh.read(MAX_BYTES + 1)
            if len(raw) > MAX_BYTES:
                reason = f"the file is larger than {MAX_BYTES // 1024} KiB; a scenario file is a few KB (wrong file?)"
    except OSError as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else f"cannot read file ({exc.strerror})"
    if reason is not None:
        if referrer is not None:
            raise ScenarioError.single(referrer[0], referrer[1], "extends", f"{reason}: {display}")
        raise ScenarioError.single(display, None, "", reason)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        msg = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save the file as UTF-8"
        raise ScenarioError.single(display, line, "", msg) from None
    return parse_text(text, display)


def parse_text(text: str, source: str) -> Document:
    """Parse YAML text whose top level must be a mapping."""
    try:
        loader = LimitedLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except TooDeep as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        message = f"{exc.problem}; a scenario needs only a few levels"
        raise ScenarioError.single(source, line, "", message) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, source) from None
    except yaml.YAMLError as exc:  # reader errors (e.g. control characters) carry no mark
        position = getattr(exc, "position", None)
        line = text[:position].count("\n") + 1 if isinstance(position, int) else None
        raise ScenarioError.single(source, line, "", f"YAML error: {exc}".splitlines()[0]) from None
    if node is None or (isinstance(node, ScalarNode) and node.tag == _STD + "null"):  # also "---" or "~" alone
        raise ScenarioError.single(source, None, "", "the file is empty; a scenario is a mapping such as 'days: 365'")
    if not isinstance(node, MappingNode):
        raise ScenarioError.single(
            source,
            node.start_mark.line + 1,
            "",
            f"the top level must be a mapping of keys to values (such as 'days: 365'), got {_kind(node)}",
        )
    builder = _Builder(source, loader.duplicates)
    data = builder.build(node, ())
    builder.origins[()] = (source, None)
    return Document(data, builder.origins)


def _syntax_error(exc: yaml.MarkedYAMLError, source: str) -> ScenarioError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    message = f"YAML syntax error: {exc.problem or exc.context}"
    if mark is not None:
        message += f" (column {mark.column + 1})"
    if exc.context and exc.problem and exc.context_mark is not None:
        message += f", {exc.context} on line {exc.context_mark.line + 1}"
    return ScenarioError.single(source, line, "", message)


def _kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    return f"the value {node.value!r}"


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag


class _Builder:
    """Turns a composed node graph into plain data, recording origins as it goes."""

    def __init__(self, source: str, duplicates: dict[int, tuple[Node, int]] | None = None) -> None:
        self.source = source
        self.duplicates = duplicates or {}
        self.origins: dict[KeyPath, Origin] = {}
        self.constructor = SafeConstructor()
        self.count = 0
        self.active: set[int] = set()  # nodes on the current path, to catch recursive aliases

    def fail(self, node: Node, path: KeyPath, message: str) -> ScenarioError:
        return ScenarioError.single(self.source, node.start_mark.line + 1, format_path(path), message)

    def build(self, node: Node, path: KeyPath) -> Any:
        self.count += 1
        if self.count > _MAX_VALUES:
            raise self.fail(node, path, f"the document expands to more than {_MAX_VALUES} values (alias bomb?)")
        if len(path) > MAX_DEPTH:  # aliases can nest deeper than the text does
            message = f"lists or mappings nested more than {MAX_DEPTH} levels deep (through aliases)"
            raise self.fail(node, path[:3], message)
        if id(node) in self.active:
            raise self.fail(node, path, "recursive alias: a value may not contain itself")
        allowed = {MappingNode: {_STD + "map"}, SequenceNode: {_STD + "seq"}}.get(type(node), _SCALAR_TAGS)
        if node.tag not in allowed:
            raise self.fail(
                node,
                path,
                f"the tag '{_show_tag(node.tag)}' is not allowed: a scenario holds plain data "
                "(mappings, lists, strings, numbers, booleans)",
            )
        if isinstance(node, ScalarNode):
            try:
                return self.constructor.construct_object(node, deep=True)
            except (ValueError, OverflowError) as exc:  # e.g. the date 2026-13-45
                raise self.fail(node, path, f"{node.value!r} is not a valid date or value ({exc})") from None
        self.active.add(id(node))
        try:
            return self._mapping(node, path) if isinstance(node, MappingNode) else self._sequence(node, path)
        finally:
            self.active.discard(id(node))

    def _sequence(self, node: SequenceNode, path: KeyPath) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            self.origins[path + (index,)] = (self.source, item.start_mark.line + 1)
            items.append(self.build(item, path + (index,)))
        return items

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        if id(node) in self.duplicates:
            key_node, first = self.duplicates[id(node)]
            raise self.fail(
                key_node,
                path + (key_node.value,),
                f"duplicate key '{key_node.value}' (lines {first} and {key_node.start_mark.line + 1}); keep only one",
            )
        try:
            self.constructor.flatten_mapping(node)  # resolves YAML merge keys ("<<: *base")
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, self.source) from None
        for key_node, _ in node.value:  # after flattening, so that merged keys are checked too
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, path, f"keys must be plain names, got {_kind(key_node)}")
        data: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            self.origins[path + (key,)] = (self.source, key_node.start_mark.line + 1)
            data[key] = self.build(value_node, path + (key,))
        return data

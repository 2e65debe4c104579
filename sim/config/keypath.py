"""Key paths: the one grammar that names a scenario key on the command line and in files.

``--set``, sweep factors and ``set:``, ``--fit`` and the dashboard's controls all
name keys with it. A path is dot-separated names; a list item is written
``[i]`` after its list or as a plain number part, so ``market.segments[1].share``
and ``market.segments.1.share`` name the same key. ``canonical`` gives the one
spelling (``market.segments[1].share``) used to compare paths and in messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

Token = str | int

_PART = re.compile(r"([^\[\]]*)((?:\[[0-9]+\])*)")  # ASCII digits only: '²' and '٣' are no indexes
EXAMPLE = "market.segments[1].share"


class KeyPathError(ValueError):
    """A key path that does not follow the grammar."""


def split(path: str) -> tuple[Token, ...]:
    """``market.segments[1].share`` or ``market.segments.1.share`` -> ``("market", "segments", 1, "share")``."""
    tokens: list[Token] = []
    for part in path.split("."):
        match = _PART.fullmatch(part)
        head = match.group(1).strip() if match else ""
        # each part has a name or a number, and may index it further with [i]: a path cannot start with [i]
        if not match or not head and (not match.group(2) or not tokens):
            raise KeyPathError(f"malformed key path '{path}'; write e.g. {EXAMPLE}")
        if head:
            tokens.append(int(head) if head.isascii() and head.isdigit() else head)
        tokens.extend(int(i) for i in re.findall(r"[0-9]+", match.group(2)))
    return tuple(tokens)


def join(tokens: Sequence[Token]) -> str:
    """Tokens as the canonical spelling: ``("a", 1, "b")`` -> ``a[1].b``."""
    out = ""
    for tok in tokens:
        out += f"[{tok}]" if isinstance(tok, int) else (f".{tok}" if out else str(tok))
    return out


def canonical(path: str) -> str:
    """The one spelling of ``path``; raise ``KeyPathError`` if it is malformed."""
    return join(split(path))


def overlap(a: Sequence[Token], b: Sequence[Token]) -> bool:
    """Whether two split paths name the same key, or one a key inside the other (``market`` and ``market.size``)."""
    n = min(len(a), len(b))
    return tuple(a[:n]) == tuple(b[:n])


def repeated(paths: Iterable[str]) -> list[tuple[str, str]]:
    """``(later, earlier)`` for each path that names a key an earlier path named already, or a key inside it
    or around it (malformed ones skipped): setting both would make one silently win."""
    seen: list[tuple[tuple[Token, ...], str]] = []
    out = []
    for path in paths:
        try:
            tokens = split(path)
        except KeyPathError:
            continue
        earlier = next((shown for known, shown in seen if overlap(tokens, known)), None)
        if earlier is not None:
            out.append((path, earlier))
        else:
            seen.append((tokens, path))
    return out


#: Top-level keys that name, seed, size or record a run rather than describe the modelled market:
#: a search over the model (``optimize``'s levers, ``calibrate``'s ``--fit``) must not vary them.
RUN_SETTINGS = ("seed", "days", "name", "description", "output")


def run_setting(path: str) -> str | None:
    """The run setting ``path`` is or lies under (``output.events`` -> ``output``), else None."""
    try:
        head = split(path)[0]
    except (KeyPathError, IndexError):
        return None
    return head if head in RUN_SETTINGS else None

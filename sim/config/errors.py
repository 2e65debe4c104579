"""The one error a scenario can raise: every problem located by file, line and key path.

The CLI prints ``error: {err}``, so ``str(err)`` is written for the user: a single
problem is one line, several problems are a header and one indented line each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, and where it was written."""

    source: str  # file path, or an override such as "--set market.size=5"
    line: int | None  # 1-based line in ``source``; None when unknown
    path: str  # dotted key path such as "market.segments[1].share"; "" for the whole document
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario that cannot be loaded; ``problems`` lists every reason found."""

    def __init__(self, problems: Sequence[Problem], title: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.title = title
        super().__init__(self._render())

    def __reduce__(self):  # pickled by worker processes: rebuild from the problems, not the rendered text
        return (type(self), (self.problems, self.title))

    @classmethod
    def single(cls, source: str, line: int | None, path: str, message: str) -> ScenarioError:
        return cls([Problem(source, line, path, message)])

    def _render(self) -> str:
        if len(self.problems) == 1 and self.title is None:
            return str(self.problems[0])
        title = self.title or f"{len(self.problems)} problems in the scenario"
        return "\n".join([f"{title}:", *(f"  {p}" for p in self.problems)])


class ScenarioWarning(UserWarning):
    """Something in a valid scenario that will not do what its author may expect; the CLI prints it."""


def format_path(path: Sequence[str | int]) -> str:
    """Render a key path tuple as ``market.segments[1].share``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out

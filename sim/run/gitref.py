"""The commit a source tree is checked out at, read from its git files (no ``git`` process).

A run's manifest and a sweep's resume check record the commit the package runs from.
Asking ``git rev-parse HEAD`` forks a process for every run; the answer is in a few
small files instead: ``.git`` (a directory, or a file ``gitdir: PATH`` in a worktree or
submodule), its ``HEAD`` (a commit id or ``ref: refs/heads/NAME``), the loose ref file
and ``packed-refs`` (in the common directory a worktree's ``commondir`` names). A
repository whose refs are stored otherwise (the ``reftable`` format) gives None, as a
source tree outside git does.
"""

from __future__ import annotations

import string
from pathlib import Path

_HEX = frozenset(string.hexdigits.lower())
#: Symbolic refs followed before giving up (a loop of refs pointing at each other).
_MAX_LINKS = 5


def head_commit(start: Path) -> str | None:
    """The commit id ``HEAD`` points at in the repository holding ``start``, or None."""
    try:
        git_dir = _git_dir(start.resolve())
        if git_dir is None:
            return None
        common = _common_dir(git_dir)
        text = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        for _ in range(_MAX_LINKS):
            if _is_commit(text):
                return text
            if not text.startswith("ref:"):
                return None
            text = _ref_value(text[4:].strip(), git_dir, common)
            if text is None:
                return None
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _is_commit(text: str) -> bool:
    return len(text) in (40, 64) and set(text) <= _HEX


def _git_dir(start: Path) -> Path | None:
    """The git directory of the closest ``.git`` at or above ``start``."""
    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            line = dot_git.read_text(encoding="utf-8").strip()
            if not line.startswith("gitdir:"):
                return None
            return (folder / line[len("gitdir:") :].strip()).resolve()
    return None


def _common_dir(git_dir: Path) -> Path:
    """Where a worktree's shared refs live (its ``commondir``), else the git directory itself."""
    pointer = git_dir / "commondir"
    if not pointer.is_file():
        return git_dir
    return (git_dir / pointer.read_text(encoding="utf-8").strip()).resolve()


def _ref_value(ref: str, git_dir: Path, common: Path) -> str | None:
    """The content of ``ref``: its loose file (the worktree's own, then the shared one), else ``packed-refs``."""
    if ".." in Path(ref).parts:
        return None
    for base in dict.fromkeys((git_dir, common)):
        loose = base / ref
        if loose.is_file():
            return loose.read_text(encoding="utf-8").strip()
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8").splitlines():
            if line.startswith(("#", "^")):
                continue
            commit, _, name = line.partition(" ")
            if name.strip() == ref:
                return commit
    return None

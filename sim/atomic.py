"""Atomic writes: a file or a directory appears whole or not at all.

Everything is written under a temporary name in the destination's own directory
(the same filesystem), then renamed into place; on any failure or interruption
the temporary is removed. Also where a run directory goes, checked before any work.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.config.schema import Scenario


class OutputError(Exception):
    """The destination cannot be used (exists, not empty, not writable, disk full)."""


def output_error(what: str, exc: OSError) -> OutputError:
    """A user-facing ``OutputError`` for an ``OSError`` raised while writing ``what``."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free some space, or write elsewhere with --out"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "choose a directory you can write to with --out (or --results)"
    else:
        hint = "check the path, or write elsewhere with --out"
    where = f" ({exc.filename})" if exc.filename else ""
    return OutputError(f"cannot write {what}: {reason}{where}; nothing was kept; {hint}")


def check_destination(path: Path) -> None:
    """Fail early, before any work, when ``path`` cannot become a fresh run directory."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise OutputError(f"output directory {path} already exists and is not empty; choose another --out")
    parent = path.parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"cannot create {path}: {probe} is a file, not a directory")
    if not os.access(probe, os.W_OK):
        raise OutputError(f"cannot write to {probe}: permission denied")


def default_run_dir(results: Path, scenario: Scenario) -> Path:
    """``results/<scenario>/<UTC timestamp>-s<seed>``, with a suffix if taken."""
    if scenario.name in (".", ".."):  # allowed by the name pattern, but not a directory of its own
        raise OutputError(f"the scenario name {scenario.name!r} cannot be a directory under {results}; rename it")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = results / scenario.name / f"{stamp}-s{scenario.seed}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


@contextlib.contextmanager
def atomic_directory(path: Path) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``path`` when the block succeeds."""
    check_destination(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    except OSError as exc:
        raise output_error(f"the run directory {path}", exc) from exc
    try:
        yield tmp
        try:
            if path.exists():
                path.rmdir()  # an empty directory given with --out
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                message = f"{path} was created by something else while this run worked; it was not overwritten"
                raise OutputError(message + "; run again with another --out") from exc
            raise output_error(f"the run directory {path}", exc) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file through a temporary sibling and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise

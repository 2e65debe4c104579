"""Atomic writes: a file or a directory appears whole or not at all.

Everything is written under a temporary name in the destination's own directory
(the same filesystem), then renamed into place; on any failure or interruption
the temporary is removed. Temporaries are created with the usual permissions
(0777 or 0666 less the umask), so the outputs get the modes any other file gets.

Also where an output goes, checked before any work: a new or empty directory
(never a symbolic link, a mount point or the current directory), a default run
directory reserved under a free name, a new file, or a directory a command wrote
itself (it holds a marker file naming the command) and may replace whole.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sim.config.base import dir_name

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


#: The file a command leaves in an output directory it may later replace whole.
MARKER = ".community-sim-output"

#: Characters of the destination's name kept in its temporary's name (which must stay under NAME_MAX).
_TEMP_NAME_CHARS = 40


def check_destination(path: Path) -> None:
    """Fail early, before any work, when ``path`` cannot become a fresh output directory."""
    check_path(path, "output directory")
    if path.exists() and (not path.is_dir() or not _is_empty(path)):
        raise OutputError(f"output directory {path} already exists and is not empty; choose another --out")
    if path.exists() and os.path.ismount(path):
        raise OutputError(
            f"output directory {path} is a mount point, which cannot be replaced by the results; "
            f"give a new directory inside it, e.g. --out {path / 'run'}"
        )
    _check_parent(path)


def check_new_file(path: Path) -> None:
    """Fail early when ``path`` cannot become a new file: it exists (never overwritten) or cannot be made."""
    check_path(path, "output file")
    if os.path.lexists(path):
        raise OutputError(f"{path} already exists; it was not overwritten: remove it or give another --out")
    _check_parent(path)


def check_replaceable(path: Path, command: str) -> None:
    """Fail early unless ``path`` is new, empty, or a directory ``command`` wrote and nobody added to."""
    check_path(path, "output directory")
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path} exists and is not a directory; choose another --out")
    if path.is_dir() and not _is_empty(path):
        written = written_by(path, command)
        if written is None:
            raise OutputError(
                f"{path} exists and was not written by `community-sim {command}` (it has no {MARKER} file); "
                "it was left as it is: choose another --out, or remove it"
            )
        added = sorted(p.name for p in path.iterdir() if p.name not in written and p.name != MARKER)
        if added:
            shown = ", ".join(added[:5]) + (", ..." if len(added) > 5 else "")
            raise OutputError(
                f"{path} holds files that `community-sim {command}` did not write ({shown}); it was left "
                "as it is: move them, or choose another --out"
            )
    if path.exists() and os.path.ismount(path):
        raise OutputError(f"{path} is a mount point, which cannot be replaced; give a new directory inside it")
    _check_parent(path)


def written_by(path: Path, command: str) -> set[str] | None:
    """The names ``command`` wrote into the directory ``path``, by its marker; None without its marker."""
    marker = path / MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        doc = json.loads(marker.read_text(encoding="utf-8"))
        if doc.get("written_by") != f"community-sim {command}":
            return None
        return {str(name) for name in doc.get("files", [])}
    except (OSError, ValueError, AttributeError, TypeError):
        return None


def write_marker(folder: Path, command: str) -> None:
    """Leave the marker that lets ``command`` replace ``folder`` later: it names the command and every file."""
    files = sorted(p.name for p in folder.iterdir() if p.name != MARKER)
    text = json.dumps({"written_by": f"community-sim {command}", "files": files}, indent=1) + "\n"
    (folder / MARKER).write_text(text, encoding="utf-8")


def _is_empty(path: Path) -> bool:
    try:
        return not any(path.iterdir())
    except OSError:  # unreadable: treat as taken
        return False


def replace_directory(tmp: Path, path: Path, command: str) -> None:
    """Move the finished ``tmp`` to ``path``, replacing an older output of ``command`` (checked again here)."""
    check_replaceable(path, command)
    old = None
    try:
        if path.exists():
            old = path.with_name(f".{path.name[:_TEMP_NAME_CHARS]}.{secrets.token_hex(4)}.old")
            path.rename(old)
        os.replace(tmp, path)
    except BaseException as exc:  # an error, or Ctrl-C/SIGTERM between the two renames: put the old output back
        if old is not None and not path.exists():
            with contextlib.suppress(OSError):
                old.rename(path)
        if isinstance(exc, OSError):
            raise output_error(f"the output directory {path}", exc) from exc
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_path(path: Path, what: str) -> None:
    """Refuse what can never be the output: an overlong name, the current directory or one above it, a symlink."""
    absolute = Path(os.path.abspath(path))
    limit = _name_max(_nearest_existing(absolute))
    for part in absolute.parts[1:]:
        size = len(os.fsencode(part))
        if size > limit:
            short = part if len(part) <= 40 else f"{part[:20]}...{part[-12:]}"
            raise OutputError(
                f"cannot create {path}: the name '{short}' is {size} bytes long, too long for the file "
                f"system (at most {limit}); choose a shorter --out"
            )
    with contextlib.suppress(OSError):
        here = Path.cwd()
        for candidate in (absolute, Path(os.path.realpath(path))):
            if here == candidate or here.is_relative_to(candidate):
                raise OutputError(
                    f"{what} {path} is the current directory (or holds it); give a new directory name with --out"
                )
    if path.is_symlink():
        hint = "give the directory it points to, or a new name" if what.endswith("directory") else "give a new name"
        raise OutputError(f"{what} {path} is a symbolic link; {hint}, with --out")


def _check_parent(path: Path) -> None:
    """The nearest existing parent must be a directory we can write to."""
    probe = path.parent
    while not probe.exists():
        if probe.is_symlink():
            raise OutputError(f"cannot create {path}: {probe} is a symbolic link to nothing")
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"cannot create {path}: {probe} is a file, not a directory")
    if not os.access(probe, os.W_OK):
        raise OutputError(f"cannot write to {probe}: permission denied")


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not _exists(probe) and probe != probe.parent:
        probe = probe.parent
    return probe if probe.is_dir() else probe.parent


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # e.g. a name too long to look up
        return False


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def temp_dir(parent: Path, name: str) -> Path:
    """A new hidden directory next to ``name`` in ``parent``, created 0777 less the umask."""
    for _ in range(100):
        tmp = parent / f".{name[:_TEMP_NAME_CHARS]}.{secrets.token_hex(4)}.partial"
        try:
            tmp.mkdir()
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(parent))


def _temp_file(parent: Path, name: str) -> tuple[int, Path]:
    """A new hidden file next to ``name`` in ``parent``, created 0666 less the umask, and its descriptor."""
    for _ in range(100):
        tmp = parent / f".{name[:_TEMP_NAME_CHARS]}.{secrets.token_hex(4)}.partial"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(parent))


def default_run_dir(results: Path, scenario: Scenario) -> Path:
    """Reserve ``results/<scenario>/<UTC timestamp>-s<seed>`` (with a suffix if taken) and return it.

    ``<scenario>`` is the name as a safe directory name (``dir_name``: 社群测试 stays 社群测试).
    The name is claimed by creating the empty directory, so runs started in the same
    second get different names before they simulate; ``release`` removes it again
    (and the parents it created) if the run fails.
    """
    if scenario.name in (".", ".."):  # allowed by the name pattern, but not a directory of its own
        raise OutputError(f"the scenario name {scenario.name!r} cannot be a directory under {results}; rename it")
    return reserve_directory(results / dir_name(scenario.name) / f"{timestamp()}-s{scenario.seed}")


def default_output_dir(results: Path, command: str) -> Path:
    """Reserve ``results/<command>/<UTC timestamp>`` (with a suffix if taken), as ``default_run_dir`` does,
    so a command run twice without --out writes two directories instead of refusing the second time."""
    return reserve_directory(results / command / timestamp())


def timestamp() -> str:
    """The UTC time to the second, as output directories are named: ``20261122T093000Z``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


#: Directories reserved by ``reserve_directory`` and not yet filled: each with the parents it created.
_reserved: dict[Path, list[Path]] = {}


def reserve_directory(base: Path) -> Path:
    """Create ``base`` (or ``base-2``, ``base-3``, ... if taken) as an empty directory and return it."""
    check_path(base, "output directory")
    _check_parent(base)
    created = [p for p in reversed(base.parents) if not p.exists()]
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        path, k = base, 1
        while True:
            try:
                path.mkdir()
                break
            except FileExistsError:
                k += 1
                path = base.with_name(f"{base.name}-{k}")
    except OSError as exc:
        raise output_error(f"the output directory {base}", exc) from exc
    _reserved[path] = [path, *reversed(created)]
    return path


def release(path: Path) -> None:
    """Remove a directory reserved by ``reserve_directory`` and never filled, and the parents it created."""
    for folder in _reserved.pop(path, []):
        try:
            folder.rmdir()  # only while empty
        except OSError:
            break


@contextlib.contextmanager
def atomic_directory(path: Path) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``path`` when the block succeeds.

    ``path`` may be absent or an empty directory (given with --out, or reserved by
    ``reserve_directory``); the rename replaces an empty directory in one step.
    """
    check_destination(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_dir(path.parent, path.name)
    except OSError as exc:
        release(path)
        raise output_error(f"the run directory {path}", exc) from exc
    try:
        yield tmp
        try:
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                message = f"{path} was created by something else while this run worked; it was not overwritten"
                raise OutputError(message + "; run again with another --out") from exc
            raise output_error(f"the run directory {path}", exc) from exc
        _reserved.pop(path, None)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        release(path)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file through a temporary sibling and rename (replacing ``path`` if it exists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temp_file(path.parent, path.name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_new(path: Path, text: str) -> None:
    """Write a new text file atomically; refuse (``OutputError``) if ``path`` exists, even if it appeared meanwhile."""
    check_new_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _temp_file(path.parent, path.name)
    except OSError as exc:
        raise output_error(str(path), exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            os.link(tmp, path)  # fails if path exists: never replaces anything
        except FileExistsError:
            raise OutputError(f"{path} was created by something else meanwhile; it was not overwritten") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if os.path.lexists(path):  # a file system without hard links: check, then rename
                raise OutputError(f"{path} was created by something else meanwhile; it was not overwritten") from None
            os.replace(tmp, path)
    except OSError as exc:
        raise output_error(str(path), exc) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)

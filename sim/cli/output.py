"""What a command writes besides its results: standard output that cannot fail finished work, the
error console, and a matplotlib directory of the tool's own."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

from rich.console import Console


def plain_console(**options) -> Console:
    """A rich console that prints text as written: no emoji codes (``:100:`` in a name or value stays so)."""
    return Console(emoji=False, **options)


err = plain_console(stderr=True, highlight=False)


class GuardedOutput:
    """Standard output that cannot fail a command: after a write error (a full disk, a closed pipe) the
    rest of the output is dropped and the error kept in ``error``, since what was printed only reports
    work that is already done."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.error: OSError | None = None

    def write(self, text: str) -> int:
        if self.error is None:
            try:
                return self.stream.write(text)
            except OSError as exc:
                self._broken(exc)
        return len(text)

    def flush(self) -> None:
        if self.error is None:
            try:
                self.stream.flush()
            except OSError as exc:
                self._broken(exc)

    def _broken(self, exc: OSError) -> None:
        self.error = exc
        # what is still buffered goes to /dev/null, so the interpreter's last flush cannot fail either
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self.stream.fileno())
            finally:
                os.close(devnull)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def use_private_matplotlib_dir() -> None:
    """Point matplotlib's config and cache at ``<temp dir>/community-sim-<uid>/matplotlib`` unless
    MPLCONFIGDIR is set, so it never writes under a missing or foreign HOME. The directory is this
    user's only (0700, not a symlink); if someone else holds the name, a fresh private one is used."""
    if os.environ.get("MPLCONFIGDIR"):
        return
    uid = os.getuid() if hasattr(os, "getuid") else 0
    base = Path(tempfile.gettempdir()) / f"community-sim-{uid}"
    folder = base / "matplotlib"
    try:
        for d in (base, folder):
            with contextlib.suppress(FileExistsError):
                d.mkdir(mode=0o700)
                os.chmod(d, 0o700)
            info = os.lstat(d)
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077:
                raise PermissionError(f"{d} is not this user's private directory")
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix="community-sim-matplotlib-"))
        atexit.register(shutil.rmtree, folder, True)
    os.environ["MPLCONFIGDIR"] = str(folder)


def runs_bar(label: str, quiet: bool, console=None):
    """The batch commands' progress bar: label, bar, runs done of total, time left; on standard error,
    cleared when done, silent with ``quiet``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console or plain_console(stderr=True),
        disable=quiet,
        transient=True,
    )


class Steps:
    """Progress of a command's successive steps on one line of standard error: the step, a bar (pulsing while
    the step has no count), ``done/total unit`` and the time left (or taken, for an uncounted step); cleared
    when done, silent with ``quiet`` and when standard error is not a terminal (a log file gets no
    half-drawn lines). ``step`` starts a step, ``advance`` counts it."""

    def __init__(self, quiet: bool, console=None) -> None:
        from rich.progress import BarColumn, Progress, TextColumn

        console = console or plain_console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            _clock_column(),
            console=console,
            disable=quiet or not console.is_terminal,
            transient=True,
        )
        self.task = None
        self.unit, self.total = "", None

    def __enter__(self) -> Steps:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def step(self, text: str, total: int | None = None, unit: str = "") -> None:
        self.unit, self.total = unit, total
        if self.task is not None:
            self.progress.remove_task(self.task)  # a fresh task: its clock and count start again
        count = f"0/{total} {unit}".rstrip() if total else ""
        self.task = self.progress.add_task(text, total=total, count=count)

    def advance(self, done: int) -> None:
        self.progress.update(self.task, completed=done, count=f"{done}/{self.total} {self.unit}".rstrip())


def _clock_column():
    """A column showing the time left of a counted step, the time taken of an uncounted one."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Clock(ProgressColumn):
        def render(self, task) -> Text:
            if task.total is None:
                seconds = task.elapsed or 0.0
                return Text(f"{int(seconds // 60)}:{int(seconds % 60):02d}", style="progress.elapsed")
            left = task.time_remaining
            shown = "-:--" if left is None else f"{int(left // 60)}:{int(left % 60):02d}"
            return Text(f"{shown} left", style="progress.remaining")

    return Clock()

"""Run independent jobs in two processes by forking, when that is safe, else in this one.

Drawing a run's figures is CPU-bound Python (matplotlib) and takes about half the
wall time of a small command-line run; a forked child shares the modules and data
already loaded at no cost, so the figures are drawn on two cores. Fork is used only
where it is safe: a POSIX system and a process with a single thread (forking a
multi-threaded process, e.g. a Dask worker, can deadlock the child). A child that
fails leaves its jobs to this process, which then raises any error as usual.

``preloaded`` goes one step further for the command line: a child forked at the
start imports the plotting modules (matplotlib, pandas: about 0.8 s) on the second
core while this process imports Mesa and simulates, and later draws the figures,
so this process never imports matplotlib at all (its jobs name their functions
as ``"module:function"`` strings, imported only where they run).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

#: ``(function, args)``; the function may be named as ``"module:function"``, imported where the job runs.
Job = tuple[Callable[..., Any] | str, tuple]

_DONE = b"done"
_HEADER = struct.Struct("<Q")  # a batch's length in bytes


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def run_split(jobs: Sequence[Job]) -> None:
    """Run ``fn(*args)`` for every job; every other job in a forked child when possible.

    Inside a ``preloaded`` block the jobs go to its child (which splits them in turn);
    if that child cannot take them, they run as below. Jobs must deliver their results
    through files: a child's return values are lost.
    """
    helper = _Preloaded.current
    if helper is not None and helper.run(jobs):
        return
    _split_here(jobs)


def _split_here(jobs: Sequence[Job]) -> None:
    theirs = list(jobs[1::2])
    if not theirs or not can_fork():
        _run_all(jobs)
        return
    pid = os.fork()
    if pid == 0:  # the child: its half, then leave without running the parent's exit handlers
        code = 0
        try:
            _run_all(theirs)
        except BaseException:
            code = 1
        os._exit(code)
    try:
        _run_all(jobs[0::2])
        _, status = os.waitpid(pid, 0)
    except BaseException:  # failed or interrupted here: the child's half is not wanted, and not left running
        _stop(pid)
        raise
    if os.waitstatus_to_exitcode(status) != 0:  # redo the child's jobs here, so that errors surface
        _run_all(theirs)


def _run_all(jobs: Sequence[Job]) -> None:
    for fn, args in jobs:
        if isinstance(fn, str):
            module, _, name = fn.partition(":")
            fn = getattr(importlib.import_module(module), name)
        fn(*args)


@contextlib.contextmanager
def preloaded(*modules: str) -> Iterator[None]:
    """Within the block, a child forked on entry imports ``modules`` and runs the first ``run_split``.

    Call it early, before this process imports much or starts a thread. Where forking
    is unsafe or fails, or a block is already open, it does nothing. The child's imports
    and job run entirely apart from this process; whatever it cannot do (an import
    error, a failed job, a crash) is done here instead, so results and errors are as
    without it. On leaving the block an unused child is told to exit, and the child is
    always reaped.
    """
    if _Preloaded.current is not None or not can_fork():
        yield
        return
    try:
        helper = _Preloaded(modules)
    except OSError:  # no fork (a process or memory limit): everything runs here
        yield
        return
    _Preloaded.current = helper
    try:
        yield
    finally:
        _Preloaded.current = None
        helper.close()


class _Preloaded:
    """One forked child: imports ahead, then runs one batch of jobs sent through a pipe.

    A batch is its length (``_HEADER``) and its pickle; length 0 tells the child to
    exit. The child reads exactly that many bytes, so it never waits for the end of the
    pipe, which other processes forked from this one would hold open.
    """

    current: _Preloaded | None = None

    def __init__(self, modules: Sequence[str]) -> None:
        jobs_r, jobs_w = os.pipe()
        done_r, done_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (jobs_r, jobs_w, done_r, done_w):
                os.close(fd)
            raise
        if pid == 0:  # the child never returns into the caller's code
            try:
                os.close(jobs_w)
                os.close(done_r)
                _serve(modules, jobs_r, done_w)
            finally:
                os._exit(1)
        os.close(jobs_r)
        os.close(done_w)
        self.pid = pid
        self._jobs = os.fdopen(jobs_w, "wb", buffering=0)
        self._done = os.fdopen(done_r, "rb")
        self._claim = threading.Lock()
        self._unused = True

    def run(self, jobs: Sequence[Job]) -> bool:
        """Send the jobs and wait for them; False if the child did not finish them all."""
        try:
            payload = pickle.dumps(list(jobs), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # jobs that cannot travel (a lambda, an open file) run here
            return False
        if not self._take():
            return False
        try:
            self._send(payload)
            return self._done.read(len(_DONE)) == _DONE
        finally:  # even when interrupted: nobody cleans up files the child may still be writing
            self._finish()

    def close(self) -> None:
        """Tell an unused child to exit (an empty batch); reap the child."""
        if self._take():
            self._send(b"")
        self._finish()

    def _take(self) -> bool:
        """Claim the child for this caller: True once, to whichever thread asks first."""
        with self._claim:
            unused, self._unused = self._unused, False
        return unused

    def _send(self, payload: bytes) -> None:
        view = memoryview(_HEADER.pack(len(payload)) + payload)
        with contextlib.suppress(OSError):  # the child has gone (BrokenPipeError): its reply says so
            while view:
                view = view[self._jobs.write(view) :]

    def _finish(self) -> None:
        for pipe in (self._jobs, self._done):
            with contextlib.suppress(OSError):
                pipe.close()
        if self.pid:
            _reap(self.pid)
            self.pid = 0


def _serve(modules: Sequence[str], jobs_r: int, done_w: int) -> None:
    """The child's life: import, wait for one batch, run it split in two, report, exit."""
    code = 1
    try:
        for name in modules:
            importlib.import_module(name)
        with os.fdopen(jobs_r, "rb") as pipe:
            header = pipe.read(_HEADER.size)
            size = _HEADER.unpack(header)[0] if len(header) == _HEADER.size else 0
            payload = pipe.read(size) if size else b""
        if payload:
            _split_here(pickle.loads(payload))
            os.write(done_w, _DONE)
        code = 0
    except BaseException:
        pass
    os._exit(code)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _stop(pid: int) -> None:
    """Kill and reap a child whose work is no longer wanted."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)

"""Run independent jobs in two processes by forking, when that is safe, else in this one.

Drawing a run's figures is CPU-bound Python (matplotlib) and takes about half the
wall time of a small command-line run; a forked child shares the modules and data
already loaded at no cost, so the figures are drawn on two cores. Fork is used only
where it is safe: a POSIX system and a process with a single thread (forking a
multi-threaded process, e.g. a Dask worker, can deadlock the child). A child that
fails leaves its jobs to this process, which then raises any error as usual.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

Job = tuple[Callable[..., Any], tuple]


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def run_split(jobs: Sequence[Job]) -> None:
    """Run ``fn(*args)`` for every job; every other job in a forked child when possible.

    Jobs must deliver their results through files: a child's return values are lost.
    """
    theirs = list(jobs[1::2])
    if not theirs or not can_fork():
        for fn, args in jobs:
            fn(*args)
        return
    pid = os.fork()
    if pid == 0:  # the child: its half, then leave without running the parent's exit handlers
        code = 0
        try:
            for fn, args in theirs:
                fn(*args)
        except BaseException:
            code = 1
        os._exit(code)
    try:
        for fn, args in jobs[0::2]:
            fn(*args)
    finally:
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:  # redo the child's jobs here, so that errors surface
        for fn, args in theirs:
            fn(*args)

"""Helpers for the experiment tests: small experiment files next to the shipped scenarios."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
#: Keeps every run well under a tenth of a second.
SMALL_SET = "set: {days: 30, market.size: 2000, acquisition.initial_members: 100, koc.initial_count: 5}\n"


def write_experiment(folder: Path, body: str, name: str = "exp.yaml", small: bool = True) -> Path:
    """Write an experiment whose base is the smoke scenario (shrunk unless ``small`` is false)."""
    text = f"scenario: {SMOKE}\n" + (SMALL_SET if small else "") + textwrap.dedent(body)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def stop_once(marker: str, x: int) -> int:
    """A chunk function for the executor tests: the first call stops its own process (SIGSTOP), later ones work."""
    import os
    import signal

    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return 2 * x
    os.close(fd)
    os.kill(os.getpid(), signal.SIGSTOP)
    return -1  # never reached: a stopped worker is killed


def late_for_early_tasks(plan: float, task: int) -> tuple[int, int]:
    """Sleeps longer for earlier tasks (``plan`` seconds a step), so tasks finish in reverse order; (task, pid)."""
    time.sleep(plan * (3 - task))
    return task, os.getpid()


def worker_threads(plan: object, chunk: object) -> tuple:
    """A chunk function reporting how the worker limits its threads."""
    import os

    from sim.engine.options import default

    threads = tuple(os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"))
    return threads, not default().second_core


def worker_pools(plan: object, chunk: object) -> list[tuple[str, int]]:
    """A chunk function reporting the thread pools of the numerical libraries the worker has loaded
    (after a matrix product, so that numpy's BLAS is loaded): (library, threads)."""
    import numpy as np
    from threadpoolctl import threadpool_info

    np.ones((64, 64)) @ np.ones((64, 64))
    return [(p["internal_api"], p["num_threads"]) for p in threadpool_info()]

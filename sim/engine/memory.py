"""Keep freed memory for reuse instead of handing it back to the OS after every array.

A day at a million people allocates and frees a few hundred temporary arrays of
4 to 8 MB. With glibc's defaults many are mapped fresh from the OS, and freed heap
is handed back, so the next day faults the same memory in again: about 5,000 page
faults a day, 13 to 18% of the run time at 10^6 people (measured with
benchmarks/bench_run.py under ``/usr/bin/time -v``, with and without). Raising the
mmap and trim thresholds makes freed blocks serve the next allocations. Peak memory
is unchanged; the process keeps up to ``TRIM`` of freed memory instead of returning
it. Only on glibc (Linux); elsewhere a no-op. Set by entry points only
(``sim.engine.process``), never by building a model.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
MMAP = 32 << 20  # glibc's largest allowed value: blocks below it come from the reusable heap
TRIM = 1 << 30  # freed memory kept before any is returned to the OS
TOP_PAD = 256 << 20  # the heap grows in steps of this much, not page by page

_done = False


def keep_freed_memory() -> bool:
    """Set the allocator's thresholds once per process; True if they are in effect."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:  # glibc's name first: find_library runs ldconfig, which costs more than the whole setting
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"))
        except OSError:
            return False
    try:
        mallopt = libc.mallopt
    except AttributeError:  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    settings = ((M_MMAP_THRESHOLD, MMAP), (M_TRIM_THRESHOLD, TRIM), (M_TOP_PAD, TOP_PAD))
    _done = all(mallopt(param, value) == 1 for param, value in settings)
    return _done

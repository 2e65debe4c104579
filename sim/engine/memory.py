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


# --- is there enough memory for a run? ------------------------------------------------------

#: Peak memory of a run beyond the loaded interpreter and libraries, per person and per contact,
#: from the peaks in docs/performance.md (782 MB at 10^6 people with 10 contacts each, 270 MB at
#: 10^5): the population's columns and the numbers drawn ahead (per person), and the network
#: build, which sorts 64-bit pair keys with their temporaries (per contact). Rounded up.
BASE_BYTES = 160 << 20
BYTES_PER_PERSON = 450
BYTES_PER_CONTACT = 32
#: Address space the allocator may reserve beyond what is used (``TOP_PAD``, thread arenas).
SLACK_BYTES = 256 << 20


class NotEnoughMemory(MemoryError):
    """A run that cannot fit in the memory this process may use; the CLI reports it (exit 2)."""


def estimate_bytes(size: int, mean_degree: float, complete: bool = False) -> int:
    """Peak memory of a run of ``size`` people (the process with its libraries included)."""
    contacts = 0.0 if complete else mean_degree
    return int(BASE_BYTES + size * (BYTES_PER_PERSON + BYTES_PER_CONTACT * contacts))


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_available() -> int | None:
    """What the control group's limit leaves (cgroup v2), or None without a limit."""
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as fh:
            limit = fh.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as fh:
            current = int(fh.read().strip())
    except (OSError, ValueError):
        return None
    try:  # the page cache the kernel can drop counts as free (the working set, as container runtimes measure it)
        with open("/sys/fs/cgroup/memory.stat", encoding="ascii") as fh:
            current -= next(int(line.split()[1]) for line in fh if line.startswith("inactive_file "))
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return max(int(limit) - max(current, 0), 0)


def _address_space_left() -> int | None:
    """What ``RLIMIT_AS`` (``ulimit -v``) leaves beyond the address space in use, or None without a limit."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/status", encoding="ascii") as fh:
            used = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
        return max(soft - used, 0)
    except (ImportError, OSError, ValueError, StopIteration):
        return None


def available_bytes() -> int | None:
    """Memory this process can still use: the least of MemAvailable, the cgroup's and the RLIMIT_AS room."""
    known = [b for b in (_meminfo_available(), _cgroup_available(), _address_space_left()) if b is not None]
    return min(known) if known else None


#: What this process has already reserved for the largest run it checked: the allocator keeps freed memory for
#: reuse (``keep_freed_memory``), so a sweep worker's next run of that size needs no more address space.
_held = 0


def check_fits(size: int, mean_degree: float, complete: bool = False) -> None:
    """Raise ``NotEnoughMemory`` if a run of ``size`` people cannot fit in the memory left."""
    global _held
    room = available_bytes()
    want = estimate_bytes(size, mean_degree, complete) - BASE_BYTES + SLACK_BYTES  # the libraries are loaded
    need = want - _held
    if room is not None and need > room:
        raise NotEnoughMemory(
            f"not enough memory for {size:,} people: a run needs about {need / 1e9:.1f} GB more "
            f"(docs/performance.md), {room / 1e9:.1f} GB is available; make market.size smaller, "
            "or run where there is more memory"
        )
    _held = max(_held, want)

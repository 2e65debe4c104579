"""The allocator setting for large markets: applied once, and it keeps freed blocks for reuse."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim.engine import memory

CODE = """
import resource
import numpy as np
from sim.engine.memory import keep_freed_memory
if {apply}:
    assert keep_freed_memory() and keep_freed_memory()  # idempotent
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for day in range(50):  # a day's temporaries: 4 and 8 MB arrays, alive together, all freed by the evening
    temporaries = [np.ones(1_000_000, dtype=np.float32 if k % 2 else np.float64) for k in range(8)]
    del temporaries
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(apply: bool) -> int:
    done = subprocess.run([sys.executable, "-c", CODE.format(apply=apply)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


@pytest.mark.skipif(not memory.keep_freed_memory(), reason="needs glibc")
def test_freed_blocks_are_reused_instead_of_faulted_in_again():
    # with glibc's defaults the freed heap is handed back to the OS every evening and faulted in again
    # the next day (about 4,700 page faults a day here); with the setting, the first day's memory serves all
    kept, default = _faults(True), _faults(False)
    assert kept * 10 < default


def test_it_is_a_no_op_where_it_does_not_apply(monkeypatch):
    monkeypatch.setattr(memory, "_done", False)
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.keep_freed_memory() is False

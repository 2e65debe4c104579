"""Process-wide settings, made by entry points only (the command line, a sweep's worker, a benchmark).

Building a model changes nothing about its process: a notebook that builds a large
model keeps its allocator and its default engine options as they were.
"""

from __future__ import annotations

from sim.engine import options
from sim.engine.memory import keep_freed_memory


def prepare_process(*, one_core: bool = False) -> None:
    """Keep freed memory for reuse (see ``sim.engine.memory``); with ``one_core``, run models on one core."""
    keep_freed_memory()
    if one_core:
        options.set_default(options.default().on_one_core())

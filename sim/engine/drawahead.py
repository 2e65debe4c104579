"""Tomorrow's per-person random numbers, drawn on the second core while today finishes.

In a large market the day's per-person draws (about a dozen arrays of a million
numbers) are a seventh of the day's work and numpy fills arrays without holding
the GIL. The numbers of a draw depend only on (seed, stream, day, draw rank) (see
``sim.core.streams``), so at the end of each day a background thread draws, for the next
day, the requests this day made, from generators of its own. Tomorrow a request
takes those numbers when it is the one expected (same stream, rank, kind and size);
any other request is drawn on demand. Results do not change either way.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

Request = tuple[str, int]  # ("uniform" | "packed", n)
Key = tuple[str, int, int]  # (stream, day, draw)
#: (stream, day, draw, request) -> that draw's numbers, a pure function of its arguments
Numbers = Callable[[str, int, int, Request], np.ndarray]


class DrawAhead:
    """Records a day's requests and draws them again for the next day in a thread."""

    def __init__(self, numbers: Numbers):
        self._own = numbers  # used by the thread only: generators of its own, keyed like the run's
        self._today: list[tuple[Key, Request]] = []
        self._ahead: dict[Key, tuple[Request, Future]] = {}
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._last: Future | None = None  # done when the worker has finished the latest batch
        self.used = 0  # requests served with numbers drawn ahead, and drawn on demand
        self.on_demand = 0

    def take(self, name: str, day: int, draw: int, request: Request) -> np.ndarray | None:
        """The numbers drawn ahead for this request, or None when it must be drawn on demand."""
        key = (name, day, draw)
        self._today.append((key, request))
        entry = self._ahead.pop(key, None)
        if entry is not None and entry[0] == request:
            self.used += 1
            return entry[1].result()
        self.on_demand += 1
        return None

    def submit(self) -> None:
        """Draw, for tomorrow, the requests made since the last call (call at the end of a day's draws)."""
        today, self._today = self._today, []
        self.wait()
        self._ahead = {}
        if not today:
            return
        self._start()
        batch = []
        latest = max(day for (_, day, _), _ in today)
        for (name, day, draw), request in today:
            if day != latest:  # made after the previous submit (tonight's rules): its next day is already under way
                continue
            key = (name, day + 1, draw)
            entry = self._ahead[key] = (request, Future())
            batch.append((key, request, entry[1]))
        self._last = Future()
        self._jobs.put((self._own, batch, self._last))

    def wait(self) -> None:
        """Until the worker has finished the batch under way."""
        if self._last is not None:
            self._last.result()

    def close(self) -> None:
        """Stop the thread and drop what was drawn ahead (a later ``submit`` starts again)."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
            self._stop.detach()
        self._ahead = {}
        self._last = None

    def _start(self) -> None:
        if self._thread is None:
            # the thread holds only the queue, and a collected DrawAhead stops it: a model stepped with step()
            # alone (never run()) leaves no thread and no numbers behind once it is dropped
            self._thread = threading.Thread(target=_work, args=(self._jobs,), name="draw-ahead", daemon=True)
            self._thread.start()
            self._stop = weakref.finalize(self, self._jobs.put, None)


def _work(jobs: queue.SimpleQueue) -> None:
    """The thread: draw each batch's requests in order, until told to stop."""
    while (job := jobs.get()) is not None:
        own, batch, done = job
        for (name, day, draw), request, future in batch:
            try:
                future.set_result(own(name, day, draw, request))
            except BaseException as exc:  # handed to the request that would have used the numbers
                future.set_exception(exc)
        done.set_result(None)

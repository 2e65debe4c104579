"""Tomorrow's per-person random numbers, drawn on the second core while today finishes.

In a large market the day's per-person draws (about a dozen arrays of a million
numbers) are a seventh of the day's work and depend on nothing but each stream's
state, and numpy fills arrays without holding the GIL. So at the end of each day's
phases a background thread draws again the requests the day made, in the order it
made them, from copies of the streams' generators; tomorrow each request takes the
numbers drawn for it when nothing else has moved its stream since.

Results do not change: a number drawn ahead is used only when the request is the
one expected (same kind and size) and its stream's generator is in the state the
copy started from; the generator then takes the copy's end state, as if it had
drawn the numbers itself. Any other request (a stream drawn directly, a request
that appears or changes size) draws on demand and discards what was drawn ahead
for that stream.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

Request = tuple[str, int]  # ("uniform" | "packed", n)


def fill(gen: np.random.Generator, request: Request) -> np.ndarray:
    """The numbers of ``request`` from ``gen``: float32 uniforms, or raw 64-bit draws for ``packed``."""
    kind, n = request
    return gen.random(n, dtype=np.float32) if kind == "uniform" else gen.bit_generator.random_raw(n)


@dataclass
class _Ahead:
    request: Request
    future: Future  # (numbers, state before, state after)


class DrawAhead:
    """Records a day's requests per stream and draws them again for the next day in a thread."""

    def __init__(self, gens: dict[str, np.random.Generator]):
        self._gens = gens
        self._copies: dict[str, np.random.Generator] = {}
        self._today: list[tuple[str, Request]] = []
        self._ahead: dict[str, deque[_Ahead]] = {}
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._last: Future | None = None  # done when the worker has finished the latest batch
        self.used = 0  # requests served with numbers drawn ahead, and drawn on demand
        self.on_demand = 0

    def take(self, name: str, request: Request) -> np.ndarray | None:
        """The numbers drawn ahead for this request, or None when it must be drawn on demand."""
        self._today.append((name, request))
        pending = self._ahead.get(name)
        if pending:
            entry = pending.popleft()
            numbers, before, after = entry.future.result()
            gen = self._gens[name]
            if entry.request == request and gen.bit_generator.state == before:
                gen.bit_generator.state = after
                self.used += 1
                return numbers
            pending.clear()  # the stream left the expected sequence: nothing drawn ahead for it fits now
        self.on_demand += 1
        return None

    def submit(self) -> None:
        """Draw again, for tomorrow, the requests made since the last call (call at the end of a day's draws)."""
        today, self._today = self._today, []
        self.wait()
        self._ahead = {}
        if not today:
            return
        self._start()
        batch = []
        for name, request in today:
            if name not in self._ahead:
                if name not in self._copies:
                    self._copies[name] = np.random.Generator(type(self._gens[name].bit_generator)())
                self._copies[name].bit_generator.state = self._gens[name].bit_generator.state
                self._ahead[name] = deque()
            entry = _Ahead(request, Future())
            self._ahead[name].append(entry)
            batch.append((self._copies[name], entry))
        self._last = Future()
        self._jobs.put((batch, self._last))

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
        batch, done = job
        for gen, entry in batch:
            try:
                before = gen.bit_generator.state
                numbers = fill(gen, entry.request)
                entry.future.set_result((numbers, before, gen.bit_generator.state))
            except BaseException as exc:  # handed to the request that would have used the numbers
                entry.future.set_exception(exc)
        done.set_result(None)

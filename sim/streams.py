"""One random generator per mechanism, all spawned from the run's seed.

Each mechanism owns a substream, so changing what one mechanism does (say, more
referral invitations) leaves the random numbers of every other mechanism intact:
two strategies run with the same seed share their draws wherever their behaviour
agrees (common random numbers). Mechanisms draw one number per *person* per day
rather than per event, which keeps the alignment person by person; decisions that
concern only a few people each day take their numbers from one 64-bit draw per
person (``packed``).
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

#: Fixed order: appending a name keeps existing streams unchanged; never reorder.
STREAMS: tuple[str, ...] = (
    "network",
    "population",
    "acquisition",
    "engagement",
    "content",
    "purchase",
    "referral",
    "churn",
    "koc",
    "operators",
    "events",
    "incentives",
    "mesa",
    "coupons",
    "group_buy",
    "flash_sale",
    "lottery",
    "sentiment",
    "livestream",
    "governance",
)


Request = tuple[str, int]  # ("uniform" | "packed", n)


class Streams:
    """Named generators spawned from one ``SeedSequence``."""

    def __init__(self, seed: int | np.random.SeedSequence):
        root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self.root = root
        self._gens = {
            name: np.random.default_rng(child) for name, child in zip(STREAMS, root.spawn(len(STREAMS)), strict=True)
        }
        self._cycles: dict[str, tuple[Request, ...]] = {}
        self._ahead: dict[str, deque[tuple[Request, Future]]] = {}
        self._submitted: dict[str, int] = {}  # requests of each stream's cycle submitted so far
        self._pool: ThreadPoolExecutor | None = None

    def __getitem__(self, name: str) -> np.random.Generator:
        if name in self._cycles:
            raise RuntimeError(f"stream {name!r} is drawn ahead: use uniform() or packed()")
        return self._gens[name]

    def uniform(self, name: str, n: int) -> np.ndarray:
        """``n`` uniforms in [0, 1) from stream ``name`` (float32: half the cost, ample resolution)."""
        return self._take(name, ("uniform", n))

    def packed(self, name: str, n: int) -> PackedUniforms:
        """Three uniforms per person for ``n`` people from one 64-bit draw each (see ``PackedUniforms``)."""
        return PackedUniforms(self._take(name, ("packed", n)))

    # -- drawing ahead on a second core ------------------------------------------------------------

    def draw_ahead(self, cycles: dict[str, tuple[Request, ...]]) -> None:
        """Draw the next numbers of these streams in a background thread while the day computes.

        ``cycles`` gives each stream's requests in the order they recur (one day's worth). numpy
        fills the arrays without holding the GIL, so the draws run on the second core. A stream's
        numbers are drawn in the same order either way, so results do not change; a request that
        breaks the cycle is an error, not a silent change of numbers.
        """
        for name, cycle in cycles.items():
            self._cycles[name] = cycle
            self._ahead[name] = deque()
            self._submitted[name] = 0
            self._submit_next(name)

    def pause(self) -> None:
        """Finish the draws under way and stop the thread (it restarts on the next request)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _draw(self, name: str, request: Request) -> np.ndarray:
        kind, n = request
        gen = self._gens[name]
        return gen.random(n, dtype=np.float32) if kind == "uniform" else gen.bit_generator.random_raw(n)

    def _submit_next(self, name: str) -> None:
        cycle = self._cycles[name]
        request = cycle[self._submitted[name] % len(cycle)]
        self._submitted[name] += 1
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="draw-ahead")
        self._ahead[name].append((request, self._pool.submit(self._draw, name, request)))

    def _take(self, name: str, request: Request) -> np.ndarray:
        ahead = self._ahead.get(name)
        if ahead is None:
            return self._draw(name, request)
        expected, future = ahead.popleft()
        if expected != request:
            raise RuntimeError(f"stream {name!r}: asked for {request} where {expected} was drawn ahead")
        self._submit_next(name)  # the single worker runs a stream's draws in the order submitted
        return future.result()


class PackedUniforms:
    """Three independent uniforms per person, 21 bits each, cut from one 64-bit draw per person.

    For decisions that concern few people (today's visitors, buyers, inviters) but
    must still use a number of each person's own (common random numbers): one draw
    per person costs 60% of two float32 uniforms and 40% of three, and the bits are
    turned into numbers only for the people asked about. A resolution of 2^-21
    (5e-7) is ample for the probabilities involved.
    """

    SHIFTS = (43, 22, 1)
    MASK = np.uint64((1 << 21) - 1)
    SCALE = np.float32(2.0**-21)

    def __init__(self, bits: np.ndarray):
        self.bits = bits

    def __call__(self, slot: int, idx: np.ndarray) -> np.ndarray:
        """Uniform number ``slot`` (0, 1 or 2), in [0, 1), of the people ``idx`` (float32)."""
        cut = (self.bits[idx] >> np.uint64(self.SHIFTS[slot])) & self.MASK
        return cut.astype(np.float32) * self.SCALE

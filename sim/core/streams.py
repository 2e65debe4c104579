"""Keyed random streams: a draw's numbers depend on (seed, stream, day, draw), nothing else.

Each mechanism draws from a stream of its own name. The numbers of a draw are a
fixed block of that stream's sequence, chosen by the day and by the draw's rank
among the stream's draws that day, so they never depend on which other streams
drew, in what order, or on which earlier days this stream was skipped. Two
strategies run with the same seed therefore share their random numbers wherever
their behaviour agrees (common random numbers), including on the common days of a
mechanism that acts on different days in each. Mechanisms draw one number per
*person* (arrays of the market's size), so person i's number for (stream, day,
draw) is element i; decisions that concern few people take three numbers a person
from one 64-bit draw (``packed``).

How: every stream has its own PCG64DXSM generator, seeded from the run's seed and a
hash of the stream's name (``SeedSequence`` spawn key, so no list order matters);
draw ``r`` of day ``d`` starts at position ``(d + 1) * 2**64 + r * 2**48`` of that
sequence (``advance``), a block of 2^48 numbers that no draw comes near. The setup
(network, population) is "day" -1. PCG64DXSM is numpy's generator for many
streams from one seed; positioning one costs a few microseconds.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import numpy as np

from sim.engine.drawahead import DrawAhead, Request

DAY_STRIDE = 1 << 64  # positions between two days of one stream
DRAW_STRIDE = 1 << 48  # positions between two draws of one stream on one day
MAX_DRAWS_A_DAY = DAY_STRIDE // DRAW_STRIDE
#: Seeds a new generator whose state is replaced at once: made once, so no entropy is drawn from the
#: system and no seed is hashed again for each generator (half the cost of ``KeyedStream.fresh``).
_PLACEHOLDER = np.random.SeedSequence(0)


def fill(gen: np.random.Generator, request: Request) -> np.ndarray:
    """The numbers of ``request`` from ``gen``: float32 uniforms, or raw 64-bit draws for ``packed``."""
    kind, n = request
    return gen.random(n, dtype=np.float32) if kind == "uniform" else gen.bit_generator.random_raw(n)


def name_key(name: str) -> int:
    """A stable 64-bit number for a stream's name (the same on every platform and Python)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def position(day: int, draw: int) -> int:
    """Where draw ``draw`` of ``day`` starts in a stream's sequence."""
    if not 0 <= draw < MAX_DRAWS_A_DAY:
        raise ValueError(f"draw {draw} of a day is out of range")
    return (day + 1) * DAY_STRIDE + draw * DRAW_STRIDE


class KeyedStream:
    """One named stream: a generator that can be put at the start of any (day, draw) block."""

    def __init__(self, root: np.random.SeedSequence, name: str):
        seq = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, name_key(name)))
        self.bit_generator = np.random.PCG64DXSM(seq)
        self.start = self.bit_generator.state
        self.generator = np.random.Generator(self.bit_generator)

    def at(self, day: int, draw: int) -> np.random.Generator:
        """This stream's generator, at the start of (day, draw). Shared: use it before the next ``at``."""
        self.bit_generator.state = self.start
        self.bit_generator.advance(position(day, draw))
        return self.generator

    def fresh(self, day: int, draw: int) -> np.random.Generator:
        """A generator of its own at the start of (day, draw), for a caller that keeps it a while."""
        bit_generator = np.random.PCG64DXSM(_PLACEHOLDER)  # the state is replaced next
        bit_generator.state = self.start
        bit_generator.advance(position(day, draw))
        return np.random.Generator(bit_generator)


class Streams:
    """The run's named streams, and the day and draw counters that key them."""

    def __init__(self, seed: int | np.random.SeedSequence):
        self.root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self._streams: dict[str, KeyedStream] = {}
        self.day = -1  # the setup, before day 0
        self._draws: defaultdict[str, int] = defaultdict(int)
        self.ahead: DrawAhead | None = None

    def stream(self, name: str) -> KeyedStream:
        """The stream called ``name`` (made on first use: any name is a stream)."""
        found = self._streams.get(name)
        if found is None:
            found = self._streams[name] = KeyedStream(self.root, name)
        return found

    def start_day(self, day: int) -> None:
        """Key the draws that follow to ``day`` (the model calls this before each day's phases)."""
        self.day = day
        self._draws.clear()

    def _next_draw(self, name: str) -> int:
        draw = self._draws[name]
        self._draws[name] = draw + 1
        return draw

    def draw_ahead(self) -> DrawAhead:
        """Draw each day's per-person numbers again for the next day in a background thread (see
        ``sim.engine.drawahead``); the numbers are the same as without."""
        if self.ahead is None:
            self.ahead = DrawAhead(Streams(self.root).numbers)  # the thread's own generators, the same keys
        return self.ahead

    def __getitem__(self, name: str) -> np.random.Generator:
        """A generator for the next draw of stream ``name`` today, for draws other than per-person arrays."""
        return self.stream(name).fresh(self.day, self._next_draw(name))

    def uniform(self, name: str, n: int) -> np.ndarray:
        """``n`` uniforms in [0, 1) from stream ``name`` (float32: half the cost, ample resolution)."""
        return self._draw(name, ("uniform", n))

    def packed(self, name: str, n: int) -> PackedUniforms:
        """Three uniforms per person for ``n`` people from one 64-bit draw each (see ``PackedUniforms``)."""
        return PackedUniforms(self._draw(name, ("packed", n)))

    def numbers(self, name: str, day: int, draw: int, request: Request) -> np.ndarray:
        """The numbers of ``request`` as draw ``draw`` of stream ``name`` on ``day`` (no counter moves)."""
        return fill(self.stream(name).at(day, draw), request)

    def _draw(self, name: str, request: Request) -> np.ndarray:
        draw = self._next_draw(name)
        if self.ahead is not None and (numbers := self.ahead.take(name, self.day, draw, request)) is not None:
            return numbers
        return self.numbers(name, self.day, draw, request)


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

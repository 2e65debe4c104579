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

import numpy as np

from sim.drawahead import DrawAhead, Request, fill

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


class Streams:
    """Named generators spawned from one ``SeedSequence``."""

    def __init__(self, seed: int | np.random.SeedSequence):
        root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self.root = root
        self._gens = {
            name: np.random.default_rng(child) for name, child in zip(STREAMS, root.spawn(len(STREAMS)), strict=True)
        }
        self.ahead: DrawAhead | None = None

    def draw_ahead(self) -> DrawAhead:
        """Draw each day's per-person numbers again for the next day in a background thread (see
        ``sim.drawahead``); the numbers are the same as without."""
        if self.ahead is None:
            self.ahead = DrawAhead(self._gens)
        return self.ahead

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._gens[name]

    def uniform(self, name: str, n: int) -> np.ndarray:
        """``n`` uniforms in [0, 1) from stream ``name`` (float32: half the cost, ample resolution)."""
        return self._draw(name, ("uniform", n))

    def packed(self, name: str, n: int) -> PackedUniforms:
        """Three uniforms per person for ``n`` people from one 64-bit draw each (see ``PackedUniforms``)."""
        return PackedUniforms(self._draw(name, ("packed", n)))

    def _draw(self, name: str, request: Request) -> np.ndarray:
        if self.ahead is not None and (numbers := self.ahead.take(name, request)) is not None:
            return numbers
        return fill(self._gens[name], request)


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

"""One random generator per mechanism, all spawned from the run's seed.

Each mechanism owns a substream, so changing what one mechanism does (say, more
referral invitations) leaves the random numbers of every other mechanism intact:
two strategies run with the same seed share their draws wherever their behaviour
agrees (common random numbers). Mechanisms draw one number per *person* per day
rather than per event, which keeps the alignment person by person.
"""

from __future__ import annotations

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


class Streams:
    """Named generators spawned from one ``SeedSequence``."""

    def __init__(self, seed: int | np.random.SeedSequence):
        root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self.root = root
        self._gens = {
            name: np.random.default_rng(child) for name, child in zip(STREAMS, root.spawn(len(STREAMS)), strict=True)
        }

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._gens[name]

    def uniform(self, name: str, n: int) -> np.ndarray:
        """``n`` uniforms in [0, 1) from stream ``name`` (float32: half the cost, ample resolution)."""
        return self._gens[name].random(n, dtype=np.float32)

"""Replication seeds: one ``SeedSequence`` per replication, spawned from the master seed.

Replication ``r`` uses the same seed at every design point, so two points differ
only by their factors and not by luck (common random numbers); the model's own
substreams (``sim.core.streams``) then keep the draws aligned mechanism by mechanism.
Every seed is an ordinary integer, written next to each run, so any single run
can be replayed with ``community-sim run SCENARIO --seed S``.
"""

from __future__ import annotations

import numpy as np

MAX_SEED = 2**63 - 1
#: Extra entropy word that separates the design sampler's stream from the replications'.
_DESIGN_WORD = 0x5EED_DE51


def seed_of(sequence: np.random.SeedSequence) -> int:
    """A scenario seed (0 .. 2**63-1) drawn from ``sequence``."""
    return int(sequence.generate_state(1, np.uint64)[0]) >> 1


def replication_seeds(master_seed: int, replications: int) -> list[int]:
    """``SeedSequence(master_seed).spawn(replications)``, each child turned into an int seed.

    Spawned children are independent streams; adding replications later keeps the
    seeds of the existing ones.
    """
    return [seed_of(child) for child in np.random.SeedSequence(master_seed).spawn(replications)]


def design_seed(master_seed: int) -> int:
    """Seed of the design sampler (LHS, Sobol, Morris) when the experiment gives none.

    Derived from the master seed through a separate entropy pool, so the sampled
    points never share a stream with the replications.
    """
    return seed_of(np.random.SeedSequence([master_seed, _DESIGN_WORD]))

"""Uncertainty samples and seeds: one draw per replication, the same for every candidate.

Replication ``r`` of every trial runs with the same scenario seed and the same
sampled uncertainties (common random numbers), so two candidates differ by their
levers only. The search's seeds come from ``replication_seeds(master)``;
verification draws its seeds and uncertainties from a separate branch of the
master seed, and any seed the search used is skipped, so the two never overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.batch.seeds import replication_seeds, seed_of
from sim.optimize.spec import Uncertainty

#: Entropy words separating the streams derived from the master seed.
UNCERTAINTY_WORD = 0x0DD5_A11E
VERIFY_WORD = 0x7E51_F1ED


def draw(spec: Uncertainty, kind: str, rng: np.random.Generator) -> Any:
    """One value of an uncertainty; integers are rounded, choices picked with equal weight."""
    if spec.dist == "choice":
        values = spec.values or []
        return values[int(rng.integers(len(values)))]
    low, high = float(spec.low), float(spec.high)
    if spec.dist == "uniform":
        x = rng.uniform(low, high)
    elif spec.dist == "loguniform":
        x = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    else:
        x = rng.triangular(low, float(spec.mode), high)
    return int(round(x)) if kind == "int" else float(x)


def samples(
    specs: Sequence[tuple[Uncertainty, str]], master: int, count: int, word: int = UNCERTAINTY_WORD
) -> list[tuple[Any, ...]]:
    """``count`` samples (one per replication), each a tuple in the order of ``specs``.

    Replication r draws from its own spawned child, so adding replications keeps the earlier samples.
    """
    children = np.random.SeedSequence([master, word]).spawn(count)
    out = []
    for child in children:
        rng = np.random.default_rng(child)
        out.append(tuple(draw(spec, kind, rng) for spec, kind in specs))
    return out


def search_seeds(master: int, count: int) -> list[int]:
    """The search's replication seeds (those of a sweep with the same master seed)."""
    return replication_seeds(master, count)


def verification_seeds(master: int, count: int, used: Sequence[int]) -> list[int]:
    """``count`` fresh seeds from the verification branch of ``master``, none of them in ``used``."""
    taken, out = set(used), []
    for child in np.random.SeedSequence([master, VERIFY_WORD]).spawn(count + len(taken)):
        seed = seed_of(child)
        if seed not in taken:
            out.append(seed)
            taken.add(seed)
        if len(out) == count:
            break
    return out

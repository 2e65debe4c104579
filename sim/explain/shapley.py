"""Shapley values of groups of changes, from the value of every coalition (or of sampled permutations).

A coalition is a bit mask over ``k`` groups: bit ``i`` set means group ``i`` takes
scenario B's values, clear means scenario A's. ``values[mask]`` is whatever the
coalition scored: one number, or an array (replications x metrics); Shapley
values are linear, so every array cell gets its own attribution from the same runs.

Exact values weigh every coalition (``2**k`` of them); sampled values average the
marginal contributions along random orders of the groups. Both add up to
``values[full] - values[0]`` exactly, up to floating point: along one order the
marginal contributions telescope to that difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import factorial

import numpy as np

#: Above this many groups the 2**k coalitions are too many to run: orders are sampled instead.
MAX_EXACT_GROUPS = 8


def full(k: int) -> int:
    """The mask of the grand coalition (every group changed)."""
    return (1 << k) - 1


def exact_coalitions(k: int) -> list[int]:
    """Every coalition of ``k`` groups, the empty one first."""
    return list(range(1 << k))


def exact(values: Mapping[int, np.ndarray], k: int) -> np.ndarray:
    """Shapley value of each of ``k`` groups: array ``(k, *value shape)``."""
    weights = [factorial(s) * factorial(k - s - 1) / factorial(k) for s in range(k)]
    first = np.asarray(values[0], dtype=float)
    phi = np.zeros((k, *first.shape))
    for i in range(k):
        bit = 1 << i
        for mask in range(1 << k):
            if not mask & bit:
                phi[i] += weights[mask.bit_count()] * (np.asarray(values[mask | bit]) - np.asarray(values[mask]))
    return phi


def pair_interactions(values: Mapping[int, np.ndarray], k: int) -> dict[tuple[int, int], np.ndarray]:
    """Shapley interaction index of every pair of groups (Grabisch 1997).

    ``I_ij`` averages ``v(S+i+j) - v(S+i) - v(S+j) + v(S)`` over the coalitions S
    without i and j, weighted ``|S|! (k-|S|-2)! / (k-1)!``: positive when the two
    changes do more together than the sum of what each does alone.
    """
    out = {}
    for i in range(k):
        for j in range(i + 1, k):
            bi, bj = 1 << i, 1 << j
            acc = np.zeros_like(np.asarray(values[0], dtype=float))
            for mask in range(1 << k):
                if mask & (bi | bj):
                    continue
                s = mask.bit_count()
                w = factorial(s) * factorial(k - s - 2) / factorial(k - 1)
                both = np.asarray(values[mask | bi | bj]) - values[mask | bi] - values[mask | bj] + values[mask]
                acc = acc + w * both
            out[(i, j)] = acc
    return out


def solo_coalitions(k: int) -> list[int]:
    """The empty coalition, each group alone, and all of them: what the solo-effect residual needs."""
    return [0, *(1 << i for i in range(k)), full(k)]


def solo_residual(values: Mapping[int, np.ndarray], k: int) -> np.ndarray:
    """Total change minus the sum of each group's effect alone: what the groups do only together."""
    solo = sum(np.asarray(values[1 << i]) - values[0] for i in range(k))
    return np.asarray(values[full(k)]) - values[0] - solo


def sample_orders(k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random orders of ``k`` groups, as an ``(n, k)`` array of group indices."""
    return np.array([rng.permutation(k) for _ in range(n)], dtype=int)


def order_coalitions(orders: np.ndarray) -> list[int]:
    """Every coalition the orders pass through (each prefix of each order), sorted."""
    seen = {0}
    for order in orders:
        mask = 0
        for g in order:
            mask |= 1 << int(g)
            seen.add(mask)
    return sorted(seen)


@dataclass(frozen=True)
class Sampled:
    """Shapley values estimated from sampled orders, with the standard error of the sampling."""

    value: np.ndarray  # (k, *shape): mean marginal contribution over the orders
    se: np.ndarray  # (k, *shape): its standard error over orders (NaN with one order)


def sampled(values: Mapping[int, np.ndarray], orders: np.ndarray) -> Sampled:
    """Shapley values from the marginal contributions along ``orders`` (``sample_orders``)."""
    n, k = orders.shape
    first = np.asarray(values[0], dtype=float)
    marginals = np.zeros((n, k, *first.shape))
    for r, order in enumerate(orders):
        mask = 0
        for g in order:
            after = mask | (1 << int(g))
            marginals[r, int(g)] = np.asarray(values[after]) - values[mask]
            mask = after
    se = marginals.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(marginals.shape[1:], np.nan)
    return Sampled(marginals.mean(axis=0), se)

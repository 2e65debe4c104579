"""The social network: a CSR adjacency built once, with vectorized generators.

A million people with ten contacts each is ten million directed entries: the graph
is held as two numpy arrays (``indptr``, ``indices``) and never as Python objects.
The ``complete`` graph (mean field) is not materialized: its neighbour counts are
computed from totals.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sim.config.schema import NetworkConfig


@dataclass(frozen=True)
class Network:
    """An undirected simple graph on ``n`` nodes in CSR form (``complete`` is implicit)."""

    n: int
    kind: str
    indptr: np.ndarray | None  # int64, length n + 1
    indices: np.ndarray | None  # int32, neighbours of node i are indices[indptr[i]:indptr[i+1]]

    @property
    def complete(self) -> bool:
        return self.indptr is None

    def degree(self) -> np.ndarray:
        """Number of contacts of every node."""
        if self.complete:
            return np.full(self.n, self.n - 1, dtype=np.int64)
        return np.diff(self.indptr)

    @cached_property
    def _degree(self) -> np.ndarray:
        """``degree()`` as float32, computed once for the daily contact shares (the graph never changes)."""
        return self.degree().astype(np.float32)

    @cached_property
    def _isolated(self) -> bool:
        return bool((self._degree == 0).any())

    def n_edges(self) -> int:
        if self.complete:
            return self.n * (self.n - 1) // 2
        return int(self.indices.size // 2)

    def neighbors(self, i: int) -> np.ndarray:
        if self.complete:
            return np.delete(np.arange(self.n), i)
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def contacts(self, nodes: np.ndarray) -> np.ndarray:
        """The contacts of every node in ``nodes``, one after the other (sparse graphs only)."""
        indptr = self._indptr_narrow
        starts = indptr[nodes]
        lengths = indptr[nodes + 1] - starts
        ends = np.cumsum(lengths, dtype=indptr.dtype)
        # positions of every neighbour entry of the given nodes, without a Python loop
        shift = starts - ends
        shift += lengths
        offsets = np.repeat(shift, lengths)
        offsets += np.arange(int(ends[-1]) if ends.size else 0, dtype=indptr.dtype)
        return np.take(self.indices, offsets)

    @cached_property
    def _indptr_narrow(self) -> np.ndarray:
        """``indptr`` as int32 when the entries fit (under 2^31), so ``contacts`` moves half the bytes."""
        return self.indptr.astype(np.int32) if self.indices.size < 2**31 else self.indptr

    def count_into(
        self, nodes: np.ndarray, counts: np.ndarray, sign: int = 1, contacts: np.ndarray | None = None
    ) -> None:
        """Add ``sign`` to ``counts`` of every contact of each node in ``nodes``.

        Used to keep per-person counts of member (or churned) contacts current as
        people change state, instead of a sparse product over the whole graph daily.
        For the complete graph the caller keeps totals instead (see ``contact_share``).
        ``contacts`` may pass ``contacts(nodes)`` when it is already at hand.
        """
        if nodes.size == 0 or self.complete:
            return
        if contacts is None and _everyone(nodes, self.n):  # every node's contacts: each node counted degree times
            counts += (sign * self.degree()).astype(counts.dtype, copy=False)
            return
        # ufunc.at with a scalar of the counts' own type takes numpy's fast path: quicker than an n-long
        # bincount whatever the number of contacts (a Python int would take the slow generic path)
        np.add.at(counts, self.contacts(nodes) if contacts is None else contacts, counts.dtype.type(sign))

    def contact_share(
        self, counts: np.ndarray, total: int, own: np.ndarray | None, idx: np.ndarray | slice
    ) -> np.ndarray:
        """Share of the contacts of nodes ``idx`` that are in a state.

        ``counts`` holds per-node counts of contacts in the state (sparse graphs),
        ``total`` the number of people in the state and ``own`` whether each node is
        itself in it (complete graph, where every other person is a contact).
        """
        if self.complete:
            return ((total - own[idx]) / max(self.n - 1, 1)).astype(np.float32)
        deg = self._degree[idx]
        share = counts[idx].astype(np.float32)  # float32 like the log-odds it enters (int32 / float32 is float64)
        if not self._isolated:
            return np.divide(share, deg, out=share)
        return np.divide(share, deg, out=np.zeros(share.size, dtype=np.float32), where=deg > 0)

    def random_neighbor(self, idx: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One contact of each node in ``idx`` chosen by the uniforms ``u``; -1 if it has none."""
        if self.complete:
            pick = np.minimum((u * (self.n - 1)).astype(np.int64), self.n - 2)
            return pick + (pick >= idx)  # skip the node itself
        start = self.indptr[idx]
        deg = self.indptr[idx + 1] - start
        pos = start + np.minimum((u * deg).astype(np.int64), np.maximum(deg - 1, 0))
        out = np.where(deg > 0, self.indices[np.minimum(pos, self.indices.size - 1)], -1)
        return out.astype(np.int64)


def _everyone(nodes: np.ndarray, n: int) -> bool:
    """Whether ``nodes`` is 0, 1, ..., n - 1 in order (all people, as when the whole market joins on day 0)."""
    return nodes.size == n and bool(nodes[0] == 0) and bool((np.diff(nodes) == 1).all())


#: Entries from which a sort runs in two halves on two cores (below, a thread costs more than it saves).
PARALLEL_SORT = 1_000_000
#: Entries of a graph from which positions in its CSR arrays need 64 bits.
INT32_ENTRIES = 2**31
#: Pair keys: a node pair (a, b) is ``a << 32 | b``, which sorts like (a, b); n < 2^31 always holds.
LOW = np.int64(0xFFFFFFFF)


def _sort(x: np.ndarray, other_core: ThreadPoolExecutor | None) -> np.ndarray:
    """``x`` sorted in place; with ``other_core`` and a long ``x``, its halves on two cores, then merged.

    numpy sorts without the GIL; the stable sort of the two sorted halves is one merge pass
    (timsort finds the two runs). Sorting gives one result whichever way it is done.
    """
    if other_core is None or x.size < PARALLEL_SORT:
        x.sort()
        return x
    half = x.size // 2
    later = other_core.submit(x[half:].sort)
    x[:half].sort()
    later.result()
    x.sort(kind="stable")
    return x


def _sorted_unique(key: np.ndarray, other_core: ThreadPoolExecutor | None = None) -> np.ndarray:
    """Sorted distinct values (sort + neighbour compare: faster than np.unique's hashing at 10^7); sorts in place."""
    key = _sort(key, other_core)
    return key[np.concatenate(([True], key[1:] != key[:-1]))] if key.size else key


def _fresh(base: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The sorted distinct ``keys`` not in the sorted distinct ``base``."""
    if base.size == 0:
        return keys
    return keys[base[np.minimum(np.searchsorted(base, keys), base.size - 1)] != keys]


def _insert(base: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Sorted ``base`` with the sorted ``keys``, none of them in it, merged in (no sort of ``base`` again)."""
    return np.insert(base, np.searchsorted(base, keys), keys) if base.size else keys


def _union(base: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Sorted distinct union of two sorted distinct key arrays."""
    return _insert(base, _fresh(base, keys))


def _upper_keys(src: np.ndarray, dst: np.ndarray, other_core: ThreadPoolExecutor | None = None) -> np.ndarray:
    """Sorted distinct keys (smaller end first) of an edge list's pairs, loops dropped."""
    key = np.minimum(src, dst).astype(np.int64, copy=False)  # a new array: the keys are built in it
    hi = np.maximum(src, dst)
    keep = key != hi
    key <<= 32
    key |= hi
    return _sorted_unique(key[keep], other_core)


def _swapped(key: np.ndarray, other_core: ThreadPoolExecutor | None = None) -> np.ndarray:
    """The same pairs keyed by their larger end, sorted."""
    out = key << 32
    out |= key >> 32
    return _sort(out, other_core)


def _csr(n: int, kind: str, key: np.ndarray, low: np.ndarray) -> Network:
    """The CSR graph of the undirected pairs ``key`` (sorted, distinct, smaller end first).

    Row r lists the contacts below r, then those above it, each ascending: ``low``, the
    pairs keyed by their larger end (``_swapped(key)``), gives the first part, ``key``
    itself the second, and each entry's place follows from the row counts: one sort of
    m pairs instead of a sort of both directions (2m entries).
    """
    m = key.size
    n_low = np.bincount(low >> 32, minlength=n)
    n_high = np.bincount(key >> 32, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(n_low + n_high, out=indptr[1:])
    indices = np.empty(2 * m, dtype=np.int32)
    # Both key lists are sorted by row, so a row's entries of each are consecutive: the j-th entry of ``low``
    # (row r) goes to indptr[r] + its rank in the row = j + (upper entries of rows < r), and the j-th of
    # ``key`` to j + (lower entries of rows <= r). The row offsets are laid out by np.repeat, in order.
    wide = np.int64 if 2 * m >= INT32_ENTRIES else np.int32
    ranks = np.arange(m, dtype=wide)
    for part, offsets, counts in ((low, np.cumsum(n_high) - n_high, n_low), (key, np.cumsum(n_low), n_high)):
        at = np.repeat(offsets.astype(wide), counts)
        at += ranks
        indices[at] = _other_end(part)
    return Network(n=n, kind=kind, indptr=indptr, indices=indices)


def _other_end(key: np.ndarray) -> np.ndarray:
    """The low 32 bits of pair keys (the second node), as int32: a view on a little-endian machine."""
    if sys.byteorder == "little":
        return key.view(np.int32)[::2]
    return (key & LOW).astype(np.int32)


def _erdos_renyi(n: int, k: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    m = rng.binomial(n * (n - 1) // 2, min(k / max(n - 1, 1), 1.0))
    return rng.integers(0, n, m), rng.integers(0, n, m)


def _watts_strogatz(n: int, k: float, beta: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = max(1, int(round(k / 2)))
    src = np.repeat(np.arange(n), half)
    dst = (src + np.tile(np.arange(1, half + 1), n)) % n
    rewire = rng.random(src.size) < beta
    dst = np.where(rewire, rng.integers(0, n, src.size), dst)
    return src, dst


def _search_sorted(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``np.searchsorted(cdf, u)`` in ascending order (``u`` is sorted in place): the nodes the uniforms draw
    by weight, sorted. Every ``u`` must be at most ``cdf[-1]`` (uniforms below 1, ``cdf[-1]`` exactly 1).

    Node i is drawn by the uniforms in (cdf[i - 1], cdf[i]]; with ``u`` sorted, their count is a
    difference of two positions in ``u``, so ``cdf``'s n values are searched in ``u`` (and each node
    repeated by its count) instead of every uniform in ``cdf``: the same nodes, in a fraction of the time.
    """
    u.sort()
    counts = np.searchsorted(u, cdf, side="right")
    counts[1:] -= counts[:-1]  # numpy buffers the overlap: a difference of neighbours
    return np.repeat(np.arange(cdf.size, dtype=np.int32), counts)  # int32 ids (n < 2^31): half the bytes


class _Rows:
    """Where each node's contacts lie in the sorted pair keys ``key`` and ``low`` (``_csr``'s two parts)."""

    def __init__(self, n: int, key: np.ndarray, low: np.ndarray):
        self.key, self.low = key, low
        self.n_low = np.bincount(low >> 32, minlength=n)  # contacts below the node
        n_high = np.bincount(key >> 32, minlength=n)  # contacts above it
        self.degree = self.n_low + n_high
        self.low_start = np.cumsum(self.n_low) - self.n_low
        self.high_start = np.cumsum(n_high) - n_high - self.n_low  # shifted by n_low: ``pick`` counts from row start

    def random_contact(self, nodes: np.ndarray, u: np.ndarray) -> np.ndarray:
        """``Network.random_neighbor(nodes, u)`` of ``_csr(n, kind, key, low)``, without building it.

        Row r of that graph lists its contacts below r (the pairs of ``low`` keyed by r), then those
        above it (the pairs of ``key`` keyed by r), each ascending; every node of ``nodes`` has a contact.
        """
        deg = self.degree[nodes]
        pick = np.minimum((u * deg).astype(np.int64), deg - 1)
        below = pick < self.n_low[nodes]
        return (
            np.where(
                below,
                self.low[np.where(below, self.low_start[nodes] + pick, 0)],
                self.key[np.where(below, 0, self.high_start[nodes] + pick)],
            )
            & LOW
        )


def _power_law_clustered(
    n: int, k: float, gamma: float, closure: float, rng: np.random.Generator, other_core: ThreadPoolExecutor | None
) -> tuple[np.ndarray, np.ndarray]:
    """Chung–Lu graph with power-law expected degrees, then triadic closure.

    Holme–Kim's preferential attachment with triad formation is sequential (one
    node at a time) and costs tens of seconds at a million nodes in Python. This
    generator keeps its two defining properties, a power-law degree tail and
    tunable clustering, with vectorized steps: edges are drawn with endpoints
    proportional to Pareto weights, then a ``closure`` share of people introduce
    two of their contacts to each other. Returns the sorted distinct pair keys and ``_swapped`` of them.
    Long sorts run on ``other_core`` too when it is given (the same graph either way).
    """
    weights = (1.0 - rng.random(n)) ** (-1.0 / (gamma - 1.0))
    weights = np.minimum(weights, np.sqrt(n) * weights.mean())  # structural cutoff
    m_total = int(round(n * k / 2))
    m_base = max(m_total - int(closure * n), m_total // 2)  # triadic closure adds about closure * n edges
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    key = np.zeros(0, dtype=np.int64)  # sorted distinct pair keys
    for _ in range(6):  # hubs draw duplicate edges: top up until the target count of distinct edges
        missing = m_base - key.size
        if missing <= 0:
            break
        draw = int(missing * 1.1) + 16
        # each end's nodes come out sorted (``_search_sorted``); the permutation pairs them at random
        ua, ub = rng.random(draw), rng.random(draw)
        if draw < PARALLEL_SORT or other_core is None:
            pairing = rng.permutation(draw)
            a, b = _search_sorted(cdf, ua), _search_sorted(cdf, ub)[pairing]
        else:  # the other core sorts and searches both while this one shuffles
            later_a, later_b = other_core.submit(_search_sorted, cdf, ua), other_core.submit(_search_sorted, cdf, ub)
            pairing = rng.permutation(draw)
            a, b = later_a.result(), later_b.result()[pairing]
        del ua, ub, pairing
        key = _union(key, _upper_keys(a, b, other_core))
        del a, b
    if key.size > m_base:  # a random m_base of them, still sorted
        chosen = np.ones(key.size, dtype=bool)
        chosen[rng.permutation(key.size)[m_base:]] = False  # the few dropped, not the many kept
        key = key[chosen]
    low = _swapped(key, other_core)
    if closure <= 0:
        return key, low
    rows = _Rows(n, key, low)  # the contacts of the graph so far, without building it
    eligible = np.flatnonzero((rows.degree >= 2) & (rng.random(n) < closure))
    u1, u2 = rng.random(eligible.size), rng.random(eligible.size)
    a, b = rows.random_contact(eligible, u1), rows.random_contact(eligible, u2)
    del rows
    fresh = _fresh(key, _upper_keys(a, b, other_core))  # pairs not yet in the graph
    return _insert(key, fresh), _insert(low, _swapped(fresh, other_core))


def build_network(cfg: NetworkConfig, n: int, rng: np.random.Generator, *, second_core: bool = True) -> Network:
    """Generate the network described by ``cfg`` on ``n`` people (long sorts on two threads if ``second_core``).

    The thread changes no result: the same graph either way.
    """
    if cfg.kind == "complete":
        return Network(n=n, kind="complete", indptr=None, indices=None)
    k = min(cfg.mean_degree, n - 1)
    with ThreadPoolExecutor(max_workers=1) if second_core else nullcontext() as other_core:
        if cfg.kind == "scale_free":
            key, low = _power_law_clustered(n, k, cfg.degree_exponent, cfg.clustering, rng, other_core)
        else:
            edges = _erdos_renyi(n, k, rng) if cfg.kind == "random" else _watts_strogatz(n, k, cfg.rewire_prob, rng)
            key = _upper_keys(*edges, other_core)
            low = _swapped(key, other_core)
    return _csr(n, cfg.kind, key, low)

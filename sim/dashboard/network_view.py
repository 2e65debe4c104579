"""The network view: a fixed sample of people, laid out once, coloured by their state each day.

The sample is the initial members and their contacts (then contacts of
contacts) up to ``LIMIT`` people, so the picture shows the community growing
through its own network. Positions come from a vectorised Fruchterman-Reingold
layout (networkx's ``spring_layout`` algorithm; networkx itself needs about 15 s
for 1,500 people on two cores, this about 2 s), computed once per network and
seed and cached, so Reset with other settings does not move anyone.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.core.population import CHURNED, MEMBER, PROSPECT
from sim.plots import fonts

if TYPE_CHECKING:
    from sim.model import CommunityModel

LIMIT = 1_500
COLORS = {PROSPECT: "#D0D0D0", MEMBER: "#0072B2", CHURNED: "#D55E00"}
NEGATIVE_RING, EDGE_COLOR = "#E69F00", "#BBBBBB"
_CACHE: OrderedDict[tuple, np.ndarray] = OrderedDict()
_CACHE_SIZE = 8


def sample_nodes(model: CommunityModel, limit: int = LIMIT) -> np.ndarray:
    """Up to ``limit`` people: current members, then their contacts ring by ring (random within a ring)."""
    n = model.pop.n
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng([model.seed_used, 7])  # its own generator: the model's streams are untouched
    chosen = list(rng.permutation(model.member_index())[:limit])
    if model.network.complete:
        rest = np.setdiff1d(np.arange(n), chosen)
        return np.sort(np.concatenate([chosen, rng.permutation(rest)[: limit - len(chosen)]]).astype(np.int64))
    seen = np.zeros(n, dtype=bool)
    seen[chosen] = True
    frontier = np.asarray(chosen, dtype=np.int64)
    while len(chosen) < limit and frontier.size:
        ring = np.unique(np.concatenate([model.network.neighbors(int(i)) for i in frontier]))
        ring = ring[~seen[ring]]
        if ring.size == 0:  # the members' component is exhausted: add anyone
            ring = np.flatnonzero(~seen)
        ring = rng.permutation(ring)[: limit - len(chosen)]
        seen[ring] = True
        chosen.extend(ring.tolist())
        frontier = ring
    return np.sort(np.asarray(chosen, dtype=np.int64))


def induced_edges(model: CommunityModel, nodes: np.ndarray) -> np.ndarray:
    """Edges among ``nodes`` as (k, 2) positions into ``nodes`` (none for a complete network)."""
    if model.network.complete:
        return np.zeros((0, 2), dtype=np.int64)
    where = np.full(model.pop.n, -1, dtype=np.int64)
    where[nodes] = np.arange(nodes.size)
    pairs = [(a, where[j]) for a, i in enumerate(nodes) for j in model.network.neighbors(int(i)) if where[j] > a]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def spring_layout(n: int, edges: np.ndarray, seed: int, iterations: int = 50) -> np.ndarray:
    """Fruchterman-Reingold positions in [0, 1]^2 for ``n`` nodes (vectorised, with a weak pull to the centre)."""
    rng = np.random.default_rng(seed)
    z = (rng.random(n) + 1j * rng.random(n)).astype(np.complex64)
    if n < 2:
        return np.column_stack([z.real, z.imag]).astype(float)
    k2 = np.float32(1.0 / n)
    k = np.sqrt(k2)
    src, dst = edges[:, 0], edges[:, 1]
    temperature, cool = 0.1, 0.1 / (iterations + 1)
    for _ in range(iterations):
        delta = z[:, None] - z[None, :]
        d2 = delta.real**2 + delta.imag**2 + np.float32(1e-9)
        disp = (delta / d2).sum(axis=1) * k2
        if edges.size:
            e = z[src] - z[dst]
            pull = e * np.abs(e) / k
            disp -= np.bincount(src, pull.real, n) + 1j * np.bincount(src, pull.imag, n)
            disp += np.bincount(dst, pull.real, n) + 1j * np.bincount(dst, pull.imag, n)
        disp -= 0.05 * (z - z.mean())
        length = np.abs(disp) + 1e-9
        z = (z + disp / length * np.minimum(length, temperature)).astype(np.complex64)
        temperature -= cool
    return _fit(np.column_stack([z.real, z.imag]).astype(float))


def _fit(xy: np.ndarray) -> np.ndarray:
    """Scale into [0, 1]^2 around the median; the few stragglers (beyond the 97th percentile) moved to the rim."""
    centre = np.median(xy, axis=0)
    offset = xy - centre
    radius = np.hypot(*offset.T)
    rim = max(float(np.quantile(radius, 0.97)), 1e-9)
    offset *= np.minimum(1.0, rim / np.maximum(radius, 1e-12))[:, None]
    return 0.5 + offset / (2 * rim)


class NetworkView:
    """The sampled people of one model, their edges and fixed positions."""

    def __init__(self, model: CommunityModel, limit: int = LIMIT) -> None:
        self.nodes = sample_nodes(model, limit)
        self.edges = induced_edges(model, self.nodes)
        self.market = model.pop.n
        key = (model.network.kind, self.market, model.seed_used, hash(self.nodes.tobytes()), self.edges.shape[0])
        if key not in _CACHE:
            _CACHE[key] = spring_layout(self.nodes.size, self.edges, model.seed_used)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        self.pos = _CACHE[key]

    def figure(self, model: CommunityModel) -> Figure:
        """Today's states on the fixed layout: colour by status, orange ring for negative sentiment, stars for KOCs."""
        fonts.use()
        fig = Figure(figsize=(6.0, 4.6), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_axis_off()
        pop, nodes, pos = model.pop, self.nodes, self.pos
        if self.edges.size:
            segments = pos[self.edges]
            ax.add_collection(LineCollection(segments, colors=EDGE_COLOR, linewidths=0.3, alpha=0.5, zorder=1))
        status, koc, negative = pop.status[nodes], pop.is_koc[nodes], pop.negative[nodes]
        for code in (PROSPECT, CHURNED, MEMBER):
            dots = (status == code) & ~koc
            size = 6 if code == PROSPECT else 14
            ax.scatter(*pos[dots].T, s=size, c=COLORS[code], linewidths=0, zorder=2 + code)
        stars = koc & (status != PROSPECT)
        colors = [COLORS[int(s)] for s in status[stars]]
        ax.scatter(*pos[stars].T, s=130, c=colors, marker="*", edgecolors="black", linewidths=0.6, zorder=6)
        ax.scatter(*pos[negative].T, s=60, facecolors="none", edgecolors=NEGATIVE_RING, linewidths=1.3, zorder=7)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        shown = (
            f"all {self.market:,} people" if nodes.size == self.market else f"{nodes.size:,} of {self.market:,} people"
        )
        ax.set_title(f"Community network ({shown})", fontsize=11, loc="left")
        counts = {code: int(np.count_nonzero(status == code)) for code in COLORS}
        fig.legend(
            handles=[
                _dot(COLORS[MEMBER], f"member ({counts[MEMBER]:,})"),
                _dot(COLORS[PROSPECT], f"prospect ({counts[PROSPECT]:,})"),
                _dot(COLORS[CHURNED], f"churned ({counts[CHURNED]:,})"),
                Line2D(
                    [], [], marker="o", ls="", mfc="none", mec=NEGATIVE_RING, mew=1.3, ms=8, label="negative sentiment"
                ),
                Line2D([], [], marker="*", ls="", mfc=COLORS[MEMBER], mec="black", ms=11, label="KOC"),
            ],
            loc="outside lower center",
            ncols=5,
            fontsize=8,
            frameon=False,
            handletextpad=0.2,
            columnspacing=1.0,
        )
        return fig


def _dot(color: str, label: str) -> Line2D:
    return Line2D([], [], marker="o", ls="", mfc=color, mec=color, ms=6, label=label)

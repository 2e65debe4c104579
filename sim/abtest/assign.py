"""Who is in the treated arm: members one by one, or whole network communities.

Randomizing members lets the treated and control arms share friends: a treated member's
invitations reach the prospects a control member would have invited. Randomizing the
network's communities (Louvain modularity communities, seeded) keeps most ties inside an
arm. Both draws come from the replication's seed, never from the model's own streams, so the
simulated community is the same whichever arm anyone is in.
"""

from __future__ import annotations

import numpy as np

from sim.core.network import Network

_ARM_WORD = 0xAB7E57  # separates the arms' draws from every other stream of the replication


def arm_rng(seed: int, *words: int) -> np.random.Generator:
    """The generator of one assignment of replication ``seed`` (``words`` tell assignments apart)."""
    return np.random.default_rng([seed, _ARM_WORD, *words])


def communities(network: Network, seed: int) -> np.ndarray:
    """Each person's network community (Louvain, seeded with ``seed``), numbered 0, 1, ..."""
    import networkx as nx

    src = np.repeat(np.arange(network.n), np.diff(network.indptr))
    keep = src < network.indices  # each undirected edge once
    graph = nx.Graph()
    graph.add_nodes_from(range(network.n))
    graph.add_edges_from(zip(src[keep].tolist(), network.indices[keep].tolist(), strict=True))
    label = np.empty(network.n, dtype=np.int64)
    found = nx.community.louvain_communities(graph, seed=seed % 2**32)
    for k, members in enumerate(sorted(found, key=min)):  # numbered by their lowest person: stable
        label[list(members)] = k
    return label


def treated(units: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """One flag per person: whether their unit (``units[i]``, a person's own index for member
    randomization) is treated; each unit is treated with probability ``share``."""
    return rng.random(int(units.max()) + 1)[units] < share


def ties_within(network: Network, units: np.ndarray) -> float:
    """Share of friendships between two people of the same unit (cluster): the ties an arm keeps to itself."""
    src = np.repeat(np.arange(network.n), np.diff(network.indptr))
    return float(np.mean(units[src] == units[network.indices])) if src.size else 1.0

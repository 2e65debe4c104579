"""CART, the alternative to PRIM: a shallow classification tree whose case-rich leaves are boxes.

Uses scikit-learn's ``DecisionTreeClassifier`` (an optional extra, imported only here).
Each leaf is the box of factor ranges on its path from the root.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.discover.prim import Box, Step, initial_box, step_of
from sim.discover.target import DiscoverError

HINT = "--method cart needs scikit-learn: install it with pip install 'community-sim[discover]'"


def fit_tree(x: np.ndarray, y: np.ndarray, mass_min: float = 0.05, max_depth: int = 3) -> Any:
    """A tree of at most ``max_depth`` splits, every leaf holding at least ``mass_min`` of the runs."""
    try:
        from sklearn.tree import DecisionTreeClassifier
    except ImportError:
        raise DiscoverError(HINT) from None
    leaf = max(1, int(np.ceil(mass_min * len(y))))
    return DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=leaf, random_state=0).fit(x, y)


def leaves(tree: Any, x: np.ndarray, y: np.ndarray) -> list[Step]:
    """Every leaf as a box, those holding the most cases first."""
    t = tree.tree_
    init = initial_box(x)
    out = []

    def walk(node: int, lower: np.ndarray, upper: np.ndarray) -> None:
        if t.children_left[node] == -1:
            inside = np.all((x >= lower) & (x <= upper), axis=1)
            out.append(step_of(Box(lower, upper, inside), y, init))
            return
        f, cut = t.feature[node], t.threshold[node]
        left_upper, right_lower = upper.copy(), lower.copy()
        left_upper[f] = min(upper[f], cut)
        right_lower[f] = max(lower[f], np.nextafter(cut, np.inf))
        walk(t.children_left[node], lower.copy(), left_upper)
        walk(t.children_right[node], right_lower, upper.copy())

    walk(0, init.lower.copy(), init.upper.copy())
    return sorted(out, key=lambda s: (-s.k, -s.density))


#: Shuffles of the cases for a leaf's permutation p-value.
PERMUTATIONS = 199


def leaf_tail(step: Step, y: np.ndarray) -> float:
    """The chance that ``step.n`` runs drawn at random hold ``step.k`` or more of the ``y`` cases (hypergeometric)."""
    from scipy.stats import hypergeom

    return float(hypergeom.sf(step.k - 1, len(y), int(y.sum()), step.n))


def leaf_p_values(x: np.ndarray, y: np.ndarray, found: list[Step], mass_min: float) -> list[float]:
    """Each leaf's p-value against trees grown on shuffled cases: the share of ``PERMUTATIONS`` shuffles whose
    best case-rich leaf is at least as unlikely by chance (its hypergeometric tail as small). A tree picks its
    leaves on the same runs, so a leaf's own tail is optimistic; this counts that choice (a fixed seed: the
    same sweep gives the same p-values)."""
    rng = np.random.default_rng(0)
    base = y.mean()
    null = np.ones(PERMUTATIONS)
    for i in range(PERMUTATIONS):
        shuffled = rng.permutation(y)
        rich = [s for s in leaves(fit_tree(x, shuffled, mass_min), x, shuffled) if s.density > base]
        if rich:
            null[i] = min(leaf_tail(s, shuffled) for s in rich)
    return [float((1 + np.count_nonzero(null <= leaf_tail(s, y))) / (PERMUTATIONS + 1)) for s in found]

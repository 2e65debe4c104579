"""Designs: how factor values combine into points. One signature for all, as in SALib.

``sample(factors, n, *, seed, **options) -> DataFrame`` returns one row per
design point and one column per factor, in the order the design defines (Sobol
and Morris analyses rely on that order). Sampled designs (lhs, sobol, morris)
return the continuous values the sampler drew; ``applied`` rounds integer
factors to the values the runs use.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class DesignFactor:
    """A factor as the designs see it: a name, a value kind and its levels or range."""

    name: str
    kind: str  # "float", "int", "bool", "str" or "scenario"
    levels: tuple[Any, ...] | None = None
    range: tuple[float, float] | None = None
    steps: int | None = None

    def count(self) -> int:
        """How many values ``values()`` gives, without building them."""
        return len(self.levels) if self.levels is not None else int(self.steps or 0)

    def values(self) -> list[Any]:
        """The listed levels, or ``steps`` evenly spaced values over the range (grid, zip)."""
        if self.levels is not None:
            return list(self.levels)
        assert self.range is not None and self.steps is not None
        vals = np.linspace(self.range[0], self.range[1], self.steps)
        return [int(v) for v in np.floor(vals + 0.5)] if self.kind == "int" else [float(v) for v in vals]

    def bounds(self) -> list[float]:
        """Sampling bounds; an integer range [a, b] is widened by half a unit so each integer gets equal weight."""
        assert self.range is not None
        low, high = self.range
        return [low - 0.5, high + 0.5] if self.kind == "int" else [low, high]


def problem(factors: Sequence[DesignFactor]) -> dict[str, Any]:
    """The SALib problem dict of numeric factors."""
    return {"num_vars": len(factors), "names": [f.name for f in factors], "bounds": [f.bounds() for f in factors]}


def grid(factors: Sequence[DesignFactor], n: int | None = None, *, seed: int | None = None) -> pd.DataFrame:
    """Full factorial: every combination of levels, the first factor varying slowest."""
    rows = list(itertools.product(*(f.values() for f in factors)))
    return _frame(rows, factors)


def zip_levels(factors: Sequence[DesignFactor], n: int | None = None, *, seed: int | None = None) -> pd.DataFrame:
    """The i-th level of every factor together: as many points as each factor has levels."""
    lengths = {f.name: len(f.values()) for f in factors}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"zip pairs the i-th levels of every factor, so all need as many; got {lengths}")
    return _frame(list(zip(*(f.values() for f in factors), strict=True)), factors)


def lhs(factors: Sequence[DesignFactor], n: int | None = None, *, seed: int | None = None) -> pd.DataFrame:
    """Latin hypercube of ``n`` points over the ranges."""
    from SALib.sample import latin

    return _frame(latin.sample(problem(factors), int(n or 0), seed=seed), factors)


def sobol(
    factors: Sequence[DesignFactor], n: int | None = None, *, seed: int | None = None, second_order: bool = False
) -> pd.DataFrame:
    """Saltelli's scheme on a scrambled Sobol sequence: ``n * (D + 2)`` points (``n * (2D + 2)`` with second order)."""
    from SALib.sample import sobol as sobol_sampler

    x = sobol_sampler.sample(problem(factors), int(n or 0), calc_second_order=second_order, scramble=True, seed=seed)
    return _frame(x, factors)


def morris(
    factors: Sequence[DesignFactor], n: int | None = None, *, seed: int | None = None, num_levels: int = 4
) -> pd.DataFrame:
    """``n`` Morris trajectories of ``D + 1`` points each, on a grid of ``num_levels`` levels."""
    from SALib.sample import morris as morris_sampler

    return _frame(morris_sampler.sample(problem(factors), int(n or 0), num_levels=num_levels, seed=seed), factors)


DESIGNS: dict[str, Callable[..., pd.DataFrame]] = {
    "grid": grid,
    "zip": zip_levels,
    "lhs": lhs,
    "sobol": sobol,
    "morris": morris,
}


def sample(kind: str, factors: Sequence[DesignFactor], n: int | None, *, seed: int | None, **options) -> pd.DataFrame:
    """Dispatch to the design ``kind``; options are the design's own (``second_order``, ``num_levels``)."""
    return DESIGNS[kind](factors, n, seed=seed, **options)


def point_count(kind: str, factors: Sequence[DesignFactor], n: int | None, **options) -> int:
    """How many points the design will have, without building or sampling them (a Python int: no overflow)."""
    d = len(factors)
    if kind == "grid":
        return math.prod(f.count() for f in factors) if factors else 0
    if kind == "zip":
        return factors[0].count() if factors else 0
    if kind == "sobol":
        return int(n or 0) * (2 * d + 2 if options.get("second_order") else d + 2)
    if kind == "morris":
        return int(n or 0) * (d + 1)
    return int(n or 0)


def applied(raw: pd.DataFrame, factors: Sequence[DesignFactor]) -> pd.DataFrame:
    """The values runs use: integer factors rounded half up and kept inside their range."""
    out = raw.copy()
    for f in factors:
        if f.kind == "int" and f.range is not None and pd.api.types.is_float_dtype(out[f.name]):
            low, high = f.range
            out[f.name] = np.clip(np.floor(out[f.name].to_numpy() + 0.5), low, high).astype(np.int64)
    return out


def _frame(rows: Any, factors: Sequence[DesignFactor]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=[f.name for f in factors])
    df.index = pd.RangeIndex(len(df), name="point")
    return df

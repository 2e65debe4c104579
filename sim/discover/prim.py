"""PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999), for a yes/no outcome of each run.

Starting from the box that holds every run, peeling removes, at each step, the
thin slice (a share ``alpha`` of the runs left in the box, off the low or the high
end of one factor) whose removal raises the share of cases of interest the most
per run removed (EMA Workbench's default "lenient1" objective), until the box
would hold fewer than ``mass_min`` of all runs. Each step is a box on the peeling
trajectory, traded off between coverage (the share of all cases inside the box)
and density (the share of runs inside the box that are cases). Pasting then
widens a chosen box again where that raises its density.

The significance of each restriction is the quasi-p value of Bryant & Lempert
(2010): a one-sided binomial test of the box's cases against the case rate of the
box with that one limit removed. Quantiles and tie-breaks follow EMA Workbench, so
both give the same boxes on the same data (``tests/test_discover.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


def quantile(data: np.ndarray, q: float) -> float:
    """The peel point at quantile ``q``: midway between two distinct neighbouring values (as sdtoolkit)."""
    data = np.sort(data)
    i = (len(data) - 1) * q
    lower, higher = int(math.floor(i)), int(math.ceil(i))
    if q > 0.5:
        while data[lower] == data[higher] and lower > 0:
            lower -= 1
    else:
        while data[lower] == data[higher] and higher < len(data) - 1:
            higher += 1
    return float((data[lower] + data[higher]) / 2)


@dataclass(frozen=True)
class Box:
    """Limits per factor (inclusive) and the runs inside."""

    lower: np.ndarray
    upper: np.ndarray
    inside: np.ndarray  # bool per run

    def restricted(self, init: Box) -> np.ndarray:
        """Bool per factor: is either limit tighter than the initial box's?"""
        return (self.lower > init.lower) | (self.upper < init.upper)


@dataclass(frozen=True)
class Step:
    """One box of the trajectory with its statistics."""

    box: Box
    coverage: float  # cases inside / all cases
    density: float  # cases inside / runs inside
    mass: float  # runs inside / all runs
    n: int  # runs inside
    k: int  # cases inside
    restricted: int  # factors restricted


def in_box(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    return np.all((x >= lower) & (x <= upper), axis=1)


def step_of(box: Box, y: np.ndarray, init: Box) -> Step:
    n, k = int(box.inside.sum()), int(y[box.inside].sum())
    return Step(box, k / max(int(y.sum()), 1), k / n if n else 0.0, n / len(y), n, k, int(box.restricted(init).sum()))


def _lenient1(y_old: np.ndarray, y_new: np.ndarray) -> float:
    """Gain in the share of cases per run removed (or added, when pasting)."""
    mean_old = float(np.mean(y_old))
    mean_new = float(np.mean(y_new)) if y_new.size else 0.0
    if mean_old == mean_new or y_old.size == y_new.size:
        return 0.0
    return (mean_new - mean_old) / abs(y_old.size - y_new.size)


def initial_box(x: np.ndarray) -> Box:
    return Box(x.min(axis=0), x.max(axis=0), np.ones(len(x), dtype=bool))


def _best(box: Box, y: np.ndarray, init: Box, candidates) -> tuple[float, Box] | None:
    """The candidate ``(lower, upper, inside)`` of highest objective; ties go to the one restricting fewer
    factors, then to the first (EMA's rule)."""
    best = None
    for lower, upper, inside in candidates:
        obj = _lenient1(y[box.inside], y[inside])
        free = len(lower) - int(((lower > init.lower) | (upper < init.upper)).sum())
        if best is None or (obj, free) > best[0]:
            best = ((obj, free), Box(lower, upper, inside))
    return None if best is None else (best[0][0], best[1])


def _peels(x: np.ndarray, box: Box, alpha: float):
    for j in range(x.shape[1]):
        xj = x[box.inside, j]
        for side in ("upper", "lower"):  # EMA's order, which decides ties
            lower, upper = box.lower.copy(), box.upper.copy()
            if side == "upper":
                upper[j] = quantile(xj, 1 - alpha)
                yield lower, upper, box.inside & (x[:, j] <= upper[j])
            else:
                lower[j] = quantile(xj, alpha)
                yield lower, upper, box.inside & (x[:, j] >= lower[j])


def peel(x: np.ndarray, y: np.ndarray, alpha: float = 0.05, mass_min: float = 0.05) -> list[Step]:
    """The peeling trajectory: the initial box, then one box per accepted peel."""
    y = np.asarray(y, dtype=bool)
    init = initial_box(x)
    box = init
    trajectory = [step_of(box, y, init)]
    while (best := _best(box, y, init, _peels(x, box, alpha))) is not None:
        obj, candidate = best
        mass_new, mass_old = candidate.inside.mean(), box.inside.mean()
        if not (mass_new >= mass_min and mass_new < mass_old and obj > 0):
            break
        box = candidate
        trajectory.append(step_of(box, y, init))
    return trajectory


def _pastes(x: np.ndarray, box: Box, init: Box, alpha: float):
    for j in np.flatnonzero(box.restricted(init)):
        for side in ("lower", "upper"):
            lower, upper = box.lower.copy(), box.upper.copy()
            strip_lower, strip_upper = box.lower.copy(), box.upper.copy()
            if side == "lower":
                strip_lower[j], strip_upper[j] = init.lower[j], box.lower[j]
                strip = x[in_box(x, strip_lower, strip_upper), j]
                lower[j] = quantile(strip, 1 - alpha) if strip.size else init.lower[j]
            else:
                strip_lower[j], strip_upper[j] = box.upper[j], init.upper[j]
                strip = x[in_box(x, strip_lower, strip_upper), j]
                upper[j] = quantile(strip, alpha) if strip.size else init.upper[j]
            yield lower, upper, in_box(x, lower, upper)


def paste(x: np.ndarray, y: np.ndarray, step: Step, alpha: float = 0.05, mass_min: float = 0.05) -> list[Step]:
    """Widen ``step``'s box along its restricted factors while that raises its density; the boxes added."""
    y = np.asarray(y, dtype=bool)
    init = initial_box(x)
    box, out = step.box, []
    while (best := _best(box, y, init, _pastes(x, box, init, alpha))) is not None:
        obj, candidate = best
        if not (
            candidate.inside.mean() >= mass_min
            and candidate.inside.sum() > box.inside.sum()
            and obj > 0
            and y[candidate.inside].mean() > y[box.inside].mean()
        ):
            break
        box = candidate
        out.append(step_of(box, y, init))
    return out


def quasi_p(x: np.ndarray, y: np.ndarray, step: Step) -> np.ndarray:
    """Quasi-p value of each limit, shape (factors, 2) for (lower, upper); NaN where a limit is not restricted.

    One-sided binomial test: are the box's k cases of n runs more than the case rate of the box
    with only that limit removed would give?
    """
    y = np.asarray(y, dtype=bool)
    init = initial_box(x)
    out = np.full((x.shape[1], 2), np.nan)
    for j in range(x.shape[1]):
        for side, (mine, start) in enumerate(((step.box.lower, init.lower), (step.box.upper, init.upper))):
            if mine[j] == start[j]:
                continue
            lower, upper = step.box.lower.copy(), step.box.upper.copy()
            (lower if side == 0 else upper)[j] = start[j]
            wider = in_box(x, lower, upper)
            rate = float(y[wider].mean())
            out[j, side] = float(stats.binomtest(step.k, step.n, rate, alternative="greater").pvalue)
    return out


def choose(trajectory: list[Step]) -> int:
    """The trajectory's best trade-off: the box with the highest harmonic mean of coverage and density."""
    scores = [
        2 * s.coverage * s.density / (s.coverage + s.density) if s.coverage + s.density else 0.0 for s in trajectory
    ]
    return int(np.argmax(scores))


def significant_only(x: np.ndarray, y: np.ndarray, step: Step, qp: np.ndarray, alpha: float = 0.05) -> Step:
    """``step``'s box with every limit whose quasi-p value is not below ``alpha`` set back to the data's range."""
    init = initial_box(x)
    keep = np.nan_to_num(qp, nan=1.0) < alpha
    lower = np.where(keep[:, 0], step.box.lower, init.lower)
    upper = np.where(keep[:, 1], step.box.upper, init.upper)
    return step_of(Box(lower, upper, in_box(x, lower, upper)), np.asarray(y, dtype=bool), init)

"""Sensitivity indices with SALib: Sobol first/total order (Saltelli designs) and Morris mu*/sigma.

Each index is computed on the mean of a design point over its replications, in
the design's own order (which the analyses depend on); SALib's bootstrap gives
the confidence intervals. The bootstrap is seeded, so the same sweep always
gives the same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Seed of the bootstrap resampling (never 0: SALib then falls back to the global generator).
BOOTSTRAP_SEED = 20240601


def sobol_indices(
    problem: dict, y: np.ndarray, *, second_order: bool, conf_level: float = 0.95, resamples: int = 1000
) -> pd.DataFrame:
    """First (S1) and total (ST) order indices of ``y`` (one value per design point) with their CI half-widths."""
    from SALib.analyze import sobol

    res = sobol.analyze(
        _plain(problem),
        np.asarray(y, dtype=float),
        calc_second_order=second_order,
        num_resamples=resamples,
        conf_level=conf_level,
        seed=BOOTSTRAP_SEED,
    )
    frame = pd.DataFrame(
        {
            "factor": problem["names"],
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        }
    )
    if second_order:
        names = problem["names"]
        for i, a in enumerate(names):
            for j in range(i + 1, len(names)):
                frame.loc[len(frame)] = {
                    "factor": f"{a} x {names[j]}",
                    "S1": res["S2"][i, j],
                    "S1_conf": res["S2_conf"][i, j],
                }
    return frame


def morris_indices(
    problem: dict, x: np.ndarray, y: np.ndarray, *, num_levels: int, conf_level: float = 0.95, resamples: int = 1000
) -> pd.DataFrame:
    """Morris elementary-effect statistics: mu, mu* (with CI half-width) and sigma per factor."""
    from SALib.analyze import morris

    res = morris.analyze(
        _plain(problem),
        np.asarray(x, dtype=float),
        np.asarray(y, dtype=float),
        num_resamples=resamples,
        conf_level=conf_level,
        num_levels=num_levels,
        seed=BOOTSTRAP_SEED,
    )
    return pd.DataFrame(
        {
            "factor": problem["names"],
            "mu": np.asarray(res["mu"], dtype=float),
            "mu_star": np.asarray(res["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(res["mu_star_conf"], dtype=float),
            "sigma": np.asarray(res["sigma"], dtype=float),
        }
    )


def _plain(problem: dict) -> dict:
    """The SALib problem as read back from JSON (bounds as lists of floats)."""
    return {
        "num_vars": int(problem["num_vars"]),
        "names": list(problem["names"]),
        "bounds": [[float(a), float(b)] for a, b in problem["bounds"]],
    }

"""How well the data pin the fitted keys down: agreement of independent searches, a local synthetic
likelihood around the optimum, intervals, correlations, flags, and draws for forecasts.

Method (a Gaussian synthetic likelihood, Wood 2010, profiled by a quadratic response surface):

1. The simulation noise: ``noise_runs`` (24) runs, each with its own seed, give the variance s2[k, t] of
   one run's series of target k in training period t (floored, so an empty period does not divide by 0;
   a count at least its mean, as a Poisson count), scaled up by var(total over the periods) / sum of the
   periods' variances when that is above 1 (the periods share their customers, so their noise is
   correlated), and by nu / (nu - 2) for nu = runs - 1: 1 / s2 overstates 1 / sigma2 by that on average.
2. The misfit of a point theta is chi2(theta) = sum_k,t (obs - mean_R(theta))^2 / s2, the observed series
   being one draw of the process; -chi2 / 2 is the log-likelihood up to a constant. When every point runs
   the same R common seeds (the searches' trials), the mean carries s2 / R of noise that moves all of
   them alike, and s2 counts (1 + 1/R) times.
3. The design starts at the search's trial with the smallest chi2 (the search ranks by its own distance,
   which weighs a noisy series as much as a quiet one), with the noise measured there. chi2 is evaluated
   on a Latin hypercube around it in the unit box of the search ranges (log keys on their log scale),
   each point with seeds of its own: in an agent model, common seeds do not make chi2 a smooth function
   of the keys (a small change of a key changes who buys and who leaves), and a minimum read off runs
   that share two seeds follows those seeds' luck. A quadratic is fitted by least squares through the
   scattered points, chi2 ~ c + g'x + x'Hx/2, in stages (the second in a box of +-3 standard deviations
   of the first; more while the minimum lies beyond the box). Its minimum is the estimate, and the
   covariance is 2 H^-1 (the Laplace approximation) plus the scatter of the minimum over the
   regression's uncertainty. The noise is measured once more at the estimate and the fit repeated with
   it. A direction in which chi2 hardly curves (eigenvalue of H below 2, i.e. a standard deviation above
   the whole range) is capped at the range: the data do not identify it.
4. A profile set widens the Gaussian's intervals: every search trial (run all over the ranges with the
   common seeds) whose chi2 lies within the chi-squared(1) quantile of the minimum (0.45 for 50%, 2.71
   for 90%) is a plausible value; an interval covers at least their span. Where the Gaussian misses a
   long or curved ridge (a lower churn hazard compensated by less buying), the points along it show it.

Why not ABC-SMC (e.g. pyabc): a run of a cohort costs about a second, and ABC-SMC needs thousands
of runs per fit to reach a small tolerance; the quadratic needs tens, and the restarts (several
independent TPE searches) guard against the local view missing a second optimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.calibration.observed import is_flow
from sim.calibration.params import FitParam
from sim.calibration.report import unit
from sim.calibration.search import MAX_SEED, Problem

#: Units of flows that count events or people: their noise variance is at least their mean (Poisson).
COUNTS = ("purchases", "people", "count")
#: Two-sided standard normal quantiles of the 50% and 90% intervals.
Z50, Z90 = 0.6744897501960817, 1.6448536269514722
#: A parameter whose 90% interval covers more than this share of its search range is not identified.
UNIDENTIFIED_SHARE = 0.5
#: Runs at the best values that measure the simulation noise: 1 / s2 of 24 runs scatters by about 30%.
NOISE_RUNS = 24
#: Pairs correlated beyond this are flagged: the data constrain a combination, not each key.
RIDGE = 0.85


def to_unit(p: FitParam, value: float) -> float:
    """``value`` as a position in the search range, 0 at LOW and 1 at HIGH (log scale for log keys)."""
    if p.log:
        return (math.log(value) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
    return (value - p.low) / (p.high - p.low)


def from_unit(p: FitParam, u: float) -> float:
    """The key's value at unit position ``u`` (clipped to the range; rounded for integer keys)."""
    u = min(max(float(u), 0.0), 1.0)
    if u in (0.0, 1.0):  # a bound exactly (exp(log(HIGH)) is not always HIGH)
        return float(p.low if u == 0.0 else p.high)
    value = (
        math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low))) if p.log else p.low + u * (p.high - p.low)
    )
    return float(round(value)) if p.integer else value


def derived_seeds(master: int, word: int, n: int) -> list[int]:
    """``n`` run seeds of their own stream (``word``) of the master seed: not the search's common seeds."""
    state = np.random.SeedSequence([master, word]).generate_state(2 * n, np.uint32).astype(np.uint64)
    return [
        int(((hi << np.uint64(32)) | lo) % np.uint64(MAX_SEED)) for hi, lo in zip(state[::2], state[1::2], strict=True)
    ]


@dataclass
class Posterior:
    """The local Gaussian approximation of the fitted keys in unit coordinates."""

    params: list[FitParam]
    mean: np.ndarray  # unit coordinates of the estimate
    cov: np.ndarray  # covariance in unit coordinates
    flat: list[bool]  # whether each key's variance was capped at the range (not identified)
    design_points: int
    noise_runs: int
    chi2_min: float
    periods: int
    profile: dict[float, np.ndarray] = field(default_factory=dict)  # z -> (keys, 2) unit bounds of the profile set
    # chi2 run at the quadratic's minimum; when it fits clearly worse than the best point run, the estimate (and
    # the forecast's draws) are centred on that point instead (``recentred``)
    chi2_quadratic: float | None = None
    recentred: bool = False

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    @property
    def corr(self) -> np.ndarray:
        sd = self.sd
        return self.cov / np.outer(sd, sd)

    def estimate(self) -> dict[str, float]:
        return {p.path: from_unit(p, u) for p, u in zip(self.params, self.mean, strict=True)}

    def unit_interval(self, z: float) -> np.ndarray:
        """(keys, 2) bounds in unit coordinates: the Gaussian's, widened to the profile set's when wider."""
        lo, hi = np.clip(self.mean - z * self.sd, 0, 1), np.clip(self.mean + z * self.sd, 0, 1)
        if z in self.profile:
            lo, hi = np.minimum(lo, self.profile[z][:, 0]), np.maximum(hi, self.profile[z][:, 1])
        return np.column_stack([lo, hi])

    def interval(self, z: float) -> dict[str, tuple[float, float]]:
        return {
            p.path: (from_unit(p, lo), from_unit(p, hi))
            for p, (lo, hi) in zip(self.params, self.unit_interval(z), strict=True)
        }

    def draws(self, n: int, seed: int) -> list[dict[str, float]]:
        """``n`` parameter sets from the Gaussian, redrawn when outside the ranges (up to 20 times), else clipped."""
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0xD4A5]))
        out = []
        for _ in range(n):
            for _attempt in range(20):
                u = rng.multivariate_normal(self.mean, self.cov, method="eigh")
                if ((u >= 0) & (u <= 1)).all():
                    break
            out.append({p.path: from_unit(p, x) for p, x in zip(self.params, u, strict=True)})
        return out


def noise_variance(problem: Problem, values: dict[str, float], seeds: list[int]) -> dict[str, np.ndarray]:
    """Variance over independent runs of one run's series of each target in the training periods (floored)."""
    sims = problem.simulate_many([values], [seeds], window="train")[0]
    keep = problem.windows == "train"
    out = {}
    for t in problem.targets:
        runs = sims[t.kpi][:, keep]
        var = runs.var(axis=0, ddof=1)
        scale = problem.scales[t.kpi]
        # a period where every run agrees (e.g. 0 repeat purchases in week 0) keeps a small variance
        var = np.maximum(var, (0.02 * scale) ** 2 + 0.25)
        if is_flow(t.kpi) and unit(t.kpi) in COUNTS:  # counts are at least Poisson: 8 runs of 0 or 1 say little
            var = np.maximum(var, np.abs(runs.mean(axis=0)))
        # periods are not independent (the same customers, more or less active, buy in every week): the
        # variance of a run's total over the periods, against the sum of the periods' variances, says how
        # much; the periods' variances are scaled by that ratio so the misfit does not count them as new data
        ratio = float(runs.sum(axis=1).var(ddof=1)) / float(var.sum())
        # 1 / s2 of nu = runs - 1 degrees of freedom overstates 1 / sigma2 by nu / (nu - 2) on average (s2 is
        # a scaled chi-squared): left alone, 8 runs made every chi2 1.4 times too large and the intervals narrow
        nu = runs.shape[0] - 1
        out[t.kpi] = var * max(1.0, ratio) * nu / (nu - 2)
    return out


def chi2(problem: Problem, sims: dict[str, np.ndarray], var: dict[str, np.ndarray], common: bool = True) -> float:
    """The misfit of one point's replications to the observed training series (see the module's step 2).

    ``common``: the runs used the seeds every point uses, so their own noise moves the minimum and counts
    (1 + 1/R); points run with seeds of their own scatter instead, and the regression through them counts it."""
    keep = problem.windows == "train"
    reps = next(iter(sims.values())).shape[0] if common else math.inf
    total = 0.0
    for t in problem.targets:
        obs = problem.observed_values(t.kpi)[keep]
        mean = sims[t.kpi].mean(axis=0)[keep]
        ok = ~np.isnan(obs)
        total += float(np.sum((obs[ok] - mean[ok]) ** 2 / (var[t.kpi][ok] * (1.0 + 1.0 / reps))))
    return total


def _quadratic_terms(x: np.ndarray) -> np.ndarray:
    """Columns 1, x_i, and x_i x_j / (1 + [i != j]) ... arranged so the fit gives c, g and H directly."""
    n, d = x.shape
    cols = [np.ones(n), *x.T]
    for i in range(d):
        for j in range(i, d):
            cols.append(0.5 * x[:, i] ** 2 if i == j else x[:, i] * x[:, j])
    return np.column_stack(cols)


def _gradient_hessian(coef: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """g and H from the coefficients of ``_quadratic_terms``' columns."""
    g = coef[1 : 1 + d]
    h = np.zeros((d, d))
    k = 1 + d
    for i in range(d):
        for j in range(i, d):
            h[i, j] = h[j, i] = coef[k]
            k += 1
    return g, h


def design(center: np.ndarray, half: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of a Latin hypercube in the box center +- half, cut to the unit box, plus the center."""
    d = center.size
    lhs = (rng.permuted(np.tile(np.arange(n), (d, 1)), axis=1).T + rng.random((n, d))) / n
    lo, hi = np.clip(center - half, 0, 1), np.clip(center + half, 0, 1)
    return np.vstack([center, lo + lhs * (hi - lo)])


def laplace(
    problem: Problem, best: dict[str, float], seed: int, noise_runs: int = NOISE_RUNS, trials: list | None = None
) -> Posterior:
    """The local Gaussian of the fitted keys around ``best`` (see the module's docstring), with the profile
    set of the searches' ``trials``."""
    params = problem.params
    d = len(params)
    runs = max(noise_runs, 4)
    var = noise_variance(problem, best, derived_seeds(seed, 0x401E, runs))
    # only completed trials: a pruned one ran a single replication, whose chi2 has other noise
    done = [t for t in trials or [] if t.sims is not None and not t.pruned]
    if done:  # the search ranked them by its distance; the design starts from the best fit by chi2
        closest = done[int(np.argmin([chi2(problem, t.sims, var) for t in done]))].values
        if closest != best:
            best = closest
            var = noise_variance(problem, best, derived_seeds(seed, 0x401F, runs))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xDE51]))
    center = np.array([to_unit(p, best[p.path]) for p in params])
    half = np.full(d, 0.15)
    n = design_size(d)
    reps = len(problem.seeds)
    xs: list[np.ndarray] = []
    sims: list[dict[str, np.ndarray]] = []
    for stage in range(MAX_STAGES):
        pts = design(center, half, n, rng)
        points = [{p.path: from_unit(p, u) for p, u in zip(params, x, strict=True)} for x in pts]
        own = derived_seeds(seed, 0xDE00 + stage, len(points) * reps)  # each point its own seeds
        sims += problem.simulate_many(points, [own[i * reps : (i + 1) * reps] for i in range(len(points))], "train")
        xs += list(pts)
        previous = center
        mean, cov, flat = _surface(np.array(xs), [chi2(problem, s, var, common=False) for s in sims], center, half)
        # a minimum stopped at the box's edge (and not at the range's) lies beyond the points: look again there
        stopped = bool(np.any((np.abs(mean - previous) >= half - 1e-9) & (mean > 0) & (mean < 1)))
        center = mean
        box = np.clip(3.0 * np.sqrt(np.diag(cov)), 0.02, 0.5)
        if stage >= 1 and not stopped:
            break
        half = np.maximum(box, half) if stopped else box  # walking towards the minimum: the box does not shrink
    # the noise where the estimate landed (the design's first centre may lie far from it); the points are
    # scored again with it, and the scatter of the regression's minimum joins the covariance
    at = {p.path: from_unit(p, u) for p, u in zip(params, mean, strict=True)}
    var = noise_variance(problem, at, derived_seeds(seed, 0x4020, runs))
    ys = [chi2(problem, s, var, common=False) for s in sims]
    mean, cov, flat = _surface(np.array(xs), ys, center, half, rng)
    # the profile: the searches' points, all over the ranges and run with the common seeds (a curved ridge
    # shows among them), and the estimate itself
    values = {p.path: from_unit(p, u) for p, u in zip(params, mean, strict=True)}
    chi2_quadratic = chi2(problem, problem.simulate_many([values], window="train")[0], var)
    px = [np.array([to_unit(p, t.values[p.path]) for p in params]) for t in done] + [mean.copy()]
    py = [chi2(problem, t.sims, var) for t in done] + [chi2_quadratic]
    keep = problem.windows == "train"
    periods = sum(int((~np.isnan(problem.observed_values(t.kpi)[keep])).sum()) for t in problem.targets)
    # the estimate must fit about as well as the best point run: on a steep, skewed surface the quadratic's
    # minimum can land where the series fit badly, and forecast draws around it would miss the observed data.
    # Allowed: the joint 99% drop, plus two standard deviations of a chi2 over the training periods, the noise
    # that lets the smallest of many evaluated points lie below the surface (a noisy surface is no skewed one)
    # (the design's points count here too, scored like the others as if their seeds were common)
    cx, cy = px + xs, py + [chi2(problem, s, var) for s in sims]
    recentred = chi2_quadratic > min(cy) + joint_drop(d) + 2.0 * math.sqrt(2.0 * periods)
    if recentred:
        mean = np.array(cx[int(np.argmin(cy))])
        px.append(mean.copy())
        py.append(min(cy))
    post = Posterior(params, mean, cov, flat, len(xs), runs, float(min(cy)), periods)
    post.chi2_quadratic, post.recentred = float(chi2_quadratic), bool(recentred)
    post.profile = profile_sets(np.array(px), np.array(py))
    post.flat = [bool(hi - lo > UNIDENTIFIED_SHARE) for lo, hi in post.unit_interval(Z90)]
    return post


def design_size(d: int) -> int:
    """Points of one design stage for ``d`` keys: three per quadratic term, and four more."""
    return 3 * (1 + d + d * (d + 1) // 2) + 4


#: Design stages at most: two, and more while the quadratic's minimum lies beyond the last design's box.
MAX_STAGES = 4


def _surface(
    xs: np.ndarray, ys: list[float], center: np.ndarray, half: np.ndarray, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """Mean, covariance and flat keys of the quadratic fitted to the better three quarters of the points (a
    quadratic is a local description); with ``rng``, the covariance adds the scatter of the quadratic's
    minimum over the regression's uncertainty (each point ran seeds of its own, so chi2 scatters about the
    surface, and the minimum of a surface fitted through scattered points is uncertain too)."""
    y = np.asarray(ys)
    near = y <= np.quantile(y, 0.75) if len(y) > 3 * design_size(xs.shape[1]) // 2 else np.ones(len(y), bool)
    terms = _quadratic_terms(xs[near] - center)
    coef, *_ = np.linalg.lstsq(terms, y[near], rcond=None)
    mean, cov, flat = _gaussian(center, *_gradient_hessian(coef, xs.shape[1]), half)
    if rng is None:
        return mean, cov, flat
    resid = y[near] - terms @ coef
    dof = max(int(near.sum()) - terms.shape[1], 1)
    cov_coef = float(resid @ resid) / dof * np.linalg.pinv(terms.T @ terms)
    minima = [
        _gaussian(center, *_gradient_hessian(b, xs.shape[1]), half)[0]
        for b in rng.multivariate_normal(coef, cov_coef, size=400, method="eigh")
    ]
    return mean, cov + np.atleast_2d(np.cov(np.array(minima).T)), flat


def joint_drop(d: int, z: float = 2.326) -> float:
    """The 99% quantile of chi2 with ``d`` degrees of freedom (Wilson-Hilferty; within 1% for d >= 1): how much
    worse than the minimum a point may fit and still be jointly plausible for all ``d`` keys."""
    k = 2.0 / (9.0 * d)
    return float(d * (1.0 - k + z * math.sqrt(k)) ** 3)


#: chi-squared quantiles with one degree of freedom: the profile thresholds of 50% and 90% intervals.
PROFILE_DROP = {Z50: 0.4549364231195724, Z90: 2.705543454095404}


def profile_sets(xs: np.ndarray, ys: np.ndarray) -> dict[float, np.ndarray]:
    """Per interval level, the unit bounds of the evaluated points within its chi2 drop of the minimum.

    A likelihood-ratio (profile) interval read off the points that were run: where the Gaussian misses
    a curved or long ridge, the points along it widen the interval.
    """
    out = {}
    for z, drop in PROFILE_DROP.items():
        inside = xs[ys <= ys.min() + drop]
        out[z] = np.column_stack([inside.min(axis=0), inside.max(axis=0)])
    return out


def _gaussian(
    center: np.ndarray, g: np.ndarray, h: np.ndarray, half: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """Mean and covariance 2 H^-1 of the fitted quadratic; flat directions capped at a range-wide spread.
    The mean stays inside the design box (``center +- half``): a quadratic says nothing beyond its points."""
    w, v = np.linalg.eigh((h + h.T) / 2)
    w_capped = np.maximum(w, 2.0)  # sd along an eigenvector at most 1 (the whole range)
    h_pd = (v * w_capped) @ v.T
    step = -np.linalg.solve(h_pd, g)
    mean = np.clip(center + np.clip(step, -half, half), 0.0, 1.0)
    cov = 2.0 * (v / w_capped) @ v.T
    sd = np.sqrt(np.diag(cov))
    flat = [bool(2 * Z90 * s > UNIDENTIFIED_SHARE) for s in sd]
    return mean, cov, flat


# --- agreement and flags ---------------------------------------------------------------------

#: What observed series pins a key down, by words in its path (first match wins): each option a phrase
#: with a slot for the KPIs that give it (an option whose KPIs are all targets already is left out).
EXTRA_DATA: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    ("churn", (("the customers still active per period ({})", ("members", "churned")), ("a longer holdout", ()))),
    (
        "visit",
        (("visits per period ({}), which separate how often people come from how long they stay", ("dau", "visits")),),
    ),
    ("engagement", (("visits per period ({})", ("dau", "visits")),)),
    ("purchase", (("purchases per active customer (purchases with {} beside them)", ("members", "dau")),)),
    ("referral", (("joins by referral per period ({})", ("new_referral", "invitations")),)),
    ("organic", (("joins by source per period ({})", ("new_organic", "new_paid")),)),
    ("paid", (("joins by source per period ({}) and the spend", ("new_paid",)),)),
    ("koc", (("KOC posts ({}) and the purchases they reach", ("koc_posts",)),)),
)
OTHER_DATA = "a series that this key moves and the other fitted keys do not"


def extra_data(path: str, targets: tuple[str, ...] | list[str] = ()) -> str:
    """The observed series that would pin ``path`` down, leaving out the ``targets`` already fitted."""
    for word, options in EXTRA_DATA:
        if word not in path:
            continue
        out, fitted = [], []
        for phrase, kpis in options:
            missing = [k for k in kpis if k not in targets]
            fitted += [k for k in kpis if k in targets]
            if kpis and not missing:
                continue
            out.append(phrase.format(" or ".join(missing)) if kpis else phrase)
        if out:
            return ", or ".join(out)
        return f"{OTHER_DATA} ({', '.join(fitted)} already among the targets)"
    return OTHER_DATA


def extra_data_pair(a: str, b: str, targets: tuple[str, ...] | list[str] = ()) -> str:
    """What separates keys ``a`` and ``b``: each key's extra data, once (one may contain the other)."""
    first, second = extra_data(a, targets), extra_data(b, targets)
    if second in first:
        return first
    if first in second:
        return second
    return f"{first}, or {second}"


def flags(post: Posterior, searches: list[dict[str, float]], targets: list[str] | None = None) -> list[dict[str, Any]]:
    """Unidentified keys, strongly correlated pairs, and searches whose optima disagree, each with a message
    (the data suggested leave out the ``targets`` already fitted)."""
    targets = list(targets or [])
    out: list[dict[str, Any]] = []
    corr = post.corr
    ranges = post.interval(Z90)
    for i, p in enumerate(post.params):
        if post.flat[i]:
            lo, hi = ranges[p.path]
            out.append(
                {
                    "kind": "unidentified",
                    "keys": [p.path],
                    "message": f"{p.path} is not identified by the targets: its 90% interval {lo:.4g} to {hi:.4g} "
                    f"covers more than {UNIDENTIFIED_SHARE:.0%} of the searched range. To pin it down, add "
                    f"{extra_data(p.path, targets)}.",
                }
            )
    for i in range(len(post.params)):
        for j in range(i + 1, len(post.params)):
            r = float(corr[i, j])
            if abs(r) >= RIDGE:
                a, b = post.params[i].path, post.params[j].path
                how = "raising both together" if r > 0 else "raising one and lowering the other"
                out.append(
                    {
                        "kind": "correlated",
                        "keys": [a, b],
                        "correlation": round(r, 3),
                        "message": f"{a} and {b} are correlated (r = {r:+.2f}): {how} fits the targets about as well "
                        "(they pin down a combination, not each key). To separate them, add "
                        f"{extra_data_pair(a, b, targets)}.",
                    }
                )
    if post.recentred:
        out.append(
            {
                "kind": "poor_quadratic",
                "keys": [p.path for p in post.params],
                "message": f"the local quadratic misdescribes the distance around the optimum: its minimum fits with "
                f"chi2 {post.chi2_quadratic:.4g} against {post.chi2_min:.4g} at the best point run, so the estimate "
                "and the forecast's draws are centred on that point and the intervals rest on the points run; read "
                "the bands as rough, or narrow the search ranges around the optimum and calibrate again.",
            }
        )
    if len(searches) > 1:
        width = {p.path: hi - lo for p, (lo, hi) in zip(post.params, ranges.values(), strict=True)}
        for p in post.params:
            values = [s[p.path] for s in searches]
            spread = max(values) - min(values)
            if spread > width[p.path]:
                out.append(
                    {
                        "kind": "searches_disagree",
                        "keys": [p.path],
                        "message": f"the {len(searches)} searches end at {p.path} = "
                        f"{', '.join(f'{v:.4g}' for v in values)}, further apart than its 90% interval is wide: "
                        "the distance has several optima or is flat; run more trials or add data.",
                    }
                )
    return out


#: A fitted value within this share of its range (on the search's scale: log for log keys) of a bound is at it.
EDGE = 0.02


def edge_flags(params: list[FitParam], values: dict[str, float]) -> list[dict[str, Any]]:
    """Fitted values at (within ``EDGE`` of) a bound of their search range: the data may want one beyond it."""
    out: list[dict[str, Any]] = []
    for p in params:
        u = to_unit(p, values[p.path])
        if EDGE < u < 1.0 - EDGE:
            continue
        top = u >= 1.0 - EDGE
        side, bound = ("top", p.high) if top else ("bottom", p.low)
        out.append(
            {
                "kind": "at_range_edge",
                "keys": [p.path],
                "edge": "high" if top else "low",
                "message": f"{p.path} = {values[p.path]:.4g} is at the {side} of its range ({p.low:g} to {p.high:g}): "
                f"the data may want a value {'above' if top else 'below'} {bound:g}; widen the range "
                f"(--fit {p.path}=LOW:HIGH, within the key's allowed values) and calibrate again.",
            }
        )
    return out

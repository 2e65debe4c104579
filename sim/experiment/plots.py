"""Figures of a sweep: response curves, heatmaps, Sobol and Morris charts, ensemble comparisons.

Built as ``matplotlib.figure.Figure`` objects on an Agg canvas, never through
pyplot, so nothing global leaks between calls. Colours are the colour-blind-safe
Okabe–Ito palette. Legends sit outside the axes, off the data.
"""

from __future__ import annotations

import math
from pathlib import PurePath

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from sim.plots import fonts

DPI = 110
BLUE, ORANGE, GREEN, GREY, VERMILION = "#0072B2", "#E69F00", "#009E73", "#999999", "#D55E00"
CATEGORICAL = ("str", "bool", "scenario")


def num(x: float, _pos: int | None = None) -> str:
    """Compact number: thousands separators, k/M for large values, a few decimals for small ones."""
    if x is None or not np.isfinite(x):
        return ""
    a = abs(x)
    if a < 1e-12:
        return "0"
    if a >= 1e6:
        return f"{x / 1e6:.4g}M"
    if a >= 1e4:
        return f"{x / 1e3:.5g}k"
    if float(x).is_integer():
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:,.1f}"
    return f"{x:.3g}"


def kpi_label(column: str) -> str:
    """Axis label of a KPI column: ``final.gmv`` -> ``gmv, run total``, ``w90.members`` -> ``members on day 90``."""
    from sim.run.summary import FLOWS

    head, key = column.split(".", 1)
    if head == "funnel":
        return f"funnel: {key.replace('_', ' ')}"
    if head == "retention":
        return f"{key.removeprefix('day_')}-day retention"
    if head == "final":
        return f"{key}, run total" if key in FLOWS else f"{key} at the end"
    return f"{key}, days 1-{head[1:]}" if key in FLOWS else f"{key} on day {head[1:]}"


def in_points(column: str) -> bool:
    """Whether a KPI column is a share or ROI, whose differences read in percentage points (docs/metrics.md)."""
    from sim.calibration.report import unit

    head, key = column.split(".", 1)
    return head == "retention" or key == "roi" or (head != "funnel" and unit(key) == "share 0-1")


def level_label(value: object, kind: str) -> str:
    """A factor level as a tick label: scenario files by their stem, numbers compactly."""
    if kind == "scenario":
        return PurePath(str(value)).stem
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.number):
        return num(float(value))
    return str(value)


def _figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (9.0, 5.0), **kw) -> tuple[Figure, np.ndarray]:
    fonts.use()
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False, **kw)).ravel()
    for ax in axes:
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes


def _title(fig: Figure, title: str, subtitle: str = "") -> None:
    fig.suptitle(title + (f"\n{subtitle}" if subtitle else ""), fontsize=11)


def _interval(values: np.ndarray, conf: float, kpi: str) -> tuple[float, float, float]:
    """Mean and t-interval of the mean, cut to the values the KPI can take (no count below 0)."""
    from sim.core.mathutil import t_interval
    from sim.experiment.kpis import column_support

    mean, _, low, high = t_interval(values, conf, column_support(kpi))
    return mean, low, high


def response_curves(sweep, kpi: str, conf: float) -> Figure:
    """The KPI against each factor: mean over replications, its CI, and the spread of single runs."""
    factors = sweep.factors
    ncols = min(len(factors), 3)
    nrows = math.ceil(len(factors) / ncols)
    fig, axes = _figure(nrows, ncols, (4.3 * ncols + 0.6, 3.4 * nrows + 0.9), sharey=True)
    ok = sweep.ok()
    sampled = sweep.kind not in ("grid", "zip")
    for ax, f in zip(axes, factors, strict=False):
        if f["kind"] in CATEGORICAL:
            _categorical(ax, ok, f, kpi, conf)
        elif sampled:
            _scatter_trend(ax, ok, f["name"], kpi, conf)
        else:
            _levels_band(ax, ok, f["name"], kpi, conf)
        ax.set_xlabel(f["name"])
        ax.yaxis.set_major_formatter(FuncFormatter(num))
    for ax in axes[len(factors) :]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        ax.set_ylabel(kpi_label(kpi))
    legend: dict[str, object] = {}
    for ax in axes[: len(factors)]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    fig.legend(
        legend.values(), legend.keys(), loc="outside lower center", ncols=min(len(legend), 5), fontsize=8, frameon=False
    )
    reps = sweep.manifest["replications"]
    runs = f"{len(ok)} runs, {reps} replications per point"
    others = "; other factors averaged" if len(factors) > 1 else ""
    few = f"\nwith {reps} replications the CI of the mean is wider than the runs' spread" if 1 < reps < 5 else ""
    _title(fig, f"{kpi_label(kpi)} — {sweep.manifest['name']}", f"{sweep.kind} design, {runs}{others}{few}")
    return fig


def _levels_band(ax, ok: pd.DataFrame, name: str, kpi: str, conf: float) -> None:
    per_rep = ok.groupby([name, "replication"])[kpi].mean().reset_index()
    xs = sorted(per_rep[name].unique())
    stats = [_interval(per_rep.loc[per_rep[name] == x, kpi].to_numpy(), conf, kpi) for x in xs]
    runs = [ok.loc[ok[name] == x, kpi].to_numpy() for x in xs]
    q05 = [np.nanquantile(r, 0.05) for r in runs]
    q95 = [np.nanquantile(r, 0.95) for r in runs]
    mean, low, high = (np.array(s) for s in zip(*stats, strict=True))
    ax.fill_between(xs, q05, q95, color=GREY, alpha=0.25, linewidth=0, label="5–95% of single runs")
    if np.isfinite(low).any():
        ax.fill_between(xs, low, high, color=BLUE, alpha=0.3, linewidth=0, label=f"{conf:.0%} CI of the mean")
    ax.plot(xs, mean, color=BLUE, marker="o", markersize=4, label="mean over replications")
    if len(xs) <= 8:
        ax.set_xticks(xs)
    ax.xaxis.set_major_formatter(FuncFormatter(num))


def _scatter_trend(ax, ok: pd.DataFrame, name: str, kpi: str, conf: float) -> None:
    points = ok.groupby("point").agg(x=(name, "first"), y=(kpi, "mean"))
    ax.scatter(points["x"], points["y"], s=10, color=GREY, alpha=0.6, linewidth=0, label="design point (mean)")
    ax.xaxis.set_major_formatter(FuncFormatter(num))
    if points["x"].nunique() <= 12:  # few distinct values (an integer factor): one group per value
        groups = points.groupby("x")
    elif len(points) >= 10:
        groups = points.groupby(
            pd.qcut(points["x"], max(2, min(8, len(points) // 5)), duplicates="drop"), observed=True
        )
    else:
        return
    xs = groups["x"].mean().to_numpy()
    stats = np.array([_interval(g["y"].to_numpy(), conf, kpi) for _, g in groups])
    ax.fill_between(
        xs, stats[:, 1], stats[:, 2], color=BLUE, alpha=0.3, linewidth=0, label=f"{conf:.0%} CI of the binned mean"
    )
    ax.plot(xs, stats[:, 0], color=BLUE, marker="o", markersize=4, label="binned mean")


def _categorical(ax, ok: pd.DataFrame, f: dict, kpi: str, conf: float) -> None:
    name = f["name"]
    levels = list(dict.fromkeys(f["levels"])) if f.get("levels") else sorted(ok[name].unique())
    rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
    for i, level in enumerate(levels):
        vals = ok.loc[ok[name] == level, kpi].to_numpy()
        ax.scatter(
            i + rng.uniform(-0.12, 0.12, vals.size),
            vals,
            s=9,
            color=GREY,
            alpha=0.5,
            linewidth=0,
            label="single runs" if i == 0 else None,
        )
        mean, low, high = _interval(vals, conf, kpi)
        err = None if not np.isfinite(low) else [[mean - low], [high - mean]]
        ax.errorbar(
            [i],
            [mean],
            yerr=err,
            fmt="o",
            color=BLUE,
            capsize=5,
            markersize=6,
            linewidth=2,
            label=f"mean, {conf:.0%} CI" if i == 0 else None,
        )
    ax.set_xticks(
        range(len(levels)),
        [level_label(v, f["kind"]) for v in levels],
        rotation=20 if len(levels) > 3 else 0,
        ha="right" if len(levels) > 3 else "center",
    )
    ax.set_xlim(-0.5, len(levels) - 0.5)


def cell_labels(values: np.ndarray, percent: bool = False) -> np.ndarray:
    """One number format for a whole table of values: the same suffix (k, M) and decimals in every cell,
    chosen so the largest shows three significant digits (``2.22k``, ``10.34k``, ``1.35k`` -> ``2.2k``,
    ``10.3k``, ``1.3k``); percentages for ratios and shares."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    scale, suffix = (100.0, "%") if percent else (1e-6, "M") if top >= 1e6 else (1e-3, "k") if top >= 1e4 else (1, "")
    top *= scale
    if top == 0:
        decimals = 0
    elif not percent and not suffix and np.all(finite == np.round(finite)):
        decimals = 0
    else:
        decimals = int(min(4, max(0, 2 - math.floor(math.log10(top)))))
    out = np.full(v.shape, "", dtype=object)
    for idx, x in np.ndenumerate(v):
        if np.isfinite(x):
            text = f"{x * scale:,.{decimals}f}"
            out[idx] = ("0" if float(text.replace(",", "")) == 0 else text) + suffix
    return out


def _is_percent(kpi: str) -> bool:
    from sim.observe.metrics import SHARES

    key = kpi.split(".", 1)[1]
    return key == "roi" or key in SHARES or kpi.startswith("retention.")


def _companion(sweep, kpi: str, names: tuple[str, ...]) -> str | None:
    """The column of the same window as ``kpi`` named by one of ``names`` (``final.roi`` -> ``final.profit``)."""
    head = kpi.split(".", 1)[0]
    return next((f"{head}.{n}" for n in names if f"{head}.{n}" in sweep.runs.columns), None)


def _best_roi_cell(profit: np.ndarray, spend: np.ndarray, roi: np.ndarray) -> tuple[int, int] | None:
    """The cell compare would rank first by ROI: highest ROI among the cells no other cell beats on
    both profit and spend (so a higher ROI from spending more on a loss is never marked best)."""
    cells = [idx for idx, x in np.ndenumerate(roi) if np.isfinite(x) and np.isfinite(profit[idx] + spend[idx])]

    def beaten(i) -> bool:
        return any(
            profit[j] >= profit[i] and spend[j] <= spend[i] and (profit[j] > profit[i] or spend[j] < spend[i])
            for j in cells
        )

    front = [i for i in cells if not beaten(i)]
    return max(front, key=lambda i: roi[i]) if front else None


def heatmap(sweep, stats: pd.DataFrame, a: str, b: str, kpi: str) -> Figure:
    """Mean KPI over a two-factor grid (other factors averaged), each cell labelled with its value.

    An ROI heatmap shows each cell's profit beside its ROI and outlines the cell a ranking by ROI
    would put first, since ROI alone can favour the cell that spends most on a loss.
    """
    kinds = {f["name"]: f["kind"] for f in sweep.factors}
    table = stats.groupby([b, a])["mean"].mean().unstack(a)
    table = table.reindex(index=_order(sweep, b, table.index), columns=_order(sweep, a, table.columns))
    roi = kpi.split(".", 1)[1] == "roi"
    profit_col = _companion(sweep, kpi, ("profit", "cum_profit")) if roi else None
    spend_col = _companion(sweep, kpi, ("cost_total", "cum_cost")) if roi else None

    def grid(column: str) -> np.ndarray:
        means = sweep.ok().groupby([b, a])[column].mean().unstack(a)
        return means.reindex(index=table.index, columns=table.columns).to_numpy(dtype=float)

    height = 0.6 if profit_col is None else 0.8
    fig, (ax,) = _figure(size=(min(12.0, 2.2 + 1.1 * table.shape[1]), min(9.0, 1.8 + height * table.shape[0])))
    ax.grid(False)
    values = table.to_numpy(dtype=float)
    lo, hi = np.nanmin(values), np.nanmax(values)
    norm = TwoSlopeNorm(0.0, lo, hi) if lo < 0 < hi else None
    image = ax.imshow(values, origin="lower", aspect="auto", cmap="RdBu" if norm else "viridis", norm=norm)
    percent = _is_percent(kpi)
    texts = cell_labels(values, percent)
    if profit_col is not None:
        profits = grid(profit_col)
        texts = np.array(
            [
                [f"{t}\nprofit {p}" for t, p in zip(row, prow, strict=True)]
                for row, prow in zip(texts, cell_labels(profits), strict=True)
            ],
            dtype=object,
        )
    for (i, j), v in np.ndenumerate(values):
        r, g, bl, _ = image.cmap(image.norm(v))
        ax.text(
            j,
            i,
            texts[i, j],
            ha="center",
            va="center",
            fontsize=8,
            color="black" if 0.299 * r + 0.587 * g + 0.114 * bl > 0.5 else "white",
        )
    note = ""
    if profit_col is not None and spend_col is not None:
        best = _best_roi_cell(profits, grid(spend_col), values)
        if best is not None:
            i, j = best
            ax.add_patch(Rectangle((j - 0.48, i - 0.48), 0.96, 0.96, fill=False, edgecolor=VERMILION, linewidth=2.5))
            note = "\noutlined: the best ROI among cells that no cell beats on both profit and spend"
    elif roi:
        note = "\nkeep profit and cost_total in the sweep's kpis: ROI alone can favour spending more on a loss"
    ax.set_xticks(range(table.shape[1]), [level_label(v, kinds[a]) for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [level_label(v, kinds[b]) for v in table.index])
    ax.set_xlabel(a)
    ax.set_ylabel(b)
    formatter = FuncFormatter(lambda x, _: f"{100 * x:.1f}%") if percent else FuncFormatter(num)
    fig.colorbar(image, ax=ax, label=kpi_label(kpi), format=formatter)
    others = "; other factors averaged" if len(sweep.factors) > 2 else ""
    _title(
        fig,
        f"{kpi_label(kpi)} — {sweep.manifest['name']}",
        f"mean over {sweep.manifest['replications']} replications per cell{others}{note}",
    )
    return fig


def _order(sweep, name: str, present) -> list:
    """The factor's levels in the order the experiment lists them (numbers ascending otherwise)."""
    listed = next((f.get("levels") for f in sweep.factors if f["name"] == name), None) or []
    known = [v for v in dict.fromkeys(listed) if v in set(present)]
    return known + sorted(v for v in present if v not in set(known))


def sobol_chart(table: pd.DataFrame, kpi: str, conf: float) -> Figure:
    """First- and total-order Sobol indices per factor, with their bootstrap CIs."""
    main = table[~table["factor"].str.contains(" x ", regex=False)].sort_values("ST")
    fig, (ax,) = _figure(size=(9.0, 1.6 + 0.55 * len(main)))
    y = np.arange(len(main))
    ax.barh(y + 0.2, main["ST"], 0.38, xerr=main["ST_conf"], color=BLUE, capsize=3, label="total order (ST)")
    ax.barh(y - 0.2, main["S1"], 0.38, xerr=main["S1_conf"], color=ORANGE, capsize=3, label="first order (S1)")
    ax.set_yticks(y, main["factor"])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"share of the variance of {kpi_label(kpi)}  (error bars: {conf:.0%} CI)")
    fig.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    note = "ST - S1 is the share due to interactions with other factors"
    if float(np.nanmax(main[["S1_conf", "ST_conf"]].to_numpy(), initial=0.0)) > 0.1:
        note += "\nwide intervals: S1 above ST or below 0 is estimation noise; raise the base size n"
    _title(fig, f"Sobol indices of {kpi_label(kpi)}", note)
    return fig


def morris_chart(table: pd.DataFrame, kpi: str, conf: float, num_levels: int = 4) -> Figure:
    """Morris screening: mean absolute elementary effect (mu*) against their spread (sigma)."""
    fig, (ax,) = _figure(size=(9.0, 5.5))
    ax.errorbar(table["mu_star"], table["sigma"], xerr=table["mu_star_conf"], fmt="o", color=BLUE, capsize=3)
    reach = np.nan_to_num(table["mu_star"] + table["mu_star_conf"])
    top = float(max(reach.max(), table["sigma"].max(), 0.0)) * 1.12 or 1.0
    _labels(ax, table, top)
    ax.plot([0, top], [0, top], linestyle="--", color=GREY, linewidth=1, label="sigma = mu*")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    step = num_levels / (2 * (num_levels - 1))
    ax.set_xlabel(f"mu*: mean |change of the KPI| over one Morris step ({step:.2g} of a factor's range)")
    ax.set_ylabel("sigma: spread of those changes")
    ax.xaxis.set_major_formatter(FuncFormatter(num))
    ax.yaxis.set_major_formatter(FuncFormatter(num))
    fig.legend(loc="outside lower center", fontsize=9, frameon=False)
    _title(
        fig,
        f"Morris screening of {kpi_label(kpi)}",
        f"right: influential; above the line: non-linear or interacting; error bars: {conf:.0%} CI",
    )
    return fig


def _labels(ax, table: pd.DataFrame, top: float) -> None:
    """Name each point, stacking the labels of points that sit close together so none overlap."""
    placed: list[tuple[float, float, int]] = []
    for row in table.sort_values(["sigma", "mu_star"]).itertuples():
        near = [k for x, y, k in placed if abs(x - row.mu_star) < 0.3 * top and abs(y - row.sigma) < 0.06 * top]
        lift = max(near, default=-1) + 1
        ax.annotate(
            row.factor,
            (row.mu_star, row.sigma),
            xytext=(6, 4 + 11 * lift),
            textcoords="offset points",
            fontsize=8,
            arrowprops={"arrowstyle": "-", "color": GREY, "linewidth": 0.6} if lift else None,
        )
        placed.append((row.mu_star, row.sigma, lift))


def compare(sweep, stats: pd.DataFrame, diffs: pd.DataFrame, kpi: str, conf: float) -> Figure:
    """Ensembles side by side (left) and their paired differences from the reference level (right)."""
    f = next(f for f in sweep.factors if f["kind"] in CATEGORICAL)
    fig, (left, right) = _figure(1, 2, (11.0, 4.8))
    _categorical(left, sweep.ok(), f, kpi, conf)
    left.set_xlabel(f["name"])
    left.set_ylabel(kpi_label(kpi))
    left.yaxis.set_major_formatter(FuncFormatter(num))
    left.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=8, frameon=False, ncols=2)
    d = diffs[diffs["factor"] == f["name"]].reset_index(drop=True)
    ref = level_label(d["reference"].iloc[0], f["kind"]) if len(d) else ""
    ys = np.arange(len(d))[::-1]
    right.errorbar(
        d["mean_diff"],
        ys,
        xerr=[d["mean_diff"] - d["ci_low"], d["ci_high"] - d["mean_diff"]],
        fmt="o",
        color=VERMILION,
        capsize=5,
        linewidth=2,
    )
    from sim.compare import fmt

    points = in_points(kpi)
    for y, row in zip(ys, d.itertuples(), strict=True):
        if points:  # a share or ROI: the difference itself, in percentage points (as compare writes it)
            text = fmt.pp(row.mean_diff) if np.isfinite(row.mean_diff) else ""
        else:
            text = f"{row.relative_diff:+.1%}".replace("-0.0%", "0.0%").replace("+0.0%", "0.0%")
            text = text if np.isfinite(row.relative_diff) else ""
        right.annotate(text, (row.mean_diff, y), xytext=(0, 8), textcoords="offset points", ha="center", fontsize=8)
    right.axvline(0, color="black", linewidth=0.8)
    lo, hi = min(0.0, float(d["ci_low"].min())), max(0.0, float(d["ci_high"].max()))
    pad = 0.12 * (hi - lo) or 1.0
    right.set_xlim(lo - pad, hi + pad)
    right.set_yticks(ys, [level_label(v, f["kind"]) for v in d["level"]])
    right.set_ylim(-0.7, len(d) - 0.3)
    right.set_xlabel(f"difference from {ref}{' in pp' if points else ''}  ({conf:.0%} CI, paired by seed)")
    right.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{100 * x:g}" if points else num(x)))
    _title(
        fig,
        f"{kpi_label(kpi)} — {sweep.manifest['name']}",
        f"{sweep.manifest['replications']} replications per level with common random numbers",
    )
    return fig

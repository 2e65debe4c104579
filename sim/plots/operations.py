"""operations.png: negative sentiment against its alert threshold, KOCs, and which health alerts were on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from sim.config.rules import HealthConfig
from sim.observe.health import ALERTS
from sim.plots import markers as pm
from sim.plots.base import FIGSIZE, _count_locator, _day_axis, _marks, _save

OPS_FIGSIZE = (FIGSIZE[0], 6.6)
NEGATIVE_COLOR, KOC_COLOR, ALERT_COLOR = "#0072B2", "#009E73", "#E69F00"
#: Readable names of the health alerts (``sim.observe.health.ALERTS``).
ALERT_NAMES: dict[str, str] = {
    "alert_weak_growth": "weak monthly growth",
    "alert_activity_swing": "activity swing",
    "alert_low_k": "low K-factor",
    "alert_negative_sentiment": "negative sentiment",
    "alert_churn_risk": "many members at churn risk",
    "alert_low_interaction_growth": "low interaction growth",
}


def alert_name(column: str) -> str:
    return ALERT_NAMES.get(column, column.removeprefix("alert_").replace("_", " "))


def _runs(on: np.ndarray) -> list[tuple[int, int]]:
    """(first index, length) of every run of True."""
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)]


def plot_operations(
    ts: pd.DataFrame,
    title: str,
    path: Path,
    markers: list[dict] | None = None,
    negative_threshold: float | None = None,
) -> Path:
    """Three day panels: negative-sentiment share with the alert threshold, KOCs, health alerts on."""
    threshold = HealthConfig().max_negative_share if negative_threshold is None else float(negative_threshold)
    alerts = [a for a in ALERTS if a in ts]
    marks = pm.prepare(markers, len(ts), axes_in=OPS_FIGSIZE[0] - 2.6)
    ratios = [3.0, 1.7, 0.32 * max(len(alerts), 1)]
    fig, strip, (neg, koc, strip_alerts) = pm.time_figure(3, ratios, marks, OPS_FIGSIZE)
    days = ts.index.to_numpy()
    mark = _marks(len(ts))

    share = ts["negative_share"].to_numpy(dtype=float)
    neg.plot(days, share, color=NEGATIVE_COLOR, linewidth=1.5, **mark)
    neg.fill_between(days, share, 0, color=NEGATIVE_COLOR, alpha=0.12, linewidth=0)
    neg.axhline(threshold, color="#333333", linestyle="--", linewidth=1)
    neg.annotate(
        f"alert above\n{threshold * 100:.2g}%",  # 0.1% and 30% alike
        (1.0, threshold),
        xycoords=neg.get_yaxis_transform(),
        xytext=(4, 0),
        textcoords="offset points",
        va="center",
        fontsize=7.5,
        color="#333333",
    )
    if not np.nanmax(share, initial=0.0) > 0:
        neg.text(
            0.01,
            0.55,
            "no member held negative sentiment in this run",
            transform=neg.transAxes,
            fontsize=9,
            color=NEGATIVE_COLOR,
        )
    top = max(threshold * 1.35, float(np.nanmax(share, initial=0.0)) * 1.15, 0.05)
    neg.set_ylim(0, min(top, 1.0))
    neg.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    neg.set_ylabel("share of members")
    neg.set_title("Members with negative sentiment", loc="left", fontsize=9.5)

    kocs = ts["koc_count"].to_numpy(dtype=float)
    koc.plot(days, kocs, color=KOC_COLOR, linewidth=1.5, drawstyle="steps-mid", **mark)
    koc.set_ylim(0, max(float(np.nanmax(kocs, initial=0.0)) * 1.15, 1.0))
    koc.yaxis.set_major_locator(_count_locator())
    koc.set_ylabel("KOCs")
    koc.set_title("KOCs among members", loc="left", fontsize=9.5)

    for i, a in enumerate(alerts):
        on = ts[a].to_numpy() > 0
        bars = [(float(days[s]) - 0.5, float(n)) for s, n in _runs(on)]
        strip_alerts.broken_barh(bars, (i - 0.36, 0.72), color=ALERT_COLOR, linewidth=0)
        strip_alerts.annotate(
            f"{int(on.sum()):,} d",
            (1.0, i),
            xycoords=strip_alerts.get_yaxis_transform(),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=7.5,
        )
    strip_alerts.set_yticks(range(len(alerts)), [alert_name(a) for a in alerts], fontsize=8)
    strip_alerts.set_ylim(len(alerts) - 0.5, -0.5)
    strip_alerts.grid(False, axis="y")
    strip_alerts.tick_params(axis="y", length=0)
    for i in range(len(alerts) - 1):
        strip_alerts.axhline(i + 0.5, color="#eeeeee", linewidth=0.8, zorder=0)
    strip_alerts.set_title("Health alerts on (bar = day on; right: days on in total)", loc="left", fontsize=9.5)
    if not alerts:
        strip_alerts.text(0.5, 0.5, "no alert columns", transform=strip_alerts.transAxes, ha="center", fontsize=9)

    for ax in (neg, koc):
        ax.tick_params(labelbottom=False)
    _day_axis(strip_alerts, len(ts))
    pm.draw(strip, [neg, koc, strip_alerts], marks)
    pm.bottom_legend(fig, *pm.legend_entries(marks))
    pm.finish(fig, strip, [neg, koc, strip_alerts], "Operations: sentiment, KOCs and health alerts", title)
    return _save(fig, path)

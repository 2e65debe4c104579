"""Shared building blocks of the run plots: figures, axes, number formats, saving.

Figures are ``matplotlib.figure.Figure`` objects on their own Agg canvas, never
made through pyplot, so no global state leaks between runs, threads or processes.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

FIGSIZE = (9.0, 5.0)
DPI = 110


def _num(x: float, _pos: int | None = None) -> str:
    """Tick label with thousands separators; small fractions keep their decimals, never '-0'."""
    if abs(x) < 1e-9:
        return "0"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _style(ax) -> None:
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.yaxis.set_major_formatter(FuncFormatter(_num))


def _new_figure(
    nrows: int = 1,
    height_ratios: list[float] | None = None,
    figsize: tuple[float, float] = FIGSIZE,
    constrained: bool = True,
) -> tuple[Figure, list]:
    """A figure on its own Agg canvas (no pyplot), laid out by constrained layout unless the caller sets
    its margins (``_fixed_margins``)."""
    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    axes = fig.subplots(
        nrows,
        1,
        sharex=nrows > 1,
        squeeze=False,
        gridspec_kw={"height_ratios": height_ratios} if height_ratios else None,
    )[:, 0]
    for ax in axes:
        _style(ax)
    return fig, list(axes)


def _title(fig: Figure, what: str, title: str) -> int:
    """The figure's title, on two lines when long; returns the number of lines."""
    sep = "\n" if len(what) + len(title) > 80 else " — "
    fig.suptitle(f"{what}{sep}{title}" if title else what, fontsize=12)
    return 2 if title and sep == "\n" else 1


def _fixed_margins(fig: Figure, left: float, right: float, bottom: float, top: float) -> None:
    """Margins in inches, for a figure made with ``constrained=False`` whose labels have a known size.

    Constrained layout measures every label first and takes about as long as drawing the
    figure; a figure whose label sizes are known in advance is laid out by these margins.
    """
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height)


def _count_locator() -> MaxNLocator:
    """Integer ticks at 1-2-2.5-5 steps (no 1,500-style steps)."""
    return MaxNLocator(nbins=7, integer=True, steps=[1, 2, 2.5, 5, 10])


def _legend_above(ax) -> None:
    """Legend in a row just above the axes, so it never covers the data."""
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, fontsize=9, frameon=False, borderaxespad=0.2)


def _marks(n_days: int) -> dict:
    """Point markers for short runs (unclipped at the axis ends), where a line alone is hard to read."""
    return {"marker": "o", "clip_on": False} if n_days < 10 else {}


def _day_limits(n_days: int) -> tuple[float, float]:
    """x limits spanning the run (a one-day run is centred, so the limits never coincide)."""
    return (-0.5, 0.5) if n_days < 2 else (0, n_days - 1)


def _day_axis(ax, n_days: int) -> None:
    """x axis in days spanning the run."""
    ax.set_xlim(*_day_limits(n_days))
    if n_days < 10:
        ax.set_xticks(range(n_days))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(_num))
    ax.set_xlabel("day")


def _save(fig: Figure, path: Path) -> Path:
    """Write the PNG without the Software/timestamp metadata.

    The figure is left to the garbage collector: ``fig.clear()`` walked every artist
    again and took a fifth of a run's drawing time.
    """
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    return path

"""Shared building blocks of the run plots: figures, axes, number formats, saving.

Figures are ``matplotlib.figure.Figure`` objects on their own Agg canvas, never
made through pyplot, so no global state leaks between runs, threads or processes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.plots import fonts

FIGSIZE = (9.0, 5.0)
DPI = 110
PAD_IN = 3 / 72  # space on each side of a block (title, a panel with its labels, legend)
#: zlib level of the PNGs: 1 encodes them in about 0.6 of the time of Pillow's default (6), files about 9% larger.
PNG_COMPRESS_LEVEL = 1


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
) -> tuple[Figure, list]:
    """A figure on its own Agg canvas (no pyplot) and without a layout engine: the caller places the
    axes (``_fixed_margins``, ``_stack``). Constrained layout measures every label a few times and
    draws the figure once more before saving; it took about as long as drawing."""
    fonts.use()
    fig = Figure(figsize=figsize, dpi=DPI)
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


def _suptitle(fig: Figure, what: str, title: str) -> Text:
    """The figure's title, on two lines when long, in a smaller font if a line is still wider than the figure."""
    sep = "\n" if len(what) + len(title) > 80 else " — "
    text = fig.suptitle(f"{what}{sep}{title}" if title else what, fontsize=12)
    renderer, room = fig.canvas.get_renderer(), fig.bbox.width - 2 * PAD_IN * fig.dpi
    for _ in range(5):  # glyph widths do not scale exactly with the font size
        width = text.get_window_extent(renderer).width
        if width <= room or text.get_fontsize() <= 6:
            break
        text.set_fontsize(max(6.0, text.get_fontsize() * 0.98 * room / width))
    return text


def _title(fig: Figure, what: str, title: str) -> int:
    """The figure's title, on two lines when long; returns the number of lines."""
    return _suptitle(fig, what, title).get_text().count("\n") + 1


def _fixed_margins(fig: Figure, left: float, right: float, bottom: float, top: float) -> None:
    """Margins in inches, for a one-panel figure whose labels have a known size."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height)


def _count_locator() -> MaxNLocator:
    """Integer ticks at 1-2-2.5-5 steps (no 1,500-style steps)."""
    return MaxNLocator(nbins=7, integer=True, steps=[1, 2, 2.5, 5, 10])


def _legend_above(ax, ncols: int = 2):
    """Legend in rows just above the axes, so it never covers the data."""
    return ax.legend(
        loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=ncols, fontsize=9, frameon=False, borderaxespad=0.2
    )


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
    """Write the PNG without the Software/timestamp metadata, quickly compressed (``PNG_COMPRESS_LEVEL``).

    The figure is left to the garbage collector: ``fig.clear()`` walked every artist
    again and took a fifth of a run's drawing time.
    """
    fig.savefig(path, dpi=DPI, metadata={"Software": None}, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return path


def _tick_labels(axis, renderer) -> list[tuple[float, float, float]]:
    """(value, width, height) in pixels of the tick labels ``axis`` will draw, without drawing it.

    The locator's values within the view limits, formatted by the axis formatter and measured
    as text in the tick labels' font (through a ``Text``, whose size cache the drawing then reuses).
    """
    label = axis.majorTicks[0].label1
    if not label.get_visible():
        return []
    lo, hi = sorted(axis.get_view_interval())
    tol = 1e-9 * max(hi - lo, 1e-300)
    locs = [float(v) for v in axis.get_majorticklocs()]
    probe = Text(fontproperties=label.get_fontproperties())
    probe.set_figure(axis.get_figure(root=True))
    out = []
    for loc, text in zip(locs, axis.get_major_formatter().format_ticks(locs), strict=True):
        if text and lo - tol <= loc <= hi + tol:
            probe.set_text(text)
            bb = probe.get_window_extent(renderer)
            out.append((loc, bb.width, bb.height))
    return out


class _Decor:
    """What an axes draws around its frame, measured once: tick labels, tick and label pads, axis labels."""

    def __init__(self, ax, renderer) -> None:
        self.ax = ax
        pt = ax.get_figure(root=True).dpi / 72
        self.parts = []  # per axis: vertical?, tick labels, depth without the axis label, label pad, label
        if ax.axison:
            for axis, vertical in ((ax.yaxis, True), (ax.xaxis, False)):
                tick = axis.majorTicks[0]
                marks = tick.get_tick_padding() * pt if tick.tick1line.get_visible() else 0.0
                labels = _tick_labels(axis, renderer)
                depth = marks
                if labels:
                    across = max(w if vertical else h for _, w, h in labels)
                    depth = (tick.get_pad() + tick.get_tick_padding()) * pt + across
                label = axis.label if axis.label.get_visible() and axis.label.get_text() else None
                self.parts.append((vertical, labels, depth, axis.labelpad * pt, label))

    def reach(self, renderer) -> np.ndarray:
        """How far (pixels: left, right, top, bottom) the labels, titles, texts and legend of the
        axes reach beyond its frame at its current position."""
        ax = self.ax
        box = ax.bbox
        reach = np.zeros(4)

        def extend(bb) -> None:
            np.maximum(reach, [box.x0 - bb.x0, bb.x1 - box.x1, bb.y1 - box.y1, box.y0 - bb.y0], out=reach)

        for vertical, labels, depth, labelpad, label in self.parts:
            lo, hi = ax.get_ylim() if vertical else ax.get_xlim()  # axes fraction 0 to 1, also when inverted
            span = box.height if vertical else box.width
            start, end = (3, 2) if vertical else (0, 1)  # sides at the axis' start and end
            for value, w, h in labels:  # labels are centred on their ticks: the end ones stick out
                at = (value - lo) / (hi - lo) * span
                along = h if vertical else w
                reach[start] = max(reach[start], along / 2 - at)
                reach[end] = max(reach[end], at + along / 2 - span)
            if label is not None:
                bb = label.get_window_extent(renderer)
                depth += labelpad + (bb.width if vertical else bb.height)
                if vertical:  # centred along the axis: may be longer than the panel is high
                    reach[2], reach[3] = max(reach[2], bb.y1 - box.y1), max(reach[3], box.y0 - bb.y0)
                else:
                    reach[0], reach[1] = max(reach[0], box.x0 - bb.x0), max(reach[1], bb.x1 - box.x1)
            side = 0 if vertical else 3
            reach[side] = max(reach[side], depth)
        texts = [c for c in ax.get_children() if isinstance(c, Text)]  # titles, texts, annotations
        legend = ax.get_legend()
        for artist in texts + ([legend] if legend is not None else []):
            if artist.get_visible() and (not isinstance(artist, Text) or artist.get_text()):
                extend(artist.get_window_extent(renderer))
        return reach


def _stack(fig: Figure, axes: list, heights: list[tuple[float, bool]], title: Text | None) -> None:
    """Place ``axes`` top to bottom, one left edge for all, by margins measured from their labels.

    ``heights`` gives each axes a height in inches (True) or a share of the height left (False).
    Tick labels, axis labels, titles, texts and legends are measured as text, without drawing
    the figure. Their sizes do not depend on where the axes go, but how far the labels at an
    axis end, or texts written in data units, stick out does: a second pass checks that.
    """
    renderer = fig.canvas.get_renderer()
    width, height = fig.get_size_inches()
    dpi = fig.dpi
    top = PAD_IN
    if title is not None:
        title.set_y(1 - PAD_IN / height)
        top += title.get_window_extent(renderer).height / dpi + PAD_IN
    bottom = PAD_IN
    for legend in fig.legends:
        bottom = max(bottom, legend.get_window_extent(renderer).y1 / dpi + PAD_IN)
    shares = sum(h for h, fixed in heights if not fixed) or 1.0
    decor = [_Decor(ax, renderer) for ax in axes]
    placed = None
    for _ in range(4):
        reach = np.array([d.reach(renderer) for d in decor]) / dpi  # left, right, top, bottom
        left = 2 * PAD_IN + reach[:, 0].max()
        right = 2 * PAD_IN + reach[:, 1].max()
        free = height - top - bottom - reach[:, 2:].sum() - 2 * PAD_IN * len(axes)
        free -= sum(h for h, fixed in heights if fixed)
        free = max(free, 0.5)
        y = height - top
        boxes = []
        for (h, fixed), (_, _, above, below) in zip(heights, reach, strict=True):
            h_in = h if fixed else free * h / shares
            y -= PAD_IN + above + h_in
            boxes.append([left / width, y / height, (width - left - right) / width, h_in / height])
            y -= below + PAD_IN
        boxes = np.array(boxes)
        for ax, b in zip(axes, boxes, strict=True):
            ax.set_position(b)
        if placed is not None and np.abs(boxes - placed).max() * dpi * max(width, height) < 0.5:
            break
        placed = boxes

"""Checks of drawn figures for the tests: legends that cover nothing, labels that do not overprint, and figures
caught as they are saved."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import Collection, PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Bbox

TOLERANCE_PX = 1.0


def _overlap(a: Bbox, b: Bbox) -> Bbox | None:
    """The intersection of two boxes shrunk by the tolerance, or None if they only touch."""
    box = Bbox.intersection(a, b)
    if box is None or box.width <= 2 * TOLERANCE_PX or box.height <= 2 * TOLERANCE_PX:
        return None
    return Bbox.from_extents(box.x0 + TOLERANCE_PX, box.y0 + TOLERANCE_PX, box.x1 - TOLERANCE_PX, box.y1 - TOLERANCE_PX)


def _points_in(points: np.ndarray, box: Bbox) -> bool:
    points = points[np.isfinite(points).all(axis=1)]
    inside = (points[:, 0] > box.x0) & (points[:, 0] < box.x1) & (points[:, 1] > box.y0) & (points[:, 1] < box.y1)
    return bool(inside.any())


def _line_hits(line: Line2D, box: Bbox) -> bool:
    xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
    if len(xy) == 0:
        return False
    if line.get_linestyle() in ("None", "none", "", " ") or len(xy) == 1:
        return _points_in(xy, box.expanded(1.0, 1.0).padded(line.get_markersize() / 2))
    finite = np.isfinite(xy).all(axis=1)
    for part in np.split(xy, np.flatnonzero(~finite)):  # a gap (NaN) breaks the line
        part = part[np.isfinite(part).all(axis=1)]
        if len(part) == 1 and _points_in(part, box):
            return True
        if len(part) > 1 and Path(part).intersects_bbox(box, filled=False):
            return True
    return False


def _collection_hits(coll: Collection, renderer, box: Bbox) -> bool:
    if isinstance(coll, PathCollection) and len(coll.get_offsets()):  # scatter: the points
        size = float(np.sqrt(np.max(coll.get_sizes(), initial=1.0)))
        points = coll.get_offset_transform().transform(np.asarray(coll.get_offsets(), dtype=float))
        return _points_in(points, box.padded(size / 2))
    transform = coll.get_transform()
    filled = len(coll.get_facecolor()) > 0 and np.any(np.asarray(coll.get_facecolor())[:, 3] > 0)
    for path in coll.get_paths():
        if len(path.vertices) and transform.transform_path(path).intersects_bbox(box, filled=bool(filled)):
            return True
    return False


def data_hits(ax, renderer, box: Bbox) -> list[str]:
    """What of the data of ``ax`` is drawn inside ``box`` (display pixels): lines, bars, areas, points, texts."""
    found = []
    for line in ax.lines:
        if line.get_visible() and _line_hits(line, box):
            found.append(f"line {line.get_label()!r}")
    for patch in ax.patches:
        if patch.get_visible() and _overlap(patch.get_window_extent(renderer), box) is not None:
            found.append(f"patch {patch.get_label()!r}")
    for coll in ax.collections:
        if coll.get_visible() and _collection_hits(coll, renderer, box):
            found.append(f"{type(coll).__name__} {coll.get_label()!r}")
    for image in ax.images:
        if _overlap(image.get_window_extent(renderer), box) is not None:
            found.append("image")
    for text in ax.texts:
        if text.get_visible() and text.get_text() and _overlap(text.get_window_extent(renderer), box) is not None:
            found.append(f"text {text.get_text()!r}")
    return found


def _labels(fig: Figure, drawn: bool = False) -> list[Text]:
    """Titles, axis labels and tick labels of every axes, and the figure's own texts; with ``drawn``, tick
    labels only at ticks inside the view limits (the ones the figure shows)."""
    out = list(fig.texts) + ([fig._suptitle] if fig._suptitle is not None else [])
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        out += [ax.title, ax._left_title, ax._right_title]
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                out.append(axis.label)
                if not drawn:
                    out += axis.get_ticklabels(minor=False) + axis.get_ticklabels(minor=True)
                    continue
                lo, hi = sorted(axis.get_view_interval())
                tol = 1e-9 * max(hi - lo, 1e-300)
                for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                    if lo - tol <= tick.get_loc() <= hi + tol:
                        out += [tick.label1, tick.label2]
    unique = {id(t): t for t in out}  # a suptitle is also one of the figure's texts
    return [t for t in unique.values() if t.get_visible() and t.get_text()]


def legend_problems(fig: Figure, inside_ok: bool = False) -> list[str]:
    """Every way a legend of ``fig`` gets in the way: it covers an axes' data or a label, or leaves the figure.

    A legend outside every axes passes when it also covers no title, axis or tick label. A legend
    inside an axes passes only where none of that axes' lines, bars, areas, points or texts are drawn,
    and only with ``inside_ok``: otherwise it is a problem in itself, as other data would run under it.
    """
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()  # lays out the figure (constrained layout) as saving does
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    problems = []
    for legend in legends:
        box = legend.get_window_extent(renderer)
        name = "/".join(t.get_text() for t in legend.get_texts()[:2]) + ("/…" if len(legend.get_texts()) > 2 else "")
        edge = fig.bbox
        if box.x0 < edge.x0 - TOLERANCE_PX or box.x1 > edge.x1 + TOLERANCE_PX or box.y0 < edge.y0 - TOLERANCE_PX:
            problems.append(f"legend [{name}] is cut at the figure's edge ({box.bounds} in {edge.bounds})")
        if box.y1 > edge.y1 + TOLERANCE_PX:
            problems.append(f"legend [{name}] is cut at the figure's top ({box.bounds} in {edge.bounds})")
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            inside = _overlap(box, ax.bbox)
            if inside is not None:
                hits = data_hits(ax, renderer, inside)
                if hits:
                    problems.append(f"legend [{name}] covers {', '.join(hits[:4])}")
                elif not inside_ok:
                    problems.append(f"legend [{name}] sits inside the axes {ax.bbox.bounds}: data may run under it")
        for text in _labels(fig):
            if _overlap(box, text.get_window_extent(renderer)) is not None:
                problems.append(f"legend [{name}] covers the label {text.get_text()!r}")
    return problems


def _outline(text: Text, renderer) -> np.ndarray:
    """The four corners (display pixels) of the box a label's text is drawn in, turned by its rotation.

    The rotated box is centred in the label's window extent (its upright bounding box); its size is the
    text's measured upright, so a slanted label is not mistaken for the wider upright box around it.
    """
    probe = Text(text=text.get_text(), fontproperties=text.get_fontproperties())
    probe.set_figure(text.get_figure(root=True))
    upright = probe.get_window_extent(renderer)
    centre = np.array(text.get_window_extent(renderer).corners()).mean(axis=0)
    angle = np.deg2rad(text.get_rotation())
    along = np.array([np.cos(angle), np.sin(angle)]) * upright.width / 2
    across = np.array([-np.sin(angle), np.cos(angle)]) * upright.height / 2
    return np.array(
        [centre - along - across, centre + along - across, centre + along + across, centre - along + across]
    )


def _outlines_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Two convex outlines overlap by more than the tolerance: no edge's normal separates them."""
    for poly in (a, b):
        for i in range(len(poly)):
            edge = poly[(i + 1) % len(poly)] - poly[i]
            normal = np.array([-edge[1], edge[0]]) / (np.hypot(*edge) or 1.0)
            pa, pb = a @ normal, b @ normal
            if min(pa.max(), pb.max()) - max(pa.min(), pb.min()) <= 2 * TOLERANCE_PX:
                return False
    return True


def label_problems(fig: Figure) -> list[str]:
    """Labels that overprint one another (titles, axis and tick labels, figure texts) or leave the figure.

    Each label is taken as drawn: a rotated tick label by its rotated box, not the upright one around it.
    """
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = _labels(fig, drawn=True)
    outlines = [_outline(t, renderer) for t in labels]
    problems = []
    edge = fig.bbox
    for text, outline in zip(labels, outlines, strict=True):
        x, y = outline[:, 0], outline[:, 1]
        if x.min() < edge.x0 - TOLERANCE_PX or x.max() > edge.x1 + TOLERANCE_PX or y.min() < edge.y0 - TOLERANCE_PX:
            problems.append(f"label {text.get_text()!r} is cut at the figure's edge")
        elif y.max() > edge.y1 + TOLERANCE_PX:
            problems.append(f"label {text.get_text()!r} is cut at the figure's top")
    for (i, a), (j, b) in itertools.combinations(enumerate(outlines), 2):
        if _outlines_overlap(a, b):
            problems.append(f"labels {labels[i].get_text()!r} and {labels[j].get_text()!r} overprint")
    return problems


@contextlib.contextmanager
def saved_figures() -> Iterator[list[Figure]]:
    """Collect every figure saved (``Figure.savefig``) inside the block."""
    saved: list[Figure] = []
    original = Figure.savefig

    def savefig(self, *args, **kwargs):
        saved.append(self)
        return original(self, *args, **kwargs)

    Figure.savefig = savefig
    try:
        yield saved
    finally:
        Figure.savefig = original

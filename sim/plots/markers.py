"""Dated markers on the time-axis plots: crises, promotions, competitor entries, rule firings.

A figure with markers gets a thin strip above its panels. Crises, promotions and
competitor entries are written there as short labels on stems, stacked on up to
three levels so that no label overlaps another or crosses a stem; when the labels
do not fit they become numbers explained in the legend. Rule firings, which can
be numerous, are drawn as small glyphs on one row per rule at the top of the
strip and listed once per rule in the legend with their count. Every marker is
also a thin vertical line through the data panels (rule firings lighter).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerBase
from matplotlib.lines import Line2D

from sim.plots.base import DPI, FIGSIZE, _day_limits, _new_figure, _stack, _suptitle
from sim.plots.fonts import truncate, width_units

KINDS = ("crisis", "promotion", "competitor", "rule")
KIND_NAMES = {"crisis": "crisis", "promotion": "promotion", "competitor": "competitor entry", "rule": "rule fired"}
_WHEN = {"crisis": "crisis start", "promotion": "promotion start"}
#: Line style per marker kind (Okabe–Ito colours; the line style tells kinds apart without colour too).
STYLES: dict[str, dict] = {
    "crisis": {"color": "#D55E00", "linestyle": "-", "linewidth": 1.4},
    "promotion": {"color": "#CC79A7", "linestyle": (0, (5, 2)), "linewidth": 1.4},
    "competitor": {"color": "#000000", "linestyle": "-.", "linewidth": 1.2},
    "rule": {"color": "#808080", "linestyle": ":", "linewidth": 0.9},
}
_OTHER = {"color": "#555555", "linestyle": (0, (1, 1)), "linewidth": 1.2}  # kinds added by extensions
RULE_GLYPHS = ("v", "s", "D", "^", "o", "P", "X", "<", ">")
LABEL_FS = 7.5
LANE_IN = 0.15  # strip height per label level or rule row, inches
MAX_LEVELS = 3
MAX_RULE_ROWS = 5  # more rules than this share one row (told apart by glyph)
MAX_CHARS = 26  # label width, in mean Latin characters (a Chinese character counts 1.7)
_CHAR_PX = 0.62 * LABEL_FS * DPI / 72  # generous mean glyph width
_OFFSET_PT = 2.5


def style(kind: str) -> dict:
    return STYLES.get(kind, _OTHER)


@dataclass
class _Label:
    day: float
    kind: str
    text: str
    level: int = 0
    lo: float = 0.0  # text extent, days
    hi: float = 0.0


@dataclass
class Marks:
    """Markers of one run laid out for a figure ``axes_in`` inches wide (the data area)."""

    labels: list[_Label]
    rules: dict[str, list[int]]  # rule name -> days it fired, in order of first firing
    key: list[tuple[str, str, list[int]]] = field(default_factory=list)  # numbered labels: kind, label, days
    levels: int = 0

    @property
    def rule_rows(self) -> int:
        return 0 if not self.rules else len(self.rules) if len(self.rules) <= MAX_RULE_ROWS else 1

    @property
    def lanes(self) -> int:
        return self.levels + self.rule_rows


def _fits(labels: list[_Label], levels: int) -> bool:
    """Place labels by day, each on the highest free level; False if one finds none."""

    def clash(a: _Label, b: _Label) -> bool:
        if a.level == b.level:  # texts overlap, or a stem ends inside the other's text
            return a.lo < b.hi and b.lo < a.hi or a.lo < b.day < a.hi or b.lo < a.day < b.hi
        low, high = (a, b) if a.level < b.level else (b, a)
        return low.lo < high.day < low.hi  # the higher label's stem crosses the lower text

    placed: list[_Label] = []
    for lab in labels:
        for level in reversed(range(levels)):
            lab.level = level
            if not any(clash(lab, p) for p in placed):
                break
        else:
            return False
        placed.append(lab)
    return True


def prepare(markers: list[dict] | None, n_days: int, axes_in: float = FIGSIZE[0] - 1.1) -> Marks | None:
    """Lay out the markers falling within the run; None when there are none."""
    lo_x, hi_x = _day_limits(n_days)
    ok = [m for m in markers or [] if lo_x <= float(m.get("day", -1)) <= max(hi_x, 0)]
    if not ok:
        return None
    ok.sort(key=lambda m: float(m["day"]))
    rules: dict[str, list[int]] = {}
    events = []
    for m in ok:
        if m.get("kind") == "rule":
            rules.setdefault(str(m.get("label", "rule")), []).append(int(m["day"]))
        else:
            events.append((float(m["day"]), str(m.get("kind", "event")), str(m.get("label", ""))))
    days_per_px = (hi_x - lo_x) / (axes_in * DPI)
    offset = _OFFSET_PT * DPI / 72 * days_per_px

    def labels(texts: list[str]) -> list[_Label]:
        out = []
        for (day, kind, _), text in zip(events, texts, strict=True):
            width = (width_units(text) * _CHAR_PX + 4) * days_per_px
            lab = _Label(day, kind, text)
            if day + offset + width <= hi_x or day - offset - width < lo_x:
                lab.lo, lab.hi = day + offset, day + offset + width
            else:  # near the right end: text to the left of its stem
                lab.lo, lab.hi = day - offset - width, day - offset
            out.append(lab)
        return out

    full = [truncate(t, MAX_CHARS) for _, _, t in events]
    ids: dict[tuple[str, str], int] = {}
    for _, kind, text in events:
        ids.setdefault((kind, text), len(ids) + 1)
    numbers = [str(ids[(k, t)]) for _, k, t in events]
    key = [(k, t, [int(d) for d, kk, tt in events if (kk, tt) == (k, t)]) for k, t in ids]
    for texts, numbered in ((full, False), (numbers, True)):
        for levels in range(1, MAX_LEVELS + 1):
            labs = labels(texts)
            if not events or _fits(labs, levels):
                return Marks(labs, rules, key if numbered else [], levels if events else 0)
    labs = labels(numbers)  # too crowded even numbered: cycle the levels, some numbers may touch
    for i, lab in enumerate(labs):
        lab.level = MAX_LEVELS - 1 - i % MAX_LEVELS
    return Marks(labs, rules, key, MAX_LEVELS)


def time_figure(
    nrows: int, height_ratios: list[float] | None, marks: Marks | None, figsize: tuple[float, float] = FIGSIZE
) -> tuple[Figure, object | None, list]:
    """A figure of ``nrows`` day panels, with the marker strip on top when there are markers.

    The panels are placed by ``finish`` once everything is drawn on them.
    """
    ratios = height_ratios or [1.0] * nrows
    if marks is None:
        fig, axes = _new_figure(nrows, ratios, figsize)
        return fig, None, axes
    # The strip's entry among the height ratios is its height in inches, which ``finish`` reads back.
    fig, (strip, *axes) = _new_figure(nrows + 1, [strip_height(marks), *ratios], figsize)
    strip.set_axis_off()
    strip.set_ylim(0, marks.lanes)
    return fig, strip, axes


def strip_height(marks: Marks) -> float:
    """Height of the marker strip, inches."""
    return marks.lanes * LANE_IN + 0.05


def finish(fig: Figure, strip, axes: list, what: str, title: str) -> None:
    """Title the figure, then place the strip (its height in inches) and the panels (their height
    ratios) by margins measured from their labels, titles and legends."""
    ratios = axes[0].get_subplotspec().get_gridspec().get_height_ratios()
    heights = [(r, False) for r in ratios[-len(axes) :]]
    if strip is not None:
        heights.insert(0, (ratios[0], True))
    _stack(fig, ([strip] if strip is not None else []) + list(axes), heights, _suptitle(fig, what, title))


def _days_text(days: list[int]) -> str:
    if len(days) == 1:
        return f"day {days[0]:,}"
    if len(days) <= 3:
        return "days " + ", ".join(f"{d:,}" for d in days)
    return f"{len(days)}×, days {days[0]:,}–{days[-1]:,}"


def draw(strip, axes: list, marks: Marks | None) -> None:
    """Vertical lines through ``axes`` and the labelled strip."""
    if marks is None:
        return
    n_rules = sum(len(d) for d in marks.rules.values())
    # Black at low alpha: light grey on white, yet still visible over coloured areas.
    light = {**STYLES["rule"], "color": "#000000", "alpha": 0.4 if n_rules <= 10 else 0.25, "linewidth": 0.8}
    for ax in axes:
        for lab in marks.labels:
            ax.axvline(lab.day, **style(lab.kind), alpha=0.9, zorder=1.6)
        for days in marks.rules.values():
            for d in days:
                ax.axvline(d, **light, zorder=1.5)
    for lab in marks.labels:
        s = style(lab.kind)
        y = lab.level + 0.5
        strip.plot([lab.day, lab.day], [0, y], color=s["color"], linewidth=1.0, solid_capstyle="butt", clip_on=False)
        right = lab.lo < lab.day
        strip.annotate(
            lab.text,
            (lab.day, y),
            xytext=(-_OFFSET_PT if right else _OFFSET_PT, 0),
            textcoords="offset points",
            ha="right" if right else "left",
            va="center",
            fontsize=LABEL_FS,
            fontweight="bold" if marks.key else "normal",
            color="#333333" if lab.kind == "competitor" else s["color"],
            annotation_clip=False,
        )
    rows = marks.rule_rows
    if rows:
        strip.text(
            -0.005,
            marks.levels + rows / 2,
            "rule\nfirings" if rows > 1 else "rule firings",
            transform=strip.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=LABEL_FS,
            color="#666666",
            linespacing=0.9,
        )
    for i, days in enumerate(marks.rules.values()):
        y = marks.levels + (rows - 1 - i if rows > 1 else 0) + 0.5
        glyph = RULE_GLYPHS[i % len(RULE_GLYPHS)]
        strip.plot(days, [y] * len(days), linestyle="none", marker=glyph, markersize=4, color="#666666", clip_on=False)


class _MarkerHandle(Line2D):
    """A legend handle drawn as a short vertical line (with the rule's glyph on it), like the markers."""


class _VerticalHandler(HandlerBase):
    def create_artists(self, legend, orig_handle, xdescent, ydescent, width, height, fontsize, trans):
        x = width / 2 - xdescent
        line = Line2D([x, x], [-ydescent - 0.25 * height, -ydescent + 1.25 * height])
        line.update_from(orig_handle)
        line.set_marker("None")
        out = [line]
        if orig_handle.get_marker() not in (None, "None", "none", ""):
            dot = Line2D([x], [-ydescent + height / 2], linestyle="none")
            dot.update_from(orig_handle)
            dot.set_linestyle("none")
            out.append(dot)
        for artist in out:
            artist.set_transform(trans)
        return out


def _handle(kind: str, **extra) -> _MarkerHandle:
    return _MarkerHandle([], [], **{**style(kind), **extra})


def legend_entries(marks: Marks | None) -> tuple[list, list[str]]:
    """Legend handles and texts for the marker kinds present (one entry per rule, with its count)."""
    if marks is None:
        return [], []
    handles, texts = [], []
    brief = len(marks.key) + len(marks.rules) > 10  # many entries: no days, to keep the legend short
    if marks.key:
        for i, (kind, text, days) in enumerate(marks.key, start=1):
            handles.append(_handle(kind))
            name = KIND_NAMES.get(kind, kind)
            what = name if text.lower() in (kind, name) else f"{name}: {text}"
            texts.append(f"{i}  {what}" + ("" if brief else f" ({_days_text(days)})"))
    else:
        present = {lab.kind for lab in marks.labels}
        for kind in [k for k in KINDS if k in present] + sorted(present - set(KINDS)):
            handles.append(_handle(kind))
            texts.append(_WHEN.get(kind, KIND_NAMES.get(kind, kind)))
    for i, (name, days) in enumerate(marks.rules.items()):
        glyph = RULE_GLYPHS[i % len(RULE_GLYPHS)]
        handles.append(_handle("rule", marker=glyph, markersize=4, color="#666666"))
        texts.append(f"rule fired: {name} ({f'{len(days)}×' if brief else _days_text(days)})")
    return handles, texts


def bottom_legend(fig: Figure, handles: list, texts: list[str]) -> None:
    """One legend at the foot of the figure (off the data), as many columns as fit; nothing when empty."""
    if not handles:
        return
    fontsize = 9.0 if len(texts) <= 8 else 8.0 if len(texts) <= 14 else 7.5

    def width_in(ncols: int) -> float:  # text plus handle and gap per column, filled as matplotlib does
        rows, large = divmod(len(texts), ncols)
        sizes = [rows + 1] * large + [rows] * (ncols - large)
        starts = [sum(sizes[:i]) for i in range(ncols)]
        cols = [texts[a : a + n] for a, n in zip(starts, sizes, strict=True) if n]
        return sum(max(map(width_units, c)) * 0.53 * fontsize / 72 + 0.5 for c in cols)

    ncols = next((n for n in (3, 2) if width_in(n) <= fig.get_figwidth() - 0.3), 1)
    fig.legend(
        handles,
        texts,
        loc="lower center",
        ncols=min(ncols, len(handles)),
        fontsize=fontsize,
        frameon=False,
        handler_map={_MarkerHandle: _VerticalHandler()},
    )

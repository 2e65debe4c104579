"""Chinese text in every figure and page: matplotlib's DejaVu Sans for Latin text, then a Chinese font.

Matplotlib draws each character in the first font of ``font.family`` that has it. DejaVu Sans
has no Chinese characters, so names such as 质量危机 or 双十一 came out as empty boxes. ``use()``
adds a Chinese font after the families already there: Noto Sans SC (SIL Open Font License),
which the ``pylopdf-fonts-zh-cn`` wheel installs with this package, or else a Chinese system
font. It registers the file once and changes nothing else, so Latin text and digits look as
before. Every figure calls it when it is created.
"""

from __future__ import annotations

import threading
import unicodedata
import warnings

import matplotlib
from matplotlib import font_manager

from sim.fontfile import bundled_font

#: The bundled font's family, then Chinese system fonts that serve as well, in order of preference.
CJK_FAMILIES = (
    "Noto Sans SC",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
)

MISSING = (
    "no Chinese font found: Chinese text in figures shows as empty boxes. Install the package's "
    "dependencies again (pip install -e .), which bring pylopdf-fonts-zh-cn, or a system font "
    "(Debian/Ubuntu: apt-get install fonts-noto-cjk)"
)

_lock = threading.Lock()
_found: list[str | None] = []  # the family chosen, once looked up


def cjk_family() -> str | None:
    """The Chinese font family figures fall back to (the bundled file registered once); None if there is none."""
    with _lock:
        if not _found:
            path = bundled_font()
            if path is not None:
                font_manager.fontManager.addfont(str(path))
            known = {f.name for f in font_manager.fontManager.ttflist}
            _found.append(next((f for f in CJK_FAMILIES if f in known), None))
            if _found[0] is None:
                warnings.warn(MISSING, stacklevel=3)
        return _found[0]


def use() -> None:
    """Append the Chinese family to matplotlib's ``font.family`` unless it is there already."""
    family = cjk_family()
    if family is None:
        return
    families = matplotlib.rcParams["font.family"]
    if family not in families:
        with _lock:
            matplotlib.rcParams["font.family"] = [*matplotlib.rcParams["font.family"], family]


def width_units(text: str) -> float:
    """Width of ``text`` in mean Latin characters: a Chinese (wide) character counts 1.7."""
    return sum(1.7 if unicodedata.east_asian_width(c) in "WF" else 1.0 for c in text)


def truncate(text: str, units: float) -> str:
    """``text`` cut to at most ``units`` (``width_units``), ending in '…' when cut."""
    if width_units(text) <= units:
        return text
    out = ""
    for c in text:
        if width_units(out + c) > units - 1:
            break
        out += c
    return out + "…"

"""What the HTML reports share: the page style and figures embedded as base64, so a page is one file.

Used by a run's report.html and by the comparison's; the fonts fall back to CJK faces
because scenario descriptions, event names and rule names are often Chinese.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import unicodedata
from pathlib import Path

#: The family of the Chinese glyphs a page embeds (``write_page``): the page's own characters of the
#: bundled Noto Sans SC, so Chinese shows on a computer with no Chinese font.
EMBEDDED_CJK = "community-sim CJK"
#: CSS font families for Chinese text: the embedded glyphs, then the fonts each system has (macOS, Windows,
#: Linux).
CSS_CJK_FAMILIES = (
    f'"{EMBEDDED_CJK}", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans SC", "Noto Sans CJK SC", '
    '"Source Han Sans SC", "WenQuanYi Micro Hei"'
)
#: CSS ``font-family`` of the HTML report: the system UI fonts, then the Chinese ones.
CSS_FONT_FAMILY = f'-apple-system, "Segoe UI", Helvetica, Arial, {CSS_CJK_FAMILIES}, sans-serif'
FONTS = CSS_FONT_FAMILY

CSS = f"""
body{{font-family:{FONTS};max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}}
h1{{font-size:1.6em;margin-bottom:.2em}} h2{{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}}
.summary li{{margin:.4em 0;font-size:1.05em}} table{{border-collapse:collapse;font-size:.88em;margin:.6em 0}}
th,td{{border:1px solid #ddd;padding:4px 8px;text-align:right}} th:first-child,td:first-child{{text-align:left}}
th{{background:#f4f4f4}} .muted{{color:#666;font-size:.9em}} img{{max-width:100%;border:1px solid #eee;margin:.5em 0}}
.good{{color:#0a6e4f}} .bad{{color:#b34700}} code{{background:#f4f4f4;padding:0 3px}}
"""


def img(path: Path, alt: str) -> str:
    """A ``<figure>`` holding the PNG at ``path`` inline (a data: URI), so the page needs no other file."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def wide_characters(text: str) -> str:
    """The distinct wide characters of ``text`` (Chinese, Japanese, Korean, full-width punctuation), sorted."""
    if text.isascii():
        return ""
    return "".join(sorted(c for c in set(text) if unicodedata.east_asian_width(c) in ("W", "F")))


@functools.lru_cache(maxsize=16)
def _face(chars: str) -> str:
    return _subset_face(chars)


def cjk_font_face(text: str) -> str:
    """A CSS ``@font-face`` of ``EMBEDDED_CJK`` holding the bundled Chinese font's glyphs for the wide characters
    of ``text`` (a few kB as WOFF), or "" when it has none or the font is not installed.

    A page shared with someone whose computer has no Chinese font would otherwise show empty boxes.
    """
    chars = wide_characters(text)
    return _face(chars) if chars else ""


def _subset_face(chars: str) -> str:
    """``cjk_font_face`` of the characters ``chars`` (a second page with the same ones reuses it)."""
    from sim.fontfile import bundled_font

    path = bundled_font()
    if path is None:
        return ""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"  # zlib; WOFF2 would need brotli
    options.layout_features = []  # horizontal text needs no substitutions; their closure is most of the cost
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]  # layout and vertical text
    data = io.BytesIO()
    with subset.load_font(str(path), options) as font:  # read lazily from the file: closed when done
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        subset.save_font(font, data, options)
    uri = base64.b64encode(data.getvalue()).decode("ascii")
    return f'@font-face{{font-family:"{EMBEDDED_CJK}";src:url(data:font/woff;base64,{uri}) format("woff")}}'


def with_cjk_font(page: str) -> str:
    """The HTML ``page`` with the Chinese glyphs it uses embedded in its head (``cjk_font_face``)."""
    face = cjk_font_face(page)
    return page.replace("</head>", f"<style>{face}</style></head>", 1) if face else page


def write_page(path: Path, page: str) -> Path:
    """Write the HTML ``page`` to ``path``, with the Chinese glyphs it uses embedded (``with_cjk_font``); ``path``
    lies in a directory being written, which is renamed into place when complete."""
    path.write_text(with_cjk_font(page), encoding="utf-8")
    return path

"""HTML pages carry the Chinese glyphs they use, so Chinese shows on a computer without a Chinese font."""

from __future__ import annotations

import base64
import io
import re

import pytest
from fontTools.ttLib import TTFont

from sim.plots.fonts import bundled_font
from sim.run.html import CSS_FONT_FAMILY, EMBEDDED_CJK, cjk_font_face, wide_characters, write_page

needs_font = pytest.mark.skipif(bundled_font() is None, reason="the bundled Chinese font is not installed")


def _embedded(face: str) -> set[int]:
    data = re.search(r"base64,([A-Za-z0-9+/=]+)\)", face).group(1)
    return set(TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap())


def test_only_wide_characters_are_picked_once_each():
    assert wide_characters("plain ASCII, 100% (ok)") == ""
    assert wide_characters("双十一 sale，双十一！") == "".join(sorted("双十一，！"))


@needs_font
def test_the_face_holds_exactly_the_pages_chinese_characters():
    assert cjk_font_face("Baseline: no Chinese here") == ""
    face = cjk_font_face("<h1>双十一社群</h1><p>拼团、裂变 and referral</p>")
    assert f'font-family:"{EMBEDDED_CJK}"' in face
    cmap = _embedded(face)
    assert {ord(c) for c in "双十一社群拼团、裂变"} <= cmap
    assert not {ord(c) for c in "质量危机"} & cmap  # not on the page: not embedded
    assert len(face) < 60_000  # a few kB, not the 8 MB font


@needs_font
def test_a_written_page_embeds_its_glyphs_and_lists_the_face_before_system_fonts(tmp_path):
    page = "<!DOCTYPE html><html><head><style>body{}</style></head><body>质量危机</body></html>"
    path = write_page(tmp_path / "p.html", page)
    text = path.read_text(encoding="utf-8")
    assert text.count("@font-face") == 1 and text.index("@font-face") < text.index("</head>")
    assert {ord(c) for c in "质量危机"} <= _embedded(text)
    assert CSS_FONT_FAMILY.index(EMBEDDED_CJK) < CSS_FONT_FAMILY.index("PingFang SC")
    plain = write_page(tmp_path / "q.html", page.replace("质量危机", "quality crisis")).read_text(encoding="utf-8")
    assert "@font-face" not in plain


@needs_font
def test_the_font_file_is_closed_after_a_face_is_made(monkeypatch):
    from fontTools import subset

    from sim.run.html import _subset_face

    opened = []

    def load_font(*args, **kwargs):
        opened.append(real(*args, **kwargs))
        return opened[-1]

    real = subset.load_font
    monkeypatch.setattr(subset, "load_font", load_font)
    assert _subset_face("闭")  # not cached: a fresh subset
    assert len(opened) == 1
    reader = opened[0].reader  # TTFont.close() drops the reader after closing its file
    assert reader is None or reader.file.closed

"""What the HTML reports share: the page style and figures embedded as base64, so a page is one file.

Used by a run's report.html and by the comparison's; the fonts fall back to CJK faces
because scenario descriptions, event names and rule names are often Chinese.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

#: CSS font families for Chinese text, one or more of which each system has (macOS, Windows, Linux).
CSS_CJK_FAMILIES = (
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans SC", "Noto Sans CJK SC", '
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

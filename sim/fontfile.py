"""Where the bundled Chinese font file is, without importing matplotlib (the HTML pages need only the file)."""

from __future__ import annotations

from pathlib import Path


def bundled_font() -> Path | None:
    """The Noto Sans SC file of the ``pylopdf-fonts-zh-cn`` package, if installed."""
    try:
        from pylopdf_fonts_zh_cn import sans_path
    except ImportError:
        return None
    path = Path(sans_path())
    return path if path.is_file() else None

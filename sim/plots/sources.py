"""Join sources as every figure shows them: one readable name and one colour each.

The colours come from the Okabe–Ito and Paul Tol colour-blind-safe palettes, chosen so
that any two stay apart (CIELAB distance above 20) for normal vision and with red- or
green-blindness, simulated (``tests/test_figures.py`` checks it).
"""

from __future__ import annotations

#: One colour per join source (``sim.mechanisms.registry.JOIN_SOURCES``), in the order areas stack.
SOURCE_COLORS: dict[str, str] = {
    "initial": "#BBBBBB",  # grey: the members the run starts with
    "paid": "#0072B2",  # blue
    "organic": "#009E73",  # bluish green
    "referral": "#E69F00",  # orange
    "winback": "#DDCC77",  # sand
    "group_buy": "#882255",  # wine: far from paid's blue
    "offline": "#332288",  # indigo
    "cohort": "#661100",  # dark brown: joins given as data (a transaction log's first purchases)
}
#: Readable names of the join sources, for legends and tables.
SOURCE_NAMES: dict[str, str] = {
    "initial": "initial members",
    "paid": "paid",
    "organic": "word of mouth",
    "winback": "win-back",
    "offline": "offline",
    "referral": "referral",
    "group_buy": "group buy",
    "cohort": "cohort (given)",
}
#: Colours left for join sources added by extensions.
_SPARE_COLORS = ("#44AA99", "#CC6677", "#999933")


def source_color(source: str, i: int = 0) -> str:
    """Colour of a join source; unknown (extension) sources take spare colours by position ``i``."""
    return SOURCE_COLORS.get(source, _SPARE_COLORS[i % len(_SPARE_COLORS)])


def source_name(source: str) -> str:
    """Readable name of a join source; an unknown one with its underscores as spaces."""
    return SOURCE_NAMES.get(source, source.replace("_", " "))

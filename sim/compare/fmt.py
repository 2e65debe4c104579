"""How the comparison writes numbers: p-values, probabilities, percentages, percentage points, amounts.

One place, so the summary sentences, the report and the terminal read the same:
``p < 0.001`` rather than ``p=0.000``; no ``-0%``; ratios and shares differ in
percentage points (``pp``), never in CNY; a probability is not shown as 100%.
"""

from __future__ import annotations

import math

#: Units whose values are ratios written as percentages (ROI, shares); their differences are in pp.
PERCENT_UNITS = ("share", "ratio")


def finite(x: float) -> bool:
    return x is not None and math.isfinite(x)


def p_value(p: float) -> str:
    """``p < 0.001``, ``p = 0.004``, ``p = 0.047``, ``p = 0.38`` (empty when there is none); three decimals
    below 0.1, so a p-value just under 0.05 never reads as 0.05."""
    if not finite(p):
        return ""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def probability(p: float) -> str:
    """A probability as a percentage that never claims certainty: ``>99%``, ``<1%``, ``73%``."""
    if not finite(p):
        return ""
    if p > 0.99:
        return ">99%"
    if p < 0.01:
        return "<1%"
    return f"{p:.0%}"


def decimals_for(*xs: float) -> int:
    """Decimals of a percentage (or pp) so no non-zero value among ``xs`` shows as 0 (at most 2)."""
    small = 100 * min((abs(x) for x in xs if finite(x) and x != 0), default=1.0)
    return 0 if small >= 0.95 else 1 if small >= 0.095 else 2


def pct(x: float, signed: bool = True, decimals: int | None = None) -> str:
    """A ratio as a percentage, ``+1.5%``; ``0%`` rather than ``-0%``; ``–`` when undefined."""
    if not finite(x):
        return "–"
    d = decimals_for(x) if decimals is None else decimals
    if round(100 * x, d) == 0:
        return f"{0:.{d}f}%"
    return f"{x:+.{d}%}" if signed else f"{x:.{d}%}"


def pct_range(lo: float, hi: float) -> str:
    """An interval of ratios, ``-0.4% to +1.2%``, both ends with the same decimals."""
    d = decimals_for(lo, hi)
    return f"{pct(lo, decimals=d)} to {pct(hi, decimals=d)}"


def pp(x: float, decimals: int | None = None) -> str:
    """A difference of two ratios in percentage points: ``+0.4 pp``."""
    if not finite(x):
        return "–"
    d = decimals_for(x) if decimals is None else decimals
    if round(100 * x, d) == 0:
        return f"{0:.{d}f} pp"
    return f"{100 * x:+.{d}f} pp"


def pp_range(lo: float, hi: float) -> str:
    d = decimals_for(lo, hi)
    return f"{pp(lo, d).removesuffix(' pp')} to {pp(hi, d)}"


def number(x: float) -> str:
    """A level: thousands separators from 100 up, three significant digits below."""
    if not finite(x):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def amount(x: float, unit: str) -> str:
    """A level with its unit: ``1,049 CNY``, ``58 people``, ``54.8%``."""
    if unit in PERCENT_UNITS:
        return pct(x, signed=False, decimals=1)
    return f"{number(x)} {unit}" if unit else number(x)


def change(x: float, unit: str) -> str:
    """A difference with its unit and sign: ``-1,049 CNY``, ``+58 people``, ``+0.4 pp``."""
    if unit in PERCENT_UNITS:
        return pp(x)
    if not finite(x):
        return "–"
    text = number(abs(x))
    sign = "" if float(text.replace(",", "")) == 0 else "+" if x > 0 else "-"
    return f"{sign}{text} {unit}".rstrip()


def money(x: float) -> str:
    """Profit as words: ``a loss of 73,123 CNY``, ``412,000 CNY``, ``break-even``."""
    if not finite(x):
        return "–"
    if round(x) == 0:
        return "break-even"
    return f"a loss of {-x:,.0f} CNY" if x < 0 else f"{x:,.0f} CNY"

"""Which KPIs a sweep keeps per run, named as flat columns: ``final.gmv``, ``w90.members``.

The names come from the run summary (``sim.run.summary``): ``final.<kpi>`` and
``w<days>.<kpi>`` for the 30/90/180-day windows, ``funnel.<stage>`` and
``retention.day_<age>``. The allowed set is built from the model's own lists
without running anything, so a typo fails before the first run.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence

from sim.observe.metrics import KPI_NAMES, support
from sim.run.summary import FLOWS, STOCKS, WINDOWS

#: Keys of ``summary["final"]`` beyond the windowed KPIs.
FINAL_EXTRA = ("ltv_per_member",)
#: Derived ratios every window carries (see ``sim.run.summary.window_kpis``).
WINDOW_EXTRA = ("aov", "referral_conversion")
#: Stages of ``summary["funnel"]`` and ages of ``summary["retention"]``.
FUNNEL = ("market", "joined", "buyer", "repeat_buyer", "advocate")
RETENTION_AGES = (30, 90, 180)
#: KPIs analysed when neither the experiment nor ``analyze --kpi`` names any.
HEADLINE = ("final.members", "final.gmv", "final.profit", "final.roi")
#: Words in a KPI's name that mean less is better (churn, costs, unanswered questions, negative sentiment, points owed).
LESS_IS_BETTER = ("churn", "cost", "unanswered", "negative", "dormant", "at_risk", "liability")


def less_is_better(kpi: str) -> bool:
    """Whether a lower value of the KPI is the better one: ``discover --worst`` and ``compare``'s ranking agree."""
    return any(w in kpi for w in LESS_IS_BETTER)


def window_names() -> tuple[str, ...]:
    """KPIs present in every window and in ``final``: the model's flows and stocks, plus ratios."""
    names = [k for k in (*FLOWS, *STOCKS) if k in KPI_NAMES]
    return tuple(dict.fromkeys(names + [k for k in WINDOW_EXTRA if k not in names]))


def windows_within(max_days: int) -> tuple[int, ...]:
    """The summary windows a run of ``max_days`` days reaches."""
    return tuple(w for w in WINDOWS if w <= max_days)


def all_columns(max_days: int) -> list[str]:
    """Every column a run of ``max_days`` days can fill, in summary order."""
    win = window_names()
    cols = [f"final.{k}" for k in (*win, *FINAL_EXTRA)]
    cols += [f"w{w}.{k}" for w in windows_within(max_days) for k in win]
    cols += [f"funnel.{s}" for s in FUNNEL]
    cols += [f"retention.day_{a}" for a in RETENTION_AGES if a < max_days]
    return cols


def expand(names: Sequence[str] | None, max_days: int) -> tuple[list[str], list[tuple[int, str]]]:
    """Turn the experiment's ``kpis`` list into columns; returns ``(columns, [(index, problem)])``.

    A bare name such as ``gmv`` means its final value and every window the runs
    reach; ``final.gmv``, ``w90.gmv``, ``funnel.buyer``, ``retention.day_90`` are exact.
    """
    if names is None:
        return all_columns(max_days), []
    win, known = window_names(), set(all_columns(max(WINDOWS) + 1))
    columns: list[str] = []
    problems: list[tuple[int, str]] = []
    for i, name in enumerate(names):
        if name in win:
            found = [f"final.{name}"] + [f"w{w}.{name}" for w in windows_within(max_days)]
        elif name in FINAL_EXTRA:
            found = [f"final.{name}"]
        elif name in known:
            found = [name]
            problem = _too_long(name, max_days)
            if problem:
                problems.append((i, problem))
        else:
            problems.append((i, _unknown(name, sorted(known) + list(win) + list(FINAL_EXTRA))))
            found = []
        columns += [c for c in found if c not in columns]
    return columns, problems


def _too_long(column: str, max_days: int) -> str | None:
    head = column.split(".", 1)[0]
    days = int(head[1:]) if head.startswith("w") else None
    if column.startswith("retention.day_"):
        days = int(column.rsplit("_", 1)[1]) + 1
    if days is not None and days > max_days:
        return f"'{column}' needs runs of at least {days} days; the longest run here has {max_days}"
    return None


def _unknown(name: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(allowed), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"unknown KPI '{name}'{hint} (use a KPI name such as 'gmv', or final.<kpi>, "
        f"w<{'|'.join(map(str, WINDOWS))}>.<kpi>, funnel.<stage>, retention.day_<age>; see docs/metrics.md)"
    )


def extract(summary: dict, columns: Sequence[str]) -> dict[str, float]:
    """The chosen columns from a run summary; NaN where the run is too short to have them."""
    out: dict[str, float] = {}
    for col in columns:
        head, key = col.split(".", 1)
        if head == "final":
            table = summary.get("final", {})
        elif head in ("funnel", "retention"):
            table = summary.get(head, {})
        else:
            table = summary.get("windows", {}).get(head[1:], {})
        value = table.get(key)
        out[col] = math.nan if value is None else float(value)
    return out


def column_support(column: str) -> tuple[float, float]:
    """The values a KPI column can take: ``funnel.*`` counts, ``retention.*`` shares, else the KPI's own."""
    head, key = column.split(".", 1)
    if head == "funnel":
        return (0.0, math.inf)
    if head == "retention":
        return (0.0, 1.0)
    return support(key)

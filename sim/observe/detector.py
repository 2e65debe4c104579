"""Health warnings scored as detectors of a bad outcome, and thresholds on the model's own scale.

A warning is useful when it comes on before something bad happens and stays off
otherwise. ``community-sim warnings`` runs an ensemble of a scenario with random
shocks (crises, competitor entries) and, for every warning, scores each candidate
threshold against the outcome "net member growth below zero over the next
``horizon`` days":
- precision: share of the days the warning is on that are followed by the outcome;
- recall: share of the days followed by the outcome on which the warning is on;
- lead time: days from the first alert to the day the decline has happened
  (members below their level ``horizon`` days before), median over the runs with
  both (negative: the alert came late);
- calm share: share of days the warning is on in the runs without a shock.
The proposed threshold maximizes F1 among those on for at most ``max_calm_share``
of the calm days (a warning about a condition a calm community does not have stays
quiet there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HealthWarning:
    """One health warning: the daily signal it reads, the side that alarms and the key of its threshold."""

    name: str
    column: str  # time-series column
    below: bool  # on when the signal is below the threshold (else above)
    key: str  # health.<key> holding the threshold
    absolute: bool = False  # compare |signal|
    persist_key: str | None = None  # health.<key>: days the condition must hold before the alert
    from_day: int = 0  # first day the signal is defined (health.py: 30 days of members, 60 of interactions)


WARNINGS: tuple[HealthWarning, ...] = (
    HealthWarning(
        "weak_growth", "monthly_growth", True, "min_monthly_growth", persist_key="weak_growth_days", from_day=30
    ),
    HealthWarning("activity_swing", "activity_change", False, "max_activity_swing", absolute=True),
    HealthWarning("low_k", "k_factor", True, "min_k_factor"),
    HealthWarning("negative_sentiment", "negative_share", False, "max_negative_share"),
    HealthWarning("churn_risk", "at_risk_share", False, "max_at_risk_share"),
    HealthWarning("low_interaction_growth", "interaction_growth", True, "min_interaction_growth", from_day=59),
)


def bad_outcome(members: np.ndarray, horizon: int) -> np.ndarray:
    """Per day ``t``: True when members on day ``t + horizon`` are fewer than on day ``t`` (the last
    ``horizon`` days, whose future the run does not see, are False and left out by ``labelled``)."""
    out = np.zeros(members.size, dtype=bool)
    if members.size > horizon:
        out[:-horizon] = members[horizon:] < members[:-horizon]
    return out


def outcome_day(members: np.ndarray, horizon: int) -> int | None:
    """First day on which members are below their level ``horizon`` days before (the decline has happened)."""
    hit = np.flatnonzero(members[horizon:] < members[:-horizon]) if members.size > horizon else np.array([])
    return int(hit[0]) + horizon if hit.size else None


def alert_days(signal: np.ndarray, threshold: float, w: HealthWarning, persist: int = 1) -> np.ndarray:
    """The 0/1 alert of ``w`` at ``threshold`` over one run's daily ``signal``, as health.py computes it:
    the condition held for ``persist`` days running, from the day the signal is defined."""
    x = np.abs(signal) if w.absolute else signal
    cond = x < threshold if w.below else x > threshold
    cond[: w.from_day] = False
    if persist <= 1:
        return cond
    run = np.zeros(cond.size, dtype=np.int64)
    count = 0
    for i, c in enumerate(cond):  # days of a run: a few hundred
        count = count + 1 if c else 0
        run[i] = count
    return run >= persist


@dataclass(frozen=True)
class Score:
    threshold: float
    calm_share: float
    precision: float
    recall: float
    f1: float
    lead_days: float  # median; nan without a run that has both an outcome and an alert
    on_days: int  # scored days the warning is on


def score(alerts: list[np.ndarray], runs: list[dict], horizon: int) -> tuple[float, float, float, float, float, int]:
    """(calm share, precision, recall, F1, median lead, days on) of per-run 0/1 ``alerts``; ``runs`` give each
    run's ``members`` series and whether it is ``calm``."""
    on_bad = on = bad = 0
    calm_on = calm_days = 0
    leads = []
    for a, r in zip(alerts, runs, strict=True):
        members = r["members"]
        n = members.size - horizon
        if n > 0:
            b = bad_outcome(members, horizon)[:n]
            on_bad += int(np.count_nonzero(a[:n] & b))
            on += int(np.count_nonzero(a[:n]))
            bad += int(np.count_nonzero(b))
        if r["calm"]:
            calm_on += int(np.count_nonzero(a))
            calm_days += a.size
        day = outcome_day(members, horizon)
        if day is not None:
            start = max(0, day - 2 * horizon)
            window = np.flatnonzero(a[start : day + horizon + 1])
            if window.size:
                leads.append(day - (start + int(window[0])))
    precision = on_bad / on if on else 0.0
    recall = on_bad / bad if bad else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    lead = float(np.median(leads)) if leads else float("nan")
    return (calm_on / calm_days if calm_days else 0.0), precision, recall, f1, lead, on


def base_rate(runs: list[dict], horizon: int) -> float:
    """Share of the scored days that are followed by the outcome: the precision of a warning that is always on."""
    labels = [bad_outcome(r["members"], horizon)[: r["members"].size - horizon] for r in runs]
    days = sum(b.size for b in labels)
    return sum(int(np.count_nonzero(b)) for b in labels) / days if days else 0.0


#: z of the lower confidence bound on precision that must beat the base rate (99%, one-sided about 99.5%).
Z_PRECISION = 2.58


def informative(s: Score, rate: float) -> bool:
    """Whether a warning's precision beats the base rate beyond chance: the Wilson lower bound of its
    precision over its days on is above the share of days followed by the outcome. Days of a run are
    correlated, so the bound is optimistic; the wide z makes up for part of it."""
    n = s.on_days
    if not n:
        return False
    z2 = Z_PRECISION**2
    centre = s.precision + z2 / (2 * n)
    half = Z_PRECISION * np.sqrt(s.precision * (1 - s.precision) / n + z2 / (4 * n * n))
    return (centre - half) / (1 + z2 / n) > rate


def candidates(values: np.ndarray, current: float) -> np.ndarray:
    """Thresholds to try: the 1st to 99th percentiles of the signal, and the current threshold."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return np.array([current])
    return np.unique(np.append(np.quantile(finite, np.linspace(0.01, 0.99, 99)), current))


def evaluate(w: HealthWarning, runs: list[dict], health: dict, horizon: int, max_calm_share: float) -> dict:
    """Current and proposed threshold of ``w`` with their scores; ``runs`` hold the signal columns.

    The proposal maximizes F1 among thresholds on for at most ``max_calm_share`` of the calm days and
    ``informative``. Without one the warning tells nothing about the outcome: the proposal is a threshold
    it never reaches (verdict ``off``).
    """
    persist = int(health[w.persist_key]) if w.persist_key else 1

    def alerts(thr: float) -> list[np.ndarray]:
        return [alert_days(r[w.column], thr, w, persist) for r in runs]

    rate = base_rate(runs, horizon)
    current = float(health[w.key])
    now = Score(current, *score(alerts(current), runs, horizon))
    pooled = np.concatenate([(np.abs(r[w.column]) if w.absolute else r[w.column])[w.from_day :] for r in runs])
    best: Score | None = None
    for thr in candidates(pooled, current):
        s = Score(float(thr), *score(alerts(float(thr)), runs, horizon))
        if s.calm_share <= max_calm_share and informative(s, rate) and (best is None or s.f1 > best.f1):
            best = s
    verdict = "use"
    if best is None:  # uninformative: a threshold beyond every value seen (never on in this ensemble)
        finite = pooled[np.isfinite(pooled)]
        edge = (float(finite.min()) if w.below else float(finite.max())) if finite.size else current
        never = max(edge, 0.0) if w.below and w.key in NON_NEGATIVE else edge
        best, verdict = Score(never, *score(alerts(never), runs, horizon)), "off"
    row = {"warning": w.name, "signal": w.column, "alarms_when": "below" if w.below else "above", "key": w.key}
    row["base_rate"] = rate
    for prefix, s in (("current", now), ("proposed", best)):
        for field in ("threshold", "calm_share", "precision", "recall", "f1", "lead_days"):
            row[f"{prefix}_{field}"] = getattr(s, field)
    row["verdict"] = verdict
    return row


#: Thresholds the schema keeps at zero or above (a signal that cannot be negative).
NON_NEGATIVE = frozenset({"min_k_factor", "max_activity_swing", "max_negative_share", "max_at_risk_share"})

"""The churn-risk score: what an operator's CRM predicts from what it sees, and the member tags built on it.

A member's score is the predicted probability of leaving within 30 days,
  score_i = logistic(b + sum_k w_k x_ik)
over observables only (``FEATURES``): days since the last visit, visits in the last
7, 30 and 60 days, purchases and days since the last one, tenure, lifecycle tags,
the referral tie, KOC status, negative sentiment, points and tier. The true hazard
(satisfaction, fatigue, churned contacts) stays hidden. Visit history is a 64-day
bit set per person, updated for the day's visitors only. Coupons, outreach,
retention offers and the at-risk health KPI target the score.

Every evening, after churn, the members are tagged (in this order): at risk
(score above ``health.churn_risk_threshold``), silent (no visit for
``silent_after_days``), core (``core_visits`` visits or more in 30 days). Every
``evaluate_every_days`` the members are scored and, 30 days later, the score's ROC
AUC against who left in between is recorded, with that of the true hazard for
comparison (``ScoreBook``, summary.json ``churn_score``). Nothing here draws a random
number or changes a person's state beyond the visit history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.core.mathutil import logistic, roc_auc
from sim.core.membership import newcomers, referrer_is_member
from sim.core.population import MEMBER
from sim.engine.arrays import code_counts, first_flag, log1p_counts, select
from sim.mechanisms.spec import KPI, Column, Mechanism, counter

if TYPE_CHECKING:
    from sim.core.population import Population
    from sim.model import CommunityModel

#: The score's inputs, in the order of ``ChurnScoreWeights`` after the intercept.
FEATURES: tuple[str, ...] = (
    "recency",
    "frequency",
    "trend",
    "purchases",
    "purchase_recency",
    "tenure",
    "new",
    "advocate",
    "referred",
    "koc",
    "negative",
    "points",
    "tier",
)
TAGS: tuple[str, ...] = ("at_risk", "silent", "core")
HORIZON = 30  # days after a scoring in which a departure counts as churn
_ONE = np.uint64(1)


def history_on(pop: Population, people: np.ndarray | slice, day: int) -> np.ndarray:
    """The visit bit sets of ``people`` moved to ``day``: bit k is a visit k days before ``day``."""
    # numpy shifts a uint64 by 64 or more (a never recorded -1 day included, cast) to 0: no history left
    return pop.visit_bits[people] << (day - pop.visit_bits_day[people]).astype(np.uint64)


def visit_counts(pop: Population, people: np.ndarray | slice, day: int, windows: tuple[int, ...]) -> list[np.ndarray]:
    """Visits of ``people`` in the last ``w`` days (today included) for each ``w`` of ``windows`` (at most 64),
    as uint8 counts."""
    bits = history_on(pop, people, day)
    return [np.bitwise_count(bits & np.uint64((1 << w) - 1)) for w in windows]


def visits_within(pop: Population, people: np.ndarray | slice, day: int, windows: tuple[int, ...]) -> list[np.ndarray]:
    """``visit_counts`` as float32."""
    return [v.astype(np.float32) for v in visit_counts(pop, people, day, windows)]


def set_history(pop: Population, people: np.ndarray, last: np.ndarray, earlier: np.ndarray) -> None:
    """Give ``people`` a visit on day ``last`` and, in the 63 days before it, the visits ``earlier`` marks
    (bool, one column per day back: column 0 is the day before ``last``)."""
    bits = np.ones((people.size, 64), dtype=bool)  # bit 0: the visit on day ``last``
    bits[:, 1:] = earlier
    # eight bytes of bits per person read as one little-endian word: bit j is column j
    pop.visit_bits[people] = np.packbits(bits, axis=1, bitorder="little").view("<u8")[:, 0]
    pop.visit_bits_day[people] = last


def features(model: CommunityModel, people: np.ndarray | slice) -> dict[str, np.ndarray]:
    """The score's inputs for members ``people`` (ids, or a slice of the rows) today, float32 by ``FEATURES`` name.

    Every logarithm is of a count of days or visits, so it is looked up (``log1p_counts``, ``_trend``):
    the same float32 values as computing them, for much less time.
    """
    pop, s, day = model.pop, model.scenario, model.day.day
    v7, v30, v60 = visit_counts(pop, people, day, (7, 30, 60))
    join = pop.join_day[people]
    tenure = day - join
    last_buy = pop.last_purchase[people]
    since_buy = day - select(last_buy < 0, join, last_buy)  # from joining if never bought
    redeem_min = s.incentives.points.redeem_min
    if s.incentives.points.enabled and redeem_min > 0:
        points = (np.minimum(pop.points[people], redeem_min) / redeem_min).astype(np.float32)
    else:
        points = np.zeros(v7.size, dtype=np.float32)
    return {
        "recency": log1p_counts(day - pop.last_visit[people]),
        "frequency": log1p_counts(v30),
        "trend": _trend(v7, v60),
        "purchases": log1p_counts(pop.purchases[people]),
        "purchase_recency": log1p_counts(since_buy),
        "tenure": log1p_counts(tenure),
        "new": newcomers(model, people, join).astype(np.float32),
        "advocate": (pop.invited[people] > 0).astype(np.float32),
        "referred": referrer_is_member(pop, people).astype(np.float32),
        "koc": pop.is_koc[people].astype(np.float32),
        "negative": pop.negative[people].astype(np.float32),
        "points": points,
        "tier": pop.tier[people].astype(np.float32),
    }


def trend_of(v7: np.ndarray, v60: np.ndarray) -> np.ndarray:
    """The visit trend ln((v7 / 7 + 1/60) / (v60 / 60 + 1/60)) in float32, from visits in 7 and 60 days."""
    per_day = np.float32(1.0 / 60.0)
    v7, v60 = v7.astype(np.float32), v60.astype(np.float32)
    return np.log((v7 * np.float32(1.0 / 7.0) + per_day) / (v60 * per_day + per_day))


#: ``trend_of`` for every pair of counts (v7, v60), at ``v7 * 61 + v60``.
_TREND = trend_of(*np.divmod(np.arange(8 * 61), 61))


def _trend(v7: np.ndarray, v60: np.ndarray) -> np.ndarray:
    """``trend_of`` by look-up (uint8 counts from ``visit_counts``: at most 7 and 60)."""
    at = v7.astype(np.intp)
    at *= 61
    at += v60
    return _TREND.take(at)


def log_odds(model: CommunityModel, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The score's log-odds from its ``inputs`` (``features``) and the scenario's weights."""
    w = model.scenario.operators.churn_score.weights
    x = np.full(inputs["recency"].size, w.intercept, dtype=np.float32)
    term = np.empty_like(x)
    for name, value in inputs.items():
        if weight := getattr(w, name):
            x += np.multiply(np.float32(weight), value, out=term)
    return x


def score(model: CommunityModel, people: np.ndarray | slice) -> np.ndarray:
    """The churn-risk score of members ``people`` today: predicted probability of leaving within 30 days."""
    return scored(model, people)[0]


def scored(model: CommunityModel, people: np.ndarray | slice) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``score`` of ``people`` and the ``features`` it was computed from (the tags read them too)."""
    inputs = features(model, people)
    return logistic(log_odds(model, inputs)), inputs


def tags(
    model: CommunityModel, people: np.ndarray | slice, scores: np.ndarray, inputs: dict | None = None
) -> np.ndarray:
    """Tag code of members ``people`` (index into ``TAGS``, ``len(TAGS)`` for none), in the order of ``TAGS``;
    ``inputs``: their ``features``, if computed already."""
    pop, cfg, day = model.pop, model.scenario.operators.churn_score, model.day.day
    frequency = (inputs or features(model, people))["frequency"]  # ln(1 + visits in 30 days), rises with them
    flags = {
        "at_risk": scores > model.scenario.health.churn_risk_threshold,
        "silent": day - pop.last_visit[people] >= cfg.silent_after_days,
        "core": frequency > np.float32(np.log(cfg.core_visits + 0.5)),  # v30 >= core_visits
    }
    return first_flag([flags[name] for name in TAGS], scores.size)


@dataclass
class Cohort:
    """Members scored on one day, waiting for the 30 days that tell who left."""

    day: int
    people: np.ndarray
    scores: np.ndarray
    hazard: np.ndarray  # the true churn log-odds of that evening, for comparison


@dataclass
class ScoreBook:
    """The scorings of a run and, once their 30 days have passed, how well they ranked the leavers."""

    pending: list[Cohort] = field(default_factory=list)
    done: list[dict] = field(default_factory=list)

    def settle(self, pop: Population, day: int) -> None:
        """Label the cohorts scored ``HORIZON`` days before ``day`` (tonight): who left since, rejoined or not."""
        for c in [c for c in self.pending if c.day + HORIZON == day]:
            left = (pop.status[c.people] != MEMBER) | (pop.join_day[c.people] > c.day)
            self.done.append(
                {
                    "day": c.day,
                    "members": int(c.people.size),
                    "churned": int(np.count_nonzero(left)),
                    "auc": roc_auc(c.scores, left),
                    "hazard_auc": roc_auc(c.hazard, left),
                }
            )
            self.pending.remove(c)

    def summary(self) -> dict:
        """summary.json's ``churn_score``: the AUC over all settled scorings (pairs of a leaver and a stayer
        scored on the same day), that of the true hazard, and each scoring's."""
        pairs = [c["churned"] * (c["members"] - c["churned"]) for c in self.done]
        total = sum(pairs)

        def pooled(key: str) -> float | None:
            return sum(c[key] * p for c, p in zip(self.done, pairs, strict=True) if p) / total if total else None

        return {
            "horizon_days": HORIZON,
            "scorings": len(self.done),
            "members_scored": sum(c["members"] for c in self.done),
            "churned": sum(c["churned"] for c in self.done),
            "auc": pooled("auc"),
            "hazard_auc": pooled("hazard_auc"),
            "by_scoring": self.done,
        }


def record_visits(model: CommunityModel) -> None:
    """Today's visitors enter the visit history (bit 0 of their bit set is today)."""
    pop, day, v = model.pop, model.day.day, model.day.visitors
    pop.visit_bits[v] = history_on(pop, v, day) | _ONE
    pop.visit_bits_day[v] = day


def evening_phase(model: CommunityModel) -> None:
    """After churn: score tonight's members, count the tags, settle and start scorings for the AUC."""
    from sim.mechanisms.churn import churn_log_odds

    day, cfg = model.day, model.scenario.operators.churn_score

    def score_and_tag(rows: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        scores, inputs = scored(model, rows)
        code = tags(model, rows, scores, inputs)
        members = True if not isinstance(rows, slice) else model.members_in(rows)
        if members is not True:  # the members among whole columns
            scores, code = scores[members], code[members]
        return scores, code_counts(code, len(TAGS))

    parts = model.split_rows(score_and_tag, model.member_rows())
    scores = parts[0][0] if len(parts) == 1 else np.concatenate([s for s, _ in parts])  # in member_index order
    day.churn_scores = scores
    for i, name in enumerate(TAGS):
        day.counts[f"tag_{name}"] = float(sum(counts[i] for _, counts in parts))
    model.score_book.settle(model.pop, day.day)
    mi = model.member_index()
    if (day.day + 1) % cfg.evaluate_every_days == 0 and mi.size:
        model.score_book.pending.append(Cohort(day.day, mi, scores, churn_log_odds(model, mi)))


SPEC = Mechanism(
    name="churn_score",
    section="operators.churn_score",
    phases=(("after_visits", record_visits), ("churn", evening_phase)),
    kpis=tuple(KPI(f"tag_{name}", "stock", counter(f"tag_{name}"), group="community") for name in TAGS),
    columns=(
        Column("visit_bits", np.uint64, 0),  # bit k: visited k days before visit_bits_day
        Column("visit_bits_day", np.int32, -1),  # day of the last visit recorded (-1 never)
    ),
    uses=("scenario", "pop", "day", "rows", "score_book", "network", "n_churned", "mods", "join_codes"),
    takes=("visitors",),
    leaves=("churn_scores",),
)

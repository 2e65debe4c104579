"""Negative sentiment (负面情绪), crises and the operators' response.

A crisis turns ``0.3 * severity`` of members negative at its onset and keeps
seeding new negatives for ``duration`` days (a tenth of the onset rate a day).
Negative sentiment spreads over the network: a member turns negative with
probability 1 - (1 - c)(1 - exp(-b n_i)), c the crisis seeding, n_i the share of
their contacts who are negative and b = ``spread``. Negatives recover with probability ``recovery`` a day.
After ``response_delay_days`` the operators respond (and while a rule keeps a
response active): spread falls by ``response_quality / 2`` and recovery rises by
``response_quality * 0.2``, at ``response_cost`` a day. Negative members lose
satisfaction daily and are likelier to churn and less likely to buy. A quality
scandal also lowers experienced product quality while it lasts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.core.population import MEMBER
from sim.mechanisms.spec import Column, Mechanism

if TYPE_CHECKING:
    from sim.model import CommunityModel


def active_crises(model: CommunityModel) -> list:
    d = model.day.day
    return [e for e in model.scenario.events if e.kind == "crisis" and e.day <= d < e.day + e.duration]


def quality_penalty(model: CommunityModel) -> float:
    """Drop in experienced product quality during a quality scandal."""
    return max((0.3 * e.severity for e in active_crises(model) if e.type == "quality_scandal"), default=0.0)


def _turn(model: CommunityModel, people: np.ndarray, negative: bool) -> None:
    pop = model.pop
    people = people[pop.negative[people] != negative]
    if people.size:
        pop.negative[people] = negative
        model.network.count_into(people, pop.negative_contacts, 1 if negative else -1)
        model.n_negative += people.size if negative else -people.size


def sentiment_phase(model: CommunityModel) -> None:
    """Onsets, spread, recovery and the response; runs before the day's visits."""
    cfg, pop, day, policy = model.scenario.sentiment, model.pop, model.day.day, model.policy
    crises = active_crises(model)
    for e in crises:
        if e.day == day:
            model.log_marker("crisis", e.name)
            # it ends on the same day whatever the delay, so answering sooner only adds days of response
            policy.respond(day + cfg.response_delay_days, day + e.duration + 1)
    responding = policy.responding(day)
    if responding:
        model.ledger.book("crisis_response", cfg.response_cost)
    if not crises and model.n_negative == 0:
        return
    quality = cfg.response_quality if responding else 0.0
    u = model.streams.uniform("sentiment", pop.n)
    v = model.streams.uniform("sentiment", pop.n)
    seed = math.fsum(0.3 * e.severity * (1.0 if e.day == day else 0.1) for e in crises)

    def changes(rows: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        share = model.network.contact_share(pop.negative_contacts, model.n_negative, pop.negative, rows)
        hazard = 1.0 - (1.0 - seed) * np.exp(-cfg.spread * (1.0 - quality / 2) * share)
        was_negative = pop.negative[rows]  # both selections are made before anyone turns
        _, onset = model.members_where(rows, ~was_negative & (u[rows] < hazard))
        _, recovered = model.members_where(rows, was_negative & (v[rows] < cfg.recovery + 0.2 * quality))
        return onset, recovered

    def drag(rows: np.ndarray | slice) -> None:
        _, neg = model.members_where(rows, pop.negative[rows])
        pop.satisfaction[neg] = np.maximum(pop.satisfaction[neg] - cfg.satisfaction_drag, 0.0)
        model.mods.churn[neg] += cfg.churn_weight
        model.mods.purchase[neg] -= cfg.purchase_weight

    rows = model.member_rows()
    parts = model.split_rows(changes, rows)
    _turn(model, np.concatenate([onset for onset, _ in parts]), True)
    _turn(model, np.concatenate([recovered for _, recovered in parts]), False)
    model.split_rows(drag, rows)


def turn_negative(model: CommunityModel, people: np.ndarray) -> None:
    """Turn ``people`` negative (used by other mechanisms, e.g. unhandled incidents)."""
    _turn(model, people, True)


def negative_share(model: CommunityModel) -> float:
    m = model.n_members
    return model.count_members(model.pop.negative, lambda negative: negative) / m if m else 0.0


def leave(model: CommunityModel, people: np.ndarray) -> None:
    """People who leave the community take their sentiment with them (no longer spread)."""
    neg = people[model.pop.negative[people] & (model.pop.status[people] != MEMBER)]
    _turn(model, neg, False)


SPEC = Mechanism(
    name="sentiment",
    section="sentiment",
    phases=(("mood", sentiment_phase),),
    streams=("sentiment",),
    lines=(("crisis_response", "operators"),),
    columns=(
        Column("negative", np.bool_, False),  # holds negative sentiment
        Column("negative_contacts", np.int32, 0),  # contacts who hold negative sentiment
    ),
    uses=(
        "scenario",
        "pop",
        "day",
        "mods",
        "streams",
        "ledger",
        "network",
        "policy",
        "log_marker",
        "rows",
        "n_members",
        "n_negative",
    ),
)

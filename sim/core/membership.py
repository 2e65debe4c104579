"""State transitions of people: join and churn, the only places status changes.

Keeping every transition here guarantees the invariants the rest relies on: a
person is exactly one of prospect / member / churned, contact counts match the
statuses, and every transition is logged once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.population import CHURNED, MEMBER, PROSPECT, Population

if TYPE_CHECKING:
    from sim.model import CommunityModel


def referrer_is_member(pop: Population, people: np.ndarray | slice) -> np.ndarray:
    """Whether each of ``people`` was referred by someone who is a member now."""
    referrer = pop.referrer[people]
    return (referrer >= 0) & (pop.status[np.maximum(referrer, 0)] == MEMBER)


def newcomers(model: CommunityModel, people: np.ndarray | slice, join_day: np.ndarray | None = None) -> np.ndarray:
    """Whether each of members ``people`` joined within the last ``lifecycle.new_for_days`` days of the run
    (``join_day``: their join days, when already read).

    The initial members joined before day 0 (the community already exists), so they are never new: their
    ``join_day`` 0 is when the run starts watching them, not when they joined.
    """
    pop, today = model.pop, model.day.day
    joined = pop.join_day[people] if join_day is None else join_day
    new = joined > today - model.scenario.lifecycle.new_for_days
    if today < model.scenario.lifecycle.new_for_days:  # only then can a day-0 join still look new
        new &= pop.join_source[people] != model.join_codes["initial"]
    return new


def join(model: CommunityModel, people: np.ndarray, source: str, *, referrer: np.ndarray | None = None) -> np.ndarray:
    """Make ``people`` members today (those who are not members already)."""
    pop, day, s = model.pop, model.day, model.scenario
    new = pop.status[people] != MEMBER
    people = people[new]
    if referrer is not None:
        referrer = referrer[new]
    if people.size == 0:
        return people
    returning = pop.status[people] == CHURNED
    model.network.count_into(people[returning], pop.churned_contacts, -1)
    if returning.any() and s.acquisition.winback_cost > 0:
        model.ledger.book("winback", float(returning.sum()) * s.acquisition.winback_cost)
    code = model.join_codes[source]
    u, w = pop.trait[people, 0], pop.trait[people, 1]  # fixed per person: the same joiner starts the same way
    pop.status[people] = MEMBER
    pop.join_day[people] = day.day
    pop.join_source[people] = code
    pop.churn_day[people] = -1
    pop.last_visit[people] = day.day
    pop.engagement[people] = np.clip(s.engagement.initial_engagement * (0.5 + u), 0.0, 1.0)
    sat = s.satisfaction.initial + 0.1 * (w - 0.5)
    if referrer is not None:
        pop.referrer[people] = referrer
        np.add.at(pop.invited, referrer, 1)  # an inviter of several joiners today counts each
        sat = sat + s.referral.referred_satisfaction_bonus
    pop.satisfaction[people] = np.clip(sat, 0.0, 1.0)
    pop.fatigue[people] = 0.0
    model.network.count_into(people, pop.member_contacts, +1)
    pop.hunter_leave[people] = -1
    model.invalidate_members()
    model.n_members += people.size
    model.n_churned -= int(returning.sum())
    day.joins[source] = day.joins.get(source, 0) + int(people.size)
    model.events.add(day.day, "join", people, source=code, counterpart=referrer if referrer is not None else -1)
    return people


def churn(model: CommunityModel, people: np.ndarray) -> None:
    """Members in ``people`` leave today."""
    pop, day = model.pop, model.day
    people = people[pop.status[people] == MEMBER]
    if people.size == 0:
        return
    pop.status[people] = CHURNED
    pop.churn_day[people] = day.day
    contacts = None if model.network.complete else model.network.contacts(people)  # gathered once for both counts
    model.network.count_into(people, pop.member_contacts, -1, contacts)
    model.network.count_into(people, pop.churned_contacts, +1, contacts)
    model.invalidate_members()
    model.n_members -= people.size
    model.n_churned += people.size
    day.churned += int(people.size)
    model.events.add(day.day, "churn", people)


def prospects(model: CommunityModel) -> np.ndarray:
    """Indices of everyone who has never joined."""
    return np.flatnonzero(model.pop.status == PROSPECT)

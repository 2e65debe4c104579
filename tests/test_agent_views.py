"""Person agent views: created on first use, with the ids and rows they would have had if made at start."""

from __future__ import annotations

import numpy as np

from sim.core.agents import Operator, Person
from sim.model import CommunityModel
from tests.conftest import small


def test_views_are_made_only_when_asked_for_and_read_the_rows(monkeypatch):
    made = []
    create = Person.create_agents.__func__

    def counting(cls, model, n, **kwargs):
        made.append(n)
        return create(cls, model, n, **kwargs)

    monkeypatch.setattr(Person, "create_agents", classmethod(counting))
    scenario = small(market={"size": 500}, days=5)
    model = CommunityModel(scenario)
    for _ in range(3):
        model.step()
    assert made == []  # a run that never looks at the agents never builds them
    operators = len(model.operators)
    persons = model.persons
    assert made == [500] and len(persons) == 500
    assert len(model.agents) == 500 + operators and set(model.agent_types) == {Operator, Person}
    by_row = sorted(persons, key=lambda p: p.row)
    assert [p.row for p in by_row] == list(range(500))
    assert [p.unique_id for p in by_row] == list(range(operators + 1, operators + 501))  # after the operators
    np.testing.assert_array_equal([p.engagement for p in by_row], model.pop.engagement)
    model.agents_by_type  # noqa: B018 - asking again builds nothing more
    assert made == [500]


def test_no_views_when_turned_off():
    model = CommunityModel(small(market={"size": 300}, days=5), agent_views=False)
    assert len(model.persons) == 0 and len(model.agents) == len(model.operators)

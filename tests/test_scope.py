"""Each phase sees only what its mechanism declares, and runs on a state holding just that."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim.mechanisms.registry import PHASES, REGISTRY
from sim.mechanisms.scope import GROUPS, Scope, UndeclaredState, expand
from sim.model import CommunityModel
from tests.conftest import small
from tests.test_registry import EVERY_PROGRAM

EVERYTHING = {  # every program, a weekly livestream on Sundays (day 10 of a run from 2026-01-01), store visitors
    "incentives": {program: {"enabled": True} for program in EVERY_PROGRAM},
    "livestream": {"enabled": True, "weekday": 6},
    "acquisition": {"offline": {"store_visitors_per_day": 40}, "winback_prob": 0.01},
    "market": {"size": 1500},
}


def test_a_phase_touching_what_it_did_not_declare_is_stopped_with_its_name():
    model = CommunityModel(small(days=1))
    scope = Scope(model, expand(("pop", "day")), "koc")
    assert scope.pop is model.pop
    with pytest.raises(UndeclaredState, match=r"'koc' reads model\.ledger"):
        scope.ledger  # noqa: B018
    with pytest.raises(UndeclaredState, match=r"'koc' writes model\.n_members"):
        scope.n_members = 3
    assert isinstance(UndeclaredState("x"), AttributeError)


def test_work_split_over_two_cores_cannot_draw_book_log_or_split_again():
    from sim.engine.options import EngineOptions

    model = CommunityModel(small(days=1), engine=EngineOptions(split_market=0, split_people=0, second_core=True))
    model.dense_share = 0.0  # whole columns, so split_rows really splits
    scope = Scope(model, expand(("pop", "streams", "ledger", "rows")), "engagement")
    halves = scope.split_rows(lambda rows: int(scope.pop.status[rows].size), slice(None))
    assert sum(halves) == model.pop.n and len(halves) == 2
    for touch in (lambda: scope.streams, lambda: scope.ledger, lambda: scope.split_rows):
        with pytest.raises(UndeclaredState, match="split over two cores"):
            scope.split_rows(lambda rows, touch=touch: touch(), slice(None))
    assert scope.streams is model.streams  # back once the halves are done
    model.stop_worker()


def test_every_declared_name_is_something_the_model_has():
    model = CommunityModel(small(days=1, **EVERYTHING))
    for spec in REGISTRY:
        missing = sorted(name for name in expand(spec.uses) if not hasattr(model, name))
        assert not missing, f"{spec.name} declares {missing}"
    assert set(GROUPS["rows"]) <= set(dir(model))


def _state(model: CommunityModel) -> dict:
    pop = {name: getattr(model.pop, name).copy() for name in model.pop.column_names()}
    day = {k: v for k, v in vars(model.day).items()}
    return {"pop": pop, "day": day, "members": model.n_members, "churned": model.n_churned}


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def _phases():
    for spec in REGISTRY:
        for stage, phase in spec.phases:
            yield pytest.param(spec, phase, id=f"{spec.name}.{phase.__name__}@{stage}")


@pytest.mark.parametrize(("spec", "phase"), list(_phases()))
def test_each_phase_runs_on_a_hand_built_state_of_what_it_declares(spec, phase):
    """The phase on a namespace holding only its declared names does what it does inside the model."""
    scenario = small(days=12, **EVERYTHING)
    models = [CommunityModel(scenario), CommunityModel(scenario)]
    at = [getattr(p, "__wrapped__", None) for p in PHASES].index(phase)
    for model in models:
        for _ in range(10):
            model.step()
        model.day = type(model.day)(day=model.days_done)  # a fresh day, as step() starts one
        model.streams.start_day(model.day.day)
        model.mods.reset()
        for earlier in PHASES[:at]:
            earlier(model)
    inside, alone = models
    PHASES[at](inside)  # through the registry: the phase sees a Scope of the model
    names = expand(spec.uses)
    state = SimpleNamespace(**{name: getattr(alone, name) for name in names})
    phase(state)  # a plain namespace: nothing but the declared names exists
    for name in ("n_members", "n_churned", "n_negative", "plan_remaining", "question_backlog", "last_show"):
        if name in names:
            setattr(alone, name, getattr(state, name))  # scalars written on the namespace
    assert _same(_state(inside), _state(alone))

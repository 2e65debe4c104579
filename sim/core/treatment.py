"""Per-person parameter values for a randomized test inside one community: ``Treatment``.

An A/B test gives some members (the treated arm) other values of a few levers than
the rest: a referral reward, a coupon program. The model then runs one scenario
for the control arm (``model.scenario``) and reads the treated arm's values from a
second one (``Treatment.scenario``). A phase that reads a lever a test may target
asks ``per_person`` for it (a number for everyone when no test runs or the arms
agree, else one value per person) or splits people by ``arms``. Only the keys the
mechanisms declare in their spec's ``targetable`` may differ between the arms
(``sim.mechanisms.registry.TARGETABLE``): the others are read as one value for all.

With no treatment (``model.treatment is None``, the default) every phase reads the
same scalar as before, so ordinary runs are unchanged bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.config.schema import Scenario


@dataclass(frozen=True)
class Treatment:
    """Who is treated (one flag per person, prospects included) and the treated arm's scenario."""

    treated: np.ndarray  # bool, length = population size
    scenario: Scenario  # the treated arm's levers; the control arm keeps the model's scenario
    start: int = 0  # first day the treated values apply (days before are a warm-up under control values)


def _active(model) -> Treatment | None:
    t = model.treatment
    return t if t is not None and model.day.day >= t.start else None


def per_person(model, people: np.ndarray, read: Callable[[Scenario], Any]) -> Any:
    """The lever ``read`` returns, for each of ``people``: the scenario's value when no test runs (or both
    arms have the same value), else the treated arm's value for treated people and the control's for others."""
    base = read(model.scenario)
    t = _active(model)
    if t is None:
        return base
    other = read(t.scenario)
    if other == base:
        return base
    treated = t.treated[people]
    if treated.all():  # one arm only: its scalar, so that everyone treated computes as the treated scenario
        return other
    if not treated.any():
        return base
    return np.where(treated, other, base)


def arms(model, people: np.ndarray) -> list[tuple[Scenario, np.ndarray]]:
    """``people`` split by arm, each with its arm's scenario: ``[(model.scenario, people)]`` when no test runs."""
    t = _active(model)
    if t is None:
        return [(model.scenario, people)]
    treated = t.treated[people]
    return [(model.scenario, people[~treated]), (t.scenario, people[treated])]


def arm_values(model, read: Callable[[Scenario], Any]) -> tuple[list[Any], np.ndarray | None]:
    """The values of ``read`` the arms hold and who is treated, for a phase that computes a table per arm.

    ``([value], None)`` when no test runs, the arms agree or one arm holds everyone (then the value is
    that arm's, so that everyone treated computes as the treated scenario); else
    ``([control's value, treated arm's value], treated flags of every person)``.
    """
    base = read(model.scenario)
    t = _active(model)
    if t is None:
        return [base], None
    other = read(t.scenario)
    if other == base or not t.treated.any():
        return [base], None
    if t.treated.all():
        return [other], None
    return [base, other], t.treated

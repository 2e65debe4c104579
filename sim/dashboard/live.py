"""Live changes: a strategy control moved while the model runs takes effect from the next day on.

The model reads its scenario every day, but builds a few things from it once
(segment and tier tables, the content effect table, the operator's policy). A
live change swaps the scenario and rebuilds exactly those, so the next day runs
under the new settings; a program switched on mid-run starts from a clean state.
Settings that shape the community itself (market, network, seed, an
operating-model preset) are not changed live: they apply on Reset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config.base import CONTENT_TYPES
from sim.config.schema import Scenario
from sim.mechanisms.operators import resize_team
from sim.mechanisms.registry import COLUMNS

if TYPE_CHECKING:
    from sim.model import CommunityModel

#: Scenario keys a live change may touch (dotted paths); anything else needs a rebuild.
LIVE_KEYS = (
    "content.mix",
    "content.posts_per_day",
    "referral.reward_inviter",
    "referral.reward_invitee",
    "incentives.points.enabled",
    "incentives.coupons.enabled",
    "incentives.coupons.target",
    "incentives.coupons.value",
    "operators.headcount",
    "koc.incubation.enabled",
)

#: Population columns of the points program, cleared when it is switched on mid-run.
POINTS_COLUMNS = ("points", "points_last_earn", "last_redeem")


class NeedsReset(ValueError):
    """The new settings differ in keys that cannot change on a running model."""


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if path in LIVE_KEYS:
                out[path] = value
            else:
                out.update(_flat(value, path))
        return out
    return {prefix: data}


def changes(old: Scenario, new: Scenario) -> dict[str, tuple[Any, Any]]:
    """The keys whose values differ between ``old`` and ``new``: dotted path -> (old, new)."""
    a, b = _flat(old.model_dump(mode="json")), _flat(new.model_dump(mode="json"))
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def apply(model: CommunityModel, new: Scenario) -> dict[str, tuple[Any, Any]]:
    """Run ``model`` under ``new`` from its next day on; returns the changed keys (``NeedsReset`` if any is not live).

    Rebuilt: the segment and tier tables and the content effect table (derived from the scenario once);
    the policy's content mix (a rule's earlier shift is replaced by the new mix) and the team's floor
    (moved by the change in headcount, keeping the rules' hires); the team is resized now for
    a new headcount or content plan.
    The points program switched on starts with empty balances.
    """
    diff = changes(model.scenario, new)
    if fixed := [k for k in diff if k not in LIVE_KEYS]:
        raise NeedsReset(f"{', '.join(fixed)} cannot change on a running model; press Reset to rebuild it")
    if not diff:
        return diff
    old = model.scenario
    model.scenario = new
    model.derive_tables()
    if "content.mix" in diff:
        mix = np.array([new.content.mix.get(t, 0.0) for t in CONTENT_TYPES])
        model.policy.mix = mix / mix.sum()
    if "operators.headcount" in diff:
        step = new.operators.headcount - old.operators.headcount
        model.policy.floor = max(0.0, model.policy.floor + step)
    if "operators.headcount" in diff or "content.posts_per_day" in diff:
        resize_team(model)  # a new plan is staffed now, not at the next staffing review
    if "incentives.points.enabled" in diff and new.incentives.points.enabled:
        fills = {col.name: col.fill for col in COLUMNS}
        for name in POINTS_COLUMNS:
            getattr(model.pop, name)[:] = fills[name]
    return diff

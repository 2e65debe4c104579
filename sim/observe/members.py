"""The members table: the final state of everyone who ever joined, one row each, for individual-level research.

Written as ``members.parquet`` when ``output.members`` is on (``community-sim run --members``):

| column | meaning |
|---|---|
| ``person`` | person id (as in the event log) |
| ``status`` | ``member`` or ``churned`` at the end of the run |
| ``stage`` | lifecycle stage of a member (``new``, ``active``, ``loyal``, ``advocate``, ``dormant``); ``churned`` |
| ``join_day``, ``join_source`` | run day and source of the (last) joining |
| ``segment`` | segment index (``market.segments``) |
| ``purchases``, ``spend`` | purchases and yuan paid over the run |
| ``first_purchase_day`` | run day of the first purchase (-1: none) |
| ``points``, ``tier`` | points balance and tier level (0: none) |
| ``referrer`` | person id of the member who referred them (-1: none) |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.core.population import MEMBER, STATUS_NAMES
from sim.mechanisms.lifecycle import STAGES, stages

if TYPE_CHECKING:
    from sim.model import CommunityModel


def members_frame(model: CommunityModel) -> pd.DataFrame:
    """One row per person who ever joined, in id order (see the module's table)."""
    pop = model.pop
    ever = np.flatnonzero(pop.join_day >= 0)
    is_member = pop.status[ever] == MEMBER
    stage = np.full(ever.size, "churned", dtype=object)
    stage[is_member] = np.take(np.array(STAGES, dtype=object), stages(model, ever[is_member]))
    sources = {code: name for name, code in model.join_codes.items()}
    return pd.DataFrame(
        {
            "person": ever.astype(np.int64),
            "status": [STATUS_NAMES[s] for s in pop.status[ever]],
            "stage": stage.astype(str),
            "join_day": pop.join_day[ever].astype(np.int32),
            "join_source": [sources.get(int(c), "unknown") for c in pop.join_source[ever]],
            "segment": pop.segment[ever].astype(np.int16),
            "purchases": pop.purchases[ever].astype(np.int32),
            "spend": pop.spend[ever].astype(np.float64),
            "first_purchase_day": pop.first_purchase[ever].astype(np.int32),
            "points": pop.points[ever].astype(np.float64),
            "tier": pop.tier[ever].astype(np.int8),
            "referrer": pop.referrer[ever].astype(np.int64),
        }
    )

"""The event log: joins, purchases, referrals and churns, one row per event.

Events are appended as numpy arrays per day (no per-event Python objects) and
assembled into one table at the end of the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.population import JOIN_SOURCES

KINDS = ("join", "purchase", "referral", "churn")


class EventLog:
    """Columnar, append-only event store. Disabled logs record nothing."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._chunks: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(
        self,
        day: int,
        kind: str,
        person: np.ndarray,
        *,
        source: int | np.ndarray = -1,
        amount: float | np.ndarray = 0.0,
        counterpart: int | np.ndarray = -1,
    ) -> None:
        if not self.enabled or person.size == 0:
            return
        n = person.size
        self._chunks.append(
            (
                day,
                KINDS.index(kind),
                person.astype(np.int32, copy=False),
                np.broadcast_to(np.asarray(source, dtype=np.int8), n),
                np.broadcast_to(np.asarray(amount, dtype=np.float64), n),
                np.broadcast_to(np.asarray(counterpart, dtype=np.int32), n),
            )
        )

    def frame(self) -> pd.DataFrame:
        """All events as a DataFrame: day, person, kind, source, amount, counterpart."""
        if not self._chunks:
            empty = pd.DataFrame(
                {
                    "day": np.zeros(0, np.int32),
                    "person": np.zeros(0, np.int32),
                    "kind": pd.Categorical([], categories=KINDS),
                    "source": pd.Categorical([], categories=JOIN_SOURCES),
                    "amount": np.zeros(0),
                    "counterpart": np.zeros(0, np.int32),
                }
            )
            return empty
        sizes = [c[2].size for c in self._chunks]
        day = np.repeat([c[0] for c in self._chunks], sizes).astype(np.int32)
        kind = np.repeat([c[1] for c in self._chunks], sizes)
        src = np.concatenate([c[3] for c in self._chunks])
        source = pd.Categorical.from_codes(np.where(src >= 0, src, -1), categories=list(JOIN_SOURCES))
        return pd.DataFrame(
            {
                "day": day,
                "person": np.concatenate([c[2] for c in self._chunks]),
                "kind": pd.Categorical.from_codes(kind, categories=KINDS),
                "source": source,
                "amount": np.concatenate([c[4] for c in self._chunks]),
                "counterpart": np.concatenate([c[5] for c in self._chunks]),
            }
        )

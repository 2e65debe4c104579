"""The event log: joins, purchases, referrals and churns, one row per event.

Events are appended as numpy arrays per day (no per-event Python objects) and
assembled into one table at the end of the run. Columns: day, person, kind,
source (join source of joins), amount (list value of a purchase, reward of a
referral), net (what the buyer paid after discounts; equals amount otherwise),
counterpart (the referrer of a referral or referral join) and label (the name
of a marker: crisis, promotion, competitor or rule firing, whose person is -1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = ("join", "purchase", "referral", "churn", "crisis", "promotion", "competitor", "rule")
COLUMNS = ("person", "source", "amount", "net", "counterpart")
DTYPES = (np.int32, np.int8, np.float64, np.float64, np.int32)


class EventLog:
    """Columnar, append-only event store. A disabled log records nothing."""

    def __init__(self, sources: tuple[str, ...], enabled: bool = True) -> None:
        self.sources = sources  # join sources, by code
        self.enabled = enabled
        self._days: list[int] = []
        self._kinds: list[int] = []
        self._cols: list[list[np.ndarray]] = [[] for _ in COLUMNS]
        self._labels: list[str] = []  # one per chunk: the label of a marker, "" otherwise

    def add(
        self,
        day: int,
        kind: str,
        person: np.ndarray,
        *,
        source: int | np.ndarray = -1,
        amount: float | np.ndarray = 0.0,
        counterpart: int | np.ndarray = -1,
        net: float | np.ndarray | None = None,
        label: str = "",
    ) -> None:
        if not self.enabled or person.size == 0:
            return
        n = person.size
        values = (person, source, amount, amount if net is None else net, counterpart)
        for store, value, dtype in zip(self._cols, values, DTYPES, strict=True):
            store.append(np.broadcast_to(np.asarray(value, dtype=dtype), n))
        self._days.append(day)
        self._kinds.append(KINDS.index(kind))
        self._labels.append(label)

    def note(self, day: int, kind: str, label: str) -> None:
        """A dated marker with no person: a crisis onset, a promotion, a rule firing."""
        self.add(day, kind, np.array([-1], dtype=np.int32), label=label)

    def frame(self) -> pd.DataFrame:
        """All events as a DataFrame with the columns described in the module docstring."""
        sizes = [c.size for c in self._cols[0]]
        cols = {
            name: np.concatenate(store) if store else np.zeros(0, dtype)
            for name, store, dtype in zip(COLUMNS, self._cols, DTYPES, strict=True)
        }
        return pd.DataFrame(
            {
                "day": np.repeat(np.asarray(self._days, dtype=np.int32), sizes),
                "person": cols["person"],
                "kind": pd.Categorical.from_codes(
                    np.repeat(np.asarray(self._kinds, dtype=np.int8), sizes), categories=KINDS
                ),
                "source": pd.Categorical.from_codes(cols["source"].astype(np.int16), categories=list(self.sources)),
                "amount": cols["amount"],
                "net": cols["net"],
                "counterpart": cols["counterpart"],
                "label": pd.Categorical(np.repeat(np.asarray(self._labels, dtype=object), sizes)),
            }
        )

"""The event log: joins, purchases, referrals and churns, one row per event.

Events are appended as numpy arrays per day (no per-event Python objects) and
assembled into one table at the end of the run. A year of a large market logs
tens of millions of purchases (20 bytes each: about 250 MB at 10^6 people, whose
columns take 180 MB), so once the log holds ``SPILL_BYTES`` in memory its events go
to an unnamed temporary file (``tempfile.TemporaryFile``, in ``TMPDIR``, 34 bytes an
event; it has no name, and the system frees it when the process ends, or sooner if the
log is collected, which Mesa's registry of models rarely allows) and the run's memory
stays bounded; ``write_parquet`` writes them part by part. Columns: day, person, kind,
source (join source of joins), amount (list value of a purchase, reward of a
referral), net (what the buyer paid after discounts; equals amount otherwise),
counterpart (the referrer of a referral or referral join) and label (the name
of a marker: crisis, promotion, competitor or rule firing, whose person is -1).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

KINDS = ("join", "purchase", "referral", "churn", "crisis", "promotion", "competitor", "rule")
COLUMNS = ("person", "source", "amount", "net", "counterpart")
DTYPES = (np.int32, np.int8, np.float64, np.float64, np.int32)
#: Bytes of events the log keeps in memory before it writes them to its temporary file.
SPILL_BYTES = 64 << 20
#: One part of the log: day, kind, label code, then ``COLUMNS``, one entry per event.
Part = tuple[np.ndarray, ...]
PART_DTYPES = (np.int32, np.int8, np.int32, *DTYPES)
NET = COLUMNS.index("net")


class EventLog:
    """Columnar, append-only event store. A disabled log records nothing."""

    def __init__(self, sources: tuple[str, ...], enabled: bool = True, spill_bytes: int | None = None) -> None:
        self.sources = sources  # join sources, by code
        self.enabled = enabled
        self.spill_bytes = SPILL_BYTES if spill_bytes is None else spill_bytes
        self._days: list[int] = []
        self._kinds: list[int] = []
        self._cols: list[list[np.ndarray]] = [[] for _ in COLUMNS]
        self._label_codes: list[int] = []  # one per batch: its label's code in ``_labels`` ("" otherwise)
        self._labels: dict[str, int] = {}  # label -> code, in the order first logged
        self._bytes = 0  # bytes of the arrays held in memory
        self._file: IO[bytes] | None = None  # the parts written out so far, column after column
        self._spilled: list[int] = []  # events in each of them

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
        for k, (store, value, dtype) in enumerate(zip(self._cols, values, DTYPES, strict=True)):
            array = np.asarray(value, dtype=dtype)
            store.append(np.broadcast_to(array, n))  # a scalar takes no memory for its n events
            if not (k == NET and net is None):  # net is then amount's array, counted once
                self._bytes += array.nbytes
        self._days.append(day)
        self._kinds.append(KINDS.index(kind))
        self._label_codes.append(self._labels.setdefault(label, len(self._labels)))
        if self._bytes > self.spill_bytes:
            self._spill()

    @property
    def spilled_parts(self) -> int:
        """How many times the log has written its events to its temporary file."""
        return len(self._spilled)

    def note(self, day: int, kind: str, label: str) -> None:
        """A dated marker with no person: a crisis onset, a promotion, a rule firing."""
        self.add(day, kind, np.array([-1], dtype=np.int32), label=label)

    def _pending_columns(self) -> Iterator[np.ndarray]:
        """The events held in memory, one column of a part at a time (``PART_DTYPES``)."""
        sizes = [c.size for c in self._cols[0]]
        for per_batch, dtype in zip((self._days, self._kinds, self._label_codes), PART_DTYPES[:3], strict=True):
            yield np.repeat(np.asarray(per_batch, dtype=dtype), sizes)
        for store in self._cols:
            yield np.concatenate(store)

    def _pending(self) -> Part | None:
        """The events held in memory as one part, or None when there are none."""
        return tuple(self._pending_columns()) if self._days else None

    def _spill(self) -> None:
        """Append the events held in memory to the temporary file, a column at a time (never a copy of
        them all at once), and let them go. A write that fails (a full disk) leaves the file as it was and the events
        in memory."""
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="community-sim-events-")
        f = self._file
        end = f.seek(0, 2)
        try:
            for column in self._pending_columns():  # a scalar's events written out in full
                f.write(column)
            f.flush()
        except BaseException:
            with contextlib.suppress(OSError):
                f.seek(end)
                f.truncate(end)
            raise
        self._spilled.append(sum(c.size for c in self._cols[0]))
        self._days, self._kinds, self._label_codes = [], [], []
        self._cols = [[] for _ in COLUMNS]
        self._bytes = 0

    def _parts(self) -> Iterator[Part]:
        """Every part of the log in order: those in the temporary file, then those in memory."""
        if self._file is not None:
            self._file.seek(0)
            for n in self._spilled:
                part = tuple(np.empty(n, dtype=dtype) for dtype in PART_DTYPES)
                for array in part:
                    if self._file.readinto(memoryview(array).cast("B")) != array.nbytes:
                        raise OSError("the event log's temporary file is shorter than what was written to it")
                yield part
        pending = self._pending()
        if pending is not None:
            yield pending

    def _table(self, part: Part) -> pd.DataFrame:
        """One part as rows of the event table (the columns of the module docstring)."""
        day, kind, label, person, source, amount, net, counterpart = part
        names = sorted(self._labels)  # the categories of the whole log, in every part
        recode = np.array([names.index(name) for name in self._labels], dtype=np.int32)  # by code
        return pd.DataFrame(
            {
                "day": day,
                "person": person,
                "kind": pd.Categorical.from_codes(kind, categories=KINDS),
                "source": pd.Categorical.from_codes(source.astype(np.int16), categories=list(self.sources)),
                "amount": amount,
                "net": net,
                "counterpart": counterpart,
                "label": pd.Categorical.from_codes(recode[label], categories=names),
            }
        )

    def frame(self) -> pd.DataFrame:
        """All events as a DataFrame with the columns described in the module docstring."""
        parts = list(self._parts())
        if not parts:
            empty = tuple(np.zeros(0, dtype) for dtype in PART_DTYPES)
            return self._table(empty)
        return self._table(tuple(np.concatenate(c) for c in zip(*parts, strict=True)) if len(parts) > 1 else parts[0])

    def write_parquet(self, path: Path) -> None:
        """``frame().to_parquet(path, index=False)``, a part at a time when some were written out."""
        if self._file is None:
            self.frame().to_parquet(path, index=False)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        try:
            for part in self._parts():
                table = pa.Table.from_pandas(self._table(part), preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()

"""Which rows a day's per-member arithmetic runs on, and how it is spread over two cores.

Phases compute on the members' rows of the population's columns. While members are a
minority those rows are the member index (a gather by it); once they are most of the
market (``DENSE_SHARE``) phases compute on whole columns, a contiguous pass that costs a
fraction of the gather, and keep only the members' results (``members_where``,
``write_members``). In a large market whole columns, and long lists of people such as
today's visitors, are computed in two halves, the second on another thread: numpy drops
the GIL in its loops, so the halves run on two cores (``split_rows``, ``split_people``).
Every result is element by element, so all three ways give the same numbers bit for bit
(tests/test_dense_rows.py): they are speed choices only.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

import numpy as np

from sim.core.population import MEMBER, Population, SegmentTables
from sim.engine.arrays import put_where
from sim.engine.options import EngineOptions

#: Members' share of the market from which phases work on whole columns (see ``member_rows``).
DENSE_SHARE = 0.5
ALL_ROWS = slice(None)
T = TypeVar("T")


class MemberRows:
    """The member index, mask and rows of a ``CommunityModel``, and the work split over two cores."""

    pop: Population
    n_members: int
    segments: SegmentTables
    engine: EngineOptions  # when to split work over two cores

    def init_member_rows(self) -> None:
        self._member_index: np.ndarray | None = None
        self._member_segments: np.ndarray | None = None
        self._member_mask: np.ndarray | None = None
        self.dense_share = DENSE_SHARE
        self._other_core: ThreadPoolExecutor | None = None

    def member_index(self) -> np.ndarray:
        """Sorted indices of current members (cached until the next join or churn)."""
        if self._member_index is None:
            self._member_index = np.flatnonzero(self.pop.status == MEMBER)
        return self._member_index

    def member_segments(self) -> np.ndarray:
        """Segment codes (intp) of ``member_index()``, cached with it: several phases need them every day."""
        if self._member_segments is None or self._member_index is None:
            self._member_segments = self.segments.index[self.member_index()]
        return self._member_segments

    def member_mask(self) -> np.ndarray | bool:
        """``status == MEMBER`` per person, cached with the member index; plain True when all are members."""
        if self.n_members == self.pop.n:
            return True  # numpy's where= and & take a scalar: no pass over a mask that is all True
        if self._member_mask is None:
            self._member_mask = self.pop.status == MEMBER
        return self._member_mask

    def member_rows(self) -> np.ndarray | slice:
        """The rows today's per-member arithmetic runs on: the members' indices, or every row.

        When members are most of the market (``dense_share``), phases compute on whole
        columns and keep only the members' results (``members_where``, ``write_members``):
        a contiguous pass costs a fraction of a gather by the member index. Arithmetic is
        element by element, so the members' results are the same either way.
        """
        return ALL_ROWS if self.n_members >= self.dense_share * self.pop.n else self.member_index()

    def row_segments(self, rows: np.ndarray | slice) -> np.ndarray:
        """Segment codes of ``member_rows()`` (or of a slice of the rows, see ``split_rows``)."""
        return self.segments.index[rows] if isinstance(rows, slice) else self.member_segments()

    def members_in(self, rows: slice) -> np.ndarray | bool:
        """``member_mask()`` on a slice of the rows."""
        mask = self.member_mask()
        return mask if mask is True else mask[rows]

    def split_rows(self, fn: Callable[[np.ndarray | slice], T], rows: np.ndarray | slice) -> list[T]:
        """``[fn(rows)]``; on whole columns, ``fn`` of each block of rows (``EngineOptions.block_rows``),
        and in a large market the first half of the blocks on this core, the second on the other.

        ``fn`` must work element by element on its rows (numpy drops the GIL in the arithmetic), so
        the blocks' results are the whole's, split: blocks and halves are a speed choice only. So ``fn`` must not
        draw random numbers, log events, book to the ledger, sum floats that reach the outputs, call
        ``split_*`` itself, or write outside its rows; ``rows`` is ``member_rows()``. A phase reaches this
        through its ``Scope``, which withholds the streams, the ledger, the event log and ``split_*`` while
        the halves run (``sim.mechanisms.scope.NOT_IN_SPLIT_WORK``).
        """
        if not isinstance(rows, slice):
            return [fn(rows)]
        n, blocks = self.pop.n, self.engine.blocks(self.pop.n)
        if not self.engine.splits(n):
            return [fn(block) for block in blocks]
        if len(blocks) < 2:
            blocks = [slice(0, n // 2), slice(n // 2, None)]
        self.member_mask()  # cached before the halves read it
        half = (len(blocks) + 1) // 2
        mine, theirs = self._in_two(lambda part: [fn(block) for block in part], blocks[:half], blocks[half:])
        return mine + theirs

    def split_people(self, fn: Callable[[np.ndarray], T], people: np.ndarray) -> list[T]:
        """``[fn(people)]``; for many people in a large market, ``fn`` of each half of them, on two cores.

        As ``split_rows``, for per-person work on a list of people (today's visitors): ``fn`` must
        treat each person on their own.
        """
        if not self.engine.splits_people(self.pop.n, people.size):
            return [fn(people)]
        half = people.size // 2
        return self._in_two(fn, people[:half], people[half:])

    def _in_two(self, fn: Callable, first, second) -> list:
        """``[fn(first), fn(second)]``, the second on the worker thread. The second is always waited for,
        so no half still writes to the columns once this returns or raises."""
        later = self._worker().submit(fn, second)
        try:
            mine = fn(first)
        finally:
            wait([later])
        return [mine, later.result()]

    def _worker(self) -> ThreadPoolExecutor:
        """The thread that takes the second half of split work (stopped by ``stop_worker``)."""
        if self._other_core is None:
            self._other_core = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rows")
        return self._other_core

    def stop_worker(self) -> None:
        """Stop the thread of split work, if any (a later split starts another)."""
        if self._other_core is not None:
            self._other_core.shutdown()
            self._other_core = None

    def members_where(self, rows: np.ndarray | slice, flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions in ``rows`` and sorted ids of the members whose ``flags`` (aligned with ``rows``) are set."""
        if isinstance(rows, slice):
            at = np.flatnonzero(flags & self.members_in(rows))
            start = rows.start or 0
            return at, (at + start if start else at)
        at = np.flatnonzero(flags)  # integer positions: indexing by them beats boolean masks at 10^6
        return at, rows[at]

    def positions_in(self, part: np.ndarray | slice, at: np.ndarray) -> tuple[slice, np.ndarray]:
        """Which of the sorted positions ``at`` (in ``member_rows()``) fall in ``part``, and where in it.

        ``part`` is ``member_rows()`` itself or, on whole columns, one of ``split_rows``'s halves.
        """
        if not isinstance(part, slice) or part == ALL_ROWS:
            return ALL_ROWS, at
        start = part.start or 0
        lo = int(np.searchsorted(at, start))
        hi = at.size if part.stop is None else int(np.searchsorted(at, part.stop))
        return slice(lo, hi), at[lo:hi] - start

    def count_members(self, column: np.ndarray, test: Callable[[np.ndarray], np.ndarray]) -> int:
        """How many members pass ``test`` on their entries of ``column`` (on whole columns when dense)."""
        rows = self.member_rows()
        if isinstance(rows, slice):
            return int(np.count_nonzero(test(column) & self.member_mask()))
        return int(np.count_nonzero(test(column[rows])))

    def write_members(self, column: np.ndarray, rows: np.ndarray | slice, values: np.ndarray) -> None:
        """``column[rows] = values`` for the members only (``values`` aligned with ``rows``)."""
        if isinstance(rows, slice):
            members = self.members_in(rows)
            if members is True:
                np.copyto(column[rows], values, casting="same_kind")
            else:
                put_where(column[rows], members, values)
        else:
            column[rows] = values

    def invalidate_members(self) -> None:
        """Called by every status transition."""
        self._member_index = self._member_segments = self._member_mask = None

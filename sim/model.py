"""CommunityModel: one Mesa step is one day of the community.

The day runs as vectorized phases over the population's columns in the order of
``sim.schedule.PHASES``; then the ledger closes, the KPIs and health alerts are
computed, the adaptive rules act on them, and the DataCollector records the day.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import mesa
import numpy as np

from sim.agents import Person
from sim.config.schema import Scenario
from sim.daystate import N_TYPES, DayState, Modifiers
from sim.events import EventLog
from sim.health import HealthTracker
from sim.ledger import Ledger
from sim.mathutil import put_where
from sim.mechanisms.acquisition import seed_initial_members
from sim.mechanisms.content import effect_table
from sim.mechanisms.incentives import tiers
from sim.mechanisms.operators import Operator
from sim.memory import keep_freed_memory
from sim.metrics import KPI_NAMES, KPITracker
from sim.network import build_network
from sim.policy import Policy
from sim.population import MEMBER, create_population, interest_matrix, segment_column
from sim.rules_engine import RuleEngine
from sim.schedule import PHASES
from sim.streams import Streams

#: Person agents are created for every person up to this market size ("auto").
AGENT_VIEW_LIMIT = 100_000
#: Market size from which freed memory is kept for reuse (see ``sim.memory``).
LARGE_MARKET = 100_000
#: Market size from which each day's per-person draws are repeated for the next day on a second core.
DRAW_AHEAD_MARKET = 100_000
#: Market size from which whole-column arithmetic is split in two halves computed on two cores.
SPLIT_MARKET = 200_000
#: ... and from how many people per-person work on a list of them is split (see ``split_people``).
SPLIT_PEOPLE = 100_000
#: Members' share of the market from which phases work on whole columns (see ``member_rows``).
DENSE_SHARE = 0.5
ALL_ROWS = slice(None)
T = TypeVar("T")


class CommunityModel(mesa.Model):
    """A brand community under one strategy. ``step()`` simulates one day."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        record_events: bool | None = None,
        agent_views: bool | None = None,
    ) -> None:
        self.scenario = scenario
        self.days_done = 0  # days simulated; Mesa 3.5 counts steps through its own event schedule
        self.seed_used = scenario.seed if seed is None else int(seed)
        self.streams = Streams(self.seed_used)
        super().__init__(rng=self.streams["mesa"])
        n = scenario.market.size
        if n >= LARGE_MARKET:
            keep_freed_memory()
        if n >= DRAW_AHEAD_MARKET:
            self.streams.draw_ahead()
        self.network = build_network(scenario.market.network, n, self.streams["network"])
        self.pop = create_population(scenario, self.streams["population"])
        # segments never change; per-segment tables index ~5x faster with native ints than with int8 codes
        self.segment_index = self.pop.segment.astype(np.intp)
        self.interests = interest_matrix(scenario)
        # per-segment tables: float32 where they only enter log-odds, float64 where they make money
        self.price_sensitivity = segment_column(scenario, "price_sensitivity")
        self.log_activity = np.log(segment_column(scenario, "activity", np.float64))
        self.basket_mean = segment_column(scenario, "basket_mean", np.float64)
        self.basket_sigma = segment_column(scenario, "basket_sigma", np.float64)
        self.cycle_days = segment_column(scenario, "purchase_cycle_days")
        self.coupon_sensitivity = segment_column(scenario, "coupon_sensitivity")
        self.status_sensitivity = segment_column(scenario, "status_sensitivity")
        self.mods = Modifiers.zeros(n)
        tiers.tables(self)
        self.effects = effect_table(self)
        self.koc_reach = np.zeros(n, dtype=np.int32)
        self.ugc_yesterday = np.zeros(N_TYPES)
        self.plan_remaining = 0.0
        self.question_backlog = 0.0
        self.last_show = -1
        self.n_members = 0
        self.n_churned = 0
        self.n_negative = 0
        self.policy = Policy.from_scenario(scenario)
        self.markers: list[dict] = []
        self._member_index: np.ndarray | None = None
        self._member_segments: np.ndarray | None = None
        self._member_mask: np.ndarray | None = None
        self.dense_share = DENSE_SHARE
        self._other_core: ThreadPoolExecutor | None = None
        self.coupon_habits = False  # whether any coupon habit has formed (redemptions teach it)
        self.ledger = Ledger()
        self.events = EventLog(scenario.output.events if record_events is None else record_events)
        self.kpis = KPITracker()
        self.health = HealthTracker()
        self.rules = RuleEngine(self)
        self.day = DayState(day=0)
        self.today: dict[str, float] = {}

        self.operators = Operator.create_agents(self, scenario.operators.headcount)
        if agent_views if agent_views is not None else n <= AGENT_VIEW_LIMIT:
            Person.create_agents(self, n, row=list(range(n)))
        seed_initial_members(self)
        self.datacollector = mesa.DataCollector(model_reporters={k: (lambda m, k=k: m.today[k]) for k in KPI_NAMES})
        self.initial_joins = dict(self.day.joins)

    @property
    def persons(self) -> mesa.agent.AgentSet:
        """Person agent views (empty when views are off for a large market)."""
        return self.agents_by_type.get(Person, mesa.agent.AgentSet([], random=self.random))

    @property
    def scenario(self) -> Scenario:
        """The community scenario (frozen while the model runs)."""
        return self._community_scenario

    @scenario.setter
    def scenario(self, value) -> None:
        # Mesa 3.5 gives every model an experimental ``mesa.experimental.scenarios.Scenario`` of its own and
        # sets ``model.scenario`` in ``Model.__init__``; keep that one aside instead of losing ours to it.
        if isinstance(value, Scenario):
            self._community_scenario = value
        else:
            self.mesa_scenario = value

    def member_index(self) -> np.ndarray:
        """Sorted indices of current members (cached until the next join or churn)."""
        if self._member_index is None:
            self._member_index = np.flatnonzero(self.pop.status == MEMBER)
        return self._member_index

    def member_segments(self) -> np.ndarray:
        """Segment codes (intp) of ``member_index()``, cached with it: several phases need them every day."""
        if self._member_segments is None or self._member_index is None:
            self._member_segments = self.segment_index[self.member_index()]
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
        return self.segment_index[rows] if isinstance(rows, slice) else self.member_segments()

    def members_in(self, rows: slice) -> np.ndarray | bool:
        """``member_mask()`` on a slice of the rows."""
        mask = self.member_mask()
        return mask if mask is True else mask[rows]

    def split_rows(self, fn: Callable[[np.ndarray | slice], T], rows: np.ndarray | slice) -> list[T]:
        """``[fn(rows)]``; on whole columns of a large market, ``fn`` of each half, the halves on two cores.

        ``fn`` must work element by element on its rows (numpy drops the GIL in the arithmetic), so
        the halves' results are the whole's, split: the split is a speed choice only.
        """
        if not isinstance(rows, slice) or self.pop.n < SPLIT_MARKET:
            return [fn(rows)]
        self.member_mask()  # cached before the halves read it
        half = self.pop.n // 2
        second = self._worker().submit(fn, slice(half, None))
        return [fn(slice(0, half)), second.result()]

    def split_people(self, fn: Callable[[np.ndarray], T], people: np.ndarray) -> list[T]:
        """``[fn(people)]``; for many people in a large market, ``fn`` of each half of them, on two cores.

        As ``split_rows``, for per-person work on a list of people (today's visitors): ``fn`` must
        treat each person on their own.
        """
        if self.pop.n < SPLIT_MARKET or people.size < SPLIT_PEOPLE:
            return [fn(people)]
        half = people.size // 2
        second = self._worker().submit(fn, people[half:])
        return [fn(people[:half]), second.result()]

    def _worker(self) -> ThreadPoolExecutor:
        """The thread that takes the second half of split work (stopped at the end of ``run``)."""
        if self._other_core is None:
            self._other_core = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rows")
        return self._other_core

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

    def step(self) -> None:
        """Simulate one day."""
        day = DayState(day=self.days_done)
        self.days_done += 1
        if day.day == 0:
            day.joins = dict(self.initial_joins)
        self.day = day
        self.mods.reset()
        for phase in PHASES:
            phase(self)
        if self.streams.ahead is not None:  # tomorrow's draws on the second core while the day closes
            self.streams.ahead.submit()
        self.ugc_yesterday = day.ugc_counts
        accounts = self.ledger.close_day(day.gmv, day.gross_margin)
        row = self.kpis.row(self, accounts)
        row.update(self.health.row(self, row))
        issued = day.coupons_issued
        row["rule_firings"] = self.rules.check(self, row)
        self.kpis.totals["coupons_issued"] += day.coupons_issued - issued  # offers sent by rules tonight
        row["coupons_issued"] = day.coupons_issued
        self.today = row
        self.datacollector.collect(self)

    def force_visit(self, people: np.ndarray) -> None:
        """Make ``people`` visit today whatever their visit draw (e.g. livestream viewers)."""
        if self.day.forced is None:
            self.day.forced = np.zeros(self.pop.n, dtype=bool)
        self.day.forced[people] = True

    def log_marker(self, kind: str, label: str) -> None:
        """Record a dated marker (crisis, promotion, competitor, rule firing) for logs and plots."""
        self.markers.append({"day": self.day.day, "kind": kind, "label": label})
        self.events.note(self.day.day, kind, label)

    def run(self, days: int | None = None, progress: Callable[[int], None] | None = None) -> None:
        """Run ``days`` days (the scenario's by default), calling ``progress(day)`` after each."""
        try:
            for _ in range(self.scenario.days if days is None else days):
                self.step()
                if progress is not None:
                    progress(self.days_done)
        finally:  # no thread left behind (the run's figures are drawn in a forked child)
            if self.streams.ahead is not None:
                self.streams.ahead.close()
            if self._other_core is not None:
                self._other_core.shutdown()
                self._other_core = None

    def timeseries(self):
        """The daily KPIs as a DataFrame indexed by day (0-based)."""
        df = self.datacollector.get_model_vars_dataframe()
        df.index.name = "day"
        return df

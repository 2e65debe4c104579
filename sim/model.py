"""CommunityModel: one Mesa step is one day of the community.

The day runs as vectorized phases over the population's columns in the order of
``sim.mechanisms.registry.PHASES``; then the ledger closes, the KPIs and health alerts are
computed, the adaptive rules act on them, and the DataCollector records the day.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.config.schema import Scenario
from sim.core.agents import Operator, Person
from sim.core.daystate import N_TYPES, DayState, Modifiers
from sim.core.events import EventLog
from sim.core.ledger import Ledger
from sim.core.network import build_network
from sim.core.policy import Policy
from sim.core.population import create_population, personal_churn_frailty, segment_tables
from sim.core.streams import Streams
from sim.core.treatment import Treatment
from sim.engine.mesa_core import mesa as _mesa_core
from sim.engine.options import EngineOptions, default
from sim.engine.rows import MemberRows
from sim.mechanisms.acquisition import seed_initial_members
from sim.mechanisms.churn_score import ScoreBook
from sim.mechanisms.content import effect_table
from sim.mechanisms.incentives import tiers
from sim.mechanisms.registry import COLUMNS, JOIN_SOURCES, LINES, PHASES
from sim.mechanisms.surveys import Product
from sim.observe.collector import KPICollector
from sim.observe.health import HealthTracker
from sim.observe.metrics import KPI_NAMES, KPITracker
from sim.observe.rules_engine import RuleEngine

mesa = _mesa_core()  # Agent, Model and DataCollector; the rest of Mesa loads when first asked for


class CommunityModel(MemberRows, mesa.Model):
    """A brand community under one strategy. ``step()`` simulates one day."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        record_events: bool | None = None,
        agent_views: bool | None = None,
        engine: EngineOptions | None = None,
    ) -> None:
        self.scenario = scenario
        self.engine = default() if engine is None else engine
        self.days_done = 0  # days simulated; Mesa 3.5 counts steps through its own event schedule
        self.seed_used = scenario.seed if seed is None else int(seed)
        self.streams = Streams(self.seed_used)
        super().__init__(rng=self.streams["mesa"])
        n = scenario.market.size
        if self.engine.draws_ahead(n):
            self.streams.draw_ahead()
        self.network = build_network(
            scenario.market.network, n, self.streams["network"], second_core=self.engine.second_core
        )
        self.pop = create_population(scenario, self.streams["population"], COLUMNS)
        self.pop.churn_frailty = personal_churn_frailty(scenario, self.streams)
        self.mods = Modifiers.zeros(n)
        self.derive_tables()
        self.koc_reach = np.zeros(n, dtype=np.int32)
        self.ugc_yesterday = np.zeros(N_TYPES)
        self.question_backlog = 0.0
        self.last_show = -1
        self.product = Product.from_scenario(scenario)  # quality today; surveys' iteration raises it
        self.n_members = 0
        self.n_churned = 0
        self.n_negative = 0
        self.policy = Policy.from_scenario(scenario)
        self.markers: list[dict] = []
        self.init_member_rows()
        self.coupon_habits = False  # whether any coupon habit has formed (redemptions teach it)
        self.ledger = Ledger(LINES)
        self.join_codes = {source: code for code, source in enumerate(JOIN_SOURCES)}
        self.events = EventLog(JOIN_SOURCES, scenario.output.events if record_events is None else record_events)
        self.kpis = KPITracker()
        self.health = HealthTracker()
        self.score_book = ScoreBook()  # the churn-risk score's scorings, for its AUC
        self.rules = RuleEngine(self)
        self.treatment: Treatment | None = None  # an A/B test's treated arm (sim.core.treatment); none by default
        self.day = DayState(day=0)
        self.today: dict[str, float] = {}

        self.operators = Operator.create_agents(self, scenario.operators.headcount)
        views = agent_views if agent_views is not None else n <= self.engine.agent_views_up_to
        self._views_due = n if views else 0  # created when first asked for (``agents``): no phase needs them
        seed_initial_members(self)
        self.datacollector = KPICollector(KPI_NAMES)
        self.initial_joins = dict(self.day.joins)

    def _create_views(self) -> None:
        """The Person agent views, on first use: building 10^5 of them takes longer than a 90-day run of 10^3
        people, and runs, sweeps and validation never read them. Their ids are those they would have had."""
        n, self._views_due = getattr(self, "_views_due", 0), 0
        if n:
            Person.create_agents(self, n, row=list(range(n)))

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Every agent (operators, and the Person views if the market has them), as Mesa's ``Model.agents``."""
        self._create_views()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type[mesa.Agent], mesa.agent.AgentSet]:
        """Mesa's ``Model.agents_by_type``, with the Person views created first."""
        self._create_views()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Mesa's ``Model.agent_types``, with the Person views created first."""
        self._create_views()
        return super().agent_types

    @property
    def persons(self) -> mesa.agent.AgentSet:
        """Person agent views (empty when views are off for a large market)."""
        return self.agents_by_type.get(Person, mesa.agent.AgentSet([], random=self.random))

    @property
    def scenario(self) -> Scenario:
        """The community scenario (frozen; the dashboard swaps in another between days, ``sim.dashboard.live``)."""
        return self._community_scenario

    @scenario.setter
    def scenario(self, value) -> None:
        # Mesa 3.5 gives every model an experimental ``mesa.experimental.scenarios.Scenario`` of its own and
        # sets ``model.scenario`` in ``Model.__init__``; keep that one aside instead of losing ours to it.
        if isinstance(value, Scenario):
            self._community_scenario = value
        else:
            self.mesa_scenario = value

    def derive_tables(self) -> None:
        """Build what the days read from the scenario once: segment, tier and content effect tables
        (again when the scenario is swapped on a running model, as the dashboard's live controls do)."""
        scenario = self.scenario
        self.segments = segment_tables(scenario, self.pop.segment)  # a person's segment never changes
        self.tiers = tiers.tables(scenario, self.segments.status_sensitivity, self.segments.price_sensitivity)
        self.effects = effect_table(self)

    def step(self) -> None:
        """Simulate one day."""
        day = DayState(day=self.days_done)
        self.days_done += 1
        self.streams.start_day(day.day)
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
        self.kpis.cum["coupons_issued"] += day.coupons_issued - issued  # offers sent by rules tonight
        row["coupons_issued"] = day.coupons_issued
        self.today = row
        self.datacollector.collect(self)

    def add_operators(self, count: int) -> None:
        """Hire ``count`` operators (a staffing review or an adaptive rule's action)."""
        for agent in Operator.create_agents(self, count):
            self.operators.add(agent)

    def remove_operators(self, count: int) -> None:
        """Let the ``count`` most recently hired operators go (a staffing review)."""
        for agent in list(self.operators)[len(self.operators) - count :]:
            self.operators.remove(agent)
            agent.remove()

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
        finally:  # no thread left behind once the run is over
            if self.streams.ahead is not None:
                self.streams.ahead.close()
            self.stop_worker()

    def timeseries(self):
        """The daily KPIs as a DataFrame indexed by day (0-based)."""
        df = self.datacollector.get_model_vars_dataframe()
        df.index.name = "day"
        return df

"""The mechanism registry: what it derives from the specs, and that the model keeps to it."""

from __future__ import annotations

import glob

import pytest

from sim.calibration.observed import is_flow
from sim.config.loader import load_scenario
from sim.core.ledger import CATEGORIES
from sim.core.streams import Streams
from sim.mechanisms import registry
from sim.mechanisms.registry import INVITED_SOURCES, JOIN_SOURCES, KPIS, LINES, PHASES, REGISTRY, STREAMS, derive
from sim.mechanisms.spec import KPI, STAGES, Mechanism, counter
from sim.model import CommunityModel
from sim.observe.metrics import INPUT_SOURCES, KPI_NAMES
from sim.run.summary import FLOWS, STOCKS
from tests.conftest import small


def _stage_of(phase) -> int:
    phase = getattr(phase, "__wrapped__", phase)  # the registry calls each phase with its mechanism's scope
    stages = [STAGES.index(stage) for spec in REGISTRY for stage, p in spec.phases if p is phase]
    return stages[0] if stages else STAGES.index("modifiers")  # the registry's own summing phase


def test_phases_run_stage_by_stage_and_each_declared_phase_runs_once():
    order = [_stage_of(p) for p in PHASES]
    assert order == sorted(order)
    declared = [p for spec in REGISTRY for _, p in spec.phases]
    run = [getattr(p, "__wrapped__", p) for p in PHASES]
    assert len(run) == len(declared) + 1  # plus the one modifiers pass
    assert all(run.count(p) == 1 for p in declared)


def test_lines_are_grouped_by_category_and_every_category_has_one():
    cats = list(LINES.values())
    assert [CATEGORIES.index(c) for c in cats] == sorted(CATEGORIES.index(c) for c in cats)
    assert set(cats) == set(CATEGORIES)
    assert KPI_NAMES.count("line_offline_traffic") == 1


def test_a_new_spec_is_placed_by_its_stage_and_adds_its_line_source_stream_and_kpi():
    def store_phase(model):
        pass

    extra = Mechanism(
        name="popup_store",
        section="",
        phases=(("joining", store_phase),),
        streams=("popup",),
        lines=(("popup_rent", "acquisition"),),
        join_sources=("popup",),
        kpis=(KPI("popup_visitors", "flow", counter("popup_visitors")),),
    )
    got = derive((*REGISTRY, extra))
    at = [getattr(p, "__wrapped__", p) for p in got.phases].index(store_phase)
    assert [_stage_of(p) for p in got.phases[:at]] == sorted(_stage_of(p) for p in got.phases[:at])
    assert STAGES.index("joining") <= min(_stage_of(p) for p in got.phases[at + 1 :])
    assert list(got.lines)[len([c for c in LINES.values() if c == "acquisition"])] == "popup_rent"
    assert got.join_sources[-1] == "popup" and "popup" in got.streams
    assert got.kpis[-1].name == "popup_visitors"


@pytest.mark.parametrize(
    "clash",
    [
        {"lines": (("paid_acquisition", "acquisition"),)},
        {"join_sources": ("referral",)},
        {"lines": (("rent", "real_estate"),)},
        {"name": "koc"},
    ],
)
def test_clashing_or_unknown_declarations_are_refused(clash):
    spec = Mechanism(**{"name": "extra", "section": "", **clash})
    with pytest.raises(ValueError):
        derive((*REGISTRY, spec))


def test_a_mechanism_column_is_made_with_its_type_and_start_value_and_a_clash_is_refused():
    import numpy as np

    from sim.core.population import create_population
    from sim.mechanisms.registry import COLUMNS
    from sim.mechanisms.spec import Column

    scenario = small(days=1)
    extra = Column("store_visits", np.int16, -1)
    pop = create_population(scenario, np.random.default_rng(0), (*COLUMNS, extra))
    assert pop.store_visits.dtype == np.int16 and (pop.store_visits == -1).all()
    assert pop.column_names()[-1] == "store_visits" and "points" in pop.owned
    assert pop.nbytes() > sum(getattr(pop, c.name).nbytes for c in COLUMNS)
    for clash in (Column("status", np.int8), COLUMNS[0]):
        with pytest.raises(ValueError, match="declared twice"):
            create_population(scenario, np.random.default_rng(0), (*COLUMNS, clash))


def test_a_field_taken_in_the_same_stage_before_its_leaver_runs_is_refused():
    def hand_out(model):
        pass

    taker = Mechanism(name="red_packets", section="", phases=(("outreach", hand_out),), takes=("live_viewers",))
    livestream_at = [spec.name for spec in REGISTRY].index("livestream")
    derive((*REGISTRY, taker))  # after livestream, in its stage: fine
    before = (*REGISTRY[:livestream_at], taker, *REGISTRY[livestream_at:])
    with pytest.raises(ValueError, match="takes DayState.live_viewers before 'livestream' leaves it"):
        derive(before)


def test_every_section_a_spec_names_is_a_scenario_section():
    from sim.config.schema import Scenario

    for spec in REGISTRY:
        node = Scenario
        for part in spec.section.split(".") if spec.section else ():
            assert part in node.model_fields, f"{spec.name}: {spec.section}"
            node = node.model_fields[part].annotation
        assert spec.section == "" or hasattr(node, "model_fields") or spec.section == "events"


def test_an_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="unknown stage"):
        Mechanism(name="x", section="", phases=(("lunch", lambda m: None),))


def test_flow_kpis_add_up_over_periods_and_headline_ones_are_in_the_summary():
    for kpi in KPIS:
        assert is_flow(kpi.name) == (kpi.kind == "flow")
        if kpi.headline:
            assert kpi.name in (FLOWS if kpi.kind == "flow" else STOCKS)
    for source in JOIN_SOURCES:
        assert f"new_{source}" in KPI_NAMES and is_flow(f"new_{source}")
        assert (f"new_{source}" in FLOWS) == (source not in INPUT_SOURCES)


def _programs() -> tuple[str, ...]:
    """Every incentive program with an on/off switch, from the schema (a new program is covered by itself)."""
    from sim.config.incentives import IncentivesConfig

    return tuple(
        name
        for name, f in IncentivesConfig.model_fields.items()
        if "enabled" in getattr(f.annotation, "model_fields", {})
    )


EVERY_PROGRAM = _programs()
#: Days each shipped scenario runs for the recording. Every stream and handover that needs no dated event
#: appears by day 13 of some scenario; the dated events (the crisis in May, 618, Double 11) are moved into
#: these days (``squeezed``), and tiers demote after 20 inactive days instead of 180, so that each happens.
#: The recording equals that of the full, unsqueezed 365 days (checked when the cap was chosen: 58 streams
#: and handovers, the last at day 166), at an eighth of the cost.
DAYS = 45
DEMOTION_DAYS = 20


def squeezed(data: dict) -> dict:
    """The scenario ``data`` with its dated events scaled into the first ``DAYS`` days, in their order."""
    for event in data["events"]:
        event["day"] = event["day"] * DAYS // data["days"]
    tiers = data["incentives"]["tiers"]
    tiers["demotion_inactive_days"] = min(tiers["demotion_inactive_days"], DEMOTION_DAYS)
    return data


@pytest.fixture(scope="module")
def recorded():
    """Every shipped scenario with every program on: the streams drawn and the DayState fields handed over."""
    drawn: set[str] = set()
    handed: set[tuple[str, str, str]] = set()  # (leaver, field, taker)
    written: dict[str, str] = {}  # field -> the mechanism that last wrote it today
    writers: dict[str, set[str]] = {}  # field -> every mechanism that wrote it today
    read_today: set[tuple[str, str, str]] = set()
    now = {"owner": ""}
    owners = {p: spec.name for spec in REGISTRY for _, p in spec.phases}

    class Today:
        def __init__(self, day):
            object.__setattr__(self, "_day", day)

        def __getattr__(self, name):
            if name in written and written[name] != now["owner"]:
                read_today.add((written[name], name, now["owner"]))
            return getattr(self._day, name)

        def __setattr__(self, name, value):
            written[name] = now["owner"]
            writers.setdefault(name, set()).add(now["owner"])
            setattr(self._day, name, value)

    def watched(phase):
        def run(model):
            now["owner"] = owners.get(getattr(phase, "__wrapped__", None), "modifiers")
            day = model.day
            model.day = Today(day)
            try:
                phase(model)
            finally:
                model.day = day

        return run

    original = Streams.stream

    def recording(self, name):
        drawn.add(name)
        return original(self, name)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Streams, "stream", recording)
        mp.setattr("sim.model.PHASES", [watched(p) for p in PHASES])
        for path in sorted(glob.glob("scenarios/*.yaml")):
            data = load_scenario(path).model_dump()
            data["market"]["size"] = 2000
            data["acquisition"]["initial_members"] = min(data["acquisition"]["initial_members"], 100)
            data["acquisition"]["offline"]["store_visitors_per_day"] = 50
            data["acquisition"]["winback_prob"] = 0.01
            data["koc"]["initial_count"] = min(data["koc"]["initial_count"], 10)
            for program in EVERY_PROGRAM:
                data["incentives"][program]["enabled"] = True
            model = CommunityModel(type(load_scenario(path)).model_validate(squeezed(data)))
            for _ in range(min(model.scenario.days, DAYS)):
                written.clear(), writers.clear(), read_today.clear()
                model.step()
                # a counter that several mechanisms add to (purchases, gmv, points_earned) is no handover
                handed.update(r for r in read_today if r[2] not in writers[r[1]])
    return drawn, handed


def test_every_kpi_has_one_column_and_one_kind_and_mechanism_kpis_sit_in_their_group():
    from sim.observe.metrics import CORE, KIND

    assert len(KPI_NAMES) == len(set(KPI_NAMES)) and set(KIND) == set(KPI_NAMES)
    core = {name for cols in CORE.values() for name, _, _ in cols}
    assert not core & {kpi.name for kpi in KPIS}, "a KPI computed both by metrics and by a mechanism"
    groups = ("community", "commerce", "incentives", "operations")
    for kpi in KPIS:
        later = [name for g in groups[groups.index(kpi.group) + 1 :] for name, _, _ in CORE[g]]
        assert all(KPI_NAMES.index(kpi.name) < KPI_NAMES.index(name) for name in later)


def test_every_stream_a_run_draws_from_is_declared(recorded):
    drawn, _ = recorded
    assert drawn <= set(STREAMS), sorted(drawn - set(STREAMS))
    assert "offline" in drawn


def test_every_day_field_one_mechanism_hands_another_is_declared_on_both_sides(recorded):
    _, handed = recorded
    specs = {spec.name: spec for spec in REGISTRY}
    undeclared = sorted(
        (leaver, field, taker)
        for leaver, field, taker in handed
        if leaver in specs and taker in specs and field != "day"  # the day's number is everyone's
        if field not in specs[leaver].leaves or field not in specs[taker].takes
    )
    assert not undeclared, f"(leaver, DayState field, taker) not declared as leaves/takes: {undeclared}"
    assert len(handed) > 20


def test_joins_from_an_undeclared_source_are_refused():
    from sim.core.membership import join, prospects

    model = CommunityModel(small(days=1))
    with pytest.raises(KeyError):
        join(model, prospects(model)[:3], "billboard")


def test_the_registry_lists_each_module_once():
    assert len({spec.name for spec in REGISTRY}) == len(REGISTRY)
    assert registry.MODEL_STREAMS[0] == "mesa"


def test_invited_sources_are_derived_from_the_specs_and_among_their_join_sources():
    assert INVITED_SOURCES == tuple(s for m in REGISTRY for s in m.invited_sources) == ("referral", "group_buy")
    assert all(s in m.join_sources for m in REGISTRY for s in m.invited_sources)
    with pytest.raises(ValueError, match="not among its join sources"):
        Mechanism(name="x", section="", join_sources=("paid",), invited_sources=("referral",))

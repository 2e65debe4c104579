"""The scenario loader: YAML safety, extends, overrides, and errors a user can act on."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pydantic
import pytest

from sim.config.errors import ScenarioError
from sim.config.loader import (
    apply_overrides,
    load_scenario,
    scenario_from_mapping,
    scenario_hash,
    scenario_to_yaml,
)
from sim.config.schema import Scenario


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(path: Path, *overrides: str, **flags: int) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides, **flags)
    return str(info.value)


def test_minimal_file_fills_defaults_and_names_after_stem(tmp_path):
    scenario = load_scenario(write(tmp_path, "lean-team.yaml", "days: 30\n"))
    assert scenario.name == "lean-team"
    assert scenario.days == 30
    assert scenario.market == Scenario().market


def test_unknown_key_suggests_closest_with_line(tmp_path):
    path = write(
        tmp_path,
        "s.yaml",
        """
        days: 30
        referral:
          reward_invter: 20
    """,
    )
    message = error_of(path)
    assert f"{path}:3: referral.reward_invter: unknown key 'reward_invter'; did you mean 'reward_inviter'?" in message


def test_unknown_key_without_close_match_lists_allowed_keys(tmp_path):
    message = error_of(write(tmp_path, "s.yaml", "output:\n  zzz: 1\n"))
    allowed = "allowed keys: events, plots, members, incentive_counterfactual"
    assert f"s.yaml:2: output.zzz: unknown key 'zzz'; {allowed}" in message


def test_key_in_wrong_section_points_to_where_it_belongs(tmp_path):
    message = error_of(write(tmp_path, "s.yaml", "network:\n  kind: random\n"))
    assert "s.yaml:1: network: unknown key 'network' here; did you mean 'market.network'?" in message


def test_wrong_type_names_expected_type_and_line(tmp_path):
    message = error_of(write(tmp_path, "s.yaml", "seed: 1\ndays: many\n"))
    assert message.endswith("s.yaml:2: days: expected an integer, got 'many'")


def test_true_or_false_is_not_taken_for_a_number(tmp_path):
    """YAML's true/false are bools, which Python and pydantic would take as 1 and 0."""
    path = write(
        tmp_path,
        "s.yaml",
        """
        seed: true
        referral:
          reward_inviter: true
        content:
          ugc_type_mix: {review: false, educational: 0.5, entertainment: 0.5}
        events:
          - {kind: crisis, name: x, type: rumour, day: 5, duration: 3, severity: true}
    """,
    )
    message = error_of(path)
    assert "4 problems" in message
    assert "s.yaml:1: seed: expected an integer, got true" in message
    assert "s.yaml:3: referral.reward_inviter: expected a number, got true" in message
    assert "s.yaml:5: content.ugc_type_mix.review: expected a number, got false" in message
    assert "s.yaml:7: events[0].severity: expected a number, got true" in message
    message = error_of(write(tmp_path, "t.yaml", "days: 3\n"), "market.size=false")
    assert message.endswith(
        "--set market.size=false: market.size: expected an integer, got false"
    )  # no bound message too
    # switches still take true/false, and numbers still take numbers
    scenario = load_scenario(
        write(tmp_path, "u.yaml", "referral:\n  reward_inviter: 1\nlivestream:\n  enabled: false\n")
    )
    assert scenario.referral.reward_inviter == 1.0 and scenario.livestream.enabled is False


def test_out_of_range_gives_allowed_range(tmp_path):
    path = write(
        tmp_path,
        "s.yaml",
        """
        market:
          segments:
            - name: a
              share: 0.5
            - name: b
              share: 1.5
    """,
    )
    message = error_of(path)
    assert "s.yaml:6: market.segments[1].share: must be >= 0 and <= 1, got 1.5" in message


def test_all_problems_reported_at_once_in_line_order(tmp_path):
    path = write(
        tmp_path,
        "s.yaml",
        """
        days: 0
        seed: -1
        churn:
          base_hazard: 1.0
    """,
    )
    lines = error_of(path).splitlines()
    assert lines[0] == f"3 problems in scenario {path}:"
    assert "s.yaml:1: days: must be >= 1 and <= 3650, got 0" in lines[1]
    assert "s.yaml:2: seed: must be >= 0" in lines[2]
    assert "s.yaml:4: churn.base_hazard: must be > 0 and < 1, got 1" in lines[3]


def test_missing_required_key_in_list_item_points_at_the_item(tmp_path):
    path = write(
        tmp_path,
        "s.yaml",
        """
        market:
          segments:
            - share: 1.0
    """,
    )
    assert "s.yaml:3: market.segments[0].name: required key is missing" in error_of(path)


def test_field_validator_error_names_file_and_line(tmp_path):
    path = write(
        tmp_path,
        "s.yaml",
        """
        days: 10
        market:
          segments:
            - {name: a, share: 0.5}
            - {name: b, share: 0.4}
    """,
    )
    assert error_of(path).endswith("s.yaml:3: market.segments: segment shares must sum to 1, they sum to 0.9")


def test_model_validator_error_names_the_key_it_mentions(tmp_path):
    path = write(
        tmp_path,
        "s.yaml",
        """
        description: tiny market
        market:
          size: 100
    """,
    )
    message = error_of(path)
    assert message.startswith(f"{path}:3: market.size: ")
    assert "acquisition.initial_members (1000) exceeds market.size (100)" in message


def test_yaml_syntax_error_gives_its_line(tmp_path):
    path = write(tmp_path, "s.yaml", "days: 10\nmarket:\n  size: [1, 2\nseed: 3\n")
    message = error_of(path)
    assert message.startswith(f"{path}:4: YAML syntax error:")


def test_duplicate_key_names_both_lines(tmp_path):
    path = write(
        tmp_path,
        "s.yaml",
        """
        market:
          size: 1000
        days: 10
        market:
          size: 2000
    """,
    )
    assert error_of(path) == f"{path}:4: market: duplicate key 'market' (lines 1 and 4); keep only one"


def test_python_tag_is_rejected_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = write(tmp_path, "s.yaml", f'days: !!python/object/apply:os.system ["touch {marker}"]\n')
    message = error_of(path)
    assert "s.yaml:1: days: the tag '!!python/object/apply:os.system' is not allowed" in message
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"# only a comment\n", "the file is empty"),
        (b"- days: 10\n", ":1: the top level must be a mapping"),
        (b"just text\n", ":1: the top level must be a mapping"),
        (b"days: 10\ndescription: caf\xe9\n", ":2: not valid UTF-8"),
    ],
)
def test_bad_documents_are_rejected(tmp_path, content, expected):
    path = tmp_path / "s.yaml"
    path.write_bytes(content)
    message = error_of(path)
    assert message.startswith(str(path)) and expected in message


def test_missing_file(tmp_path):
    assert error_of(tmp_path / "nope.yaml") == f"{tmp_path / 'nope.yaml'}: file not found"


def test_extends_deep_merges_child_over_parent(tmp_path):
    write(
        tmp_path,
        "base.yaml",
        """
        name: base
        days: 100
        referral:
          reward_inviter: 5
          reward_invitee: 7
        market:
          size: 5000
          segments:
            - {name: a, share: 0.5}
            - {name: b, share: 0.5}
    """,
    )
    write(tmp_path, "mid.yaml", "extends: base.yaml\nseed: 9\n")
    child = write(
        tmp_path,
        "child.yaml",
        """
        extends: mid.yaml
        referral:
          reward_inviter: 20
        market:
          segments:
            - {name: only, share: 1.0}
    """,
    )
    scenario = load_scenario(child)
    assert scenario.name == "child"  # a parent's name is not inherited
    assert (scenario.days, scenario.seed) == (100, 9)
    assert (scenario.referral.reward_inviter, scenario.referral.reward_invitee) == (20, 7)
    assert scenario.market.size == 5000
    assert [s.name for s in scenario.market.segments] == ["only"]  # lists replace


def test_error_lines_point_into_the_file_that_wrote_the_key(tmp_path):
    write(tmp_path, "base.yaml", "days: 10\nchurn:\n  base_hazard: 2.0\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nseed: 1\nkoc:\n  post_prob: 3\n")
    message = error_of(child)
    assert f"{tmp_path / 'base.yaml'}:3: churn.base_hazard: must be > 0 and < 1, got 2" in message
    assert f"{child}:4: koc.post_prob: must be >= 0 and <= 1, got 3" in message


def test_extends_cycle_reports_the_chain(tmp_path):
    a = write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "days: 3\nextends: a.yaml\n")
    message = error_of(a)
    assert message.startswith(f"{tmp_path / 'b.yaml'}:2: extends: extends cycle:")
    assert message.endswith(f"{a} -> {tmp_path / 'b.yaml'} -> {a}")


def test_extends_through_a_symlink_loop_is_a_clear_error(tmp_path):
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    child = write(tmp_path, "child.yaml", "days: 3\nextends: a.yaml\n")
    assert (
        error_of(child)
        == f"{child}:2: extends: cannot read file (Too many levels of symbolic links): {tmp_path / 'a.yaml'}"
    )
    assert (
        error_of(tmp_path / "a.yaml") == f"{tmp_path / 'a.yaml'}: cannot read file (Too many levels of symbolic links)"
    )


def test_missing_extends_target_names_it_and_the_extends_line(tmp_path):
    child = write(tmp_path, "child.yaml", "days: 3\nextends: ../nowhere/base.yaml\n")
    expected = tmp_path.parent / "nowhere" / "base.yaml"
    assert error_of(child) == f"{child}:2: extends: file not found: {expected}"


def test_a_table_broken_by_a_set_names_the_set(tmp_path):
    path = write(tmp_path, "s.yaml", "days: 3\ncontent:\n  mix: {educational: 0.5, promotional: 0.5}\n")
    message = error_of(path, "content.mix.promotional=2")
    assert message.startswith("--set content.mix.promotional=2: content.mix: content shares must sum to 1")
    assert error_of(path, "days=0").startswith("--set days=0: days:")


def test_a_run_shortened_on_the_command_line_warns_of_events_it_will_not_reach(tmp_path):
    from sim.config.errors import ScenarioWarning

    path = write(
        tmp_path,
        "s.yaml",
        """
        days: 200
        events:
          - {kind: crisis, name: scandal, day: 129}
          - {kind: promotion, name: sale, day: 150}
          - {kind: promotion, name: early, day: 5}
        """,
    )
    with pytest.warns(ScenarioWarning) as caught:
        scenario = load_scenario(path, days=60)
    assert scenario.days == 60 and [ev.name for ev in scenario.events] == ["early"]  # what runs
    assert Scenario.model_validate(scenario.model_dump(mode="json")) == scenario  # valid anywhere, e.g. in a worker
    messages = [str(w.message) for w in caught]
    assert messages == [
        "--days 60: events[0] (scandal) on day 129 will not happen: the run ends on day 59",
        "--days 60: events[1] (sale) on day 150 will not happen: the run ends on day 59",
    ]
    with pytest.warns(ScenarioWarning) as caught:
        load_scenario(path, ["days=100"])
    assert [str(w.message).split(" will")[0] for w in caught] == [
        "--set days=100: events[0] (scandal) on day 129",
        "--set days=100: events[1] (sale) on day 150",
    ]


def test_the_cli_prints_the_warning_and_runs(tmp_path, capsys):
    from sim.cli import main

    text = "days: 100\nmarket: {size: 200}\nacquisition: {initial_members: 20}\nkoc: {initial_count: 2}\n"
    text += "output: {plots: false}\nevents: [{kind: crisis, name: scandal, day: 50}]\n"
    path = write(tmp_path, "s.yaml", text)
    assert main(["run", str(path), "--days", "3", "--out", str(tmp_path / "out"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "warning: --days 3: events[0] (scandal) on day 50 will not happen: the run ends on day 2" in err
    assert (tmp_path / "out").is_dir()


def test_events_outside_the_files_own_run_are_all_reported_at_once(tmp_path):
    text = "days: 30\nevents:\n  - {kind: crisis, name: a, day: 40}\n  - {kind: promotion, name: b, day: 50}\n"
    message = error_of(write(tmp_path, "s.yaml", text))
    assert "events[0] (a) starts on day 40" in message and "events[1] (b) starts on day 50" in message


def test_overrides_scalar_bool_mapping_and_list_index(tmp_path):
    path = write(tmp_path, "s.yaml", "referral:\n  reward_inviter: 5\n")
    scenario = load_scenario(
        path,
        [
            "referral.reward_inviter=20",
            "incentives.points.enabled=true",
            "content.mix={educational: 0.5, review: 0.5}",
            "market.segments[1].share=0.1",
            "market.segments.3.share=0.35",
            "content.effects.review.purchase=1.1",
        ],
    )
    assert scenario.referral.reward_inviter == 20
    assert scenario.incentives.points.enabled is True
    assert scenario.content.mix == {"educational": 0.5, "review": 0.5}
    assert [s.share for s in scenario.market.segments] == [0.45, 0.1, 0.1, 0.35]
    assert scenario.content.effects["review"].purchase == 1.1
    assert scenario.content.effects["review"].trust == Scenario().content.effects["review"].trust


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("foo.bar=1", "--set foo.bar=1: unknown key 'foo'; allowed keys: name, description"),
        (
            "referral.reward_invter=1",
            "--set referral.reward_invter=1: referral: unknown key 'reward_invter'; did you mean 'reward_inviter'?",
        ),
        ("market.segments[9].share=1", "--set market.segments[9].share=1: market.segments: 9 is not an index"),
        ("days.x=1", "--set days.x=1: days: 'x' does not exist"),
        ("days", "--set days: expected key.path=value"),
        ("market.size=5", "--set market.size=5: market.size: must be >= 10 and <= 50000000, got 5"),
    ],
)
def test_override_errors_name_the_override(tmp_path, override, expected):
    assert expected in error_of(write(tmp_path, "s.yaml", "days: 5\n"), override)


def test_days_and_seed_flags_win_and_are_validated(tmp_path):
    path = write(tmp_path, "s.yaml", "days: 5\nseed: 1\n")
    scenario = load_scenario(path, ["days=6"], days=7, seed=8)
    assert (scenario.days, scenario.seed) == (7, 8)
    assert error_of(path, days=0) == "--days 0: days: must be >= 1 and <= 3650, got 0"


def test_apply_overrides_returns_a_new_mapping():
    data = {"referral": {"reward_inviter": 1}}
    out = apply_overrides(data, ["referral.reward_inviter=2", "output.plots=false"])
    assert out == {"referral": {"reward_inviter": 2}, "output": {"plots": False}}
    assert data == {"referral": {"reward_inviter": 1}}


def test_scenario_from_mapping_uses_the_same_messages():
    with pytest.raises(ScenarioError) as info:
        scenario_from_mapping({"koc": {"quality": 2}}, source="inline")
    assert str(info.value) == "inline: koc.quality: must be >= 0 and <= 1, got 2"
    assert scenario_from_mapping({"days": 3}).days == 3


def test_loaded_scenario_is_frozen(tmp_path):
    scenario = load_scenario(write(tmp_path, "s.yaml", "days: 5\n"))
    with pytest.raises(pydantic.ValidationError):
        scenario.days = 6
    with pytest.raises(pydantic.ValidationError):
        scenario.market.size = 6


def test_yaml_round_trip_and_hash(tmp_path):
    scenario = load_scenario(write(tmp_path, "s.yaml", "days: 5\n"), ["incentives.points.enabled=true"], seed=123)
    copy_path = tmp_path / "resolved.yaml"
    copy_path.write_text(scenario_to_yaml(scenario), encoding="utf-8")
    again = load_scenario(copy_path)
    assert again == scenario
    assert scenario_hash(again) == scenario_hash(scenario)
    assert scenario_hash(scenario) != scenario_hash(load_scenario(copy_path, seed=124))


def test_settings_of_a_program_left_switched_off_are_warned_of_where_they_were_written(tmp_path):
    """A program whose settings are written without ``enabled: true`` runs as if it were not there: the
    loader says so, at the file and line of the settings; a section that writes ``enabled: false`` itself
    is off on purpose and is not warned of."""
    from sim.config.errors import ScenarioWarning

    text = "days: 30\nincentives:\n  group_buy:\n    discount: 0.25\n    invites: 8\n  points:\n    enabled: false\n"
    text += "    per_yuan: 2\n  coupons:\n    enabled: true\n    value: 8\n"
    path = write(tmp_path, "s.yaml", text)
    with pytest.warns(ScenarioWarning) as caught:
        load_scenario(path)
    assert [str(w.message) for w in caught] == [
        f"{path}:4: incentives.group_buy: discount, invites are set, but the section is switched off "
        "(enabled: false): they change nothing; add enabled: true to use them"
    ]
    with pytest.warns(ScenarioWarning) as caught:
        load_scenario(write(tmp_path, "t.yaml", "days: 30\n"), ["incentives.lottery.prize_value=50"])
    assert [str(w.message).split(": it")[0] for w in caught] == [
        "--set incentives.lottery.prize_value=50: incentives.lottery: prize_value is set, but the section is "
        "switched off (enabled: false)"
    ]


def test_livestream_days_on_the_weekly_schedule_and_a_weekday_on_listed_days_are_warned_of(tmp_path):
    from sim.config.errors import ScenarioWarning

    path = write(tmp_path, "s.yaml", "days: 60\nlivestream:\n  enabled: true\n")
    with pytest.warns(ScenarioWarning) as caught:
        scenario = load_scenario(path, ["livestream.days=[10, 40]"])
    assert scenario.livestream.schedule == "weekly"
    assert [str(w.message) for w in caught] == [
        "--set livestream.days=[10, 40]: livestream: days is set, but the schedule is 'weekly', which takes "
        "weekday: the shows ignore it (set schedule: dates to use it)"
    ]
    with pytest.warns(ScenarioWarning, match="weekday is set, but the schedule is 'dates'"):
        load_scenario(path, ["livestream.schedule=dates", "livestream.days=[3]", "livestream.weekday=2"])


def test_no_shipped_scenario_writes_settings_that_change_nothing():
    import warnings

    from sim.config.errors import ScenarioWarning

    for path in sorted(Path("scenarios").glob("*.yaml")) + sorted(Path("benchmarks").glob("*.yaml")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScenarioWarning)
            load_scenario(path)
        assert [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)] == [], path


def test_the_settings_of_a_switched_off_program_indeed_change_nothing(tmp_path):
    """What the warning says: the same run with and without the group-buy settings, the program off."""
    import warnings

    from sim.model import CommunityModel

    base = "days: 40\nmarket: {size: 400}\nacquisition: {initial_members: 60}\nkoc: {initial_count: 3}\n"
    runs = []
    for extra in ("", "incentives:\n  group_buy: {discount: 0.4, invites: 9, initiate_prob: 0.9}\n"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scenario = load_scenario(write(tmp_path, f"s{len(runs)}.yaml", base + extra))
        model = CommunityModel(scenario, record_events=False)
        for _ in range(scenario.days):
            model.step()
        runs.append(model.datacollector.get_model_vars_dataframe())
    assert runs[0].equals(runs[1])


def test_an_entry_without_its_kind_or_of_an_unknown_kind_names_the_key_and_the_kinds(tmp_path):
    text = "days: 30\nevents:\n  - {name: x, day: 3}\n  - {kind: festival, name: y, day: 4}\nrules:\n  rules:\n"
    text += "    - name: r\n      when: {kpi: k_factor, op: '<', value: 1}\n      then: {}\n"
    path = write(tmp_path, "s.yaml", text)
    lines = error_of(path).splitlines()[1:]
    assert lines == [
        f"  {path}:3: events[0]: required key 'kind' is missing (one of 'crisis', 'promotion', 'competitor')",
        f"  {path}:4: events[1]: kind must be one of 'crisis', 'promotion', 'competitor', got 'festival'",
        f"  {path}:9: rules.rules[0].then: required key 'action' is missing (one of 'alert', 'crisis_response', "
        "'acquisition_push', 'shift_mix', 'retention_offer', 'add_operators', 'winback_campaign')",
    ]


def test_a_scenario_written_out_in_full_loads_without_a_schedule_warning(tmp_path):
    """``scenario_to_yaml`` writes every key, the livestream's unused ``days: []`` or default ``weekday`` too
    (an optimization's best/*.yaml, each trial built from a resolved base): nobody set them, so loading the
    file back warns of nothing. A value other than the default is still warned of."""
    import warnings

    from sim.config.errors import ScenarioWarning

    base = write(tmp_path, "s.yaml", "days: 60\nlivestream:\n  enabled: true\n")
    for extra in ([], ["livestream.schedule=dates", "livestream.days=[3, 10]"]):
        path = tmp_path / f"full{len(extra)}.yaml"
        path.write_text(scenario_to_yaml(load_scenario(base, extra)), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("error", ScenarioWarning)
            load_scenario(path)
    with pytest.warns(ScenarioWarning, match="days is set, but the schedule is 'weekly'"):
        load_scenario(base, ["livestream.days=[10]"])

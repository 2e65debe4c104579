"""Malformed scenario and experiment files: always a clean error and exit code 2, quickly.

Every case runs the real command line (in process, and a few through ``python -m sim``)
and checks: exit code 2; no traceback; a message naming the file; under a time limit;
no run or results directory created; no object ever built from a YAML tag.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.config.errors import ScenarioError
from sim.config.loader import load_scenario, scenario_from_mapping
from sim.config.yamlsource import MAX_BYTES, MAX_DEPTH

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
LIMIT_SECONDS = 5.0
#: A valid start, so that each case fails on its own defect only.
OK = "days: 3\nmarket: {size: 200}\nacquisition: {initial_members: 10}\nkoc: {initial_count: 1}\n"


def billion_laughs(levels: int = 9) -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 9) -> str:
    """Laughs through merge keys (``<<``) rather than lists."""
    lines = ["m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}"]
    for i in range(1, levels):
        keys = ", ".join(f"k{j}: *m{i - 1}" for j in range(9))
        lines.append(f"m{i}: &m{i} {{<<: *m{i - 1}, {keys}}}")
    return "\n".join(lines) + "\n"


#: name -> (file content, text the message must contain)
MALFORMED: dict[str, tuple[bytes | str, str]] = {
    "unclosed_flow": ("days: [1, 2\n", "YAML syntax error"),
    "bad_indent": ("market:\n  size: 1\n bad: 2\n", "YAML syntax error"),
    "tab_indent": ("market:\n\tsize: 200\n", "YAML syntax error"),
    "unclosed_quote": ('name: "abc\n', "YAML syntax error"),
    "two_documents": ("days: 5\n---\ndays: 6\n", "single document"),
    "top_list": ("- days: 5\n", "top level must be a mapping"),
    "top_scalar": ("hello\n", "top level must be a mapping"),
    "empty": ("", "the file is empty"),
    "only_comment": ("# nothing\n", "the file is empty"),
    "only_separator": ("---\n", "the file is empty"),
    "null_document": ("~\n", "the file is empty"),
    "word_for_int": ("days: many\n", "days: expected an integer"),
    "mapping_for_section": ("market: 5\n", "market: expected a mapping"),
    "list_for_number": (OK + "content: {quality: [1]}\n", "content.quality: expected a number"),
    "mapping_for_list": ("events: {a: 1}\n", "events: expected a list"),
    "float_for_int": ("days: 5.5\n", "days: expected an integer"),
    "huge_int": ("market: {size: 99999999999999999999999999}\n", "market.size: must be"),
    "huge_seed": ("seed: 18446744073709551616\n", "seed: must be"),
    "overflow_float": (OK + "content: {quality: 1.0e309}\n", "content.quality: input should be a finite number"),
    "overflow_string": (OK + "content: {cost_per_post: 1e309}\n", "content.cost_per_post: input should be a finite"),
    "nan": (OK + "content: {quality: .nan}\n", "content.quality: input should be a finite number, got nan"),
    "nan_int": ("days: .nan\n", "days: input should be a finite number"),
    "inf": (OK + "operators: {daily_salary: .inf}\n", "operators.daily_salary: input should be a finite number"),
    "minus_inf": (OK + "purchase: {discount: -.inf}\n", "purchase.discount: input should be a finite number"),
    "nan_in_mix": (OK + "content: {mix: {review: .nan, educational: 1.0}}\n", "content.mix.review"),
    "nan_in_list": (OK + "incentives: {badges: {thresholds: [1.0, .nan]}}\n", "thresholds[1]"),
    "nan_share": ("market: {segments: [{name: a, share: .nan}]}\n", "share"),
    "negative": (OK + "referral: {reward_inviter: -5}\n", "referral.reward_inviter: must be >= 0"),
    "billion_laughs": (billion_laughs(), "alias bomb"),
    "merge_bomb": (merge_bomb(), "alias bomb"),
    "recursive_alias": ("a: &a [1, *a]\n", "recursive alias"),
    "recursive_merge": ("a: &a {b: 1, c: *a}\n", "recursive alias"),
    "python_name": ("days: !!python/name:os.system\n", "is not allowed"),
    "python_object_new": ("market: !!python/object/new:collections.OrderedDict [[]]\n", "is not allowed"),
    "python_module": ("days: !!python/module:os\n", "is not allowed"),
    "binary_tag": ("description: !!binary aGVsbG8=\n", "is not allowed"),
    "set_tag": ("description: !!set {a, b}\n", "is not allowed"),
    "local_tag": ("days: !days 5\n", "is not allowed"),
    "invalid_utf8": (b"days: 5\ndescription: caf\xe9\n", ":2: not valid UTF-8"),
    "utf16": ("days: 5\n".encode("utf-16"), "not valid UTF-8"),
    "nul_byte": (b"days: 5\x00\n", "YAML error"),
    "control_char": (b"days: 5\x07\n", "YAML error"),
    "deep_list": ("a: " + "[" * 5000 + "]" * 5000 + "\n", f"more than {MAX_DEPTH} levels deep"),
    "deep_mapping": ("a: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", f"more than {MAX_DEPTH} levels deep"),
    "deep_block": ("".join(" " * i + "a:\n" for i in range(300)), f"more than {MAX_DEPTH} levels deep"),
    "deep_through_aliases": (
        "".join(f"x{i}: &x{i} [" + ("*x" + str(i - 1) if i else "0") + "]\n" for i in range(40))
        + "y0: &y0 "
        + "[" * 40
        + "*x39"
        + "]" * 40
        + "\n"
        + "y1: &y1 "
        + "[" * 40
        + "*y0"
        + "]" * 40
        + "\n",
        "levels deep",
    ),
    "duplicate_key": ("days: 5\nseed: 1\ndays: 6\n", "duplicate key 'days' (lines 1 and 3)"),
    "duplicate_nested_key": ("market:\n  size: 300\n  size: 400\n", "duplicate key 'size'"),
    "int_key": ("1: x\n", "unknown key '1'"),
    "null_key": ("null: x\n", "unknown key 'null'"),
    "bool_key": ("market: {true: 3}\n", "unknown key 'true'"),
    "list_key": ("? [a, b]\n: c\n", "keys must be plain names, got a list"),
    "mapping_key": ("? {a: 1}\n: c\n", "keys must be plain names, got a mapping"),
    "name_traversal": ("name: ../x\n", "name: must be 1 to 80 letters or digits"),
    "name_absolute": ("name: /abs\n", "name: must be 1 to 80 letters or digits"),
    "name_slash": ("name: a/b\n", "name: must be 1 to 80 letters or digits"),
    "name_backslash": ('name: "a\\\\b"\n', "name: must be 1 to 80 letters or digits"),
    "name_empty": ("name: ''\n", "name: must be 1 to 80 letters or digits"),
    "name_space": ("name: 社群 测试\n", "name: must be 1 to 80 letters or digits"),
    "name_newline": ('name: "a\\n"\n', "name: must be 1 to 80 letters or digits"),
    "name_long": ("name: " + "社" * 81 + "\n", "name: must be 1 to 80 letters or digits"),
    "extends_missing": ("extends: nope.yaml\n", "file not found"),
    "extends_self": ("extends: case.yaml\n", "extends cycle"),
    "extends_directory": ("extends: /tmp\n", "it is a directory"),
    "extends_dev_zero": ("extends: /dev/zero\n", "not a regular file"),
    "extends_number": ("extends: 5\n", "extends: must be a file path"),
    "event_outside_run": (OK + "events: [{kind: crisis, day: 99}]\n", "outside the run"),
    "impossible_date": (OK + "start_date: 2026-02-30\n", "start_date: '2026-02-30' is not a valid date"),
    "bad_event_date": (
        OK + "events: [{kind: crisis, date: 2026-13-45}]\n",
        "events[0].date: '2026-13-45' is not a valid",
    ),
    "unparsable_event_date": (OK + "events: [{kind: crisis, date: someday}]\n", "is not a date"),
    "unknown_preset": ("operating_model: anarchy\n", "operating_model: must be one of"),
}


def run_cli(args: list[str], capsys) -> tuple[int, str, float]:
    start = time.perf_counter()
    code = main(args)
    elapsed = time.perf_counter() - start
    return code, capsys.readouterr().err, elapsed


def assert_clean_failure(code: int, err: str, elapsed: float, shown: str, expected: str = "") -> None:
    assert code == 2, err
    assert "Traceback" not in err and "unexpected error" not in err, err
    assert err.startswith("error: "), err
    assert shown in err, err
    assert expected in err, err
    assert elapsed < LIMIT_SECONDS, f"took {elapsed:.1f} s"


def assert_nothing_written(tmp_path: Path, *keep: Path) -> None:
    leftovers = {p for p in tmp_path.rglob("*")} - {p for k in keep for p in [k, *k.parents]}
    assert not leftovers, sorted(map(str, leftovers))


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_scenario_is_a_clean_error(case, tmp_path, capsys):
    content, expected = MALFORMED[case]
    path = tmp_path / "case.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    out, results = tmp_path / "out", tmp_path / "results"
    args = ["run", str(path), "--out", str(out), "--quiet"]
    code, err, elapsed = run_cli(args, capsys)
    assert_clean_failure(code, err, elapsed, str(path), expected)
    code, err, elapsed = run_cli(["run", str(path), "--results", str(results), "--quiet"], capsys)
    assert_clean_failure(code, err, elapsed, str(path), expected)
    assert_nothing_written(tmp_path, path)


def test_python_tags_never_run(tmp_path, capsys):
    """``!!python/object/apply`` would call os.system at load time with an unsafe loader."""
    marker = tmp_path / "pwned"
    payloads = [
        f'days: !!python/object/apply:os.system ["touch {marker}"]\n',
        f'!!python/object/apply:os.system ["touch {marker}"]\n',
        f'market: {{size: !!python/object/apply:subprocess.call [["touch", "{marker}"]]}}\n',
        f'? !!python/object/apply:os.system ["touch {marker}"]\n: 1\n',
        f'base: &b !!python/object/apply:os.system ["touch {marker}"]\nname: *b\n',
    ]
    for i, payload in enumerate(payloads):
        path = tmp_path / f"tag{i}.yaml"
        path.write_text(payload)
        code, err, elapsed = run_cli(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"], capsys)
        assert code == 2 and "Traceback" not in err and str(path) in err, err
        assert not marker.exists(), payload
    override = f'description=!!python/object/apply:os.system ["touch {marker}"]'
    code, err, _ = run_cli(["run", str(SMOKE), "--set", override, "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 2 and "Traceback" not in err and "--set description=" in err
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_ten_megabytes_of_junk_is_refused_at_once(tmp_path, capsys):
    rng = __import__("random").Random(7)
    for name, data in {
        "binary.yaml": rng.randbytes(10_000_000),
        "text.yaml": b"key: value\n" * 1_000_000,
        "one_line.yaml": b"a" * 10_000_000,
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        code, err, elapsed = run_cli(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"], capsys)
        assert_clean_failure(code, err, elapsed, str(path), f"larger than {MAX_BYTES // 1024} KiB")
        path.unlink()
    assert_nothing_written(tmp_path)


def test_a_file_just_under_the_size_limit_loads_in_seconds(tmp_path):
    """The size limit bounds the worst case: pure-Python YAML parses about 100 KB a second."""
    line = "  - {kind: promotion, day: 1, duration: 3, visit_lift: 0.5, purchase_lift: 0.5}\n"
    body = OK + "events:\n" + line * ((MAX_BYTES - len(OK) - 8) // len(line))
    assert MAX_BYTES - 200 < len(body) <= MAX_BYTES
    path = tmp_path / "big.yaml"
    path.write_text(body)
    start = time.perf_counter()
    scenario = load_scenario(path)
    assert len(scenario.events) > 1000
    assert time.perf_counter() - start < 2 * LIMIT_SECONDS  # ~1-2 s; generous for a loaded CI machine


def test_extends_to_a_fifo_does_not_hang(tmp_path, capsys):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    path = tmp_path / "case.yaml"
    path.write_text("extends: pipe.yaml\n")
    code, err, elapsed = run_cli(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert_clean_failure(code, err, elapsed, str(path), "not a regular file")
    code, err, elapsed = run_cli(["run", str(fifo), "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert_clean_failure(code, err, elapsed, str(fifo), "not a regular file")


def test_the_scenario_argument_is_a_directory_or_device(tmp_path, capsys):
    for target, expected in ((tmp_path, "it is a directory"), (Path("/dev/zero"), "not a regular file")):
        if not target.exists():
            continue
        code, err, elapsed = run_cli(["run", str(target), "--out", str(tmp_path / "out"), "--quiet"], capsys)
        assert_clean_failure(code, err, elapsed, str(target), expected)


def test_error_in_an_extended_file_names_that_file(tmp_path, capsys):
    parent = tmp_path / "parent.yaml"
    parent.write_text(billion_laughs())
    child = tmp_path / "child.yaml"
    child.write_text("extends: parent.yaml\ndays: 5\n")
    code, err, elapsed = run_cli(["run", str(child), "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert_clean_failure(code, err, elapsed, "parent.yaml", "alias bomb")


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("description=" + "[" * 5000 + "]" * 5000, "levels deep"),
        ("seed=.nan", "seed: input should be a finite number"),
        ("content.quality=.inf", "finite number"),
        ("days=[1, 2", "cannot parse the value as YAML"),
        ("start_date=2026-02-30", "day is out of range"),
        ("market.size=1e309", "market.size"),
        ("events=&a [*a]", "events[0]"),
        ("name=..", "name: '..' cannot be a name: names are directories under the results root"),
    ],
)
def test_malformed_overrides_are_clean_errors(override, expected, tmp_path, capsys):
    code, err, elapsed = run_cli(
        ["run", str(SMOKE), "--set", override, "--results", str(tmp_path / "results"), "--quiet", "--days", "2"],
        capsys,
    )
    assert_clean_failure(code, err, elapsed, "", expected)
    assert_nothing_written(tmp_path)


def test_minus_zero_and_bom_are_harmless(tmp_path, capsys):
    """``-0`` is zero and a UTF-8 byte-order mark is ignored: both run like their plain forms."""
    plain = scenario_from_mapping({"acquisition": {"paid": {"daily_budget": 0.0}}})
    minus = scenario_from_mapping({"acquisition": {"paid": {"daily_budget": -0.0}}})
    assert minus.acquisition.paid.daily_budget == 0.0 == plain.acquisition.paid.daily_budget
    path = tmp_path / "bom.yaml"
    path.write_bytes(
        "\ufeff".encode() + OK.replace("initial_members: 10", "initial_members: 10, paid: {daily_budget: -0}").encode()
    )
    scenario = load_scenario(path)
    assert scenario.days == 3 and scenario.acquisition.paid.daily_budget == 0


def test_merge_keys_reached_twice_through_an_alias_are_not_duplicates(tmp_path):
    """Flattening ``<<`` adds the merged keys to the node itself; a second visit must not call them duplicates."""
    path = tmp_path / "merge.yaml"
    path.write_text(
        "days: 30\nevents:\n  - &promo {<<: {kind: promotion, duration: 3}, day: 5, duration: 5}\n  - *promo\n"
    )
    assert [(e.kind, e.day, e.duration) for e in load_scenario(path).events] == [("promotion", 5, 5)] * 2
    path.write_text("days: 30\nevents:\n  - &promo {<<: {kind: promotion}, day: 5, day: 6}\n  - *promo\n")
    with pytest.raises(ScenarioError, match="duplicate key 'day' \\(lines 3 and 3\\)"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("start", "when"),
    [
        (5, "2026-02-01"),
        (None, datetime.date(2026, 2, 1)),
        (datetime.datetime(2026, 1, 1, 10), "2026-02-01"),
        (datetime.date(2026, 1, 1), datetime.datetime(2026, 2, 1, 10)),
    ],
)
def test_wrongly_typed_event_dates_are_scenario_errors(start, when):
    data = {"days": 100, "start_date": start, "events": [{"kind": "promotion", "date": when}]}
    with pytest.raises(ScenarioError):
        scenario_from_mapping(data)


# --- random input ----------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        "days", "market", "size", "name", "extends", "events", ":", ": ", "-", "- ", "\n", "  ", "\t", "[", "]",
        "{", "}", ",", "&a", "*a", "<<", "!!python/object/apply:os.system", "!!binary", "!x", "'", '"', "#", "?",
        "|", ">", "%YAML 1.1", "---", "...", ".nan", ".inf", "1e309", "-0", "~", "null", "yes", "0x1F",
        "2026-01-01", "2026-13-45", "1:2:3",
        "\ufeff", "\x00", "é", "社群", "\\", "@", "`",
    ]
)  # fmt: skip
FUZZ_SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def load_bytes(tmp_path: Path, data: bytes) -> bool:
    """Load fuzzed bytes: a clean ScenarioError naming the file, or a valid scenario. True if it loaded."""
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        assert str(path) in str(exc) or "--set" in str(exc)
        return False
    assert scenario.days >= 1 and scenario.market.size >= 10
    return True


@FUZZ_SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes_give_a_scenario_error_or_a_scenario(tmp_path_factory, data):
    assert load_bytes(tmp_path_factory.mktemp("b"), data) in (True, False)


@FUZZ_SETTINGS
@given(parts=st.lists(FRAGMENTS | st.text(max_size=5), max_size=40))
def test_random_yaml_like_text_gives_a_scenario_error_or_a_scenario(tmp_path_factory, parts):
    assert load_bytes(tmp_path_factory.mktemp("t"), "".join(parts).encode("utf-8", "surrogatepass")) in (True, False)


plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.dates(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
SECTIONS = st.sampled_from(
    [
        "name", "days", "seed", "market", "acquisition", "engagement", "content", "purchase", "referral",
        "churn", "satisfaction", "incentives", "koc", "operators", "operating_model", "livestream", "sentiment",
        "events", "rules", "health", "output", "description",
    ]
)  # fmt: skip


@FUZZ_SETTINGS
@given(data=st.dictionaries(SECTIONS, plain, max_size=5))
def test_random_values_in_real_sections_give_a_scenario_error_or_a_scenario(data):
    try:
        scenario = scenario_from_mapping(data)
    except ScenarioError as exc:
        assert "<mapping>" in str(exc)
    else:
        assert scenario.days >= 1


@FUZZ_SETTINGS
@given(data=st.dictionaries(SECTIONS, plain, max_size=5))
def test_random_documents_round_trip_through_yaml_files(tmp_path_factory, data):
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return
    assert load_bytes(tmp_path_factory.mktemp("d"), text.encode("utf-8")) in (True, False)


# --- through a real process --------------------------------------------------------------------


@pytest.mark.parametrize("case", ["billion_laughs", "deep_list", "invalid_utf8", "extends_dev_zero"])
def test_python_dash_m_exits_2_without_traceback(case, tmp_path):
    content, expected = MALFORMED[case]
    path = tmp_path / "case.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(path), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and str(path) in res.stderr and expected in res.stderr
    assert not out.exists()


def test_python_tag_payload_through_a_process(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "case.yaml"
    path.write_text(f'days: !!python/object/apply:os.system ["touch {marker}"]\n')
    res = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr and "is not allowed" in res.stderr
    assert not marker.exists() and not (tmp_path / "out").exists()


# --- experiment files (community-sim sweep) ----------------------------------------------------

EXPERIMENT_OK = f"scenario: {SMOKE}\nseed: 1\n"
MALFORMED_EXPERIMENTS: dict[str, tuple[str | bytes, str]] = {
    "syntax": (EXPERIMENT_OK + "factors: [1, 2\n", "YAML syntax error"),
    "wrong_type": (EXPERIMENT_OK + "factors: 5\n", "factors"),
    "nan_level": (EXPERIMENT_OK + "factors: {content.quality: [.nan]}\n", "content.quality"),
    "nan_range": (EXPERIMENT_OK + "factors: {content.quality: {range: [.nan, 1]}}\ndesign: {kind: lhs, n: 4}\n", ""),
    "inf_range": (EXPERIMENT_OK + "factors: {content.quality: {range: [0, .inf]}}\ndesign: {kind: lhs, n: 4}\n", ""),
    "huge_number": (EXPERIMENT_OK + "factors: {content.quality: [0.1]}\nreplications: 1e309\n", "replications"),
    "python_tag": (EXPERIMENT_OK + "factors: !!python/object/apply:os.system ['false']\n", "is not allowed"),
    "deep": (EXPERIMENT_OK + "factors: " + "[" * 5000 + "]" * 5000 + "\n", "levels deep"),
    "laughs": (billion_laughs(), "alias bomb"),
    "empty": ("", "the file is empty"),
    "duplicate": (EXPERIMENT_OK + "seed: 2\nfactors: {}\n", "duplicate key 'seed'"),
    "invalid_utf8": (b"name: caf\xe9\n", "not valid UTF-8"),
    "name_traversal": (EXPERIMENT_OK + "name: ../x\nfactors: {content.quality: [0.1]}\n", "name"),
    "factor_traversal": (EXPERIMENT_OK + "factors: {'../../x': [1]}\n", "../../x"),
    "scenario_device": ("scenario: /dev/zero\nseed: 1\nfactors: {content.quality: [0.1]}\n", "not a regular file"),
    "scenario_directory": ("scenario: /tmp\nseed: 1\nfactors: {content.quality: [0.1]}\n", "it is a directory"),
    "nested_level": (EXPERIMENT_OK + "factors: {content.quality: [[0.1]]}\n", "levels[0]"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_EXPERIMENTS))
def test_malformed_experiment_is_a_clean_error(case, tmp_path, capsys):
    content, expected = MALFORMED_EXPERIMENTS[case]
    path = tmp_path / "exp.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    args = ["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"]
    code, err, elapsed = run_cli(args, capsys)
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("error: ") and expected in err, err
    assert elapsed < LIMIT_SECONDS, f"took {elapsed:.1f} s"
    assert_nothing_written(tmp_path, path)


def test_deeply_nested_sweep_override_is_a_clean_error(tmp_path, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text(EXPERIMENT_OK + "factors: {content.quality: [0.1]}\n")
    override = "description=" + "[" * 5000 + "]" * 5000
    code, err, _ = run_cli(["sweep", str(path), "--dry-run", "--set", override], capsys)
    assert code == 2 and "Traceback" not in err

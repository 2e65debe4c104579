"""What the commands may replace or create, and how they treat destinations that are not theirs.

- ``analyze`` replaces only an analysis directory it wrote itself (it leaves a marker file);
- ``export`` never overwrites a file;
- ``--out`` values that cannot become the output (a symlink, a mount point, the current
  directory, a name too long for the file system) are refused before any work;
- outputs respect the umask; two runs started in the same second never collide;
- a sweep, a run or an export that cannot be read is a clear error, not a traceback;
"""

from __future__ import annotations

import datetime
import os
import shutil
import stat
import threading
from pathlib import Path

import pytest

from sim.cli import main
from sim.run import atomic

ROOT = Path(__file__).resolve().parents[1]
SMOKE = str(ROOT / "scenarios" / "smoke.yaml")
FAST = ["--quiet", "--days", "4", "--set", "market.size=500", "--set", "output.plots=false"]
TINY = ["--set", "acquisition.initial_members=50", "--set", "koc.initial_count=2"]


def run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def snapshot(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def one_error_line(err: str) -> None:
    assert err.startswith("error: ") and "Traceback" not in err, err


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    from sim.experiment.resolve import resolve_experiment
    from sim.experiment.sweep import run_sweep

    folder = tmp_path_factory.mktemp("sweep")
    exp = folder / "exp.yaml"
    exp.write_text(
        f"scenario: {SMOKE}\n"
        "set: {days: 4, market.size: 500, acquisition.initial_members: 50, koc.initial_count: 2,"
        " output.plots: false}\n"
        "factors:\n  referral.reward_inviter: [0, 20]\nreplications: 2\nseed: 3\n"
    )
    run_sweep(resolve_experiment(exp), folder / "sweep", executor="serial")
    return folder / "sweep"


@pytest.fixture
def sweep_copy(sweep_dir, tmp_path) -> Path:
    copy = tmp_path / "sweep"
    shutil.copytree(sweep_dir, copy)
    return copy


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    assert main(["run", SMOKE, "--out", str(out), "--seed", "5", *FAST, *TINY]) == 0
    return out


# --- analyze replaces only its own directory ------------------------------------------------------


def test_analyze_refuses_a_directory_it_did_not_write(sweep_copy, tmp_path, capsys):
    mine = tmp_path / "v"
    (mine / "sub").mkdir(parents=True)
    (mine / "thesis.txt").write_text("x")
    before = snapshot(mine)
    code, err = run(["analyze", str(sweep_copy), "--out", str(mine)], capsys)
    assert code == 2
    one_error_line(err)
    assert str(mine) in err and "not written by" in err
    assert snapshot(mine) == before and (mine / "sub").is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_analyze_keeps_its_own_directory_once_someone_added_a_file(sweep_copy, capsys):
    assert main(["analyze", str(sweep_copy)]) == 0
    notes = sweep_copy / "analysis" / "notes.txt"
    notes.write_text("mine")
    code, err = run(["analyze", str(sweep_copy)], capsys)
    assert code == 2
    one_error_line(err)
    assert "notes.txt" in err and notes.read_text() == "mine"


def test_analyze_into_the_sweep_itself_keeps_the_sweep(sweep_copy, capsys):
    before = snapshot(sweep_copy)
    code, err = run(["analyze", str(sweep_copy), "--out", str(sweep_copy)], capsys)
    assert code == 2
    one_error_line(err)
    assert snapshot(sweep_copy) == before


def test_analyze_into_the_current_directory_is_refused(sweep_copy, tmp_path, capsys, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    code, err = run(["analyze", str(sweep_copy), "--out", "."], capsys)
    assert code == 2
    one_error_line(err)
    assert "current directory" in err
    assert list(here.iterdir()) == []


def test_analyze_replaces_its_own_output_and_writes_new_and_empty_directories(sweep_copy, tmp_path, capsys):
    assert main(["analyze", str(sweep_copy)]) == 0
    first = sweep_copy / "analysis"
    assert (first / "points.csv").is_file() and (first / "response-final_members.png").is_file()
    assert main(["analyze", str(sweep_copy), "--kpi", "gmv"]) == 0  # its own directory: replaced whole
    assert not (first / "response-final_members.png").exists() and (first / "response-final_gmv.png").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["analyze", str(sweep_copy), "--out", str(empty)]) == 0
    assert (empty / "points.csv").is_file()
    out = capsys.readouterr().out
    assert atomic.MARKER not in out  # the marker is not listed as an output


def test_analyze_output_directories_respect_the_umask(sweep_copy, tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["analyze", str(sweep_copy), "--out", str(tmp_path / "a")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "a" / "points.csv").stat().st_mode) == 0o644


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("truncate runs.parquet", "runs.parquet"),
        ("break manifest.json", "manifest.json"),
        ("remove design.parquet", "design.parquet"),
    ],
)
def test_analyze_of_a_damaged_sweep_is_a_clear_error(damage, expected, sweep_copy, capsys):
    path = sweep_copy / expected
    if damage.startswith("truncate"):
        path.write_bytes(path.read_bytes()[:100])
    elif damage.startswith("break"):
        path.write_text('{"kind": ')
    else:
        path.unlink()
    code, err = run(["analyze", str(sweep_copy)], capsys)
    assert code == 2
    one_error_line(err)
    assert expected in err
    assert not (sweep_copy / "analysis").exists()


# --- export never overwrites ---------------------------------------------------------------------


def test_export_refuses_an_existing_file(run_dir, tmp_path, capsys):
    mine = tmp_path / "mine.yaml"
    mine.write_text("days: 5\n")
    code, err = run(["export", str(run_dir), "--out", str(mine)], capsys)
    assert code == 2
    one_error_line(err)
    assert str(mine) in err and "already exists" in err
    assert mine.read_text() == "days: 5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]


def test_export_respects_the_umask(run_dir, tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["export", str(run_dir), "--out", str(tmp_path / "tx.csv")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "tx.csv").stat().st_mode) == 0o644


@pytest.mark.parametrize(
    ("damage", "expected"), [("truncate events.parquet", "events.parquet"), ("break manifest.json", "manifest.json")]
)
def test_export_of_a_damaged_run_is_a_clear_error(damage, expected, run_dir, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    path = copy / expected
    if damage.startswith("truncate"):
        path.write_bytes(path.read_bytes()[:200])
    else:
        path.write_text("{not json")
    code, err = run(["export", str(copy), "--out", str(tmp_path / "tx.csv")], capsys)
    assert code == 2
    one_error_line(err)
    assert expected in err
    assert not (tmp_path / "tx.csv").exists()


def test_export_with_a_name_too_long_is_a_clear_error(run_dir, tmp_path, capsys):
    code, err = run(["export", str(run_dir), "--out", str(tmp_path / ("x" * 300 + ".csv"))], capsys)
    assert code == 2
    one_error_line(err)
    assert "too long" in err
    assert list(tmp_path.iterdir()) == []


def test_the_dashboards_export_never_replaces_a_file(tmp_path):
    from sim.config.loader import load_scenario
    from sim.dashboard.export import export_scenario

    mine = tmp_path / "mine.yaml"
    mine.write_text("days: 5\n")
    with pytest.raises(ValueError, match="already exists"):
        export_scenario(load_scenario(SMOKE), mine)
    assert mine.read_text() == "days: 5\n" and sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]


# --- --out values refused before any work ------------------------------------------------------


def _count_simulations(monkeypatch) -> list[int]:
    import sim.run.runner as runner

    calls: list[int] = []
    real = runner.simulate

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "simulate", counting)
    return calls


@pytest.mark.parametrize("kind", ["symlink to an empty directory", "dangling symlink"])
def test_a_symlink_as_out_is_refused_before_simulating(kind, tmp_path, capsys, monkeypatch):
    calls = _count_simulations(monkeypatch)
    target = tmp_path / "target"
    if kind.startswith("symlink to"):
        target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    code, err = run(["run", SMOKE, "--out", str(link), *FAST], capsys)
    assert code == 2
    one_error_line(err)
    assert "symbolic link" in err and str(link) in err
    assert calls == []
    assert link.is_symlink() and (not target.exists() or list(target.iterdir()) == [])


def test_a_mount_point_as_out_is_refused_before_simulating(tmp_path, capsys, monkeypatch):
    calls = _count_simulations(monkeypatch)
    mount = tmp_path / "mnt"
    mount.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(atomic.os.path, "ismount", lambda p: os.fspath(p) == os.fspath(mount) or real(p))
    code, err = run(["run", SMOKE, "--out", str(mount), *FAST], capsys)
    assert code == 2
    one_error_line(err)
    assert "mount point" in err
    assert calls == []


@pytest.mark.parametrize("command", ["run", "compare", "calibrate"])
def test_a_name_too_long_is_refused_before_any_work(command, tmp_path, capsys, monkeypatch):
    calls = _count_simulations(monkeypatch)
    out = tmp_path / ("r" * 300)
    args = {
        "run": ["run", SMOKE, "--out", str(out), *FAST],
        "compare": ["compare", SMOKE, SMOKE, "--out", str(out), "--days", "3", "--replications", "1", "--quiet"],
        "calibrate": ["calibrate", SMOKE, "--observed", str(tmp_path / "obs.csv")]
        + ["--fit", "purchase.base_prob=0.01:0.05", "--out", str(out), "--quiet"],
    }[command]
    (tmp_path / "obs.csv").write_text("day,purchases\n0,1\n1,2\n")
    code, err = run(args, capsys)
    assert code == 2
    one_error_line(err)
    assert "too long" in err
    assert calls == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["obs.csv"]


def test_run_into_the_current_directory_is_refused_before_simulating(tmp_path, capsys, monkeypatch):
    calls = _count_simulations(monkeypatch)
    monkeypatch.chdir(tmp_path)
    code, err = run(["run", SMOKE, "--out", ".", *FAST], capsys)
    assert code == 2
    one_error_line(err)
    assert "current directory" in err and calls == []


# --- modes ----------------------------------------------------------------------------------------


def test_run_compare_and_calibrate_directories_respect_the_umask(tmp_path, capsys):
    obs = tmp_path / "obs.csv"
    obs.write_text("day,purchases\n" + "".join(f"{d},{d % 3}\n" for d in range(4)))
    other = tmp_path / "other.yaml"
    other.write_text(f"extends: {SMOKE}\nname: other\n")
    commands = {
        "run": ["run", SMOKE, "--out", str(tmp_path / "run"), *FAST, *TINY],
        "compare": ["compare", SMOKE, str(other), "--out", str(tmp_path / "compare"), "--replications", "1"]
        + ["--days", "3", "--set", "market.size=500", *TINY, "--quiet", "--workers", "1"],
        "calibrate": ["calibrate", SMOKE, "--observed", str(obs), "--fit", "purchase.base_prob=0.01:0.05"]
        + ["--trials", "1", "--replications", "1", "--searches", "1", "--no-uncertainty"]
        + ["--out", str(tmp_path / "calibrate"), "--quiet"]
        + ["--set", "days=4", "--set", "market.size=500", *TINY],
    }
    old = os.umask(0o022)
    try:
        for name, args in commands.items():
            assert main(args) == 0, (name, capsys.readouterr().err)
    finally:
        os.umask(old)
    for name in commands:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o755, name


# --- two runs in the same second ------------------------------------------------------------------


def test_two_runs_started_together_get_two_directories_before_simulating(tmp_path, capsys, monkeypatch):
    """Both pick their name before either simulates, so the second never finds its name taken at the end."""

    class FrozenClock(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=tz)

    monkeypatch.setattr(atomic, "datetime", FrozenClock)
    import sim.run.runner as runner

    real = runner.simulate
    both_named = threading.Barrier(2, timeout=60)

    def wait_for_the_other(*args, **kwargs):
        both_named.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "simulate", wait_for_the_other)
    results = tmp_path / "results"
    codes: list[int] = []
    args = ["run", SMOKE, "--results", str(results), "--seed", "3", *FAST, *TINY]
    threads = [threading.Thread(target=lambda: codes.append(main(list(args)))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert codes == [0, 0], capsys.readouterr().err
    runs = sorted(p.name for p in (results / "smoke").iterdir())
    assert runs == ["20260101T120000Z-s3", "20260101T120000Z-s3-2"]
    assert all((results / "smoke" / r / "summary.json").is_file() for r in runs)


def test_a_failed_run_leaves_no_reserved_directory(tmp_path, capsys, monkeypatch):
    import sim.run.runner as runner

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "write_outputs", boom)
    results = tmp_path / "results"
    assert main(["run", SMOKE, "--results", str(results), *FAST]) == 130
    assert not results.exists() or list(results.rglob("*")) == []


def test_calibrate_claims_its_default_directory_and_releases_it_on_failure(tmp_path, capsys, monkeypatch):
    import sim.calibration.cli as calibration_cli

    obs = tmp_path / "obs.csv"
    obs.write_text("day,purchases\n0,1\n1,2\n2,1\n")
    results = tmp_path / "results"
    args = ["calibrate", SMOKE, "--observed", str(obs), "--fit", "purchase.base_prob=0.01:0.05", "--quiet"]
    args += ["--results", str(results), "--trials", "1", "--replications", "1", "--set", "days=3"]
    args += ["--set", "market.size=500", *TINY]

    def interrupted(*a, **k):
        assert len(list((results / "smoke").iterdir())) == 1  # claimed before the search
        raise KeyboardInterrupt

    monkeypatch.setattr(calibration_cli, "run_with_progress", interrupted)
    assert main(args) == 130
    assert not results.exists()
    monkeypatch.undo()
    code, err = run([*args, "--set", "name=.."], capsys)
    assert code == 2 and "'..'" in err
    assert not results.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["obs.csv"]


def test_an_interruption_between_the_renames_puts_the_old_output_back(tmp_path, monkeypatch):
    """Ctrl-C or SIGTERM after the old analysis is moved aside but before the new one is in place leaves the
    old one where it was, not in a hidden .old directory."""
    import os as _os

    from sim.run import atomic

    path, tmp = tmp_path / "analysis", tmp_path / ".analysis.new"
    tmp.mkdir()
    path.mkdir()
    (path / "old.csv").write_text("old")
    atomic.write_marker(path, "analyze")
    monkeypatch.setattr(atomic, "check_replaceable", lambda *a: None)

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(_os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.replace_directory(tmp, path, "analyze")
    assert (path / "old.csv").read_text() == "old"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".old")]

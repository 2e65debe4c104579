"""Output safety: where a run may write, what it may replace, and what an interruption leaves.

- a scenario name cannot make the tool write outside the results directory;
- existing results are never overwritten, not even by a directory that appears mid-run;
- a read-only or impossible destination and a full disk give a clear exit-2 error and no files;
- Ctrl-C (in process and a real SIGINT) exits 130 and leaves no run or ``.partial`` directory.
"""

from __future__ import annotations

import datetime
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sim.run.runner as runner
from sim.cli import main
from sim.model import CommunityModel
from sim.run import atomic

ROOT = Path(__file__).resolve().parents[1]
SMOKE = str(ROOT / "scenarios" / "smoke.yaml")
#: A quick run: 2,000 people, a few days, no plots or counterfactual.
FAST = ["--quiet", "--days", "4", "--set", "market.size=2000", "--set", "output.plots=false"]


def run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def files_under(path: Path) -> list[str]:
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))


def partials(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.name.endswith(".partial")]


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../x", "../../etc/x", "/abs", "a/b", "a\\b", "", "社群/../测试", "name\n", "x" * 1000, "~", "$HOME", "a b"]
    + [".", ".."],
)
def test_a_name_never_leads_outside_the_results_directory(name, tmp_path, capsys):
    work = tmp_path / "work"
    results = work / "results"
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"extends: {SMOKE}\nname: {name!r}\n" if name else f"extends: {SMOKE}\nname: ''\n")
    for args in (
        ["run", str(scenario), "--results", str(results), *FAST],
        ["run", SMOKE, "--set", f"name={name!r}", "--results", str(results), *FAST],
    ):
        code, err = run(args, capsys)
        assert code == 2, err
        assert "Traceback" not in err and err.startswith("error: ")
        assert "name" in err
    assert not work.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_a_file_named_dot_dot_gets_a_safe_default_name(tmp_path, capsys):
    """``...yaml`` has the stem ``..``: the default name must not become a path step."""
    path = tmp_path / "...yaml"
    path.write_text(f"extends: {SMOKE}\n")
    results = tmp_path / "results"
    code, err = run(["run", str(path), "--results", str(results), *FAST], capsys)
    assert code == 0, err
    (run_dir,) = (results / "scenario").iterdir()
    assert (run_dir / "summary.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["...yaml", "results"]


def test_a_valid_name_writes_exactly_one_directory_under_results(tmp_path, capsys):
    results = tmp_path / "results"
    code, err = run(["run", SMOKE, "--set", "name=ok.name-1_x", "--results", str(results), *FAST], capsys)
    assert code == 0, err
    (run_dir,) = (results / "ok.name-1_x").iterdir()
    assert run_dir.parent.parent == results and not partials(tmp_path)


# --- never overwrite ------------------------------------------------------------------------------


def test_two_runs_in_the_same_second_get_two_directories(tmp_path, capsys, monkeypatch):
    class FrozenClock(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=tz)

    monkeypatch.setattr(atomic, "datetime", FrozenClock)
    results = tmp_path / "results"
    for _ in range(2):
        code, err = run(["run", SMOKE, "--results", str(results), "--seed", "3", *FAST], capsys)
        assert code == 0, err
    runs = sorted(p.name for p in (results / "smoke").iterdir())
    assert runs == ["20260101T120000Z-s3", "20260101T120000Z-s3-2"]
    assert all((results / "smoke" / r / "summary.json").exists() for r in runs)


@pytest.mark.parametrize("kind", ["non-empty directory", "file"])
def test_out_that_exists_is_refused_and_kept(kind, tmp_path, capsys):
    out = tmp_path / "taken"
    if kind == "file":
        out.write_text("mine")
    else:
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    code, err = run(["run", SMOKE, "--out", str(out), *FAST], capsys)
    assert code == 2 and "already exists" in err and "Traceback" not in err
    assert (out.read_text() if kind == "file" else (out / "keep.txt").read_text()) == "mine"
    assert not partials(tmp_path)


def test_a_directory_that_appears_during_the_run_is_not_overwritten(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    real = runner.simulate

    def simulate_while_someone_else_writes(*args, **kwargs):
        result = real(*args, **kwargs)
        out.mkdir()
        (out / "theirs.txt").write_text("theirs")
        return result

    monkeypatch.setattr(runner, "simulate", simulate_while_someone_else_writes)
    code, err = run(["run", SMOKE, "--out", str(out), *FAST], capsys)
    assert code == 2 and "Traceback" not in err
    assert "was created by something else" in err and "not overwritten" in err
    assert files_under(out) == ["theirs.txt"] and (out / "theirs.txt").read_text() == "theirs"
    assert not partials(tmp_path)


# --- destinations that cannot be written ------------------------------------------------------------


def test_out_under_a_file_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out in (blocker / "run", blocker / "deeper" / "run"):
        code, err = run(["run", SMOKE, "--out", str(out), *FAST], capsys)
        assert code == 2 and "Traceback" not in err
        assert f"{blocker} is a file, not a directory" in err
    assert files_under(tmp_path) == ["file"]


def test_results_under_a_file_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, err = run(["run", SMOKE, "--results", str(blocker), *FAST], capsys)
    assert code == 2 and "Traceback" not in err and "is a file, not a directory" in err
    assert files_under(tmp_path) == ["file"]


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: permission bits do not stop root (covered by the path-under-a-file tests)",
)
def test_read_only_parent_is_a_clear_error(tmp_path, capsys):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        code, err = run(["run", SMOKE, "--out", str(parent / "run"), *FAST], capsys)
        assert code == 2 and "permission denied" in err and "Traceback" not in err
        assert list(parent.iterdir()) == []
    finally:
        parent.chmod(0o755)


@pytest.mark.parametrize(
    ("code_", "reason", "hint"),
    [
        (errno.ENOSPC, "No space left on device", "free some space"),
        (errno.EDQUOT, "Disk quota exceeded", "free some space"),
        (errno.EROFS, "Read-only file system", "choose a directory you can write to"),
    ],
)
def test_full_disk_midway_leaves_nothing_and_exits_2(code_, reason, hint, tmp_path, capsys, monkeypatch):
    """The disk fills after timeseries and events are written, while writing summary.json."""
    real_write_text = Path.write_text

    def write_text(self, *args, **kwargs):
        if self.name == "summary.json":
            raise OSError(code_, reason, str(self))
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    out = tmp_path / "out"
    code, err = run(["run", SMOKE, "--out", str(out), *FAST], capsys)
    assert code == 2, err
    assert "Traceback" not in err and "unexpected error" not in err
    assert f"cannot write the run directory {out}: {reason}" in err
    assert "nothing was kept" in err and hint in err
    assert not out.exists() and not partials(tmp_path) and list(tmp_path.iterdir()) == []


def test_full_disk_before_the_run_starts(tmp_path, capsys, monkeypatch):
    def temp_dir(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "temp_dir", temp_dir)
    out = tmp_path / "out"
    code, err = run(["run", SMOKE, "--out", str(out), *FAST], capsys)
    assert code == 2 and "No space left on device" in err and "Traceback" not in err
    assert not out.exists() and not partials(tmp_path)


def test_a_bug_while_writing_is_still_reported_as_a_bug(tmp_path, capsys, monkeypatch):
    """Only OSError is the environment's fault; anything else stays exit 1 with a traceback."""

    def broken(directory, *args, **kwargs):
        (directory / "timeseries.csv").write_text("half")
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(runner, "write_outputs", broken)
    out = tmp_path / "out"
    code, err = run(["run", SMOKE, "--out", str(out), *FAST], capsys)
    assert code == 1 and "Traceback" in err and "ZeroDivisionError" in err
    assert not out.exists() and not partials(tmp_path)


# --- Ctrl-C ----------------------------------------------------------------------------------------------


def test_ctrl_c_during_a_model_step_leaves_nothing(tmp_path, capsys, monkeypatch):
    real_step = CommunityModel.step

    def step(self):
        if self.steps == 3:  # the third day (Mesa counts steps from 1)
            raise KeyboardInterrupt
        return real_step(self)

    monkeypatch.setattr(CommunityModel, "step", step)
    results = tmp_path / "results"
    for args in (["--out", str(tmp_path / "out")], ["--results", str(results)]):
        code, err = run(["run", SMOKE, *args, *FAST], capsys)
        assert code == 130 and "interrupted; nothing was written" in err
    assert not (tmp_path / "out").exists() and not partials(tmp_path)
    assert files_under(results) in ([], ["smoke"])  # at most the empty scenario directory


def test_real_sigint_during_a_run_exits_130_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "run", SMOKE, "--out", str(out), "--quiet", "--days", "3000"]
    cmd += ["--set", "market.size=20000", "--set", "output.plots=false"]
    # a test runner started in the background (``cmd &``) hands its children SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler: restore the default, as a terminal would have it
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".out.*.partial")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        time.sleep(0.3)  # well inside the simulation
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted; nothing was written" in err and "Traceback" not in err
    assert not out.exists() and not partials(tmp_path) and list(tmp_path.iterdir()) == []

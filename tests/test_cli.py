"""The run command: outputs, exit codes, nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMOKE = str(ROOT / "scenarios" / "smoke.yaml")


def test_run_writes_the_run_directory(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", SMOKE, "--days", "12", "--out", str(out), "--quiet", "--set", "market.size=2000"]) == 0
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {
        "timeseries.csv",
        "timeseries.parquet",
        "events.parquet",
        "summary.json",
        "manifest.json",
        "scenario.yaml",
    } <= names
    assert {f"plots/{n}.png" for n in ("members_by_source", "dau", "gmv_profit", "funnel", "cohort_retention")} <= names
    ts = pd.read_csv(out / "timeseries.csv", index_col="day")
    assert len(ts) == 12 and ts["members"].iloc[-1] > 0
    events = pd.read_parquet(out / "events.parquet")
    assert set(events["kind"].unique()) >= {"join", "purchase"}
    assert abs(events.loc[events.kind == "purchase", "amount"].sum() - ts["gmv"].sum()) < 1e-6 * ts["gmv"].sum()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 42 and manifest["scenario"]["market"]["size"] == 2000
    assert set(manifest["files"]) == names - {"manifest.json"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final"]["members"] == ts["members"].iloc[-1]
    assert summary["funnel"]["joined"] >= summary["funnel"]["buyer"] >= summary["funnel"]["repeat_buyer"]
    assert summary["funnel"]["joined"] == summary["final"]["ever_joined"] >= summary["final"]["members"]
    assert not list(tmp_path.glob(".*partial"))


def test_default_run_directory_under_results(tmp_path):
    assert (
        main(
            [
                "run",
                SMOKE,
                "--days",
                "3",
                "--quiet",
                "--results",
                str(tmp_path),
                "--seed",
                "9",
                "--set",
                "output.plots=false",
            ]
        )
        == 0
    )
    (run_dir,) = (tmp_path / "smoke").iterdir()
    assert run_dir.name.endswith("-s9")


def test_bad_input_exit_2_and_nothing_written(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nmarket:\n  sise: 100\n")
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:3" in err and "sise" in err and "size" in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_bad_override_and_missing_file_exit_2(tmp_path, capsys):
    assert main(["run", SMOKE, "--set", "referral.reward_inviter=-5", "--out", str(tmp_path / "o")]) == 2
    assert "reward_inviter" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_an_error_message_is_printed_as_written_not_as_emoji(tmp_path, capsys):
    code = main(["run", str(SMOKE), "--set", "market.size=:100:", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and ":100:" in err and "\U0001f4af" not in err


def test_non_empty_out_refused(tmp_path, capsys):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["run", SMOKE, "--days", "2", "--out", str(out), "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_empty_out_is_used(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["run", SMOKE, "--days", "2", "--out", str(out), "--quiet", "--set", "output.plots=false"]) == 0
    assert (out / "timeseries.csv").exists()


def test_usage_error_exit_2(capsys):
    assert main(["run"]) == 2
    assert main(["run", SMOKE, "--days", "0"]) == 2


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    import sim.run.runner as runner

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "write_outputs", boom)
    out = tmp_path / "run"
    assert main(["run", SMOKE, "--days", "2", "--out", str(out), "--quiet"]) == 130
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_the_event_log_spills_ends_with_one_clear_line_and_nothing_written(tmp_path, capsys):
    """The event log of a long run goes to a temporary file as it grows; a full disk there is no bug."""
    import errno

    import sim.core.events as events

    def full(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    out = tmp_path / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(events, "SPILL_BYTES", 1)
        mp.setattr(events.EventLog, "_spill", full)
        assert main(["run", SMOKE, "--days", "3", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no space left on the disk" in err and "TMPDIR" in err and "output.events: false" in err
    assert "Traceback" not in err and "bug" not in err
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_and_console_script(tmp_path):
    out = tmp_path / "m"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            SMOKE,
            "--days",
            "2",
            "--out",
            str(out),
            "--quiet",
            "--set",
            "output.plots=false",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    assert (out / "summary.json").exists()
    res = subprocess.run(
        [sys.executable, "-m", "sim", "run", SMOKE, "--set", "days=abc"], capture_output=True, text=True, cwd=ROOT
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr and "days" in res.stderr


def _run_fresh(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


#: Audit events of starting a process (``subprocess``, ``os.fork``, ``os.posix_spawn``, ...).
PROCESS_EVENTS = ("subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system")


def test_run_draws_its_figures_in_its_own_process_and_loads_matplotlib_only_to_draw(tmp_path):
    """No child process at all (no drawing helper, no ``git`` for the manifest's commit, no process
    pool: multiprocessing is not even imported); a run without figures never imports matplotlib, and
    no run imports scipy or the parts of Mesa the model does not use (batch runner, spaces: networkx)."""
    args = ["run", SMOKE, "--days", "30", "--quiet", "--set", "market.size=1000"]
    probe = (
        "import os, sys\n"
        "import matplotlib.font_manager  # a fresh font cache is built once per user with fc-list: not the run's\n"
        f"started = []; sys.addaudithook(lambda event, _: event in {PROCESS_EVENTS!r} and started.append(event))\n"
        "from sim.cli import main\n"
        "code = main({args!r})\n"
        "print(started or 'alone', 'multiprocessing' in sys.modules)\n"
        "print(sorted(m for m in ('scipy', 'networkx', 'mesa.batchrunner', 'mesa.space') if m in sys.modules))\n"
        "print('matplotlib.figure' in sys.modules); sys.exit(code)"
    )
    drawn = _run_fresh(probe.format(args=[*args, "--out", str(tmp_path / "drawn")]))
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout.split()[-4:] == ["alone", "False", "[]", "True"]
    assert len(list((tmp_path / "drawn" / "plots").glob("*.png"))) == 7
    manifest = json.loads((tmp_path / "drawn" / "manifest.json").read_text())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode == 0:  # the commit is still recorded, read from the git files
        assert manifest["git_commit"] == head.stdout.strip()
    plain = _run_fresh(probe.format(args=[*args, "--set", "output.plots=false", "--out", str(tmp_path / "plain")]))
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.split()[-4:] == ["alone", "False", "[]", "False"]
    assert not (tmp_path / "plain" / "plots").exists()


def test_interrupted_while_drawing_leaves_nothing(tmp_path):
    """Ctrl-C while the figures are drawn: exit 130, nothing written."""
    out = tmp_path / "run"
    code = f"""
import signal, sys, time
import sim.plots
draw = sim.plots.plot_funnel
def slow(*args):
    def interrupt(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    time.sleep(1.5)
    return draw(*args)
sim.plots.plot_funnel = slow
from sim.cli import main
sys.exit(main(["run", {SMOKE!r}, "--days", "5", "--quiet", "--out", {str(out)!r}]))
"""
    res = _run_fresh(code)
    assert res.returncode == 130, res.stderr
    assert list(tmp_path.iterdir()) == []


def test_every_command_prints_through_the_console_that_keeps_text_as_written():
    """``rich.console.Console(...)`` is made in one place (``plain_console``: no emoji codes), so ``:100:`` in a
    strategy's name or a value prints as written whichever command prints it."""
    import ast

    made = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Console":
                made.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert len(made) == 1 and made[0].startswith("sim/cli/output.py:"), made

"""The command line's surroundings: standard output that cannot be written, and matplotlib's cache.

- output that cannot be written after the results are in place does not turn finished work into a failure;
- matplotlib's cache goes to a directory the tool controls, not under a missing or foreign HOME.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMOKE = str(ROOT / "scenarios" / "smoke.yaml")
FAST = ["--quiet", "--days", "4", "--set", "market.size=500", "--set", "output.plots=false"]
TINY = ["--set", "acquisition.initial_members=50", "--set", "koc.initial_count=2"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_stdout_after_the_results_are_written_is_not_a_failure(tmp_path):
    out = tmp_path / "run"
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "sim", "run", SMOKE, "--out", str(out), *FAST[1:]],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "bug" not in proc.stderr
    assert "standard output" in proc.stderr
    assert (out / "summary.json").is_file()


def test_a_closed_pipe_on_stdout_is_not_a_failure(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", SMOKE, "--out", str(out), *FAST[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # nobody reads: writing the table gets EPIPE
    err = proc.stderr.read()
    assert proc.wait(300) == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert (out / "summary.json").is_file()


# --- matplotlib's cache ----------------------------------------------------------------------------


def test_matplotlib_cache_stays_in_a_directory_the_tool_controls(tmp_path):
    home = tmp_path / "nonexistent"
    script = textwrap.dedent(
        """
        import os, sys
        from sim.cli import main
        code = main(sys.argv[1:])
        import matplotlib
        print("CONFIGDIR=" + matplotlib.get_configdir())
        sys.exit(code)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLCONFIGDIR"}
    env.update(HOME=str(home), TMPDIR=str(tmp_path / "tmp"), XDG_CACHE_HOME="", XDG_CONFIG_HOME="")
    (tmp_path / "tmp").mkdir()
    out = tmp_path / "run"
    args = ["run", SMOKE, "--out", str(out), "--quiet", "--days", "3", "--set", "market.size=500", *TINY]
    proc = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not home.exists()
    configdir = Path(proc.stdout.split("CONFIGDIR=")[1].strip())
    assert configdir.is_relative_to(tmp_path / "tmp")
    assert stat.S_IMODE(configdir.stat().st_mode) == 0o700
    assert (out / "plots").is_dir()


def test_a_users_mplconfigdir_is_kept(tmp_path):
    mine = tmp_path / "mine"
    env = dict(os.environ, MPLCONFIGDIR=str(mine))
    script = "from sim.cli import main; main(['--help']); import os; print(os.environ['MPLCONFIGDIR'])"
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == str(mine)


def test_a_deleted_working_directory_is_a_clear_error(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    code = f"import os, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); from sim.cli import main; "
    code += f"sys.exit(main(['run', {SMOKE!r}, '--days', '3', '--quiet']))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert "working directory no longer exists" in proc.stderr and "Traceback" not in proc.stderr

"""Jobs split over a forked child: all run, in two processes when safe, and errors surface.

The fork cases run in a fresh interpreter: the test process itself may have threads
(left by other tests), and then ``run_split`` rightly declines to fork.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from sim import forked

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

PRELUDE = """
import json, os, sys
from pathlib import Path
from sim import forked
out = Path(sys.argv[1])
parent = os.getpid()

def write_pid(name):
    (out / name).write_text(str(os.getpid()))

def fail_in_child(name):
    if os.getpid() != parent:
        raise RuntimeError("child failure")
    if (out / name).exists():  # the parent is redoing the job and should fail too
        raise ValueError("job failed")
    (out / name).write_text("parent")
"""


def _run(tmp_path, body: str) -> subprocess.CompletedProcess:
    code = PRELUDE + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)


@needs_fork
def test_every_job_runs_and_half_of_them_in_a_child(tmp_path):
    done = _run(
        tmp_path,
        """
        assert forked.can_fork()
        forked.run_split([(write_pid, (f"{i}.txt",)) for i in range(5)])
        print(json.dumps(parent))
        """,
    )
    assert done.returncode == 0, done.stderr
    parent = json.loads(done.stdout)
    pids = [int((tmp_path / f"{i}.txt").read_text()) for i in range(5)]
    assert pids[0::2] == [parent] * 3  # even jobs in the calling process
    assert len(set(pids[1::2])) == 1 and pids[1] != parent  # odd jobs in one other process


@needs_fork
def test_a_failed_child_job_is_redone_here(tmp_path):
    done = _run(tmp_path, 'forked.run_split([(write_pid, ("ok.txt",)), (fail_in_child, ("flaky.txt",))])')
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "flaky.txt").read_text() == "parent"


@needs_fork
def test_an_error_in_a_child_job_reaches_the_caller(tmp_path):
    (tmp_path / "flaky.txt").write_text("")  # makes the parent's redo fail too
    done = _run(tmp_path, 'forked.run_split([(write_pid, ("ok.txt",)), (fail_in_child, ("flaky.txt",))])')
    assert done.returncode == 1
    assert "ValueError: job failed" in done.stderr


def test_everything_runs_here_when_a_thread_is_running(tmp_path):
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not forked.can_fork()
        paths = [tmp_path / f"{i}.txt" for i in range(3)]
        forked.run_split([(lambda p: p.write_text(str(os.getpid())), (p,)) for p in paths])
    finally:
        stop.set()
        thread.join()
    assert {int(p.read_text()) for p in paths} == {os.getpid()}

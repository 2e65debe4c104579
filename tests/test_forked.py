"""Jobs split over a forked child: all run, in two processes when safe, and errors surface."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from sim import forked


def _write_pid(path: Path) -> None:
    path.write_text(str(os.getpid()))


def _fail_in_child(path: Path, parent: int) -> None:
    if os.getpid() != parent:
        raise RuntimeError("child failure")
    if path.exists():  # the parent is redoing the job: fail for real
        raise ValueError("job failed")
    path.write_text("parent")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_every_job_runs_and_half_of_them_in_a_child(tmp_path):
    paths = [tmp_path / f"{i}.txt" for i in range(5)]
    forked.run_split([(_write_pid, (p,)) for p in paths])
    pids = [int(p.read_text()) for p in paths]
    assert pids[0::2] == [os.getpid()] * 3  # even jobs here
    assert len(set(pids[1::2])) == 1 and pids[1] != os.getpid()  # odd jobs in one other process


def test_everything_runs_here_when_a_thread_is_running(tmp_path):
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not forked.can_fork()
        paths = [tmp_path / f"{i}.txt" for i in range(3)]
        forked.run_split([(_write_pid, (p,)) for p in paths])
    finally:
        stop.set()
        thread.join()
    assert {int(p.read_text()) for p in paths} == {os.getpid()}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_failed_child_job_is_redone_here(tmp_path):
    ok = tmp_path / "ok.txt"
    flaky = tmp_path / "flaky.txt"
    # the child's job fails; the parent redoes it, and it succeeds
    forked.run_split([(_write_pid, (ok,)), (_fail_in_child, (flaky, os.getpid()))])
    assert flaky.read_text() == "parent"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_an_error_in_a_child_job_reaches_the_caller(tmp_path):
    flaky = tmp_path / "flaky.txt"
    flaky.write_text("")  # makes the parent's redo fail too
    with pytest.raises(ValueError, match="job failed"):
        forked.run_split([(_write_pid, (tmp_path / "ok.txt",)), (_fail_in_child, (flaky, os.getpid()))])

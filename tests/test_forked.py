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


HELPER_MODULE = """
import os
from pathlib import Path

def write_pids(path):
    Path(path).write_text(f"{os.getpid()} {os.getppid()}")

def fail_outside(path, parent):
    if os.getpid() != parent:
        raise RuntimeError("child failure")
    Path(path).write_text("parent")
"""


def _run_preloaded(tmp_path, body: str) -> subprocess.CompletedProcess:
    """Run ``body`` in a fresh interpreter that can import ``helpermod`` (written to ``tmp_path``)."""
    (tmp_path / "helpermod.py").write_text(HELPER_MODULE)
    return _run(tmp_path, "sys.path.insert(0, str(out))\n" + textwrap.dedent(body))


@needs_fork
def test_a_preloaded_child_imports_ahead_and_runs_the_jobs_on_two_processes(tmp_path):
    done = _run_preloaded(
        tmp_path,
        """
        with forked.preloaded("helpermod"):
            forked.run_split([("helpermod:write_pids", (str(out / f"{i}.txt"),)) for i in range(4)])
        print(json.dumps([parent, "helpermod" in sys.modules]))
        """,
    )
    assert done.returncode == 0, done.stderr
    parent, imported_here = json.loads(done.stdout)
    assert not imported_here  # only the child imported the jobs' module
    pids = [tuple(map(int, (tmp_path / f"{i}.txt").read_text().split())) for i in range(4)]
    helper = pids[0][0]
    assert pids[0][1] == parent and helper != parent  # the preloaded child ran the even jobs
    assert pids[2] == pids[0]
    assert pids[1] == pids[3] and pids[1][1] == helper  # its own child ran the odd ones


@needs_fork
def test_jobs_failing_in_the_preloaded_child_are_redone_here_and_errors_surface(tmp_path):
    done = _run_preloaded(
        tmp_path,
        """
        with forked.preloaded("helpermod"):
            forked.run_split([("helpermod:fail_outside", (str(out / "a.txt"), parent))])
        """,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "a.txt").read_text() == "parent"
    done = _run_preloaded(
        tmp_path,
        """
        with forked.preloaded("helpermod"):
            forked.run_split([("helpermod:fail_outside", (str(out / "a.txt"), -1))])
        """,
    )
    assert done.returncode == 1
    assert "RuntimeError: child failure" in done.stderr


@needs_fork
def test_a_child_that_cannot_import_or_take_the_jobs_leaves_them_here(tmp_path):
    done = _run_preloaded(
        tmp_path,
        """
        with forked.preloaded("no_such_module_anywhere"):
            forked.run_split([("helpermod:write_pids", (str(out / "a.txt"),))])
        with forked.preloaded("helpermod"):  # a lambda cannot be sent to the child
            forked.run_split([(lambda p: Path(p).write_text(f"{os.getpid()} 0"), (str(out / "b.txt"),))])
        print(json.dumps(parent))
        """,
    )
    assert done.returncode == 0, done.stderr
    parent = json.loads(done.stdout)
    for name in ("a.txt", "b.txt"):
        assert int((tmp_path / name).read_text().split()[0]) == parent


@needs_fork
def test_the_preloaded_child_is_reaped_used_or_not_and_serves_one_batch(tmp_path):
    done = _run_preloaded(
        tmp_path,
        """
        pids = []
        for use in (False, True):
            with forked.preloaded("helpermod"):
                pids.append(forked._Preloaded.current.pid)
                with forked.preloaded("helpermod"):  # nested: the same child
                    assert forked._Preloaded.current.pid == pids[-1]
                if use:
                    forked.run_split([("helpermod:write_pids", (str(out / "a.txt"),))])
                    forked.run_split([("helpermod:write_pids", (str(out / "b.txt"),))])
        for pid in pids:
            try:
                os.waitpid(pid, os.WNOHANG)
                raise SystemExit(f"child {pid} was not reaped")
            except ChildProcessError:
                pass
        print(json.dumps([parent, pids]))
        """,
    )
    assert done.returncode == 0, done.stderr
    parent, pids = json.loads(done.stdout)
    assert int((tmp_path / "a.txt").read_text().split()[0]) == pids[1]
    assert int((tmp_path / "b.txt").read_text().split()[0]) == parent  # the second batch ran here


@needs_fork
def test_processes_forked_inside_the_block_do_not_hold_up_the_child(tmp_path):
    """A pool forked in the block inherits the pipe to the child; batches are sized, so nobody waits for its end."""
    done = _run_preloaded(
        tmp_path,
        """
        import multiprocessing
        with forked.preloaded("helpermod"):
            with multiprocessing.get_context("fork").Pool(2) as pool:
                assert pool.map(abs, [-1, -2]) == [1, 2]
                forked.run_split([("helpermod:write_pids", (str(out / "a.txt"),))])
        with forked.preloaded("helpermod"):  # an unused child, with the pool's copies of the pipe still open
            pool = multiprocessing.get_context("fork").Pool(1)
        pool.terminate()
        print(json.dumps(parent))
        """,
    )
    assert done.returncode == 0, done.stderr
    assert int((tmp_path / "a.txt").read_text().split()[0]) != json.loads(done.stdout)


@needs_fork
def test_no_fork_no_child_and_every_job_here(tmp_path):
    done = _run_preloaded(
        tmp_path,
        """
        import errno
        fork = os.fork
        def refuse():
            raise BlockingIOError(errno.EAGAIN, "no more processes")
        os.fork = refuse
        fds = set(os.listdir("/proc/self/fd"))
        with forked.preloaded("helpermod"):
            assert forked._Preloaded.current is None
            os.fork = fork
            forked.run_split([("helpermod:write_pids", (str(out / "a.txt"),))])
        assert set(os.listdir("/proc/self/fd")) == fds, "pipes left open"
        print(json.dumps(parent))
        """,
    )
    assert done.returncode == 0, done.stderr
    assert int((tmp_path / "a.txt").read_text().split()[0]) == json.loads(done.stdout)


@needs_fork
def test_two_threads_in_one_block_each_get_their_jobs_done(tmp_path):
    done = _run_preloaded(
        tmp_path,
        """
        import threading
        errors = []
        def batch(name):
            try:
                forked.run_split([("helpermod:write_pids", (str(out / f"{name}{i}.txt"),)) for i in range(2)])
            except BaseException as exc:
                errors.append(repr(exc))
        with forked.preloaded("helpermod"):
            threads = [threading.Thread(target=batch, args=(name,)) for name in "AB"]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        print(json.dumps(errors))
        """,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert sorted(p.name for p in tmp_path.glob("*.txt")) == ["A0.txt", "A1.txt", "B0.txt", "B1.txt"]


@needs_fork
def test_an_interrupted_split_leaves_no_process_running(tmp_path):
    """Ctrl-C at the terminal reaches every process of the group: the half in the other process is stopped too."""
    done = _run_preloaded(
        tmp_path,
        """
        import signal, time
        os.setpgrp()
        def slow(path):
            Path(path).write_text(str(os.getpid()))
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a long call that does not notice Ctrl-C
            time.sleep(30)
        signal.signal(signal.SIGALRM, lambda *_: os.killpg(0, signal.SIGINT))
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        try:
            forked.run_split([(len, ("",)), (slow, (str(out / "other.pid"),))])  # this half done: waiting for the other
        except KeyboardInterrupt:
            pass
        other = int((out / "other.pid").read_text())
        try:
            os.kill(other, 0)
            print(json.dumps("still running"))
        except ProcessLookupError:
            print(json.dumps("gone"))
        """,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "gone"

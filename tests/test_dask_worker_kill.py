"""A Dask worker killed mid-sweep: Dask reruns its chunk, and the table equals an undisturbed sweep's."""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.experiment import sweep
from sim.experiment.resolve import resolve_experiment
from sim.experiment.runs import run_chunk
from tests.experiment_helpers import write_experiment

pytest.importorskip("distributed", reason="Dask distributed is not installed (pip install '.[distributed]')")

BODY = """\
seed: 21
factors:
  referral.reward_inviter: [0, 30]
replications: 3
kpis: [members, final.gmv, final.profit]
series: {every: 10, kpis: [members, gmv]}
"""
RUNS = 6  # one chunk each
#: Longest the victim chunk waits for its kill before failing the sweep (so a broken test fails, not hangs).
WAIT_FOR_KILL = 90.0


def chunk_that_waits_to_be_killed(markers: Path, plan, tasks):
    """``run_chunk`` that records each start; the sweep's first chunk to start waits, in flight, to be killed.

    Runs on the Dask workers (the test module is pickled by reference, the marker
    folder bound in), so files in ``markers`` are its only channel to the test:
    ``start.<point>-<replication>.<pid>.<ns>`` per start, ``in-flight`` with the victim's pid.
    """
    chunk = f"{tasks[0].point}-{tasks[0].replication}"
    (markers / f"start.{chunk}.{os.getpid()}.{time.monotonic_ns()}").touch()
    try:  # exactly one start in the whole sweep becomes the victim
        os.close(os.open(markers / "claimed", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return run_chunk(plan, tasks)
    note = markers / "in-flight.tmp"
    note.write_text(f"{os.getpid()} {chunk}")
    note.rename(markers / "in-flight")
    time.sleep(WAIT_FOR_KILL)
    raise RuntimeError("the worker running this chunk was not killed")


def kill_the_victim(markers: Path, worker_pids: dict[int, str], stop: threading.Event, killed: dict) -> None:
    """Once the victim chunk is in flight, SIGKILL the worker process running it."""
    deadline = time.monotonic() + WAIT_FOR_KILL
    while not (markers / "in-flight").exists():
        if stop.is_set() or time.monotonic() > deadline:
            killed["error"] = "no chunk started on the workers"
            return
        time.sleep(0.01)
    pid_text, chunk = (markers / "in-flight").read_text().split()
    pid = int(pid_text)
    if pid not in worker_pids:
        killed["error"] = f"pid {pid} is not one of the workers {worker_pids}"
        return
    killed.update(pid=pid, chunk=chunk, worker=worker_pids[pid])
    os.kill(pid, signal.SIGKILL)


def _table(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "runs.parquet").drop(columns="wall_seconds")


@pytest.mark.parametrize("workers", [2, 1])  # one worker: the plan it held is lost with it and recomputed
def test_a_killed_worker_has_its_chunk_rerun_and_the_table_is_unchanged(workers, tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    resolved = resolve_experiment(write_experiment(tmp_path, BODY))
    reference = tmp_path / "reference"
    sweep.run_sweep(resolved, reference, executor="serial")

    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setattr(sweep, "run_chunk", functools.partial(chunk_that_waits_to_be_killed, markers))
    killed: dict = {}
    stop = threading.Event()
    # the same cluster DaskExecutor starts, but ours, so the test can see its workers and events
    with LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            worker_pids = {pid: address for address, pid in client.run(os.getpid).items()}
            assert len(worker_pids) == workers
            killer = threading.Thread(target=kill_the_victim, args=(markers, worker_pids, stop, killed))
            killer.start()
            try:
                outcome = sweep.run_sweep(
                    resolved, tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address, chunk_size=1
                )
            finally:
                stop.set()
                killer.join()
            assert "error" not in killed, killed["error"]
            client.wait_for_workers(workers, timeout=60)  # the nanny replaced the killed worker
            all_pids = set(worker_pids) | set(client.run(os.getpid).values())
            removed = [e for _, e in client.get_events(killed["worker"]) if e.get("action") == "remove-worker"]
    # the scheduler lost the worker unexpectedly, with the victim chunk processing on it
    assert len(removed) == 1 and not removed[0]["expected"] and removed[0]["processing-tasks"]
    # every chunk started once, except the victim's: on the killed worker, then again on another
    starts: dict[str, list[int]] = {}
    for marker in markers.glob("start.*"):
        _, chunk, pid, _ = marker.name.split(".")
        starts.setdefault(chunk, []).append(int(pid))
    assert {c: len(p) for c, p in starts.items()} == {c: 1 + (c == killed["chunk"]) for c in starts}
    assert len(starts) == RUNS
    victim_pids = starts[killed["chunk"]]
    assert killed["pid"] in victim_pids and len(set(victim_pids)) == 2

    # the sweep finished as if nothing happened: each chunk stored once, the same table and series
    assert (outcome.ran, outcome.failed, len(outcome.runs)) == (RUNS, 0, RUNS)
    assert len(list((tmp_path / "dask" / "chunks").glob("chunk-*.parquet"))) == RUNS
    pd.testing.assert_frame_equal(_table(tmp_path / "dask"), _table(reference))
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "dask" / "series.parquet"), pd.read_parquet(reference / "series.parquet")
    )
    # and no worker process outlives the cluster
    assert not [pid for pid in all_pids if _running(pid)]


def _running(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False

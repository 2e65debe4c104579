"""Sweeps: identical results on every executor, common random numbers, failures, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from sim.batch.executors import LocalExecutor
from sim.cli import main
from sim.experiment.resolve import resolve_experiment
from sim.experiment.sweep import run_sweep
from sim.run.atomic import OutputError
from tests.experiment_helpers import ROOT, write_experiment

GRID = """\
seed: 11
factors:
  referral.reward_inviter: [0, 30]
  content.cost_per_post: [40, 120]
replications: 3
kpis: [members, final.gmv, final.profit]
series: {every: 10, kpis: [members, gmv]}
"""


def _table(out) -> pd.DataFrame:
    return pd.read_parquet(out / "runs.parquet").drop(columns="wall_seconds")


@pytest.fixture(scope="module")
def grid_serial(tmp_path_factory):
    """The reference: the grid run in this process, one chunk after another."""
    folder = tmp_path_factory.mktemp("grid")
    path = write_experiment(folder, GRID)
    outcome = run_sweep(resolve_experiment(path), folder / "serial", executor="serial", chunk_size=5)
    return path, folder / "serial", outcome


def test_a_sweep_records_every_run_with_its_seed(grid_serial):
    path, out, outcome = grid_serial
    runs = _table(out)
    assert len(runs) == 12 and outcome.failed == 0 and (runs["status"] == "ok").all()
    factors = ["referral.reward_inviter", "content.cost_per_post"]
    assert list(runs.columns[:5]) == ["point", "replication", "seed", *factors]
    assert runs[["point", "replication"]].apply(tuple, axis=1).is_monotonic_increasing
    # common random numbers: replication r has the same seed at every design point
    seeds = runs.pivot(index="point", columns="replication", values="seed")
    assert (seeds.nunique() == 1).all() and seeds.iloc[0].nunique() == 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == list(seeds.iloc[0]) and manifest["status"] == "complete"
    assert manifest["runs_ok"] == 12 and manifest["experiment_sha256"] == resolve_experiment(path).sha256
    series = pd.read_parquet(out / "series.parquet")
    assert set(series["day"]) == {0, 10, 20, 29} and len(series) == 12 * 4
    # the factors reach the model: dearer brand posts cost more content, so profit differs by their price
    assert runs.groupby("content.cost_per_post")["final.profit"].mean().nunique() == 2


def test_local_processes_give_the_same_table(grid_serial, tmp_path):
    path, out, _ = grid_serial
    run_sweep(resolve_experiment(path), tmp_path / "local", executor="local", workers=2)
    pd.testing.assert_frame_equal(_table(tmp_path / "local"), _table(out))


def test_dask_local_cluster_gives_the_same_table(grid_serial, tmp_path):
    pytest.importorskip("distributed", reason="Dask distributed is not installed (pip install '.[distributed]')")
    from distributed import Client, LocalCluster

    path, out, _ = grid_serial
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
        outcome = run_sweep(
            resolve_experiment(path),
            tmp_path / "dask",
            executor="dask",
            scheduler=cluster.scheduler_address,
            chunk_size=4,
        )
    assert outcome.ran == 12
    dask, local = _table(tmp_path / "dask"), _table(out)
    pd.testing.assert_frame_equal(dask, local)
    assert dask["final.gmv"].tolist() == local["final.gmv"].tolist()  # equal floats, not merely close


def test_failed_runs_are_recorded_and_make_the_exit_code_3(tmp_path, capsys):
    path = write_experiment(tmp_path, "seed: 2\nfactors:\n  market.size: [50, 2000]\nkpis: [final.members]\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 3
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    failed = runs[runs["status"] == "failed"]
    assert list(failed["point"]) == [0] and failed["seed"].notna().all()
    assert "exceeds market.size (50)" in failed["error"].iloc[0]
    assert (runs.loc[runs["status"] == "ok", "final.members"] > 0).all()
    captured = capsys.readouterr()
    assert "1 ok, 1 failed" in captured.out and "failed: point 0, replication 0, seed" in captured.err
    again = run_sweep(resolve_experiment(path), tmp_path / "out", executor="serial", retry_failed=True)
    assert (again.ran, again.skipped, again.failed, len(again.runs)) == (1, 1, 1, 2)  # only the failed run reran


def test_an_interrupted_sweep_resumes_where_it_stopped(grid_serial, tmp_path):
    path, out, _ = grid_serial
    resolved = resolve_experiment(path)
    chunks_done = []

    def stop_after_two(runs, failed):
        chunks_done.append(runs)
        if len(chunks_done) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(resolved, tmp_path / "s", executor="serial", chunk_size=3, on_chunk=stop_after_two)
    assert len(list((tmp_path / "s" / "chunks").glob("chunk-*.parquet"))) == 2
    assert json.loads((tmp_path / "s" / "manifest.json").read_text())["status"] == "interrupted"
    outcome = run_sweep(resolved, tmp_path / "s", executor="serial", chunk_size=5)
    assert (outcome.skipped, outcome.ran) == (6, 6)
    pd.testing.assert_frame_equal(_table(tmp_path / "s"), _table(out))
    again = run_sweep(resolved, tmp_path / "s", executor="serial")
    assert again.ran == 0 and len(again.runs) == 12


def test_a_different_experiment_is_not_resumed_into_the_same_directory(grid_serial, tmp_path):
    path, out, _ = grid_serial
    other = resolve_experiment(path, ["seed=12"])
    with pytest.raises(OutputError, match="holds a different experiment"):
        run_sweep(other, out, executor="serial")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="holds no sweep"):
        run_sweep(other, tmp_path / "junk", executor="serial")
    with pytest.raises(OutputError, match="nothing to resume"):
        run_sweep(other, tmp_path / "fresh", executor="serial", resume=True)


def test_a_refused_directory_names_the_setting_that_differs_and_the_set_that_changed_it(grid_serial, tmp_path):
    """``--set replications=2`` on the directory of a 3-replication sweep: the refusal names replications, both
    values and the --set, so the user knows what to change; a change in the file names the file instead."""
    path, out, _ = grid_serial
    with pytest.raises(OutputError) as refused:
        run_sweep(resolve_experiment(path, ["replications=2"]), out, executor="serial")
    message = str(refused.value)
    assert "holds a different experiment" in message
    assert "replications is 2 with --set replications=2 and 3 in the directory" in message
    assert "Drop or change that --set to resume it" in message
    edited = write_experiment(tmp_path, GRID.replace("seed: 11", "seed: 12"), name="edited.yaml")
    with pytest.raises(OutputError) as refused:
        run_sweep(resolve_experiment(edited), out, executor="serial")
    assert f"seed is 12 in {edited} and 11 in the directory" in str(refused.value)


def test_sigkill_halfway_then_rerun_gives_the_uninterrupted_table(tmp_path):
    """Kill the sweep's whole process group after its first chunk lands; the same command then finishes it."""
    body = "seed: 5\nfactors:\n  referral.reward_inviter: [0, 10, 20, 40]\nreplications: 4\nkpis: [final.members]\n"
    path = write_experiment(tmp_path, body, small=False)
    path.write_text(path.read_text() + "set: {days: 20, market.size: 3000}\n")
    out = tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "sim",
        "sweep",
        str(path),
        "--out",
        str(out),
        "--workers",
        "1",
        "--chunk-size",
        "1",
        "--quiet",
    ]
    proc = subprocess.Popen(
        command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 180  # generous: CI machines can be slow to start Python
    try:
        while not list((out / "chunks").glob("chunk-*.parquet")):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no chunk landed within three minutes"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    landed = len(list((out / "chunks").glob("chunk-*.parquet")))
    assert 1 <= landed < 16 and not (out / "runs.parquet").exists()
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 0
    reference = tmp_path / "reference"
    run_sweep(resolve_experiment(path), reference, executor="serial")
    pd.testing.assert_frame_equal(_table(out), _table(reference))


def test_the_local_executor_leaves_the_global_start_method_alone():
    import multiprocessing

    before = multiprocessing.get_start_method(allow_none=True)
    with LocalExecutor(1) as ex:
        assert list(ex.map(pow, 2, [3])) == [(0, 8)]
    assert multiprocessing.get_start_method(allow_none=True) == before

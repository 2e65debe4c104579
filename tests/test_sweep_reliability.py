"""Sweeps under damage and abuse: corrupted chunks, signals, stuck workers, huge designs, unusable directories."""

from __future__ import annotations

import ast
import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.batch.executors import LocalExecutor, run_in_order
from sim.cli import main
from sim.experiment import design as designs
from sim.experiment import store as stores
from sim.experiment.resolve import resolve_experiment
from sim.experiment.sweep import run_sweep
from tests.experiment_helpers import (
    ROOT,
    late_for_early_tasks,
    stop_once,
    worker_pools,
    worker_threads,
    write_experiment,
)

TINY = """\
seed: 3
set: {days: 10, market.size: 300, acquisition.initial_members: 30, koc.initial_count: 2}
factors:
  referral.reward_inviter: [0, 30]
replications: 2
kpis: [final.members, final.gmv]
series: {every: 5, kpis: [members]}
"""


def _table(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "runs.parquet").drop(columns="wall_seconds")


def _chunks(out: Path) -> list[Path]:
    return sorted((out / "chunks").glob("chunk-*.parquet"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A finished 4-run sweep in two chunks, the reference for the damage tests."""
    folder = tmp_path_factory.mktemp("tiny")
    path = write_experiment(folder, TINY, small=False)
    run_sweep(resolve_experiment(path), folder / "ref", executor="serial", chunk_size=2)
    return path, folder / "ref"


def _expected(path: Path) -> stores.Expected:
    r = resolve_experiment(path)
    return stores.Expected(r.kpis, len(r.design), r.seeds)


# --- item: damaged chunks -----------------------------------------------------------------------


def test_every_single_bit_flip_of_a_chunk_is_detected(tiny, tmp_path):
    path, ref = tiny
    out = tmp_path / "s"
    shutil.copytree(ref, out)
    chunk = _chunks(out)[0]
    pristine = chunk.read_bytes()
    rng = random.Random(20261203)
    store = stores.SweepStore(out, _expected(path))
    assert [len(rows) for rows, _ in store.verified()] == [2, 2] and not store.damaged
    flips = 500
    for _ in range(flips):
        bit = rng.randrange(len(pristine) * 8)
        damaged = bytearray(pristine)
        damaged[bit // 8] ^= 1 << (bit % 8)
        chunk.write_bytes(bytes(damaged))
        sound = list(store.verified())
        assert len(sound) == 1, f"a flip of bit {bit} went unnoticed"
    assert len(store.damaged) == flips and all("chunk-00000" in d for d in store.damaged)


def _rewrite(chunk: Path, change) -> None:
    """Rewrite a chunk file as a valid parquet file with ``change`` applied, under the same name."""
    rows = pd.read_parquet(chunk)
    change(rows)
    rows.to_parquet(chunk, index=False)


def _double_gmv(rows):
    rows["final.gmv"] = rows["final.gmv"] * 1e41


def _drop_gmv(rows):
    del rows["final.gmv"]


@pytest.mark.parametrize("change", [_double_gmv, _drop_gmv], ids=["changed-value", "missing-kpi-column"])
def test_a_damaged_chunk_is_run_again_on_resume_with_a_warning(tiny, tmp_path, change):
    path, ref = tiny
    out = tmp_path / "s"
    shutil.copytree(ref, out)
    (out / "runs.parquet").unlink()
    _rewrite(_chunks(out)[1], change)
    outcome = run_sweep(resolve_experiment(path), out, executor="serial", chunk_size=2)
    assert (outcome.skipped, outcome.ran) == (2, 2)
    pd.testing.assert_frame_equal(_table(out), _table(ref))
    assert any("chunk-00001" in w and "run again" in w for w in outcome.warnings), outcome.warnings
    assert len(list((out / "chunks").glob("*.damaged"))) == 1


def test_chunks_of_the_previous_layout_without_checksums_are_still_resumed(tiny, tmp_path):
    path, ref = tiny
    out = tmp_path / "s"
    shutil.copytree(ref, out)
    for folder in ("chunks", "series"):
        for f in sorted((out / folder).glob("chunk-*.parquet")):
            pd.read_parquet(f).to_parquet(f.with_name(f.name.split(".")[0] + ".parquet"), index=False)
            f.unlink()
    assert [p.name for p in _chunks(out)] == ["chunk-00000.parquet", "chunk-00001.parquet"]
    outcome = run_sweep(resolve_experiment(path), out, executor="serial")
    assert (outcome.skipped, outcome.ran, outcome.warnings) == (4, 0, [])
    pd.testing.assert_frame_equal(_table(out), _table(ref))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "series.parquet"), pd.read_parquet(ref / "series.parquet"))


def test_analysing_an_unfinished_sweep_leaves_out_a_damaged_chunk(tiny, tmp_path):
    from sim.experiment.analysis import load_sweep

    path, ref = tiny
    out = tmp_path / "s"
    shutil.copytree(ref, out)
    (out / "runs.parquet").unlink()
    _rewrite(_chunks(out)[1], _double_gmv)
    sweep = load_sweep(out)
    assert len(sweep.runs) == 2 and sweep.runs["final.gmv"].max() < 1e30
    assert len(sweep.damaged) == 1 and "chunk-00001" in sweep.damaged[0]
    assert len(_chunks(out)) == 2  # analysis only reads: the sweep itself sets the chunk aside


def test_a_chunk_damaged_before_the_merge_is_run_again(tiny, tmp_path):
    path, ref = tiny
    out = tmp_path / "s"

    def damage_first(runs, failed):
        if len(_chunks(out)) != 1:
            return
        first = _chunks(out)[0]
        data = bytearray(first.read_bytes())
        data[len(data) // 2] ^= 0x10
        first.write_bytes(bytes(data))

    outcome = run_sweep(resolve_experiment(path), out, executor="serial", chunk_size=2, on_chunk=damage_first)
    pd.testing.assert_frame_equal(_table(out), _table(ref))
    assert outcome.warnings and "chunk-00000" in outcome.warnings[0]
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


# --- item: huge designs ---------------------------------------------------------------------------


def test_design_points_are_counted_exactly_without_building_them():
    factors = [designs.DesignFactor(f"f{i}", "float", range=(0.0, 1.0), steps=10_000) for i in range(8)]
    assert designs.point_count("grid", factors, None) == 10**32
    assert designs.point_count("zip", factors, None) == 10_000


def _huge(tmp_path, body):
    path = write_experiment(tmp_path, body)
    start = time.perf_counter()
    code = main(["sweep", str(path), "--dry-run"])
    return code, time.perf_counter() - start


def test_a_design_above_the_run_limit_is_refused_with_its_count(tmp_path, capsys):
    grid = "seed: 1\nfactors:\n" + "".join(
        f"  {k}: {{range: [0.1, 0.9], steps: 10000}}\n" for k in ("content.quality", "content.ugc_quality")
    )
    code, seconds = _huge(tmp_path, grid)
    err = capsys.readouterr().err
    assert code == 2 and seconds < 30
    assert "100,000,000 runs" in err and "--max-runs" in err and "Traceback" not in err
    small = "seed: 1\nfactors:\n  referral.reward_inviter: [0, 10, 20]\nreplications: 2\n"
    path = write_experiment(tmp_path, small, name="small.yaml")
    assert main(["sweep", str(path), "--dry-run", "--max-runs", "5"]) == 2
    assert "3 points x 2 replications = 6 runs, more than the limit of 5" in capsys.readouterr().err
    assert main(["sweep", str(path), "--dry-run", "--max-runs", "6"]) == 0


def _words(text: str) -> str:
    """A printed table's text without its rules, one space between words (cells wrap at any width)."""
    return " ".join(text.translate({ord(c): " " for c in "│┃┌┐└┘├┤┬┴┼─━"}).split())


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_dry_run_says_what_the_sweep_would_do_with_its_results_directory_and_writes_nothing(
    tiny, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "1000")  # no path folded across lines
    path, ref = tiny
    partial = tmp_path / "partial"
    shutil.copytree(ref, partial)
    for chunk in _chunks(partial)[1:]:  # one chunk of two runs left, as after an interrupt
        chunk.unlink()
    before = _tree(partial)
    assert main(["sweep", str(path), "--dry-run", "--out", str(partial)]) == 0
    assert "holds this sweep: 2 of 4 runs done; the rest would run" in _words(capsys.readouterr().out)
    assert main(["sweep", str(path), "--dry-run", "--out", str(tmp_path / "fresh")]) == 0
    assert "fresh (new)" in _words(capsys.readouterr().out) and not (tmp_path / "fresh").exists()

    other = write_experiment(tmp_path, TINY.replace("seed: 3", "seed: 4"), name="other.yaml", small=False)
    assert main(["sweep", str(other), "--dry-run", "--out", str(partial)]) == 2
    out, err = capsys.readouterr()
    assert "the sweep would be refused there" in _words(out) and "holds a different experiment" in err
    assert "Traceback" not in err

    clutter = tmp_path / "clutter"
    clutter.mkdir()
    (clutter / "notes.txt").write_text("mine")
    assert main(["sweep", str(path), "--dry-run", "--out", str(clutter)]) == 2
    assert "holds no sweep" in capsys.readouterr().err
    assert main(["sweep", str(path), "--dry-run", "--resume", "--out", str(tmp_path / "none")]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    run_dir = tmp_path / "a_run"
    run_dir.mkdir()
    (run_dir / "manifest.json").write_text('{"scenario": "smoke", "seed": 42}')
    assert main(["sweep", str(path), "--dry-run", "--out", str(run_dir)]) == 2
    err = _words(capsys.readouterr().err)
    assert "holds another command's output" in err and "a run directory?" in err and "None" not in err
    (tmp_path / "afile").write_text("x")
    assert main(["sweep", str(path), "--dry-run", "--out", str(tmp_path / "afile")]) == 2
    assert "is a file, not a directory" in _words(capsys.readouterr().err)
    assert _tree(partial) == before and _tree(clutter) == {"notes.txt": b"mine"}


# --- item: workers and their threads --------------------------------------------------------------


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_results_come_back_in_task_order_whatever_order_they_finish_in(executor):
    """compare, abtest and validation rely on it: with two workers the later tasks finish first."""
    ticks = []
    found = run_in_order(late_for_early_tasks, 0.3, [0, 1, 2, 3], executor, 2, progress=lambda *a: ticks.append(a))
    assert [task for task, _ in found] == [0, 1, 2, 3]
    assert ticks == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert (len({pid for _, pid in found}) == 2) == (executor == "local")  # the local pool used both workers


def test_workers_keep_to_one_thread_each():
    with LocalExecutor(1) as ex:
        [(_, (env, one_core))] = list(ex.map(worker_threads, None, [0]))
    assert env == ("1", "1", "1") and one_core


def test_workers_numerical_thread_pools_hold_one_thread_each():
    """The limits take effect: the BLAS and OpenMP pools a worker has loaded run one thread each, so
    two workers keep to two cores (the variables alone would not, had numpy loaded before they were set)."""
    pytest.importorskip("threadpoolctl")
    with LocalExecutor(2) as ex:
        pools = [p for _, result in ex.map(worker_pools, None, [0, 1]) for p in result]
    assert any(api in ("openblas", "mkl", "blis", "flexiblas") for api, _ in pools), pools
    assert all(threads == 1 for _, threads in pools), pools


def test_thread_limits_hold_when_the_sweep_runs_from_the_console_script(tmp_path):
    """The installed ``community-sim`` script imports ``sim.cli`` at its top, and the forkserver imports the
    script before it forks each worker: had that import loaded numpy, every worker's BLAS would keep the
    machine's threads whatever the variables say."""
    pytest.importorskip("threadpoolctl")
    script = tmp_path / "community-sim"
    script.write_text(
        "import sys\n"
        "from sim.cli import entry  # as the installed console script does\n"
        "if __name__ == '__main__':\n"
        "    from sim.batch.executors import LocalExecutor, run_in_order\n"
        "    from tests.experiment_helpers import worker_pools\n"
        "    with LocalExecutor(2) as ex:\n"
        "        print(sorted({p for _, r in ex.map(worker_pools, None, [0, 1]) for p in r}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    pools = ast.literal_eval(res.stdout.strip().splitlines()[-1])
    assert any(api in ("openblas", "mkl", "blis", "flexiblas") for api, _ in pools), pools
    assert all(threads == 1 for _, threads in pools), pools


def test_one_core_mode_starts_no_second_core_thread(monkeypatch):
    import sim.engine.options as options
    import sim.model
    from sim.engine.process import prepare_process
    from tests.conftest import small

    eager = options.EngineOptions(draw_ahead_market=10, split_market=10)
    monkeypatch.setattr(options, "_default", eager)
    model = sim.model.CommunityModel(small(days=2))
    assert model.streams.ahead is not None and len(model.split_rows(lambda r: r, slice(None))) == 2
    prepare_process(one_core=True)  # what a sweep's worker does
    assert options.default() == eager.on_one_core()
    model = sim.model.CommunityModel(small(days=2))
    assert model.streams.ahead is None and len(model.split_rows(lambda r: r, slice(None))) == 1


def test_more_workers_than_cores_get_a_warning(tiny, capsys):
    path, _ = tiny
    assert main(["sweep", str(path), "--dry-run", "--workers", str(4 * (os.cpu_count() or 1))]) == 0
    assert "warning:" in capsys.readouterr().err


# --- item: stuck workers --------------------------------------------------------------------------


def _alarm(signum, frame):
    raise TimeoutError("the test ran out of time")


def test_a_stopped_worker_has_its_chunk_run_again_after_the_time_limit(tmp_path):
    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(120)
    try:
        with LocalExecutor(2, chunk_timeout=3) as ex:
            results = dict(ex.map(stop_once, str(tmp_path / "stopped"), [1, 2, 3]))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert results == {0: 2, 1: 4, 2: 6}
    assert time.monotonic() - start < 60
    assert ex.warnings and "--chunk-timeout 3 s" in ex.warnings[0]


def test_chunk_timeout_is_for_the_local_executor(tiny, capsys):
    path, _ = tiny
    assert main(["sweep", str(path), "--executor", "dask", "--chunk-timeout", "5", "--dry-run"]) == 2
    assert "--chunk-timeout applies to the local executor" in capsys.readouterr().err


# --- item: signals --------------------------------------------------------------------------------


def _start(args, tmp_path):
    command = [sys.executable, "-m", "sim", *args]
    return subprocess.Popen(
        command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _group_gone(pgid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _sweep_until_a_chunk(tmp_path):
    body = "seed: 5\nfactors:\n  referral.reward_inviter: [0, 10, 20, 40]\nreplications: 6\nkpis: [final.members]\n"
    path = write_experiment(tmp_path, body)
    out = tmp_path / "out"
    args = ["sweep", str(path), "--out", str(out), "--workers", "2", "--chunk-size", "1", "--quiet"]
    proc = _start(args, tmp_path)
    deadline = time.monotonic() + 120
    while not _chunks(out):
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"no chunk landed: {proc.stderr.read().decode()}")
        time.sleep(0.02)
    return proc, out


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_no_process_outlives_a_killed_or_terminated_sweep(tmp_path, sig):
    proc, out = _sweep_until_a_chunk(tmp_path)
    try:
        os.kill(proc.pid, sig)  # the sweep process only, not its group
        code = proc.wait(timeout=60)
        gone = _group_gone(proc.pid, 15)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    stderr = proc.stderr.read().decode()
    assert gone, "worker, forkserver or resource-tracker processes outlived the sweep"
    if sig == signal.SIGTERM:
        assert code == 143, stderr
        assert "terminated (SIGTERM): finished chunks are saved" in stderr and "Traceback" not in stderr
        assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
        assert not list(out.rglob("*.partial"))


def _terminate_when(args, tmp_path, ready) -> tuple[int, str, bool]:
    """Start the command, send SIGTERM once ``ready(process)`` holds; its exit code, stderr, and whether its
    whole process group was gone within 15 s."""
    psutil = pytest.importorskip("psutil")
    proc = _start(args, tmp_path)
    try:
        p = psutil.Process(proc.pid)
        deadline = time.monotonic() + 120
        while not ready(p):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        gone = _group_gone(proc.pid, 15)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return code, proc.stderr.read().decode(), gone


def test_sigterm_stops_a_run_like_ctrl_c(tmp_path):
    out = tmp_path / "run"
    scenario = ROOT / "scenarios" / "smoke.yaml"
    args = ["run", str(scenario), "--days", "3650", "--set", "market.size=20000", "--out", str(out), "--quiet"]
    # started and simulating (imports take about two seconds)
    code, stderr, gone = _terminate_when(args, tmp_path, lambda p: sum(p.cpu_times()[:2]) >= 4.0)
    assert code == 143, stderr
    assert "terminated (SIGTERM); nothing was written" in stderr and "Traceback" not in stderr
    assert not out.exists() and not list(tmp_path.glob(".*partial")) and gone


# --- unusable output directories ------------------------------------------------------------------


def _sweep(path, out, *extra):
    return main(["sweep", str(path), "--out", str(out), "--quiet", "--executor", "local", "--workers", "1", *extra])


def test_out_under_a_file_is_a_clear_error(tiny, tmp_path, capsys):
    path, _ = tiny
    (tmp_path / "afile").write_text("x")
    assert _sweep(path, tmp_path / "afile" / "out") == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "afile" in err and "Traceback" not in err


def _refuse_writes_under(monkeypatch, root: Path, code: int):
    """Make creating directories and files under ``root`` fail with ``code`` (a read-only or full disk)."""
    real_mkdir, real_open = Path.mkdir, os.open

    def mkdir(self, *args, **kwargs):
        if str(self.absolute()).startswith(str(root)) and not self.exists():
            raise OSError(code, os.strerror(code), str(self))
        return real_mkdir(self, *args, **kwargs)

    def open_(file, flags, *args, **kwargs):
        if os.path.abspath(file).startswith(str(root)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(code, os.strerror(code), str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", open_)


def test_a_read_only_out_is_a_clear_error(tiny, tmp_path, capsys, monkeypatch):
    path, _ = tiny
    _refuse_writes_under(monkeypatch, tmp_path / "ro", errno.EROFS)
    assert _sweep(path, tmp_path / "ro" / "out") == 2
    err = capsys.readouterr().err
    assert "Read-only file system" in err and "--out" in err and "Traceback" not in err


def test_the_default_results_in_a_read_only_directory_is_a_clear_error(tiny, tmp_path, capsys, monkeypatch):
    path, _ = tiny
    monkeypatch.chdir(tmp_path)
    _refuse_writes_under(monkeypatch, tmp_path, errno.EROFS)
    assert main(["sweep", str(path), "--quiet", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "results" in err and "Read-only file system" in err


def test_a_full_disk_is_a_clear_error_and_the_manifest_says_interrupted(tiny, tmp_path, capsys, monkeypatch):
    path, _ = tiny

    def full(path, *args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    # the chunk writer of this version, or the one before (which wrote chunks with pandas)
    writer = "write_bytes_atomic" if hasattr(stores, "write_bytes_atomic") else "write_parquet_atomic"
    monkeypatch.setattr(stores, writer, full)
    out = tmp_path / "out"
    assert _sweep(path, out) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert not list(out.rglob("*.partial"))


def test_a_lock_replaced_by_a_directory_is_a_clear_error(tiny, tmp_path, capsys):
    path, ref = tiny
    out = tmp_path / "s"
    shutil.copytree(ref, out)
    (out / ".lock").unlink(missing_ok=True)
    (out / ".lock").mkdir()
    assert _sweep(path, out) == 2
    err = capsys.readouterr().err
    assert ".lock is a directory" in err and "Traceback" not in err


def test_chunks_replaced_by_a_file_is_a_clear_error(tiny, tmp_path, capsys):
    path, ref = tiny
    out = tmp_path / "s"
    shutil.copytree(ref, out)
    shutil.rmtree(out / "chunks")
    (out / "chunks").write_text("x")
    assert _sweep(path, out) == 2
    err = capsys.readouterr().err
    assert "chunks is not a directory" in err and "Traceback" not in err


def test_a_malformed_scheduler_address_is_a_clear_error(tiny, capsys):
    path, _ = tiny
    assert main(["sweep", str(path), "--executor", "dask", "--scheduler", "not a url", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--scheduler 'not a url' is not a Dask scheduler address" in err and "Traceback" not in err


# --- the Dask LocalCluster -------------------------------------------------------------------------


def test_the_dask_local_cluster_serves_nothing_on_8787():
    pytest.importorskip("distributed", reason="Dask distributed is not installed")
    psutil = pytest.importorskip("psutil")

    from sim.batch.executors import DaskExecutor

    with DaskExecutor(1) as ex:
        me = psutil.Process()
        ports = set()
        for proc in [me, *me.children(recursive=True)]:
            try:
                conns = proc.net_connections(kind="tcp")
            except psutil.Error:
                continue
            ports |= {(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN}
        assert ports and not any(port == 8787 for _, port in ports), ports
        assert all(ip in ("127.0.0.1", "::1") for ip, _ in ports), ports
        [(_, (_, one_core))] = list(ex.map(worker_threads, None, [0]))
    assert one_core  # the model is kept on one core in Dask workers too


@pytest.mark.parametrize("command", ["compare", "validate"])
def test_sigterm_stops_compare_and_validate_like_ctrl_c_and_ends_their_workers(tmp_path, command):
    """The neighbours of a sweep: commands with worker processes take SIGTERM as Ctrl-C too (exit 143),
    and no worker outlives them."""
    out = tmp_path / "out"
    smoke, baseline = str(ROOT / "scenarios" / "smoke.yaml"), str(ROOT / "scenarios" / "baseline.yaml")
    if command == "compare":
        args = ["compare", smoke, baseline, "--days", "3650", "--replications", "20", "--workers", "2"]
    else:
        args = ["validate", "--replications", "20", "--workers", "2"]
    args += ["--set", "market.size=20000", "--out", str(out), "--quiet"]
    started: list[float] = []

    def ready(p) -> bool:  # the workers have started, and worked two seconds
        if len(p.children(recursive=True)) >= 2 and not started:
            started.append(time.monotonic())
        return bool(started) and time.monotonic() - started[0] >= 2.0

    code, stderr, gone = _terminate_when(args, tmp_path, ready)
    assert code == 143, stderr
    assert "terminated (SIGTERM)" in stderr and "Traceback" not in stderr
    assert not out.exists() and gone

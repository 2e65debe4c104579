"""The allocator setting for large markets: applied once, and it keeps freed blocks for reuse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.engine import memory

CODE = """
import resource
import numpy as np
from sim.engine.memory import keep_freed_memory
if {apply}:
    assert keep_freed_memory() and keep_freed_memory()  # idempotent
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for day in range(50):  # a day's temporaries: 4 and 8 MB arrays, alive together, all freed by the evening
    temporaries = [np.ones(1_000_000, dtype=np.float32 if k % 2 else np.float64) for k in range(8)]
    del temporaries
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(apply: bool) -> int:
    done = subprocess.run([sys.executable, "-c", CODE.format(apply=apply)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


@pytest.mark.skipif(not memory.keep_freed_memory(), reason="needs glibc")
def test_freed_blocks_are_reused_instead_of_faulted_in_again():
    # with glibc's defaults the freed heap is handed back to the OS every evening and faulted in again
    # the next day (about 4,700 page faults a day here); with the setting, the first day's memory serves all
    kept, default = _faults(True), _faults(False)
    assert kept * 10 < default


def test_it_is_a_no_op_where_it_does_not_apply(monkeypatch):
    monkeypatch.setattr(memory, "_done", False)
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.keep_freed_memory() is False


# --- enough memory for a run ---------------------------------------------------------------

SMOKE = str(Path(__file__).resolve().parents[1] / "scenarios" / "smoke.yaml")


def test_the_estimate_covers_the_documented_peak_at_a_million_people():
    # docs/performance.md: 782 MB peak RSS at 10^6 people with 10 contacts each
    assert 782e6 <= memory.estimate_bytes(1_000_000, 10.0) <= 1.3 * 782e6
    assert memory.estimate_bytes(2_000_000, 10.0) > memory.estimate_bytes(1_000_000, 10.0)
    assert memory.estimate_bytes(1_000_000, 100.0) > memory.estimate_bytes(1_000_000, 10.0)


def test_a_market_too_large_for_the_memory_is_refused_before_building(monkeypatch, tmp_path, capsys):
    from sim.cli import main

    monkeypatch.setattr(memory, "available_bytes", lambda: 2 << 30)
    args = ["run", SMOKE, "--set", "market.size=50000000", "--out", str(tmp_path / "out"), "-q"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: not enough memory for 50,000,000 people: a run needs about ")
    assert "2.1 GB is available" in err and "Traceback" not in err and not (tmp_path / "out").exists()


def test_available_memory_reads_meminfo_and_the_address_space_limit(monkeypatch):
    monkeypatch.setattr(memory, "_meminfo_available", lambda: 8 << 30)
    monkeypatch.setattr(memory, "_cgroup_available", lambda: None)
    monkeypatch.setattr(memory, "_address_space_left", lambda: 1 << 30)
    assert memory.available_bytes() == 1 << 30
    monkeypatch.setattr(memory, "_address_space_left", lambda: None)
    assert memory.available_bytes() == 8 << 30


def test_running_out_of_memory_anywhere_is_a_clear_error(monkeypatch, capsys):
    import sim.cli.run
    from sim.cli import main

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 381. MiB for an array with shape (50000000,) and data type float64")

    monkeypatch.setattr(sim.cli.run, "run_command", exhausted)
    assert main(["run", SMOKE, "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: not enough memory for this command (Unable to allocate 381. MiB")
    assert "Traceback" not in err and "this is a bug" not in err


def test_a_run_under_ulimit_v_ends_with_one_clear_line(tmp_path):
    import resource

    def limit() -> None:  # ulimit -v 500000, as a user on a small machine would
        resource.setrlimit(resource.RLIMIT_AS, (500_000 * 1024, 500_000 * 1024))

    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", SMOKE, "--out", str(tmp_path / "out"), "-q"],
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(SMOKE).parents[1],
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: not enough memory for ") and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_calibrate_checks_the_largest_market_it_would_try(monkeypatch, tmp_path, capsys):
    from sim.cli import main

    monkeypatch.setattr(memory, "available_bytes", lambda: 2 << 30)
    csv = tmp_path / "o.csv"
    csv.write_text("day,members\n0,1\n1,2\n", encoding="utf-8")
    args = ["calibrate", SMOKE, "--observed", str(csv), "--fit", "market.size=1000:9000000", "-q"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith("error: not enough memory for 9,000,000 people")
    assert not (tmp_path / "out").exists()


def test_a_process_that_ran_a_market_can_run_it_again(monkeypatch):
    """A sweep worker's second run of a size reuses the memory its first run reserved (the allocator keeps it),
    so an address-space room that looks small after the first run does not refuse the second; a larger run
    still needs the difference."""
    monkeypatch.setattr(memory, "_held", 0)
    want = memory.estimate_bytes(300_000, 10) - memory.BASE_BYTES + memory.SLACK_BYTES
    monkeypatch.setattr(memory, "available_bytes", lambda: want + 1)
    memory.check_fits(300_000, 10)  # the first run fits
    monkeypatch.setattr(memory, "available_bytes", lambda: 100 << 20)  # VmSize now holds the first run's memory
    memory.check_fits(300_000, 10)
    memory.check_fits(200_000, 10)
    with pytest.raises(memory.NotEnoughMemory):
        memory.check_fits(3_000_000, 10)


def test_the_page_cache_a_container_can_drop_counts_as_free(monkeypatch, tmp_path):
    files = {
        "memory.max": "1000000000\n",
        "memory.current": "900000000\n",
        "memory.stat": "anon 1\ninactive_file 500000000\n",
    }
    real_open = open

    def fake_open(name, *args, **kwargs):
        base = str(name).rsplit("/", 1)[-1]
        if str(name).startswith("/sys/fs/cgroup/") and base in files:
            path = tmp_path / base
            path.write_text(files[base])
            return real_open(path, *args, **kwargs)
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr("builtins.open", fake_open)
    assert memory._cgroup_available() == 600_000_000

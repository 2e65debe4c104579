"""Start-up and small-run wall time of the command line, each in a fresh process.

    python benchmarks/bench_startup.py [--repeat 5]

Times (median of ``--repeat``, wall clock of the whole subprocess):
- ``python -c pass`` (the interpreter alone) and ``import mesa`` / ``import sim.cli``;
- ``community-sim run scenarios/smoke.yaml --set market.size=1000 --days 90 --out TMP --quiet``,
  as shipped (plots on) and with ``--set output.plots=false``;
- the same run's simulation alone (``sim.run.runner.simulate``), for what the rest costs.
One JSON line per measurement, then a summary line.

``--against CHECKOUT`` instead compares this checkout with another one (an older commit's
worktree) pair by pair: the run with and without figures, alternating the two checkouts
(``python -m sim`` started in each, so each imports its own code), with the wall time, the
CPU time (user + system, which other jobs on a shared machine inflate less than the wall
time), the peak RSS and the load average of every process, and the ratio of each pair.

Python caches compiled bytecode (``__pycache__``) on the first import of a module
unless ``PYTHONDONTWRITEBYTECODE`` is set, as it is on some machines; the project's
own modules, installed in editable mode, are then compiled again on every run. The
headline cases run as on a default Python: in a cache of their own
(``PYTHONPYCACHEPREFIX``, a temporary directory, so nothing is written into the
source tree) filled by one untimed run first. ``cli_run_1000x90_as_environment``
repeats the shipped run with the environment as it is, for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_run import ROOT

SMOKE = ROOT / "scenarios" / "smoke.yaml"
#: The target for the shipped run's median wall time (docs/performance.md, Targets).
TARGET_SECONDS = 1.2
RUN = ["run", str(SMOKE), "--set", "market.size=1000", "--days", "90", "--quiet"]
SIMULATE_ONLY = f"""
import time
t = time.perf_counter()
from sim.config.loader import load_scenario
from sim.run.runner import simulate
s = load_scenario({str(SMOKE)!r}, ["market.size=1000"], days=90)
t1 = time.perf_counter()
simulate(s)
print(time.perf_counter() - t1)
"""


def cli() -> list[str]:
    """The command line of this checkout: ``python -m sim``, run in ``ROOT`` (the installed console
    script would import the checkout the package was installed from, which may be another one).
    Both start at the same entry point (``sim.cli.entry``)."""
    return [sys.executable, "-m", "sim"]


def wall(cmd: list[str], repeat: int, fresh_out: bool = False, env: dict | None = None) -> list[float]:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            args = [*cmd, "--out", str(Path(tmp) / "run")] if fresh_out else cmd
            t = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True, cwd=ROOT, env=env)
            times.append(time.perf_counter() - t)
    return times


def cached_bytecode_env(cache: Path) -> dict[str, str]:
    """The environment with bytecode cached in ``cache`` (as a default Python caches it in __pycache__)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def measured(cmd: list[str], cwd: Path, env: dict) -> dict:
    """Wall and CPU seconds and peak RSS (MB) of one run of ``cmd`` in ``cwd``, with its own output directory."""
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        proc = subprocess.Popen(
            [*cmd, "--out", str(Path(tmp) / "run")],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own resource usage
        wall_s = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} in {cwd} failed with exit code {proc.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "wall": round(wall_s, 3),
        "cpu": round(cpu, 3),
        "rss_mb": round(usage.ru_maxrss / 1024),
        "load": os.getloadavg()[0],
    }


def against(other: Path, repeat: int) -> None:
    """Alternate this checkout (new) and ``other`` (old), pair by pair; CPU ratios new/old and their medians."""
    module = [sys.executable, "-m", "sim", *RUN]
    summary = {}
    with tempfile.TemporaryDirectory() as cache:
        env = cached_bytecode_env(Path(cache))
        for name, extra in (("no_plots", ["--set", "output.plots=false"]), ("as_shipped", [])):
            for checkout in (other, ROOT):  # fill the bytecode caches; not timed
                measured([*module, *extra], checkout, env)
            ratios = []
            for i in range(repeat):
                old = measured([*module, *extra], other, env)
                new = measured([*module, *extra], ROOT, env)
                ratios.append(round(new["cpu"] / old["cpu"], 3))
                print(json.dumps({"case": name, "pair": i, "old": old, "new": new, "cpu_ratio": ratios[-1]}))
            summary[name] = {"cpu_ratio_median": statistics.median(ratios), "cpu_ratios": ratios}
    print(json.dumps({"benchmark": "startup_ab", "old": str(other), **summary}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--against", type=Path, help="another checkout of the project to compare with, pair by pair")
    args = ap.parse_args()
    if args.against is not None:
        against(args.against.resolve(), args.repeat)
        return
    py = sys.executable
    cases = {
        "python_pass": ([py, "-c", "pass"], False),
        "import_mesa": ([py, "-c", "import mesa"], False),
        "import_sim_cli": ([py, "-c", "import sim.cli"], False),
        "cli_run_1000x90": ([*cli(), *RUN], True),
        "cli_run_1000x90_no_plots": ([*cli(), *RUN, "--set", "output.plots=false"], True),
    }
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = cached_bytecode_env(Path(cache))
        wall([*cli(), *RUN], 1, True, env)  # fills the bytecode cache; not timed
        wall([py, "-c", SIMULATE_ONLY], 1, False, env)
        for name, (cmd, fresh) in cases.items():
            times = wall(cmd, args.repeat, fresh, env)
            out[name] = round(statistics.median(times), 3)
            print(json.dumps({"case": name, "median_seconds": out[name], "runs": [round(t, 3) for t in times]}))
        sim_only = [
            float(
                subprocess.run(
                    [py, "-c", SIMULATE_ONLY], check=True, capture_output=True, text=True, cwd=ROOT, env=env
                ).stdout
            )
            for _ in range(args.repeat)
        ]
    out["simulate_only_1000x90"] = round(statistics.median(sim_only), 3)
    print(json.dumps({"case": "simulate_only_1000x90", "median_seconds": out["simulate_only_1000x90"]}))
    times = wall([*cli(), *RUN], args.repeat, True)
    out["cli_run_1000x90_as_environment"] = round(statistics.median(times), 3)
    print(
        json.dumps(
            {
                "case": "cli_run_1000x90_as_environment",
                "median_seconds": out["cli_run_1000x90_as_environment"],
                "runs": [round(t, 3) for t in times],
                "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
            }
        )
    )
    out["plots_seconds"] = round(out["cli_run_1000x90"] - out["cli_run_1000x90_no_plots"], 3)
    out["target_1_2s_met"] = out["cli_run_1000x90"] <= TARGET_SECONDS
    print(json.dumps({"benchmark": "startup", **out}))


if __name__ == "__main__":
    main()

"""Start-up and small-run wall time of the command line, each in a fresh process.

    python benchmarks/bench_startup.py [--repeat 5]

Times (median of ``--repeat``, wall clock of the whole subprocess):
- ``python -c pass`` (the interpreter alone) and ``import mesa`` / ``import sim.cli``;
- ``community-sim run scenarios/smoke.yaml --set market.size=1000 --days 90 --out TMP --quiet``,
  as shipped (plots on) and with ``--set output.plots=false``;
- the same run's simulation alone (``sim.run.runner.simulate``), for what the rest costs.
One JSON line per measurement, then a summary line.

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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_run import ROOT

SMOKE = ROOT / "scenarios" / "smoke.yaml"
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
    """The installed console script, or the module if it is not on PATH."""
    exe = shutil.which("community-sim") or str(Path(sys.executable).with_name("community-sim"))
    return [exe] if Path(exe).exists() else [sys.executable, "-m", "sim"]


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
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
    out["target_3s_met"] = out["cli_run_1000x90"] <= 3.0
    print(json.dumps({"benchmark": "startup", **out}))


if __name__ == "__main__":
    main()

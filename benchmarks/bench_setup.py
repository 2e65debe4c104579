"""Time the building of a model (setup) at a given market size: the network build apart, peak memory, faults.

    python benchmarks/bench_setup.py --people 3000000 [--scenario benchmarks/million_members.yaml]

Setup is everything before day 1: the population, the network, the initial
members with their backdated visit history. ``network_*`` is the network build
alone, ``setup_*`` all of it (wall and CPU seconds); ``system_seconds`` is the
kernel's share of the CPU time (mostly faulting in fresh memory) and
``minor_faults`` the page faults, which do not depend on the machine's load. To
compare two versions, run this file of each checkout alternately, one process
each (``cd OLD_CHECKOUT && python benchmarks/bench_setup.py ...``). One JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
from pathlib import Path

from bench_run import ROOT, clocks, peak_rss_mb, scaled_overrides, since

import sim.model
from sim.config.loader import load_scenario
from sim.model import CommunityModel


def main() -> None:
    from sim.engine.process import prepare_process

    prepare_process()  # as the command line does
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--scenario", type=Path, default=ROOT / "benchmarks" / "million_members.yaml")
    args = ap.parse_args()
    scenario = load_scenario(args.scenario, scaled_overrides(args.scenario, args.people))
    network = {}
    build = sim.model.build_network

    def timed_build(*a, **k):
        start = clocks()
        out = build(*a, **k)
        network["wall"], network["cpu"] = since(start)
        return out

    sim.model.build_network = timed_build
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = clocks()
    CommunityModel(scenario, record_events=False)
    setup_w, setup_c = since(start)
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "people": args.people,
                "setup_seconds": round(setup_w, 2),
                "setup_cpu_seconds": round(setup_c, 2),
                "network_seconds": round(network["wall"], 2),
                "network_cpu_seconds": round(network["cpu"], 2),
                "system_seconds": round(after.ru_stime - before.ru_stime, 2),
                "minor_faults": after.ru_minflt - before.ru_minflt,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()

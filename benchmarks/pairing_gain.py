"""How much common random numbers narrow a strategy comparison.

Runs two scenarios (by default crisis_response against baseline) with the same
replication seeds and reports, for each KPI, the 95% half-width of the mean
difference when the runs are paired by seed (what ``compare`` reports) and when
they are treated as independent samples (Welch), and the ratio of the two. A ratio
well below 1 means the shared random numbers cancel most of the run-to-run noise.

    python benchmarks/pairing_gain.py --size 20000 --days 365 --replications 10 --json out.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sim.batch.seeds import replication_seeds
from sim.compare.stats import paired
from sim.config.loader import load_scenario
from sim.run.runner import simulate

ROOT = Path(__file__).resolve().parent.parent
KPIS = ("cum_profit", "cum_gmv", "members", "churned_total", "new_referral")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strategy", default="scenarios/crisis_response.yaml")
    ap.add_argument("--baseline", default="scenarios/baseline.yaml")
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    overrides = [f"market.size={args.size}", f"days={args.days}"]
    seeds = replication_seeds(args.seed, args.replications)
    finals: dict[str, dict[str, list[float]]] = {}
    for label, path in (("strategy", args.strategy), ("baseline", args.baseline)):
        scenario = load_scenario(ROOT / path, overrides)
        finals[label] = {k: [] for k in KPIS}
        for seed in seeds:
            final = simulate(scenario.model_copy(update={"seed": seed}), record_events=False).summary["final"]
            for k in KPIS:
                finals[label][k].append(float(final[k]))
    rows = []
    for k in KPIS:
        p = paired(np.array(finals["strategy"][k]), np.array(finals["baseline"][k]))
        ratio = p.halfwidth / p.unpaired_halfwidth if p.unpaired_halfwidth > 0 else float("nan")
        rows.append(
            {
                "kpi": k,
                "diff": p.diff,
                "paired_halfwidth": p.halfwidth,
                "unpaired_halfwidth": p.unpaired_halfwidth,
                "ratio": ratio,
            }
        )
        print(
            f"{k:16s} diff {p.diff:14,.1f}  paired ±{p.halfwidth:12,.1f}  "
            f"unpaired ±{p.unpaired_halfwidth:12,.1f}  ratio {ratio:.3f}"
        )
    if args.json:
        record = {"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows, "finals": finals}
        args.json.write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()

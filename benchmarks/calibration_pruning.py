"""Pruning A/B: time and fit of `calibrate --prune` against `--no-prune` on a small cohort.

Each pair fits purchase.base_prob and churn.base_hazard to the weekly repeat purchases of one
model-generated cohort (the one of calibration_recovery.py, a series of its own per pair) with
one TPE search and no uncertainty step (pruning acts on the search alone), once with and once
without pruning, in alternating order, and records the search's time, the best training
distance, the recovered values and the holdout distance.

    python benchmarks/calibration_pruning.py --pairs 4 --out pruning.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from calibration_recovery import COHORT, FIT, TRUTH, observed_series

from sim.calibration.cli import calibrate


def one(work: Path, k: int, prune: bool, args) -> dict:
    out = work / f"cal_{k}_{'prune' if prune else 'full'}"
    started = time.perf_counter()
    calibrate(
        work / "cohort.yaml",
        observed=work / f"observed_{k}.csv",
        fit=FIT,
        target=["repeat_purchases"],
        period="week",
        train_until="63",
        trials=args.trials,
        searches=1,
        batch=args.batch,
        prune=prune,
        uncertainty=False,
        draws=0,
        replications=args.replications,
        workers=args.workers,
        seed=k,
        out=out,
        quiet=True,
    )
    seconds = time.perf_counter() - started
    metrics = json.loads((out / "metrics.json").read_text())
    return {
        "pair": k,
        "prune": prune,
        "seconds": round(seconds, 1),
        "pruned": sum(t["pruned"] for t in metrics["trials"]),
        "distance_train": metrics["best"]["distance_train"],
        "distance_holdout": metrics["distance"].get("holdout"),
        "best": metrics["best"]["params"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("pruning.jsonl"))
    args = parser.parse_args()
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "cohort.yaml").write_text(yaml.safe_dump({k: v for k, v in COHORT.items() if v is not None}))
        for k in range(args.first, args.first + args.pairs):
            observed_series(work / "cohort.yaml", TRUTH, 2000 + k, work / f"observed_{k}.csv")
            order = (True, False) if k % 2 == 0 else (False, True)  # alternate which goes first
            rows = {prune: one(work, k, prune, args) for prune in order}
            for row in rows.values():
                with args.out.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
            ratios.append(rows[True]["seconds"] / rows[False]["seconds"])
            print(
                f"pair {k}: prune {rows[True]['seconds']} s ({rows[True]['pruned']} pruned, distance "
                f"{rows[True]['distance_train']:.4f}), full {rows[False]['seconds']} s (distance "
                f"{rows[False]['distance_train']:.4f}), ratio {ratios[-1]:.2f}",
                flush=True,
            )
    print(f"time ratio prune/full: median {statistics.median(ratios):.2f} over {len(ratios)} pairs")


if __name__ == "__main__":
    main()

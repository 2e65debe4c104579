"""The churn-risk score of the initial members against that of the members who join later, and who of them leaves.

A run starts from an existing community: its initial members are established members
(``sim.mechanisms.acquisition.backdate_visits``), the others join during the run. On
each of ``--days-scored`` this scores the members, splits them into the two groups and,
30 days later, counts who left (or left and came back) in between: the at-risk share
(score above ``health.churn_risk_threshold``) of each group, their mean score and the
share of each that left. docs/model.md (Health alerts, the start of a run) quotes it.

    python benchmarks/initial_members_risk.py [--scenario scenarios/baseline.yaml]
        [--days-scored 0 60 120 199 300]

Prints one JSON line a scoring day. Scoring reads the members' columns only: the run is
the same as without it.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from sim.config.loader import load_scenario
from sim.core.population import MEMBER
from sim.mechanisms.churn_score import HORIZON, score
from sim.model import CommunityModel


def _share(flags: np.ndarray) -> float | None:
    return round(float(flags.mean()), 4) if flags.size else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/baseline.yaml")
    parser.add_argument("--days-scored", type=int, nargs="+", default=[0, 60, 120, 199, 300])
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    model = CommunityModel(scenario, record_events=False)
    threshold = scenario.health.churn_risk_threshold
    initial_code = model.join_codes["initial"]
    last = min(scenario.days, max(args.days_scored) + HORIZON + 1)
    pending = {}
    for day in range(last):
        if day in args.days_scored:
            mi = model.member_index()
            pending[day] = (mi, score(model, mi), model.pop.join_source[mi] == initial_code)
        if (scored := pending.pop(day - HORIZON, None)) is not None:
            mi, scores, initial = scored
            left = (model.pop.status[mi] != MEMBER) | (model.pop.join_day[mi] > day - HORIZON)
            row = {"day_scored": day - HORIZON, "members": int(mi.size)}
            for name, group in (("initial", initial), ("later", ~initial)):
                row[name] = {
                    "members": int(group.sum()),
                    "at_risk_share": _share(scores[group] > threshold),
                    "mean_score": _share(scores[group]),
                    "left_within_30_days": _share(left[group]),
                }
            print(json.dumps(row))
        model.step()


if __name__ == "__main__":
    main()

"""Strategy comparison: the statistics are right, the outputs are complete, the report renders."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.compare.ensemble import run_ensemble
from sim.compare.ranking import ranking
from sim.compare.stats import paired, significant_runs
from sim.compare.table import Objective, comparison_table, summary_sentences, values
from tests.conftest import CHROMIUM_ARGS, small

TINY = {
    "days": 30,
    "market": {"size": 800},
    "acquisition": {"initial_members": 60, "paid": {"daily_budget": 60}},
    "koc": {"initial_count": 3},
    "output": {"plots": False, "events": False},
}


def tiny(name, **changes):
    from tests.conftest import deep_update

    return small(name=name, **deep_update(TINY, changes))


def test_paired_test_has_its_nominal_size_on_null_data():
    rng = np.random.default_rng(0)
    p = np.array([paired(rng.normal(size=10), rng.normal(size=10)).p_value for _ in range(4000)])
    assert 0.04 < np.mean(p < 0.05) < 0.06
    assert stats.kstest(p, "uniform").pvalue > 0.01


def test_same_strategy_under_independent_seeds_is_significant_about_5_percent_of_the_time():
    """The model itself: one strategy against itself, replications with unrelated seeds (no pairing)."""
    from sim.run.runner import simulate

    # 12 days keep the runs cheap; the GMV of a 12-day run still varies from seed to seed (no ties)
    gmv = {seed: simulate(tiny("a", seed=seed, days=12)).summary["final"]["gmv"] for seed in range(400)}
    x = np.array(list(gmv.values()))
    assert len(np.unique(x)) > 390
    p = np.array([paired(x[i : i + 5], x[i + 200 : i + 205]).p_value for i in range(0, 200, 5)])
    # 40 comparisons: the share of "significant" ones stays near 5% (binomial 99% band) and p-values are uniform
    assert np.mean(p < 0.05) <= 0.15
    assert stats.kstest(p, "uniform").pvalue > 0.01


@pytest.fixture(scope="module")
def planted():
    """Five paired replications of a base strategy and one that spends four times as much on paid acquisition."""
    return run_ensemble([tiny("base"), tiny("push", acquisition={"paid": {"daily_budget": 240}})], 5, 7, "serial")


def test_a_planted_difference_is_found_and_described(planted):
    ens = planted
    table = comparison_table(ens, "base")
    row = table[(table.strategy == "push") & (table.kpi == "final.members")].iloc[0]
    assert row["diff"] > 0 and row.p_value < 0.01 and row.prob_beats_baseline > 0.99
    overview, sentence = summary_sentences(ens, "base", Objective.parse("members", []), 30)
    assert "money over 30 days" in overview
    assert sentence.startswith("push raises 30-day members at the end by") and "95% CI" in sentence
    assert "its profit is" in sentence


def test_common_random_numbers_narrow_the_interval():
    ens = run_ensemble(
        [tiny("base"), tiny("reward", referral={"reward_inviter": 10, "reward_invitee": 10})], 8, 3, "serial"
    )
    base, other = values(ens, "base", "final.gmv"), values(ens, "reward", "final.gmv")
    st = paired(other, base)
    assert st.halfwidth < 0.7 * st.unpaired_halfwidth
    table = comparison_table(ens, "base")
    narrowing = table[(table.strategy == "reward") & (table.kpi == "final.gmv")]["pairing_narrows_ci_by"].iloc[0]
    assert narrowing == pytest.approx(1 - st.halfwidth / st.unpaired_halfwidth)


def test_significant_runs_finds_contiguous_months():
    p = np.array([0.5, 0.01, 0.02, 0.03, 0.6, 0.01])
    sign = np.array([1, 1, 1, -1, 1, -1])
    assert significant_runs(p, sign) == [(1, 2, 1), (3, 3, -1), (5, 5, -1)]


def test_ranking_respects_constraints_and_scores():
    ens = run_ensemble(
        [
            tiny("base"),
            tiny("coupons", incentives={"coupons": {"enabled": True, "value": 20, "min_spend": 0, "every_days": 5}}),
        ],
        2,
        1,
        "serial",
    )
    by_gmv = ranking(ens, "base", Objective.parse("gmv", []))
    assert list(by_gmv.strategy) == ["coupons", "base"]
    capped = ranking(ens, "base", Objective.parse("gmv", ["cost_incentives<=1"]))
    assert list(capped.strategy) == ["base", "coupons"] and not capped.iloc[1].meets_constraints
    score = Objective.parse("score:gmv=1,members=0.5", [])
    assert score.weights == {"final.gmv": 1.0, "final.members": 0.5}
    with pytest.raises(ValueError, match="KPI<=VALUE"):
        Objective.parse("profit", ["cost < 5"])


def test_compare_command_writes_report_csv_and_plots(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    import yaml

    base = dict(TINY, name="plain", days=40)
    a.write_text(yaml.safe_dump(base))
    b.write_text(yaml.safe_dump(dict(base, name="rewarded", referral={"reward_inviter": 20, "reward_invitee": 10})))
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--replications", "3", "--out", str(out), "--quiet", "--workers", "2"]) == 0
    table = pd.read_csv(out / "comparison.csv")
    for col in (
        "strategy",
        "kpi",
        "mean",
        "ci_low",
        "ci_high",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
        "p_value",
        "prob_beats_baseline",
    ):
        assert col in table.columns
    assert set(table.strategy) == {"plain", "rewarded"}
    plots = {p.name for p in (out / "plots").iterdir()}
    assert {
        "trajectories.png",
        "funnel.png",
        "retention.png",
        "costs_profit.png",
        "growth_sources.png",
        "profit_difference.png",
    } <= plots
    page = (out / "report.html").read_text()
    assert "rewarded" in page and "http" not in page.replace("https://", "").lower().split("<body>")[0]
    assert page.count("data:image/png;base64,") == 6
    assert "narrowed the 95% interval" in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
def test_report_renders_in_headless_chromium(tmp_path, planted):
    ens = planted
    from sim.compare.plots import write_comparison_plots
    from sim.compare.report import write_report

    plots = write_comparison_plots(ens, "base", tmp_path / "plots")
    goal = Objective.parse("profit", [])
    page = write_report(
        tmp_path / "report.html",
        ens,
        "base",
        summary_sentences(ens, "base", goal, 30),
        ranking(ens, "base", goal),
        comparison_table(ens, "base"),
        plots,
        "profit",
        30,
    )
    flags = [*CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "report.png"
    dom = subprocess.run(  # one browser start: the page's DOM on stdout, and its screenshot
        ["chromium", *flags, "--window-size=1200,1600", f"--screenshot={shot}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    for section in ("summary", "ranking", "kpis", "figures", "strategies", "method"):
        assert f'id="{section}"' in dom
    assert shot.exists() and shot.stat().st_size > 50_000


def test_compare_finished_run_directories(tmp_path, capsys):
    runs = []
    for name, budget in (("x", 60), ("y", 200)):
        for seed in (1, 2):
            out = tmp_path / f"{name}{seed}"
            assert (
                main(
                    [
                        "run",
                        "scenarios/smoke.yaml",
                        "--days",
                        "8",
                        "--seed",
                        str(seed),
                        "--out",
                        str(out),
                        "--quiet",
                        "--set",
                        f"name={name}",
                        "--set",
                        f"acquisition.paid.daily_budget={budget}",
                        "--set",
                        "market.size=800",
                        "--set",
                        "output.plots=false",
                    ]
                )
                == 0
            )
            runs.append(out)
    out = tmp_path / "cmp"
    assert main(["compare", *map(str, runs), "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out / "comparison.csv")
    assert set(table.strategy) == {"x", "y"} and (table.replications == 2).all()
    lonely = tmp_path / "z"
    assert (
        main(
            [
                "run",
                "scenarios/smoke.yaml",
                "--days",
                "8",
                "--seed",
                "9",
                "--out",
                str(lonely),
                "--quiet",
                "--set",
                "name=z",
                "--set",
                "market.size=800",
                "--set",
                "output.plots=false",
            ]
        )
        == 0
    )
    assert main(["compare", str(runs[0]), str(lonely), "--out", str(tmp_path / "bad")]) == 2
    assert "share no seed" in capsys.readouterr().err

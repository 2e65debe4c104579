"""Comparisons that cannot mislead: ROI, the sign of profit, small samples, formatting, tables, outputs.

Most tests build an ensemble by hand (no simulation), so the planted numbers are exact.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.compare import fmt
from sim.compare.ensemble import Ensemble, RunRecord
from sim.compare.ranking import ranking, ranking_line
from sim.compare.stats import MIN_REPLICATIONS_PROB, incremental_ratio, paired
from sim.compare.table import INCREMENTAL_ROI, KPIS, Objective, comparison_table, summary_sentences

ROOT = Path(__file__).resolve().parents[1]
SMOKE = str(ROOT / "scenarios" / "smoke.yaml")
TINY = ["--days", "3", "--set", "market.size=500", "--set", "acquisition.initial_members=50"]
TINY += ["--set", "koc.initial_count=2", "--workers", "1", "--quiet"]


def record(name: str, r: int, profit: float, spend: float, days: int = 180, **final) -> RunRecord:
    """One run whose summary holds the planted profit and spend (ROI = profit / spend, as the ledger gives it)."""
    kpis = {"cum_profit": profit, "profit": profit, "cost_total": spend, "roi": profit / spend}
    kpis |= {"gmv": spend + profit, "members": 100.0, "churned": 10.0, **final}
    windows = {str(w): dict(kpis) for w in (30, 90, 180) if w <= days}
    summary = {"days": days, "final": kpis, "windows": windows, "retention": {}, "funnel": {}}
    ts = pd.DataFrame({"churned": np.full(days, 1.0), "members": np.full(days, 100.0)})
    return RunRecord(name, r, r, ts, summary, pd.DataFrame())


def ensemble(plan: dict[str, list[tuple[float, float]]], days: int = 180, **final) -> Ensemble:
    """Strategies from ``{name: [(profit, spend) per replication]}``."""
    runs = {
        (name, r): record(name, r, profit, spend, days, **final)
        for name, pairs in plan.items()
        for r, (profit, spend) in enumerate(pairs)
    }
    n = len(next(iter(plan.values())))
    return Ensemble(list(plan), list(range(n)), runs)


# The example: referral_push loses more (-380,759 against -379,103) and spends more, so its
# ROI (a negative profit over a larger spend) is the higher one.
LOSSES = {
    "baseline": [(-379_103 + d, 1_000_000 + 3 * d) for d in (-900, 0, 900)],
    "referral_push": [(-380_759 + d, 1_012_000 + 2 * d) for d in (-880, -40, 920)],
}


def test_roi_ranking_never_puts_a_strategy_above_one_with_more_profit_and_less_spend():
    ens = ensemble(LOSSES)
    assert np.mean([r.summary["final"]["roi"] for r in ens.of("referral_push")]) > np.mean(
        [r.summary["final"]["roi"] for r in ens.of("baseline")]
    )  # the trap: the higher ROI belongs to the strategy that loses more
    ranks = ranking(ens, "baseline", Objective.parse("roi", []))
    assert list(ranks.strategy) == ["baseline", "referral_push"]
    assert ranks.set_index("strategy").loc["referral_push", "dominated_by"] == "baseline"


def test_roi_ranking_keeps_the_rule_for_every_pair_of_random_strategies():
    rng = np.random.default_rng(5)
    for _ in range(200):
        plan = {f"s{i}": [(rng.normal(0, 1e5), rng.uniform(1e4, 1e6))] for i in range(5)}
        order = list(ranking(ensemble(plan), "s0", Objective.parse("roi", [])).strategy)
        for i, upper in enumerate(order):
            for lower in order[i + 1 :]:
                (pu, su), (pl, sl) = plan[upper][0], plan[lower][0]
                assert not (pu < pl and su >= sl), (upper, lower)


def test_roi_sentence_gives_incremental_roi_and_percentage_points_never_cny():
    ens = ensemble(LOSSES)
    sentence = summary_sentences(ens, "baseline", Objective.parse("roi", []), 180)[1]
    assert "incremental ROI -14%" in sentence  # (-1,656) / (+12,000)
    assert "each extra yuan spent lost 0.14 CNY of profit" in sentence
    assert "pp)" in sentence and "0 CNY)" not in sentence
    assert "a loss of 380,759 CNY" in sentence


def test_incremental_roi_is_undefined_when_the_spend_hardly_differs():
    ens = ensemble({"a": [(-100.0, 10_000.0)] * 3, "b": [(-50.0, 10_000.5)] * 3})
    sentence = summary_sentences(ens, "a", Objective.parse("roi", []), 180)[1]
    assert "undefined" in sentence and "spends about as much as a" in sentence
    row = comparison_table(ens, "a").query("kpi == 'incremental.roi' and strategy == 'b'").iloc[0]
    assert np.isnan(row["mean"])


def test_fieller_interval_covers_the_true_ratio_and_opens_up_when_spend_may_not_differ():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(2000):
        spend = rng.normal(1000.0, 150.0, 8)
        profit = 0.4 * spend + rng.normal(0.0, 120.0, 8)
        r = incremental_ratio(profit, spend, 1e5)
        hits += r.ci_low <= 0.4 <= r.ci_high
    assert 0.93 < hits / 2000 < 0.97
    noisy = incremental_ratio(np.array([10.0, -5.0, 8.0]), np.array([300.0, -280.0, 40.0]), 1e4)
    assert noisy.defined and not noisy.bounded


@pytest.mark.parametrize(
    ("profits", "start"),
    [
        ({"a": -10.0, "b": -20.0}, "Both strategies lose money over 180 days; the least loss is a (a loss of 10 CNY)."),
        (
            {"a": -10.0, "b": -20.0, "c": -5.0},
            "All 3 strategies lose money over 180 days; the least loss is c (a loss of 5 CNY), the largest b",
        ),
        ({"a": 30.0, "b": -20.0, "c": 5.0}, "2 of 3 strategies make money over 180 days: a (30 CNY) and c (5 CNY); b"),
        ({"a": 30.0, "b": 20.0}, "Both strategies make money over 180 days; the most is a (30 CNY)."),
    ],
)
def test_every_summary_starts_with_whether_the_strategies_make_money(profits, start):
    ens = ensemble({s: [(p, 100.0)] * 3 for s, p in profits.items()})
    for objective in ("profit", "members", "roi"):
        sentences = summary_sentences(ens, "a", Objective.parse(objective, []), 180)
        assert sentences[0].startswith(start), sentences[0]
        assert all("profit is" in s or "profit by" in s or "to a loss" in s or ", to " in s for s in sentences[1:])


def test_intervals_of_counts_and_shares_stay_within_their_values():
    ens = ensemble({"a": [(1.0, 10.0)] * 3, "b": [(1.0, 10.0)] * 3}, churned=0.0, k_factor=0.0, repurchase_rate=1.0)
    for rec, churn, k, rep in zip(ens.of("b"), (0.0, 0.0, 30.0), (0.0, 0.001, 0.1), (1.0, 0.2, 1.0), strict=True):
        rec.summary["final"].update(churned=churn, k_factor=k, repurchase_rate=rep)
    table = comparison_table(ens, "a").set_index(["strategy", "kpi"])
    assert table.loc[("b", "final.churned"), "ci_low"] == 0.0  # a t-interval would reach -34
    assert table.loc[("b", "final.k_factor"), "ci_low"] == 0.0
    assert table.loc[("b", "final.repurchase_rate"), "ci_high"] == 1.0
    assert table.loc[("b", "final.cum_profit"), "ci_low"] == pytest.approx(1.0)  # no spread, no interval width


def test_support_agrees_with_the_units_in_the_metrics_docs():
    import re

    from sim.observe.metrics import KPI_NAMES, support

    units = {}
    for line in (ROOT / "docs" / "metrics.md").read_text().splitlines():
        m = re.match(r"\| `([a-z0-9_]+)` \|.*\|(.*)\|\s*$", line)
        if m:
            units[m.group(1)] = m.group(2).strip()
    for name in KPI_NAMES:
        unit = units.get(name)
        if unit is None:
            continue
        lo, hi = support(name)
        if "-100 to 100" in unit:
            assert (lo, hi) == (-100.0, 100.0), name
        elif "0 to 1" in unit or unit == "0/1":
            assert (lo, hi) == (0.0, 1.0), name
        elif name in ("profit", "cum_profit", "net_growth") or unit == "ratio":
            assert lo == -np.inf, name
        else:
            assert (lo, hi) == (0.0, np.inf), (name, unit)


def test_probability_of_beating_the_baseline_is_withheld_below_its_minimum():
    rng = np.random.default_rng(0)
    few = paired(rng.normal(1.0, 0.1, MIN_REPLICATIONS_PROB - 1), np.zeros(MIN_REPLICATIONS_PROB - 1))
    enough = paired(rng.normal(1.0, 0.1, MIN_REPLICATIONS_PROB), np.zeros(MIN_REPLICATIONS_PROB))
    assert np.isnan(few.prob_beats) and few.p_value < 0.05
    assert enough.prob_beats > 0.99 and fmt.probability(enough.prob_beats) == ">99%"


def test_numbers_read_as_a_reader_expects():
    assert fmt.p_value(0.0001) == "p < 0.001"
    assert fmt.p_value(0.0467) == "p = 0.047"  # not "0.05" beside a "significant" colour
    assert fmt.p_value(0.38) == "p = 0.38"
    assert fmt.pct_range(-0.02, -0.003) == "-2.0% to -0.3%"
    assert fmt.pct(-0.0004, decimals=0) == "0%"
    assert "-0%" not in fmt.pct_range(-0.02, -0.0001)
    assert fmt.pp(0.00358) == "+0.4 pp"
    assert fmt.probability(0.0) == "<1%" and fmt.probability(1.0) == ">99%"
    assert fmt.change(-1049.3, "CNY") == "-1,049 CNY" and fmt.amount(-0.548, "ratio") == "-54.8%"


def test_a_horizon_as_long_as_the_run_and_rows_undefined_everywhere_are_not_shown():
    table = comparison_table(ensemble(LOSSES, days=180), "baseline")
    kpis = set(table.kpi)
    assert "w90.cum_profit" in kpis
    assert not {"w180.cum_profit", "w180.members", "retention.day_180"} & kpis


@pytest.fixture(scope="module")
def plain_compares(tmp_path_factory) -> tuple[list[int], Path]:
    """The same one-replication compare run twice into its default directory, every warning an error:
    the exit codes and the results folder (shared by the two tests below)."""
    results = tmp_path_factory.mktemp("plain") / "results"
    args = ["compare", SMOKE, SMOKE, "--replications", "1", "--results", str(results), *TINY]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        codes = [main(args), main(args)]
    return codes, results


def test_one_replication_gives_one_sentence_and_no_intervals_or_warnings(plain_compares):
    codes, results = plain_compares
    assert codes[0] == 0
    out = sorted((results / "compare").iterdir())[0]
    page = (out / "report.html").read_text()
    assert "One replication: there are no intervals" in page
    assert "P(better)" not in page.split('id="method"')[0]
    table = pd.read_csv(out / "comparison.csv")
    assert table[["ci_low", "ci_high", "p_value", "prob_beats_baseline"]].isna().all().all()


def test_a_second_plain_compare_writes_a_second_timestamped_directory(plain_compares):
    codes, results = plain_compares
    assert codes == [0, 0]
    written = sorted((results / "compare").iterdir())
    assert len(written) == 2 and all((d / "report.html").is_file() for d in written)


def test_files_with_the_same_name_and_stem_are_named_by_their_paths(tmp_path):
    from sim.compare.cli import file_labels
    from sim.config.loader import load_scenario

    paths = []
    for folder in ("mine", "theirs"):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "plan.yaml"
        path.write_text(f"extends: {SMOKE}\nname: smoke\n")
        paths.append(path)
    paths.append(Path(SMOKE))
    labels = file_labels(paths, [load_scenario(p) for p in paths])
    assert labels == ["mine/plan", "theirs/plan", "smoke"]


def test_run_reports_every_step_after_the_simulation(tmp_path):
    from sim.run.runner import run_to_directory
    from tests.conftest import small

    steps = []
    scenario = small(days=20, referral={"reward_inviter": 5.0})
    run_to_directory(scenario, tmp_path / "run", stage=lambda text, total: steps.append((text, total)))
    assert steps == [
        ("counterfactual run without incentives", 20),
        ("writing the run directory", None),
        ("drawing the figures", None),
    ]


def test_headline_table_shows_no_rate_of_nothing_and_no_repeated_window():
    from sim.cli.run import headline_table

    final = {"referral_conversion": 0.0, "invitations": 0.0, "members": 5.0, "roi": -0.2}
    summary = {"days": 180, "final": final, "windows": {"30": dict(final), "180": dict(final)}}
    table = headline_table(summary, "t")
    assert [c.header for c in table.columns] == ["KPI", "whole run", "30 days"]
    from sim.run.report import _window_table

    assert "180 days" not in _window_table(summary) and "<th>30 days</th>" in _window_table(summary)
    row = [r for r, label in enumerate(table.columns[0]._cells) if label == "referral conversion"][0]
    assert table.columns[1]._cells[row] == "–"


def test_export_of_a_comparison_says_what_to_export_instead(tmp_path, capsys):
    folder = tmp_path / "cmp"
    folder.mkdir()
    (folder / "comparison.csv").write_text("strategy\n")
    assert main(["export", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "strategy comparison" in err and "community-sim run" in err


def test_the_validation_figure_shades_a_one_sided_case_from_its_bound_up():
    from types import SimpleNamespace

    from sim.validation.plot import pass_region, scale

    case = SimpleNamespace(compare="at_least", target=0.65, tolerance=0.0, simulated_mean=0.75)
    low, high = pass_region(case)
    assert low <= (case.simulated_mean - case.target) / scale(case) <= high  # it passes, so it is drawn inside
    two_sided = SimpleNamespace(compare="value", target=0.25, tolerance=0.05)
    assert pass_region(two_sided) == (-1.0, 1.0)


# --- sweeps: the same rules in analyze ------------------------------------------------------------------------


def test_heatmap_cells_share_one_number_format():
    from sim.experiment.plots import cell_labels

    assert list(cell_labels(np.array([2220.0, 10340.0, 1349.5]))) == ["2.2k", "10.3k", "1.3k"]
    assert list(cell_labels(np.array([12.0, 7.0, 130.0]))) == ["12", "7", "130"]
    assert list(cell_labels(np.array([-0.683, -0.6742]), percent=True)) == ["-68.3%", "-67.4%"]
    assert list(cell_labels(np.array([0.0121, 0.0043, np.nan]))) == ["0.0121", "0.0043", ""]


def test_the_roi_heatmap_never_marks_a_cell_that_loses_more_and_spends_more():
    from sim.experiment.plots import _best_roi_cell

    profit = np.array([[-379_103.0, -380_759.0]])
    spend = np.array([[1_000_000.0, 1_012_000.0]])
    assert _best_roi_cell(profit, spend, profit / spend) == (0, 0)  # the other cell has the higher ROI


def test_analyze_analyses_identical_columns_once_and_reports_its_steps(tmp_path):
    from sim.experiment.analysis import analyze
    from sim.experiment.resolve import resolve_experiment
    from sim.experiment.sweep import run_sweep

    path = tmp_path / "exp.yaml"
    path.write_text(
        f"scenario: {ROOT / 'scenarios' / 'smoke.yaml'}\nset: {{days: 20, market.size: 600}}\n"
        "factors: {referral.reward_inviter: [0, 20]}\nreplications: 2\nseed: 3\n"
        "kpis: [final.new_referral, final.referrals_accepted, final.members]\n"
    )
    run_sweep(resolve_experiment(path), tmp_path / "sweep", executor="serial")
    steps = []
    report = analyze(tmp_path / "sweep", progress=lambda step, done, total: steps.append((step, done, total)))
    names = {p.name for p in report.files}
    assert "response-final_new_referral.png" in names and "response-final_referrals_accepted.png" not in names
    assert any("final.referrals_accepted equals final.new_referral" in n for n in report.notes)
    assert ("figures", 0, 2) in steps and ("figures", 1, 2) in steps


def test_months_of_a_difference_read_as_one_list_per_direction():
    from sim.compare.table import months_phrase

    assert months_phrase([(0, 0, -1), (2, 3, -1), (5, 5, -1)]) == "lower in months 1, 3 to 4 and 6"
    assert months_phrase([(0, 11, 1)]) == "higher in months 1 to 12"
    assert months_phrase([(4, 4, 1), (7, 8, -1)]) == "higher in month 5, and lower in months 8 to 9"
    assert months_phrase([]) == ""


def _churn_ensemble(rates: dict[str, np.ndarray], members: dict[str, float], days: int = 120) -> Ensemble:
    """Strategies whose daily churn is ``rates[s][r, day]`` of ``members[s]`` (scaled by replication) members."""
    runs = {}
    for name, rate in rates.items():
        for r in range(rate.shape[0]):
            run = record(name, r, 1000.0, 100.0, days)
            size = np.full(days, members[name] * (1 + 0.1 * r))
            run.timeseries = pd.DataFrame({"churned": rate[r] * size, "members": size})
            runs[(name, r)] = run
    return Ensemble(list(rates), list(range(4)), runs)


def test_the_churn_sentence_compares_monthly_churn_rates_not_head_counts():
    """A strategy with half as many members again loses half as many again at the same rate: no churn clause.
    A strategy whose members leave at twice the rate in months 3 and 4 gets one, worded as a rate."""
    days, base = 120, np.full((4, 120), 0.002)
    wobble = np.array([1, -1, 1, -1])[:, None] * 0.0002  # replication luck, no direction
    bigger = _churn_ensemble({"baseline": base, "bigger": base + wobble}, {"baseline": 1000, "bigger": 1500}, days)
    assert (bigger.series("bigger", "churned").sum(1) > bigger.series("baseline", "churned").sum(1)).all()
    sentence = summary_sentences(bigger, "baseline", Objective.parse("profit", []), days)[1]
    assert "churn" not in sentence, sentence

    worse = base + wobble
    worse[:, 60:] *= 2
    leaky = _churn_ensemble({"baseline": base, "leaky": worse}, {"baseline": 1000, "leaky": 1000}, days)
    sentence = summary_sentences(leaky, "baseline", Objective.parse("profit", []), days)[1]
    assert sentence.endswith("; its monthly churn rate is higher in months 3 to 4."), sentence


def test_a_monthly_rate_is_the_months_sum_over_its_mean_stock():
    from sim.compare.table import monthly_rates

    events = np.vstack([np.r_[np.full(30, 2.0), np.full(30, 1.0), np.ones(5)], np.ones(65)])
    stock = np.vstack([np.r_[np.full(30, 300.0), np.linspace(100.0, 500.0, 30), np.ones(5)], np.zeros(65)])
    rates = monthly_rates(events, stock)
    assert rates.shape == (2, 2)  # the five days after the last whole month are left out
    assert np.allclose(rates[0], [60 / 300, 30 / 300]) and np.isnan(rates[1]).all()


def test_identical_strategies_share_a_rank_and_the_ranking_says_which_it_cannot_tell_apart():
    noise = (-900.0, 0.0, 900.0)
    ens = ensemble(
        {
            "base": [(10_000 + d, 5_000.0) for d in noise],
            "copy": [(10_000 + d, 5_000.0) for d in noise],  # e.g. a program written without enabled: true
            "near": [(10_050 + 3 * d, 5_000.0) for d in noise],  # +50 with a spread of 1,800: no telling
            "far": [(4_000 + d, 5_000.0) for d in noise],  # 6,000 less in every replication
        }
    )
    ranks = ranking(ens, "base", Objective.parse("profit", [])).set_index("strategy")
    assert list(ranks["rank"].loc[["near", "base", "copy", "far"]]) == [1, 2, 2, 4]
    assert ranks.loc["base", "same_results_as"] == "copy" and ranks.loc["copy", "same_results_as"] == "base"
    assert ranks.loc["near", "not_distinguishable_from"] == "base; copy"
    assert ranks.loc["far", "not_distinguishable_from"] == "" and ranks.loc["far", "same_results_as"] == ""
    line = ranking_line(ranking(ens, "base", Objective.parse("profit", [])))
    assert line == (
        "1. near, 2. base (not distinguishable from near), 2. copy (same results as base; "
        "not distinguishable from near), 4. far"
    )


def test_one_replication_cannot_tell_strategies_apart_and_says_nothing_of_it():
    ens = ensemble({"a": [(100.0, 10.0)], "b": [(101.0, 10.0)], "c": [(100.0, 10.0)]})
    ranks = ranking(ens, "a", Objective.parse("profit", [])).set_index("strategy")
    assert set(ranks["not_distinguishable_from"]) == {""}
    assert ranks.loc["a", "same_results_as"] == "c" and ranks.loc["a", "rank"] == ranks.loc["c", "rank"] == 2


def test_ties_by_roi_and_by_a_weighted_score_use_each_replications_score():
    ens = ensemble(
        {
            "a": [(1_000.0, 10_000.0), (1_200.0, 10_000.0), (800.0, 10_000.0)],
            "b": [(1_010.0, 10_000.0), (1_190.0, 10_000.0), (820.0, 10_000.0)],  # ROI within 0.2 pp
            "c": [(3_000.0, 10_000.0), (3_100.0, 10_000.0), (2_900.0, 10_000.0)],
        }
    )
    for objective in ("roi", "score:profit=1,gmv=0.5"):
        ranks = ranking(ens, "a", Objective.parse(objective, [])).set_index("strategy")
        assert ranks.loc["a", "not_distinguishable_from"] == "b", objective
        assert ranks.loc["c", "not_distinguishable_from"] == "" and ranks.loc["c", "rank"] == 1, objective


def test_a_beating_within_the_noise_is_said_to_be_so_in_the_report():
    from sim.compare.report import _beaten_by

    ens = ensemble(
        {
            "a": [(1_000.0, 500.0), (1_400.0, 500.0), (600.0, 500.0)],
            "b": [(990.0, 501.0), (1_420.0, 501.0), (590.0, 501.0)],  # a beats it on both means, by noise
            "c": [(490.0, 900.0), (920.0, 900.0), (90.0, 900.0)],  # 500 below b in every replication
        }
    )
    row = {r.strategy: r for r in ranking(ens, "a", Objective.parse("profit", [])).itertuples()}
    assert row["b"].dominated_by == "a" and row["b"].not_distinguishable_from == "a"
    assert _beaten_by(row["b"]) == "a (within noise)"
    assert row["c"].not_distinguishable_from == ""
    assert _beaten_by(row["c"]) == "a, b"  # beaten clearly: no qualifier


def _churn_plan(churned: dict[str, list[float]], profit: dict[str, float], spend: dict[str, float]) -> Ensemble:
    """Strategies whose runs churn the planted numbers of members, with a fixed profit and spend each."""
    runs = {
        (name, r): record(name, r, profit[name], spend[name], churned=c)
        for name, counts in churned.items()
        for r, c in enumerate(counts)
    }
    return Ensemble(list(churned), list(range(len(next(iter(churned.values()))))), runs)


CHURN = _churn_plan(
    {
        "leaky": [119.0, 120.0, 122.0],  # the most churned: last by churned whatever its profit
        "calm": [29.0, 30.0, 31.0],
        "near": [28.0, 30.5, 34.0],  # within the noise of calm
    },
    profit={"leaky": 1_100.0, "calm": 1_000.0, "near": 1_000.0},
    spend={"leaky": 900.0, "calm": 500.0, "near": 600.0},
)


def test_a_kpi_where_less_is_better_ranks_its_lowest_strategy_first():
    """``--objective churned`` puts the strategy that loses the fewest members first (comparison.csv's
    higher_is_better is False for it), the ties and the console line agree, and so does ``cost_total``."""
    ranks = ranking(CHURN, "leaky", Objective.parse("churned", []))
    assert list(ranks.strategy) == ["calm", "near", "leaky"]
    assert not ranks["higher_is_better"].any()
    assert ranking_line(ranks) == "1. calm, 2. near (not distinguishable from calm), 3. leaky"
    from sim.compare.ranking import ranking_title

    assert ranking_title(Objective.parse("churned", [])) == "ranking by churned (lower is better)"
    assert ranking_title(Objective.parse("gmv", [])) == "ranking by gmv (higher is better)"
    assert list(ranking(CHURN, "leaky", Objective.parse("cost_total", [])).strategy) == ["calm", "near", "leaky"]
    table = comparison_table(CHURN, "leaky")
    assert not table[table.kpi == "final.churned"].higher_is_better.any()
    for key, _, _, better in KPIS:  # the table's directions are the ranking's
        if key != INCREMENTAL_ROI:  # a statistic against the baseline, not a KPI of a run
            assert Objective.parse(key, []).higher_is_better == better, key


def test_a_weighted_score_counts_a_kpi_where_less_is_better_against_a_strategy():
    """In ``score:`` each KPI enters in its good direction: more churn lowers the score, as it ranks by churned."""
    alone = ranking(CHURN, "leaky", Objective.parse("score:churned=1", []))
    assert list(alone.strategy) == ["calm", "near", "leaky"] and alone["higher_is_better"].all()
    mixed = ranking(CHURN, "calm", Objective.parse("score:profit=1,churned=1", [])).set_index("strategy")
    assert mixed.loc["calm", "score"] == pytest.approx(0.0)  # 1 - 1: the baseline's own relative values
    assert mixed.loc["leaky", "score"] == pytest.approx(1_100 / 1_000 - np.mean([119, 120, 122]) / 30)
    assert mixed.loc["leaky", "rank"] == 3
    with pytest.raises(ValueError, match="weight of 'cost_total' is negative"):
        Objective.parse("score:profit=1,cost_total=-0.5", [])


def test_what_differs_says_not_set_rather_than_none():
    """report.html's "What differs" read ``operating_model: None → hybrid``."""
    from types import SimpleNamespace

    from sim.compare.report import _scenario_diffs

    ens = SimpleNamespace(
        strategies=["a", "b"],
        scenarios={
            "a": {"operating_model": None, "rules": {"enabled": False}},
            "b": {"operating_model": "hybrid", "rules": {"enabled": True}},
        },
    )
    text = _scenario_diffs(ens, "a")
    assert "<code>operating_model</code>: not set → hybrid" in text
    assert "<code>rules.enabled</code>: false → true" in text
    assert "None" not in text


def test_a_sentence_names_the_points_a_strategy_still_owes():
    """points_program's "raises 365-day profit by 30,088 CNY" counted points not yet redeemed as profit; the
    sentence now says how many CNY of points its members still hold."""
    plan = {"base": [(1000.0, 100.0)] * 3, "points": [(1500.0, 120.0)] * 3}
    runs = dict(ensemble(plan).runs)
    for r in range(3):
        runs[("points", r)].summary["final"]["points_liability"] = 17_213.0
        runs[("base", r)].summary["final"]["points_liability"] = 0.0
    ens = Ensemble(["base", "points"], [0, 1, 2], runs)
    for objective in ("profit", "members"):
        (sentence,) = summary_sentences(ens, "base", Objective.parse(objective, []), 180)[1:]
        assert (
            sentence.startswith("points ") and ", with 17,213 CNY of points still owed (not in its profit)" in sentence
        )
    without = summary_sentences(ensemble(plan), "base", Objective.parse("profit", []), 180)[1]
    assert "points still owed" not in without

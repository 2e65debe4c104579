"""The optimization machinery on a synthetic evaluator with a known optimum (no simulation runs)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import optuna
import pandas as pd
import pytest

from sim.cli.main import main
from sim.config.errors import ScenarioError
from sim.optimize.resolve import resolve_optimization
from sim.optimize.run import optimize
from sim.optimize.search import STUDY_NAME, storage_url
from tests.optimize_helpers import OPTIMUM, ROOT, SYNTHETIC, search_synthetic, synthetic, write_spec


def _run(tmp_path, trials=60, name="out", spec=None):
    spec = spec or write_spec(tmp_path)
    return optimize(resolve_optimization(spec), tmp_path / name, trials=trials, executor="serial", run=synthetic)


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """One synthetic search of 60 trials, shared by the tests that only read it."""
    folder = tmp_path_factory.mktemp("searched")
    return _run(folder), resolve_optimization(write_spec(folder))


def test_search_finds_the_constrained_optimum(searched):
    """The best feasible trial comes within the tolerance of (550, 20), where the constraint and the budget bind.

    Tolerance: the best mean profit within 20 of the optimum (-32.5 + 100 E[u]), under 4% of the objective's
    range over the space (about 540: 360 from x, 180 from y). Only 26 of the 4,141 grid points (0.6%) are
    feasible and that close, so 60 random trials would find one with probability 1 - (1 - 0.0063)^60 = 31%;
    the test asks the search to do what chance rarely does, with the constraint and the budget both binding.
    """
    outcome, resolved = searched
    table = outcome.table
    best = outcome.picked.iloc[0]
    u = [s[0] for s in resolved.samples]
    optimum = -32.5 + 100 * sum(u) / len(u)
    assert best["feasible"]
    assert optimum - 20 <= best["mean.final.profit"] <= optimum + 1e-9  # nothing feasible beats the optimum
    assert 20 <= best["lever.referral.reward_inviter"] <= 23
    assert abs(best["lever.acquisition.paid.daily_budget"] - OPTIMUM["acquisition.paid.daily_budget"]) <= 100
    assert (~table["feasible"]).any()  # the constraints did reject some trials
    assert (table["status"] == "over_budget").any()  # over the committed budget: recorded, not run
    # "N run now" counts the simulated trials, not those over the budget
    over = int((table["status"] == "over_budget").sum())
    assert outcome.search.over_budget == over and outcome.search.ran == len(table) - over


def test_reported_candidates_never_break_a_constraint(searched):
    outcome, _ = searched
    picked = outcome.picked
    assert len(picked) >= 1
    assert (picked["mean.retention.day_180"] >= 0.70).all()
    assert (picked["lever.acquisition.paid.daily_budget"] + 10 * picked["lever.referral.reward_inviter"] <= 750).all()
    front = pd.read_csv(outcome.out / "pareto.csv")
    assert front["feasible"].all()
    assert sorted(os.listdir(outcome.out / "best")) == [
        f"rank{i + 1}-trial{t}.yaml" for i, t in enumerate(picked["trial"])
    ]


def test_verification_seeds_are_fresh_and_uncertainty_shared(searched):
    outcome, resolved = searched
    ver = outcome.verification
    assert set(ver.seeds).isdisjoint(resolved.seeds)
    runs = pd.read_parquet(outcome.out / "trials.parquet")
    ran = runs[runs["status"] == "ok"]
    # common random numbers: replication r has the same seed and uncertainty sample in every trial
    per_rep = ran.groupby("replication").agg(
        seeds=("seed", "nunique"),
        samples=("uncertainty.referral.base_acceptance", "nunique"),
        trials=("trial", "nunique"),
    )
    assert (per_rep["seeds"] == 1).all() and (per_rep["samples"] == 1).all() and (per_rep["trials"] > 1).all()
    assert ran.groupby("trial")["seed"].apply(list).map(tuple).nunique() == 1
    # verification: base and candidates share seeds among themselves, none of the search's
    assert set(ver.runs["seed"]) == set(ver.seeds)
    assert ver.runs.groupby("point")["seed"].apply(tuple).nunique() == 1


def _trials(out):
    study = optuna.load_study(study_name=STUDY_NAME, storage=storage_url(out))
    return [(t.number, t.state.name, t.params, t.values, t.user_attrs.get("constraints")) for t in study.trials]


def test_resume_after_sigkill_gives_the_same_study(tmp_path):
    spec = write_spec(tmp_path)
    search_synthetic(spec, tmp_path / "whole", 8)
    env = dict(os.environ, OPT_KILL_AFTER="4", OPT_KILL_COUNTER=str(tmp_path / "count"))
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests.optimize_helpers import search_synthetic; "
        f"search_synthetic({str(spec)!r}, {str(tmp_path / 'killed')!r}, 8)"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    partial = _trials(tmp_path / "killed")
    assert any(state == "RUNNING" for _, state, *_ in partial)  # killed in the middle of a batch
    assert 0 < sum(state != "RUNNING" for _, state, *_ in partial) < 8
    search_synthetic(spec, tmp_path / "killed", 8)
    assert _trials(tmp_path / "killed") == _trials(tmp_path / "whole")


def test_rerun_adds_trials(tmp_path):
    spec = write_spec(tmp_path)
    search_synthetic(spec, tmp_path / "out", 4)
    more = search_synthetic(spec, tmp_path / "out", 8)
    assert len(more.study.trials) == 8 and more.ran + more.over_budget == 4
    search_synthetic(spec, tmp_path / "again", 4)
    assert _trials(tmp_path / "out")[:4] == _trials(tmp_path / "again")


@pytest.mark.parametrize(
    ("body", "line", "key", "message"),
    [
        ("levers:\n  referral.reward_invter: {range: [0, 40]}\n", 3, "levers.referral.reward_invter", "did you mean"),
        ("levers:\n  market.network.kind: {range: [0, 1]}\n", 3, "levers.market.network.kind.range", "numeric"),
        ("levers:\n  referral.reward_inviter: {choices: []}\n", 3, "levers.referral.reward_inviter", "empty"),
        (
            "levers:\n  referral.reward_inviter: {range: [10, 40]}\nbudget:\n  limit: 100\n"
            "  per_day: {referral.reward_inviter: 20}\n",
            5,
            "budget.limit",
            "no lever setting meets the budget",
        ),
        (
            "levers:\n  referral.reward_inviter: {range: [0, 40]}\nuncertainties:\n"
            "  churn.base_hazard: {dist: uniform, low: 0.1, high: 2}\n",
            5,
            "uncertainties.churn.base_hazard",
            "outside",
        ),
        (
            "levers:\n  referral.reward_inviter: {range: [0, 40]}\nconstraints:\n  - {kpi: retention.day_18, min: 1}\n",
            5,
            "constraints[0].kpi",
            "unknown KPI",
        ),
        (
            "levers:\n  referral.reward_inviter: {range: [0, 40]}\nbudget: {limit: 5, lines: [referal_rewards]}\n",
            4,
            "budget.lines[0]",
            "unknown ledger line",
        ),
        ("levers: {}\n", 2, "levers", "at least 1"),
        ("levers:\n  livestream.enabled: [true]\n", 3, "levers.livestream.enabled", "one choice"),
        (
            "levers:\n  referral.reward_inviter: {range: [0, 40], step: 50}\n",
            3,
            "levers.referral.reward_inviter",
            "wider",
        ),
        (
            "levers:\n  referral.reward_inviter: {range: [0, 40]}\nuncertainties:\n"
            "  referral.reward_inviter: {dist: uniform, low: 1, high: 2}\n",
            5,
            "uncertainties.referral.reward_inviter",
            "both a lever and an uncertainty",
        ),
    ],
)
def test_bad_input_names_file_line_and_key_and_exits_2(tmp_path, capsys, body, line, key, message):
    rest = "objectives: [final.profit]\nseed: 1\n"
    spec = write_spec(tmp_path, body + rest)
    assert main(["optimize", str(spec), "--out", str(tmp_path / "o")]) == 2
    stderr = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    assert f"{spec}:{line}: {key}: " in stderr and message in stderr, stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "o").exists()


def test_same_study_on_two_workers_as_in_process(tmp_path):
    """Batches are asked and told in trial order and each proposal is seeded by its trial number:
    the worker count does not change the study."""
    from sim.batch.executors import LocalExecutor
    from sim.optimize.run import prepare
    from sim.optimize.search import open_study, run_search

    spec = write_spec(tmp_path)
    search_synthetic(spec, tmp_path / "serial", 8)
    resolved = resolve_optimization(spec)
    prepare(tmp_path / "local", resume=False)
    with LocalExecutor(2) as ex:
        run_search(resolved, open_study(resolved, tmp_path / "local"), ex, 8, run=synthetic)
    assert _trials(tmp_path / "local") == _trials(tmp_path / "serial")


def test_report_leads_with_plain_verified_sentences_and_says_when_everything_loses_money(tmp_path):
    """Eight mostly random trials: the candidates lose to the base (x = 200, y = 0: profit -190 + 100 u),
    which breaks the retention constraint; the report says both first, then the best candidate's numbers."""
    body = SYNTHETIC.replace("low: 0.1, high: 0.4", "low: 0.01, high: 0.05")  # every profit is below 0
    outcome = _run(tmp_path, trials=8, spec=write_spec(tmp_path, body))
    page = (outcome.out / "report.html").read_text(encoding="utf-8")
    items = page.split("<ul class='summary'>")[1].split("</ul>")[0].split("</li>")
    assert "No verified candidate beats the base scenario on final.profit" in items[0]
    assert "the base itself breaks a constraint (retention.day_180 at 0.50)" in items[0]
    assert "The best candidate" in items[1] and "4 fresh seeds" in items[1] and "95% CI" in items[1]
    assert "it keeps retention.day_180 at 0.90 (asked &gt;= 0.7)" in items[1]  # the constraint, as verified
    assert any("Everything loses money" in item for item in items)
    assert (outcome.table["mean.final.profit"].dropna() < 0).all()


def test_report_says_which_settings_the_command_line_changed_under_the_files_description(tmp_path):
    """The description is the file's prose: after ``--set`` it may describe settings the run did not use,
    so the report lists what the command line changed right under it (and says nothing when it changed nothing)."""
    body = "description: A budget of 750 CNY a day.\n" + SYNTHETIC
    spec = write_spec(tmp_path, body)
    changed = ["budget.limit=700", "set.days=190"]
    resolved = resolve_optimization(spec, changed)
    assert resolved.spec.budget.limit == 700
    outcome = optimize(resolved, tmp_path / "set", trials=4, executor="serial", run=synthetic)
    page = (outcome.out / "report.html").read_text(encoding="utf-8")
    head = page.split("<ul class='summary'>")[0]
    assert "A budget of 750 CNY a day." in head
    assert "Changed on the command line (the description above is the file&#x27;s):" in head
    assert "<code>budget.limit=700</code>" in head and "<code>set.days=190</code>" in head
    assert json.loads((outcome.out / "manifest.json").read_text())["overrides"] == changed  # to run it again
    plain = optimize(resolve_optimization(spec), tmp_path / "plain", trials=4, executor="serial", run=synthetic)
    assert "command line" not in (plain.out / "report.html").read_text(encoding="utf-8")
    assert json.loads((plain.out / "manifest.json").read_text())["overrides"] == []
    told = optimize(
        resolve_optimization(spec, ["description=Set here."]),
        tmp_path / "told",
        trials=4,
        executor="serial",
        run=synthetic,
    )
    head = (told.out / "report.html").read_text(encoding="utf-8").split("<ul class='summary'>")[0]
    assert "Set here." in head and "<code>description=Set here.</code>" in head
    assert "the file&#x27;s" not in head  # the description shown is the command line's own


@pytest.mark.parametrize("key", ["seed", "days", "description", "output.events"])
def test_a_run_setting_is_not_a_lever(tmp_path, key):
    body = SYNTHETIC.replace("levers:\n", f"levers:\n  {key}: {{choices: [1, 2]}}\n")
    with pytest.raises(ScenarioError, match=f"{re.escape(key)}.*is not a decision: set it under set:"):
        resolve_optimization(write_spec(tmp_path, body))


@pytest.mark.parametrize("inside", [False, True])
def test_an_out_that_is_a_file_is_refused_with_one_error_line_and_exit_2(tmp_path, capsys, inside):
    """``--out`` naming an existing file (or a path under one) is an unusable output directory: one
    ``error:`` line naming it, exit 2, the file left as it was and nothing else written."""
    spec = write_spec(tmp_path)
    taken = tmp_path / "notes.txt"
    taken.write_text("keep me\n", encoding="utf-8")
    out = taken / "sub" if inside else taken
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["optimize", str(spec), "--out", str(out), "--quiet"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("error: ") and str(out) in err and "not a directory" in err, err
    assert "Traceback" not in err
    assert taken.read_text(encoding="utf-8") == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_roi_goal_never_recommends_spending_more_on_a_bigger_loss_and_every_output_has_profit(tmp_path):
    """Maximizing ROI on a losing business favours the largest budget: a higher ROI bought with more spend
    and a bigger loss. Profit and spend are recorded for every run and verified whatever the goal; the
    sentences state the candidate's profit against the base's, say that everything loses money, and say
    plainly that the higher ROI was bought by spending more on a loss; nothing is recommended over a base
    that makes more profit for less spend."""
    from sim.optimize.report import sentences
    from tests.optimize_helpers import SYNTHETIC_ROI, synthetic_roi

    resolved = resolve_optimization(write_spec(tmp_path, SYNTHETIC_ROI))
    outcome = optimize(resolved, tmp_path / "roi", trials=8, executor="serial", run=synthetic_roi)
    runs = pd.read_parquet(outcome.out / "trials.parquet")
    assert {"final.cum_profit", "final.cost_total"} <= set(runs.columns)
    assert runs["final.cum_profit"].notna().all() and runs["final.cost_total"].notna().all()
    assert {"mean.final.cum_profit", "mean.final.cost_total"} <= set(outcome.table.columns)
    verified = pd.read_csv(outcome.out / "verification.csv")
    assert {"final.cum_profit", "final.cost_total"} <= set(verified["kpi"])
    profit = verified[verified["kpi"] == "final.cum_profit"]
    assert (profit["mean"] < profit["base_mean"]).all()  # every candidate makes less profit than the base
    lines = sentences(resolved, outcome.table, outcome.picked, outcome.verification)
    text = " ".join(lines)
    best = next(line for line in lines if line.startswith("The best candidate"))
    base = profit["base_mean"].iloc[0]
    assert "its profit is a loss of" in best and f"against a loss of {-base:,.0f} CNY in the base" in best, best
    assert "its higher ROI was bought by spending" in best and "CNY more on a loss" in best, best
    assert best.endswith("so it is not recommended."), best
    assert any(line.startswith("Everything loses money") for line in lines), text
    assert lines[0].startswith("No verified candidate is recommended"), lines[0]
    assert json.loads((outcome.out / "manifest.json").read_text())["recommended"] == []
    page = (outcome.out / "report.html").read_text(encoding="utf-8")
    assert "its higher ROI was bought by spending" in page


def test_roi_ranks_verified_candidates_front_by_front_on_profit_and_spend():
    """No verified candidate is ranked above one with at least its profit and at most its spend: by ROI
    within a Pareto front of (profit, spend), the base included; one the base beats on both is not recommended."""
    from sim.optimize.verify import BASE, roi_order

    profit = {BASE: -50.0, 1: -150.0, 2: -60.0, 3: -40.0, 4: -155.0}
    spend = {BASE: 100.0, 1: 300.0, 2: 90.0, 3: 120.0, 4: 300.0}
    roi = {k: profit[k] / spend[k] for k in profit}  # 1: -0.5, 2: -0.67, 3: -0.33, 4: -0.52
    order, beaten = roi_order(profit, spend, roi, [1, 2, 3, 4])
    # front 0: base, 2 (cheapest), 3 (most profit); then 1 (beaten by the base), 4 (beaten by 1 too)
    assert order == [3, 2, 1, 4]
    assert BASE in beaten[1] and BASE in beaten[4] and 1 in beaten[4]
    assert beaten[2] == [] and beaten[3] == []


EDGES = """\
set: {days: 60}
levers:
  acquisition.paid.daily_budget: {range: [0, 500], step: 100}
  referral.reward_inviter: {range: [12, 20], step: 2}
uncertainties:
  referral.base_acceptance: {dist: uniform, low: 0.1, high: 0.4}
objectives:
  - {kpi: final.profit, direction: maximize}
replications: 2
seed: 3
search: {batch: 4, startup: 8}
verify: {top: 1, replications: 3}
"""


def test_a_best_value_at_an_end_of_its_range_is_flagged(tmp_path):
    """The profit peaks at x = 600 and y = 10, outside the ranges searched: the best candidate sits at the top of
    one range and the bottom of the other, and the report says the best may lie beyond them. An end that is
    the key's own limit (a budget of 0) is said to be that, not to be widened."""
    from sim.optimize.report import sentences
    from tests.optimize_helpers import SYNTHETIC_ROI, synthetic_roi

    resolved = resolve_optimization(write_spec(tmp_path, EDGES))
    outcome = optimize(resolved, tmp_path / "edges", trials=16, executor="serial", run=synthetic)
    best = outcome.picked.iloc[0]
    assert best["lever.acquisition.paid.daily_budget"] == 500 and best["lever.referral.reward_inviter"] == 12
    lines = sentences(resolved, outcome.table, outcome.picked, outcome.verification)
    assert (
        "acquisition.paid.daily_budget 500 is at the top of its range 0 to 500: the best may lie beyond it; "
        "widen the range." in lines
    ), lines
    assert (
        "referral.reward_inviter 12 is at the bottom of its range 12 to 20: the best may lie beyond it; "
        "widen the range." in lines
    ), lines
    assert "widen the range" in (outcome.out / "report.html").read_text(encoding="utf-8")

    body = SYNTHETIC_ROI.replace("final.roi", "final.cum_profit").replace("step: 10}", "step: 250}")
    resolved = resolve_optimization(write_spec(tmp_path, body, "profit.yaml"))
    outcome = optimize(resolved, tmp_path / "zero", trials=12, executor="serial", run=synthetic_roi)
    assert outcome.picked.iloc[0]["lever.acquisition.paid.daily_budget"] == 0  # profit falls with the budget
    lines = sentences(resolved, outcome.table, outcome.picked, outcome.verification)
    edge = [line for line in lines if line.startswith("acquisition.paid.daily_budget 0 ")]
    assert edge == [
        "acquisition.paid.daily_budget 0 is at the bottom of its range 0 to 1,000, the least the key takes: "
        "the best is at that limit."
    ], lines

    # by ROI the best is the top of the budget's range, but the base makes more profit for less spend: a setting
    # not worth taking gets no advice to widen its range
    body = SYNTHETIC_ROI.replace("step: 10}", "step: 250}")
    resolved = resolve_optimization(write_spec(tmp_path, body, "roi.yaml"))
    outcome = optimize(resolved, tmp_path / "roi", trials=12, executor="serial", run=synthetic_roi)
    assert outcome.picked.iloc[0]["lever.acquisition.paid.daily_budget"] == 1000
    assert not outcome.verification.recommended(int(outcome.picked.iloc[0]["trial"]))
    lines = sentences(resolved, outcome.table, outcome.picked, outcome.verification)
    assert not any("range" in line for line in lines), lines


def test_candidates_with_the_same_results_are_marked_as_such(tmp_path):
    """Posts a day make no difference to the synthetic ROI evaluator: the verified candidates have the same
    results in every replication, and the report says so instead of offering them as two choices; the same
    setting is never verified twice."""
    from sim.optimize.report import sentences
    from tests.optimize_helpers import SYNTHETIC_ROI, synthetic_roi

    body = SYNTHETIC_ROI.replace("  acquisition.paid.daily_budget: {range: [0, 1000], step: 10}\n", "")
    body = body.replace("final.roi", "final.cum_profit")
    resolved = resolve_optimization(write_spec(tmp_path, body))
    outcome = optimize(resolved, tmp_path / "same", trials=6, executor="serial", run=synthetic_roi)
    picked = outcome.picked
    assert len(picked) == 2 and picked["lever.content.posts_per_day"].nunique() == 2  # two settings, not one twice
    first, second = (int(t) for t in picked["trial"])
    a, b = (int(v) for v in picked["lever.content.posts_per_day"])
    verified = pd.read_csv(outcome.out / "verification.csv", dtype={"same_results_as": str})
    same = verified.groupby("trial")["same_results_as"].first()
    assert same[first] == str(second) and same[second] == str(first)
    lines = sentences(resolved, outcome.table, picked, outcome.verification)
    expected = (
        f"Trial {second} (content.posts_per_day {b}) has the same results as the best candidate (trial {first}) "
        f"in every one of the 4 fresh replications: content.posts_per_day makes no difference between {a} and {b} "
        "here."
    )
    assert expected in lines, lines
    assert not any(line.startswith(f"Trial {second} (") and "raises" in line for line in lines)
    assert "same results as" in (outcome.out / "report.html").read_text(encoding="utf-8")


def test_a_setting_inert_only_in_some_trials_is_warned_of_once_at_the_lever_and_not_by_each_run(tmp_path):
    """The base writes show days but keeps the weekly schedule, off on purpose (enabled: false): the lever that
    switches the show on makes those days inert in half the trials. Resolving says so once, at the lever's
    line; the runs themselves (in the workers) print nothing."""
    import warnings

    from sim.batch.executors import SerialExecutor
    from sim.config.errors import ScenarioWarning
    from sim.optimize.evaluate import evaluate, run_trials, tasks_for

    scenario = tmp_path / "base.yaml"
    scenario.write_text(
        "days: 5\nmarket: {size: 200}\nacquisition: {initial_members: 20}\nkoc: {initial_count: 1}\n"
        "livestream: {enabled: false, days: [1, 3]}\n",
        encoding="utf-8",
    )
    body = "levers:\n  livestream.enabled: [false, true]\nobjectives: [final.members]\nseed: 1\nreplications: 1\n"
    spec = write_spec(tmp_path, body, scenario=scenario)
    with pytest.warns(ScenarioWarning) as caught:
        resolved = resolve_optimization(spec)
    assert [str(w.message) for w in caught] == [
        f"{spec}:3: levers.livestream.enabled: with true, livestream: days is set, but the schedule is 'weekly', "
        "which takes weekday: the shows ignore it (set schedule: dates to use it)"
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)
        rows = evaluate(SerialExecutor(), resolved.plan(), tasks_for({0: (True,), 1: (False,)}, [7], [()]), run_trials)
    assert (rows["status"] == "ok").all()


def test_the_candidates_plot_never_puts_the_objective_on_both_axes():
    """One ROI goal without constraints or measured spend was plotted against itself; it is plotted against the
    run's spend (or profit), and a second objective or a constraint still comes first."""
    from types import SimpleNamespace

    from sim.optimize.plots import x_column
    from sim.optimize.results import COST, PROFIT

    runs = pd.DataFrame({"final.roi": [0.1], COST: [1000.0], PROFIT: [50.0]})
    roi_only = SimpleNamespace(objective_columns=["final.roi"], constraint_columns=[])
    assert x_column(roi_only, runs) == COST
    assert x_column(roi_only, runs.drop(columns=[COST])) == PROFIT
    profit_only = SimpleNamespace(objective_columns=[PROFIT], constraint_columns=[])
    assert x_column(profit_only, runs) == COST
    assert x_column(SimpleNamespace(objective_columns=["a", "b"], constraint_columns=["c"]), runs) == "b"
    assert x_column(SimpleNamespace(objective_columns=["a"], constraint_columns=["c"]), runs) == "c"


def test_the_convergence_legend_names_only_what_is_drawn(tmp_path):
    """Without a trial breaking a constraint, the legend has no entry for one."""
    from types import SimpleNamespace

    import matplotlib.image

    from sim.optimize import plots
    from sim.optimize.results import OBJECTIVE

    spec = SimpleNamespace(name="t", objectives=[SimpleNamespace(statistic="mean", direction="maximize", q=None)])
    resolved = SimpleNamespace(spec=spec, objective_columns=["final.profit"])
    col = OBJECTIVE + "final.profit (mean)"
    table = pd.DataFrame({"trial": [0, 1, 2], "status": "ok", "feasible": True, col: [1.0, 3.0, 2.0]})
    labels = []
    real_legend = plots._legend_above
    plots._legend_above = lambda ax, **kw: (labels.extend(ax.get_legend_handles_labels()[1]), real_legend(ax, **kw))
    try:
        path = plots.convergence_plot(resolved, table, tmp_path / "c.png")
    finally:
        plots._legend_above = real_legend
    assert labels == ["feasible trial", "best feasible so far"]
    assert matplotlib.image.imread(path).shape[0] > 100


def test_a_verified_roi_change_is_in_percentage_points_as_compare_writes_it():
    """optimize wrote "raises final.roi from -0.647 to -0.529 (+18% of the base)"; ROI is compared in points."""
    from sim.optimize.report import change_text

    roi = pd.Series(
        {
            "kpi": "final.roi",
            "diff": 0.118,
            "ci_low": 0.05,
            "ci_high": 0.19,
            "rel": -0.18,
            "rel_low": -0.3,
            "rel_high": -0.1,
        }
    )
    assert change_text(roi) == "+12 pp, 95% CI +5 to +19 pp"
    profit = pd.Series(
        {
            "kpi": "final.profit",
            "diff": 5000.0,
            "ci_low": 1.0,
            "ci_high": 2.0,
            "rel": 0.1,
            "rel_low": 0.05,
            "rel_high": 0.15,
        }
    )
    assert change_text(profit).startswith("+10% of the base, 95% CI")

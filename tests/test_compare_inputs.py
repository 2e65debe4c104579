"""``compare``: what a strategy is, and inputs that cannot be compared as given.

A strategy is a resolved scenario (everything but the seed), so two runs of one
file with different ``--set`` values are two strategies; runs or files of
different horizons are refused with what differs; scenario files that share a
name are told apart by their file names; a broken run directory or an unknown
``--baseline`` is reported before anything runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMOKE = str(ROOT / "scenarios" / "smoke.yaml")
SMALL = ["--set", "market.size=500", "--set", "acquisition.initial_members=50", "--set", "koc.initial_count=2"]
QUICK = ["--replications", "1", "--quiet", "--workers", "1"]


def run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def one_error_line(err: str) -> None:
    assert err.startswith("error: ") and "Traceback" not in err, err


def make_run(out: Path, seed: int, days: int = 4, *sets: str) -> Path:
    args = ["run", SMOKE, "--days", str(days), "--seed", str(seed), "--out", str(out), "--quiet"]
    args += [*SMALL, "--set", "output.plots=false"]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    made = {}
    for seed in (1, 2):
        made[f"plain{seed}"] = make_run(root / f"plain{seed}", seed)
        made[f"budget{seed}"] = make_run(root / f"budget{seed}", seed, 4, "acquisition.paid.daily_budget=900")
    made["long1"] = make_run(root / "long1", 1, 6)
    return made


def test_runs_of_one_scenario_with_different_settings_are_two_strategies(runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    dirs = [runs[k] for k in ("plain1", "plain2", "budget1", "budget2")]
    code, err = run(["compare", *map(str, dirs), "--out", str(out), "--quiet"], capsys)
    assert code == 0, err
    table = pd.read_csv(out / "comparison.csv")
    strategies = list(dict.fromkeys(table["strategy"]))
    assert len(strategies) == 2, strategies
    assert (table["replications"] == 2).all()
    assert any("daily_budget" in s for s in strategies), strategies


def test_runs_of_different_horizons_are_refused(runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    code, err = run(["compare", str(runs["plain1"]), str(runs["long1"]), "--out", str(out)], capsys)
    assert code == 2
    one_error_line(err)
    assert "4 days" in err and "6 days" in err
    assert not out.exists()


def test_a_run_directory_without_its_timeseries_is_a_clear_error(runs, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(runs["plain1"], broken)
    (broken / "timeseries.parquet").unlink()
    code, err = run(["compare", str(broken), str(runs["budget1"]), "--out", str(tmp_path / "cmp")], capsys)
    assert code == 2
    one_error_line(err)
    assert "timeseries.parquet" in err and str(broken) in err


def test_a_run_directory_with_a_broken_manifest_is_a_clear_error(runs, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(runs["plain1"], broken)
    (broken / "manifest.json").write_text("{")
    code, err = run(["compare", str(broken), str(runs["budget1"]), "--out", str(tmp_path / "cmp")], capsys)
    assert code == 2
    one_error_line(err)
    assert "manifest.json" in err


def test_scenario_files_of_different_horizons_say_what_differs(tmp_path, capsys):
    short = tmp_path / "short.yaml"
    short.write_text(f"extends: {SMOKE}\nname: short\ndays: 3\n")
    long_ = tmp_path / "long.yaml"
    long_.write_text(f"extends: {SMOKE}\nname: long\ndays: 5\n")
    out = tmp_path / "cmp"
    code, err = run(["compare", str(short), str(long_), "--out", str(out), *SMALL, *QUICK], capsys)
    assert code == 2
    one_error_line(err)
    assert "short.yaml" in err and "long.yaml" in err and "--days" in err
    assert not out.exists()


def test_a_copied_scenario_with_the_same_name_is_told_apart_by_its_file_name(tmp_path, capsys):
    mine = tmp_path / "mine.yaml"
    mine.write_text(f"extends: {SMOKE}\nname: smoke\nacquisition: {{paid: {{daily_budget: 900}}}}\n")
    out = tmp_path / "cmp"
    args = ["compare", SMOKE, str(mine), "--out", str(out), "--days", "3", *SMALL, *QUICK]
    code, err = run(args, capsys)
    assert code == 0, err
    strategies = list(dict.fromkeys(pd.read_csv(out / "comparison.csv")["strategy"]))
    assert len(strategies) == 2 and "mine" in strategies, strategies


def test_the_same_file_twice_runs_as_two_strategies(tmp_path, capsys):
    out = tmp_path / "cmp"
    code, err = run(["compare", SMOKE, SMOKE, "--out", str(out), "--days", "3", *SMALL, *QUICK], capsys)
    assert code == 0, err
    strategies = list(dict.fromkeys(pd.read_csv(out / "comparison.csv")["strategy"]))
    assert len(strategies) == 2 and len(set(strategies)) == 2, strategies


def test_an_unknown_baseline_is_refused_before_any_simulation(tmp_path, capsys, monkeypatch):
    import sim.compare.cli as compare_cli

    def no_runs(*args, **kwargs):
        raise AssertionError("simulated before checking --baseline")

    monkeypatch.setattr(compare_cli, "run_ensemble", no_runs)
    out = tmp_path / "cmp"
    code, err = run(["compare", SMOKE, SMOKE, "--baseline", "nope", "--out", str(out), *QUICK], capsys)
    assert code == 2
    one_error_line(err)
    assert "'nope'" in err and not out.exists()


def test_a_kpi_where_less_is_better_ranks_the_lowest_first_everywhere(runs, tmp_path, capsys):
    """``--objective cost_total``: the cheaper strategy first in ranking.csv, the console line and the report."""
    out = tmp_path / "cmp"
    dirs = [runs[k] for k in ("budget1", "budget2", "plain1", "plain2")]
    code = main(["compare", *map(str, dirs), "--objective", "cost_total", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    ranks = pd.read_csv(out / "ranking.csv")
    assert "daily_budget=900" in ranks.strategy[1], list(ranks.strategy)  # the larger budget spends more
    assert ranks.score[0] < ranks.score[1] and not ranks.higher_is_better.any()
    assert f"ranking by cost_total (lower is better): 1. {ranks.strategy[0]}, 2. " in " ".join(printed.split())
    assert "ranked by <b>cost_total</b> (lower is better)" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("option", "typo", "meant"),
    [
        ("--objective", "profitt", "profit"),
        ("--objective", "score:proft=1,gmv=0.5", "profit"),
        ("--constraint", "cost_incentivs<=50000", "cost_incentives"),
    ],
)
def test_a_kpi_typo_is_refused_before_any_simulation(option, typo, meant, tmp_path, capsys, monkeypatch):
    """A misspelt KPI in ``--objective``, a ``score:`` weight or ``--constraint`` names the option and the closest
    KPI, exit code 2, before anything runs or is written (it used to rank in input order, or fail every strategy)."""
    import sim.compare.cli as compare_cli

    def no_runs(*args, **kwargs):
        raise AssertionError(f"simulated before checking {option}")

    monkeypatch.setattr(compare_cli, "run_ensemble", no_runs)
    out = tmp_path / "cmp"
    code, err = run(["compare", SMOKE, SMOKE, option, typo, "--out", str(out), *QUICK], capsys)
    assert code == 2, err
    one_error_line(err)
    assert len(err.strip().splitlines()) == 1, err
    bad = typo.removeprefix("score:").split("=")[0].split("<")[0]
    assert f"{option}: unknown KPI '{bad}'; did you mean '{meant}'" in " ".join(err.split()), err
    assert not out.exists()


def test_a_window_the_runs_do_not_reach_is_refused_before_any_simulation(tmp_path, capsys, monkeypatch):
    import sim.compare.cli as compare_cli

    monkeypatch.setattr(compare_cli, "run_ensemble", lambda *a, **k: pytest.fail("simulated"))
    out = tmp_path / "cmp"
    code, err = run(
        ["compare", SMOKE, SMOKE, "--days", "60", "--objective", "w180.gmv", "--out", str(out), *QUICK], capsys
    )
    assert code == 2, err
    one_error_line(err)
    assert "--objective: 'w180.gmv' needs runs of at least 180 days" in " ".join(err.split()), err
    assert not out.exists()


def test_the_python_api_refuses_a_kpi_typo_before_any_simulation(monkeypatch):
    import sim.api
    from sim.compare.cli import CompareError

    monkeypatch.setattr(sim.api, "run_ensemble", lambda *a, **k: pytest.fail("simulated"))
    with pytest.raises(CompareError, match="objective: unknown KPI 'profitt'; did you mean 'profit'"):
        sim.api.compare([SMOKE, SMOKE], replications=1, objective="profitt")
    with pytest.raises(CompareError, match="constraints: unknown KPI 'cost_incentivs'"):
        sim.api.compare([SMOKE, SMOKE], replications=1, constraints=["cost_incentivs<=50000"])

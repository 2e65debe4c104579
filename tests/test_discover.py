"""discover: PRIM finds a planted box, agrees with EMA Workbench, and the command runs on the shipped example."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.discover import prim
from sim.experiment.resolve import resolve_experiment
from sim.experiment.sweep import run_sweep
from tests.experiment_helpers import ROOT

EXAMPLE = ROOT / "experiments" / "referral_push_uncertainty.yaml"
SHORT = ["set.days=20", "set.market.size=1000", "set.acquisition.initial_members=40", "replications=1", "design.n=20"]


def planted(n: int = 1000, noise: float = 0.05, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Three factors on [0, 1], [0, 1], [0, 50]; cases where x0 < 0.3 and x1 > 0.6, 5% of labels flipped."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 3)) * [1.0, 1.0, 50.0]
    y = (x[:, 0] < 0.3) & (x[:, 1] > 0.6)
    return x, y ^ (rng.uniform(size=n) < noise)


def test_prim_recovers_a_planted_box():
    x, y = planted()
    trajectory = prim.peel(x, y)
    step = trajectory[prim.choose(trajectory)]
    assert step.box.upper[0] == pytest.approx(0.3, abs=0.05)
    assert step.box.lower[1] == pytest.approx(0.6, abs=0.05)
    assert step.density > 0.75 and step.coverage > 0.75
    qp = prim.quasi_p(x, y, step)
    assert qp[0, 1] < 1e-6 and qp[1, 0] < 1e-6  # the planted limits are highly significant
    restricted_x2 = np.isfinite(qp[2]).any()
    assert not restricted_x2 or np.nanmin(qp[2]) > 0.05  # the idle factor is not restricted, or not significantly
    coverage = [s.coverage for s in trajectory]
    density = [s.density for s in trajectory]
    assert coverage == sorted(coverage, reverse=True) and density[-1] > density[0]


def test_pasting_never_lowers_the_density():
    x, y = planted(noise=0.15, seed=9)
    trajectory = prim.peel(x, y, alpha=0.1)
    for step in trajectory[::4]:
        pasted = prim.paste(x, y, step)
        densities = [step.density] + [s.density for s in pasted]
        assert densities == sorted(densities) and all(s.n > step.n for s in pasted)


@pytest.mark.skipif(importlib.util.find_spec("ema_workbench") is None, reason="EMA Workbench is not installed")
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.drop")  # inside ema_workbench, with pandas 3.1
def test_prim_gives_the_boxes_of_ema_workbench_on_the_same_data():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim as ema

    x, y = planted(n=400, noise=0.1, seed=11)
    theirs = ema.Prim(pd.DataFrame(x, columns=["a", "b", "c"]), y.astype(int), threshold=0.5).find_box()
    trajectory = prim.peel(x, y)
    pasted = prim.paste(x, y, trajectory[-1])
    ours = trajectory + pasted
    ref = theirs.peeling_trajectory
    assert len(ours) == len(ref)
    np.testing.assert_allclose([s.coverage for s in ours], ref["coverage"], rtol=1e-12)
    np.testing.assert_allclose([s.density for s in ours], ref["density"], rtol=1e-12)
    limits = theirs.box_lims[-1]
    np.testing.assert_allclose(ours[-1].box.lower, limits.loc[0].to_numpy(dtype=float), rtol=1e-12)
    np.testing.assert_allclose(ours[-1].box.upper, limits.loc[1].to_numpy(dtype=float), rtol=1e-12)
    qp = prim.quasi_p(x, y, ours[-1])
    for j, name in enumerate("abc"):
        for side in (0, 1):
            expected = theirs.qp[-1].get(name, [-1, -1])[side]
            assert (np.isnan(qp[j, side]) and expected == -1) or qp[j, side] == pytest.approx(expected, rel=1e-9)


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="scikit-learn is not installed")
def test_cart_finds_the_planted_box():
    from sim.discover.cart import fit_tree, leaves

    x, y = planted()
    found = [s for s in leaves(fit_tree(x, y), x, y) if s.density > 0.5]
    assert sum(s.coverage for s in found) > 0.7  # the case leaves (three splits deep) hold most cases ...
    for s in found:  # ... and lie inside the planted box, up to the tolerance
        assert s.density > 0.8 and s.box.upper[0] < 0.35 and s.box.lower[1] > 0.55


@pytest.fixture(scope="module")
def example_sweep(tmp_path_factory):
    """The shipped example, shortened: 20 points, one replication, 20 days."""
    folder = tmp_path_factory.mktemp("example") / "sweep"
    full = resolve_experiment(EXAMPLE)
    assert full.n_runs >= 100 and len(full.factors) == 4  # as shipped: a real study of four uncertainties
    outcome = run_sweep(resolve_experiment(EXAMPLE, SHORT), folder, executor="serial")
    assert outcome.failed == 0
    return folder


def test_discover_on_the_shipped_example_writes_boxes_figures_and_a_sentence(example_sweep, tmp_path, capsys):
    out = tmp_path / "prim"
    assert main(["discover", str(example_sweep), "--kpi", "profit", "--worst", "0.25", "--out", str(out)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "referral_push is among its worst 25%" in said and "of runs where" in said and "quasi-p" in said
    assert {p.name for p in out.iterdir()} >= {"boxes.csv", "trajectory.csv", "trajectory.png", "box.png"}
    boxes = pd.read_csv(out / "boxes.csv")
    assert list(boxes.box.unique()) == ["significant limits", "peeled"] and len(boxes) == 8  # 4 factors each
    peeled = boxes[boxes.box == "peeled"]
    assert peeled.restricted.any() and (boxes.lower <= boxes.upper).all()
    assert 0 < peeled.coverage.iloc[0] <= 1 and peeled.density.iloc[0] > 0.25  # denser than the 25% base rate
    assert peeled.qp_lower.notna().sum() + peeled.qp_upper.notna().sum() >= peeled.restricted.sum()


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="scikit-learn is not installed")
def test_discover_cart_draws_the_tree(example_sweep, tmp_path):
    out = tmp_path / "cart"
    assert main(["discover", str(example_sweep), "--kpi", "profit", "--worst", "0.3", "--method", "cart",
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    assert {"boxes.csv", "tree.png"} <= {p.name for p in out.iterdir()}
    assert set(pd.read_csv(out / "boxes.csv").method) == {"cart"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kpi", "profit", "--below", "0", "--worst", "0.2"], "exactly one of --below"),
        (["--kpi", "profit"], "exactly one of --below"),
        (["--kpi", "profit", "--above", "1e12"], "no run has profit above"),
        (["--kpi", "profitt", "--below", "0"], "not in this sweep's KPI columns: profitt"),
        (["--kpi", "profit", "--worst", "1.5"], "between 0 and 1"),
        (["--kpi", "profit", "--worst", "0.2", "--method", "forest"], "use prim or cart"),
    ],
)
def test_bad_questions_exit_2_and_write_nothing(example_sweep, tmp_path, capsys, extra, message):
    out = tmp_path / "d"
    assert main(["discover", str(example_sweep), *extra, "--out", str(out)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_a_directory_that_is_not_a_sweep_exits_2(tmp_path, capsys):
    assert main(["discover", str(tmp_path), "--kpi", "profit", "--below", "0"]) == 2
    assert "not a sweep directory" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


FACTORS = ["referral.base_acceptance", "churn.base_hazard", "acquisition.paid.cac", "referral.hunter_share"]


def fake_sweep(folder, x: np.ndarray, profit: np.ndarray):
    """A finished sweep directory written by hand: one run per point, the given factor values and profits."""
    import json

    folder.mkdir(parents=True)
    n = len(profit)
    design = pd.DataFrame(x, columns=FACTORS).assign(point=range(n))[["point", *FACTORS]]
    runs = design.assign(replication=0, seed=1, **{"final.profit": profit}, status="ok", error=None)
    design.to_parquet(folder / "design.parquet")
    runs.to_parquet(folder / "runs.parquet")
    manifest = {
        "name": "referral_push_uncertainty", "kpis": ["final.profit"], "runs_total": n,
        "factors": [{"name": f, "kind": "float", "range": [0.0, 1.0]} for f in FACTORS],
        "design": {"kind": "lhs", "n": n}, "experiment": {"scenario": "../scenarios/referral_push.yaml"},
    }  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def losing_sweep(folder, offset: float = -70_000.0):
    """120 runs that all lose money, and lose the most where factor 1 is high and factor 2 low."""
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(120, 4))
    profit = offset - 8_000 * ((x[:, 1] > 0.6) & (x[:, 2] < 0.5)) + rng.normal(0, 1_500, size=120)
    return fake_sweep(folder, x, profit)


def test_when_every_run_loses_money_discover_opens_by_saying_so(tmp_path, capsys):
    sweep = losing_sweep(tmp_path / "sweep")
    out = tmp_path / "d"
    assert main(["discover", str(sweep), "--kpi", "profit", "--worst", "0.25", "--out", str(out)]) == 0
    lines = [" ".join(s.split()) for s in (out / "summary.txt").read_text(encoding="utf-8").splitlines()]
    profit = pd.read_parquet(sweep / "runs.parquet")["final.profit"]
    low, high = f"{profit.min():,.0f}", f"{profit.max():,.0f}"
    assert lines[0].startswith("Every one of the 120 runs loses money")
    assert f"{low} to {high} CNY" in lines[0] and "where it loses the most" in lines[0]
    assert "referral_push is among its worst 25%" in lines[1]  # the box follows the opening
    said = " ".join(capsys.readouterr().out.split())
    assert said.startswith("• Every one of the 120 runs loses money")


def test_when_most_runs_lose_money_discover_says_how_many(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.uniform(size=(100, 4))
    profit = np.where(np.arange(100) < 80, -1_000.0 - 100 * np.arange(100), 5_000.0) + 10 * x[:, 0]
    sweep = fake_sweep(tmp_path / "sweep", x, profit)
    out = tmp_path / "d"
    assert main(["discover", str(sweep), "--kpi", "profit", "--worst", "0.25", "--out", str(out), "--quiet"]) == 0
    first = " ".join((out / "summary.txt").read_text(encoding="utf-8").splitlines()[0].split())
    assert first.startswith("80 of the 100 runs (80%) lose money")


def test_a_profitable_sweep_gets_no_loss_sentence(tmp_path):
    sweep = losing_sweep(tmp_path / "sweep", offset=+90_000.0)
    out = tmp_path / "d"
    assert main(["discover", str(sweep), "--kpi", "profit", "--worst", "0.25", "--out", str(out), "--quiet"]) == 0
    assert "lose" not in (out / "summary.txt").read_text(encoding="utf-8")


def test_when_every_run_makes_money_discover_opens_by_saying_so(tmp_path, capsys):
    """The match of the loss sentence: every run profitable, so the boxes find where it makes the least."""
    sweep = losing_sweep(tmp_path / "sweep", offset=+90_000.0)
    out = tmp_path / "d"
    assert main(["discover", str(sweep), "--kpi", "profit", "--worst", "0.25", "--out", str(out)]) == 0
    first = " ".join((out / "summary.txt").read_text(encoding="utf-8").splitlines()[0].split())
    profit = pd.read_parquet(sweep / "runs.parquet")["final.profit"]
    assert first == (
        f"Every one of the 120 runs makes money (+{profit.min():,.0f} to +{profit.max():,.0f} CNY): "
        "the boxes below find where it makes the least."
    )
    assert " ".join(capsys.readouterr().out.split()).startswith("• Every one of the 120 runs makes money")
    below = tmp_path / "below"
    assert main(["discover", str(sweep), "--kpi", "profit", "--below", "85000", "--out", str(below), "--quiet"]) == 0
    assert "find where it makes less than 85,000 CNY." in (below / "summary.txt").read_text(encoding="utf-8")


def test_below_zero_when_every_run_loses_money_says_so_and_what_to_ask(tmp_path, capsys):
    sweep = losing_sweep(tmp_path / "sweep")
    assert main(["discover", str(sweep), "--kpi", "profit", "--below", "0", "--out", str(tmp_path / "d")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "all 120 runs lose money" in err and "--worst 0.25" in err


def test_the_shipped_examples_discover_commands_run_on_its_sweep(example_sweep, tmp_path):
    """The commands the experiment file suggests (in its comment) work on the sweep it makes."""
    import shlex

    said = [line.lstrip("# ").strip() for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    commands = [shlex.split(line)[2:] for line in said if line.startswith("community-sim discover ")]
    assert commands
    for i, args in enumerate(commands):
        out = tmp_path / f"d{i}"
        assert main(["discover", str(example_sweep), *args[1:], "--out", str(out), "--quiet"]) == 0
    profit = pd.read_parquet(example_sweep / "runs.parquet")["final.profit"]
    assert (profit < 0).all()  # as in the full sweep: the suggestion must not be --below 0


def test_no_significant_limit_is_not_stated_as_a_finding(tmp_path, capsys):
    """Cases drawn at random: PRIM still peels a box, but no limit of it is significant."""
    rng = np.random.default_rng(8)
    x = rng.uniform(size=(24, 4))
    profit = -50_000 - 10_000 * rng.uniform(size=24)
    sweep = fake_sweep(tmp_path / "sweep", x, profit)
    out = tmp_path / "d"
    assert main(["discover", str(sweep), "--kpi", "profit", "--worst", "0.25", "--out", str(out)]) == 0
    boxes = pd.read_csv(out / "boxes.csv")
    peeled = boxes[boxes.box == "peeled"]
    assert peeled.restricted.any()  # PRIM did peel a box ...
    assert (peeled[["qp_lower", "qp_upper"]].fillna(1) >= 0.05).all().all()  # ... with no significant limit
    said = " ".join(capsys.readouterr().out.split())
    assert "No factor range is significantly associated with" in said
    assert "of runs where" not in said  # the box is not stated as where the bad runs are


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="scikit-learn is not installed")
def test_cart_leaves_are_tested_against_trees_on_shuffled_cases_and_noise_is_no_finding(tmp_path, capsys):
    rng = np.random.default_rng(8)
    x = rng.uniform(size=(24, 4))
    sweep = fake_sweep(tmp_path / "noise", x, -50_000 - 10_000 * rng.uniform(size=24))
    assert main(["discover", str(sweep), "--kpi", "profit", "--worst", "0.25", "--method", "cart",
                 "--out", str(tmp_path / "d")]) == 0  # fmt: skip
    said = [" ".join(line.split()) for line in capsys.readouterr().out.split("•")[1:]]
    leaves = [line for line in said if line.startswith("Leaf")]
    # 3 of 3 runs in a leaf of pure noise: a hypergeometric tail of 0.0099, but trees find such leaves by chance
    assert leaves and all(
        "not a finding" in line and "against trees grown on shuffled cases" in line for line in leaves
    )

    planted = losing_sweep(tmp_path / "planted")  # the worst runs: factor 1 high and factor 2 low
    assert main(["discover", str(planted), "--kpi", "profit", "--worst", "0.25", "--method", "cart",
                 "--out", str(tmp_path / "e")]) == 0  # fmt: skip
    said = [" ".join(line.split()) for line in capsys.readouterr().out.split("•")[1:]]
    first = next(line for line in said if line.startswith("Leaf 1"))
    assert "not a finding" not in first and "p = 0.005 against trees grown on shuffled cases" in first


@pytest.mark.parametrize("command", [["discover", "--kpi", "profit", "--worst", "0.25"], ["analyze"]])
def test_an_experiment_file_given_for_its_sweep_is_named_as_such(tmp_path, capsys, command):
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert main([command[0], str(exp), *command[1:]]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{exp} is a file, not a sweep directory: give the --out of `community-sim sweep {exp}`" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.yaml"]


def test_a_run_directory_is_named_as_such(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text('{"scenario": "baseline", "scenario_sha256": "0", "seed": 1, "days": 30}')
    (run / "summary.json").write_text("{}")
    assert main(["discover", str(run), "--kpi", "profit", "--worst", "0.25", "--out", str(tmp_path / "d")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "is a run directory" in err and "not a sweep directory" in err and "community-sim sweep" in err
    assert "damaged" not in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("option", ["--below", "--above"])
def test_a_threshold_that_is_not_a_finite_number_exits_2(tmp_path, capsys, option, value):
    sweep = losing_sweep(tmp_path / "sweep")
    out = tmp_path / "d"
    assert main(["discover", str(sweep), "--kpi", "profit", option, value, "--out", str(out)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{option} {value}" in err and "finite number" in err and "–" not in err
    assert not out.exists()

"""Every shipped figure: Chinese text is drawn (no missing glyph), legends cover no data and stay inside the
figure; join sources have readable names and colours that stay apart; the compare funnel has small ticks;
long strategy names do not overprint; the K-factor panels say which joins they count."""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from sim.cli import main
from sim.compare import plots as compare_plots
from sim.compare.ensemble import run_ensemble
from sim.dashboard import figures as dashboard_figures
from sim.dashboard.model import DashboardModel
from sim.experiment import plots as experiment_plots
from sim.experiment.analysis import contrasts, load_sweep, point_stats
from sim.mechanisms.registry import JOIN_SOURCES
from sim.model import CommunityModel
from sim.plots import SOURCE_COLORS, SOURCE_NAMES, fonts, source_name, write_run_plots
from sim.run.summary import cohort_retention, funnel
from sim.validation.plot import plot_validation
from tests.conftest import small
from tests.figure_checks import label_problems, legend_problems, saved_figures
from tests.test_compare import tiny

EVENTS = [
    {"kind": "crisis", "day": 20, "name": "质量危机"},
    {"kind": "promotion", "day": 50, "name": "六一八大促"},
    {"kind": "promotion", "day": 90, "name": "双十一"},
]
CHINESE = "社群测试"
GROUP_BUY = {"incentives": {"group_buy": {"enabled": True, "initiate_prob": 0.5, "daily_accept_prob": 0.3}}}
STRATEGIES = ["基线", "裂变团购", "推荐奖励"]


@contextlib.contextmanager
def _strict():
    """Warnings as errors: a glyph missing from every font of the figure fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield


@pytest.fixture(scope="module")
def run_figures(tmp_path_factory) -> dict[str, Figure]:
    """The six run figures of a 120-day run with Chinese event names and title (four cohorts: a legend)."""
    model = CommunityModel(small(days=120, events=EVENTS, rules={"enabled": True}, **GROUP_BUY))
    model.run()
    ts = model.timeseries()
    out = tmp_path_factory.mktemp("run")
    with _strict(), saved_figures() as saved:
        paths = write_run_plots(
            ts, funnel(model.pop), cohort_retention(model.pop, len(ts)), out, CHINESE, markers=model.markers
        )
    return {p.name: fig for p, fig in zip(paths, saved, strict=True)}


@pytest.fixture(scope="module")
def compare_figures(tmp_path_factory) -> dict[str, Figure]:
    """The six comparison figures of three strategies named in Chinese, one with group buying."""
    scenarios = [
        tiny("a", events=EVENTS[:1]),
        tiny("b", events=EVENTS[:1], **GROUP_BUY),
        tiny("c", events=EVENTS[:1], referral={"reward_inviter": 30.0}),
    ]
    ens = run_ensemble(scenarios, 2, 5, "serial", labels=STRATEGIES)
    out = tmp_path_factory.mktemp("compare")
    with _strict(), saved_figures() as saved:
        paths = compare_plots.write_comparison_plots(ens, STRATEGIES[0], out)
    return {p.name: fig for p, fig in zip(paths, saved, strict=True)}


def _sweep(folder: Path, name: str, factors: str, kpis: str = "final.members, final.gmv") -> object:
    """A small sweep, run in this process (the figures are under test, not the worker pool)."""
    from sim.experiment.resolve import resolve_experiment
    from sim.experiment.sweep import run_sweep
    from tests.experiment_helpers import write_experiment

    body = f"name: {name}\nseed: 3\nreplications: 2\nkpis: [{kpis}]\nfactors:\n{factors}"
    folder.mkdir()
    path = write_experiment(folder, body)
    assert run_sweep(resolve_experiment(path), folder / "sweep", executor="serial").failed == 0
    return load_sweep(folder / "sweep")


@pytest.fixture(scope="module")
def experiment_figures(tmp_path_factory) -> dict[str, Figure]:
    """Response curves, heatmap, ensemble comparison, Sobol and Morris charts of small sweeps named in Chinese."""
    folder = tmp_path_factory.mktemp("sweep")
    grid = _sweep(
        folder / "grid", "推荐奖励实验", "  referral.reward_inviter: [0, 20]\n  content.posts_per_day: [2, 6]\n"
    )
    models = _sweep(folder / "models", "运营模式", "  operating_model: [centralized, hybrid]\n")
    kpi, conf = "final.members", 0.95
    factors = ["referral.reward_inviter", "content.posts_per_day", "incentives.points.earn_rate"]
    sobol = pd.DataFrame(
        {"factor": factors, "S1": [0.5, 0.2, 0.05], "S1_conf": [0.05, 0.04, 0.02], "ST": [0.6, 0.3, 0.1]}
    ).assign(ST_conf=[0.05, 0.05, 0.03])
    morris = pd.DataFrame({"factor": factors, "mu_star": [30.0, 12.0, 2.0], "mu_star_conf": [4.0, 3.0, 1.0]})
    morris["sigma"] = [10.0, 14.0, 1.0]
    with _strict():
        stats = point_stats(grid, [kpi], conf)
        figures = {
            "response": experiment_plots.response_curves(grid, kpi, conf),
            "heatmap": experiment_plots.heatmap(
                grid, stats[stats["kpi"] == kpi], "referral.reward_inviter", "content.posts_per_day", kpi
            ),
            "compare": experiment_plots.compare(
                models, point_stats(models, [kpi], conf), contrasts(models, [kpi], conf), kpi, conf
            ),
            "sobol": experiment_plots.sobol_chart(sobol, kpi, conf),
            "morris": experiment_plots.morris_chart(morris, kpi, conf),
        }
        for name, fig in figures.items():
            fig.savefig(folder / f"{name}.png")
    return figures


@pytest.fixture(scope="module")
def validation_figure(tmp_path_factory) -> Figure:
    table = pd.DataFrame(
        {
            "id": ["S1", "S2", "S3"],
            "metric": ["monthly_growth", "dau_mau", "k_factor"],
            "compare": ["value", "at_least", "ratio"],
            "target": [0.05, 0.2, 1.0],
            "tolerance": [0.02, 0.0, 0.1],
            "simulated_mean": [0.055, 0.25, 1.9],
            "ci_low": [0.05, 0.22, 1.7],
            "ci_high": [0.06, 0.28, 2.1],
            "passed": [True, True, False],
            "provenance": ["emerges", "calibrated", "input"],
        }
    )
    with _strict(), saved_figures() as saved:
        plot_validation(table, tmp_path_factory.mktemp("validation") / "validation.png")
    return saved[0]


@pytest.fixture(scope="module")
def calibration(tmp_path_factory) -> tuple[Figure, Path]:
    """``calibrate`` of a scenario named in Chinese, into its default directory; the fit figure and the directory."""
    from sim.calibration import cli as calibration_cli
    from sim.calibration.uncertainty import laplace

    folder = tmp_path_factory.mktemp("calibrate")
    scenario = folder / "s.yaml"
    scenario.write_text(
        f"name: {CHINESE}\ndays: 28\nmarket: {{size: 1500}}\nacquisition: {{initial_members: 100}}\n", encoding="utf-8"
    )
    observed = folder / "observed.csv"
    pd.DataFrame({"day": range(28), "purchases": np.arange(28) % 7 + 3}).to_csv(observed, index=False)
    args = ["calibrate", str(scenario), "--observed", str(observed), "--period", "week", "--target", "purchases"]
    args += ["--fit", "purchase.base_prob=0.01:0.05", "--trials", "2", "--replications", "1", "--quiet"]
    args += ["--searches", "1", "--draws", "6"]  # bands still drawn, at a fraction of the default's runs
    # the figure, not the intervals, is under test here: the noise is estimated from 4 runs (the least the
    # estimate takes) instead of 24, which were most of the command's runs
    with pytest.MonkeyPatch.context() as mp, _strict(), saved_figures() as saved:
        mp.setattr(calibration_cli, "laplace", functools.partial(laplace, noise_runs=4))
        assert main([*args, "--results", str(folder / "results")]) == 0
    return saved[0], folder / "results"


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Figure]:
    model = DashboardModel(koc_incubation=True)
    for _ in range(40):
        model.step()
    markers = [*model.markers, {"day": 12, "kind": "crisis", "label": "质量危机"}]
    markers.append({"day": 25, "kind": "promotion", "label": "六一八大促"})
    with _strict():
        out = {draw.__name__: draw(model.frame(), markers) for draw in dashboard_figures.CHARTS}
        out["network"] = model.network_view.figure(model)
        for fig in out.values():
            fig.canvas.draw()
    return out


FIGURES = (
    [("run", n) for n in ("members_by_source", "dau", "gmv_profit", "funnel", "cohort_retention", "operations")]
    + [("compare", n) for n in ("trajectories", "profit_difference", "funnel", "retention", "costs_profit")]
    + [("compare", "growth_sources")]
    + [("experiment", n) for n in ("response", "heatmap", "compare", "sobol", "morris")]
    + [("validation", "validation"), ("calibration", "fit")]
    + [("dashboard", d.__name__) for d in dashboard_figures.CHARTS]
    + [("dashboard", "network")]
)


@pytest.fixture
def figure(request) -> Figure:
    group, name = request.param
    if group == "run":
        return request.getfixturevalue("run_figures")[f"{name}.png"]
    if group == "compare":
        return request.getfixturevalue("compare_figures")[f"{name}.png"]
    if group == "experiment":
        return request.getfixturevalue("experiment_figures")[name]
    if group == "validation":
        return request.getfixturevalue("validation_figure")
    if group == "calibration":
        return request.getfixturevalue("calibration")[0]
    return request.getfixturevalue("dashboard")[name]


@pytest.mark.parametrize("figure", FIGURES, ids=[f"{g}-{n}" for g, n in FIGURES], indirect=True)
def test_legends_cover_no_data_and_stay_in_the_figure(figure):
    """Drawn (with Chinese names where the figure shows them) without a missing glyph; every legend outside
    the axes, whatever the data."""
    with _strict():
        assert legend_problems(figure) == []


def test_the_legend_check_finds_a_legend_on_a_line():
    """The check itself: an in-axes legend over a line fails, the same legend above the axes passes."""
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot([0, 1], [1, 1], label="high line")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="upper left")
    assert any("covers line 'high line'" in p for p in legend_problems(fig))
    ax.legend(loc="lower right")  # on no data: passes only where legends inside the axes are allowed
    assert legend_problems(fig, inside_ok=True) == [] and "sits inside the axes" in legend_problems(fig)[0]
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02))
    fig.subplots_adjust(top=0.8)
    assert legend_problems(fig) == []


def test_chinese_labels_draw_in_the_chinese_font(tmp_path):
    """The shared setup puts a Chinese font after the Latin one; drawing Chinese text then warns of nothing."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    assert fonts.bundled_font() is not None, "pylopdf-fonts-zh-cn is a dependency: its Noto Sans SC file is there"
    assert fonts.cjk_family() == "Noto Sans SC"
    with _strict():
        fonts.use()
        fig = Figure()
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_title("质量危机 六一八大促 双十一")
        ax.plot([0, 1], label="社群测试")
        ax.legend()
        fig.savefig(tmp_path / "zh.png")
    import matplotlib

    assert matplotlib.rcParams["font.family"][-1] == "Noto Sans SC"


def test_chinese_event_names_keep_their_width_in_the_marker_strip():
    """Chinese labels count wider than Latin ones, so they are laid out (and cut) by their drawn width."""
    from sim.plots import markers as pm

    assert fonts.width_units("质量危机") > 1.6 * len("质量危机")
    cut = fonts.truncate("双十一" * 10, 26)
    assert cut.endswith("…") and fonts.width_units(cut) <= 26
    marks = pm.prepare([{"day": d, "kind": "promotion", "label": "六一八大促销活动"} for d in (10, 14)], 60)
    assert marks.levels == 2  # too wide side by side at a 4-day gap: stacked


def test_join_sources_have_readable_names_everywhere(run_figures, compare_figures, dashboard):
    assert set(JOIN_SOURCES) <= set(SOURCE_NAMES) and source_name("group_buy") == "group buy"
    legends = [
        run_figures["members_by_source.png"].legends[0],
        compare_figures["growth_sources.png"].axes[1].get_legend(),
        dashboard["members_figure"].axes[0].get_legend(),
    ]
    texts = [t.get_text() for legend in legends for t in legend.get_texts() if "rule fired" not in t.get_text()]
    assert any("group buy" in t for t in texts) and any("word of mouth" in t for t in texts)
    assert not [t for t in texts if "_" in t]


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of linear sRGB."""
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


#: Colour-vision deficiency as linear-RGB matrices (Machado, Oliveira and Fernandes 2009, severity 1).
VISION = {
    "normal": np.eye(3),
    "deuteranopia": np.array([[0.367, 0.861, -0.228], [0.280, 0.673, 0.047], [-0.012, 0.043, 0.969]]),
    "protanopia": np.array([[0.152, 1.053, -0.205], [0.115, 0.786, 0.099], [-0.004, -0.048, 1.052]]),
}


@pytest.mark.parametrize("vision", VISION)
def test_join_source_colours_stay_apart(vision):
    """Any two sources differ by a CIELAB distance of at least 20, also for the red- and green-blind."""

    def lab(colour: str) -> np.ndarray:
        c = np.array(to_rgb(colour))
        linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return _lab(np.clip(VISION[vision] @ linear, 0, 1))

    closest = min(
        (float(np.linalg.norm(lab(SOURCE_COLORS[a]) - lab(SOURCE_COLORS[b]))), a, b)
        for a, b in itertools.combinations(JOIN_SOURCES, 2)
    )
    assert closest[0] >= 20, closest


def test_compare_funnel_has_a_tick_at_its_smallest_bars(compare_figures):
    """The log axis starts on a 1-2-5 value with a labelled tick below the smallest bar."""
    ax = compare_figures["funnel.png"].axes[0]
    smallest = min(p.get_height() for p in ax.patches if p.get_height() > 0)
    low, _ = ax.get_ylim()
    labelled = [t.get_position()[1] for t in ax.yaxis.get_ticklabels() if t.get_text()]
    assert any(low <= v <= smallest for v in labelled), (low, smallest, labelled)
    assert compare_plots.step_below(740) == 500 and compare_plots.step_below(1000) == 500
    assert compare_plots.step_below(1001) == 1000 and compare_plots.step_below(3) == 2


#: Four strategies with long Chinese names, as a strategist names scenario files.
LONG_NAMES = [
    f"{head}_品牌私域社群运营二零二六" for head in ("基线方案", "裂变团购方案", "积分计划方案", "混合KOC方案")
]


def _hand_ensemble(names: list[str], days: int = 60):
    """Two replications per strategy with planted costs, profit, joins by source and K-factors (no simulation)."""
    from sim.compare.ensemble import Ensemble, RunRecord
    from sim.core.ledger import CATEGORIES

    runs = {}
    for i, name in enumerate(names):
        for r in range(2):
            final = {f"cost_{c}": 1000.0 * (i + 1) * (k + 1) for k, c in enumerate(CATEGORIES)}
            final["cum_profit"] = 5000.0 * (i - 1) + 100 * r
            ts = pd.DataFrame({f"new_{src}": np.full(days, 2.0 + i + k) for k, src in enumerate(JOIN_SOURCES)})
            ts["k_factor"] = np.linspace(0.01, 0.03 + 0.01 * i, days) + 0.001 * r
            ts["k_factor_referral"] = ts["k_factor"] / 2
            runs[(name, r)] = RunRecord(name, r, r, ts, {"final": final}, pd.DataFrame())
    return Ensemble(list(names), [0, 1], runs)


@pytest.mark.parametrize(
    "draw", [compare_plots.plot_costs, compare_plots.plot_growth_sources], ids=lambda d: d.__name__
)
def test_long_chinese_strategy_names_do_not_overprint(draw, tmp_path):
    """Four long Chinese strategy names under the bars are slanted as far as they need: no two tick labels
    overprint, none leaves the figure, and the legend covers none of them."""
    with _strict(), saved_figures() as saved:
        draw(_hand_ensemble(LONG_NAMES), tmp_path / "figure.png")
    (fig,) = saved
    assert label_problems(fig) == []
    assert legend_problems(fig) == []


@pytest.mark.parametrize("name", [n for g, n in FIGURES if g == "compare"])
def test_compare_figure_labels_do_not_overprint(compare_figures, name):
    """No title, axis or tick label of a comparison figure overprints another or leaves the figure."""
    assert label_problems(compare_figures[f"{name}.png"]) == []


def test_the_label_check_finds_overprinted_tick_labels():
    """The check itself: long upright tick labels side by side overprint; the same labels slanted do not."""
    fonts.use()
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(range(4), [1, 2, 3, 4])
    ax.set_xticks(range(4), LONG_NAMES)
    assert any("overprint" in p for p in label_problems(fig))
    compare_plots.strategy_ticks(ax, range(4), LONG_NAMES)
    assert label_problems(fig) == []


def test_the_k_factor_panels_say_they_count_group_buy_joins(tmp_path):
    """``k_factor`` counts referral and group-buy joins (metrics.md): the panels plotting it say so, and do not
    call it a referral rate."""
    ens = _hand_ensemble(["a", "b"])
    with saved_figures() as saved:
        compare_plots.plot_growth_sources(ens, tmp_path / "growth_sources.png")
    left = saved[0].axes[0]
    assert np.allclose(left.lines[0].get_ydata(), ens.series("a", "k_factor").mean(axis=0))
    words = (left.get_title() + " " + left.get_ylabel()).lower()
    assert "group-buy" in words and "referral joins per member" not in words
    fig = dashboard_figures.kfactor_figure(ens.of("a")[0].timeseries, [])
    title = fig.texts[0].get_text().lower()
    assert "group-buy" in title and "referral joins per member" not in title


def test_calibration_of_a_chinese_scenario_lands_in_its_directory(calibration):
    _, results = calibration
    (run,) = (results / CHINESE).iterdir()
    assert run.name.startswith("calibrate-") and (run / "fit.png").is_file()
    assert json.loads((run / "metrics.json").read_text(encoding="utf-8"))["best"]["params"]


def test_without_a_chinese_font_a_warning_says_how_to_install_one(monkeypatch):
    monkeypatch.setattr(fonts, "_found", [])
    monkeypatch.setattr(fonts, "bundled_font", lambda: None)
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ("No Such Chinese Font",))
    with pytest.warns(UserWarning, match=r"no Chinese font found.*pip install -e \.*.*fonts-noto-cjk"):
        assert fonts.cjk_family() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fonts.use()  # warned once only, and the family list is left alone


def test_an_analysis_comparison_of_a_share_labels_its_differences_in_percentage_points(tmp_path):
    """A share's or ROI's difference is a difference of fractions: read in percentage points, as compare writes
    it, not divided by the reference level; other KPIs keep their relative labels."""
    factor = "  operating_model: [centralized, hybrid]\n"
    models = _sweep(tmp_path / "models", "运营模式", factor, "final.members, final.repurchase_rate")

    def labels(kpi: str) -> tuple[list[str], str]:
        fig = experiment_plots.compare(
            models, point_stats(models, [kpi], 0.95), contrasts(models, [kpi], 0.95), kpi, 0.95
        )
        right = fig.axes[1]
        return [t.get_text() for t in right.texts], right.get_xlabel()

    texts, xlabel = labels("final.repurchase_rate")
    assert len(texts) == 1 and texts[0].endswith(" pp") and "in pp" in xlabel, (texts, xlabel)
    texts, xlabel = labels("final.members")
    assert texts[0].endswith("%") and "in pp" not in xlabel
    assert [experiment_plots.in_points(k) for k in ("final.roi", "retention.day_180", "final.k_factor")] == [
        True,
        True,
        False,
    ]

"""Run plots: seven valid PNGs of the expected size, also for tiny and purchase-free runs, without warnings;
dated markers (crises, promotions, competitor entries, rule firings) laid out without overlaps."""

from __future__ import annotations

import warnings

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.text import Text

from sim.config.schema import Scenario
from sim.mechanisms.registry import JOIN_SOURCES as SOURCES
from sim.model import CommunityModel
from sim.observe.health import ALERTS
from sim.plots import (
    DPI,
    FIGSIZE,
    SOURCE_COLORS,
    plot_cohort_retention,
    plot_dau,
    plot_gmv_profit,
    plot_members_by_source,
    plot_operations,
    plot_stage_flow,
    write_run_plots,
)
from sim.plots import markers as pm
from sim.plots import operations as ops_module
from sim.plots import stages as stages_module
from sim.plots.operations import OPS_FIGSIZE, alert_name
from sim.run.runner import run_to_directory
from sim.run.summary import cohort_retention, funnel
from tests.conftest import small

NAMES = [
    "members_by_source.png",
    "dau.png",
    "gmv_profit.png",
    "funnel.png",
    "cohort_retention.png",
    "operations.png",
    "stage_flow.png",
]
SHAPE = (round(FIGSIZE[1] * DPI), round(FIGSIZE[0] * DPI))
SHAPES = {n: SHAPE for n in NAMES} | {"operations.png": (round(OPS_FIGSIZE[1] * DPI), round(OPS_FIGSIZE[0] * DPI))}
EVENTS = [{"kind": "crisis", "day": 10}, {"kind": "promotion", "day": 20}, {"kind": "competitor", "day": 30}]


def _run(days: int, **overrides):
    m = CommunityModel(Scenario(days=days, market={"size": 1500}, acquisition={"initial_members": 60}, **overrides))
    m.run()
    ts = m.timeseries()
    return ts, funnel(m.pop), cohort_retention(m.pop, len(ts))


def _plot_strict(data, out_dir, title="test scenario", **kwargs):
    """write_run_plots with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return write_run_plots(*data, out_dir, title, **kwargs)


def _check_pngs(paths, out_dir):
    assert paths == [out_dir / n for n in NAMES]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(NAMES)
    for p in paths:
        raw = p.read_bytes()
        assert raw[:8] == b"\x89PNG\r\n\x1a\n", p
        assert len(raw) > 15_000, p
        assert b"Software" not in raw, p  # no tool/timestamp metadata
        img = mpimg.imread(p)
        assert img.shape[:2] == SHAPES[p.name], p
        assert float(img[..., :3].std()) > 0.05, f"{p} looks blank"


def test_three_day_run(tmp_path):
    data = _run(3)
    assert len(data[0]) == 3 and len(data[2]) == 1  # one cohort, rolling window longer than the run
    _check_pngs(_plot_strict(data, tmp_path), tmp_path)


def test_one_day_run(tmp_path):
    """The figures with one-day special cases (stacked bars instead of areas, centred day axis)."""
    ts, _, _ = _run(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = [
            plot_members_by_source(ts, "one day", tmp_path / "m.png"),
            plot_gmv_profit(ts, "one day", tmp_path / "g.png"),
            plot_stage_flow(ts, "one day", tmp_path / "s.png"),
        ]
    for p in paths:
        assert mpimg.imread(p).shape[:2] == SHAPE


def test_zero_purchase_run(tmp_path):
    data = _run(20, purchase={"base_prob": 1e-12}, content={"mix": {"interactive": 1.0}})
    ts, fun, _ = data
    assert fun["buyer"] == 0 and fun["repeat_buyer"] == 0 and fun["advocate"] == 0
    assert not ts["gmv"].any()
    _check_pngs(_plot_strict(data, tmp_path), tmp_path)


def test_extension_source_and_empty_cohorts(tmp_path):
    """An unknown join source gets a spare colour; an empty cohort table still plots."""
    ts, _, coh = _run(10)
    ts = ts.assign(new_partner=np.arange(len(ts)) % 3, new_winback=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = plot_members_by_source(ts, "ext", tmp_path / "a.png")
        b = plot_cohort_retention(coh.iloc[0:0], "empty", tmp_path / "b.png")
    for p in (a, b):
        assert mpimg.imread(p).shape[:2] == SHAPE


def test_source_colors_cover_core_sources_and_differ():
    assert set(SOURCES) <= set(SOURCE_COLORS)
    assert len(set(SOURCE_COLORS.values())) == len(SOURCE_COLORS)


@pytest.fixture(scope="module")
def marked_run():
    """A small run with a crisis, a promotion, a competitor entry and the health rules on."""
    m = CommunityModel(small(days=60, events=EVENTS, rules={"enabled": True}))
    m.run()
    ts = m.timeseries()
    return (ts, funnel(m.pop), cohort_retention(m.pop, len(ts))), m.markers


LONG_TITLE = "a rather long scenario title " * 3


@pytest.fixture(scope="module")
def plain_plots(tmp_path_factory, marked_run):
    """The seven plots of the marked run drawn without its markers, under a long title, into a folder that
    does not exist yet; with pyplot's open figures before and after (drawn once, for two tests)."""
    plt = pytest.importorskip("matplotlib.pyplot")
    before = plt.get_fignums()
    out = tmp_path_factory.mktemp("plain") / "nested" / "plots"
    paths = _plot_strict(marked_run[0], out, LONG_TITLE, markers=None)
    return paths, out, before, plt.get_fignums()


def test_seven_pngs_written_and_returned(plain_plots):
    """Also: the output folder is created, a long title fits, and no pyplot figure is left behind."""
    paths, out, before, after = plain_plots
    _check_pngs(paths, out)
    assert after == before


def test_markers_of_every_kind(tmp_path, marked_run, plain_plots):
    data, markers = marked_run
    assert {m["kind"] for m in markers} == {"crisis", "promotion", "competitor", "rule"}
    paths = _plot_strict(data, tmp_path / "marked", LONG_TITLE, markers=markers)
    _check_pngs(paths, tmp_path / "marked")
    plain = plain_plots[0]
    for with_marks, without in zip(paths, plain, strict=True):
        unchanged = with_marks.read_bytes() == without.read_bytes()
        assert unchanged == (with_marks.name in ("funnel.png", "cohort_retention.png")), with_marks  # no time axis


def test_many_rule_markers(tmp_path, marked_run):
    """50 firings of one rule (plus crowded events) still plot, grouped into one legend entry."""
    data, markers = marked_run
    many = [{"day": i, "kind": "rule", "label": "churn_risk_retention_offer"} for i in range(5, 55)]
    crowd = [
        {"day": 10 + i, "kind": ("crisis", "promotion", "competitor")[i % 3], "label": f"event {i}"} for i in range(12)
    ]
    _check_pngs(_plot_strict(data, tmp_path, markers=markers + many + crowd), tmp_path)
    marks = pm.prepare(many, 60)
    assert marks.labels == [] and list(marks.rules) == ["churn_risk_retention_offer"] and marks.lanes == 1
    _, texts = pm.legend_entries(marks)
    assert texts == ["rule fired: churn_risk_retention_offer (50×, days 5–54)"]


def _overlaps(marks):
    """Pairs of labels on one level whose texts overlap, or a stem crossing a lower label's text."""
    bad = []
    for i, a in enumerate(marks.labels):
        for b in marks.labels[i + 1 :]:
            if a.level == b.level and a.lo < b.hi and b.lo < a.hi:
                bad.append((a, b))
            low, high = (a, b) if a.level < b.level else (b, a)
            if a.level != b.level and low.lo < high.day < low.hi:
                bad.append((a, b))
    return bad


def test_marker_labels_do_not_overlap():
    few = [{"day": d, "kind": "promotion", "label": "a rather long promotion name"} for d in (10, 12, 14)]
    marks = pm.prepare(few, 60)
    assert not marks.key and [lab.text for lab in marks.labels] == ["a rather long promotion name"[:25] + "…"] * 3
    assert sorted(lab.level for lab in marks.labels) == [0, 1, 2] and not _overlaps(marks)
    crowded = [{"day": 2 * d, "kind": "crisis", "label": f"crisis number {d}"} for d in range(30)]
    marks = pm.prepare(crowded, 60)
    assert len(marks.key) == 30 and marks.labels[0].text == "1"  # numbered, explained in the legend
    assert pm.legend_entries(marks)[1][0] == "1  crisis: crisis number 0"
    end = pm.prepare([{"day": 59, "kind": "competitor", "label": "rival"}], 60)
    assert end.labels[0].hi <= 59  # written to the left of its stem at the right end


def test_markers_outside_the_run_are_ignored():
    assert pm.prepare(None, 30) is None
    assert pm.prepare([], 30) is None
    assert pm.prepare([{"day": 40, "kind": "crisis", "label": "later"}], 30) is None
    kept = pm.prepare([{"day": 0, "kind": "crisis", "label": "x"}, {"day": 31, "kind": "rule", "label": "r"}], 30)
    assert [lab.day for lab in kept.labels] == [0] and not kept.rules


def test_operations_plot(tmp_path, marked_run):
    """The alert strip names every alert readably; a custom threshold and no markers also plot."""
    (ts, _, _), markers = marked_run
    assert all(not alert_name(a).startswith("alert") and "_" not in alert_name(a) for a in ALERTS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = plot_operations(ts, "ops", tmp_path / "ops.png", markers, negative_threshold=0.1)
        q = plot_operations(ts.iloc[:1], "one day", tmp_path / "one.png")
    for path in (p, q):
        assert mpimg.imread(path).shape[:2] == SHAPES["operations.png"]


def test_run_directory_has_marked_plots(tmp_path):
    """The runner passes the model's markers: operations.png is written and listed in the manifest."""
    result = run_to_directory(small(days=40, events=EVENTS[:1]), tmp_path / "run")
    assert any(m["kind"] == "crisis" for m in result.model.markers)
    manifest = (tmp_path / "run" / "manifest.json").read_text()
    assert "plots/operations.png" in manifest
    assert (tmp_path / "run" / "plots" / "operations.png").is_file()


TIME_FIGURES = ("members_by_source.png", "dau.png", "gmv_profit.png", "operations.png", "stage_flow.png")
TIME_PLOTS = (plot_members_by_source, plot_dau, plot_gmv_profit, plot_operations, plot_stage_flow)


def _saved_figures(monkeypatch) -> dict:
    """Record every figure the plot functions save, by file name."""
    import sim.plots as plots

    figures, save = {}, plots._save

    def keep(fig, path):
        figures[path.name] = fig
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    monkeypatch.setattr(ops_module, "_save", keep)
    monkeypatch.setattr(stages_module, "_save", keep)
    return figures


def _decorations(ax, renderer) -> list:
    """Boxes of what is drawn around a panel's frame: tick and axis labels, titles, legend."""
    boxes = [axis.get_tightbbox(renderer) for axis in (ax.xaxis, ax.yaxis) if ax.axison]
    titles = [c for c in ax.get_children() if isinstance(c, Text) and c not in ax.texts and c.get_text()]
    legend = ax.get_legend()
    boxes += [a.get_window_extent(renderer) for a in titles + ([legend] if legend else [])]
    return [b for b in boxes if b is not None and b.width > 0 and b.height > 0]


def _overlap(a, b, tol=0.5) -> bool:
    return a.x0 + tol < b.x1 and b.x0 + tol < a.x1 and a.y0 + tol < b.y1 and b.y0 + tol < a.y1


def _check_layout(fig, name):
    """Nothing drawn outside the figure; panels share their left and right edges; no panel's labels,
    titles or legend overlap another panel or its labels; the title and the figure legend overlap nothing."""
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    axes = fig.axes
    panels = [ax for ax in axes if ax.axison]
    assert len({round(ax.bbox.x0, 3) for ax in axes}) == 1, f"{name}: left edges differ"
    assert len({round(ax.bbox.x1, 3) for ax in axes}) == 1, f"{name}: right edges differ"
    tight = {ax: ax.get_tightbbox(renderer) for ax in axes}
    free = [t.get_window_extent(renderer) for t in fig.texts if t.get_text()]  # the title
    free += [leg.get_window_extent(renderer) for leg in fig.legends]
    for box in [*tight.values(), *free]:
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, f"{name}: {box} leaves the figure sideways"
        assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, f"{name}: {box} leaves the figure"
    decor = {ax: _decorations(ax, renderer) if ax in panels else [tight[ax]] for ax in axes}  # strip: all of it
    for a in axes:
        for b in axes:
            if b is not a:
                theirs = [b.bbox, *decor[b]]
                assert not any(_overlap(m, t) for m in decor[a] for t in theirs), f"{name}: {a} and {b} collide"
        for box in free:
            assert not _overlap(box, tight[a]), f"{name}: title or legend {box} covers a panel"


@pytest.mark.parametrize("case", ["plain", "marked", "crowded"])
def test_time_figures_fit_without_clipping(tmp_path, monkeypatch, marked_run, case):
    """The time-axis figures, placed by measured margins: every label inside the figure, none over
    another panel; also with a two-line title and a long, crowded marker legend."""
    data, markers = marked_run
    if case == "plain":
        markers, title = None, "short"
    elif case == "marked":
        title = "a scenario name long enough to put the title on two lines " * 2
    else:
        kinds = ("crisis", "promotion", "competitor")
        crowd = [{"day": 3 * i, "kind": kinds[i % 3], "label": f"e{i}"} for i in range(20)]
        rules = [{"day": 7 * i + 1, "kind": "rule", "label": f"rule_number_{i}"} for i in range(8)]
        markers, title = markers + crowd + rules, "crowded"
    figures = _saved_figures(monkeypatch)
    for plot, name in zip(TIME_PLOTS, TIME_FIGURES, strict=True):
        plot(data[0], title, tmp_path / name, markers)
        _check_layout(figures[name], name)

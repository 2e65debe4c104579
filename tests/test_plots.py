"""Run plots: five valid PNGs of the expected size, also for tiny and purchase-free runs, without warnings."""

from __future__ import annotations

import warnings

import matplotlib.image as mpimg
import numpy as np
import pytest

from sim.config.schema import Scenario
from sim.metrics import SOURCES
from sim.model import CommunityModel
from sim.plots import (
    DPI,
    FIGSIZE,
    SOURCE_COLORS,
    plot_cohort_retention,
    plot_gmv_profit,
    plot_members_by_source,
    write_run_plots,
)
from sim.summary import cohort_retention, funnel

NAMES = ["members_by_source.png", "dau.png", "gmv_profit.png", "funnel.png", "cohort_retention.png"]
SHAPE = (round(FIGSIZE[1] * DPI), round(FIGSIZE[0] * DPI))


def _run(days: int, **overrides):
    m = CommunityModel(Scenario(days=days, market={"size": 1500}, acquisition={"initial_members": 60}, **overrides))
    m.run()
    ts = m.timeseries()
    return ts, funnel(m.pop), cohort_retention(m.pop, len(ts))


def _plot_strict(data, out_dir, title="test scenario"):
    """write_run_plots with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return write_run_plots(*data, out_dir, title)


def _check_pngs(paths, out_dir):
    assert paths == [out_dir / n for n in NAMES]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(NAMES)
    for p in paths:
        raw = p.read_bytes()
        assert raw[:8] == b"\x89PNG\r\n\x1a\n", p
        assert len(raw) > 15_000, p
        assert b"Software" not in raw, p  # no tool/timestamp metadata
        img = mpimg.imread(p)
        assert img.shape[:2] == SHAPE, p
        assert float(img[..., :3].std()) > 0.05, f"{p} looks blank"


def test_five_pngs_written_and_returned(tmp_path):
    """Also: the output folder is created, a long title fits, and no pyplot figure is left behind."""
    plt = pytest.importorskip("matplotlib.pyplot")
    before = plt.get_fignums()
    out = tmp_path / "nested" / "plots"
    paths = _plot_strict(_run(75), out, "a rather long scenario title " * 3)
    _check_pngs(paths, out)
    assert plt.get_fignums() == before


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

"""The dashboard: scenarios built from controls, export, charts, the CLI, and the page in a real browser."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont

from sim.cli import main
from sim.config.errors import ScenarioError
from sim.config.loader import load_scenario, scenario_to_yaml
from sim.dashboard import figures, live
from sim.dashboard.controls import (
    FOCUS_CHOICES,
    build_scenario,
    check_small,
    control_values,
    load_base,
    shrink,
    widgets,
    with_promotional_share,
)
from sim.dashboard.export import default_path, export_scenario, scenario_yaml
from sim.dashboard.model import ControlPanel, DashboardModel
from sim.run.runner import simulate
from tests.conftest import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
OTHERS = ("educational", "review", "entertainment", "interactive", "livestream")


@pytest.fixture(scope="module")
def base() -> dict:
    return load_base()


def test_default_base_is_the_baseline_community_in_a_smaller_market(base):
    baseline = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    assert base["market"]["size"] == 20_000  # the dashboard's largest market
    assert base["acquisition"]["initial_members"] == baseline.acquisition.initial_members  # the community itself
    assert base["acquisition"]["paid"]["daily_budget"] == baseline.acquisition.paid.daily_budget
    assert base["koc"]["initial_count"] == baseline.koc.initial_count
    assert build_scenario(base, control_values(base)).model_dump(mode="json") == base  # untouched controls: same


def test_shrink_scales_a_large_community_down_with_its_budget():
    data = load_scenario(ROOT / "scenarios" / "baseline.yaml").model_dump(mode="json")
    data["acquisition"]["initial_members"], data["koc"]["initial_count"] = 4000, 40
    small = shrink(data)
    assert small["market"]["size"] == 20_000 and small["acquisition"]["initial_members"] == 1000
    budget = data["acquisition"]["paid"]["daily_budget"]
    assert small["acquisition"]["paid"]["daily_budget"] == pytest.approx(budget / 4)
    assert small["koc"]["initial_count"] == 10


def test_default_community_is_not_a_guaranteed_loss(base):
    """A workshop's first run should not teach that community operations never pay (one year, two seeds:
    the second runs only when the first made a loss)."""
    profits = []
    for seed in (1, 2):
        scenario = build_scenario(base, {**control_values(base), "seed": seed}).model_copy(update={"days": 365})
        profits.append(float(simulate(scenario, record_events=False).timeseries["profit"].sum()))
        if profits[-1] > 0:
            break
    assert max(profits) > 0, profits


@pytest.mark.parametrize("share", [0.0, 0.05, 0.4, 0.77, 1.0])
def test_promotional_share_rescales_the_other_shares(base, share):
    mix = build_scenario(base, {"promotional_share": share}).content.mix
    assert abs(sum(mix.values()) - 1.0) < 1e-9 and mix["promotional"] == pytest.approx(share)
    old = base["content"]["mix"]
    if share < 1:
        ratios = [mix[t] / old[t] for t in OTHERS]
        assert max(ratios) - min(ratios) < 1e-4  # in proportion


def test_promotional_share_from_an_all_promotional_mix_splits_evenly():
    mix = with_promotional_share({"promotional": 1.0}, 0.5)
    assert [mix[t] for t in OTHERS] == [0.1] * 5 and abs(sum(mix.values()) - 1) < 1e-12


@pytest.mark.parametrize("focus", FOCUS_CHOICES)
def test_content_mix_choices_keep_the_promotional_share(base, focus):
    mix = build_scenario(base, {"content_focus": focus, "promotional_share": 0.3}).content.mix
    assert abs(sum(mix.values()) - 1.0) < 1e-9 and mix["promotional"] == pytest.approx(0.3)
    if focus.endswith("-led"):
        assert mix[focus.removesuffix("-led")] == pytest.approx(0.35)


def test_preset_is_applied_and_moved_controls_win(base):
    hybrid = build_scenario(base, {"operating_model": "hybrid"})
    assert hybrid.operating_model == "hybrid"
    assert hybrid.operators.headcount == 4 and hybrid.koc.incubation.enabled and hybrid.koc.commission_rate == 0.05
    mine = build_scenario(base, {"operating_model": "hybrid", "operators": 7, "posts_per_day": 9.5})
    assert mine.operators.headcount == 7 and mine.content.posts_per_day == 9.5 and mine.koc.incubation.enabled


def test_simple_controls_reach_their_keys(base):
    s = build_scenario(
        base,
        {
            "reward_inviter": 20,
            "reward_invitee": 10,
            "points": True,
            "coupons": True,
            "coupon_target": "lapsed",
            "coupon_value": 25.0,
            "koc_incubation": True,
            "seed": " 7 ",
        },
    )
    assert (s.referral.reward_inviter, s.referral.reward_invitee, s.seed) == (20, 10, 7)
    assert s.incentives.points.enabled and s.incentives.coupons.enabled and s.koc.incubation.enabled
    assert (s.incentives.coupons.target, s.incentives.coupons.value) == ("lapsed", 25.0)


@pytest.mark.parametrize(
    ("controls", "key"),
    [
        ({"seed": "forty-two"}, "seed: expected an integer"),
        ({"operating_model": "anarchy"}, "operating_model: must be one of"),
        ({"promotional_share": 1.5}, "content.mix"),
        ({"content_focus": "memes-led"}, "unknown content mix"),
        ({"posts": 3}, "unknown control"),
    ],
)
def test_bad_input_is_reported_with_the_loaders_message(base, controls, key):
    with pytest.raises(ScenarioError, match=key):
        build_scenario(base, controls)


def test_rejected_settings_show_an_error_and_the_model_stands_still():
    model = DashboardModel(seed="x")
    assert model.error and "seed" in model.error and not model.running
    model.step()
    assert model.days_done == 0


def test_model_params_fit_the_model_for_solaraviz(base):
    viz = pytest.importorskip("mesa.visualization.solara_viz")
    app = pytest.importorskip("sim.dashboard.app")
    panel = ControlPanel(control_values(base))
    params = app.model_params("", panel)
    viz._check_model_params(DashboardModel.__init__, params)  # what SolaraViz checks before Reset
    user, fixed = viz.split_model_params(params)
    assert set(fixed) == {"base", "panel"} and not user  # the controls are the dashboard's own
    specs = widgets(base)
    assert set(specs) == set(control_values(base)) and all(p["value"] == panel.values[k] for k, p in specs.items())
    assert [k for k, p in specs.items() if "applies on Reset" in p["label"]] == ["operating_model", "seed"]
    model = DashboardModel(**params)
    if hasattr(viz, "_get_scenario_defaults"):  # Mesa 3.5: the checks and Reset read model.scenario
        viz._check_model_params(model, params)
        kwargs = viz._build_model_init_kwargs(
            model, params, add_scenario_when_empty=True, require_model_accepts_scenario=True
        )
        assert kwargs == params and type(model)(**kwargs).scenario == model.scenario


def test_model_runs_to_the_scenarios_last_day(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(
        "name: tiny\ndays: 4\nmarket: {size: 400}\nacquisition: {initial_members: 30}\nkoc: {initial_count: 3}\n"
    )
    model = DashboardModel(base=str(path), posts_per_day=9.0)
    assert model.scenario.content.posts_per_day == 9.0 and model.network_view.nodes.size == 400
    for _ in range(6):
        model.step()
    assert model.days_done == 4 and not model.running and len(model.frame()) == 4


def test_the_page_carries_the_glyphs_of_the_scenarios_chinese_names(tmp_path):
    from sim.dashboard.views import page_font
    from sim.plots.fonts import bundled_font

    if bundled_font() is None:
        pytest.skip("the bundled Chinese font is not installed")
    body = "days: 4\nmarket: {size: 400}\nacquisition: {initial_members: 30}\nkoc: {initial_count: 3}\n"
    (tmp_path / "zh.yaml").write_text("name: 双十一社群\n" + body, encoding="utf-8")
    (tmp_path / "en.yaml").write_text("name: plain\n" + body, encoding="utf-8")
    face = page_font(DashboardModel(base=str(tmp_path / "zh.yaml")))
    assert face.startswith('@font-face{font-family:"community-sim CJK"')
    data = base64.b64decode(face.split("base64,")[1].split(")")[0])
    assert {ord(c) for c in "双十一社群"} <= set(TTFont(io.BytesIO(data)).getBestCmap())
    assert page_font(DashboardModel(base=str(tmp_path / "en.yaml"))) == ""


def test_a_marker_label_reads_over_the_data_it_crosses():
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    area = ax.fill_between([0, 10], [0, 0], [700, 700])
    figures.mark_events(ax, [{"day": 0, "kind": "rule", "label": "churn_risk_retention_offer"}])
    (label,) = ax.texts
    box = label.get_bbox_patch()
    assert box is not None and box.get_facecolor()[:3] == (1.0, 1.0, 1.0) and box.get_alpha() >= 0.8
    assert label.get_zorder() > area.get_zorder()


# --- live controls --------------------------------------------------------------------------


def _stepped(model: DashboardModel, days: int) -> DashboardModel:
    for _ in range(days):
        model.step()
    return model


@pytest.fixture(scope="module")
def unchanged() -> DashboardModel:
    """The default community, 60 days, no control moved."""
    return _stepped(DashboardModel(), 60)


@pytest.mark.parametrize(
    ("control", "value", "kpi"),
    [("posts_per_day", 20.0, "pgc_posts"), ("points", True, "points_earned"), ("operators", 4, "operators")],
)
def test_a_live_control_changes_the_run_from_the_next_day_only(unchanged, control, value, kpi):
    """Moved after day 30 without Reset: the same first 30 days, then more of the KPI the control drives."""
    model = _stepped(DashboardModel(), 30)
    made = model.apply_controls({**model.controls, control: value})
    assert [(c["day"], c["control"], c["new"]) for c in made] == [(30, control, value)]
    _stepped(model, 30)
    before, after = unchanged.frame(), model.frame()
    assert after.iloc[:30].equals(before.iloc[:30])
    assert after[kpi].iloc[30:].sum() > before[kpi].iloc[30:].sum()
    assert not after.iloc[30:].equals(before.iloc[30:])
    assert model.scenario == build_scenario(load_base(), {control: value})
    assert {"day": 30, "kind": "setting", "label": made[0]["label"]} in model.markers


def test_the_same_live_changes_on_the_same_days_give_the_same_run():
    runs = []
    for _ in range(2):
        model = _stepped(DashboardModel(), 8)
        model.apply_controls({**model.controls, "coupons": True, "reward_inviter": 30})
        runs.append(_stepped(model, 8).frame())
    assert runs[0].equals(runs[1])


def test_live_mix_and_team_reach_the_models_own_copies():
    model = _stepped(DashboardModel(), 3)
    model.apply_controls({**model.controls, "content_focus": "educational-led", "promotional_share": 0.4})
    mix = model.scenario.content.mix
    assert mix["educational"] == pytest.approx(0.3) and mix["promotional"] == pytest.approx(0.4)
    assert model.policy.mix == pytest.approx([mix[t] for t in live.CONTENT_TYPES])  # what operators publish from
    floor = model.policy.floor
    model.apply_controls({**model.controls, "operators": 5})
    assert model.policy.floor == floor + 5 and len(model.operators) >= 5 and model.policy.headcount >= 5
    model.apply_controls({**model.controls, "operators": 0})
    assert model.policy.floor == floor and len(model.operators) == int(np.ceil(model.policy.headcount - 1e-9))


def test_points_switched_on_again_start_from_empty_balances():
    model = _stepped(DashboardModel(points=True), 20)
    assert model.pop.points.sum() > 0
    model.apply_controls({**model.controls, "points": False})
    _stepped(model, 2)
    model.apply_controls({**model.controls, "points": True})
    assert model.pop.points.sum() == 0 and (model.pop.points_last_earn == -1).all()
    assert (model.pop.last_redeem == -1).all()


def test_controls_that_need_a_reset_are_pending_not_applied():
    panel = ControlPanel({"seed": "7", "posts_per_day": 9.0})
    model = DashboardModel(panel=panel)
    assert model.scenario.seed == 7 and model.scenario.content.posts_per_day == 9.0 and not model.pending(panel.values)
    panel.values.update(seed="8", operating_model="hybrid", posts_per_day=12.0)
    assert model.apply_controls(panel.values)[0]["control"] == "posts_per_day"
    assert model.scenario.seed == 7 and model.scenario.operating_model is None
    assert model.pending(panel.values) == ["operating_model", "seed"]
    again = DashboardModel(panel=panel)  # Reset: SolaraViz builds the model again with the same panel
    assert (again.scenario.seed, again.scenario.operating_model) == (8, "hybrid") and not again.pending(panel.values)


def test_a_structural_change_is_refused_on_a_running_model(base):
    model = DashboardModel()
    bigger = build_scenario({**base, "market": {**base["market"], "size": 10_000}}, {})
    with pytest.raises(live.NeedsReset, match="market.size"):
        live.apply(model, bigger)
    assert model.scenario.market.size == 20_000


def test_export_names_the_changes_made_during_the_run(tmp_path):
    model = _stepped(DashboardModel(), 2)
    model.apply_controls({**model.controls, "reward_inviter": 20})
    text = scenario_yaml(model.scenario, live_changes=model.live_changes)
    assert "day 2: inviter reward ¥0 → ¥20" in text and "not in this file" in text
    assert "changed" not in scenario_yaml(model.scenario)


def test_export_round_trip(base, tmp_path):
    scenario = build_scenario(base, {"operating_model": "decentralized", "promotional_share": 0.3, "points": True})
    path = export_scenario(scenario, tmp_path / "sub" / "mine.yaml")
    text = path.read_text()
    assert "extends" not in text and text.startswith("# Exported from the community-sim dashboard")
    assert load_scenario(path) == scenario
    assert len(text.splitlines()) < len(scenario_to_yaml(scenario).splitlines())  # compact
    assert not list(path.parent.glob(".*partial"))


def test_export_checks_the_file_name(base, tmp_path):
    scenario = build_scenario(base, {})
    with pytest.raises(ValueError, match=r"\.yaml"):
        export_scenario(scenario, tmp_path / "mine.txt")
    assert default_path(scenario).parts[:2] == ("results", "dashboard")
    assert default_path(scenario).name.startswith("baseline_small-")


def test_charts_and_network_draw_markers_and_states():
    model = DashboardModel(koc_incubation=True)
    for _ in range(12):
        model.step()
    model.markers.append({"day": 5, "kind": "crisis", "label": "recall"})
    for draw in figures.CHARTS:
        fig = draw(model.frame(), model.markers)
        ax = fig.axes[0]
        assert ax.get_xlabel() == "day" and ax.get_ylabel()
        assert any("crisis: recall" in t.get_text() for t in ax.texts)
    empty = figures.members_figure(model.frame().iloc[:0], [])
    assert "press Step" in empty.axes[0].texts[0].get_text()
    fig = model.network_view.figure(model)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(label.startswith("member (") for label in labels) and "KOC" in labels
    pos = model.network_view.pos
    assert pos.shape == (1500, 2) and np.all((pos >= 0) & (pos <= 1))
    again = DashboardModel(posts_per_day=10.0)  # other settings, same network and seed: same picture
    assert np.array_equal(again.network_view.pos, pos)


def test_thin_markers_drops_daily_repeats():
    markers = [{"day": d, "kind": "rule", "label": "answer backlog"} for d in range(10)]
    assert [m["day"] for m in figures.thin_markers(markers)] == [0]


def test_cli_refuses_a_large_market(capsys):
    assert main(["dashboard", str(ROOT / "scenarios" / "baseline.yaml")]) == 2
    assert "too many for the dashboard" in capsys.readouterr().err
    with pytest.raises(ScenarioError):
        check_small({"market": {"size": 20_001}}, "x.yaml")


def test_a_port_in_use_is_a_clear_error_before_the_server_starts(capsys, monkeypatch):
    started = []
    monkeypatch.setattr(os, "execve", lambda *a: started.append(a))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert f"error: cannot serve the dashboard on 127.0.0.1 port {port}: the port is in use" in err
    assert "open http" not in out and not started


def test_an_empty_host_is_refused(capsys, monkeypatch):
    started = []
    monkeypatch.setattr(os, "execve", lambda *a: started.append(a))
    assert main(["dashboard", "--host", "", "--port", "0"]) == 2
    assert "--host is empty" in capsys.readouterr().err and not started


def test_a_host_beyond_loopback_serves_with_a_warning(capsys, monkeypatch):
    started = []
    monkeypatch.setattr(os, "execve", lambda *a: started.append(a))
    assert main(["dashboard", "--host", "0.0.0.0", "--port", "0"]) == 0
    err = capsys.readouterr().err
    assert "warning: --host 0.0.0.0 serves the dashboard beyond this machine" in err and started
    assert main(["dashboard", "--host", "localhost", "--port", "0"]) == 0
    assert "warning" not in capsys.readouterr().err


# --- the page in a real browser ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the dashboard exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.3)
    raise TimeoutError(f"the dashboard did not answer at {url} within {timeout:.0f} s")


@contextlib.contextmanager
def dashboard_server(cwd: Path):
    """``community-sim dashboard`` on a free loopback port, always stopped afterwards."""
    port = _free_port()
    log = (cwd / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "dashboard", "--port", str(port)],
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/", proc, timeout=60)
        yield f"http://127.0.0.1:{port}/"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def test_dashboard_in_a_browser(tmp_path, base):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the dev extra)")
    pytest.importorskip("solara", reason="solara is not installed (the dashboard extra)")
    exported = tmp_path / "exported.yaml"
    with dashboard_server(tmp_path) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1700})
            page.goto(url)
            headline = page.locator(".kpi-headline")
            sync_api.expect(headline).to_contain_text("Day 0 of 365 · members 1,000", timeout=60_000)
            charts = page.locator(".vue-grid-item img")
            sync_api.expect(charts).to_have_count(7, timeout=30_000)
            before = [charts.nth(i).get_attribute("src") for i in range(7)]

            sync_api.expect(page.get_by_text("Use Threads")).to_be_hidden()  # Mesa's; threads only skip charts
            sync_api.expect(page.get_by_text("Model Parameters", exact=True)).to_be_hidden()  # empty: ours instead
            step = page.get_by_role("button", name="Step", exact=True)
            for day in (1, 2, 3):
                step.click()
                sync_api.expect(headline).to_contain_text(f"Day {day} of 365", timeout=30_000)

            # Move a strategy control (PageUp: 6 -> 11 brand posts a day): it acts on the running model.
            slider = page.get_by_role("slider", name="Brand posts per day")
            slider.press("PageUp")
            sync_api.expect(slider).to_have_attribute("aria-valuenow", "11")
            running = page.get_by_text("Running:")
            sync_api.expect(running).to_contain_text("11 posts/day", timeout=20_000)
            sync_api.expect(page.get_by_text("Events and rule firings")).to_contain_text(
                "day 3: setting brand posts/day 6 → 11", timeout=20_000
            )
            sync_api.expect(headline).to_contain_text("Day 3 of 365")  # no Reset: the same community goes on
            for day in (4, 5):
                step.click()
                sync_api.expect(headline).to_contain_text(f"Day {day} of 365", timeout=30_000)
            sync_api.expect(charts.nth(2)).not_to_have_attribute("src", before[2], timeout=20_000)
            after = [charts.nth(i).get_attribute("src") for i in range(7)]
            assert sum(a != b for a, b in zip(after, before, strict=True)) >= 6  # the KPI views redrew

            # Export the running scenario: the settings in force, the change made on day 3 in the header.
            field = page.get_by_label("File")
            field.fill("exported.yaml")  # relative to the server's directory, tmp_path
            field.press("Enter")
            export = page.get_by_role("button", name="Export scenario", exact=True)
            for attempt in range(3):
                export.click()
                try:
                    sync_api.expect(page.get_by_text("Saved ")).to_be_visible(timeout=20_000)
                    break
                except AssertionError:
                    # a click that lands while a busy machine re-renders the sidebar is lost: nothing was
                    # written then, and clicking again is what a user does; a file written without the
                    # message is a failure
                    if exported.exists() or attempt == 2:
                        raise

            # A control that rebuilds the community waits for Reset, and says so.
            seed = page.get_by_label("Seed (applies on Reset)")
            seed.fill("7")
            seed.press("Enter")
            sync_api.expect(page.get_by_text("Pending: Seed")).to_be_visible(timeout=20_000)
            sync_api.expect(running).to_contain_text("seed 42")
            page.get_by_role("button", name="Reset", exact=True).click()
            sync_api.expect(running).to_contain_text("seed 7", timeout=20_000)
            sync_api.expect(running).to_contain_text("11 posts/day")  # the moved controls survive Reset
            sync_api.expect(headline).to_contain_text("Day 0 of 365")
            sync_api.expect(page.get_by_text("Pending: Seed")).to_be_hidden()
            page.wait_for_timeout(500)
            page.screenshot(path=tmp_path / "dashboard.png")
            if os.environ.get("UPDATE_DOCS_SCREENSHOT"):  # docs/img/dashboard.png: about two months in
                page.get_by_role("slider", name="Render Interval (steps)").press("PageUp")  # 21 days a click
                for day in (21, 42):
                    step.click()
                    sync_api.expect(headline).to_contain_text(f"Day {day} of 365", timeout=60_000)
                page.get_by_text("Points program", exact=True).click()  # a live change, dated on the charts
                sync_api.expect(running).to_contain_text("points on", timeout=20_000)
                step.click()
                sync_api.expect(headline).to_contain_text("Day 63 of 365", timeout=60_000)
                page.wait_for_timeout(1000)
                page.screenshot(path=ROOT / "docs" / "img" / "dashboard.png")
        finally:
            browser.close()
    assert (tmp_path / "dashboard.png").stat().st_size > 50_000
    assert load_scenario(exported) == build_scenario(base, {"posts_per_day": 11.0})
    assert "#   day 3: brand posts/day 6 → 11" in exported.read_text()
    log = (tmp_path / "server.log").read_text()
    assert "samesite" not in log and "Traceback" not in log, log

"""Solara components of the dashboard page: the overview, the network, the KPI charts and the export card.

Each view is a function of the model, as SolaraViz's ``components`` expects; they
re-render after every step through Mesa's ``update_counter``.
"""

from __future__ import annotations

from html import escape

import solara
from mesa.visualization.utils import update_counter

from sim.dashboard import figures
from sim.dashboard.controls import LIVE, ON_RESET_NOTE, widgets
from sim.dashboard.export import default_path, export_scenario
from sim.dashboard.figures import thin_markers
from sim.dashboard.model import DashboardModel
from sim.run.html import CSS_CJK_FAMILIES, cjk_font_face

#: PNG with light compression: encoding dominates otherwise, and the images only travel over loopback.
FAST_PNG = {"pil_kwargs": {"compress_level": 1}}
TILE = (
    "display:inline-block;min-width:92px;margin:0 6px 6px 0;padding:4px 8px;border-radius:6px;"
    "background:rgba(0,114,178,0.07);vertical-align:top"
)
#: Page styles: Chinese fonts after Vuetify's Roboto, the headline, slider values shown on the handles,
#: images kept inside their grid cells; hidden: Mesa's single "Page 0" tab, its "Use Threads" checkbox (the
#: only checkbox of its first sidebar card; threads would only let the charts skip days) and its "Model
#: Parameters" card, empty here (the controls are the dashboard's own "Strategy" card).
CSS = (
    """
.v-application { font-family: Roboto, """
    + CSS_CJK_FAMILIES
    + """, sans-serif !important; }
.kpi-headline { font-size: 1.15rem; font-weight: 600; display: block; margin-bottom: 8px; }
.kpi-small { font-size: 0.85rem; color: #555; display: block; margin-top: 4px; }
.vue-grid-item img.widget-image { width: auto !important; height: auto !important; max-width: 100%;
  max-height: 380px; display: block; margin: 0 auto; }
.v-navigation-drawer .v-alert, .v-navigation-drawer .kpi-small { overflow-wrap: anywhere; }
.v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label { top: 0 !important; bottom: auto !important; transform: translate(-50%, -50%) !important;
  width: auto !important; min-width: 26px; height: 18px !important; padding: 0 5px; border-radius: 9px !important;
  font-size: 11px; }
.v-slider__thumb-label > * { transform: none !important; }
.v-tabs:has(+ .v-window) { display: none; }
.v-navigation-drawer .v-sheet.d-flex > .v-card:first-child > .v-card__text > .v-input--checkbox { display: none; }
.v-navigation-drawer .v-sheet.d-flex > .v-card:nth-child(2):not(:has(.v-input)) { display: none; }
"""
)


def _money(value: float) -> str:
    return f"{'−' if value < 0 else ''}¥{abs(value):,.0f}"


def _tile(label: str, value: str) -> str:
    return (
        f'<div style="{TILE}"><div style="font-size:0.75rem;color:#555">{escape(label)}</div>'
        f'<div style="font-size:1.05rem;font-weight:600">{escape(value)}</div></div>'
    )


def headline(model: DashboardModel) -> str:
    """The line the page (and the browser test) reads: day, members and DAU."""
    t = model.today
    return f"Day {model.days_done} of {model.scenario.days} · members {int(t.get('members', model.n_members)):,}" + (
        f" · DAU {int(t['dau']):,}" if t else ""
    )


def tiles_html(model: DashboardModel) -> str:
    """Today's KPIs as small tiles."""
    t = model.today
    if not t:
        return '<div class="kpi-small">No day simulated yet: press Step or ▶ in Controls.</div>'
    values = [
        ("members", f"{t['members']:,.0f}"),
        ("joined today", f"{t['new_members']:,.0f}"),
        ("DAU", f"{t['dau']:,.0f}"),
        ("GMV today", _money(t["gmv"])),
        ("profit to date", _money(t["cum_profit"])),
        ("satisfaction", f"{t['satisfaction_mean']:.2f}"),
        ("negative", f"{t['negative_share']:.1%}"),
        ("K-factor", f"{t['k_factor']:.3f}"),
    ]
    return "".join(_tile(label, value) for label, value in values)


def settings_line(model: DashboardModel) -> str:
    """The settings of the running scenario, so the effect of a preset is visible."""
    s = model.scenario
    inc = s.incentives
    coupons = f"on ({inc.coupons.target}, ¥{inc.coupons.value:g})" if inc.coupons.enabled else "off"
    return (
        f"{s.name} · preset {s.operating_model or 'none'} · {s.market.size:,} people · "
        f"{s.content.posts_per_day:g} posts/day, {s.content.mix.get('promotional', 0):.0%} promotional · "
        f"referral ¥{s.referral.reward_inviter:g} + ¥{s.referral.reward_invitee:g} · "
        f"points {'on' if inc.points.enabled else 'off'} · coupons {coupons} · "
        f"{s.operators.headcount} operators · KOC incubation {'on' if s.koc.incubation.enabled else 'off'} · "
        f"seed {s.seed}"
    )


def page_font(model: DashboardModel) -> str:
    """The ``@font-face`` of the Chinese characters the page may show: the scenario's names, description,
    events and rules, and today's markers (the glyphs of the bundled font, so they show without a Chinese
    font; built once per set of characters)."""
    labels = " ".join(str(m.get("label", "")) for m in model.markers)
    return cjk_font_face(model.scenario.model_dump_json() + labels)


@solara.component
def Overview(model: DashboardModel):
    """Headline, KPI tiles, the running settings and the latest events."""
    update_counter.get()
    solara.Style(CSS + page_font(model))
    with solara.Card("Community today", style={"height": "100%", "overflow": "auto"}):
        if model.error:
            solara.Error(f"Settings rejected, nothing simulated — {model.error}. Change the control and press Reset.")
        solara.Text(headline(model), classes=["kpi-headline"])
        solara.HTML(tag="div", unsafe_innerHTML=tiles_html(model))
        solara.Text(f"Running: {settings_line(model)}", classes=["kpi-small"])
        shown = thin_markers(model.markers)[-4:]
        events = "; ".join(f"day {m['day']}: {m['kind']} {m['label']}" for m in shown) or "none yet"
        solara.Text(f"Events and rule firings: {events}", classes=["kpi-small"])
        solara.Text(
            "Strategy controls act from the next day on; those marked “applies on Reset” rebuild the community.",
            classes=["kpi-small"],
        )
    StrategyControls(model)
    ExportCard(model)


def _widget(spec: dict, value, on_value) -> None:
    """One control, as SolaraViz draws its ``model_params`` widgets."""
    kind, label = spec["type"], spec["label"]
    if kind in ("SliderInt", "SliderFloat"):
        slider = solara.SliderInt if kind == "SliderInt" else solara.SliderFloat
        slider(label, value=value, on_value=on_value, min=spec["min"], max=spec["max"], step=spec["step"])
    elif kind == "Select":
        solara.Select(label, value=value, values=spec["values"], on_value=on_value)
    elif kind == "Checkbox":
        solara.Checkbox(label=label, value=value, on_value=on_value)
    else:
        solara.InputText(label, value=value, on_value=on_value)


@solara.component
def StrategyControls(model: DashboardModel):
    """The strategy's controls (shown in the sidebar): live ones act on the running model, the others on Reset."""
    update_counter.get()
    specs = solara.use_memo(lambda: widgets(model.base_data), [])
    _, set_moves = solara.use_state(0)
    panel = model.panel
    if panel is None:
        return

    def change(name: str, value) -> None:
        panel.values[name] = value
        if name in LIVE and model.apply_controls(panel.values):
            update_counter.value += 1  # the views show the new settings and the dated change now
        set_moves(lambda n: n + 1)

    with solara.Sidebar(), solara.Card("Strategy"):
        solara.Text(
            "Controls act on the running community from the next day; "
            f"those marked “{ON_RESET_NOTE.strip(' ()')}” wait for Reset.",
            classes=["kpi-small"],
            style={"margin-bottom": "14px"},
        )
        for name, spec in specs.items():
            _widget(spec, panel.values.get(name, spec["value"]), lambda v, name=name: change(name, v))
        if pending := model.pending(panel.values):
            moved = ", ".join(specs[k]["label"].removesuffix(ON_RESET_NOTE) for k in pending)
            solara.Warning(f"Pending: {moved} — press Reset to rebuild the community with it.")
        if model.live_error:
            solara.Error(f"Not applied — {model.live_error}")


@solara.component
def ExportCard(model: DashboardModel):
    """Export the running scenario to a YAML file (shown in the sidebar)."""
    path, set_path = solara.use_state(str(default_path(model.scenario)))
    message, set_message = solara.use_state(("", "info"))

    def export():
        try:
            written = export_scenario(model.scenario, path, model.live_changes)
        except (OSError, ValueError) as exc:
            set_message((f"Not saved: {exc}", "error"))
            return
        set_message((f"Saved {written} — run it with: community-sim run {written}", "success"))
        set_path(str(default_path(model.scenario)))

    with solara.Sidebar(), solara.Card("Export scenario"):
        note = "Saves the settings in force now."
        if model.live_changes:
            note += " Changes made during the run are listed in the file's header, not replayed by it."
        solara.Text(note, classes=["kpi-small"])
        solara.InputText("File", value=path, on_value=set_path)
        solara.Button("Export scenario", color="primary", on_click=export, disabled=model.error is not None)
        if message[0]:
            {"error": solara.Error, "success": solara.Success}.get(message[1], solara.Info)(message[0])


@solara.component
def Chart(model: DashboardModel, draw):
    """One KPI chart."""
    update_counter.get()
    fig = draw(model.frame(), model.markers)
    solara.FigureMatplotlib(fig, format="png", dependencies=[id(model), model.days_done, draw], **FAST_PNG)


@solara.component
def Network(model: DashboardModel):
    """The network view."""
    update_counter.get()
    fig = model.network_view.figure(model)
    solara.FigureMatplotlib(fig, format="png", dependencies=[id(model), model.days_done], **FAST_PNG)


def _chart(draw):
    def view(model):
        return Chart(model, draw)

    view.__name__ = draw.__name__
    return view


#: SolaraViz components, in page order (two per row).
COMPONENTS = [Overview, Network, *(_chart(draw) for draw in figures.CHARTS)]

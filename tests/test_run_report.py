"""report.html of a run: written by every run, self-contained, headline right, scenario text escaped."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.config.schema import Scenario
from sim.plots.fonts import bundled_font
from sim.run.counterfactual import effect_rows, verdict
from sim.run.report import headline
from tests.conftest import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
SMOKE = str(ROOT / "scenarios" / "smoke.yaml")
HOSTILE = """extends: {smoke}
name: hostile
description: '质量危机 <script>alert("x")</script> & 应对'
events:
  - {{kind: crisis, name: '丑闻 <img src=x onerror=alert(1)>', date: 2026-01-06, severity: 0.5, duration: 5}}
"""


def run(tmp_path: Path, *args: str, scenario: str = SMOKE) -> Path:
    out = tmp_path / "run"
    flags = ["--days", "20", "--out", str(out), "--quiet", "--set", "market.size=2000"]
    assert main(["run", scenario, *flags, *args]) == 0
    return out


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.links += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "action")]


def external_links(page: str) -> list[str]:
    """Every src/href of the page's tags that is not inline data or an anchor on the page."""
    parser = _Links()
    parser.feed(page)
    return [link for link in parser.links if not link.startswith(("data:", "#"))]


def test_every_run_writes_a_self_contained_report(tmp_path):
    out = run(tmp_path)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "report.html" in json.loads((out / "manifest.json").read_text())["files"]
    assert external_links('<img src="a.png"><a href="#kpis">') == ["a.png"]  # the check itself sees links
    assert external_links(page) == [] and "<script" not in page and "<link" not in page
    assert page.count('src="data:image/png;base64,') == 7
    for name in ("members_by_source", "dau", "gmv_profit", "funnel", "cohort_retention", "operations"):
        assert f'alt="{name}"' in page
    summary = json.loads((out / "summary.json").read_text())
    members, profit = summary["final"]["members"], summary["final"]["profit"]
    sentence = f"Over 20 days the community grew from 200 to {members:,.0f} members and"
    assert sentence in page and f"lost {-profit:,.0f} CNY" in page  # smoke loses money in its first 20 days
    for section in ("headline", "kpis", "figures", "alerts", "events", "scenario"):
        assert f'id="{section}"' in page
    assert "Noto Sans CJK SC" in page and "Microsoft YaHei" in page
    assert "market:\n  size: 2000" in page  # the scenario as run, YAML
    alerts = re.search(r'id="alerts".*?</section>', page, re.S).group(0)
    assert alerts.count("<tr>") == 7  # a header and the six alerts


def test_a_money_losing_run_says_lost(tmp_path):
    out = run(tmp_path, "--set", "acquisition.paid.daily_budget=50000", "--set", "output.plots=false")
    page = (out / "report.html").read_text(encoding="utf-8")
    profit = json.loads((out / "summary.json").read_text())["final"]["profit"]
    assert profit < 0
    assert f"and lost {-profit:,.0f} CNY." in page and "earned" not in page and "a loss" in page
    assert "data:image" not in page and "output.plots: false" in page  # no figures drawn, and the page says so


def test_scenario_text_is_escaped(tmp_path):
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE.format(smoke=SMOKE), encoding="utf-8")
    out = run(tmp_path, "--set", "output.plots=false", scenario=str(path))
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<img src=x" not in page
    assert "质量危机 &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 应对" in page
    assert "丑闻 &lt;img src=x onerror=alert(1)&gt;" in page  # the event's name, in the events table and the YAML
    assert external_links(page) == []
    if bundled_font() is not None:  # the Chinese glyphs travel with the page (tests/test_html_fonts.py)
        assert page.count("@font-face") == 1


def sample(members: float, profit: float, days: int = 365) -> dict:
    return {"days": days, "final": {"members": members, "profit": profit}}


def test_headline_states_direction_and_sign_in_words():
    sc = Scenario.model_validate({"acquisition": {"initial_members": 1000}})
    grew = headline(sc, sample(6900, 69000.4))
    assert grew == "Over 365 days the community grew from 1,000 to 6,900 members and earned 69,000 CNY profit."
    assert headline(sc, sample(800, -1234.6)).endswith("shrank from 1,000 to 800 members and lost 1,235 CNY.")
    assert "stayed at 1,000 members and broke even" in headline(sc, sample(1000, 0.2))


def test_headline_tells_a_fall_from_the_peak():
    """crisis_unanswered at 10,000 people read "grew from 1,000 to 1,461" after peaking at 3,691 and losing 60%."""
    sc = Scenario.model_validate({"acquisition": {"initial_members": 1000}})
    rise_and_fall = pd.Series([1000.0, 2500.0, 3691.0, 2000.0, 1461.0], index=[0, 75, 151, 250, 364])
    assert headline(sc, sample(1461, -198369.2), rise_and_fall) == (
        "Over 365 days the community grew from 1,000 to a peak of 3,691 members on day 151, then fell to 1,461 and "
        "lost 198,369 CNY."
    )
    steady = pd.Series([1000.0, 3000.0, 6950.0, 6900.0], index=[0, 100, 300, 364])  # 1% under the peak: growth
    assert headline(sc, sample(6900, 69000.4), steady).startswith(
        "Over 365 days the community grew from 1,000 to 6,900"
    )
    below_start = pd.Series([1000.0, 1500.0, 700.0], index=[0, 40, 364])
    assert "grew from 1,000 to a peak of 1,500 members on day 40, then fell to 700" in headline(
        sc, sample(700, -10.0), below_start
    )


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
def test_report_renders_in_headless_chromium(tmp_path):
    out = run(tmp_path)
    page = (out / "report.html").as_uri()
    flags = [*CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page], capture_output=True, text=True, timeout=120).stdout
    assert 'id="headline"' in dom and dom.count("<img") == 7
    shot = tmp_path / "report.png"
    subprocess.run(
        ["chromium", *flags, "--window-size=1280,3000", f"--screenshot={shot}", page], capture_output=True, timeout=120
    )
    assert shot.exists() and shot.stat().st_size > 50_000


#: Deep coupons for everyone: in the 20-day smoke run they cost more than the sales they add.
LOSING_COUPONS = ("incentives.coupons.enabled=true", "incentives.coupons.value=30", "incentives.coupons.min_spend=0")


def run_with(tmp_path: Path, *overrides: str) -> Path:
    """A 20-day smoke run on 2,000 people with the console table printed (not --quiet)."""
    out = tmp_path / "run"
    sets = [arg for o in ("output.plots=false", *overrides) for arg in ("--set", o)]
    assert main(["run", SMOKE, "--days", "20", "--out", str(out), "--set", "market.size=2000", *sets]) == 0
    return out


def test_losing_incentives_are_said_next_to_the_headline_and_in_the_console(tmp_path, capsys):
    out = run_with(tmp_path, *LOSING_COUPONS)
    console = capsys.readouterr().out
    page = (out / "report.html").read_text(encoding="utf-8")
    summary = json.loads((out / "summary.json").read_text())
    block, profit = summary["incentives"], summary["final"]["profit"]
    loss, roi = -block["incremental_profit"], block["roi"]
    assert loss > 0 and roi < 0 and profit < 0  # the programs lose money, and so does the run
    without = profit + loss
    said = f"they lose {loss:,.0f} CNY against the same run without them (ROI {roi:.2f}:"
    for text in (console, html.unescape(page)):
        assert "do not pay for themselves" in text and said in text
        assert f"Without them the run would have lost only {-without:,.0f} CNY: they add to the loss above." in text
        assert f"{-loss:+,.0f} CNY" in text  # the incremental profit, signed
        assert f"{block['cost_total']:,.0f} CNY" in text  # what the programs cost
        assert "programs pay for themselves" not in text
    # on the page, right under the one-sentence headline and before the KPIs
    assert page.index('id="headline"') < page.index('id="incentives"') < page.index('id="kpis"')
    section = re.search(r'id="incentives".*?</section>', page, re.S).group(0)
    assert 'class="verdict loss"' in page and "common random numbers" in section
    assert f"{block['incremental_gmv']:+,.0f} CNY" in section and f"{block['incremental_buyers']:+,d}" in section


def test_no_counterfactual_no_incentive_verdict(tmp_path, capsys):
    out = run_with(tmp_path, *LOSING_COUPONS, "output.incentive_counterfactual=false")
    console = capsys.readouterr().out
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "incentives" not in json.loads((out / "summary.json").read_text())
    for text in (console, page):
        assert "without them" not in text and "pay for themselves" not in text and "incremental" not in text
    assert 'id="incentives"' not in page and 'class="verdict' not in page
    assert "profit (CNY)" in console and 'id="headline"' in page  # the rest is as before


def block(incremental_profit: float, cost: float, liability: float = 0.0) -> dict:
    roi = incremental_profit / cost if cost else None
    return {
        "cost_total": cost,
        "cost_by_line": {"coupon_discounts": cost * 0.25, "birthday_gifts": cost * 0.75, "lottery_prizes": 0.0},
        "incremental_buyers": 532,
        "incremental_joined": 69,
        "incremental_gmv": 120820.5,
        "incremental_profit": incremental_profit,
        "cost_per_incremental_buyer": cost / 532,
        "roi": roi,
        "roi_with_liability": (incremental_profit - liability) / (cost + liability) if cost + liability else None,
        "points_liability_end": liability,
    }


def test_incentive_verdict_in_words():
    # profit made despite programs that lose money (coupon_targeted at 20,000 people, seed 42)
    text = verdict(block(-13746.27, 66871.43), 50233.63)
    assert text == (
        "The incentive programs do not pay for themselves: they lose 13,746 CNY against the same run without "
        "them (ROI -0.21: each CNY spent on them brings back 0.79 CNY). Without them the run would have earned "
        "63,980 CNY: the profit above is despite them, not because of them."
    )
    # programs that pay for themselves
    assert verdict(block(20000, 50000), 80000) == (
        "The incentive programs pay for themselves: they add 20,000 CNY of profit against the same run without "
        "them (ROI 0.40: each CNY spent on them brings back 1.40 CNY). Without them the run would have earned "
        "60,000 CNY instead."
    )
    assert verdict(block(20000, 50000), 5000).endswith(
        "Without them the run would have lost 15,000 CNY: the profit above is because of them."
    )
    assert verdict(block(20000, 50000), -5000).endswith(
        "Without them the run would have lost 25,000 CNY: they make the loss above smaller."
    )
    # programs that lose money in a run that loses money
    assert verdict(block(-3000, 2000), -1000).endswith(
        "(ROI -1.50: each CNY spent on them is lost, and 0.50 CNY more). Without them the run would have earned "
        "2,000 CNY: the loss above is because of them."
    )
    assert verdict(block(-3000, 2000), -5000).endswith(
        "Without them the run would have lost only 2,000 CNY: they add to the loss above."
    )
    # programs that cost nothing yet (points earned, none redeemed) and change nothing: the points still owed
    assert verdict(block(0.2, 0.0, liability=800), 1000) == (
        "The incentive programs do not pay for themselves once their points are counted: they add 0 CNY of "
        "profit so far, but 800 CNY of points are still outstanding, and counted as spent they lose 800 CNY "
        "against the same run without them (ROI -1.00: each CNY spent on them brings back 0.00 CNY). Without them "
        "the run would have earned 1,000 CNY."
    )


def test_the_verdict_counts_the_points_still_outstanding():
    """A gain smaller than the points still owed is no gain (points_program, 10,000 people, 180 days: +48 CNY
    booked, 5,208 CNY of points outstanding); a larger one is stated net of them too."""
    small_gain = verdict(block(48, 1200, liability=5208), 50000)
    assert small_gain.startswith(
        "The incentive programs do not pay for themselves once their points are counted: they add 48 CNY of "
        "profit so far, but 5,208 CNY of points are still outstanding, and counted as spent they lose 5,160 CNY "
        "against the same run without them (ROI -0.81: "
    )
    assert "pay for themselves:" not in small_gain
    assert effect_rows(block(48, 1200, liability=5208), 50000)[0][3] == "bad"  # the table's tone agrees
    large_gain = verdict(block(26797, 10000, liability=17213), 264030)
    assert large_gain.startswith(
        "The incentive programs pay for themselves: they add 26,797 CNY of profit against the same run without "
        "them, 9,584 CNY with the 17,213 CNY of points still outstanding counted as spent (ROI 0.35: each CNY "
        "spent on them brings back 1.35 CNY)."
    )
    assert large_gain.endswith("Without them the run would have earned 237,233 CNY instead.")
    assert verdict(block(-3000, 2000, liability=500), 10000).startswith(
        "The incentive programs do not pay for themselves: they lose 3,000 CNY so far, and 500 CNY of points are "
        "still outstanding; counted as spent, they lose 3,500 CNY against the same run without them (ROI -1.40: "
    )

"""report.html of a run: written by every run, self-contained, headline right, scenario text escaped."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sim.cli import main
from sim.config.schema import Scenario
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


def sample(members: float, profit: float, days: int = 365) -> dict:
    return {"days": days, "final": {"members": members, "profit": profit}}


def test_headline_states_direction_and_sign_in_words():
    sc = Scenario.model_validate({"acquisition": {"initial_members": 1000}})
    grew = headline(sc, sample(6900, 69000.4))
    assert grew == "Over 365 days the community grew from 1,000 to 6,900 members and earned 69,000 CNY profit."
    assert headline(sc, sample(800, -1234.6)).endswith("shrank from 1,000 to 800 members and lost 1,235 CNY.")
    assert "stayed at 1,000 members and broke even" in headline(sc, sample(1000, 0.2))


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

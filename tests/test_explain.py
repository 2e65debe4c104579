"""explain: Shapley attribution of B - A over groups of changed keys, with common random numbers."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.config.levers import BEHAVIOURAL_KPIS, by_key
from sim.explain import shapley
from sim.explain.attribution import attribute, plan
from sim.explain.changes import changed_keys, coalition_scenario, group_keys, mechanism_of
from sim.explain.cli import parse_kpis
from sim.explain.coalitions import components, evaluate
from tests.conftest import CHROMIUM_ARGS, deep_update, small
from tests.test_compare import TINY as TINY_COMPARE

TINY = {**TINY_COMPARE, "days": 20, "market": {"size": 600}}  # a small market: every test here runs in seconds


def tiny(**changes) -> dict:
    return small(**deep_update(TINY, changes)).model_dump(mode="json")


def random_game(k: int, shape=(3, 4), seed=1) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {mask: rng.normal(size=shape) * 100 for mask in range(1 << k)}


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_exact_shapley_values_add_up_to_the_total_difference(k):
    v = random_game(k)
    phi = shapley.exact(v, k)
    assert phi.shape == (k, 3, 4)
    np.testing.assert_allclose(phi.sum(axis=0), v[shapley.full(k)] - v[0], rtol=0, atol=1e-9)


def test_sampled_shapley_values_add_up_to_the_total_and_approach_the_exact_ones():
    k = 9
    v = random_game(k, shape=(2,))
    orders = shapley.sample_orders(k, 400, np.random.default_rng(3))
    est = shapley.sampled(v, orders)
    np.testing.assert_allclose(est.value.sum(axis=0), v[shapley.full(k)] - v[0], rtol=0, atol=1e-9)
    exact = shapley.exact(v, k)
    assert np.all(np.abs(est.value - exact) < 4 * est.se + 1e-9)  # within 4 standard errors
    assert np.all(est.se > 0)


def test_a_planted_two_group_interaction_is_split_as_shapley_prescribes():
    """v(S) = 10 [0 in S] + 4 [1 in S] + 6 [0 and 1 in S] - 3 [2 in S]: the joint 6 is shared half and half."""

    def v(mask: int) -> float:
        a, b, c = (bool(mask & (1 << i)) for i in range(3))
        return 10.0 * a + 4.0 * b + 6.0 * (a and b) - 3.0 * c

    values = {m: np.array(v(m)) for m in range(8)}
    np.testing.assert_allclose(shapley.exact(values, 3), [13.0, 7.0, -3.0])
    pairs = shapley.pair_interactions(values, 3)
    np.testing.assert_allclose([pairs[(0, 1)], pairs[(0, 2)], pairs[(1, 2)]], [6.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(shapley.solo_residual(values, 3), 6.0)
    every_order = np.array(list(itertools.permutations(range(3))))
    np.testing.assert_allclose(shapley.sampled(values, every_order).value, [13.0, 7.0, -3.0])


def test_changed_keys_skip_labels_and_group_by_mechanism():
    a = tiny()
    b = tiny(name="other", description="x", seed=99, referral={"reward_inviter": 20.0},
             incentives={"lottery": {"enabled": True}, "badges": {"enabled": True}})  # fmt: skip
    keys = changed_keys(a, b)
    assert sorted(keys) == ["incentives.badges.enabled", "incentives.lottery.enabled", "referral.reward_inviter"]
    groups = group_keys(keys)
    assert {g.name: g.keys for g in groups} == {
        "incentives.badges": ("incentives.badges.enabled",),
        "incentives.lottery": ("incentives.lottery.enabled",),
        "referral": ("referral.reward_inviter",),
    }
    assert mechanism_of("acquisition.offline.enabled") == "offline"
    assert mechanism_of("market.size") == "market"
    by_hand = group_keys(keys, {"rewards": ["incentives"]})
    assert [g.name for g in by_hand] == ["rewards", "referral"]
    with pytest.raises(ValueError, match="koc"):
        group_keys(keys, {"x": ["koc"]})


def test_the_full_coalition_is_b_and_the_empty_one_is_a():
    a = tiny()
    b = tiny(referral={"reward_inviter": 20.0}, content={"mix": {"promotional": 0.5, "educational": 0.5}})
    groups = group_keys(changed_keys(a, b))
    assert coalition_scenario(a, b, groups, 0) == a
    assert coalition_scenario(a, b, groups, shapley.full(len(groups))) == b
    one = coalition_scenario(a, b, groups, 1)
    assert changed_keys(a, one) == list(groups[0].keys)


@pytest.fixture(scope="module")
def cost_and_reward():
    """B changes a cost-only key (content.cost_per_post) and a referral reward; 2 replications, same seeds."""
    assert by_key()["content.cost_per_post"].cost_only  # the schema's own word that this key is a cost only
    a = tiny(referral={"base_invite_prob": 0.05})
    b = tiny(referral={"base_invite_prob": 0.05, "reward_inviter": 25.0}, content={"cost_per_post": 150.0})
    groups = group_keys(changed_keys(a, b))
    kpis = parse_kpis(",".join(("profit", *BEHAVIOURAL_KPIS)), 20)
    assert "run.koc_posts" in kpis and "final.members" in kpis
    masks, orders = plan(len(groups), 8, 1)
    ev = evaluate(a, b, groups, masks, kpis, 2, 7, executor="serial")
    return groups, kpis, ev, attribute(ev, groups, kpis, orders)


def test_contributions_add_up_to_the_paired_difference_in_every_replication(cost_and_reward):
    groups, kpis, ev, att = cost_and_reward
    total = ev.values[shapley.full(len(groups))] - ev.values[0]
    np.testing.assert_allclose(att.per_replication.sum(axis=0), total, rtol=1e-12, atol=1e-9)
    t = att.table
    for kpi in kpis:
        rows = t[t.kpi == kpi]
        group_sum = rows[rows.kind == "group"].contribution.sum()
        assert group_sum == pytest.approx(rows[rows.kind == "total"].contribution.iloc[0], abs=1e-9)
    profit = t[(t.kpi == "final.profit") & (t.kind == "total")].contribution.iloc[0]
    assert profit != 0


def test_a_cost_only_key_contributes_nothing_to_any_behavioural_kpi(cost_and_reward):
    groups, kpis, ev, att = cost_and_reward
    names = [g.name for g in groups]
    assert names == ["content", "referral"]
    t = att.table[att.table.kind == "group"]
    content = t[t.name == "content"].set_index("kpi")
    assert len(content) == len(BEHAVIOURAL_KPIS) + 1
    for kpi in kpis[1:]:
        assert content.loc[kpi, "contribution"] == 0.0, kpi
    assert content.loc["final.profit", "contribution"] < 0  # posts cost more
    parts = att.breakdown[att.breakdown.group == "content"]
    assert list(parts.component) == ["line:content_production"]
    referral = t[t.name == "referral"].set_index("kpi")
    assert referral.loc["final.invitations", "contribution"] > 0  # the reward moves behaviour


def test_breakdown_adds_up_to_each_groups_profit_and_members(cost_and_reward):
    groups, kpis, ev, att = cost_and_reward
    t = att.table[att.table.kind == "group"].set_index(["name", "kpi"])
    for g in groups:
        for kpi in ("final.profit", "final.members"):
            parts = att.breakdown[(att.breakdown.group == g.name) & (att.breakdown.kpi == kpi)].contribution.sum()
            assert parts == pytest.approx(t.loc[(g.name, kpi), "contribution"], abs=1e-6)
    assert len(components()) == len(ev.metrics) - len(kpis)


def _write(path, data):
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_explain_command_writes_csv_figures_and_report(tmp_path, capsys):
    a = _write(tmp_path / "a.yaml", tiny(name="plain"))
    b = _write(tmp_path / "b.yaml", tiny(name="rewarded", referral={"reward_inviter": 20.0},
                                        incentives={"badges": {"enabled": True, "cost_per_badge": 9.0}}))  # fmt: skip
    out = tmp_path / "ex"
    args = ["explain", str(a), str(b), "--replications", "2", "--out", str(out), "--workers", "1"]
    assert main(args) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "rewarded changes profit by" in said and "By group (Shapley values, exact)" in said
    files = {p.name for p in out.iterdir()}
    assert {"attribution.csv", "breakdown.csv", "report.html", "summary.txt"} <= files
    assert {"waterfall_final_profit.png", "waterfall_final_members.png", "waterfall_final_churned.png"} <= files
    table = pd.read_csv(out / "attribution.csv")
    assert set(table.kind) == {"total", "group", "residual", "interaction"}
    assert set(table[table.kind == "group"].name) == {"referral", "incentives.badges"}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="explain"' in page and page.count("data:image/png;base64,") == 3
    if shutil.which("chromium"):  # the page renders: its section and tables reach the browser's DOM
        flags = [*CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'profile'}"]
        dom = subprocess.run(["chromium", *flags, "--dump-dom", (out / "report.html").as_uri()],
                             capture_output=True, text=True, timeout=120).stdout  # fmt: skip
        assert 'id="explain"' in dom and dom.count("<table>") >= 5


def test_coalitions_give_the_same_numbers_on_every_executor():
    a = tiny()
    b = tiny(referral={"reward_inviter": 20.0}, incentives={"badges": {"enabled": True}})
    groups = group_keys(changed_keys(a, b))
    masks = shapley.exact_coalitions(len(groups))
    serial = evaluate(a, b, groups, masks, ["final.profit"], 1, 3, executor="serial")
    local = evaluate(a, b, groups, masks, ["final.profit"], 1, 3, executor="local", workers=2)
    assert serial.seeds == local.seeds
    for mask in masks:
        np.testing.assert_array_equal(serial.values[mask], local.values[mask])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kpi", "profitt"], "unknown KPI 'profitt'"),
        (["--group", "x=koc.initial_count"], "'koc.initial_count' is none of the changed keys"),
        (["--group", "nonsense"], "write NAME=key"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, extra, message):
    a = _write(tmp_path / "a.yaml", tiny(name="plain"))
    b = _write(tmp_path / "b.yaml", tiny(name="rewarded", referral={"reward_inviter": 20.0}))
    out = tmp_path / "ex"
    assert main(["explain", str(a), str(b), "--out", str(out), "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split()) and "Traceback" not in err
    assert not out.exists()


def test_identical_scenarios_and_a_broken_file_exit_2(tmp_path, capsys):
    a = _write(tmp_path / "a.yaml", tiny(name="plain"))
    b = _write(tmp_path / "b.yaml", tiny(name="renamed", description="same community"))
    assert main(["explain", str(a), str(b), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "simulate the same community" in " ".join(capsys.readouterr().err.split())
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nreferral:\n  reward_inviter: lots\n", encoding="utf-8")
    assert main(["explain", str(a), str(bad), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "bad.yaml" in err and "reward_inviter" in err and "bad.yaml:3" in err
    assert not (tmp_path / "o").exists()


def test_above_eight_groups_orders_are_sampled_and_still_add_up():
    """Nine groups: a synthetic game on the coalitions the sampled orders need, through the same attribution."""
    from sim.explain.changes import Group
    from sim.explain.coalitions import Evaluated

    k, kpis = 9, ["final.profit"]
    masks, orders = plan(k, 16, 5)
    assert orders is not None and orders.shape == (16, k)
    assert len(masks) < 2**k and set(shapley.solo_coalitions(k)) <= set(masks)
    rng = np.random.default_rng(2)
    width = len(kpis) + len(components())
    values = {m: rng.normal(size=(3, width)) for m in masks}
    groups = [Group(f"g{i}", (f"key{i}",)) for i in range(k)]
    att = attribute(Evaluated(values, [1, 2, 3], kpis + components()), groups, kpis, orders)
    assert att.method == "sampled (16 orders)"
    rows = att.table[att.table.kind == "group"]
    total = att.table[att.table.kind == "total"].contribution.iloc[0]
    assert rows.contribution.sum() == pytest.approx(total, abs=1e-9)
    assert rows.se_sampling.notna().all() and (rows.se_sampling > 0).all()
    assert "interaction" not in set(att.table.kind) and "residual" in set(att.table.kind)


def test_waterfall_of_a_small_level_keeps_its_decimals_and_distinct_ticks(tmp_path, monkeypatch):
    from sim.explain import plots

    shown = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: shown.append(fig) or path)
    rows = pd.DataFrame([
        {"kind": "total", "name": "B - A", "contribution": 0.0, "a_mean": 13.33, "b_mean": 13.33},
        {"kind": "group", "name": "referral", "contribution": 0.0, "ci_low": 0.0, "ci_high": 0.0},
    ])  # fmt: skip
    plots.plot_waterfall(rows, "a", "b", "churned", "people", tmp_path / "w.png")
    ax = shown[0].axes[0]
    shown[0].canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert len(ticks) == len(set(ticks)) >= 3, ticks  # "13, 13, 14, 14" would not tell a reader anything
    steps = np.diff([float(t.replace(",", "")) for t in ticks])
    assert np.allclose(steps, steps[0]), ticks  # every label is its tick's value, not a rounding of it
    assert "13.3 people" in [t.get_text() for t in ax.texts], [t.get_text() for t in ax.texts]


def _attribution(groups: list[tuple[str, float, float, float]], total=(-19.3, -40.8, 2.08), kpi="final.churned"):
    """An attribution written by hand: (name, contribution, ci_low, ci_high) per group."""
    from sim.explain.attribution import Attribution

    t = total[0]
    rows = [{"kpi": kpi, "kind": "total", "name": "B - A", "keys": "", "contribution": t, "ci_low": total[1],
             "ci_high": total[2], "share_of_total": 1.0, "a_mean": 361.0, "b_mean": 361.0 + t}]  # fmt: skip
    for name, c, lo, hi in groups:
        rows.append({"kpi": kpi, "kind": "group", "name": name, "keys": name, "contribution": c, "ci_low": lo,
                     "ci_high": hi, "share_of_total": c / t})  # fmt: skip
    breakdown = pd.DataFrame(columns=["group", "kpi", "component", "contribution"])
    return Attribution(pd.DataFrame(rows), breakdown, "exact", np.zeros((len(groups), 3, 1)))


CHURNED = [("content", -3.31, -12.9, 6.26), ("points", -5.03, -6.07, -3.99), ("incentives.badges", -4.69, -10.2, 0.819),
           ("koc", -6.03, -20.6, 8.59), ("operators", -0.278, -1.47, 0.917)]  # fmt: skip


def test_groups_whose_interval_excludes_zero_lead_and_the_others_are_called_noise():
    from sim.explain.words import sentences

    (text,) = sentences(_attribution(CHURNED), "baseline", "decentralized", 120, 3)
    text = " ".join(text.split())
    clear, _, noise = text.partition("Within noise")
    assert "points -5.03 people" in clear  # the only group told apart from 0 ...
    assert "95% CI excludes 0" in clear
    for name in ("koc", "incentives.badges", "content", "operators"):  # ... comes before the larger koc
        assert f" {name} " not in clear and f"{name} " in noise
    assert "koc -6.03 people (-20.6 to +8.59 people)" in noise  # a noise group is given with its interval
    assert noise.index("koc") < noise.index("incentives.badges") < noise.index("content") < noise.index("operators")


def test_when_no_group_is_told_apart_from_zero_the_sentence_says_so():
    from sim.explain.words import sentences

    groups = [(n, c, lo, hi) for n, c, lo, hi in CHURNED if n != "points"]
    (text,) = sentences(_attribution(groups), "baseline", "decentralized", 120, 3)
    text = " ".join(text.split())
    assert "no group's 95% CI excludes 0" in text and "koc -6.03 people (-20.6 to +8.59 people)" in text


def test_a_clear_total_gives_shares_only_to_groups_told_apart_from_zero():
    from sim.explain.words import sentences

    groups = [("operators", -150.0, -160.0, -140.0), ("koc", -10.0, -17.0, -3.0), ("points", 0.3, -1.0, 1.6)]
    (text,) = sentences(_attribution(groups, (-159.7, -170.0, -150.0), "final.profit"), "a", "b", 120, 3)
    text = " ".join(text.split())
    assert "operators -150 CNY, 94% of the change" in text and "koc -10 CNY, 6% of the change" in text
    assert "points +0.3 CNY (-1 to +1.6 CNY)" in text and "of the change" not in text.partition("Within noise")[2]


def test_one_replication_has_no_intervals_and_says_so():
    from sim.explain.words import sentences

    nan = float("nan")
    groups = [("koc", -6.0, nan, nan), ("points", -5.0, nan, nan)]
    (text,) = sentences(_attribution(groups, (-11.0, nan, nan)), "a", "b", 120, 1)
    text = " ".join(text.split())
    assert "one replication" in text and text.index("koc") < text.index("points") and "Within noise" not in text


def test_a_pair_that_does_not_interact_is_not_given_as_0_people():
    """A pair interaction of exactly 0 in every replication (neither group moved members) is no interaction:
    the report's table says none and the sentence names no such pair, instead of "0 people"."""
    from sim.explain.report import _kpi_table
    from sim.explain.words import sentences

    groups = [("koc", -6.0, -9.0, -3.0), ("points", -5.0, -6.0, -4.0), ("badges", -2.0, -3.0, -1.0)]
    att = _attribution(groups, (-11.0, -15.0, -7.0), "final.members")
    pairs = [
        {
            "kpi": "final.members",
            "kind": "interaction",
            "name": f"{a} x {b}",
            "keys": "",
            "contribution": 0.0,
            "ci_low": 0.0,
            "ci_high": 0.0,
            "share_of_total": 0.0,
        }
        for a, b in (("koc", "points"), ("koc", "badges"))
    ]
    residual = {"kpi": "final.members", "kind": "residual", "name": "total - sum of solo effects", "keys": "",
                "contribution": 2.0, "ci_low": 1.0, "ci_high": 3.0, "share_of_total": -0.18}  # fmt: skip
    table = pd.concat([att.table, pd.DataFrame([residual, *pairs])], ignore_index=True)
    row = next(r for r in _kpi_table(table, "people").split("<tr>") if "koc x points" in r)
    assert "0 people" not in row and "none" in row
    (text,) = sentences(att.__class__(table, att.breakdown, "exact", att.per_replication), "a", "b", 120, 3)
    assert "comes only from changes working together" in text and "pair interaction" not in text
    assert not re.search(r"(?<![\d,.])0 people", text)

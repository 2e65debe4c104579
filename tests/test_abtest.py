"""``abtest``: per-person treatment inside the model, the test's statistics, and the command.

The treated arm's levers reach the treated members only (and everyone when all are treated, exactly
as the treated scenario); A/A tests reject at about alpha; without a spillover mechanism the test
estimates the effect of rolling out to everyone without bias; with referrals competing for the
same friends, member randomization overstates it; bad input exits 2 with nothing written; the same seed
gives the same table on any executor.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.abtest import analysis, assign
from sim.abtest.design import make_design, parse_treatment, treated_scenario
from sim.abtest.runs import run_replications
from sim.cli import main
from sim.config.loader import load_scenario
from sim.core.population import MEMBER
from sim.core.treatment import Treatment
from sim.model import CommunityModel

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SMALL = [
    "market.size=1200",
    "acquisition.initial_members=600",
    "acquisition.paid.daily_budget=0",
    "koc.initial_count=2",
]
#: no spillover between members: few invitations, no churn or sentiment contagion
QUIET = [*SMALL, "referral.base_invite_prob=0.0001", "churn.social_weight=0", "sentiment.spread=0"]
#: referrals that compete for the few prospects left
CROWDED = [
    "market.size=3000",
    "acquisition.initial_members=2400",
    "acquisition.paid.daily_budget=0",
    "koc.initial_count=2",
    "referral.base_invite_prob=0.5",
    "referral.base_acceptance=0.5",
    "referral.reward_sensitivity=0.08",
]
COUPON = ["incentives.coupons.enabled=true", "incentives.coupons.every_days=7", "incentives.coupons.reach=1"]
REFERRAL = ["referral.reward_inviter=30", "referral.reward_invitee=30"]
POINTS_ON = ["incentives.points.enabled=true", "incentives.points.redeem_min=100"]
POINTS = [
    "incentives.points.per_yuan=3",
    "incentives.points.per_post=60",
    "incentives.points.per_referral=600",
    "incentives.points.value_per_point=0.02",
]
OUTREACH = ["operators.outreach.enabled=true", "operators.outreach.target=all", "operators.outreach.per_operator=40"]
PERSONALIZATION = ["content.personalization=1"]
#: every brand post published at the peak, which reaches far further: a fuller feed for the treated arm
EXPOSURE = ["content.peak_share=1", "content.peak_reach_multiplier=10"]
#: per lever: the base's settings and the treatment
LEVERS = {
    "coupons and referral rewards": ([], COUPON + REFERRAL),
    "points": (POINTS_ON, POINTS),
    "outreach": ([], OUTREACH),
    "personalization": ([], PERSONALIZATION),
    "content exposure": ([], EXPOSURE),
}


def _simulate(sets: list[str], treatment: list[str], replications: int, days: int = 14):
    base = load_scenario(BASELINE, sets)
    chosen = parse_treatment(treatment)
    design = make_design(
        base, chosen, unit="member", share=0.5, days=days, warmup=0, alpha=0.05, metric=None, max_bias=0.1
    )
    design = replace(design, shares=(0.5,))  # the grid's other shares are not needed here
    reps = run_replications(base, treated_scenario(base, chosen), design, replications, 7, executor="serial")
    return analysis.table(reps, design), design


def _model(sets: list[str], treatment: Treatment | None = None, scenario=None, days: int = 21) -> CommunityModel:
    model = CommunityModel(scenario or load_scenario(BASELINE, sets), seed=3, record_events=False)
    model.treatment = treatment
    model.run(days)
    return model


@pytest.mark.parametrize("lever", LEVERS)
def test_everyone_treated_runs_exactly_as_the_treated_scenario_and_no_one_as_the_base(lever):
    sets, treatment = LEVERS[lever]
    sets = SMALL + sets
    base = load_scenario(BASELINE, sets)
    treated = treated_scenario(base, parse_treatment(treatment))
    n = base.market.size
    everyone = _model(sets, Treatment(np.ones(n, bool), treated)).timeseries()
    pd.testing.assert_frame_equal(everyone, _model(sets, scenario=treated).timeseries(), check_exact=True)
    no_one = _model(sets, Treatment(np.zeros(n, bool), treated)).timeseries()
    pd.testing.assert_frame_equal(no_one, _model(sets).timeseries(), check_exact=True)
    assert not everyone.equals(no_one)  # the treatment does change the run


def _half_treated(sets: list[str], treatment: list[str], days: int = 21) -> tuple[CommunityModel, np.ndarray]:
    """A run with a random half of the population treated, and who that is."""
    base = load_scenario(BASELINE, sets)
    arm = np.random.default_rng(0).random(base.market.size) < 0.5
    return _model(sets, Treatment(arm, treated_scenario(base, parse_treatment(treatment))), days=days), arm


def test_a_coupon_treatment_reaches_the_treated_arm_only():
    base = load_scenario(BASELINE, SMALL)
    treated = treated_scenario(base, parse_treatment(COUPON))
    arm = np.random.default_rng(0).random(base.market.size) < 0.5
    model = _model(SMALL, Treatment(arm, treated), days=8)
    holders = model.pop.coupon_expiry >= 0
    members = model.pop.status == MEMBER
    assert holders[arm & members].mean() > 0.5  # reach 1: every treated member got the issues
    assert not holders[~arm].any()


def test_points_earning_rates_and_redemption_value_reach_the_treated_arm_only():
    model, arm = _half_treated(SMALL + POINTS_ON, ["incentives.points.per_yuan=5", "incentives.points.per_post=100"])
    members = model.pop.status == MEMBER
    earned = model.pop.points + (model.pop.last_redeem >= 0) * 100  # a redemption spends at least redeem_min
    assert earned[arm & members].mean() > 2 * earned[~arm & members].mean()
    # points worth nothing in the control arm: only treated members ever redeem
    sets = [*SMALL, *POINTS_ON, "incentives.points.per_yuan=10", "incentives.points.value_per_point=0"]
    model, arm = _half_treated(sets, ["incentives.points.value_per_point=0.02"])
    redeemed = model.pop.last_redeem >= 0
    assert redeemed[arm].sum() >= 5 and not redeemed[~arm].any()  # about as many would redeem in control


def test_outreach_contacts_the_treated_arm_only_and_shares_the_team_between_arms_that_run_it():
    model, arm = _half_treated(SMALL, OUTREACH, days=14)
    contacted = model.pop.last_outreach >= 0
    assert contacted[arm].sum() > 100 and not contacted[~arm].any()
    both_on = [*SMALL, *OUTREACH[:2], "operators.outreach.min_gap_days=30"]  # each member contacted once at most
    model, arm = _half_treated(both_on, ["operators.outreach.purchase_lift=3"], days=14)
    contacted = model.pop.last_outreach >= 0
    members = (model.pop.status == MEMBER) | contacted
    share = contacted[arm].sum() / contacted.sum()
    assert abs(share - arm[members].mean()) < 0.05, share  # the team's capacity in proportion to the arms' members


def _arm_means(column: str, model: CommunityModel, base: CommunityModel, arm: np.ndarray) -> tuple[float, ...]:
    """Mean ``column`` of the treated and the control arm's members, in ``model`` and in the untreated ``base``
    (same seed: the arms' differences between the two runs are the treatment's, not chance's)."""
    members = (model.pop.status == MEMBER) & (base.pop.status == MEMBER)
    a, b = getattr(model.pop, column), getattr(base.pop, column)
    return (*(float(x[arm & members].mean()) for x in (a, b)), *(float(x[~arm & members].mean()) for x in (a, b)))


def test_personalization_makes_the_treated_arm_buy_more_and_leaves_the_control_arm_near_its_base():
    base = _model(SMALL)
    model, arm = _half_treated(SMALL, PERSONALIZATION)
    treated, treated_base, control, control_base = _arm_means("purchases", model, base, arm)
    assert treated > 1.2 * treated_base, (treated, treated_base)  # matched recommendations convert
    assert abs(control - control_base) < 0.05 * control_base, (control, control_base)


def test_content_exposure_fills_the_treated_arms_feed_only():
    base = _model(SMALL)
    model, arm = _half_treated(SMALL, EXPOSURE)
    g = model.segments.interests.shape[0]
    appeal = model.day.appeal  # the last day's feed: the control arm's segments, then the treated arm's
    assert appeal.shape == (2 * g,) and (appeal[g:] > appeal[:g]).all()
    assert np.array_equal(model.day.feed_arm, np.where(arm, g, 0))
    treated, treated_base, control, control_base = _arm_means("fatigue", model, base, arm)
    assert treated > 2 * treated_base and abs(control - control_base) < 0.05 * control_base  # they see more posts
    treated, treated_base, control, control_base = _arm_means("engagement", model, base, arm)
    assert treated > 1.02 * treated_base and abs(control - control_base) < 0.01 * control_base


def test_a_test_of_the_feed_runs_identically_with_its_work_split_over_two_cores():
    from sim.engine.options import EngineOptions

    base = load_scenario(BASELINE, SMALL)
    arm = np.random.default_rng(0).random(base.market.size) < 0.5
    treatment = Treatment(arm, treated_scenario(base, parse_treatment(PERSONALIZATION + EXPOSURE)))
    runs = []
    for engine in (EngineOptions(second_core=False), EngineOptions(split_market=1, split_people=2)):
        model = CommunityModel(base, seed=3, record_events=False, engine=engine)
        model.treatment = treatment
        model.run(10)
        runs.append(model.timeseries())
    pd.testing.assert_frame_equal(*runs, check_exact=True)


def test_aa_tests_reject_at_alpha_within_the_binomial_interval():
    rng = np.random.default_rng(11)
    n, draws, alpha = 2000, 400, 0.05
    y = rng.poisson(rng.gamma(0.5, 2.0, n)).astype(float)  # skewed counts, as purchases are
    clusters = rng.integers(0, 60, n) ** 2 % 47  # clusters of unequal size
    lo, hi = stats.binom.ppf([0.0005, 0.9995], draws, alpha) / draws
    for unit in ("member", "cluster"):
        units = clusters if unit == "cluster" else np.arange(n)
        p = [
            analysis.run_test(
                unit, y, assign.treated(units, 0.5, assign.arm_rng(1, k)), clusters, "purchases", 0.5, (2, k)
            ).p
            for k in range(draws)
        ]
        rate = np.mean(np.array(p) < alpha)
        assert lo <= rate <= hi, (unit, rate, lo, hi)


def test_without_spillover_the_test_estimates_the_rollout_effect_without_bias():
    tab, design = _simulate(QUIET, COUPON, replications=4)
    rows = tab[(tab.metric == "purchases") & (tab.days == 14)]
    assert (rows.true_effect > 0).all()  # coupons do make members buy more
    for r in rows.itertuples():
        assert abs(r.bias) <= 3 * r.bias_se + 0.02 * r.true_effect, r
    aa = tab[tab.aa_tests > 0]
    assert len(aa) == 2 and (aa.aa_false_positive_rate <= 0.2).all()


def test_with_crowded_referrals_member_randomization_overstates_the_effect_on_joins():
    tab, design = _simulate(CROWDED, REFERRAL, replications=4)
    assert design.metric == "joins"
    row = tab[(tab.metric == "joins") & (tab.unit == "member") & (tab.days == 14)].iloc[0]
    assert row.true_effect > 0
    assert row.bias > 2 * row.bias_se, row  # treated members invite the friends control members would have
    assert row.relative_bias > 0.15


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--treatment", "market.size=100"], ["market.size", "referral.reward_inviter", "incentives.coupons.value"]),
        (["--treatment", "referral.reward_inviter"], ["key=value"]),
        (["--treatment", "referral.reward_inviter=-5"], ["reward_inviter"]),
        (["--treatment", "referral.reward_inviter=20", "--unit", "household"], ["--unit", "cluster"]),
        (["--treatment", "referral.reward_inviter=20", "--share", "1.5"], ["--share"]),
        (["--treatment", "nope.key=3"], ["nope.key", "unknown scenario key"]),
        (["--treatment", "referral.reward_inviter=0"], ["referral.reward_inviter", "already 0", "changes nothing"]),
        (["--treatment", "referral.reward_inviter=20", "--treatment", "referral.reward_inviter=30"], ["twice"]),
        (["--treatment", "incentives.points.per_yuan=2"], ["incentives.points.enabled", "changes nothing"]),
        (["--treatment", "referral.reward_inviter=20", "--max-bias", "-1"], ["--max-bias"]),
    ],
)
def test_bad_input_exits_2_naming_the_problem_and_writes_nothing(tmp_path, capsys, args, named):
    out = tmp_path / "out"
    code = main(["abtest", str(BASELINE), *args, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err, err
    for word in named:
        assert word in err, (word, err)
    assert not out.exists()


def test_the_command_writes_the_table_figures_and_sentences(tmp_path, capsys):
    out = tmp_path / "ab"
    args = ["abtest", str(BASELINE), *[a for s in QUIET for a in ("--set", s)]]
    args += ["--treatment", "referral.reward_inviter=30", "--days", "7", "--replications", "2"]
    args += ["--workers", "1", "--out", str(out)]
    assert main(args) == 0
    said = capsys.readouterr().out
    assert {p.name for p in out.iterdir()} >= {"abtest.csv", "power.png", "bias.png", "summary.txt"}
    tab = pd.read_csv(out / "abtest.csv")
    assert set(tab.unit) == {"member", "cluster"} and set(tab.share) == {0.2, 0.5} and set(tab.days) == {7}
    assert "member randomization" in said and "Randomizing by network community" in said
    assert "Recommended" in said or "No design" in said


def test_the_same_seed_gives_the_same_table_in_this_process_and_in_worker_processes():
    base = load_scenario(BASELINE, QUIET)
    chosen = parse_treatment(COUPON)
    design = make_design(
        base, chosen, unit="cluster", share=0.5, days=7, warmup=2, alpha=0.05, metric=None, max_bias=0.1
    )
    design = replace(design, shares=(0.5,))
    treated = treated_scenario(base, chosen)
    tables = [
        analysis.table(run_replications(base, treated, design, 2, 5, executor=kind, workers=1), design)
        for kind in ("serial", "local")
    ]
    pd.testing.assert_frame_equal(*tables)
    assert tables[0].true_effect.abs().sum() > 0


def test_the_docs_list_exactly_the_keys_a_test_can_treat():
    import re

    from sim.mechanisms.registry import TARGETABLE

    text = (ROOT / "docs" / "abtest.md").read_text(encoding="utf-8")
    section = text[text.index("**Treatments**") : text.index("Any other key is refused")]
    assert set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", section)) == set(TARGETABLE)


def test_the_recommendation_prefers_a_bias_known_to_be_small_and_says_when_it_is_not():
    """Among the shortest designs with enough power and an estimated bias within the tolerance, the one whose
    bias plus two standard errors is smallest wins (not the fewest treated whose small bias is luck of the
    replications); the sentence says whether the band too is within the tolerance."""
    from types import SimpleNamespace

    from sim.abtest.analysis import recommend
    from sim.abtest.report import recommendation_sentence

    def row(unit, share, days, bias, band, power=1.0, truth=0.03):
        return dict(unit=unit, share=share, days=days, metric="joins", true_effect=truth, relative_bias=bias,
                    bias_se=band * truth / 2, power=power)  # fmt: skip

    design = SimpleNamespace(metric="joins", max_bias=0.10)
    tab = pd.DataFrame(
        [
            row("cluster", 0.2, 7, -0.06, 0.25, power=0.8),  # within 10% by its estimate only
            row("cluster", 0.5, 7, 0.03, 0.04),  # surely within 10%
            row("member", 0.5, 7, 0.13, 0.08),  # over 10%
            row("member", 0.2, 56, 0.0, 0.01),  # longer
        ]
    )
    best = recommend(tab, design)
    assert (best.unit, best.share, best.days) == ("cluster", 0.5, 7)
    assert recommendation_sentence(best, design).endswith("(100% power; bias +3% ± 4%, within ±10% with its band).")
    best = recommend(tab.drop(index=1), design)
    assert (best.unit, best.share) == ("cluster", 0.2)
    assert recommendation_sentence(best, design).endswith(
        "(80% power; bias -6% ± 25%, its estimate within ±10%, but the bias may reach 31%: more --replications "
        "narrow it)."
    )
